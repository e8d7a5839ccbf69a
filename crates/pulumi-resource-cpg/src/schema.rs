//! The seven `cpg:` resource kinds as data: their properties, how a change to each is
//! applied, and the Pulumi package schema built from them.

use serde_json::{Map, Value, json};

use crate::config::{DEFAULT_CLOUD_IDENTITY, DEFAULT_GROUPS_SETTINGS, DEFAULT_METAMIST};
use crate::props::is_unknown;

/// A property's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A string.
    String,
    /// An integer.
    Integer,
    /// A list of strings.
    StringList,
    /// A map of strings to strings.
    StringMap,
}

/// What a change of an input property means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// The resource is replaced.
    Replace,
    /// The resource is updated in place.
    Update,
}

/// How old and new values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Equal JSON.
    Exact,
    /// Strings equal ignoring ASCII case (emails).
    IgnoreCase,
    /// Lists equal as sets, ignoring ASCII case (member lists).
    IgnoreCaseSet,
}

/// What an input string must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Any non-empty string.
    Any,
    /// A Cloud Identity group resource name, `groups/<id>`.
    GroupName,
    /// An `http://` or `https://` URL.
    Url,
    /// A Hail Batch billing project id, `<token category>::<batch url>::<name>`.
    BillingProjectId,
}

/// One property of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    /// The wire name (the reference's snake_case).
    pub name: &'static str,
    /// Its type.
    pub ty: Type,
    /// Whether it is an input (every property is an output).
    pub input: bool,
    /// What a change means (inputs only).
    pub on_change: OnChange,
    /// How values are compared.
    pub compare: Compare,
    /// What an input string must look like.
    pub format: Format,
    /// Its description in the schema.
    pub description: &'static str,
}

const fn input(name: &'static str, on_change: OnChange, description: &'static str) -> Prop {
    Prop {
        name,
        ty: Type::String,
        input: true,
        on_change,
        compare: Compare::Exact,
        format: Format::Any,
        description,
    }
}

const fn output(name: &'static str, ty: Type, description: &'static str) -> Prop {
    Prop {
        name,
        ty,
        input: false,
        on_change: OnChange::Update,
        compare: Compare::Exact,
        format: Format::Any,
        description,
    }
}

/// The resource kinds this provider serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `cpg:google:GroupMembership`
    GroupMembership,
    /// `cpg:google:GroupSettings`
    GroupSettings,
    /// `cpg:hail:User`
    HailUser,
    /// `cpg:hail:BillingProject`
    HailBillingProject,
    /// `cpg:hail:BillingProjectMembership`
    HailBillingProjectMembership,
    /// `cpg:metamist:Project`
    MetamistProject,
    /// `cpg:metamist:ProjectMembers`
    MetamistProjectMembers,
}

/// A kind's description.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The kind.
    pub kind: Kind,
    /// Its type token.
    pub token: &'static str,
    /// The reference's Python dynamic provider class it replaces.
    pub reference_provider: &'static str,
    /// Its description in the schema.
    pub description: &'static str,
    /// Its properties.
    pub props: &'static [Prop],
    /// Whether a replacement deletes the old resource before creating the new one.
    pub delete_before_replace: bool,
}

const EMAIL_MEMBER: Prop = Prop {
    compare: Compare::IgnoreCase,
    ..input(
        "member_key",
        OnChange::Replace,
        "The member's email address (compared without regard to case).",
    )
};

const MEMBER_LIST: Prop = Prop {
    ty: Type::StringList,
    compare: Compare::IgnoreCaseSet,
    ..input("", OnChange::Update, "")
};

