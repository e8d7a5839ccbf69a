//! Hostile or unlucky input to the commands: refused at once with a message.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::support::{TempDir, deploy, example_config, text};

#[test]
fn generate_zero_datasets_is_a_usage_error() {
    let dir = TempDir::new("generate-zero");
    let out = deploy(&["generate", "0", dir.path()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "error: 0 datasets: a config has at least one, the common dataset\n"
    );
    assert!(std::fs::read_dir(&*dir).expect("dir").next().is_none());
}

#[test]
fn generate_a_count_it_cannot_hold_is_refused_before_allocating() {
    let dir = TempDir::new("generate-huge");
    let started = Instant::now();
    let out = deploy(&["generate", "100000000", dir.path()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("a synthetic config holds at most 100000"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[cfg(unix)]
#[test]
fn validate_does_not_hang_on_a_fifo_in_place_of_a_config_file() {
    let dir = TempDir::new("fifo");
    for file in ["cpg.toml", "production.yaml"] {
        std::fs::copy(example_config().join(file), dir.join(file)).expect("copy");
    }
    std::fs::remove_file(dir.join("production.yaml")).expect("remove");
    let made = Command::new("mkfifo")
        .arg(dir.join("production.yaml"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_deploy"))
        .args(["validate", dir.path()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run deploy");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("deploy validate hung on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(1));
    assert!(
        text(&output.stderr).contains(
            "production.yaml: cannot read the file: a FIFO (named pipe), not a regular file"
        ),
        "{}",
        text(&output.stderr)
    );
}

/// Everything under `path` readable by all (directories searchable).
#[cfg(unix)]
fn open_to_all(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.is_dir();
    let mode = if dir { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    if dir {
        for entry in std::fs::read_dir(path).expect("read dir") {
            open_to_all(&entry.expect("entry").path());
        }
    }
}

/// Makes `path` unreadable to its reader.
#[cfg(unix)]
fn deny(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
}

/// Runs `deploy args` as a user that file permissions apply to. Tests may run as
/// root, who reads any file: then a copy of `deploy` in `scratch` (which anyone may
/// run) runs as the unprivileged user `nobody` (uid and gid 65534).
#[cfg(unix)]
fn deploy_unprivileged(scratch: &std::path::Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let mut command = if root {
        let copy = scratch.join("deploy");
        std::fs::copy(env!("CARGO_BIN_EXE_deploy"), &copy).expect("copy deploy");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut command = Command::new(copy);
        command.uid(65534).gid(65534);
        command
    } else {
        Command::new(env!("CARGO_BIN_EXE_deploy"))
    };
    command
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("run deploy")
}

/// A config file its reader may not read is named, with the system's reason, and
/// nothing that follows from it is reported.
#[cfg(unix)]
#[test]
fn a_config_file_without_read_permission_is_named_with_the_reason() {
    let dir = TempDir::new("denied");
    let config = dir.join("config");
    super::support::copy_dir(&example_config(), &config);
    open_to_all(&dir);
    deny(&config.join("datasets/cardiac/members.yaml"));
    let output = deploy_unprivileged(&dir, &["validate", config.to_str().expect("utf-8 path")]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        [
            "error: datasets/cardiac/members.yaml: cannot read the file: Permission denied (os error 13)"
        ],
        "{stderr}"
    );
}

/// A plugin library its reader may not read is refused as such, not as missing.
#[cfg(unix)]
#[test]
fn a_plugin_without_read_permission_is_refused_as_such() {
    let dir = TempDir::new("denied-plugin");
    let config = dir.join("config");
    super::support::copy_dir(
        &cpg_infra_reference::reference_dir().join("small-plugins"),
        &config,
    );
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("mkdir");
    let lib = |name: &str| {
        plugins.join(format!(
            "{}{name}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ))
    };
    std::fs::write(lib("billing_aggregator"), b"not read").expect("write");
    open_to_all(&dir);
    deny(&lib("billing_aggregator"));
    let output = deploy_unprivileged(
        &dir,
        &[
            "plugins",
            config.to_str().expect("utf-8 path"),
            "--plugins-dir",
            plugins.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "plugins directory: {} (--plugins-dir)\n\
             billing_aggregator: refused: plugin \"billing_aggregator\": permission to read {} is denied\n\
             metamist: refused: plugin \"metamist\": {} does not exist\n",
            plugins.display(),
            lib("billing_aggregator").display(),
            lib("metamist").display()
        )
    );
}
