//! Groups as placeholders: members are collected while datasets are built, nested
//! groups stay groups, and group finalisation (in the organisation driver) declares
//! one membership per direct member once every group is known.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::cloud::Member;
use crate::config::{CloudIdentity, CloudName};
use crate::graph::ResourceId;

use super::{BuildError, Origin};

/// `name` with the organisation's group prefix, as the cloud group is named.
pub(crate) fn prefixed_name(prefix: Option<&str>, name: &str) -> String {
    format!("{}{name}", prefix.unwrap_or_default())
}

/// A direct member of a group.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupMember {
    /// A person or machine from the config, or a machine account.
    Member {
        /// The member as the cloud sees it.
        member: Member,
        /// The user's identity, when the member is a configured user.
        user: Option<CloudIdentity>,
    },
    /// Another group, by name.
    Group(String),
}

/// A group and its direct members, by resource key, in the order they were added.
#[derive(Debug, Clone)]
pub struct Group {
    /// The group's name (without the group prefix).
    pub name: String,
    /// The cloud's group resource.
    pub resource: ResourceId,
    /// Whether the resolved members are written to the members cache.
    pub cache_members: bool,
    /// Direct members by resource key.
    pub members: Vec<(String, GroupMember)>,
    /// The part of the build that declared the group: its memberships and
    /// members-cache object come from there too.
    pub origin: Origin,
}

/// Every group of every cloud.
#[derive(Debug, Default)]
pub struct GroupProvider {
    groups: BTreeMap<CloudName, BTreeMap<String, Group>>,
    /// Every membership key in use, per cloud: a key is a resource's logical name.
    keys: HashSet<(CloudName, String)>,
}

impl GroupProvider {
    /// Registers a group the cloud declared as `resource` in the part of the
    /// build `origin`.
    pub fn insert(
        &mut self,
        cloud: CloudName,
        name: &str,
        resource: ResourceId,
        cache_members: bool,
        origin: Origin,
    ) -> Result<(), BuildError> {
        let groups = self.groups.entry(cloud).or_default();
        if groups.contains_key(name) {
            return Err(BuildError::DuplicateGroup {
                cloud,
                name: name.to_owned(),
            });
        }
        groups.insert(
            name.to_owned(),
            Group {
                name: name.to_owned(),
                resource,
                cache_members,
                members: Vec::new(),
                origin,
            },
        );
        Ok(())
    }

    /// The group `name` on `cloud`.
    pub fn get(&self, cloud: CloudName, name: &str) -> Option<&Group> {
        self.groups.get(&cloud)?.get(name)
    }

