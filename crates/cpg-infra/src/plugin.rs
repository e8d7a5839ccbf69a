//! The plugin host: the lifecycle the driver runs plugins through, and what a plugin
//! may read and declare.
//!
//! A plugin mirrors the reference's `CpgInfrastructurePlugin`: the driver calls
//! [`Plugin::main`] once every dataset is built and before groups are finalised, and
//! [`Plugin::on_group_finalisation`] right after. Both get a [`PluginHost`]: the
//! configs, the resource graph (declare resources and stack exports, read declared
//! resources), the groups (add members before finalisation, read resolved members
//! after it) and a log.
//!
//! Plugins are named in `plugins_enabled` and run in that order. This crate knows
//! only this safe interface; loading shared libraries is the plugin ABI crate's job
//! (`cpg-infra-plugin-api`), whose loaded libraries implement [`Plugin`].
//!
//! ```
//! use cpg_infra::plugin::{Plugin, PluginError, PluginHost};
//! use cpg_infra::graph::Resource;
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn name(&self) -> &str {
//!         "hello"
//!     }
//!     fn main(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError> {
//!         let domain = host.infrastructure().domain.clone();
//!         host.declare(Resource::new("gcp:storage/bucket:Bucket", "hello").input("name", domain))?;
//!         Ok(())
//!     }
//! }
//! ```

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{CloudName, CpgDatasetConfig, CpgInfrastructureConfig};
use crate::graph::{GraphError, Resource, ResourceId, Value};

/// The environment variable naming the plugins directory.
pub const PLUGINS_DIR_ENV: &str = "CPG_INFRA_PLUGINS_DIR";

/// The Pulumi config key (`<project>:plugins-dir`) naming the plugins directory.
pub const PLUGINS_DIR_CONFIG_KEY: &str = "plugins-dir";

/// The plugins directory's name beside the running executable, where it is looked
/// for when nothing names one.
pub const PLUGINS_DIR_NAME: &str = "plugins";

/// A plugin the driver runs.
pub trait Plugin: Send {
    /// The plugin's name, as `plugins_enabled` lists it.
    fn name(&self) -> &str;

    /// Runs after every dataset is built and before groups are finalised.
    fn main(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError>;

    /// Runs right after groups are finalised; resolved group members are known.
    fn on_group_finalisation(&mut self, host: &mut dyn PluginHost) -> Result<(), PluginError> {
        let _ = host;
        Ok(())
    }
}

/// What a plugin may read and declare.
pub trait PluginHost {
    /// The organisation's config.
    fn infrastructure(&self) -> &CpgInfrastructureConfig;

    /// Every dataset's config, in the order the config lists them.
    fn datasets(&self) -> &[CpgDatasetConfig];

    /// Where the config came from and whether this run deploys.
    fn context(&self) -> &PluginContext;

    /// Declares a resource; a second resource with the same type and name is an
    /// error.
    fn declare(&mut self, resource: Resource) -> Result<ResourceId, HostError>;

    /// Declares a stack export.
    fn export(&mut self, name: &str, value: Value) -> Result<(), HostError>;

    /// A resource declared so far (by the driver or a plugin).
    fn resource(&self, id: &ResourceId) -> Option<Resource>;

    /// Adds a member to a group; only before groups are finalised.
    fn add_group_member(&mut self, request: GroupMemberRequest) -> Result<(), HostError>;

    /// A group's resource and, once groups are finalised, its resolved members.
    fn group(&self, cloud: CloudName, name: &str) -> Result<GroupInfo, HostError>;

    /// Records a log line under the plugin's name.
    fn log(&mut self, level: LogLevel, message: &str);
}

/// Where the configuration came from, and what this run does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PluginContext {
    /// The config directory, when the config was loaded from one. Plugins resolve
    /// relative paths in the config (e.g. function sources) against it.
    pub config_dir: Option<PathBuf>,
    /// Whether the plan will be deployed.
    pub mode: Mode,
}

/// Whether a run only plans or deploys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Planning: nothing is deployed; missing payload is a warning.
    #[default]
    Plan,
    /// Deploying: everything the plan sends must be there.
    Deploy,
}

