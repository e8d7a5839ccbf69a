//! Config directories copied for a test to edit.

use std::path::Path;

/// Copies the directory tree `from` into `to`, creating `to` and every directory
/// below it.
///
/// # Panics
///
/// When a directory cannot be read or created, or a file cannot be copied.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|error| panic!("create {}: {error}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|error| panic!("read {}: {error}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|error| panic!("read {}: {error}", from.display()));
        let target = to.join(entry.file_name());
        let is_dir = entry
            .file_type()
            .unwrap_or_else(|error| panic!("{}: {error}", entry.path().display()))
            .is_dir();
        if is_dir {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap_or_else(|error| {
                panic!(
                    "copy {} to {}: {error}",
                    entry.path().display(),
                    target.display()
                )
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_copied_with_its_subdirectories() {
        let from = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(from.path().join("datasets/common")).expect("mkdir");
        std::fs::write(from.path().join("cpg.toml"), "a = 1\n").expect("write");
        std::fs::write(from.path().join("datasets/common/members.yaml"), "x: []\n").expect("write");
        let to = tempfile::tempdir().expect("temp dir");
        copy_dir(from.path(), &to.path().join("copy"));
        let copy = to.path().join("copy");
        assert_eq!(
            std::fs::read_to_string(copy.join("cpg.toml")).expect("copied"),
            "a = 1\n"
        );
        assert_eq!(
            std::fs::read_to_string(copy.join("datasets/common/members.yaml")).expect("copied"),
            "x: []\n"
        );
    }
}
