//! Every member key names a known user with an identity on the clouds that need one.

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;
use crate::config::names::{CloudName, Component, GroupName};
use crate::config::source::KeyPath;
use crate::config::suggest::Suggestion;

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    for dataset in cx.datasets {
        let clouds = &dataset.deploy_locations;
        for (group, members) in &dataset.members {
            for (i, member) in members.iter().enumerate() {
                let at = path(&["members", group.as_str()]).index(i);
                if members[..i].contains(member) {
                    // The reference adds the member under the same key again.
                    findings.dataset(
                        &dataset.dataset,
                        at.clone(),
                        Problem::Repeated {
                            what: "member".into(),
                            name: member.clone(),
                        },
                    );
                }
                if *group == GroupName::TmpMainReadAccess {
                    // The reference skips (with a warning) a temporary-access member it
                    // does not know or who has no GCP identity; the group is on GCP.
                    if dataset.deploy_locations.contains(&CloudName::Gcp) {
                        check_left_out(cx, member, "temporary access is granted on gcp", |p| {
                            findings.dataset(&dataset.dataset, at.clone(), p);
                        });
                    }
                    continue;
                }
                let needed_by = format!("dataset {:?} deploys to", dataset.dataset);
                check_member(cx, member, clouds, &needed_by, |problem| {
                    findings.dataset(&dataset.dataset, at.clone(), problem);
                });
            }
        }
        let Some(upload) = &dataset.upload_config else {
            continue;
        };
        // Uploaders are granted their buckets by the storage component, on the clouds
        // it is on; the reference looks them up nowhere else.
        let clouds: Vec<CloudName> = clouds
            .iter()
            .copied()
            .filter(|cloud| dataset.has_component(*cloud, Component::Storage))
            .collect();
        let clouds = clouds.as_slice();
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
        // The dropbox server, and so its uploaders, exist only with [data_dropbox].
        let dropboxes = upload
            .dropboxes
            .iter()
            .flatten()
            .filter(|_| cx.infra.data_dropbox.is_some());
        for (d, dropbox) in dropboxes.enumerate() {
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
            if cx.infra.users.contains_key(member) {
                // The reference skips members without a GCP identity.
                check_left_out(cx, member, "ad-hoc groups are created on gcp", |problem| {
                    findings.infra(at.clone(), problem);
                });
            } else {
                check_member(cx, member, &[], "", |problem| {
                    findings.infra(at.clone(), problem);
                });
            }
        }
    }
}

/// A member the reference leaves out of a GCP group with at most a log line: an
/// unknown user, or a user without a GCP identity.
fn check_left_out(cx: &Context<'_>, member: &str, needed_by: &str, report: impl FnOnce(Problem)) {
    let reason = match cx.infra.users.get(member) {
        None => "unknown user".to_owned(),
        Some(user) if !user.clouds.contains_key(&CloudName::Gcp) => {
            format!(
                "user has no gcp identity (users.{member}.clouds.gcp), needed because {needed_by}"
            )
        }
        Some(_) => return,
    };
    let suggestion = if cx.infra.users.contains_key(member) {
        Suggestion::default()
    } else {
        Suggestion::closest(member, cx.infra.users.keys().map(String::as_str))
    };
    report(Problem::MemberLeftOut {
        member: member.to_owned(),
        reason,
        suggestion,
    });
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