/// A member to add to a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMemberRequest {
    /// The group's cloud.
    pub cloud: CloudName,
    /// The group, by name without the group prefix (e.g. `common-analysis`).
    pub group: String,
    /// The membership's key, unique per cloud: it names the membership resource.
    pub key: String,
    /// The member.
    pub member: GroupMemberSpec,
}

/// A group member a plugin names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMemberSpec {
    /// An id: an email or principal.
    Id(String),
    /// A machine account a plugin declared.
    MachineAccount(ResourceId),
    /// Another group, by name.
    Group(String),
}

/// A group as a plugin sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfo {
    /// The group's resource.
    pub resource: ResourceId,
    /// Its members through nested groups, as ids (values that may be known only
    /// when deploying); `None` before groups are finalised.
    pub resolved_members: Option<Vec<Value>>,
}

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Detail.
    Debug,
    /// Progress.
    Info,
    /// Something that looks wrong but does not stop the build.
    Warning,
    /// Something that failed.
    Error,
}

impl LogLevel {
    /// The level's number across the C ABI.
    pub fn code(self) -> u32 {
        match self {
            LogLevel::Debug => 0,
            LogLevel::Info => 1,
            LogLevel::Warning => 2,
            LogLevel::Error => 3,
        }
    }

    /// The level of a number across the C ABI; unknown numbers are errors, so
    /// nothing a newer plugin says is lost.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => LogLevel::Debug,
            1 => LogLevel::Info,
            2 => LogLevel::Warning,
            _ => LogLevel::Error,
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warning => "warning",
            LogLevel::Error => "error",
        })
    }
}

/// A line a plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLog {
    /// The plugin.
    pub plugin: String,
    /// How important.
    pub level: LogLevel,
    /// What it said.
    pub message: String,
}

impl std::fmt::Display for PluginLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: plugin {}: {}",
            self.level, self.plugin, self.message
        )
    }
}

/// What the host refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// Declaring a resource or export failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A group that does not exist.
    #[error("group {name:?} on {cloud} does not exist")]
    UnknownGroup {
        /// The cloud.
        cloud: CloudName,
        /// The group.
        name: String,
    },
    /// Members are added before groups are finalised.
    #[error("groups are finalised: group {group:?} cannot get members any more")]
    GroupsFinalised {
        /// The group.
        group: String,
    },
    /// The group provider refused a member (a duplicate key, the group itself).
    #[error("{0}")]
    Membership(String),
    /// A resource whose asset or archive names a file outside the config
    /// directory, or something other than a regular file or directory.
    #[error("{resource}: {reason}")]
    AssetPath {
        /// The resource, as `type::name`.
        resource: String,
        /// What is wrong with the path.
        reason: String,
    },
    /// A refusal that crossed the C ABI as text.
    #[error("{0}")]
    Remote(String),
}

/// Why a plugin failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The plugin reported an error.
    #[error("{0}")]
    Failed(String),
    /// The plugin panicked; the panic was caught on its side of the ABI.
    #[error("panicked: {0}")]
    Panicked(String),
    /// The host refused a request.
    #[error("the host refused a request")]
    Host(#[from] HostError),
    /// The plugin and the host did not understand each other.
    #[error("ABI error: {0}")]
    Abi(String),
}

impl PluginError {
    /// A plugin's own error.
    pub fn failed(message: impl Into<String>) -> Self {
        PluginError::Failed(message.into())
    }
}

pub use crate::config::names::is_plugin_name;

/// The library file of plugin `name`: `lib<name>.so` on Linux, `lib<name>.dylib`
/// on macOS, `<name>.dll` on Windows.
pub fn library_file_name(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Where the plugins directory was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginsDirSource {
    /// Given explicitly: the program's option, or `deploy --plugins-dir`.
    CommandLine,
    /// The `CPG_INFRA_PLUGINS_DIR` environment variable.
    Environment,
    /// The Pulumi config key `<project>:plugins-dir`.
    PulumiConfig,
    /// The `plugins/` directory beside the running executable.
    Executable,
}

impl std::fmt::Display for PluginsDirSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PluginsDirSource::CommandLine => "--plugins-dir",
            PluginsDirSource::Environment => PLUGINS_DIR_ENV,
            PluginsDirSource::PulumiConfig => "Pulumi config plugins-dir",
            PluginsDirSource::Executable => "plugins/ beside the executable",
        })
    }
}

