//! The globally unique names a dataset's Azure resources get, derived from the
//! organisation's `azure.dataset_storage_prefix` and the dataset's name.
//!
//! Storage accounts and Key Vaults share one rule here: lowercase letters and digits
//! of prefix + dataset, 3 to 24 characters, starting with a letter (the stricter of
//! the two services). Container registries append the registry's own letters and
//! digits. Validation rejects a dataset whose derived name breaks these rules or
//! equals another Azure dataset's, so every name the cloud is asked for is valid and
//! unique. Blob containers are named like the bucket's suffix (`main-upload-{name}`);
//! [`check_container`] holds them to Azure's stricter rule than GCS's.
//!
//! ```
//! use cpg_infra::config::azure_names;
//! assert_eq!(azure_names::storage_account("cpg", "ds1"), "cpgds1");
//! assert_eq!(azure_names::container_registry("cpg", "common", "images-dev"), "cpgcommonimagesdev");
//! assert!(azure_names::check("cpg", "ds1").is_ok());
//! assert!(azure_names::check("", "1kg").is_err());
//! assert!(azure_names::check_container("main-upload-batch-1").is_ok());
//! assert!(azure_names::check_container("main-upload-batch_1").is_err());
//! ```

use std::ops::RangeInclusive;

/// How long a storage account or Key Vault name may be.
pub const ACCOUNT_LENGTH: RangeInclusive<usize> = 3..=24;

/// How long a container registry name may be.
pub const REGISTRY_LENGTH: RangeInclusive<usize> = 5..=50;

/// How long a blob container name may be.
pub const CONTAINER_LENGTH: RangeInclusive<usize> = 3..=63;

/// The lowercase letters and digits of `text`.
fn alphanumeric(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The dataset's resource group: prefix + dataset, as the reference names it.
pub fn resource_group(prefix: &str, dataset: &str) -> String {
    format!("{prefix}{dataset}")
}

/// The dataset's storage account: the letters and digits of prefix + dataset (the
/// reference dropped the digits, so `ds1` and `ds2` collided).
pub fn storage_account(prefix: &str, dataset: &str) -> String {
    alphanumeric(&format!("{prefix}{dataset}"))
}

/// The dataset's Key Vault: the storage account's name (the two are separate
/// namespaces; the reference named every dataset's vault `secrets`).
pub fn key_vault(prefix: &str, dataset: &str) -> String {
    storage_account(prefix, dataset)
}

/// The dataset's container registry `registry` (`images`, `images-dev`, …).
pub fn container_registry(prefix: &str, dataset: &str, registry: &str) -> String {
    format!(
        "{}{}",
        storage_account(prefix, dataset),
        alphanumeric(registry)
    )
}

/// Why a derived name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AzureNameError {
    /// The name is too short or too long.
    #[error("Azure storage account name {name:?} is {length} characters, allowed: 3 to 24")]
    Length {
        /// The derived name.
        name: String,
        /// Its length.
        length: usize,
    },
    /// The name does not start with a letter (Key Vault names must).
    #[error("Azure storage account and Key Vault name {name:?} must start with a letter")]
    FirstCharacter {
        /// The derived name.
        name: String,
    },
    /// A blob container name too short or too long.
    #[error("Azure blob container name {name:?} is {length} characters, allowed: 3 to 63")]
    ContainerLength {
        /// The container name.
        name: String,
        /// Its length.
        length: usize,
    },
    /// A blob container name with characters or hyphens Azure does not allow.
    #[error(
        "Azure blob container name {name:?} may hold only lowercase letters, digits and \
         single hyphens, and must start and end with a letter or digit"
    )]
    ContainerCharacters {
        /// The container name.
        name: String,
    },
}

/// Whether the names derived for `dataset` are valid Azure names.
pub fn check(prefix: &str, dataset: &str) -> Result<String, AzureNameError> {
    let name = storage_account(prefix, dataset);
    let length = name.chars().count();
    if !ACCOUNT_LENGTH.contains(&length) {
        return Err(AzureNameError::Length { name, length });
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(AzureNameError::FirstCharacter { name });
    }
    Ok(name)
}

/// Whether `container` is a valid blob container name: 3 to 63 lowercase letters,
/// digits and hyphens, starting and ending with a letter or digit, no two hyphens in
/// a row. GCS bucket names also allow `_` and `.`, so a bucket suffix that GCP
/// accepts can still be refused by Azure.
pub fn check_container(container: &str) -> Result<(), AzureNameError> {
    let length = container.chars().count();
    if !CONTAINER_LENGTH.contains(&length) {
        return Err(AzureNameError::ContainerLength {
            name: container.to_owned(),
            length,
        });
    }
    let allowed = container
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !allowed
        || container.starts_with('-')
        || container.ends_with('-')
        || container.contains("--")
    {
        return Err(AzureNameError::ContainerCharacters {
            name: container.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_account_names_keep_digits() {
        assert_eq!(storage_account("cpg", "ds1"), "cpgds1");
        assert_ne!(storage_account("cpg", "ds1"), storage_account("cpg", "ds2"));
        assert_eq!(storage_account("cpg", "common"), "cpgcommon");
        assert_eq!(storage_account("CPG-", "my-data"), "cpgmydata");
    }

    #[test]
    fn registry_names_append_the_registry() {
        assert_eq!(
            container_registry("cpg", "common", "images-tmp"),
            "cpgcommonimagestmp"
        );
    }

    #[test]
    fn names_are_checked_for_length_and_first_letter() {
        assert_eq!(check("cpg", "common").as_deref(), Ok("cpgcommon"));
        assert!(matches!(
            check("cpg", "genomesinthecloudofazure"),
            Err(AzureNameError::Length { length: 27, .. })
        ));
        assert!(matches!(
            check("", "ab"),
            Err(AzureNameError::Length { .. })
        ));
        assert!(matches!(
            check("", "1kg"),
            Err(AzureNameError::FirstCharacter { .. })
        ));
    }

    #[test]
    fn container_names_refuse_what_gcs_allows_but_azure_does_not() {
        assert_eq!(check_container("main-upload-batch-1"), Ok(()));
        for refused in [
            "main-upload-batch_1",
            "main-upload-batch.1",
            "main-upload-Batch1",
            "main-upload-db-a--b",
            "main-upload-",
        ] {
            assert!(
                matches!(
                    check_container(refused),
                    Err(AzureNameError::ContainerCharacters { .. })
                ),
                "{refused}"
            );
        }
        let long = format!("main-upload-{}", "a".repeat(52));
        assert!(matches!(
            check_container(&long),
            Err(AzureNameError::ContainerLength { length: 64, .. })
        ));
    }
}