    /// The clouds that have groups.
    pub fn clouds(&self) -> impl Iterator<Item = CloudName> + '_ {
        self.groups.keys().copied()
    }

    /// Adds a member to `group` under `key`. Adding a group to itself, or a second
    /// member under one key, is an error.
    pub fn add_member(
        &mut self,
        cloud: CloudName,
        group: &str,
        key: String,
        member: GroupMember,
    ) -> Result<(), BuildError> {
        if matches!(&member, GroupMember::Group(name) if name == group) {
            return Err(BuildError::GroupInItself {
                group: group.to_owned(),
            });
        }
        if let GroupMember::Group(name) = &member
            && self.get(cloud, name).is_none()
        {
            return Err(BuildError::UnknownGroup {
                cloud,
                name: name.clone(),
            });
        }
        let target = self
            .groups
            .get_mut(&cloud)
            .and_then(|groups| groups.get_mut(group))
            .ok_or_else(|| BuildError::UnknownGroup {
                cloud,
                name: group.to_owned(),
            })?;
        if !self.keys.insert((cloud, key.clone())) {
            // The same member under the same key again (a dependency or member listed
            // twice, which validation warns about) is the one membership, as in the
            // reference's dict of members; anything else under the key is a collision.
            if target
                .members
                .iter()
                .any(|(k, m)| *k == key && *m == member)
            {
                return Ok(());
            }
            return Err(BuildError::DuplicateMembership {
                group: group.to_owned(),
                key,
            });
        }
        target.members.push((key, member));
        Ok(())
    }

    /// The groups of `cloud`, each after the groups it contains. A cycle between
    /// groups is an error naming it.
    pub fn ordered(&self, cloud: CloudName) -> Result<Vec<&Group>, BuildError> {
        let Some(groups) = self.groups.get(&cloud) else {
            return Ok(Vec::new());
        };
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut order = Vec::with_capacity(groups.len());
        for start in groups.keys() {
            if done.contains(start.as_str()) {
                continue;
            }
            // Iterative depth-first search: (group, index of the next member).
            let mut path: Vec<(&str, usize)> = vec![(start, 0)];
            while let Some((name, next)) = path.last_mut() {
                let group = &groups[*name];
                let nested = group.members[*next..]
                    .iter()
                    .position(|(_, m)| matches!(m, GroupMember::Group(_)));
                match nested {
                    Some(offset) => {
                        let index = *next + offset;
                        *next = index + 1;
                        let GroupMember::Group(child) = &group.members[index].1 else {
                            continue;
                        };
                        if done.contains(child.as_str()) {
                            continue;
                        }
                        if let Some(at) = path.iter().position(|(n, _)| n == child) {
                            let mut cycle: Vec<String> =
                                path[at..].iter().map(|(n, _)| (*n).to_owned()).collect();
                            cycle.push(child.clone());
                            return Err(BuildError::GroupCycle { cycle });
                        }
                        let child = groups
                            .get_key_value(child.as_str())
                            .map(|(k, _)| k.as_str())
                            .ok_or_else(|| BuildError::UnknownGroup {
                                cloud,
                                name: child.clone(),
                            })?;
                        path.push((child, 0));
                    }
                    None => {
                        let name = *name;
                        done.insert(name);
                        order.push(&groups[name]);
                        path.pop();
                    }
                }
            }
        }
        Ok(order)
    }

    /// Every member reached from `group` through nested groups (not groups).
    pub fn resolve(&self, cloud: CloudName, group: &str) -> Vec<&GroupMember> {
        let mut found = Vec::new();
        let mut seen = BTreeSet::new();
        let mut stack = vec![group];
        while let Some(name) = stack.pop() {
            if !seen.insert(name) {
                continue;
            }
            let Some(group) = self.get(cloud, name) else {
                continue;
            };
            for (_, member) in &group.members {
                match member {
                    GroupMember::Group(child) => stack.push(child),
                    direct => found.push(direct),
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(groups: &[&str]) -> GroupProvider {
        let mut provider = GroupProvider::default();
        for name in groups {
            provider
                .insert(
                    CloudName::Gcp,
                    name,
                    ResourceId::new("t", *name),
                    false,
                    Origin::Organisation,
                )
                .expect("insert");
        }
        provider
    }

    fn nest(provider: &mut GroupProvider, outer: &str, inner: &str) -> Result<(), BuildError> {
        provider.add_member(
            CloudName::Gcp,
            outer,
            format!("{inner}-in-{outer}"),
            GroupMember::Group(inner.to_owned()),
        )
    }

    #[test]
    fn nested_groups_come_first() {
        let mut groups = provider(&["a", "b", "c"]);
        nest(&mut groups, "a", "b").expect("nest");
        nest(&mut groups, "b", "c").expect("nest");
        let order: Vec<&str> = groups
            .ordered(CloudName::Gcp)
            .expect("acyclic")
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(order, ["c", "b", "a"]);
    }

    #[test]
    fn a_cycle_is_an_error_naming_it() {
        let mut groups = provider(&["a", "b", "c"]);
        nest(&mut groups, "a", "b").expect("nest");
        nest(&mut groups, "b", "c").expect("nest");
        nest(&mut groups, "c", "a").expect("nest");
        let error = groups.ordered(CloudName::Gcp).expect_err("cycle");
        assert_eq!(
            error.to_string(),
            "groups contain each other: a -> b -> c -> a"
        );
    }

    #[test]
    fn a_group_is_not_its_own_member() {
        let mut groups = provider(&["a"]);
        assert!(nest(&mut groups, "a", "a").is_err());
    }

    #[test]
    fn a_key_is_used_for_one_member() {
        let mut groups = provider(&["a", "b", "c"]);
        nest(&mut groups, "a", "b").expect("nest");
        // The same membership again is the one membership.
        nest(&mut groups, "a", "b").expect("the same member under the same key");
        assert_eq!(
            groups.get(CloudName::Gcp, "a").map(|g| g.members.len()),
            Some(1)
        );
        // Another member under a key in use is a collision.
        let other = groups.add_member(
            CloudName::Gcp,
            "a",
            "b-in-a".into(),
            GroupMember::Group("c".into()),
        );
        assert!(matches!(other, Err(BuildError::DuplicateMembership { .. })));
    }

    #[test]
    fn resolving_reaches_nested_members_only() {
        let mut groups = provider(&["a", "b"]);
        nest(&mut groups, "a", "b").expect("nest");
        let person = GroupMember::Member {
            member: Member::Id("p@x.org".into()),
            user: None,
        };
        groups
            .add_member(CloudName::Gcp, "b", "p".into(), person.clone())
            .expect("add");
        assert_eq!(groups.resolve(CloudName::Gcp, "a"), vec![&person]);
    }
}