/// Every kind, in the order of the README's table.
pub const SPECS: [Spec; 7] = [
    Spec {
        kind: Kind::GroupMembership,
        token: "cpg:google:GroupMembership",
        reference_provider: "cpg_infra.abstraction.google_group_membership.GoogleGroupMembershipProvider",
        description: "A member of a Google group (Cloud Identity membership, role MEMBER). Creating a membership that exists adopts it. Id: the membership's resource name, `groups/<group>/memberships/<membership>`.",
        props: &[
            Prop {
                format: Format::GroupName,
                ..input(
                    "group_key",
                    OnChange::Replace,
                    "The group's resource name, `groups/<id>` (the `name` of a `gcp:cloudidentity/group:Group`).",
                )
            },
            EMAIL_MEMBER,
            output(
                "member_name",
                Type::String,
                "The membership's resource name, `groups/<group>/memberships/<membership>`.",
            ),
        ],
        delete_before_replace: false,
    },
    Spec {
        kind: Kind::GroupSettings,
        token: "cpg:google:GroupSettings",
        reference_provider: "cpg_infra.abstraction.google_group_settings.GoogleGroupSettingsProvider",
        description: "Settings of a Google group (Groups Settings API); only the keys given are managed. Deleting it changes nothing. Id: `google_group_settings::<group email>`.",
        props: &[
            Prop {
                compare: Compare::IgnoreCase,
                ..input(
                    "group_email",
                    OnChange::Replace,
                    "The group's email address.",
                )
            },
            Prop {
                ty: Type::StringMap,
                ..input(
                    "settings",
                    OnChange::Update,
                    "Groups Settings API keys and their values, e.g. `{\"allowExternalMembers\": \"true\"}`.",
                )
            },
        ],
        delete_before_replace: false,
    },
    Spec {
        kind: Kind::HailUser,
        token: "cpg:hail:User",
        reference_provider: "cpg_infra.abstraction.hailbatch.HailBatchUserProvider",
        description: "A Hail Batch service-account user. Creating one that exists adopts it; deleting one leaves it in place. Id: `<token category>::<batch url>::<username>`.",
        props: &[
            input("username", OnChange::Replace, "The Hail username."),
            Prop {
                format: Format::Url,
                ..input(
                    "batch_uri",
                    OnChange::Replace,
                    "The Hail auth service's URL.",
                )
            },
            input(
                "token_category",
                OnChange::Update,
                "Which Hail token to use: `HAIL_TOKEN_<CATEGORY>`, or this key of `~/.hail/tokens.json`.",
            ),
            output(
                "cloud_id",
                Type::String,
                "The user's cloud identity (`hail_identity`), e.g. a service account email.",
            ),
        ],
        delete_before_replace: false,
    },
    Spec {
        kind: Kind::HailBillingProject,
        token: "cpg:hail:BillingProject",
        reference_provider: "cpg_infra.abstraction.hailbatch.HailBatchBillingProjectProvider",
        description: "A Hail Batch billing project. Creating one that is closed reopens it; deleting one closes it. Id: `<token category>::<batch url>::<name>`.",
        props: &[
            input("name", OnChange::Replace, "The billing project's name."),
            Prop {
                format: Format::Url,
                ..input(
                    "batch_uri",
                    OnChange::Replace,
                    "The Hail Batch service's URL.",
                )
            },
            input(
                "token_category",
                OnChange::Update,
                "Which Hail token to use: `HAIL_TOKEN_<CATEGORY>`, or this key of `~/.hail/tokens.json`.",
            ),
        ],
        delete_before_replace: false,
    },
    Spec {
        kind: Kind::HailBillingProjectMembership,
        token: "cpg:hail:BillingProjectMembership",
        reference_provider: "cpg_infra.abstraction.hailbatch.HailBatchBillingProjectMembershipProvider",
        description: "A user of a Hail Batch billing project. Id: `<token category>::<batch url>::<billing project>::<user>`.",
        props: &[
            Prop {
                format: Format::BillingProjectId,
                ..input(
                    "billing_project",
                    OnChange::Replace,
                    "The billing project's id, `<token category>::<batch url>::<name>` (the id of a `cpg:hail:BillingProject`).",
                )
            },
            input("user", OnChange::Replace, "The Hail username."),
        ],
        delete_before_replace: true,
    },
    Spec {
        kind: Kind::MetamistProject,
        token: "cpg:metamist:Project",
        reference_provider: "cpg_infra.abstraction.metamist.MetamistProjectProvider",
        description: "A metamist project (its dataset has the same name). Creating one that exists adopts it; deleting one leaves it in place. Id: `metamist-project::<name>::<project id>`.",
        props: &[
            input("project_name", OnChange::Replace, "The project's name."),
            output("project_id", Type::Integer, "The project's numeric id."),
        ],
        delete_before_replace: true,
    },
    Spec {
        kind: Kind::MetamistProjectMembers,
        token: "cpg:metamist:ProjectMembers",
        reference_provider: "cpg_infra.abstraction.metamist.MetamistProjectMembersProvider",
        description: "The members of a metamist project and their roles (reader, writer, contributor), set as a whole; a change updates them in place. Deleting it leaves the members in place. Id: `metamist-project-members::<project name>`.",
        props: &[
            input("project_name", OnChange::Replace, "The project's name."),
            Prop {
                name: "read_members",
                description: "Members with the reader role.",
                ..MEMBER_LIST
            },
            Prop {
                name: "write_members",
                description: "Members with the writer role.",
                ..MEMBER_LIST
            },
            Prop {
                name: "contribute_members",
                description: "Members with the contributor role.",
                ..MEMBER_LIST
            },
        ],
        delete_before_replace: false,
    },
];

impl Kind {
    /// The kind of a type token.
    pub fn from_token(token: &str) -> Option<Self> {
        SPECS.iter().find(|s| s.token == token).map(|s| s.kind)
    }

