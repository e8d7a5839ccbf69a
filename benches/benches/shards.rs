//! The organisation as a stack per dataset against one stack, registered with the
//! loopback mock engine: the whole organisation (the shards wave after wave, the
//! shards of a wave on parallel threads, each against its own mock engine) and a
//! change to one dataset (its shard alone, and with the after-datasets shard)
//! against the single stack. Prints the shards' sizes once before the samples.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cpg_infra::config::load_dir;
use cpg_infra::driver::{CpgInfrastructure, Origin};
use cpg_infra::graph::Graph;
use cpg_infra::shard::{ShardPlan, StackContext};
use cpg_infra_benches::config_dir;
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::{MockEngine, MockOptions, ORGANIZATION, answering_for};
use cpg_infra_pulumi::{DeployOptions, Deployed, Session};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const DATASETS: usize = 200;
/// Registrations in flight at once in one stack (`pulumi up --parallel`).
const PARALLEL: usize = 16;
/// Stacks of a wave deployed at once (a CI matrix's `max-parallel`).
const WORKERS: usize = 4;
/// The project the mock's stacks are in.
const PROJECT: &str = "cpg";

/// The organisation: the single stack's graph, its shards, and each shard's graph.
struct Organisation {
    graph: Graph,
    plan: ShardPlan,
    shard_graphs: Vec<Graph>,
    /// The mock's options for each shard: its stack, and the outputs of every
    /// shard (recorded by one run in wave order) for its stack references.
    shard_options: Vec<MockOptions>,
}

fn organisation() -> Organisation {
    let dir = config_dir(DATASETS);
    let config = load_dir(dir.path()).expect("valid synthetic config");
    let built = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build_with_log()
        .expect("plan");
    let plan = ShardPlan::new(&built.graph, &built.origins).expect("shards");
    let context = StackContext::new(ORGANIZATION, PROJECT);
    let shard_graphs: Vec<Graph> = (0..plan.shards().len())
        .map(|index| {
            plan.shard_graph(&built.graph, index, &context)
                .expect("shard graph")
        })
        .collect();
    // One run in wave order records what each shard exports for the later ones.
    let mut known = MockOptions {
        project: PROJECT.into(),
        ..MockOptions::default()
    };
    for wave in plan.waves() {
        for &index in wave {
            let options = MockOptions {
                stack: plan.shard(index).stack.clone(),
                ..known.clone()
            };
            let engine = MockEngine::start(answering_for(&shard_graphs[index], "123", options))
                .expect("mock listens");
            deploy(&shard_graphs[index], &engine);
            let outputs = engine.recorded().stack_outputs().unwrap_or_default();
            let name = format!("{ORGANIZATION}/{PROJECT}/{}", plan.shard(index).stack);
            known.stacks.insert(name, outputs);
        }
    }
    let shard_options = plan
        .shards()
        .iter()
        .enumerate()
        .map(|(index, shard)| {
            answering_for(
                &shard_graphs[index],
                "123",
                MockOptions {
                    stack: shard.stack.clone(),
                    ..known.clone()
                },
            )
        })
        .collect();
    Organisation {
        graph: built.graph,
        plan,
        shard_graphs,
        shard_options,
    }
}

fn deploy(graph: &Graph, mock: &MockEngine) -> Deployed {
    let session = Session::connect(mock.settings(PARALLEL)).expect("connects");
    session
        .deploy(graph, &DeployOptions::default())
        .expect("deploys")
}

impl Organisation {
    /// A fresh mock engine for shard `index`.
    fn mock(&self, index: usize) -> MockEngine {
        MockEngine::start(self.shard_options[index].clone()).expect("mock listens")
    }

    /// Deploys the shards `indices` against their `engines`, `WORKERS` at once.
    fn deploy_parallel(&self, indices: &[usize], engines: &[Option<MockEngine>]) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..WORKERS.min(indices.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&index) = indices.get(i) else { break };
                        let engine = engines[index].as_ref().expect("an engine per shard");
                        deploy(&self.shard_graphs[index], engine);
                    }
                });
            }
        });
    }

    /// The dataset shard of median size: the one a one-dataset change deploys.
    fn median_dataset_shard(&self) -> usize {
        let mut datasets: Vec<usize> = (0..self.plan.shards().len())
            .filter(|&i| matches!(self.plan.shard(i).key, Origin::Dataset(_)))
            .collect();
        datasets.sort_by_key(|&i| (self.plan.shard(i).resources.len(), i));
        datasets[datasets.len() / 2]
    }

    /// The after-datasets shard.
    fn after_datasets_shard(&self) -> Option<usize> {
        (0..self.plan.shards().len())
            .find(|&i| matches!(self.plan.shard(i).key, Origin::AfterDatasets))
    }

    /// Fresh engines for the shards `indices` (none for the others).
    fn engines(&self, indices: &[usize]) -> Vec<Option<MockEngine>> {
        let mut engines: Vec<Option<MockEngine>> =
            (0..self.plan.shards().len()).map(|_| None).collect();
        for &index in indices {
            engines[index] = Some(self.mock(index));
        }
        engines
    }
}

/// Largest and median shard sizes, printed once: they are not times.
fn report_sizes(org: &Organisation) {
    let mut sizes: Vec<(usize, &str)> = org
        .plan
        .shards()
        .iter()
        .map(|s| (s.resources.len(), s.stack.as_str()))
        .collect();
    sizes.sort_unstable();
    let (largest, largest_stack) = sizes[sizes.len() - 1];
    let (median, _) = sizes[sizes.len() / 2];
    let one = org.plan.shard(org.median_dataset_shard());
    eprintln!(
        "{DATASETS} datasets: {} resources in {} shards and {} waves; largest shard {largest_stack} \
         ({largest} resources), median {median}; one-dataset change deploys {} ({} resources)",
        org.graph.len(),
        sizes.len(),
        org.plan.waves().len(),
        one.stack,
        one.resources.len()
    );
}

fn bench(c: &mut Criterion) {
    let org = organisation();
    report_sizes(&org);
    let all: Vec<usize> = (0..org.plan.shards().len()).collect();
    let one = org.median_dataset_shard();
    let mut one_and_after = vec![one];
    one_and_after.extend(org.after_datasets_shard());

    let mut group = c.benchmark_group("shards_200");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    // A fresh engine per run (its records and its shutdown are not measured).
    group.bench_function("single_stack", |b| {
        b.iter_batched(
            || {
                MockEngine::start(answering_for(&org.graph, "123", MockOptions::default()))
                    .expect("mock listens")
            },
            |engine| {
                deploy(&org.graph, &engine);
                engine
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("all_shards_in_waves", |b| {
        b.iter_batched(
            || org.engines(&all),
            |engines| {
                for wave in org.plan.waves() {
                    org.deploy_parallel(wave, &engines);
                }
                engines
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("one_dataset_shard", |b| {
        b.iter_batched(
            || org.mock(one),
            |engine| {
                deploy(&org.shard_graphs[one], &engine);
                engine
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("one_dataset_and_after_datasets", |b| {
        b.iter_batched(
            || org.engines(&one_and_after),
            |engines| {
                // The after-datasets shard reads the dataset's: one after the other.
                for &index in &one_and_after {
                    org.deploy_parallel(&[index], &engines);
                }
                engines
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
