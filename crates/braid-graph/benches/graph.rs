//! Graph costs at 1 000, 10 000 and 100 000 revisions (mostly linear, a branch and a merge every
//! 50). Target: 10 000 built, validated and planned in under 10 ms.

use std::hint::black_box;

use braid_graph::{Applied, Graph, synthetic};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("graph");
    for n in [1_000usize, 10_000, 100_000] {
        let revs = synthetic(n);
        let graph = Graph::build(revs.clone()).expect("synthetic graph is valid");
        let empty = Applied::new();
        if n == 100_000 {
            group.sample_size(10);
        }

        group.bench_with_input(BenchmarkId::new("build", n), &revs, |b, revs| {
            b.iter_batched(
                || revs.clone(),
                |revs| Graph::build(revs).expect("valid"),
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("heads", n), &graph, |b, g| {
            b.iter(|| black_box(g.heads()))
        });
        group.bench_with_input(BenchmarkId::new("plan_base_to_heads", n), &graph, |b, g| {
            b.iter(|| g.plan_upgrade(&empty, "heads").expect("plan").steps.len())
        });
        group.bench_with_input(BenchmarkId::new("build_and_plan", n), &revs, |b, revs| {
            b.iter_batched(
                || revs.clone(),
                |revs| {
                    let g = Graph::build(revs).expect("valid");
                    g.plan_upgrade(&empty, "heads").expect("plan").steps.len()
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
