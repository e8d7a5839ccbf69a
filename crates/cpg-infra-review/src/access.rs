//! Effective access, read from the plan: who reaches which resource with which role,
//! and through which chain of groups.
//!
//! The plan holds two kinds of edge. A *membership* puts a member in a group
//! (`cpg:google:GroupMembership`, `dry-run:GroupMembership`); a *grant* gives a member a
//! role on a resource (every `…IAMMember` / `…IamMember` and `…IAMBinding` resource, the
//! dry-run cloud's `dry-run:Grant`, Hail billing-project memberships, metamist project
//! member lists and privileged-access entitlements). Members are named as the plan names
//! them: a declared resource (a group, a machine account, a Hail user) or a value known
//! now (an email, a Hail username, a group key).
//!
//! A principal's effective access is every grant held by the principal or by a group
//! it reaches through memberships, each with the shortest chain that leads to it, and
//! every group it reaches (as the role [`MEMBER_ROLE`] on that group).
//!
//! Metamist project member lists and Hail billing-project memberships name people
//! one by one, though the driver derives them from groups. Each such grant is
//! explained by the group it comes from, found in the plan: for a metamist list,
//! the group whose members (through nested groups) are exactly the list; for a
//! Hail billing project, with the config's [`Names`], the group whose people with
//! a Hail username are all members of the billing project and that accounts for
//! most of them. The grant's chain then runs through that group (for Hail, from
//! the username through the person's cloud identity); a member no group accounts
//! for holds the grant directly.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use cpg_infra::graph::{Function, Graph, Resource, ResourceId, Value};
use cpg_infra_azure::tokens as azure;
use cpg_infra_gcp::tokens as gcp;
use cpg_infra_kinds as kinds;
use serde::Serialize;

use crate::describe::describe;
use crate::names::{Names, role_name};

/// The role recorded for membership of a group, direct or through other groups.
pub const MEMBER_ROLE: &str = "member";

/// The type recorded for a group the plan names by key without declaring it.
pub const EXTERNAL_GROUP: &str = "group";

/// Someone or something that can hold access, as the plan names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    /// A resource the plan declares: a group, a machine account, a Hail user.
    Resource(ResourceId),
    /// An identity the plan names by value: an email (without IAM's `user:` style
    /// prefix, lower-cased), a Hail username, a group key; or, for a value only known
    /// at deploy time, its definition.
    Id(String),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Resource(id) => write!(f, "{id}"),
            Principal::Id(id) => f.write_str(id),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Principal {
    /// The principal as a resource, for a group reached as a membership: a declared
    /// group is itself; a group known only by key is `group::<key>`.
    pub fn as_resource(&self) -> ResourceId {
        match self {
            Principal::Resource(id) => id.clone(),
            Principal::Id(key) => ResourceId::new(EXTERNAL_GROUP, key),
        }
    }
}

/// A member's place in a group, as one resource of the plan declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Membership {
    /// The member.
    pub member: Principal,
    /// The group.
    pub group: Principal,
    /// The resource that declares the membership.
    pub declared_by: ResourceId,
}

/// A role on a resource given to a member, as one resource of the plan declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// Who holds the role.
    pub member: Principal,
    /// The role, by definition when it is only known at deploy time.
    pub role: String,
    /// The resource the role is on: a declared resource, or for one the plan names by
    /// value, the type it would have and that value.
    pub resource: ResourceId,
    /// The resource that declares the grant.
    pub declared_by: ResourceId,
    /// For a grant the driver derives from a group (metamist, Hail), the way from
    /// the member to that group: for Hail the person's cloud identity first, then
    /// each group in turn. Empty for a grant held directly.
    pub through: Vec<Principal>,
}

/// One thing a principal can reach.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Access {
    /// Who reaches it.
    pub principal: Principal,
    /// With which role ([`MEMBER_ROLE`] for a group reached through memberships).
    pub role: String,
    /// What (as `type::name`).
    #[serde(serialize_with = "serialize_id")]
    pub resource: ResourceId,
    /// How: the principal, then each group in turn, ending at the holder of the role
    /// (for a membership, at the group of which the last of the chain is a direct
    /// member). The shortest such chain; among equals, the first in sorted order.
    /// A metamist or Hail grant's chain continues to the group it comes from.
    pub chain: Vec<Principal>,
    /// The role's name, for a role people know by a name rather than by its id
    /// (an Azure built-in role).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// The config's user key of the principal, when the config knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Access {
    /// The key that identifies this access regardless of how it is reached.
    pub fn key(&self) -> (&Principal, &str, &ResourceId) {
        (&self.principal, &self.role, &self.resource)
    }
}

