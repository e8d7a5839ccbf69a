//! The storage component: every bucket with its lifecycle rules, the IAM matrix, and
//! the storage config TOML per namespace.

use crate::cloud::{BucketMembership, BucketSpec, LifecycleRule, Member, ResourceRef, periods};
use crate::config::CloudName;
use crate::graph::{Function, ResourceId, Value};

use super::super::config_destination::config_object;
use super::super::member_hash::member_hash;
use super::{BuildError, CpgDatasetCloudInfrastructure};

use BucketMembership::{Append, List, Mutate, Read};

/// An upload bucket: `main-upload`, an additional bucket, or a dropbox.
#[derive(Debug, Clone)]
pub(crate) struct UploadBucket {
    name: String,
    bucket: ResourceId,
    uploaders: Vec<String>,
    is_dropbox: bool,
}

fn undelete() -> LifecycleRule {
    LifecycleRule::Undelete {
        days: periods::UNDELETE,
    }
}

fn temporary() -> LifecycleRule {
    LifecycleRule::Temporary {
        days: periods::TMP_BUCKET,
        matches_prefixes: Vec::new(),
    }
}

impl CpgDatasetCloudInfrastructure<'_> {
    /// The bucket `key`, created on first use from `spec`.
    pub(super) fn bucket(
        &mut self,
        key: &str,
        spec: impl FnOnce(bool) -> BucketSpec,
    ) -> Result<ResourceId, BuildError> {
        if let Some(bucket) = self.memo().buckets.get(key) {
            return Ok(bucket.clone());
        }
        let spec = spec(self.dataset.autoclass);
        let bucket = self.declare(|cloud, graph| cloud.create_bucket(graph, &spec))?;
        self.memo().buckets.insert(key.to_owned(), bucket.clone());
        Ok(bucket)
    }

    /// A versioned bucket with the undelete rule and the dataset's Autoclass setting.
    pub(super) fn standard_bucket(&mut self, name: &str) -> Result<ResourceId, BuildError> {
        self.bucket(name, |autoclass| BucketSpec {
            autoclass,
            ..BucketSpec::new(name, vec![undelete()])
        })
    }

    /// A bucket cleared out automatically.
    fn tmp_bucket(&mut self, name: &str) -> Result<ResourceId, BuildError> {
        self.bucket(name, |_| BucketSpec {
            versioning: false,
            soft_delete_protection: false,
            ..BucketSpec::new(name, vec![temporary()])
        })
    }

    /// The requester-pays release bucket.
    pub(super) fn release_bucket(&mut self) -> Result<ResourceId, BuildError> {
        self.bucket("release", |autoclass| BucketSpec {
            autoclass,
            requester_pays: true,
            ..BucketSpec::new("release", vec![undelete()])
        })
    }

    fn archive_bucket(&mut self) -> Result<ResourceId, BuildError> {
        let days = self.dataset.archive_age;
        self.bucket("archive", |_| {
            BucketSpec::new("archive", vec![LifecycleRule::Archive { days }, undelete()])
        })
    }

    fn main_upload_account(&mut self) -> Result<ResourceId, BuildError> {
        if let Some(account) = &self.memo().main_upload_account {
            return Ok(account.clone());
        }
        let account = self.declare(|cloud, graph| {
            cloud.create_machine_account(graph, "main-upload", None, None)
        })?;
        self.memo().main_upload_account = Some(account.clone());
        Ok(account)
    }

    fn upload_buckets(&mut self) -> Result<Vec<UploadBucket>, BuildError> {
        if let Some(buckets) = &self.memo().upload_buckets {
            return Ok(buckets.clone());
        }
        let upload = self.dataset.upload_config.clone().unwrap_or_default();
        let autoclass = self.dataset.autoclass;
        let undelete_30 = LifecycleRule::Undelete { days: 30 };
        let mut buckets = Vec::new();
        let default = self.bucket("main-upload", |_| BucketSpec {
            autoclass,
            ..BucketSpec::new("main-upload", vec![undelete_30.clone()])
        })?;
        buckets.push(UploadBucket {
            name: "main-upload".into(),
            bucket: default,
            uploaders: upload
                .default_bucket
                .and_then(|b| b.uploaders)
                .unwrap_or_default(),
            is_dropbox: false,
        });
        for additional in upload.additional_buckets.unwrap_or_default() {
            let name = format!("main-upload-{}", additional.name);
            let bucket = self.bucket(&name, |_| BucketSpec {
                autoclass,
                ..BucketSpec::new(name.as_str(), vec![undelete_30.clone()])
            })?;
            buckets.push(UploadBucket {
                name,
                bucket,
                uploaders: additional.uploaders.unwrap_or_default(),
                is_dropbox: false,
            });
        }
        for dropbox in upload.dropboxes.unwrap_or_default() {
            // "db" keeps long dropbox ids under the bucket name limit.
            let name = format!("main-upload-db-{}", dropbox.id);
            let incomplete = LifecycleRule::Temporary {
                days: 8,
                matches_prefixes: vec!["incomplete/".into()],
            };
            let bucket = self.bucket(&name, |_| BucketSpec {
                versioning: false,
                soft_delete_protection: false,
                ..BucketSpec::new(name.as_str(), vec![incomplete])
            })?;
            buckets.push(UploadBucket {
                name,
                bucket,
                uploaders: dropbox.uploaders,
                is_dropbox: true,
            });
        }
        self.memo().upload_buckets = Some(buckets.clone());
        Ok(buckets)
    }

    pub(super) fn grant(
        &mut self,
        key: &str,
        bucket: &ResourceId,
        member: &Member,
        membership: BucketMembership,
    ) -> Result<(), BuildError> {
        let bucket = ResourceRef::Declared(bucket.clone());
        self.declare(|cloud, graph| {
            cloud.add_member_to_bucket(graph, key, &bucket, member, membership)
        })
    }

    pub(super) fn setup_storage(&mut self) -> Result<(), BuildError> {
        let main_list = self.group_as_member("main-list")?;
        self.declare(|cloud, graph| {
            cloud.give_member_ability_to_list_buckets(graph, "project-buckets-lister", &main_list)
        })?;

        let full = self.group_as_member("full")?;
        let archive = self.archive_bucket()?;
        self.grant("main-list-archive-bucket", &archive, &main_list, List)?;
        self.grant("full-archive-bucket-admin", &archive, &full, Mutate)?;

        let main_read = self.group_as_member("main-read")?;
        let main_create = self.group_as_member("main-create")?;
        let main = self.standard_bucket("main")?;
        self.grant("main-read-main-bucket-read", &main, &main_read, Read)?;
        self.grant(
            "main-create-main-bucket-view-create",
            &main,
            &main_create,
            Append,
        )?;
        self.grant("full-main-bucket-admin", &main, &full, Mutate)?;

        let main_tmp = self.tmp_bucket("main-tmp")?;
        self.grant(
            "main-read-main-tmp-bucket-read",
            &main_tmp,
            &main_read,
            Read,
        )?;
        self.grant(
            "main-create-main-tmp-bucket-view-create",
            &main_tmp,
            &main_create,
            Append,
        )?;
        self.grant("full-main-tmp-bucket-admin", &main_tmp, &full, Mutate)?;

        let analysis = self.group_as_member("analysis")?;
        let main_analysis = self.standard_bucket("main-analysis")?;
        self.grant(
            "analysis-group-main-analysis-bucket-viewer",
            &main_analysis,
            &analysis,
            Read,
        )?;
        self.grant(
            "main-read-main-analysis-bucket-viewer",
            &main_analysis,
            &main_read,
            Read,
        )?;
        self.grant(
            "main-create-main-analysis-bucket-view-create",
            &main_analysis,
            &main_create,
            Append,
        )?;
        self.grant(
            "full-main-analysis-bucket-admin",
            &main_analysis,
            &full,
            Mutate,
        )?;

        let main_web = self.standard_bucket("main-web")?;
        self.grant(
            "analysis-group-main-web-bucket-viewer",
            &main_web,
            &analysis,
            Read,
        )?;
        if let Some(web) = self.web_server_account() {
            self.grant("web-server-main-web-bucket-viewer", &main_web, &web, Read)?;
        }
        // Read, as the key says; the reference granted append.
        self.grant(
            "main-read-main-web-bucket-viewer",
            &main_web,
            &main_read,
            Read,
        )?;
        self.grant("full-main-web-bucket-admin", &main_web, &full, Mutate)?;

        self.setup_upload_bucket_permissions()?;

        if self.dataset.setup_test {
            if self.is_common() {
                let test_read = self.group_as_member("test-read")?;
                let key = format!("{}-test-accessing-main", self.name());
                self.grant(&key, &main, &test_read, Read)?;
            }
            self.setup_test_bucket_permissions()?;
        }

        if self.dataset.enable_release {
            let release = self.release_bucket()?;
            let release_access = self.group_as_member("release-access")?;
            self.grant(
                "analysis-group-release-bucket-viewer",
                &release,
                &analysis,
                Read,
            )?;
            self.grant(
                "release-access-group-release-bucket-viewer",
                &release,
                &release_access,
                Read,
            )?;
            self.grant("full-release-bucket-admin", &release, &full, Mutate)?;
        }

        if self.is_gcp() {
            let mut consumers = vec![("analysis-group".to_owned(), "analysis")];
            consumers.extend(
                self.access_levels()
                    .into_iter()
                    .map(|level| (level.to_owned(), level)),
            );
            for (key, group) in consumers {
                let member = self.group_as_member(group)?;
                let key = format!("{key}-serviceusage-consumer");
                self.declare(|cloud, graph| {
                    cloud.add_project_role(
                        graph,
                        &key,
                        &member,
                        "roles/serviceusage.serviceUsageConsumer",
                        None,
                    )
                })?;
            }
            let account = self.main_upload_account()?;
            let data_manager = self.group_as_member("data-manager")?;
            self.declare(|cloud, graph| {
                cloud.add_member_to_machine_account_role(
                    graph,
                    "data-manager-credentials-generator",
                    &account,
                    &data_manager,
                    crate::cloud::MachineAccountRole::CredentialsAdmin,
                )
            })?;
            self.declare(|cloud, graph| {
                cloud.add_project_role(
                    graph,
                    "data-manager-project-iam-viewer",
                    &data_manager,
                    "roles/iam.roleViewer",
                    None,
                )
            })?;
        }

        self.setup_storage_outputs()
    }

    /// The web server's account, when the web service is configured (GCP only).
    fn web_server_account(&self) -> Option<Member> {
        let web = self.state.config.web_service.as_ref()?;
        self.is_gcp()
            .then(|| Member::Id(web.gcp.server_machine_account.clone()))
    }

    fn setup_upload_bucket_permissions(&mut self) -> Result<(), BuildError> {
        let upload_group = self.group_as_member("upload")?;
        let full = self.group_as_member("full")?;
        let main_read = self.group_as_member("main-read")?;
        let analysis = self.group_as_member("analysis")?;
        for bucket in self.upload_buckets()? {
            let name = &bucket.name;
            if !bucket.is_dropbox {
                for uploader in &bucket.uploaders {
                    let Some(user) = self.state.config.users.get(uploader) else {
                        continue;
                    };
                    let Some(identity) = user.clouds.get(&self.cloud) else {
                        continue;
                    };
                    let hash = member_hash(self.name(), &user.id, self.cloud.as_str());
                    let member = Member::Id(identity.id.clone());
                    self.grant(
                        &format!("main-upload-{name}-uploader-{hash}"),
                        &bucket.bucket,
                        &member,
                        Mutate,
                    )?;
                }
            }
            let account = Member::MachineAccount(self.main_upload_account()?);
            self.grant(
                &format!("main-upload-service-account-{name}-bucket-creator"),
                &bucket.bucket,
                &account,
                Mutate,
            )?;
            if self.is_gcp()
                && let Some(dropbox) = &self.state.config.data_dropbox
            {
                let server = Member::Id(dropbox.gcp.server_machine_account.clone());
                self.grant(
                    &format!("dropbox-server-service-account-{name}-bucket-creator"),
                    &bucket.bucket,
                    &server,
                    Mutate,
                )?;
            }
            self.grant(
                &format!("main-upload-upload-group-{name}-bucket-admin"),
                &bucket.bucket,
                &upload_group,
                Mutate,
            )?;
            self.grant(
                &format!("full-{name}-bucket-admin"),
                &bucket.bucket,
                &full,
                Mutate,
            )?;
            self.grant(
                &format!("main-read-{name}-bucket-viewer"),
                &bucket.bucket,
                &main_read,
                Read,
            )?;
            self.grant(
                &format!("analysis-group-{name}-bucket-viewer"),
                &bucket.bucket,
                &analysis,
                Read,
            )?;
        }
        Ok(())
    }

    fn test_buckets(&mut self) -> Result<Vec<(&'static str, ResourceId)>, BuildError> {
        Ok(vec![
            ("test", self.standard_bucket("test")?),
            ("test-analysis", self.standard_bucket("test-analysis")?),
            ("test-tmp", self.tmp_bucket("test-tmp")?),
            ("test-web", self.standard_bucket("test-web")?),
            ("test-upload", self.standard_bucket("test-upload")?),
        ])
    }

    fn setup_test_bucket_permissions(&mut self) -> Result<(), BuildError> {
        let test_full = self.group_as_member("test-full")?;
        let test_read = self.group_as_member("test-read")?;
        for (name, bucket) in self.test_buckets()? {
            self.grant(
                &format!("test-full-{name}-admin"),
                &bucket,
                &test_full,
                Mutate,
            )?;
            self.grant(&format!("test-read-{name}-read"), &bucket, &test_read, Read)?;
        }
        if let Some(web) = self.web_server_account() {
            let test_web = self.standard_bucket("test-web")?;
            self.grant("web-server-test-web-bucket-viewer", &test_web, &web, Read)?;
        }
        Ok(())
    }

    /// The `[storage]` TOML of each namespace: this dataset's bucket paths over its
    /// dependencies' configs, written to the config bucket and kept for dependants.
    fn setup_storage_outputs(&mut self) -> Result<(), BuildError> {
        let template = self
            .state
            .config
            .web_service
            .as_ref()
            .and_then(|w| w.web_url_template.clone());
        let main_upload = self.upload_buckets()?[0].bucket.clone();
        let main_buckets = [
            ("default", self.standard_bucket("main")?),
            ("web", self.standard_bucket("main-web")?),
            ("analysis", self.standard_bucket("main-analysis")?),
            ("tmp", self.tmp_bucket("main-tmp")?),
            ("upload", main_upload),
        ];
        let mut main = self.bucket_paths(&main_buckets);
        if let Some(template) = &template {
            main.push((
                "web_url".into(),
                Value::String(web_url(template, "main", self.name())),
            ));
        }
        let mut namespaces: Vec<(&str, Vec<(String, Value)>)> = vec![("main", main)];
        if self.dataset.setup_test {
            let test_buckets = [
                ("default", self.standard_bucket("test")?),
                ("web", self.standard_bucket("test-web")?),
                ("analysis", self.standard_bucket("test-analysis")?),
                ("tmp", self.tmp_bucket("test-tmp")?),
                ("upload", self.standard_bucket("test-upload")?),
            ];
            let mut test = self.bucket_paths(&test_buckets);
            if let Some(template) = &template {
                test.push((
                    "web_url".into(),
                    Value::String(web_url(template, "test", self.name())),
                ));
            }
            namespaces.push(("test", test));
        }

        let mut dependencies: Vec<String> = self
            .dataset
            .depends_on
            .iter()
            .chain(&self.dataset.depends_on_readonly)
            .cloned()
            .collect();
        if !self.is_common() {
            dependencies.push(self.state.config.common_dataset.clone());
        }
        dependencies.sort();
        dependencies.dedup();

        let test_paths = namespaces.get(1).map(|(_, paths)| paths.clone());
        for (namespace, paths) in &namespaces {
            let merge: Vec<Value> = dependencies
                .iter()
                .filter_map(|dependency| {
                    self.state
                        .memos
                        .get(&(dependency.clone(), self.cloud))
                        .and_then(|memo| memo.storage_tomls.get(*namespace))
                        .cloned()
                })
                .collect();
            let mut buckets = Value::map(paths.clone());
            if *namespace == "main"
                && let (Value::Map(entries), Some(test)) = (&mut buckets, &test_paths)
            {
                entries.insert("test".into(), Value::map(test.clone()));
            }
            let storage = Value::map([(
                "storage",
                Value::map([("default", buckets.clone()), (self.name(), buckets)]),
            )]);
            let toml = Value::Function(Function::Toml {
                value: Box::new(storage),
                merge,
            });
            self.memo()
                .storage_tomls
                .insert((*namespace).to_owned(), toml.clone());
            self.add_config_toml_to_bucket(namespace, toml)?;
        }
        Ok(())
    }

    /// Each bucket's URL under its category.
    fn bucket_paths(&self, buckets: &[(&str, ResourceId)]) -> Vec<(String, Value)> {
        let cloud = self
            .state
            .clouds
            .get(&(self.dataset.dataset.clone(), self.cloud));
        buckets
            .iter()
            .map(|(category, bucket)| {
                let path = cloud.map_or(Value::Null, |cloud| cloud.bucket_output_path(bucket));
                ((*category).to_owned(), path)
            })
            .collect()
    }

    /// Writes a namespace's storage TOML under `config_destination` (not on dry-run).
    fn add_config_toml_to_bucket(
        &mut self,
        namespace: &str,
        contents: Value,
    ) -> Result<(), BuildError> {
        if self.cloud == CloudName::DryRun {
            return Ok(());
        }
        let cloud = self.cloud;
        let resource_name = format!("storage-config-{cloud}-{}-{namespace}", self.name());
        let name = format!("storage/{cloud}/{}-{namespace}.toml", self.name());
        let Some((bucket, output_name)) =
            config_object(&self.state.config.config_destination, &name)
        else {
            return Err(self.not_yet("a config_destination other than gs://<bucket>/<path>"));
        };
        let bucket = ResourceRef::Named(bucket);
        // The destination is a GCS bucket whatever the deploy location, so the object
        // is written through GCP; the common dataset always deploys there.
        let writer = if cloud == CloudName::Gcp {
            self.name().to_owned()
        } else {
            self.state.config.common_dataset.clone()
        };
        self.state
            .with_cloud(&writer, CloudName::Gcp, |cloud, graph| {
                cloud.add_blob_to_bucket(graph, &resource_name, &bucket, &output_name, contents)
            })?;
        Ok(())
    }
}

/// The web URL of a namespace: the template with `{namespace}` and `{dataset}`.
fn web_url(template: &str, namespace: &str, dataset: &str) -> String {
    template
        .replace("{namespace}", namespace)
        .replace("{dataset}", dataset)
}
