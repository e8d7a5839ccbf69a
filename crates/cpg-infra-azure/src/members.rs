//! How Azure names a member: an Entra ID object id, and the kind of principal it is.

use cpg_infra::cloud::{CloudError, CloudResult, Member, ResourceRef};
use cpg_infra::config::CloudName;
use cpg_infra::graph::Value;

/// What kind of principal a role assignment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalType {
    /// An Entra ID group.
    Group,
    /// A managed identity or another application.
    ServicePrincipal,
    /// A person.
    User,
}

impl PrincipalType {
    /// The provider's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Group => "Group",
            PrincipalType::ServicePrincipal => "ServicePrincipal",
            PrincipalType::User => "User",
        }
    }
}

/// The object id of `member`: a group's id, an identity's principal id, or the id
/// itself.
pub fn object_id(member: &Member) -> CloudResult<Value> {
    match member {
        Member::Group(group) => Ok(Value::output(group, "id")),
        Member::MachineAccount(identity) => Ok(Value::output(identity, "principalId")),
        Member::MachineAccountEmail(id) => Ok(id.clone()),
        Member::Id(id) => Ok(Value::from(id.as_str())),
        Member::Bucket(_) => Err(CloudError::Unsupported {
            cloud: CloudName::Azure,
            operation: "a blob container as a principal",
        }),
    }
}

/// The principal type of `member`; `is_user` tells a person's object id from an
/// application's.
pub fn principal_type(member: &Member, is_user: impl Fn(&str) -> bool) -> PrincipalType {
    match member {
        Member::Group(_) => PrincipalType::Group,
        Member::Id(id) if is_user(id) => PrincipalType::User,
        Member::MachineAccount(_)
        | Member::MachineAccountEmail(_)
        | Member::Id(_)
        | Member::Bucket(_) => PrincipalType::ServicePrincipal,
    }
}

/// The resource id a role assignment is scoped to: a declared resource's id, or the
/// given id.
pub fn scope(target: &ResourceRef) -> Value {
    match target {
        ResourceRef::Declared(id) => Value::output(id, "id"),
        ResourceRef::Named(id) => Value::from(id.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpg_infra::graph::ResourceId;

    #[test]
    fn people_are_users_and_other_ids_service_principals() {
        let is_user = |id: &str| id == "person";
        assert_eq!(
            principal_type(&Member::Id("person".into()), is_user),
            PrincipalType::User
        );
        assert_eq!(
            principal_type(&Member::Id("robot".into()), is_user),
            PrincipalType::ServicePrincipal
        );
        let group = Member::Group(ResourceId::new(crate::tokens::GROUP, "g"));
        assert_eq!(principal_type(&group, is_user), PrincipalType::Group);
        assert_eq!(
            object_id(&group).expect("a group has an id"),
            Value::output(&ResourceId::new(crate::tokens::GROUP, "g"), "id")
        );
    }

    #[test]
    fn a_bucket_is_no_principal() {
        let bucket = Member::Bucket(ResourceId::new(crate::tokens::BLOB_CONTAINER, "b"));
        assert!(object_id(&bucket).is_err());
    }
}
