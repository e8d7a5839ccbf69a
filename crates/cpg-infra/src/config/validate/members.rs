//! Every member key names a known user with an identity on the clouds that need one.

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;
use crate::config::names::CloudName;
use crate::config::source::KeyPath;
use crate::config::suggest::Suggestion;

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    for dataset in cx.datasets {
        let clouds = &dataset.deploy_locations;
        for (group, members) in &dataset.members {
            for (i, member) in members.iter().enumerate() {
                if members[..i].contains(member) {
                    findings.dataset(
                        &dataset.dataset,
                        path(&["members", group.as_str()]).index(i),
                        Problem::Duplicate {
                            what: "member".into(),
                            name: member.clone(),
                        },
                    );
                }
                let at = path(&["members", group.as_str()]).index(i);
                let needed_by = format!("dataset {:?} deploys to", dataset.dataset);
                check_member(cx, member, clouds, &needed_by, |problem| {
                    findings.dataset(&dataset.dataset, at.clone(), problem);
                });
            }
        }
        let Some(upload) = &dataset.upload_config else {
            continue;
        };
        let needed_by = format!("dataset {:?} deploys to", dataset.dataset);
        let default_uploaders = upload
            .default_bucket
            .as_ref()
            .and_then(|b| b.uploaders.as_ref());
        for (i, member) in default_uploaders.into_iter().flatten().enumerate() {
            let at = path(&["upload_config", "default_bucket", "uploaders"]).index(i);
            check_member(cx, member, clouds, &needed_by, |problem| {
                findings.dataset(&dataset.dataset, at.clone(), problem);
            });
        }
        for (b, bucket) in upload.additional_buckets.iter().flatten().enumerate() {
            for (i, member) in bucket.uploaders.iter().flatten().enumerate() {
                let at = path(&["upload_config", "additional_buckets"])
                    .index(b)
                    .key("uploaders")
                    .index(i);
                check_member(cx, member, clouds, &needed_by, |problem| {
                    findings.dataset(&dataset.dataset, at.clone(), problem);
                });
            }
        }
        for (d, dropbox) in upload.dropboxes.iter().flatten().enumerate() {
            for (i, member) in dropbox.uploaders.iter().enumerate() {
                let at = path(&["upload_config", "dropboxes"])
                    .index(d)
                    .key("uploaders")
                    .index(i);
                check_member(
                    cx,
                    member,
                    &[CloudName::Gcp],
                    "the data dropbox server runs on",
                    |problem| findings.dataset(&dataset.dataset, at.clone(), problem),
                );
            }
        }
    }

    for (g, group) in cx.infra.adhoc_groups.iter().flatten().enumerate() {
        for (i, member) in group.members.iter().enumerate() {
            let at: KeyPath = path(&["adhoc_groups"]).index(g).key("members").index(i);
            check_member(
                cx,
                member,
                &[CloudName::Gcp],
                "ad-hoc groups are created on",
                |problem| findings.infra(at.clone(), problem),
            );
        }
    }
}

fn check_member(
    cx: &Context<'_>,
    member: &str,
    clouds: &[CloudName],
    needed_by: &str,
    mut report: impl FnMut(Problem),
) {
    let Some(user) = cx.infra.users.get(member) else {
        report(Problem::UnknownUser {
            user: member.to_owned(),
            suggestion: Suggestion::closest(member, cx.infra.users.keys().map(String::as_str)),
        });
        return;
    };
    for cloud in clouds {
        if !user.clouds.contains_key(cloud) {
            report(Problem::MissingCloudIdentity {
                user: member.to_owned(),
                cloud: *cloud,
                needed_by: format!("{needed_by} {cloud}"),
            });
        }
    }
}