    /// The kind named by a resource URN (`urn:pulumi:<stack>::<project>::<type>::<name>`,
    /// where the type may be qualified by its parents' types with `$`).
    pub fn from_urn(urn: &str) -> Option<Self> {
        let mut parts = urn.splitn(4, "::");
        let _stack = parts.next()?;
        let _project = parts.next()?;
        let qualified = parts.next()?;
        Self::from_token(qualified.rsplit('$').next()?)
    }

    /// The kind's description.
    pub fn spec(self) -> &'static Spec {
        // SPECS lists every kind once, in declaration order.
        &SPECS[self as usize]
    }
}

/// One problem with an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The property.
    pub property: String,
    /// What is wrong.
    pub reason: String,
}

impl Spec {
    /// Every problem with `news` as this kind's inputs. Unknown values (preview) pass.
    pub fn check(&self, news: &Map<String, Value>) -> Vec<Failure> {
        let mut failures = Vec::new();
        let mut fail = |property: &str, reason: String| {
            failures.push(Failure {
                property: property.into(),
                reason,
            });
        };
        for prop in self.props.iter().filter(|p| p.input) {
            let value = news.get(prop.name).unwrap_or(&Value::Null);
            if is_unknown(value) {
                continue;
            }
            match (prop.ty, value) {
                (_, Value::Null) => fail(prop.name, "is required".into()),
                (Type::String, Value::String(s)) => {
                    if let Err(reason) = check_format(prop.format, s) {
                        fail(prop.name, reason);
                    }
                }
                (Type::StringList, Value::Array(items)) if items.iter().all(Value::is_string) => {}
                (Type::StringMap, Value::Object(m)) if m.values().all(Value::is_string) => {}
                (Type::Integer, Value::Number(n)) if n.is_i64() => {}
                (ty, other) => fail(
                    prop.name,
                    format!("expected {}, found {other}", type_name(ty)),
                ),
            }
        }
        for key in news.keys() {
            if !self.props.iter().any(|p| p.input && p.name == key) {
                let known: Vec<&str> = self
                    .props
                    .iter()
                    .filter(|p| p.input)
                    .map(|p| p.name)
                    .collect();
                fail(
                    key,
                    format!("unknown input; the inputs are {}", known.join(", ")),
                );
            }
        }
        failures
    }

    /// Which inputs differ between `olds` and `news`, and what each change means.
    pub fn diff(&self, olds: &Map<String, Value>, news: &Map<String, Value>) -> Diff {
        let mut changes = Vec::new();
        for prop in self.props.iter().filter(|p| p.input) {
            let old = olds.get(prop.name).unwrap_or(&Value::Null);
            let new = news.get(prop.name).unwrap_or(&Value::Null);
            if is_unknown(new) || !same(prop.compare, old, new) {
                changes.push((prop.name, prop.on_change));
            }
        }
        Diff {
            delete_before_replace: self.delete_before_replace
                && changes.iter().any(|(_, c)| *c == OnChange::Replace),
            changes,
        }
    }
}

/// The outcome of [`Spec::diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Each changed input and what its change means, in the kind's property order.
    pub changes: Vec<(&'static str, OnChange)>,
    /// Whether the old resource goes before the new one is made.
    pub delete_before_replace: bool,
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Integer => "an integer",
        Type::StringList => "a list of strings",
        Type::StringMap => "a map of strings",
    }
}

