//! The three drivers: [`CpgInfrastructure`] (the organisation), and per dataset and
//! per dataset × cloud [`CpgDatasetInfrastructure`] and [`CpgDatasetCloudInfrastructure`]. They declare
//! every resource, in the reference's order, into one [`Graph`].

mod config_destination;
mod dataset;
mod dataset_cloud;
mod groups;
mod member_hash;
mod organisation;
mod origin;
mod plugins;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::cloud::{Cloud, CloudError, CloudProvider, CloudResult};
use crate::config::{
    CloudName, Config, CpgDatasetConfig, CpgInfrastructureConfig, Diagnostic, InvalidConfig,
    validate,
};
use crate::graph::{Graph, GraphError, ResourceId, Value};
use crate::plugin::{Plugin, PluginContext, PluginError, PluginLog};

pub use dataset::CpgDatasetInfrastructure;
pub use dataset_cloud::CpgDatasetCloudInfrastructure;
pub(crate) use groups::GroupProvider;
pub use origin::{Origin, Origins};
pub use plugins::Stage;

/// What stopped the infrastructure from being built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A cloud could not declare a resource.
    #[error("dataset {dataset:?} on {cloud}")]
    Cloud {
        /// The dataset.
        dataset: String,
        /// The cloud.
        cloud: CloudName,
        /// What the cloud said.
        #[source]
        source: CloudError,
    },
    /// Declaring a resource failed.
    #[error("cannot declare a resource")]
    Graph(#[from] GraphError),
    /// No provider was given for a cloud a dataset deploys to.
    #[error("no cloud provider for {0}")]
    NoProvider(CloudName),
    /// A group was created twice.
    #[error("group {name:?} on {cloud} is created twice")]
    DuplicateGroup {
        /// The cloud.
        cloud: CloudName,
        /// The group.
        name: String,
    },
    /// A group that does not exist.
    #[error("group {name:?} on {cloud} does not exist")]
    UnknownGroup {
        /// The cloud.
        cloud: CloudName,
        /// The group.
        name: String,
    },
    /// A group added to itself.
    #[error("group {group:?} cannot contain itself")]
    GroupInItself {
        /// The group.
        group: String,
    },
    /// Two members of a group under one resource key.
    #[error("group {group:?} already has a member under the key {key:?}")]
    DuplicateMembership {
        /// The group.
        group: String,
        /// The key.
        key: String,
    },
    /// Groups that contain each other.
    #[error("groups contain each other: {}", .cycle.join(" -> "))]
    GroupCycle {
        /// The groups, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A plugin failed; nothing of the build is kept.
    #[error("plugin {plugin:?} failed in {stage}")]
    Plugin {
        /// The plugin.
        plugin: String,
        /// The lifecycle step.
        stage: Stage,
        /// What went wrong.
        #[source]
        source: PluginError,
    },
    /// `plugins_enabled` names a plugin that was not given to the driver.
    #[error("plugin {0:?} is enabled but was not loaded")]
    PluginNotLoaded(String),
    /// A plugin was given that `plugins_enabled` does not name, or twice.
    #[error("plugin {0:?} was given to the driver but is not enabled, or was given twice")]
    PluginNotEnabled(String),
    /// A feature the configuration enables that this release does not build yet.
    #[error("{}{feature} is not built by this release", .dataset.as_ref().map(|d| format!("dataset {d:?}: ")).unwrap_or_default())]
    NotYetSupported {
        /// The dataset, when the feature is a dataset's.
        dataset: Option<String>,
        /// The feature.
        feature: String,
    },
}

/// The organisation's infrastructure: the reference's `CPGInfrastructure`.
///
/// ```
/// # fn run(config: cpg_infra::config::Config) -> Result<(), Box<dyn std::error::Error>> {
/// let infra = cpg_infra::driver::CpgInfrastructure::new(config.infrastructure, config.datasets)?;
/// let plan = infra.build()?;
/// println!("{} resources", plan.len());
/// # Ok(()) }
/// ```
pub struct CpgInfrastructure {
    config: Arc<CpgInfrastructureConfig>,
    datasets: Vec<Arc<CpgDatasetConfig>>,
    warnings: Vec<Diagnostic>,
    providers: BTreeMap<CloudName, Box<dyn CloudProvider>>,
    plugins: Mutex<Vec<Box<dyn Plugin>>>,
    plugin_context: PluginContext,
}

/// What a build made: the plan, and what plugins logged while making it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Built {
    /// The plan.
    pub graph: Graph,
    /// Every line the plugins logged, in order.
    pub plugin_log: Vec<PluginLog>,
    /// Which part of the build declared each resource and stack export.
    pub origins: Origins,
}

