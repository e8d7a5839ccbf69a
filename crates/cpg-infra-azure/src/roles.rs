//! The built-in Azure role definitions the reference assigns, and the ones this
//! project adds for Key Vault secrets.

use cpg_infra::cloud::{BucketMembership, ContainerRegistryMembership, SecretMembership};

const PREFIX: &str = "/providers/Microsoft.Authorization/roleDefinitions/";

/// Storage Blob Data Reader.
pub const BLOB_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
/// Storage Blob Data Contributor.
pub const BLOB_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
/// AcrPull.
pub const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
/// AcrPush.
pub const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";
/// AcrDelete.
pub const ACR_DELETE: &str = "c2f4ef07-c644-48eb-af81-4b1b4947fb11";
/// Key Vault Secrets User.
pub const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
/// Key Vault Secrets Officer.
pub const SECRETS_OFFICER: &str = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

/// Every built-in role above by name, as Microsoft names it: the one table the
/// review reads to show a role definition id as the role people know.
pub const BUILT_IN: &[(&str, &str)] = &[
    (BLOB_READER, "Storage Blob Data Reader"),
    (BLOB_CONTRIBUTOR, "Storage Blob Data Contributor"),
    (ACR_PULL, "AcrPull"),
    (ACR_PUSH, "AcrPush"),
    (ACR_DELETE, "AcrDelete"),
    (SECRETS_USER, "Key Vault Secrets User"),
    (SECRETS_OFFICER, "Key Vault Secrets Officer"),
];

/// The name of the built-in role `definition` names: a role definition id
/// (`/providers/Microsoft.Authorization/roleDefinitions/<guid>`, also under a
/// subscription or other scope) or a bare GUID, any case. `None` for a role this
/// project does not assign.
///
/// ```
/// use cpg_infra_azure::roles;
/// assert_eq!(
///     roles::name_of(&roles::definition(roles::ACR_PULL)),
///     Some("AcrPull")
/// );
/// assert_eq!(roles::name_of("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/0000"), None);
/// ```
pub fn name_of(definition: &str) -> Option<&'static str> {
    let guid = definition
        .rsplit_once("/roleDefinitions/")
        .map_or(definition, |(_, guid)| guid);
    BUILT_IN
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(guid))
        .map(|(_, name)| *name)
}

/// A role definition id as a role assignment names it.
pub fn definition(role: &str) -> String {
    format!("{PREFIX}{role}")
}

/// The role a bucket membership maps to. Azure has no list-only role, so listing
/// grants read, as in the reference.
pub fn bucket(membership: BucketMembership) -> &'static str {
    match membership {
        BucketMembership::Mutate | BucketMembership::Append => BLOB_CONTRIBUTOR,
        BucketMembership::Read | BucketMembership::List => BLOB_READER,
    }
}

/// The roles, each with its key suffix, a registry membership maps to.
pub fn registry(
    membership: ContainerRegistryMembership,
) -> &'static [(&'static str, &'static str)] {
    match membership {
        ContainerRegistryMembership::Reader => &[("pull", ACR_PULL)],
        ContainerRegistryMembership::Writer => &[
            ("pull", ACR_PULL),
            ("push", ACR_PUSH),
            ("delete", ACR_DELETE),
        ],
    }
}

/// The role a secret membership maps to.
pub fn secret(membership: SecretMembership) -> &'static str {
    match membership {
        SecretMembership::Accessor => SECRETS_USER,
        SecretMembership::Admin => SECRETS_OFFICER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_provider_paths() {
        assert_eq!(
            definition(bucket(BucketMembership::List)),
            "/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
        );
        assert_eq!(registry(ContainerRegistryMembership::Writer).len(), 3);
    }

    /// The names and ids Microsoft publishes for these roles, written out apart from
    /// the table: <https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles>
    /// (the Storage, Containers and Security sections).
    #[test]
    fn built_in_roles_carry_microsofts_published_names_and_ids() {
        let published = [
            (
                "Storage Blob Data Reader",
                "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
            ),
            (
                "Storage Blob Data Contributor",
                "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
            ),
            ("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d"),
            ("AcrPush", "8311e382-0749-4cb8-b61a-304f252e45ec"),
            ("AcrDelete", "c2f4ef07-c644-48eb-af81-4b1b4947fb11"),
            (
                "Key Vault Secrets User",
                "4633458b-17de-408a-b874-0445c86b69e6",
            ),
            (
                "Key Vault Secrets Officer",
                "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
            ),
        ];
        assert_eq!(BUILT_IN.len(), published.len());
        for (name, id) in published {
            assert_eq!(name_of(id), Some(name), "{id}");
            assert_eq!(name_of(&definition(id)), Some(name), "{id}");
            let scoped = format!(
                "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{}",
                id.to_uppercase()
            );
            assert_eq!(name_of(&scoped), Some(name), "{scoped}");
        }
        // Every role the cloud assigns has a name.
        let assigned = [
            bucket(BucketMembership::Read),
            bucket(BucketMembership::Mutate),
            secret(SecretMembership::Accessor),
            secret(SecretMembership::Admin),
        ]
        .into_iter()
        .chain(
            registry(ContainerRegistryMembership::Writer)
                .iter()
                .map(|(_, r)| *r),
        );
        for role in assigned {
            assert!(name_of(role).is_some(), "{role}");
        }
        assert_eq!(name_of("2acaf3ab-0000-0000-0000-000000000000"), None);
        assert_eq!(name_of("roles/storage.objectViewer"), None);
    }
}
