//! The resource options pulumi-gcp's SDK adds to its resources, so the plan sends
//! what the reference's SDK sent: for this crate's resources and the plugins'.

use cpg_infra::graph::{Alias, Resource, ResourceOptions};

use crate::tokens;

/// The options pulumi-gcp's SDK adds to resources of `type_token`: the outputs it
/// keeps secret, and the aliases to the tokens it registered the type under before.
///
/// ```
/// use cpg_infra_gcp::{sdk_options, tokens};
///
/// let options = sdk_options(tokens::SECRET_VERSION);
/// assert_eq!(options.additional_secret_outputs, ["secretData"]);
/// assert!(sdk_options(tokens::SERVICE).aliases.is_empty());
/// ```
pub fn sdk_options(type_token: &str) -> ResourceOptions {
    let secret_outputs = |outputs: &[&str]| outputs.iter().map(|s| (*s).to_owned()).collect();
    let renamed = |old: &str| Alias {
        type_token: Some(old.to_owned()),
        ..Alias::default()
    };
    match type_token {
        tokens::PROJECT
        | tokens::BUCKET
        | tokens::REPOSITORY
        | tokens::SECRET
        | tokens::FUNCTION
        | tokens::DATASET
        | tokens::TABLE
        | tokens::TOPIC
        | tokens::SUBSCRIPTION => ResourceOptions {
            additional_secret_outputs: secret_outputs(&["effectiveLabels", "pulumiLabels"]),
            ..ResourceOptions::default()
        },
        tokens::BUCKET_OBJECT => ResourceOptions {
            additional_secret_outputs: secret_outputs(&["content", "customerEncryption"]),
            ..ResourceOptions::default()
        },
        tokens::SECRET_VERSION => ResourceOptions {
            additional_secret_outputs: secret_outputs(&["secretData"]),
            ..ResourceOptions::default()
        },
        tokens::SERVICE_ACCOUNT => ResourceOptions {
            aliases: vec![renamed("gcp:serviceAccount/account:Account")],
            ..ResourceOptions::default()
        },
        tokens::SERVICE_ACCOUNT_IAM_MEMBER => ResourceOptions {
            aliases: vec![renamed("gcp:serviceAccount/iAMMember:IAMMember")],
            ..ResourceOptions::default()
        },
        tokens::SERVICE_ACCOUNT_KEY => ResourceOptions {
            additional_secret_outputs: secret_outputs(&["privateKey"]),
            aliases: vec![renamed("gcp:serviceAccount/key:Key")],
            ..ResourceOptions::default()
        },
        _ => ResourceOptions::default(),
    }
}

/// A resource of `type_token` with the SDK's options for it.
pub fn resource(type_token: &str, name: impl AsRef<str>) -> Resource {
    Resource::new(type_token, name).options(sdk_options(type_token))
}