impl std::fmt::Debug for CpgInfrastructure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpgInfrastructure")
            .field("datasets", &self.datasets.len())
            .field("clouds", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl CpgInfrastructure {
    /// Validates the configuration; nothing is declared yet. The dry-run cloud is
    /// available from the start; add others with [`CpgInfrastructure::with_cloud`].
    ///
    /// A configuration [`load_dir`](crate::config::load_dir) loaded carries its files
    /// ([`CpgInfrastructureConfig::sources`]), so the warnings are `load_dir`'s, each
    /// with its file, key path and line (see [`validate`]).
    pub fn new(
        config: CpgInfrastructureConfig,
        datasets: Vec<CpgDatasetConfig>,
    ) -> Result<Self, InvalidConfig> {
        let warnings = validate(&config, &datasets)?;
        Ok(Self::from_validated(Config {
            infrastructure: config,
            datasets,
            warnings,
        }))
    }

    /// Wraps a configuration [`load_dir`](crate::config::load_dir) has validated.
    pub fn from_validated(config: Config) -> Self {
        let mut providers: BTreeMap<CloudName, Box<dyn CloudProvider>> = BTreeMap::new();
        providers.insert(CloudName::DryRun, Box::new(crate::dry_run::DryRunProvider));
        CpgInfrastructure {
            config: Arc::new(config.infrastructure),
            datasets: config.datasets.into_iter().map(Arc::new).collect(),
            warnings: config.warnings,
            providers,
            plugins: Mutex::new(Vec::new()),
            plugin_context: PluginContext::default(),
        }
    }

    /// What validation warned about: problems the configuration is built with, for
    /// the caller to show (on a terminal, or in the engine's log as warnings).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The organisation's config.
    pub fn config(&self) -> &CpgInfrastructureConfig {
        &self.config
    }

    /// Whether a provider for `cloud` was given (the dry-run cloud always is).
    pub fn has_cloud(&self, cloud: CloudName) -> bool {
        self.providers.contains_key(&cloud)
    }

    /// The names of the plugins given so far, in the order they were given.
    pub fn plugin_names(&self) -> Vec<String> {
        self.plugins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|plugin| plugin.name().to_owned())
            .collect()
    }

    /// Adds a plugin; every plugin `plugins_enabled` names must be added, and no
    /// other.
    #[must_use]
    pub fn with_plugin(self, plugin: Box<dyn Plugin>) -> Self {
        self.plugins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(plugin);
        self
    }

    /// Tells plugins where the config came from and whether this run deploys.
    #[must_use]
    pub fn with_plugin_context(mut self, context: PluginContext) -> Self {
        self.plugin_context = context;
        self
    }

    /// Uses `provider` for its cloud.
    #[must_use]
    pub fn with_cloud(mut self, provider: impl CloudProvider + 'static) -> Self {
        self.providers.insert(provider.name(), Box::new(provider));
        self
    }

    /// Declares every resource, in the reference's order, and returns the plan.
    /// Plugins' log lines are left out; [`CpgInfrastructure::build_with_log`] keeps
    /// them.
    pub fn build(&self) -> Result<Graph, BuildError> {
        self.build_with_log().map(|built| built.graph)
    }

    /// Declares every resource, running the plugins, and returns the plan with the
    /// plugins' log lines.
    pub fn build_with_log(&self) -> Result<Built, BuildError> {
        let mut plugins = self
            .plugins
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut names = std::collections::BTreeSet::new();
        for plugin in plugins.iter() {
            let name = plugin.name();
            if !names.insert(name.to_owned())
                || !self.config.plugins_enabled.iter().any(|n| n == name)
            {
                return Err(BuildError::PluginNotEnabled(name.to_owned()));
            }
        }
        let mut state = State::new(self)?;
        organisation::main(&mut state, &mut plugins, &self.plugin_context)?;
        let origins = state.tagger.finish(&state.graph);
        Ok(Built {
            graph: state.graph,
            plugin_log: state.plugin_log,
            origins,
        })
    }
}

