//! Where each declared resource and stack export comes from in the build: the
//! organisation-wide part, one dataset, or what runs after every dataset. The
//! shard plan ([`crate::shard`]) cuts the graph along these.

use std::collections::BTreeMap;
use std::fmt;

use crate::config::{ConfigSources, SourcePosition};
use crate::graph::{Graph, ResourceId};

/// The part of the build that declared a resource or a stack export.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// The organisation-wide resources built before the datasets (members cache,
    /// metamist invokers, the Python registry, the temporary-access broker), the
    /// ad-hoc groups and the plugins' main stage.
    Organisation,
    /// One dataset's build, and the memberships and members-cache objects of the
    /// groups declared while building it.
    Dataset(String),
    /// What is built once every dataset is: the plugins' group-finalisation stage,
    /// Hail billing-project members, metamist member lists, the dropbox config and
    /// `infrastructure.toml`.
    AfterDatasets,
}

impl Origin {
    /// Where the config files define this part of the build: a dataset's key in
    /// `production.yaml`, and the `[infrastructure]` table of `cpg.toml` for the
    /// organisation-wide part and what runs after the datasets. `None` for a
    /// dataset the files do not define.
    ///
    /// ```no_run
    /// use cpg_infra::config::load_dir;
    /// use cpg_infra::driver::{CpgInfrastructure, Origin};
    ///
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = load_dir("config")?;
    /// let sources = config.infrastructure.sources.clone().expect("loaded from files");
    /// let built = CpgInfrastructure::from_validated(config).build_with_log()?;
    /// for resource in built.graph.resources() {
    ///     let position = built.origins.resource(&resource.id).and_then(|o| o.position(&sources));
    ///     if let Some(position) = position {
    ///         // e.g. `gcp:storage/bucket:Bucket fewgenomes-main declared at production.yaml:12`
    ///         println!("{} declared at {position}", resource.id);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn position(&self, sources: &ConfigSources) -> Option<SourcePosition> {
        match self {
            Origin::Organisation | Origin::AfterDatasets => Some(sources.infrastructure()),
            Origin::Dataset(name) => sources.dataset(name),
        }
    }
}

impl fmt::Display for Origin {
    /// `organisation`, `dataset <name>` or `after-datasets`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Organisation => f.write_str("organisation"),
            Origin::Dataset(name) => write!(f, "dataset {name}"),
            Origin::AfterDatasets => f.write_str("after-datasets"),
        }
    }
}

/// The origin of every resource and stack export of one build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    resources: BTreeMap<ResourceId, Origin>,
    exports: BTreeMap<String, Origin>,
}

impl Origins {
    /// The origin of the resource `id`, when the build declared it.
    pub fn resource(&self, id: &ResourceId) -> Option<&Origin> {
        self.resources.get(id)
    }

    /// The origin of the stack export `name`, when the build declared it.
    pub fn export(&self, name: &str) -> Option<&Origin> {
        self.exports.get(name)
    }

    /// Records that `id` comes from `origin` (a resource declared outside a
    /// build, e.g. in a test or by a tool assembling a graph by hand).
    pub fn set_resource(&mut self, id: ResourceId, origin: Origin) {
        self.resources.insert(id, origin);
    }

    /// Records that the stack export `name` comes from `origin`.
    pub fn set_export(&mut self, name: impl Into<String>, origin: Origin) {
        self.exports.insert(name.into(), origin);
    }
}

/// Tags what a build declares with the part of the build that is running.
#[derive(Debug)]
pub(crate) struct Tagger {
    /// The part of the build running now.
    current: Origin,
    /// How many of the graph's resources are tagged (a graph only grows).
    tagged: usize,
    /// Resources, by position in the graph, whose origin is not the part that
    /// declared them (organisation-wide groups created on a dataset's first use).
    pinned: BTreeMap<usize, Origin>,
    origins: Origins,
}

impl Default for Tagger {
    fn default() -> Self {
        Tagger {
            current: Origin::Organisation,
            tagged: 0,
            pinned: BTreeMap::new(),
            origins: Origins::default(),
        }
    }
}

impl Tagger {
    /// The part of the build running now.
    pub fn current(&self) -> &Origin {
        &self.current
    }

    /// Tags everything `graph` declared since the last switch with the current
    /// origin, then makes `next` current.
    pub fn switch(&mut self, graph: &Graph, next: Origin) {
        self.flush(graph);
        self.current = next;
    }

    /// The origin of a resource tagged so far.
    pub fn origin_of(&self, id: &ResourceId) -> Option<&Origin> {
        self.origins.resources.get(id)
    }

    /// Gives the resources `graph` declared from position `from` on the origin
    /// `origin`, whatever part of the build is running.
    pub fn pin_since(&mut self, graph: &Graph, from: usize, origin: &Origin) {
        for position in from.max(self.tagged)..graph.len() {
            self.pinned.insert(position, origin.clone());
        }
    }

    /// Tags everything `graph` declared since the last switch with the current
    /// origin (or the one it was pinned to).
    pub fn flush(&mut self, graph: &Graph) {
        for (position, resource) in graph.resources().iter().enumerate().skip(self.tagged) {
            let origin = self.pinned.remove(&position);
            self.origins.resources.insert(
                resource.id.clone(),
                origin.unwrap_or_else(|| self.current.clone()),
            );
        }
        self.tagged = graph.len();
        if self.origins.exports.len() != graph.exports().len() {
            for name in graph.exports().keys() {
                if !self.origins.exports.contains_key(name) {
                    self.origins
                        .exports
                        .insert(name.clone(), self.current.clone());
                }
            }
        }
    }

    /// Every origin, once the last part of the build is flushed.
    pub fn finish(mut self, graph: &Graph) -> Origins {
        self.flush(graph);
        self.origins
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Resource, Value};

    #[test]
    fn each_part_of_the_build_tags_what_it_declared() {
        let mut graph = Graph::new();
        let mut tagger = Tagger::default();
        let org = graph.declare(Resource::new("t:a", "org")).expect("declare");
        tagger.switch(&graph, Origin::Dataset("ds".into()));
        let ds = graph.declare(Resource::new("t:a", "ds")).expect("declare");
        graph.export("ds-id", Value::from("1")).expect("export");
        tagger.switch(&graph, Origin::AfterDatasets);
        let after = graph
            .declare(Resource::new("t:a", "after"))
            .expect("declare");
        let start = graph.len();
        let pinned = graph
            .declare(Resource::new("t:a", "pinned"))
            .expect("declare");
        tagger.pin_since(&graph, start, &Origin::Organisation);
        let origins = tagger.finish(&graph);
        assert_eq!(origins.resource(&pinned), Some(&Origin::Organisation));
        assert_eq!(origins.resource(&org), Some(&Origin::Organisation));
        assert_eq!(origins.resource(&ds), Some(&Origin::Dataset("ds".into())));
        assert_eq!(origins.resource(&after), Some(&Origin::AfterDatasets));
        assert_eq!(origins.export("ds-id"), Some(&Origin::Dataset("ds".into())));
        assert_eq!(origins.resource(&ResourceId::new("t:a", "none")), None);
    }
}