fn serialize_id<S: serde::Serializer>(id: &ResourceId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

/// The memberships and grants of one plan, indexed for walking.
#[derive(Debug, Clone, Default)]
pub struct AccessGraph {
    memberships: Vec<Membership>,
    grants: Vec<Grant>,
    /// member → the groups it is a direct member of.
    parents: BTreeMap<Principal, BTreeSet<Principal>>,
    /// group → its direct members.
    children: BTreeMap<Principal, BTreeSet<Principal>>,
    /// member → indices into `grants`.
    held: BTreeMap<Principal, Vec<usize>>,
    /// A declared group's email (lower-cased) → the group.
    group_emails: BTreeMap<String, ResourceId>,
    /// A declared group → its email or name, for people to read.
    labels: BTreeMap<ResourceId, String>,
    /// Every declared group, with members or not.
    declared_groups: BTreeSet<Principal>,
    /// The config's names for people.
    names: Names,
}

/// How a kind of resource declares a membership: the inputs naming the group and the
/// member.
const MEMBERSHIP_KINDS: &[(&str, &str, &str)] = &[
    (kinds::GROUP_MEMBERSHIP, "group_key", "member_key"),
    ("dry-run:GroupMembership", "group", "member"),
    (azure::GROUP_MEMBER, "groupObjectId", "memberObjectId"),
];

/// The inputs that name the resource of an IAM member or binding, most specific first,
/// with the type of a resource named by value.
pub const TARGET_KEYS: &[(&str, &str)] = &[
    ("bucket", gcp::BUCKET),
    ("secretId", gcp::SECRET),
    ("repository", gcp::REPOSITORY),
    ("serviceAccountId", gcp::SERVICE_ACCOUNT),
    ("service", gcp::CLOUDRUN_SERVICE),
    ("project", gcp::PROJECT),
    ("target", "dry-run:Target"),
];

impl AccessGraph {
    /// Reads every membership and grant of `graph`, naming people by their ids.
    pub fn from_graph(graph: &Graph) -> AccessGraph {
        AccessGraph::with_names(graph, Names::default())
    }

    /// Reads every membership and grant of `graph`, naming people as `names` does
    /// and explaining Hail grants through their groups with it.
    pub fn with_names(graph: &Graph, names: Names) -> AccessGraph {
        let mut access = AccessGraph {
            names,
            ..AccessGraph::default()
        };
        for resource in graph.resources() {
            let token: &str = &resource.id.type_token;
            if token.rsplit(':').next() == Some("Group") {
                access
                    .declared_groups
                    .insert(Principal::Resource(resource.id.clone()));
            }
            if let Some(email) = group_email(resource) {
                access
                    .group_emails
                    .insert(email.to_lowercase(), resource.id.clone());
                access.labels.insert(resource.id.clone(), email);
            } else if token == azure::GROUP
                && let Some(name) = resource.inputs.get("displayName").and_then(Value::as_str)
            {
                access.labels.insert(resource.id.clone(), name.to_owned());
            }
        }
        for resource in graph.resources() {
            access.read(resource);
        }
        access.index();
        access.explain_metamist();
        access.explain_hail();
        access
    }

    fn read(&mut self, resource: &Resource) {
        let token: &str = &resource.id.type_token;
        let kind = token.rsplit(':').next().unwrap_or(token);
        let input = |key: &str| resource.inputs.get(key);
        if let Some((_, group, member)) = MEMBERSHIP_KINDS.iter().find(|(t, ..)| *t == token) {
            if let (Some(group), Some(member)) = (input(group), input(member)) {
                self.memberships.push(Membership {
                    member: self.principal(member),
                    group: self.principal(group),
                    declared_by: resource.id.clone(),
                });
            }
            return;
        }
        let mut grant = |member: &Value, role: String, target: ResourceId| {
            let member = self.principal(member);
            self.grants.push(Grant {
                member,
                role,
                resource: target,
                declared_by: resource.id.clone(),
                through: Vec::new(),
            });
        };
        if kind.ends_with("IAMMember")
            || kind.ends_with("IamMember")
            || kind.ends_with("IAMBinding")
            || kind.ends_with("IamBinding")
            || token == "dry-run:Grant"
        {
            let Some(role) = input("role") else { return };
            let role = describe(role);
            let target = iam_target(resource);
            if let Some(member) = input("member") {
                grant(member, role.clone(), target.clone());
            }
            if let Some(members) = input("members") {
                for member in list_items(members) {
                    grant(member, role.clone(), target.clone());
                }
            }
            return;
        }
        match token {
            kinds::HAIL_BILLING_PROJECT_MEMBERSHIP => {
                if let (Some(user), Some(project)) = (input("user"), input("billing_project")) {
                    grant(
                        user,
                        "hail-billing-project-member".into(),
                        target_of(project, kinds::HAIL_BILLING_PROJECT),
                    );
                }
            }
            kinds::METAMIST_PROJECT_MEMBERS => {
                let project = input("project_name").map_or_else(
                    || resource.id.clone(),
                    |p| target_of(p, kinds::METAMIST_PROJECT),
                );
                for (key, members) in &resource.inputs {
                    let Some(level) = key.strip_suffix("_members") else {
                        continue;
                    };
                    for member in list_items(members) {
                        grant(member, format!("metamist-{level}"), project.clone());
                    }
                }
            }
            azure::ROLE_ASSIGNMENT => {
                let (Some(principal), Some(role)) =
                    (input("principalId"), input("roleDefinitionId"))
                else {
                    return;
                };
                // The scope: the one declared resource it names, else the assignment.
                let target = match input("scope").map(Value::dependencies).as_deref() {
                    Some([only]) => only.clone(),
                    _ => resource.id.clone(),
                };
                grant(principal, describe(role), target);
            }
            gcp::ENTITLEMENT => {
                let Some(Value::List(eligible)) = input("eligibleUsers") else {
                    return;
                };
                for users in eligible {
                    let Value::Map(users) = users else { continue };
                    for principal in users.get("principals").map(list_items).unwrap_or_default() {
                        grant(
                            principal,
                            "entitlement-requester".into(),
                            resource.id.clone(),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// The principal a member value names.
    fn principal(&self, value: &Value) -> Principal {
        match value {
            Value::Secret(inner) => self.principal(inner),
            Value::Output(output) => Principal::Resource(output.resource.clone()),
            Value::String(text) => self.named(text),
            Value::Function(Function::Concat(parts)) => match parts.as_slice() {
                [Value::String(prefix), Value::Output(output)] if prefix.ends_with(':') => {
                    Principal::Resource(output.resource.clone())
                }
                _ => self.named(&describe(value)),
            },
            _ => Principal::Id(describe(value)),
        }
    }

    /// The principal a text names: IAM's `user:`-style prefix removed, emails
    /// lower-cased, a declared group's email resolved to the group.
    fn named(&self, text: &str) -> Principal {
        let bare = ["user:", "group:", "serviceAccount:"]
            .iter()
            .find_map(|prefix| text.strip_prefix(prefix))
            .unwrap_or(text);
        let bare = if bare.contains('@') {
            bare.to_lowercase()
        } else {
            bare.to_owned()
        };
        match self.group_emails.get(&bare) {
            Some(group) => Principal::Resource(group.clone()),
            None => Principal::Id(bare),
        }
    }

    fn index(&mut self) {
        self.memberships.sort();
        self.memberships.dedup();
        self.grants.sort();
        for membership in &self.memberships {
            self.parents
                .entry(membership.member.clone())
                .or_default()
                .insert(membership.group.clone());
            self.children
                .entry(membership.group.clone())
                .or_default()
                .insert(membership.member.clone());
        }
        for (i, grant) in self.grants.iter().enumerate() {
            self.held.entry(grant.member.clone()).or_default().push(i);
        }
    }

    /// Every membership, sorted.
    pub fn memberships(&self) -> &[Membership] {
        &self.memberships
    }

    /// Every grant, sorted.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Whether `principal` is a group: a declared group (a resource of kind `Group`),
    /// or something the plan puts members in.
    pub fn is_group(&self, principal: &Principal) -> bool {
        self.declared_groups.contains(principal) || self.children.contains_key(principal)
    }

    /// Every group: declared, or named as the group of a membership.
    pub fn groups(&self) -> BTreeSet<&Principal> {
        self.declared_groups
            .iter()
            .chain(self.children.keys())
            .collect()
    }

    /// The groups `principal` is a direct member of.
    pub fn groups_of(&self, principal: &Principal) -> impl Iterator<Item = &Principal> {
        self.parents.get(principal).into_iter().flatten()
    }

    /// The direct members of `group`.
    pub fn members_of(&self, group: &Principal) -> impl Iterator<Item = &Principal> {
        self.children.get(group).into_iter().flatten()
    }

    /// The grants `principal` holds directly.
    pub fn grants_of(&self, principal: &Principal) -> impl Iterator<Item = &Grant> {
        self.held
            .get(principal)
            .into_iter()
            .flatten()
            .map(|i| &self.grants[*i])
    }

    /// A name for people: a declared group's email (GCP) or display name (Entra
    /// ID); a person the config knows as `user (identity)`; else the principal
    /// itself.
    pub fn label(&self, principal: &Principal) -> String {
        match principal {
            Principal::Resource(id) => self
                .labels
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_string()),
            Principal::Id(id) => self.names.label(id),
        }
    }

    /// The config's user key of `principal`, when the config knows it.
    pub fn user(&self, principal: &Principal) -> Option<&str> {
        match principal {
            Principal::Id(id) => self.names.user(id),
            Principal::Resource(_) => None,
        }
    }

    /// The principal the plan would name by `text` (an email, a Hail username, a group
    /// key; IAM prefixes such as `user:` allowed).
    pub fn principal_named(&self, text: &str) -> Principal {
        self.named(text)
    }

    /// Every principal that holds access and is not a group: people, machine
    /// accounts, Hail users, identities outside the plan.
    pub fn principals(&self) -> BTreeSet<Principal> {
        self.memberships
            .iter()
            .map(|m| &m.member)
            .chain(self.grants.iter().map(|g| &g.member))
            .filter(|p| !self.is_group(p))
            .cloned()
            .collect()
    }

    /// `principal` and every group it reaches, in the order a breadth-first walk
    /// over memberships meets them (neighbours in sorted order), each with the
    /// first chain found to it: a shortest one, and the first in sorted order.
    fn chains_from<'a>(&'a self, principal: &'a Principal) -> Walk<'a> {
        let mut chains: BTreeMap<&Principal, Vec<Principal>> = BTreeMap::new();
        let mut order: Vec<&Principal> = vec![principal];
        chains.insert(principal, vec![principal.clone()]);
        let mut queue = VecDeque::from([principal]);
        while let Some(node) = queue.pop_front() {
            for group in self.groups_of(node) {
                if chains.contains_key(group) {
                    continue;
                }
                let mut chain = chains[node].clone();
                chain.push(group.clone());
                chains.insert(group, chain);
                order.push(group);
                queue.push_back(group);
            }
        }
        Walk { order, chains }
    }

    /// Every principal that is not a group and reaches `group`, `group`'s
    /// members through nested groups.
    fn leaves(&self, group: &Principal) -> BTreeSet<&Principal> {
        let mut seen: BTreeSet<&Principal> = BTreeSet::new();
        let mut leaves = BTreeSet::new();
        let mut queue = VecDeque::from([group]);
        while let Some(node) = queue.pop_front() {
            for member in self.members_of(node) {
                if !seen.insert(member) {
                    continue;
                }
                if self.is_group(member) {
                    queue.push_back(member);
                } else {
                    leaves.insert(member);
                }
            }
        }
        leaves
    }

    /// Each metamist member list (a project, a level) explained by the group whose
    /// members are exactly the list: the innermost such group, the first in
    /// sorted order among equals.
    fn explain_metamist(&mut self) {
        let mut lists: BTreeMap<(&ResourceId, &str), Vec<usize>> = BTreeMap::new();
        for (i, grant) in self.grants.iter().enumerate() {
            if &*grant.declared_by.type_token == kinds::METAMIST_PROJECT_MEMBERS {
                lists
                    .entry((&grant.declared_by, grant.role.as_str()))
                    .or_default()
                    .push(i);
            }
        }
        let mut explained: Vec<(usize, Vec<Principal>)> = Vec::new();
        // A group's leaves, and the groups each member reaches with its chain to
        // them, walked once however many lists ask.
        let mut leaves_of: BTreeMap<&Principal, BTreeSet<&Principal>> = BTreeMap::new();
        let walk_of: BTreeMap<&Principal, Walk<'_>> = lists
            .values()
            .flatten()
            .map(|i| &self.grants[*i].member)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|member| (member, self.chains_from(member)))
            .collect();
        let mut groups_in: BTreeMap<&Principal, BTreeSet<&Principal>> = BTreeMap::new();
        for indices in lists.values() {
            let members: BTreeSet<&Principal> =
                indices.iter().map(|i| &self.grants[*i].member).collect();
            let walks: BTreeMap<&Principal, &Walk<'_>> =
                members.iter().map(|m| (*m, &walk_of[m])).collect();
            let Some(first) = walks.values().next() else {
                continue;
            };
            let matches: Vec<&Principal> = first
                .order
                .iter()
                .skip(1)
                .copied()
                .filter(|g| walks.values().all(|walk| walk.chains.contains_key(g)))
                .filter(|g| *leaves_of.entry(g).or_insert_with(|| self.leaves(g)) == members)
                .collect();
            // The innermost: no other match has it as a member. A group that holds
            // the list's group (the organisation's metamist invokers hold every
            // dataset's) may have the same members, but it is not where they come from.
            for g in &matches {
                groups_in
                    .entry(g)
                    .or_insert_with(|| self.chains_from(g).order.into_iter().collect());
            }
            let mut innermost: Vec<&Principal> = matches
                .iter()
                .copied()
                .filter(|g| {
                    !matches
                        .iter()
                        .any(|other| other != g && groups_in[other].contains(g))
                })
                .collect();
            innermost.sort();
            let Some(group) = innermost.first() else {
                continue;
            };
            for i in indices {
                let walk = &walks[&self.grants[*i].member];
                if let Some(chain) = walk.chains.get(group) {
                    explained.push((*i, chain[1..].to_vec()));
                }
            }
        }
        for (i, through) in explained {
            self.grants[i].through = through;
        }
    }

    /// Each Hail billing project's members explained, with the config's names, by
    /// the group whose people with a Hail username are all members of the billing
    /// project and that accounts for most of them; among equals (a group nested in
    /// another often has the same people), the one whose logical name shares most
    /// leading words with the billing project's (the same dataset and cloud), then
    /// the smallest, then the first in sorted order.
    fn explain_hail(&mut self) {
        // A cloud identity → its Hail usernames; a Hail username → its identities.
        let mut usernames: BTreeMap<Principal, BTreeSet<&str>> = BTreeMap::new();
        let mut identities: BTreeMap<&str, BTreeSet<Principal>> = BTreeMap::new();
        for (hail, id) in self.names.hail_accounts() {
            let identity = self.named(id);
            usernames.entry(identity.clone()).or_default().insert(hail);
            identities.entry(hail).or_default().insert(identity);
        }
        let mut projects: BTreeMap<&ResourceId, Vec<usize>> = BTreeMap::new();
        for (i, grant) in self.grants.iter().enumerate() {
            if &*grant.declared_by.type_token == kinds::HAIL_BILLING_PROJECT_MEMBERSHIP {
                projects.entry(&grant.resource).or_default().push(i);
            }
        }
        let mut explained: Vec<(usize, Vec<Principal>)> = Vec::new();
        // Walked once per group and per person, however many projects ask.
        let mut leaves_of: BTreeMap<&Principal, BTreeSet<&Principal>> = BTreeMap::new();
        let mut reached: BTreeMap<&Principal, Walk<'_>> = BTreeMap::new();
        for (project, indices) in &projects {
            let members: BTreeSet<&str> = indices
                .iter()
                .filter_map(|i| match &self.grants[*i].member {
                    Principal::Id(id) => Some(id.as_str()),
                    Principal::Resource(_) => None,
                })
                .collect();
            let people: Vec<&Principal> = members
                .iter()
                .filter_map(|m| identities.get(m))
                .flatten()
                .collect();
            let mut candidates: BTreeSet<&Principal> = BTreeSet::new();
            for person in people {
                let walk = reached
                    .entry(person)
                    .or_insert_with(|| self.chains_from(person));
                candidates.extend(walk.order.iter().skip(1).copied());
            }
            // (people accounted for, words shared with the project's name, fewest members).
            let mut best: Option<(Score, &Principal)> = None;
            for group in candidates {
                let leaves = leaves_of.entry(group).or_insert_with(|| self.leaves(group));
                let mut accounted = 0;
                let mut all_members = true;
                for leaf in leaves.iter() {
                    for hail in usernames.get(*leaf).into_iter().flatten() {
                        if members.contains(hail) {
                            accounted += 1;
                        } else {
                            all_members = false;
                        }
                    }
                }
                let affinity = match group {
                    Principal::Resource(id) => shared_words(&id.name, &project.name),
                    Principal::Id(_) => 0,
                };
                let score = (accounted, affinity, Reverse(leaves.len()));
                if all_members && accounted > 0 && best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, group));
                }
            }
            let Some((_, group)) = best else { continue };
            for i in indices {
                let Principal::Id(hail) = &self.grants[*i].member else {
                    continue;
                };
                // The shortest way from one of the username's identities.
                let way = identities
                    .get(hail.as_str())
                    .into_iter()
                    .flatten()
                    .filter_map(|identity| match reached.get(identity) {
                        Some(walk) => walk.chains.get(group).cloned(),
                        None => self.chains_from(identity).chains.remove(group),
                    })
                    .min_by_key(Vec::len);
                if let Some(way) = way {
                    explained.push((*i, way));
                }
            }
        }
        for (i, through) in explained {
            self.grants[i].through = through;
        }
    }

    /// Everything `principal` can reach, sorted by resource then role.
    pub fn access_of(&self, principal: &Principal) -> Vec<Access> {
        let Walk { order, chains } = self.chains_from(principal);
        let access = |role: &str, resource: &ResourceId, chain: Vec<Principal>| Access {
            principal: principal.clone(),
            role: role.to_owned(),
            resource: resource.clone(),
            chain,
            role_name: role_name(role).map(str::to_owned),
            user: self.user(principal).map(str::to_owned),
        };
        let mut found: BTreeMap<(ResourceId, String), Access> = BTreeMap::new();
        for node in order {
            let chain = &chains[node];
            if node != principal {
                let mut via = chain.clone();
                via.pop();
                found
                    .entry((node.as_resource(), MEMBER_ROLE.to_owned()))
                    .or_insert_with(|| access(MEMBER_ROLE, &node.as_resource(), via));
            }
            for grant in self.grants_of(node) {
                found
                    .entry((grant.resource.clone(), grant.role.clone()))
                    .or_insert_with(|| {
                        let mut chain = chain.clone();
                        chain.extend(grant.through.iter().cloned());
                        access(&grant.role, &grant.resource, chain)
                    });
            }
        }
        found.into_values().collect()
    }

    /// The effective access of every principal that is not a group, sorted by
    /// principal, resource and role.
    pub fn effective(&self) -> Vec<Access> {
        self.each_effective().collect()
    }

    /// [`AccessGraph::effective`] made one principal at a time, as it is asked
    /// for: for writing everyone's access without holding all of it.
    pub fn each_effective(&self) -> impl Iterator<Item = Access> + '_ {
        self.principals()
            .into_iter()
            .flat_map(|p| self.access_of(&p))
    }

    /// Everyone (not a group) who can reach `resource`, and how, sorted by principal
    /// then role.
    pub fn who_reaches(&self, resource: &ResourceId) -> Vec<Access> {
        self.effective()
            .into_iter()
            .filter(|a| &a.resource == resource)
            .collect()
    }
}

/// A walk up the memberships from a principal: the principal and every group it
/// reaches, in the order met, each with the chain that first reached it.
struct Walk<'a> {
    order: Vec<&'a Principal>,
    chains: BTreeMap<&'a Principal, Vec<Principal>>,
}