/// Everything the drivers share while building.
pub(crate) struct State {
    pub graph: Graph,
    pub config: Arc<CpgInfrastructureConfig>,
    pub datasets: BTreeMap<String, Arc<CpgDatasetConfig>>,
    /// Dataset names in the order the config lists them.
    pub config_order: Vec<String>,
    /// Dataset names, each after the datasets it depends on.
    pub order: Vec<String>,
    pub clouds: BTreeMap<(String, CloudName), Box<dyn Cloud>>,
    pub groups: GroupProvider,
    pub memos: BTreeMap<(String, CloudName), dataset_cloud::Memo>,
    pub org: organisation::Memo,
    /// Each dataset's metamist projects: main, and test when set up.
    pub metamist_projects: BTreeMap<String, (ResourceId, Option<ResourceId>)>,
    /// What plugins logged.
    pub plugin_log: Vec<PluginLog>,
    /// The part of the build running now, and what each part declared.
    pub tagger: origin::Tagger,
}

impl State {
    fn new(infra: &CpgInfrastructure) -> Result<Self, BuildError> {
        let datasets: BTreeMap<String, Arc<CpgDatasetConfig>> = infra
            .datasets
            .iter()
            .map(|d| (d.dataset.clone(), Arc::clone(d)))
            .collect();
        let order = dependency_order(&infra.config.common_dataset, &infra.datasets);
        let mut clouds = BTreeMap::new();
        for dataset in &infra.datasets {
            for cloud in &dataset.deploy_locations {
                let provider = infra
                    .providers
                    .get(cloud)
                    .ok_or(BuildError::NoProvider(*cloud))?;
                clouds.insert(
                    (dataset.dataset.clone(), *cloud),
                    provider.for_dataset(Arc::clone(&infra.config), Arc::clone(dataset)),
                );
            }
        }
        Ok(State {
            graph: Graph::new(),
            config: Arc::clone(&infra.config),
            datasets,
            config_order: infra.datasets.iter().map(|d| d.dataset.clone()).collect(),
            order,
            clouds,
            groups: GroupProvider::default(),
            memos: BTreeMap::new(),
            org: organisation::Memo::default(),
            metamist_projects: BTreeMap::new(),
            plugin_log: Vec::new(),
            tagger: origin::Tagger::default(),
        })
    }

    /// Runs `declare` with the cloud of `dataset` on `cloud` and the graph.
    pub fn with_cloud<T>(
        &mut self,
        dataset: &str,
        cloud: CloudName,
        declare: impl FnOnce(&mut dyn Cloud, &mut Graph) -> CloudResult<T>,
    ) -> Result<T, BuildError> {
        let instance = self
            .clouds
            .get_mut(&(dataset.to_owned(), cloud))
            .ok_or(BuildError::NoProvider(cloud))?;
        declare(instance.as_mut(), &mut self.graph).map_err(|source| BuildError::Cloud {
            dataset: dataset.to_owned(),
            cloud,
            source,
        })
    }

    /// The logical name `key` gets from the cloud of `dataset` on `cloud`.
    pub fn pulumi_name(&self, dataset: &str, cloud: CloudName, key: &str) -> String {
        match self.clouds.get(&(dataset.to_owned(), cloud)) {
            Some(instance) => instance.pulumi_name(key),
            None => format!("{dataset}-{cloud}-{key}"),
        }
    }