fn check_format(format: Format, s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is empty".into());
    }
    let ok = match format {
        Format::Any => true,
        Format::GroupName => s
            .strip_prefix("groups/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/')),
        Format::Url => is_url(s),
        Format::BillingProjectId => {
            let parts: Vec<&str> = s.split("::").collect();
            parts.len() == 3 && !parts[0].is_empty() && is_url(parts[1]) && !parts[2].is_empty()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(match format {
            Format::GroupName => format!("{s:?} is not a group resource name, groups/<id>"),
            Format::Url => format!("{s:?} is not an http:// or https:// URL"),
            _ => {
                format!("{s:?} is not a billing project id, <token category>::<batch url>::<name>")
            }
        })
    }
}

fn is_url(s: &str) -> bool {
    s.strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .is_some_and(|rest| !rest.is_empty())
}

fn same(compare: Compare, old: &Value, new: &Value) -> bool {
    match (compare, old, new) {
        (Compare::IgnoreCase, Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Compare::IgnoreCaseSet, Value::Array(a), Value::Array(b)) => lower_set(a) == lower_set(b),
        _ => old == new,
    }
}

fn lower_set(items: &[Value]) -> std::collections::BTreeSet<String> {
    items
        .iter()
        .map(|v| {
            v.as_str()
                .map_or_else(|| v.to_string(), str::to_ascii_lowercase)
        })
        .collect()
}

fn prop_schema(p: &Prop) -> Value {
    let mut s = match p.ty {
        Type::String => json!({"type": "string"}),
        Type::Integer => json!({"type": "integer"}),
        Type::StringList => json!({"type": "array", "items": {"type": "string"}}),
        Type::StringMap => json!({"type": "object", "additionalProperties": {"type": "string"}}),
    };
    s["description"] = json!(p.description);
    if p.input && p.on_change == OnChange::Replace {
        s["replaceOnChanges"] = json!(true);
    }
    s
}

fn config_variables() -> Value {
    json!({
        "cloudIdentityEndpoint": {
            "type": "string",
            "description": "Root URL of the Cloud Identity API (requests go to v1/groups/{group}/memberships…).",
            "default": DEFAULT_CLOUD_IDENTITY,
        },
        "groupsSettingsEndpoint": {
            "type": "string",
            "description": "Root URL of the Groups Settings API (requests go to groups/v1/groups/{email}).",
            "default": DEFAULT_GROUPS_SETTINGS,
        },
        "metamistEndpoint": {
            "type": "string",
            "description": "Root URL of metamist (requests go to api/v1/project/…).",
            "default": DEFAULT_METAMIST,
        },
        "accessToken": {
            "type": "string",
            "secret": true,
            "description": "A bearer token for the Google APIs and metamist. Without it, Google application default credentials are used: GOOGLE_APPLICATION_CREDENTIALS, gcloud's application default credentials, or the metadata server.",
        },
    })
}

/// The Pulumi package schema of this provider.
pub fn schema() -> Value {
    let mut resources = Map::new();
    for spec in &SPECS {
        let all: Map<String, Value> = spec
            .props
            .iter()
            .map(|p| (p.name.to_string(), prop_schema(p)))
            .collect();
        let inputs: Map<String, Value> = spec
            .props
            .iter()
            .filter(|p| p.input)
            .map(|p| (p.name.to_string(), prop_schema(p)))
            .collect();
        let mut required: Vec<&str> = spec.props.iter().map(|p| p.name).collect();
        required.sort_unstable();
        let mut required_inputs: Vec<&str> = spec
            .props
            .iter()
            .filter(|p| p.input)
            .map(|p| p.name)
            .collect();
        required_inputs.sort_unstable();
        resources.insert(
            spec.token.into(),
            json!({
                "description": spec.description,
                "properties": all,
                "required": required,
                "inputProperties": inputs,
                "requiredInputs": required_inputs,
            }),
        );
    }
    let variables = config_variables();
    json!({
        "name": "cpg",
        "displayName": "cpg-infra",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "The resources cpg-infra declares that no published provider serves: Google group memberships and settings, Hail Batch users and billing projects, metamist projects and members.",
        "license": "MIT",
        "repository": "https://github.com/populationgenomics/cpg-infra",
        "meta": {"moduleFormat": "(.*)"},
        "config": {"variables": variables},
        "provider": {
            "description": "The cpg provider.",
            "inputProperties": variables,
        },
        "resources": resources,
    })
}

/// The schema as served by GetSchema and committed as `schema.json`.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn specs_are_indexed_by_kind() {
        for spec in &SPECS {
            assert_eq!(spec.kind.spec().token, spec.token);
            assert_eq!(Kind::from_token(spec.token), Some(spec.kind));
        }
    }

    #[test]
    fn kind_from_urn_with_parent_types() {
        let urn = "urn:pulumi:test::cpg::pulumi:pulumi:Stack$cpg:google:GroupMembership::a::b";
        assert_eq!(Kind::from_urn(urn), Some(Kind::GroupMembership));
        assert_eq!(Kind::from_urn("urn:pulumi:test::cpg::gcp:x:Y::a"), None);
    }

    #[test]
    fn check_reports_missing_wrong_and_unknown_inputs() {
        let spec = Kind::HailBillingProjectMembership.spec();
        let failures = spec.check(&obj(json!({
            "billing_project": "gcp::notaurl::common",
            "usr": "a",
        })));
        let props: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert_eq!(props, ["billing_project", "user", "usr"]);
    }

    #[test]
    fn member_key_case_is_no_change() {
        let spec = Kind::GroupMembership.spec();
        let olds = obj(json!({"group_key": "groups/a", "member_key": "A@x.org"}));
        let news = obj(json!({"group_key": "groups/a", "member_key": "a@X.org"}));
        assert!(spec.diff(&olds, &news).changes.is_empty());
    }

    #[test]
    fn metamist_members_update_in_place() {
        let spec = Kind::MetamistProjectMembers.spec();
        let olds = obj(
            json!({"project_name": "p", "read_members": ["a"], "write_members": [], "contribute_members": []}),
        );
        let news = obj(
            json!({"project_name": "p", "read_members": ["a", "b"], "write_members": [], "contribute_members": []}),
        );
        let d = spec.diff(&olds, &news);
        assert_eq!(d.changes, [("read_members", OnChange::Update)]);
        assert!(!d.delete_before_replace);
    }
}