/// How a group explains a Hail billing project's members, best last.
type Score = (usize, usize, Reverse<usize>);

/// How many leading `-`-separated words two logical names share.
fn shared_words(a: &str, b: &str) -> usize {
    a.split('-')
        .zip(b.split('-'))
        .take_while(|(x, y)| x == y)
        .count()
}

/// A declared group's email (GCP's `groupKey.id`, or the dry-run group's name).
fn group_email(resource: &Resource) -> Option<String> {
    let token: &str = &resource.id.type_token;
    match token {
        gcp::GROUP => match resource.inputs.get("groupKey") {
            Some(Value::Map(key)) => key.get("id").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        },
        _ => None,
    }
}

/// The resource an IAM member or binding is on.
fn iam_target(resource: &Resource) -> ResourceId {
    for (key, kind) in TARGET_KEYS {
        let Some(value) = resource.inputs.get(*key) else {
            continue;
        };
        if *key == "service" && value.dependencies().is_empty() {
            // A Cloud Run service named by value: its name is only unique within its
            // project and location.
            let part = |k: &str| resource.inputs.get(k).map(describe).unwrap_or_default();
            let name = format!(
                "{}/{}/{}",
                part("project"),
                part("location"),
                describe(value)
            );
            return ResourceId::new(kind, name);
        }
        return target_of(value, kind);
    }
    resource.id.clone()
}

