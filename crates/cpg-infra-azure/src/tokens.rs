//! The Pulumi packages, versions and type tokens Azure resources are declared with:
//! the azure-native and azuread providers'.

/// The Pulumi package of the azure-native tokens: the first segment of each.
pub const AZURE_NATIVE_PACKAGE: &str = "azure-native";
/// The pulumi-azure-native version the reference's stacks were made with: another
/// major version would plan changes across a whole stack.
/// `provider-schemas/azure-native.json` is its schema.
pub const AZURE_NATIVE_VERSION: &str = "2.21.2";
/// The Pulumi package of the azuread tokens: the first segment of each.
pub const AZUREAD_PACKAGE: &str = "azuread";
/// The pulumi-azuread version the reference's stacks were made with.
/// `provider-schemas/azuread.json` is its schema.
pub const AZUREAD_VERSION: &str = "5.46.0";

/// A resource group (the dataset's "project").
pub const RESOURCE_GROUP: &str = "azure-native:resources:ResourceGroup";
/// A storage account: one per dataset, holding its containers.
pub const STORAGE_ACCOUNT: &str = "azure-native:storage:StorageAccount";
/// A blob container (a bucket).
pub const BLOB_CONTAINER: &str = "azure-native:storage:BlobContainer";
/// A storage account's lifecycle rules.
pub const MANAGEMENT_POLICY: &str = "azure-native:storage:ManagementPolicy";
/// A storage account's blob service settings (delete retention).
pub const BLOB_SERVICE_PROPERTIES: &str = "azure-native:storage:BlobServiceProperties";
/// A role assignment.
pub const ROLE_ASSIGNMENT: &str = "azure-native:authorization:RoleAssignment";
/// A user-assigned managed identity (a machine account).
pub const USER_ASSIGNED_IDENTITY: &str = "azure-native:managedidentity:UserAssignedIdentity";
/// A Key Vault.
pub const VAULT: &str = "azure-native:keyvault:Vault";
/// A Key Vault secret (and, declared again with a value, its version).
pub const SECRET: &str = "azure-native:keyvault:Secret";
/// A container registry.
pub const REGISTRY: &str = "azure-native:containerregistry:Registry";
/// An Entra ID (Azure AD) group.
pub const GROUP: &str = "azuread:index/group:Group";
/// An Entra ID group membership.
pub const GROUP_MEMBER: &str = "azuread:index/groupMember:GroupMember";
