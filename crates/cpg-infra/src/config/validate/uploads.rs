//! Upload buckets and dropboxes: unique ids, known `move_to_bucket` targets.

use std::collections::BTreeMap;

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;

/// The name `move_to_bucket` uses for the default upload bucket.
pub(crate) const DEFAULT_UPLOAD_BUCKET: &str = "default";

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    for dataset in cx.datasets {
        let Some(upload) = &dataset.upload_config else {
            continue;
        };
        let mut buckets: Vec<String> = upload
            .additional_buckets
            .iter()
            .flatten()
            .map(|b| b.name.clone())
            .collect();
        buckets.push(DEFAULT_UPLOAD_BUCKET.to_owned());

        let mut bucket_index = BTreeMap::new();
        for (i, bucket) in upload.additional_buckets.iter().flatten().enumerate() {
            if bucket_index.insert(bucket.name.as_str(), i).is_some() {
                findings.dataset(
                    &dataset.dataset,
                    path(&["upload_config", "additional_buckets"])
                        .index(i)
                        .key("name"),
                    Problem::Duplicate {
                        what: "upload bucket".into(),
                        name: bucket.name.clone(),
                    },
                );
            }
        }

        let mut ids = BTreeMap::new();
        for (i, dropbox) in upload.dropboxes.iter().flatten().enumerate() {
            let at = path(&["upload_config", "dropboxes"]).index(i);
            if let Some(first_index) = ids.get(dropbox.id.as_str()) {
                findings.dataset(
                    &dataset.dataset,
                    at.key("id"),
                    Problem::DuplicateDropbox {
                        id: dropbox.id.clone(),
                        first_index: *first_index,
                    },
                );
            } else {
                ids.insert(dropbox.id.as_str(), i);
            }
            // The reference reads `move_to_bucket` only for the dropbox server's
            // config, which it writes only with a [data_dropbox] section.
            if let Some(target) = &dropbox.move_to_bucket
                && cx.infra.data_dropbox.is_some()
                && !buckets.contains(target)
            {
                findings.dataset(
                    &dataset.dataset,
                    at.key("move_to_bucket"),
                    Problem::UnknownUploadBucket {
                        bucket: target.clone(),
                        known: buckets.clone(),
                    },
                );
            }
        }
    }
}
