//! Names people know: a person by the config's user key rather than by an email,
//! an Entra object id or a Hail username; an Azure built-in role by its name rather
//! than by its definition id. Ids stay beside the names (`mira.okafor
//! (3f2c7a10-…)`), and an id the config or the role table does not know is shown
//! as it is.
//!
//! ```
//! use cpg_infra_review::names::{Names, role_label};
//!
//! let id = "3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01";
//! let names = Names::from_identities([("mira.okafor", id, Some("mokafor"))]);
//! assert_eq!(names.label(id), format!("mira.okafor ({id})"));
//! assert_eq!(names.label("mokafor"), "mira.okafor (mokafor)");
//! assert_eq!(names.label("someone-else"), "someone-else");
//! assert_eq!(
//!     role_label("/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"),
//!     "Storage Blob Data Reader"
//! );
//! assert_eq!(role_label("roles/viewer"), "roles/viewer");
//! ```

use std::collections::{BTreeMap, BTreeSet};

use cpg_infra::config::CpgInfrastructureConfig;

/// The user keys of a config, by each identity the plan may name them by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// An identity (an email lower-cased, an object id lower-cased, a Hail
    /// username) → the user key.
    people: BTreeMap<String, String>,
    /// A Hail username → the cloud identities of the users who have it, on the
    /// cloud where they have it.
    hail: BTreeMap<String, BTreeSet<String>>,
}

/// An identity as the access graph names it: an email or an object id lower-cased
/// (Entra object ids are GUIDs, any case), anything else as it is.
fn key(identity: &str) -> String {
    if identity.contains('@') || is_guid(identity) {
        identity.to_lowercase()
    } else {
        identity.to_owned()
    }
}

fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

impl Names {
    /// The user keys of `config`'s `users`, by each cloud identity and Hail
    /// username.
    pub fn from_config(config: &CpgInfrastructureConfig) -> Names {
        Names::from_identities(config.users.iter().flat_map(|(user, entry)| {
            entry.clouds.values().map(move |identity| {
                (
                    user.as_str(),
                    identity.id.as_str(),
                    identity.hail_batch_username.as_deref(),
                )
            })
        }))
    }

    /// Names from (user key, cloud identity, Hail username on that cloud) triples.
    pub fn from_identities<'a>(
        identities: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
    ) -> Names {
        let mut names = Names::default();
        for (user, id, hail) in identities {
            names.people.insert(key(id), user.to_owned());
            if let Some(hail) = hail {
                names.people.insert(hail.to_owned(), user.to_owned());
                names
                    .hail
                    .entry(hail.to_owned())
                    .or_default()
                    .insert(id.to_owned());
            }
        }
        names
    }

    /// These names and `other`'s; where both name an identity, `other`'s.
    #[must_use]
    pub fn and(mut self, other: Names) -> Names {
        self.people.extend(other.people);
        for (hail, ids) in other.hail {
            self.hail.entry(hail).or_default().extend(ids);
        }
        self
    }

    /// The user key of `identity`, when the config knows it.
    pub fn user(&self, identity: &str) -> Option<&str> {
        self.people.get(&key(identity)).map(String::as_str)
    }

    /// Each Hail username with the cloud identity (as the config writes it) of a
    /// user who has it on that identity's cloud.
    pub fn hail_accounts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.hail
            .iter()
            .flat_map(|(hail, ids)| ids.iter().map(move |id| (hail.as_str(), id.as_str())))
    }

    /// `identity` for people: `user (identity)` when the config knows it, else
    /// the identity as it is.
    pub fn label(&self, identity: &str) -> String {
        match self.user(identity) {
            Some(user) => format!("{user} ({identity})"),
            None => identity.to_owned(),
        }
    }
}

/// The name of an Azure built-in role a role definition id names (see
/// [`cpg_infra_azure::roles::BUILT_IN`]), else `None`.
pub fn role_name(role: &str) -> Option<&'static str> {
    cpg_infra_azure::roles::name_of(role)
}

/// A role for people: an Azure built-in role by its name, any other role (and a
/// role definition id no table knows) as it is.
pub fn role_label(role: &str) -> String {
    role_name(role).map_or_else(|| role.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_known_by_every_identity_and_unknown_ids_are_kept() {
        let names = Names::from_identities([
            ("mira.okafor", "Mira.Okafor@example.org", Some("mokafor")),
            (
                "mira.okafor",
                "3F2C7A10-5B1E-4C8D-9A0F-6E4D2B1C0A01",
                Some("mokafor-az"),
            ),
        ]);
        assert_eq!(names.user("mira.okafor@example.org"), Some("mira.okafor"));
        assert_eq!(
            names.label("3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01"),
            "mira.okafor (3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01)"
        );
        assert_eq!(names.label("mokafor"), "mira.okafor (mokafor)");
        assert_eq!(
            names.label("0000aaaa-0000-4000-8000-000000000000"),
            "0000aaaa-0000-4000-8000-000000000000"
        );
        assert_eq!(
            names.hail_accounts().collect::<Vec<_>>(),
            [
                ("mokafor", "Mira.Okafor@example.org"),
                ("mokafor-az", "3F2C7A10-5B1E-4C8D-9A0F-6E4D2B1C0A01")
            ]
        );
        let later = Names::from_identities([("m.okafor", "mokafor", None)]);
        assert_eq!(names.and(later).user("mokafor"), Some("m.okafor"));
    }

    #[test]
    fn azure_roles_are_named_and_unknown_roles_kept() {
        assert_eq!(
            role_label(
                "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
            ),
            "AcrPull"
        );
        let unknown = "/providers/Microsoft.Authorization/roleDefinitions/2acaf3ab-0000-4000-8000-000000000000";
        assert_eq!(role_label(unknown), unknown);
        assert_eq!(role_name("roles/storage.admin"), None);
    }
}
