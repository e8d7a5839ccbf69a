//! The globally unique names a dataset's Azure resources get, derived from the
//! organisation's `azure.dataset_storage_prefix` and the dataset's name.
//!
//! Storage accounts and Key Vaults share one rule here: lowercase letters and digits
//! of prefix + dataset, 3 to 24 characters, starting with a letter (the stricter of
//! the two services). Container registries append the registry's own letters and
//! digits. Validation rejects a dataset whose derived name breaks these rules or
//! equals another Azure dataset's, so every name the cloud is asked for is valid and
//! unique.
//!
//! ```
//! use cpg_infra::config::azure_names;
//! assert_eq!(azure_names::storage_account("cpg", "ds1"), "cpgds1");
//! assert_eq!(azure_names::container_registry("cpg", "common", "images-dev"), "cpgcommonimagesdev");
//! assert!(azure_names::check("cpg", "ds1").is_ok());
//! assert!(azure_names::check("", "1kg").is_err());
//! ```

use std::ops::RangeInclusive;

/// How long a storage account or Key Vault name may be.
pub const ACCOUNT_LENGTH: RangeInclusive<usize> = 3..=24;

/// How long a container registry name may be.
pub const REGISTRY_LENGTH: RangeInclusive<usize> = 5..=50;

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
}
