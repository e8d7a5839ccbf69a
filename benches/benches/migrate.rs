//! `migrate-state` on a synthetic stack export of N Python dynamic resources (Hail
//! users, each depended on by one ordinary resource): the time should grow with N,
//! and the memory with the size of the export — rewritten in place, the peak
//! beyond the export itself is a small fraction of it.

use cpg_infra_benches::{CountingAllocator, allocated, peak, reset_peak};
use cpg_infra_kinds::migrate::{DYNAMIC_TYPE, migrate, migrate_owned};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const SIZES: [usize; 2] = [10_000, 100_000];

/// An export of `n` dynamic Hail users and `n` buckets, bucket `i` depending on user `i`.
fn export(n: usize) -> Value {
    let mut resources = Vec::with_capacity(2 * n);
    for i in 0..n {
        let urn = format!("urn:pulumi:s::p::{DYNAMIC_TYPE}::user-{i}");
        resources.push(json!({
            "urn": urn,
            "type": DYNAMIC_TYPE,
            "custom": true,
            "id": format!("user-{i}"),
            "inputs": {"__provider": "cpg_infra.hail_batch.HailBatchUserProvider", "username": format!("user-{i}"),
                       "batch_uri": "https://batch.hail.populationgenomics.org.au", "token_category": "gcp"},
            "outputs": {"username": format!("user-{i}")},
        }));
        resources.push(json!({
            "urn": format!("urn:pulumi:s::p::gcp:storage/bucket:Bucket::bucket-{i}"),
            "type": "gcp:storage/bucket:Bucket",
            "custom": true,
            "id": format!("bucket-{i}"),
            "dependencies": [urn],
            "propertyDependencies": {"name": [urn]},
        }));
    }
    json!({"version": 3, "deployment": {"manifest": {}, "resources": resources}})
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("migrate_state");
    group.sample_size(10);
    let mb = |bytes: usize| bytes as f64 / 1e6;
    for n in SIZES {
        let before = allocated();
        let document = export(n);
        let held = allocated().saturating_sub(before);
        // In place: the peak beyond the export given to it.
        let copy = document.clone();
        let base = allocated();
        reset_peak();
        let migration = migrate_owned(copy, "0.1.0").expect("migrates");
        let in_place = peak().saturating_sub(base);
        let result = allocated().saturating_sub(base);
        assert_eq!(migration.moved.len(), n);
        drop(migration);
        // Keeping the original: the copy on top.
        let base = allocated();
        reset_peak();
        let migration = migrate(&document, "0.1.0").expect("migrates");
        let copying = peak().saturating_sub(base);
        drop(migration);
        eprintln!(
            "{n} dynamic resources: export {:.1} MB; in place: peak {:.1} MB beyond the export \
             ({:.0}%), result {:+.1} MB beyond it; keeping the original: peak {:.1} MB beyond it",
            mb(held),
            mb(in_place),
            100.0 * in_place as f64 / held as f64,
            mb(result),
            mb(copying),
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &document, |b, doc| {
            b.iter_batched(
                || doc.clone(),
                |d| migrate_owned(d, "0.1.0"),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