/// The resource `value` names: the one resource it refers to, else a resource of type
/// `kind` named by the value's description.
fn target_of(value: &Value, kind: &str) -> ResourceId {
    match value.dependencies().as_slice() {
        [only] => only.clone(),
        _ => ResourceId::new(kind, describe(value)),
    }
}

/// The items of a list, also inside `$sortedmembers` or a secret.
fn list_items(value: &Value) -> Vec<&Value> {
    match value {
        Value::List(items) | Value::Function(Function::SortedMembers(items)) => {
            items.iter().collect()
        }
        Value::Secret(inner) => list_items(inner),
        other => vec![other],
    }
}

/// The version of the JSON format of a list of access (`deploy access --json`).
pub const ACCESS_FORMAT_VERSION: u64 = 1;

/// `entries` as a JSON document: `{"format_version": 1, "access": [...]}`.
pub fn to_json(entries: &[Access]) -> serde_json::Value {
    serde_json::json!({ "format_version": ACCESS_FORMAT_VERSION, "access": entries })
}

/// Writes [`to_json`] of the entries `entries` makes as pretty JSON and a newline
/// to `out`, byte for byte as `serde_json::to_string_pretty` prints it, making one
/// entry's JSON at a time rather than the whole document (`entries` is called
/// once; it may make them as they are asked for, as
/// [`AccessGraph::each_effective`] does).
pub fn write_json<I>(entries: impl Fn() -> I, out: &mut impl std::io::Write) -> std::io::Result<()>
where
    I: Iterator,
    I::Item: Serialize,
{
    /// The document's keys in the sorted order a JSON value keeps them in.
    #[derive(Serialize)]
    struct Document<L> {
        access: L,
        format_version: u64,
    }
    crate::stream::write_json_pretty(
        out,
        &Document {
            access: crate::stream::Each(|| {
                entries().map(|entry| serde_json::to_value(entry).unwrap_or_default())
            }),
            format_version: ACCESS_FORMAT_VERSION,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use gcp::GROUP;
    use kinds::GROUP_MEMBERSHIP as MEMBERSHIP;

    fn group(graph: &mut Graph, name: &str, email: &str) -> ResourceId {
        graph
            .declare(
                Resource::new(GROUP, name)
                    .input("groupKey", Value::map([("id", Value::from(email))])),
            )
            .expect("group")
    }

    fn member(graph: &mut Graph, name: &str, group: &ResourceId, member: Value) {
        graph
            .declare(
                Resource::new(MEMBERSHIP, name)
                    .input("group_key", Value::output(group, "id"))
                    .input("member_key", member),
            )
            .expect("membership");
    }

    /// person → analysis → web, analysis reads a bucket, web reads another; the
    /// person is also named by the web group's email in another membership.
    fn nested() -> Graph {
        let mut graph = Graph::new();
        let analysis = group(&mut graph, "ds-analysis", "ds-analysis@example.org");
        let web = group(&mut graph, "ds-web", "DS-Web@example.org");
        let bucket = graph
            .declare(Resource::new("gcp:storage/bucket:Bucket", "ds-main").input("name", "ds-main"))
            .expect("bucket");
        member(
            &mut graph,
            "person-in-analysis",
            &analysis,
            Value::from("Ann@Example.org"),
        );
        member(
            &mut graph,
            "analysis-in-web",
            &web,
            Value::output(&analysis, "groupKey.id"),
        );
        graph
            .declare(
                Resource::new(
                    "gcp:storage/bucketIAMMember:BucketIAMMember",
                    "web-reads-main",
                )
                .input("bucket", Value::output(&bucket, "name"))
                .input("role", "roles/storage.objectViewer")
                .input("member", "group:ds-web@example.org"),
            )
            .expect("grant");
        graph
            .declare(
                Resource::new("gcp:storage/bucketIAMMember:BucketIAMMember", "ext-reads")
                    .input("bucket", "other-bucket")
                    .input("role", "roles/storage.objectViewer")
                    .input(
                        "member",
                        Value::concat([
                            Value::from("group:"),
                            Value::output(&analysis, "groupKey.id"),
                        ]),
                    ),
            )
            .expect("grant");
        graph
    }

    #[test]
    fn nested_groups_pass_their_grants_on_with_the_chain() {
        let access = AccessGraph::from_graph(&nested());
        let ann = access.principal_named("user:ann@example.org");
        assert_eq!(ann, Principal::Id("ann@example.org".into()));
        let reached = access.access_of(&ann);
        let summary: Vec<(String, String, Vec<String>)> = reached
            .iter()
            .map(|a| {
                (
                    a.resource.to_string(),
                    a.role.clone(),
                    a.chain.iter().map(|p| access.label(p)).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "gcp:cloudidentity/group:Group::ds-analysis".to_owned(),
                    "member".to_owned(),
                    vec!["ann@example.org".to_owned()]
                ),
                (
                    "gcp:cloudidentity/group:Group::ds-web".into(),
                    "member".into(),
                    vec!["ann@example.org".into(), "ds-analysis@example.org".into()]
                ),
                (
                    "gcp:storage/bucket:Bucket::ds-main".into(),
                    "roles/storage.objectViewer".into(),
                    vec![
                        "ann@example.org".into(),
                        "ds-analysis@example.org".into(),
                        "DS-Web@example.org".into()
                    ]
                ),
                (
                    "gcp:storage/bucket:Bucket::other-bucket".into(),
                    "roles/storage.objectViewer".into(),
                    vec!["ann@example.org".into(), "ds-analysis@example.org".into()]
                ),
            ]
        );
        assert_eq!(access.principals(), BTreeSet::from([ann]));
    }

    #[test]
    fn azure_group_members_and_role_assignments_are_read() {
        let mut graph = Graph::new();
        let group = graph
            .declare(
                Resource::new("azuread:index/group:Group", "ds-analysis-group")
                    .input("displayName", "ds-analysis"),
            )
            .expect("group");
        graph
            .declare(
                Resource::new("azuread:index/groupMember:GroupMember", "ann-in-analysis")
                    .input("groupObjectId", Value::output(&group, "id"))
                    .input("memberObjectId", "0000-ann"),
            )
            .expect("member");
        let container = graph
            .declare(Resource::new(
                "azure-native:storage:BlobContainer",
                "ds-main",
            ))
            .expect("container");
        let reader = "/providers/Microsoft.Authorization/roleDefinitions/reader";
        graph
            .declare(
                Resource::new(
                    "azure-native:authorization:RoleAssignment",
                    "ds-analysis-main-reader",
                )
                .input("principalId", Value::output(&group, "id"))
                .input("roleDefinitionId", reader)
                .input("scope", Value::output(&container, "id")),
            )
            .expect("assignment");
        let access = AccessGraph::from_graph(&graph);
        let ann = Principal::Id("0000-ann".into());
        let reached: Vec<(String, String, usize)> = access
            .access_of(&ann)
            .iter()
            .map(|a| (a.resource.to_string(), a.role.clone(), a.chain.len()))
            .collect();
        assert_eq!(
            reached,
            [
                (
                    "azure-native:storage:BlobContainer::ds-main".to_owned(),
                    reader.to_owned(),
                    2
                ),
                (
                    "azuread:index/group:Group::ds-analysis-group".to_owned(),
                    MEMBER_ROLE.to_owned(),
                    1
                ),
            ]
        );
    }

    #[test]
    fn who_reaches_a_bucket_lists_people_not_groups() {
        let access = AccessGraph::from_graph(&nested());
        let bucket = ResourceId::new("gcp:storage/bucket:Bucket", "ds-main");
        let who: Vec<String> = access
            .who_reaches(&bucket)
            .iter()
            .map(|a| a.principal.to_string())
            .collect();
        assert_eq!(who, ["ann@example.org"]);
    }

    #[test]
    fn a_cycle_of_groups_ends_the_walk() {
        let mut graph = Graph::new();
        let a = group(&mut graph, "a", "a@x");
        let b = group(&mut graph, "b", "b@x");
        member(&mut graph, "a-in-b", &b, Value::output(&a, "groupKey.id"));
        member(&mut graph, "b-in-a", &a, Value::output(&b, "groupKey.id"));
        member(&mut graph, "p-in-a", &a, Value::from("p@x"));
        let access = AccessGraph::from_graph(&graph);
        let reached = access.access_of(&Principal::Id("p@x".into()));
        assert_eq!(reached.len(), 2);
        assert_eq!(reached[1].chain.len(), 2);
    }

    #[test]
    fn bindings_metamist_lists_and_hail_memberships_are_grants() {
        let mut graph = Graph::new();
        let project = graph
            .declare(Resource::new("cpg:metamist:Project", "mp").input("project_name", "ds"))
            .expect("project");
        graph
            .declare(
                Resource::new("cpg:metamist:ProjectMembers", "mm")
                    .input("project_name", Value::output(&project, "project_name"))
                    .input(
                        "read_members",
                        Value::Function(Function::SortedMembers(vec![Value::from("R@x")])),
                    ),
            )
            .expect("members");
        graph
            .declare(
                Resource::new("gcp:projects/iAMBinding:IAMBinding", "binding")
                    .input("project", "some-project")
                    .input("role", "roles/viewer")
                    .input("members", Value::strings(["user:r@x", "user:s@x"])),
            )
            .expect("binding");
        graph
            .declare(
                Resource::new("cpg:hail:BillingProjectMembership", "hm")
                    .input("billing_project", "ds")
                    .input("user", "rusername"),
            )
            .expect("hail");
        let access = AccessGraph::from_graph(&graph);
        let roles: Vec<String> = access
            .effective()
            .iter()
            .map(|a| format!("{} {} {}", a.principal, a.role, a.resource))
            .collect();
        assert_eq!(
            roles,
            [
                "r@x metamist-read cpg:metamist:Project::mp",
                "r@x roles/viewer gcp:organizations/project:Project::some-project",
                "rusername hail-billing-project-member cpg:hail:BillingProject::ds",
                "s@x roles/viewer gcp:organizations/project:Project::some-project",
            ]
        );
    }

    /// An entitlement under the token pulumi-gcp registers (lower-case kind), as the
    /// GCP cloud declares it: its eligible principals may request the access.
    #[test]
    fn entitlement_requesters_are_read_from_the_token_the_cloud_declares() {
        let mut graph = Graph::new();
        let entitlement = graph
            .declare(Resource::new(gcp::ENTITLEMENT, "ds-read").input(
                "eligibleUsers",
                Value::List(vec![Value::map([(
                    "principals",
                    Value::strings(["user:Ann@x.org"]),
                )])]),
            ))
            .expect("entitlement");
        let access = AccessGraph::from_graph(&graph);
        let requesters: Vec<String> = access
            .who_reaches(&entitlement)
            .iter()
            .map(|a| format!("{} {}", a.principal, a.role))
            .collect();
        assert_eq!(requesters, ["ann@x.org entitlement-requester"]);
    }

    /// ds-read holds ann directly and the analysis group (bob); the metamist list
    /// names both, the Hail billing project bob's username.
    fn derived() -> Graph {
        let mut graph = Graph::new();
        let read = group(&mut graph, "ds-sample-metadata-main-read", "ds-read@x");
        let analysis = group(&mut graph, "ds-analysis", "ds-analysis@x");
        member(&mut graph, "ann-in-read", &read, Value::from("ann@x"));
        member(
            &mut graph,
            "bob-in-analysis",
            &analysis,
            Value::from("bob@x"),
        );
        member(
            &mut graph,
            "analysis-in-read",
            &read,
            Value::output(&analysis, "groupKey.id"),
        );
        let project = graph
            .declare(Resource::new(kinds::METAMIST_PROJECT, "mp").input("project_name", "ds"))
            .expect("project");
        graph
            .declare(
                Resource::new(kinds::METAMIST_PROJECT_MEMBERS, "ds-metamist-members")
                    .input("project_name", Value::output(&project, "project_name"))
                    .input("read_members", Value::strings(["ann@x", "bob@x"])),
            )
            .expect("members");
        let billing = graph
            .declare(Resource::new(
                kinds::HAIL_BILLING_PROJECT,
                "ds-gcp-batch-billing-project",
            ))
            .expect("billing project");
        for user in ["bobhail", "billing-aggregator"] {
            graph
                .declare(
                    Resource::new(
                        kinds::HAIL_BILLING_PROJECT_MEMBERSHIP,
                        format!("ds-gcp-{user}"),
                    )
                    .input("billing_project", Value::output(&billing, "id"))
                    .input("user", user),
                )
                .expect("hail");
        }
        graph
    }

    fn chain_of(access: &AccessGraph, who: &str, role: &str) -> Vec<String> {
        let principal = access.principal_named(who);
        let found = access
            .access_of(&principal)
            .into_iter()
            .find(|a| a.role == role)
            .expect("the grant");
        found.chain.iter().map(|p| access.label(p)).collect()
    }

    #[test]
    fn metamist_grants_show_the_group_they_come_from() {
        let access = AccessGraph::from_graph(&derived());
        assert_eq!(
            chain_of(&access, "ann@x", "metamist-read"),
            ["ann@x", "ds-read@x"]
        );
        assert_eq!(
            chain_of(&access, "bob@x", "metamist-read"),
            ["bob@x", "ds-analysis@x", "ds-read@x"]
        );
        // Without the config's names, a Hail username is held directly.
        assert_eq!(
            chain_of(&access, "bobhail", "hail-billing-project-member"),
            ["bobhail"]
        );
    }

    #[test]
    fn hail_grants_go_through_the_person_and_their_group() {
        let names = Names::from_identities([("bob", "bob@x", Some("bobhail"))]);
        let access = AccessGraph::with_names(&derived(), names);
        assert_eq!(
            chain_of(&access, "bobhail", "hail-billing-project-member"),
            ["bob (bobhail)", "bob (bob@x)", "ds-analysis@x"]
        );
        // The aggregator is no one's username: held directly.
        assert_eq!(
            chain_of(&access, "billing-aggregator", "hail-billing-project-member"),
            ["billing-aggregator"]
        );
        let bob = access.principal_named("bob@x");
        let entry = &access.access_of(&bob)[0];
        assert_eq!(entry.user.as_deref(), Some("bob"));
        assert_eq!(access.label(&bob), "bob (bob@x)");
        assert_eq!(access.label(&Principal::Id("ann@x".into())), "ann@x");
    }

    #[test]
    fn azure_groups_by_display_name_and_built_in_roles_by_name() {
        let mut graph = Graph::new();
        let group = graph
            .declare(
                Resource::new(azure::GROUP, "ds-analysis-group")
                    .input("displayName", "ds-analysis"),
            )
            .expect("group");
        let reader = cpg_infra_azure::roles::definition(cpg_infra_azure::roles::BLOB_READER);
        let unknown = "/providers/Microsoft.Authorization/roleDefinitions/2acaf3ab-0000-4000-8000-000000000000";
        for (name, role) in [("reads", reader.as_str()), ("other", unknown)] {
            graph
                .declare(
                    Resource::new(azure::ROLE_ASSIGNMENT, name)
                        .input("principalId", Value::output(&group, "id"))
                        .input("roleDefinitionId", role),
                )
                .expect("assignment");
        }
        graph
            .declare(
                Resource::new(azure::GROUP_MEMBER, "ann-in-analysis")
                    .input("groupObjectId", Value::output(&group, "id"))
                    .input("memberObjectId", "3F2C7A10-5B1E-4C8D-9A0F-6E4D2B1C0A01"),
            )
            .expect("member");
        let names = Names::from_identities([("ann", "3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01", None)]);
        let access = AccessGraph::with_names(&graph, names);
        let ann = Principal::Id("3F2C7A10-5B1E-4C8D-9A0F-6E4D2B1C0A01".into());
        assert_eq!(
            access.label(&ann),
            "ann (3F2C7A10-5B1E-4C8D-9A0F-6E4D2B1C0A01)"
        );
        assert_eq!(
            access.label(&Principal::Resource(group.clone())),
            "ds-analysis"
        );
        let roles: Vec<(String, Option<String>)> = access
            .access_of(&ann)
            .into_iter()
            .filter(|a| a.role != MEMBER_ROLE)
            .map(|a| (a.role, a.role_name))
            .collect();
        assert_eq!(
            roles,
            [
                (unknown.to_owned(), None),
                (reader, Some("Storage Blob Data Reader".to_owned())),
            ]
        );
    }
}
