//! Hostile and unlucky configs: each case is refused with a message naming the file
//! and key, never read, hung on or passed through to the plan.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use cpg_infra::config::{ConfigDir as Root, ConfineError, load_dir};
use cpg_infra::graph::{Archive, Asset, Resource, SourceDir, check_asset_paths};
use cpg_infra::synthetic::{CountError, MAX_DATASETS, check_dataset_count};

use super::support::ConfigDir;

/// Loads `dir` on another thread: a loader that blocks (on a FIFO) fails the test
/// instead of hanging it.
fn errors_within_seconds(dir: &ConfigDir) -> Vec<String> {
    let (send, receive) = mpsc::channel();
    let path = dir.path().to_owned();
    std::thread::spawn(move || {
        let outcome = load_dir(&path).map_err(|invalid| {
            invalid
                .diagnostics
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        });
        let _ = send.send(outcome);
    });
    match receive
        .recv_timeout(Duration::from_secs(10))
        .expect("the loader answered within seconds")
    {
        Ok(_) => panic!("the config in {} was accepted", dir.path().display()),
        Err(errors) => errors,
    }
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

fn has(errors: &[String], needle: &str) -> bool {
    errors.iter().any(|e| e.contains(needle))
}

// --- confinement ----------------------------------------------------------------

#[cfg(unix)]
#[test]
fn fifo_in_place_of_the_config_does_not_hang_validate() {
    let dir = ConfigDir::valid();
    dir.remove("cpg.toml");
    mkfifo(&dir.path().join("cpg.toml"));
    let errors = errors_within_seconds(&dir);
    assert!(
        has(
            &errors,
            "cpg.toml: cannot read the file: a FIFO (named pipe), not a regular file"
        ),
        "{errors:#?}"
    );
}

#[cfg(unix)]
#[test]
fn fifo_in_place_of_a_dataset_file_does_not_hang_validate() {
    let dir = ConfigDir::valid();
    dir.remove("datasets/fewgenomes/members.yaml");
    mkfifo(&dir.path().join("datasets/fewgenomes/members.yaml"));
    let errors = errors_within_seconds(&dir);
    assert!(
        has(
            &errors,
            "datasets/fewgenomes/members.yaml: cannot read the file: a FIFO"
        ),
        "{errors:#?}"
    );
}

#[cfg(unix)]
#[test]
fn config_file_linked_out_of_the_directory_is_not_read() {
    let outside = ConfigDir::valid();
    let dir = ConfigDir::valid();
    dir.remove("datasets/fewgenomes/members.yaml");
    std::os::unix::fs::symlink(
        outside.path().join("datasets/fewgenomes/members.yaml"),
        dir.path().join("datasets/fewgenomes/members.yaml"),
    )
    .expect("symlink");
    let errors = errors_within_seconds(&dir);
    assert!(
        has(&errors, "a symbolic link leads out of the config directory"),
        "{errors:#?}"
    );
}

#[cfg(unix)]
#[test]
fn config_file_linked_inside_the_directory_is_read() {
    let dir = ConfigDir::valid();
    dir.write("shared/members.yaml", "data-manager:\n- alice\n");
    dir.remove("datasets/fewgenomes/members.yaml");
    std::os::unix::fs::symlink(
        dir.path().join("shared/members.yaml"),
        dir.path().join("datasets/fewgenomes/members.yaml"),
    )
    .expect("symlink");
    let config = dir.load().expect("a link inside the directory is followed");
    let fewgenomes = config
        .datasets
        .iter()
        .find(|d| d.dataset == "fewgenomes")
        .expect("fewgenomes");
    assert_eq!(fewgenomes.members.len(), 1);
}

#[test]
fn sources_dir_outside_the_config_directory_is_an_error() {
    for (dir_value, reason) in [
        ("/etc", "an absolute path"),
        (
            "../../elsewhere",
            "\"..\" leads out of the config directory",
        ),
    ] {
        let dir = ConfigDir::valid();
        dir.append(
            "cpg.toml",
            &format!(
                "\n[infrastructure.billing.aggregator]\ndestination_bq_table = \"b.t\"\n\
                 slack_channel = \"c\"\nslack_token_secret_name = \"s\"\n\
                 functions = []\nsources_dir = \"{dir_value}\"\n"
            ),
        );
        let errors = dir.errors();
        assert!(
            has(&errors, "infrastructure.billing.aggregator.sources_dir") && has(&errors, reason),
            "{errors:#?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn function_source_linked_out_of_the_config_directory_stays_out_of_the_plan() {
    let outside = ConfigDir::empty();
    outside.write("secret.json", "{\"token\": \"s3cr3t\"}");
    let dir = ConfigDir::empty();
    dir.write(
        "functions/billing_aggregator/aggregate/main.py",
        "print(1)\n",
    );
    std::os::unix::fs::symlink(
        outside.path().join("secret.json"),
        dir.path()
            .join("functions/billing_aggregator/aggregate/aggregate_schema.json"),
    )
    .expect("symlink");
    let sources = SourceDir::new(
        Root::new(dir.path()),
        "billing.aggregator.sources_dir",
        "functions/billing_aggregator",
    );
    let read = sources.read_text(Path::new("aggregate/aggregate_schema.json"));
    let error = cpg_infra::error_chain(&read.expect_err("a link out is refused"));
    assert!(
        error.starts_with("billing.aggregator.sources_dir: functions/billing_aggregator/aggregate/aggregate_schema.json: a symbolic link leads out"),
        "{error}"
    );
    let archive = sources.archive("aggregate", &[".py", ".json"]);
    let error = cpg_infra::error_chain(&archive.expect_err("a link out is refused"));
    assert!(error.contains("a symbolic link leads out"), "{error}");
    assert!(!error.contains("s3cr3t"), "{error}");
}

#[cfg(unix)]
#[test]
fn function_source_linked_inside_the_config_directory_is_archived() {
    let dir = ConfigDir::empty();
    dir.write("common/util.py", "def f(): pass\n");
    dir.write("functions/x/main.py", "print(1)\n");
    std::os::unix::fs::symlink(
        dir.path().join("common/util.py"),
        dir.path().join("functions/x/util.py"),
    )
    .expect("symlink");
    let archive = Archive::from_dir(&Root::new(dir.path()), Path::new("functions/x"), &[".py"])
        .expect("archive");
    let Archive::Assets(assets) = archive else {
        panic!("the directory is there")
    };
    assert_eq!(
        assets.keys().collect::<Vec<_>>(),
        ["main.py", "util.py"],
        "the link inside is followed, not left out"
    );
    assert!(matches!(
        &assets["util.py"],
        Asset::File {
            digest: Some(_),
            ..
        }
    ));
}

#[cfg(unix)]
#[test]
fn fifo_among_function_sources_is_refused_at_once() {
    let dir = ConfigDir::empty();
    dir.write("functions/x/main.py", "print(1)\n");
    mkfifo(&dir.path().join("functions/x/pipe.py"));
    let (send, receive) = mpsc::channel();
    let root = dir.path().to_owned();
    std::thread::spawn(move || {
        let outcome = Archive::from_dir(&Root::new(root), Path::new("functions/x"), &[".py"]);
        let _ = send.send(outcome.map_err(|e| cpg_infra::error_chain(&e)));
    });
    let outcome = receive
        .recv_timeout(Duration::from_secs(10))
        .expect("archiving answered within seconds");
    let error = outcome.expect_err("a FIFO is refused");
    assert_eq!(
        error,
        "functions/x/pipe.py: a FIFO (named pipe), not a regular file; only regular files are read"
    );
}

#[test]
fn asset_paths_outside_the_config_directory_are_refused_from_plugins() {
    let dir = ConfigDir::empty();
    let root = Root::new(dir.path());
    for path in ["/etc/passwd", "../../etc/passwd"] {
        let resource = Resource::new("gcp:storage/bucketObject:BucketObject", "o").input(
            "source",
            cpg_infra::graph::Value::Asset(Asset::File {
                path: path.into(),
                digest: None,
            }),
        );
        for root in [None, Some(&root)] {
            let refused = check_asset_paths(&resource, root);
            assert!(
                matches!(
                    refused,
                    Err(ConfineError::Absolute { .. } | ConfineError::LeavesDirectory { .. })
                ),
                "{path}: {refused:?}"
            );
        }
    }
}

// --- principals, identities, names ----------------------------------------------

#[test]
fn public_principal_as_a_users_gcp_id_is_an_error() {
    for public in ["allUsers", "allAuthenticatedUsers", "domain:gmail.com"] {
        let dir = ConfigDir::valid();
        dir.replace(
            "cpg.toml",
            "clouds.gcp = { id = \"uploader@partner.iam.gserviceaccount.com\" }",
            &format!("clouds.gcp = {{ id = \"{public}\" }}"),
        );
        let errors = dir.errors();
        assert!(
            has(
                &errors,
                "cpg.toml: infrastructure.users.uploader.clouds.gcp.id (line"
            ),
            "{public}: {errors:#?}"
        );
        assert!(has(&errors, &format!("{public:?}")), "{errors:#?}");
    }
}

#[test]
fn world_readable_web_buckets_through_the_server_account_are_an_error() {
    let dir = ConfigDir::valid();
    dir.append(
        "cpg.toml",
        "\n[infrastructure.web_service.gcp]\nserver_machine_account = \"allAuthenticatedUsers\"\n",
    );
    let errors = dir.errors();
    assert!(
        has(
            &errors,
            "infrastructure.web_service.gcp.server_machine_account"
        ) && has(&errors, "is everyone on the internet with a Google account"),
        "{errors:#?}"
    );
}

#[test]
fn gcp_id_without_at_sign_is_an_error() {
    let dir = ConfigDir::valid();
    dir.replace("cpg.toml", "id = \"bob@example.org\"", "id = \"bob\"");
    let errors = dir.errors();
    assert!(
        has(&errors, "users.bob.clouds.gcp.id") && has(&errors, "is not an email"),
        "{errors:#?}"
    );
}

#[test]
fn azure_object_id_that_is_not_a_guid_is_an_error() {
    let dir = ConfigDir::valid();
    dir.replace(
        "cpg.toml",
        "clouds.gcp = { id = \"bob@example.org\" }",
        "clouds.gcp = { id = \"bob@example.org\" }\nclouds.azure = { id = \"bob@example.org\" }",
    );
    let errors = dir.errors();
    assert!(
        has(&errors, "users.bob.clouds.azure.id") && has(&errors, "is not an Azure AD object id"),
        "{errors:#?}"
    );
}

#[test]
fn newline_inside_a_member_id_is_an_error() {
    let dir = ConfigDir::valid();
    dir.replace(
        "cpg.toml",
        "id = \"bob@example.org\"",
        "id = \"bob@example.org\\nmallory@evil.example\"",
    );
    let errors = dir.errors();
    assert!(
        has(&errors, "users.bob.clouds.gcp.id") && has(&errors, "control character U+000A"),
        "{errors:#?}"
    );
}

#[test]
fn escape_and_nul_in_names_are_errors() {
    for (bad, code) in [("\\u001b[2J", "U+001B"), ("\\u0000", "U+0000")] {
        let dir = ConfigDir::valid();
        dir.replace(
            "cpg.toml",
            "hail_batch_username = \"alice\"",
            &format!("hail_batch_username = \"alice{bad}\""),
        );
        let errors = dir.errors();
        assert!(
            has(&errors, "hail_batch_username") && has(&errors, code),
            "{errors:#?}"
        );
    }
}

#[test]
fn bucket_prefix_gcp_refuses_is_an_error() {
    let dir = ConfigDir::valid();
    dir.replace(
        "cpg.toml",
        "dataset_storage_prefix = \"cpg-\"",
        "dataset_storage_prefix = \"CPG_ /\"",
    );
    let errors = dir.errors();
    assert!(
        has(&errors, "infrastructure.gcp.dataset_storage_prefix")
            && has(&errors, "GCP bucket names hold lowercase letters"),
        "{errors:#?}"
    );
}

#[test]
fn upload_bucket_name_gcp_refuses_is_an_error() {
    let dir = ConfigDir::valid();
    dir.replace(
        "datasets/fewgenomes/upload.yaml",
        "- name: partner\n",
        "- name: Partner_\n",
    );
    let errors = dir.errors();
    assert!(
        has(
            &errors,
            "datasets/fewgenomes/upload.yaml: additional_buckets[0].name"
        ) && has(&errors, "\"main-upload-Partner_\" holds 'P'"),
        "{errors:#?}"
    );
}

// --- bounded work ---------------------------------------------------------------

#[test]
fn generating_zero_datasets_is_refused() {
    assert_eq!(check_dataset_count(0), Err(CountError::Zero));
    assert_eq!(check_dataset_count(1), Ok(()));
}

#[test]
fn generating_more_datasets_than_names_hold_is_refused_before_allocating() {
    assert_eq!(check_dataset_count(MAX_DATASETS), Ok(()));
    assert_eq!(
        check_dataset_count(100_000_000),
        Err(CountError::TooMany { asked: 100_000_000 })
    );
    assert_eq!(
        check_dataset_count(usize::MAX).map_err(|e| e.to_string()),
        Err(format!(
            "{} datasets: a synthetic config holds at most 100000 (common and ds00001 to ds99999)",
            usize::MAX
        ))
    );
}
