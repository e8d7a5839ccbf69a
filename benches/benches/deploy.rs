//! Registering a synthetic organisation of N datasets with the loopback mock
//! engine: resources per second, and where the time goes — the client's CPU
//! time (its runtime is single-threaded, on the calling thread), the mock
//! engine's (the rest of the process), and the remainder, spent waiting on the
//! loopback connection and the scheduler.

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra::graph::Graph;
use cpg_infra_benches::{config_dir, cpu_times};
use cpg_infra_gcp::GcpProvider;
use cpg_infra_mock_engine::{MockEngine, MockOptions, answering_for};
use cpg_infra_pulumi::{DeployOptions, Deployed, Session};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 2] = [10, 100];
/// Registrations in flight at once (`pulumi up --parallel`).
const PARALLEL: usize = 16;

fn plan(datasets: usize) -> Graph {
    let config = load_dir(config_dir(datasets)).expect("valid synthetic config");
    CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .expect("plan")
}

fn mock(graph: &Graph) -> MockEngine {
    MockEngine::start(answering_for(graph, "123", MockOptions::default())).expect("mock listens")
}

fn deploy(graph: &Graph, mock: &MockEngine) -> Deployed {
    let session = Session::connect(mock.settings(PARALLEL)).expect("connects");
    session
        .deploy(graph, &DeployOptions::default())
        .expect("deploys")
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("deploy_mock_engine");
    group.sample_size(10);
    for datasets in SIZES {
        let graph = plan(datasets);
        let engine = mock(&graph);
        let before = cpu_times();
        let deployed = deploy(&graph, &engine);
        let after = cpu_times();
        drop(engine);
        let seconds = deployed.elapsed.as_secs_f64();
        let share = |d: std::time::Duration| 100.0 * d.as_secs_f64() / seconds;
        if let (Some((client0, process0)), Some((client1, process1))) = (before, after) {
            let client = client1.saturating_sub(client0);
            let engine = process1.saturating_sub(process0).saturating_sub(client);
            eprintln!(
                "{datasets} datasets: {} resources in {seconds:.3} s ({:.0} resources/s); \
                 client CPU {:.0}%, mock engine CPU {:.0}% of the wall time",
                deployed.resources,
                deployed.resources as f64 / seconds,
                share(client),
                share(engine)
            );
        }
        group.throughput(Throughput::Elements(graph.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(datasets), &graph, |b, graph| {
            // A fresh engine per run: its records and its shutdown are not measured.
            b.iter_batched(
                || mock(graph),
                |engine| {
                    deploy(graph, &engine);
                    engine
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