    /// The resource of group `name` on `cloud`, as a member.
    pub fn group_member(
        &self,
        cloud: CloudName,
        name: &str,
    ) -> Result<crate::cloud::Member, BuildError> {
        self.groups
            .get(cloud, name)
            .map(|g| crate::cloud::Member::Group(g.resource.clone()))
            .ok_or_else(|| BuildError::UnknownGroup {
                cloud,
                name: name.to_owned(),
            })
    }

    /// Tags what was declared so far with the part of the build that ran, and
    /// starts the part `next`.
    pub fn set_origin(&mut self, next: Origin) {
        self.tagger.switch(&self.graph, next);
    }

    /// Of two parts of the build, the one that runs later: the organisation's
    /// first part, then the datasets in build order, then what comes after them.
    pub fn later_origin<'o>(&self, a: &'o Origin, b: &'o Origin) -> &'o Origin {
        let rank = |origin: &Origin| match origin {
            Origin::Organisation => 0,
            Origin::Dataset(name) => 1 + self.order.iter().position(|d| d == name).unwrap_or(0),
            Origin::AfterDatasets => usize::MAX,
        };
        if rank(b) > rank(a) { b } else { a }
    }

    /// The latest part of the build among `origin` and the origins of every
    /// resource read by the resources declared from position `start` on.
    pub fn reading_origin(&self, start: usize, origin: &Origin) -> Origin {
        let mut latest = origin.clone();
        for resource in &self.graph.resources()[start.min(self.graph.len())..] {
            for used in resource.inputs.values().flat_map(Value::dependencies) {
                if let Some(used) = self.tagger.origin_of(&used) {
                    latest = self.later_origin(&latest, used).clone();
                }
            }
        }
        latest
    }

    /// Runs `declare`, giving what it declares the organisation as origin
    /// whatever part of the build is running: for organisation-wide resources
    /// created on first use.
    pub fn for_organisation<T>(
        &mut self,
        declare: impl FnOnce(&mut Self) -> Result<T, BuildError>,
    ) -> Result<T, BuildError> {
        let start = self.graph.len();
        let result = declare(self);
        self.tagger
            .pin_since(&self.graph, start, &Origin::Organisation);
        result
    }

    /// Declares a stack export.
    pub fn export(&mut self, name: &str, value: Value) -> Result<(), BuildError> {
        Ok(self.graph.export(name, value)?)
    }
}

/// Datasets ordered so each comes after what it depends on (and the common dataset
/// first), otherwise in config order.
fn dependency_order(common: &str, datasets: &[Arc<CpgDatasetConfig>]) -> Vec<String> {
    let known: BTreeMap<&str, &CpgDatasetConfig> = datasets
        .iter()
        .map(|d| (d.dataset.as_str(), d.as_ref()))
        .collect();
    let mut order: Vec<String> = Vec::with_capacity(datasets.len());
    let mut placed = std::collections::BTreeSet::new();
    fn visit<'a>(
        name: &'a str,
        common: &'a str,
        known: &BTreeMap<&'a str, &'a CpgDatasetConfig>,
        placed: &mut std::collections::BTreeSet<&'a str>,
        visiting: &mut Vec<&'a str>,
        order: &mut Vec<String>,
    ) {
        if placed.contains(name) || visiting.contains(&name) {
            return;
        }
        let Some(dataset) = known.get(name) else {
            return;
        };
        visiting.push(name);
        let implicit = (name != common).then_some(common);
        for dependency in dataset
            .depends_on
            .iter()
            .chain(&dataset.depends_on_readonly)
            .map(String::as_str)
            .chain(implicit)
        {
            visit(dependency, common, known, placed, visiting, order);
        }
        visiting.pop();
        placed.insert(name);
        order.push(name.to_owned());
    }
    let mut visiting = Vec::new();
    visit(
        common,
        common,
        &known,
        &mut placed,
        &mut visiting,
        &mut order,
    );
    for dataset in datasets {
        visit(
            &dataset.dataset,
            common,
            &known,
            &mut placed,
            &mut visiting,
            &mut order,
        );
    }
    order
}
