//! Load + validate + plan a synthetic organisation of N datasets, and the memory the
//! plan takes per resource.

use cpg_infra::config::load_dir;
use cpg_infra::driver::CpgInfrastructure;
use cpg_infra_benches::{CountingAllocator, allocated, config_dir};
use cpg_infra_gcp::GcpProvider;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const SIZES: [usize; 4] = [1, 10, 100, 1000];

fn load_validate_plan(dir: &std::path::Path) -> usize {
    let config = load_dir(dir).expect("valid synthetic config");
    let graph = CpgInfrastructure::from_validated(config)
        .with_cloud(GcpProvider)
        .build()
        .expect("plan");
    graph.len()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_validate_plan");
    group.sample_size(10);
    for datasets in SIZES {
        let dir = config_dir(datasets);
        let before = allocated();
        let config = load_dir(dir.path()).expect("valid synthetic config");
        let graph = CpgInfrastructure::from_validated(config)
            .with_cloud(GcpProvider)
            .build()
            .expect("plan");
        let held = allocated().saturating_sub(before);
        eprintln!(
            "{datasets} datasets: {} resources, {} bytes held by the plan, {} bytes per resource",
            graph.len(),
            held,
            held / graph.len().max(1)
        );
        group.throughput(Throughput::Elements(datasets as u64));
        drop(graph);
        group.bench_with_input(BenchmarkId::from_parameter(datasets), &dir, |b, dir| {
            b.iter(|| load_validate_plan(dir.path()));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
