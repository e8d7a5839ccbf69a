//! Broken plugin files: each is refused with its own message before the system
//! loader maps it, never with a crash. The libraries are truncated and altered
//! copies of this test's own executable (a complete ELF position-independent object
//! of this machine), so no test builds anything. Permission denied is told apart
//! in the loader's unit tests, and end to end by the deploy binary's tests, which
//! run it as an unprivileged user when the tests run as root (who reads any file).
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use cpg_infra::plugin::library_file_name;
use cpg_infra_plugin_api::loader::load;
use tempfile::TempDir;

/// This test's executable, as bytes.
fn real_object() -> Vec<u8> {
    let exe = std::env::current_exe().expect("current exe");
    std::fs::read(exe).expect("read own executable")
}

/// A plugins directory holding `bytes` as plugin `name`'s library.
fn plugins_dir_with(name: &str, bytes: &[u8]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(library_file_name(name));
    std::fs::write(&path, bytes).expect("write library");
    (dir, path)
}

/// Loads `name` from `dir` on another thread: a loader that blocks (on a FIFO) or
/// crashes fails the test instead of hanging it.
fn load_within_seconds(dir: &Path, name: &str) -> Result<String, String> {
    let (send, receive) = mpsc::channel();
    let (dir, name) = (dir.to_owned(), name.to_owned());
    std::thread::spawn(move || {
        let outcome = load(&dir, &name)
            .map(|plugin| plugin.info().name.clone())
            .map_err(|e| format!("{e:?}\n{e}"));
        let _ = send.send(outcome);
    });
    receive
        .recv_timeout(Duration::from_secs(10))
        .expect("the loader answered within seconds")
}

#[test]
fn truncated_library_is_refused_instead_of_crashing_with_sigbus() {
    let object = real_object();
    assert!(
        object.len() > 65_536,
        "the executable is larger than the cut"
    );
    let (dir, _) = plugins_dir_with("metamist", &object[..65_536]);
    let error = load_within_seconds(dir.path(), "metamist").expect_err("truncated");
    assert!(error.starts_with("Malformed"), "{error}");
    assert!(error.contains("plugin \"metamist\""), "{error}");
    assert!(error.contains("truncated"), "{error}");
}

#[test]
fn library_cut_inside_its_header_is_refused() {
    let object = real_object();
    for cut in [4, 16, 40, 100] {
        let (dir, _) = plugins_dir_with("cut", &object[..cut]);
        let error = load_within_seconds(dir.path(), "cut").expect_err("cut header");
        assert!(error.starts_with("Malformed"), "{cut}: {error}");
    }
    // Shorter than the magic: the system loader reads it and refuses it itself.
    let (dir, _) = plugins_dir_with("stub", &object[..3]);
    let error = load_within_seconds(dir.path(), "stub").expect_err("stub");
    assert!(error.starts_with("NotALibrary"), "{error}");
}

#[test]
fn library_for_another_architecture_is_named_as_such() {
    let mut object = real_object();
    // e_machine: a machine this test does not run on.
    let other: u16 = if std::env::consts::ARCH == "s390x" {
        62
    } else {
        22
    };
    object[18..20].copy_from_slice(&other.to_le_bytes());
    if cfg!(target_endian = "big") {
        object[18..20].copy_from_slice(&other.to_be_bytes());
    }
    let (dir, _) = plugins_dir_with("foreign", &object);
    let error = load_within_seconds(dir.path(), "foreign").expect_err("foreign");
    assert!(error.starts_with("WrongArchitecture"), "{error}");
    assert!(error.contains("is built for"), "{error}");
}

#[test]
fn directory_in_place_of_a_library_is_named_a_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(library_file_name("dir"))).expect("mkdir");
    let error = load_within_seconds(dir.path(), "dir").expect_err("dir");
    assert!(
        error.contains("is a directory, not a library file"),
        "{error}"
    );
}

#[test]
fn fifo_in_place_of_a_library_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(library_file_name("pipe"));
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let error = load_within_seconds(dir.path(), "pipe").expect_err("fifo");
    assert!(error.contains("is a FIFO (named pipe)"), "{error}");
}

#[test]
fn symlink_loop_is_named_a_loop() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(library_file_name("loop"));
    std::os::unix::fs::symlink(&path, &path).expect("symlink");
    let error = load_within_seconds(dir.path(), "loop").expect_err("loop");
    assert!(error.starts_with("SymlinkLoop"), "{error}");
}

#[test]
fn broken_symlink_and_missing_file_are_told_apart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join(library_file_name("dangling"));
    std::os::unix::fs::symlink(dir.path().join("nowhere.so"), &link).expect("symlink");
    let error = load_within_seconds(dir.path(), "dangling").expect_err("dangling");
    assert!(error.starts_with("BrokenLink"), "{error}");
    let error = load_within_seconds(dir.path(), "absent").expect_err("absent");
    assert!(error.starts_with("NotFound"), "{error}");
}
