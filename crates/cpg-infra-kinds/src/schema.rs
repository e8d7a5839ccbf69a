//! The seven `cpg:` resource kinds as data: their properties, what a change to each
//! input means, and the Pulumi package schema built from them.

use serde_json::{Map, Value, json};

use crate::{
    GROUP_MEMBERSHIP, GROUP_SETTINGS, HAIL_BILLING_PROJECT, HAIL_BILLING_PROJECT_MEMBERSHIP,
    HAIL_USER, METAMIST_PROJECT, METAMIST_PROJECT_MEMBERS, PACKAGE, PROVIDER_VERSION,
};

/// Default root of the Cloud Identity API.
pub const DEFAULT_CLOUD_IDENTITY: &str = "https://cloudidentity.googleapis.com/";
/// Default root of the Groups Settings API.
pub const DEFAULT_GROUPS_SETTINGS: &str = "https://www.googleapis.com/";
/// Default root of metamist: the reference organisation's deployment.
pub const DEFAULT_METAMIST: &str = "https://sample-metadata.populationgenomics.org.au/";

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

/// The `cpg:` resource kinds, which `pulumi-resource-cpg` serves.
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

/// Every kind, in the order of the table in `docs/provider.md`.
pub const SPECS: [Spec; 7] = [
    Spec {
        kind: Kind::GroupMembership,
        token: GROUP_MEMBERSHIP,
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
        token: GROUP_SETTINGS,
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
        token: HAIL_USER,
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
        token: HAIL_BILLING_PROJECT,
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
        token: HAIL_BILLING_PROJECT_MEMBERSHIP,
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
        token: METAMIST_PROJECT,
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
        token: METAMIST_PROJECT_MEMBERS,
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

    /// The kind that replaces the reference's dynamic provider class `class` (its
    /// bare name, such as `HailBatchUserProvider`).
    pub fn from_reference_class(class: &str) -> Option<Self> {
        SPECS
            .iter()
            .find(|s| s.reference_class() == class)
            .map(|s| s.kind)
    }

    /// The kind's description.
    pub fn spec(self) -> &'static Spec {
        // SPECS lists every kind once, in declaration order.
        &SPECS[self as usize]
    }
}

impl Spec {
    /// The kind's input properties, in order.
    pub fn inputs(&self) -> impl Iterator<Item = &'static Prop> + use<> {
        self.props.iter().filter(|p| p.input)
    }

    /// The kind's output-only properties, in order.
    pub fn outputs(&self) -> impl Iterator<Item = &'static Prop> + use<> {
        self.props.iter().filter(|p| !p.input)
    }

    /// The bare name of the reference's dynamic provider class, such as
    /// `HailBatchUserProvider`.
    pub fn reference_class(&self) -> &'static str {
        let path = self.reference_provider;
        path.rsplit('.').next().unwrap_or(path)
    }
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

/// The Pulumi package schema of `pulumi-resource-cpg`: what its `GetSchema` serves.
pub fn schema() -> Value {
    let mut resources = Map::new();
    for spec in &SPECS {
        let all: Map<String, Value> = spec
            .props
            .iter()
            .map(|p| (p.name.to_string(), prop_schema(p)))
            .collect();
        let inputs: Map<String, Value> = spec
            .inputs()
            .map(|p| (p.name.to_string(), prop_schema(p)))
            .collect();
        let mut required: Vec<&str> = spec.props.iter().map(|p| p.name).collect();
        required.sort_unstable();
        let mut required_inputs: Vec<&str> = spec.inputs().map(|p| p.name).collect();
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
        "name": PACKAGE,
        "displayName": "cpg-infra",
        "version": PROVIDER_VERSION,
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

    #[test]
    fn specs_are_indexed_by_kind() {
        for spec in &SPECS {
            assert_eq!(spec.kind.spec().token, spec.token);
            assert_eq!(Kind::from_token(spec.token), Some(spec.kind));
            assert_eq!(
                Kind::from_reference_class(spec.reference_class()),
                Some(spec.kind)
            );
        }
        assert_eq!(
            Kind::from_reference_class("HailBatchUserProvider"),
            Some(Kind::HailUser)
        );
        assert_eq!(Kind::from_reference_class("cpg_infra"), None);
    }

    #[test]
    fn kind_from_urn_with_parent_types() {
        let urn = "urn:pulumi:test::cpg::pulumi:pulumi:Stack$cpg:google:GroupMembership::a::b";
        assert_eq!(Kind::from_urn(urn), Some(Kind::GroupMembership));
        assert_eq!(Kind::from_urn("urn:pulumi:test::cpg::gcp:x:Y::a"), None);
    }

    #[test]
    fn every_kind_is_in_the_cpg_package_once() {
        for (i, spec) in SPECS.iter().enumerate() {
            let token = spec.token;
            assert_eq!(token.split(':').next(), Some(PACKAGE), "{token}");
            assert_eq!(token.split(':').count(), 3, "{token}");
            assert!(
                !SPECS[..i].iter().any(|s| s.token == token),
                "{token} listed twice"
            );
        }
    }

    #[test]
    fn the_schema_names_the_package_its_version_and_every_kind() {
        let schema = schema();
        assert_eq!(schema["name"], PACKAGE);
        assert_eq!(schema["version"], PROVIDER_VERSION);
        let tokens: Vec<&str> = schema["resources"]
            .as_object()
            .map(|r| r.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut expected: Vec<&str> = SPECS.iter().map(|s| s.token).collect();
        expected.sort_unstable();
        assert_eq!(tokens, expected);
        assert!(schema_text().ends_with("}\n"));
    }
}
