//! Identities and names: no control characters anywhere a name or identity is
//! given, a GCP identity is an email and never a public principal (`allUsers`,
//! `allAuthenticatedUsers`, `domain:…`, `projectOwner:…`), an Azure object id is a
//! GUID, and a path to payload stays inside the config directory.
//!
//! A principal that stands for the whole internet or a whole domain, given where a
//! person or an account is expected, would grant that access to everyone it stands
//! for without anyone noticing in review: it is an error.

use serde_json::Value as Json;

use super::{Context, Findings, path};
use crate::config::diagnostic::Problem;
use crate::config::dir::check_relative;
use crate::config::source::{KeyPath, Segment};

/// Keys whose values are free text, where a line break or tab is allowed (other
/// control characters are refused there too).
const FREE_TEXT_KEYS: [&str; 2] = ["description", "default_parameters"];

/// GCP's special principals, lower-cased, that stand for many people at once.
const PUBLIC_PRINCIPALS: [&str; 2] = ["allusers", "allauthenticatedusers"];

/// Prefixes of GCP principals that stand for a group of people by a rule (a whole
/// domain, a project's owners, a principal set), lower-cased.
const RULE_PRINCIPAL_PREFIXES: [&str; 6] = [
    "domain:",
    "projectowner:",
    "projecteditor:",
    "projectviewer:",
    "principalset:",
    "principal:",
];

/// The config keys that name a path to payload, relative to the config directory.
const SOURCE_DIRS: [[&str; 3]; 2] = [
    ["billing", "aggregator", "sources_dir"],
    ["metamist", "etl", "sources_dir"],
];

pub(super) fn check(cx: &Context<'_>, findings: &mut Findings) {
    let infra = serde_json::to_value(cx.infra).unwrap_or(Json::Null);
    walk(&infra, &mut KeyPath::root(), &mut |at, problem| {
        findings.infra(at, problem);
    });
    for dataset in cx.datasets {
        let json = serde_json::to_value(dataset).unwrap_or(Json::Null);
        walk(&json, &mut KeyPath::root(), &mut |at, problem| {
            findings.dataset(&dataset.dataset, at, problem);
        });
    }
    for keys in SOURCE_DIRS {
        let Some(dir) = lookup(&infra, &keys).and_then(Json::as_str) else {
            continue;
        };
        if let Err(error) = check_relative(std::path::Path::new(dir)) {
            findings.infra(
                path(&keys),
                Problem::Rule {
                    message: format!(
                        "{dir:?}: {}; payload is read from inside the config directory only",
                        error.reason()
                    ),
                },
            );
        }
    }
}

fn lookup<'a>(json: &'a Json, keys: &[&str]) -> Option<&'a Json> {
    keys.iter().try_fold(json, |at, key| at.get(key))
}

/// Checks every key and string of `json`, and the identities among them by where
/// they are.
fn walk(json: &Json, at: &mut KeyPath, report: &mut dyn FnMut(KeyPath, Problem)) {
    match json {
        Json::Object(entries) => {
            for (key, value) in entries {
                at.0.push(Segment::Key(key.clone()));
                if let Some(message) = control_problem(key, false) {
                    report(at.clone(), Problem::Rule { message });
                }
                walk(value, at, report);
                at.0.pop();
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.0.push(Segment::Index(i));
                walk(item, at, report);
                at.0.pop();
            }
        }
        Json::String(text) => {
            let free = at.0.iter().any(|segment| {
                matches!(segment, Segment::Key(key) if FREE_TEXT_KEYS.contains(&key.as_str()))
            });
            if let Some(message) = control_problem(text, free) {
                report(at.clone(), Problem::Rule { message });
            } else if let Some(message) = identity_problem(at, text) {
                report(at.clone(), Problem::Rule { message });
            }
        }
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}

/// What kind of identity the value at `at` is, by its key path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    /// A GCP person or account: an email.
    Gcp,
    /// An Azure AD object id: a GUID.
    AzureObject,
}

fn identity_at(at: &KeyPath) -> Option<Identity> {
    let keys: Vec<&str> =
        at.0.iter()
            .filter_map(|segment| match segment {
                Segment::Key(key) => Some(key.as_str()),
                Segment::Index(_) => None,
            })
            .collect();
    match keys.as_slice() {
        ["users", _, "clouds", "gcp", "id"] => Some(Identity::Gcp),
        ["users", _, "clouds", "azure", "id"] => Some(Identity::AzureObject),
        ["sm_read_only_sas" | "sm_read_write_sas"] => Some(Identity::Gcp),
        [.., last]
            if last.ends_with("_account") || last.starts_with("deployment_service_account_") =>
        {
            Some(Identity::Gcp)
        }
        _ => None,
    }
}