/// The plugins directory, first of:
///
/// 1. `option`, given explicitly;
/// 2. `environment`, the value of [`PLUGINS_DIR_ENV`] (`CPG_INFRA_PLUGINS_DIR`),
///    unless empty;
/// 3. the Pulumi config key [`PLUGINS_DIR_CONFIG_KEY`] of any project
///    (`<project>:plugins-dir` in `pulumi_config`, a JSON object of
///    `<project>:<key>` entries, as the Pulumi language host passes it in
///    `PULUMI_CONFIG`);
/// 4. the directory [`PLUGINS_DIR_NAME`] (`plugins/`) beside `executable`, the
///    running binary.
///
/// `None` only when none of them is given.
pub fn plugins_dir(
    option: Option<&Path>,
    environment: Option<&OsStr>,
    pulumi_config: Option<&str>,
    executable: Option<&Path>,
) -> Option<(PathBuf, PluginsDirSource)> {
    if let Some(dir) = option {
        return Some((dir.to_owned(), PluginsDirSource::CommandLine));
    }
    if let Some(dir) = environment.filter(|d| !d.is_empty()) {
        return Some((PathBuf::from(dir), PluginsDirSource::Environment));
    }
    let configured = pulumi_config
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|config| {
            config.as_object().and_then(|entries| {
                entries.iter().find_map(|(key, value)| {
                    let (_, name) = key.split_once(':')?;
                    (name == PLUGINS_DIR_CONFIG_KEY)
                        .then(|| value.as_str().map(PathBuf::from))
                        .flatten()
                })
            })
        });
    if let Some(dir) = configured {
        return Some((dir, PluginsDirSource::PulumiConfig));
    }
    executable
        .and_then(Path::parent)
        .map(|dir| (dir.join(PLUGINS_DIR_NAME), PluginsDirSource::Executable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_library_names() {
        assert!(is_plugin_name("billing_aggregator"));
        assert!(is_plugin_name("metamist2"));
        for bad in ["", "Billing", "billing-aggregator", "../x", "2fa", "_x"] {
            assert!(!is_plugin_name(bad), "{bad:?}");
        }
        let file = library_file_name("metamist");
        assert!(file.contains("metamist"));
        #[cfg(target_os = "linux")]
        assert_eq!(file, "libmetamist.so");
    }

    #[test]
    fn plugins_dir_prefers_option_then_environment_then_pulumi_config_then_beside_the_binary() {
        let exe = Path::new("/opt/deploy/bin/deploy");
        let config = r#"{"cpg:plugins-dir": "/from/pulumi", "cpg:other": "x"}"#;
        assert_eq!(
            plugins_dir(
                Some(Path::new("/opt")),
                Some(OsStr::new("/env")),
                Some(config),
                Some(exe)
            ),
            Some((PathBuf::from("/opt"), PluginsDirSource::CommandLine))
        );
        assert_eq!(
            plugins_dir(None, Some(OsStr::new("/env")), Some(config), Some(exe)),
            Some((PathBuf::from("/env"), PluginsDirSource::Environment))
        );
        assert_eq!(
            plugins_dir(None, Some(OsStr::new("")), Some(config), Some(exe)),
            Some((
                PathBuf::from("/from/pulumi"),
                PluginsDirSource::PulumiConfig
            ))
        );
        assert_eq!(
            plugins_dir(None, None, Some("{}"), Some(exe)),
            Some((
                PathBuf::from("/opt/deploy/bin/plugins"),
                PluginsDirSource::Executable
            ))
        );
        // Another key, or a value that is not text, names no directory.
        for unnamed in [
            r#"{"cpg:other": "x"}"#,
            r#"{"cpg:plugins-dir": 3}"#,
            "not json",
        ] {
            assert_eq!(
                plugins_dir(None, None, Some(unnamed), Some(exe)),
                Some((
                    PathBuf::from("/opt/deploy/bin/plugins"),
                    PluginsDirSource::Executable
                )),
                "{unnamed}"
            );
        }
        assert_eq!(plugins_dir(None, None, None, None), None);
    }

    #[test]
    fn log_levels_cross_the_abi_and_back() {
        for level in [
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warning,
            LogLevel::Error,
        ] {
            assert_eq!(LogLevel::from_code(level.code()), level);
        }
        assert_eq!(LogLevel::from_code(99), LogLevel::Error);
    }
}
