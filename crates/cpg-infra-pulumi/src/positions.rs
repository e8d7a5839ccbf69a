//! Where the config defines each resource, as the engine takes a source position:
//! the `sourcePosition` of a registration or a read, which Pulumi's SDKs fill with
//! the program line that made the resource, and which the engine's and the
//! providers' messages about a resource point at.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use cpg_infra::config::ConfigSources;
use cpg_infra::driver::Origins;
use cpg_infra::graph::{Graph, ResourceId};
use pulumi_gestalt_proto::pulumi::pulumirpc::SourcePosition;

/// The source position of each resource of a graph: the config file (an absolute
/// `file://` URI) and the line that declared it. Empty by default: a resource
/// without a position is sent without one.
///
/// ```no_run
/// use cpg_infra::config::load_dir;
/// use cpg_infra::driver::CpgInfrastructure;
/// use cpg_infra_pulumi::SourcePositions;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = load_dir("config")?;
/// let sources = config.infrastructure.sources.clone().expect("loaded from files");
/// let built = CpgInfrastructure::from_validated(config).build_with_log()?;
/// let positions = SourcePositions::from_config(&built.graph, &built.origins, &sources, "config".as_ref())?;
/// for resource in built.graph.resources() {
///     if let Some(position) = positions.get(&resource.id) {
///         // `file:///srv/config/production.yaml`, line 12.
///         println!("{}: {} line {}", resource.id, position.uri, position.line);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePositions {
    /// Each distinct position once.
    positions: Vec<SourcePosition>,
    /// Per resource, its position in `positions`.
    of: HashMap<ResourceId, usize>,
}

impl SourcePositions {
    /// Where `sources`, the files of a config loaded from `config_dir` (relative:
    /// to the working directory), define each resource of `graph`, by the part of
    /// the build that declared it (`origins`): a dataset's resources at the
    /// dataset's key in `production.yaml`, the organisation-wide ones and those
    /// built after the datasets at the `[infrastructure]` table of `cpg.toml`
    /// (see [`Origin::position`](cpg_infra::driver::Origin::position)). A resource
    /// `origins` does not know (such as a stack reference a shard reads) has none.
    ///
    /// An error when `config_dir` is relative and the working directory cannot be
    /// read.
    pub fn from_config(
        graph: &Graph,
        origins: &Origins,
        sources: &ConfigSources,
        config_dir: &Path,
    ) -> std::io::Result<SourcePositions> {
        let config_dir = std::path::absolute(config_dir)?;
        let mut positions = SourcePositions::default();
        let mut known = BTreeMap::new();
        for resource in graph.resources() {
            let Some(origin) = origins.resource(&resource.id) else {
                continue;
            };
            let index = *known.entry(origin).or_insert_with(|| {
                let position = origin.position(sources)?;
                let uri = file_uri(&config_dir.join(&position.file))?;
                let line = i32::try_from(position.line).ok()?;
                positions.positions.push(SourcePosition {
                    uri,
                    line,
                    column: 0,
                });
                Some(positions.positions.len() - 1)
            });
            if let Some(index) = index {
                positions.of.insert(resource.id.clone(), index);
            }
        }
        Ok(positions)
    }

    /// The position of the resource `id`, if it has one.
    pub fn get(&self, id: &ResourceId) -> Option<&SourcePosition> {
        self.of.get(id).map(|&index| &self.positions[index])
    }

    /// How many resources have a position.
    pub fn len(&self) -> usize {
        self.of.len()
    }

    /// Whether no resource has a position.
    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }
}

/// The `file://` URI of an absolute path, as Python's `pathlib.Path.as_uri` makes
/// it (and so as Pulumi's Python SDK sends a source position): every byte but
/// ASCII letters, digits, `_.-~` and `/` percent-encoded (`%20` for a space); on
/// Windows `file:///C:/...` for a drive and `file://host/share/...` for a share.
/// `None` for a relative path.
///
/// ```
/// # #[cfg(unix)] {
/// use std::path::Path;
/// use cpg_infra_pulumi::file_uri;
///
/// assert_eq!(
///     file_uri(Path::new("/srv/cpg config/production.yaml")).as_deref(),
///     Some("file:///srv/cpg%20config/production.yaml")
/// );
/// assert_eq!(file_uri(Path::new("config/cpg.toml")), None);
/// # }
/// ```
pub fn file_uri(path: &Path) -> Option<String> {
    if !path.is_absolute() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(format!("file://{}", quote(path.as_os_str().as_bytes())))
    }
    #[cfg(not(unix))]
    {
        let text = path.to_string_lossy().replace('\\', "/");
        let bytes = text.as_bytes();
        if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
            // A path on a drive: the drive as it is, the rest quoted.
            Some(format!("file:///{}{}", &text[..2], quote(&bytes[2..])))
        } else {
            // A path on a share: `//host/share/...`.
            Some(format!("file:{}", quote(bytes)))
        }
    }
}

/// `bytes` percent-encoded as Python's `urllib.parse.quote_from_bytes` with its
/// default safe `/`.
fn quote(bytes: &[u8]) -> String {
    let mut quoted = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || b"_.-~/".contains(&byte) {
            quoted.push(char::from(byte));
        } else {
            let _ = write!(quoted, "%{byte:02X}");
        }
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_quoted_as_python_quotes_them() {
        assert_eq!(quote(b"/a b/c%d"), "/a%20b/c%25d");
        assert_eq!(quote("/é:#?".as_bytes()), "/%C3%A9%3A%23%3F");
        assert_eq!(quote(b"/Az09_.-~"), "/Az09_.-~");
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_path_is_quoted_byte_for_byte() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(OsStr::from_bytes(b"/cfg/\xff.yaml"));
        assert_eq!(file_uri(path).as_deref(), Some("file:///cfg/%FF.yaml"));
    }
}