fn identity_problem(at: &KeyPath, id: &str) -> Option<String> {
    match identity_at(at)? {
        Identity::Gcp => gcp_identity_problem(id),
        Identity::AzureObject => (!is_guid(id)).then(|| {
            format!(
                "{id:?} is not an Azure AD object id: a GUID such as \
                 3f2c7a10-5b1e-4c8d-9a0f-6e4d2b1c0a01"
            )
        }),
    }
}

/// What is wrong with `text` as a name or identity: a control character, or (in
/// free text) one other than a line break or tab; also the characters that turn
/// text around on screen (bidirectional overrides), which hide what a reviewer reads.
pub(crate) fn control_problem(text: &str, free_text: bool) -> Option<String> {
    let bad = text.chars().find(|&c| {
        let allowed_in_text = matches!(c, '\n' | '\t' | '\r');
        (c.is_control() && !(free_text && allowed_in_text)) || is_bidi_control(c)
    })?;
    Some(format!(
        "{text:?} holds the control character U+{:04X}; names and identities may not",
        u32::from(bad)
    ))
}

/// Unicode's bidirectional embedding, override and isolate characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// What is wrong with `id` where GCP expects one person or account: a public or
/// rule principal, a `kind:` prefix, or anything that is not an email.
pub(crate) fn gcp_identity_problem(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    if PUBLIC_PRINCIPALS.contains(&lower.as_str()) {
        return Some(format!(
            "{id:?} is everyone on the internet{}, not a person or account: \
             it would make what it is given public",
            if lower == "allusers" {
                ""
            } else {
                " with a Google account"
            }
        ));
    }
    if let Some(prefix) = RULE_PRINCIPAL_PREFIXES
        .iter()
        .find(|p| lower.starts_with(*p))
    {
        return Some(format!(
            "{id:?} is a {} principal that stands for many people, not a person or account",
            prefix.trim_end_matches(':')
        ));
    }
    if let Some((kind, _)) = id.split_once(':') {
        return Some(format!(
            "{id:?} has a {kind:?} prefix: give the account's email alone"
        ));
    }
    (!is_email(id)).then(|| format!("{id:?} is not an email, as a GCP person or account is"))
}

/// Whether `text` looks like an email: one `@`, a local part of the characters
/// email allows without quoting, and a domain of at least two labels of letters,
/// digits and hyphens.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// Whether `text` is a GUID: 8-4-4-4-12 hexadecimal digits.
fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_guids_have_their_shape() {
        assert!(is_email("alice.smith@populationgenomics.org.au"));
        assert!(is_email(
            "uploader@partner-project-123.iam.gserviceaccount.com"
        ));
        for bad in [
            "alice", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@-b.c", "a@b..c",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_guid("f1942216-c3a9-5762-8a37-3207e9958d87"));
        assert!(!is_guid("f1942216c3a957628a373207e9958d87"));
        assert!(!is_guid("alice@example.org"));
    }

    #[test]
    fn public_principals_are_never_a_person() {
        for public in [
            "allUsers",
            "allAuthenticatedUsers",
            "ALLUSERS",
            "domain:gmail.com",
            "projectOwner:my-project",
            "projectViewer:my-project",
            "principalSet://iam.googleapis.com/x/*",
            "user:alice@example.org",
        ] {
            assert!(gcp_identity_problem(public).is_some(), "{public}");
        }
        assert_eq!(gcp_identity_problem("alice@example.org"), None);
    }

    #[test]
    fn control_characters_are_refused_and_free_text_keeps_its_lines() {
        assert!(control_problem("alice\n@example.org", false).is_some());
        assert!(control_problem("a\u{1b}[31m", false).is_some());
        assert!(control_problem("a\u{0}", false).is_some());
        assert!(control_problem("abc\u{202e}fed", false).is_some());
        assert_eq!(control_problem("line one\nline two", true), None);
        assert!(control_problem("bell\u{7}", true).is_some());
        assert_eq!(control_problem("plain", false), None);
    }
}
