//! Graph costs at 1 000, 10 000 and 100 000 revisions (mostly linear, a branch and a merge every
//! 50). Target: 10 000 built, validated and planned in under 10 ms; listing a whole history with
//! its markers grows linearly.

use std::hint::black_box;

use braid_graph::{Applied, Graph, Revision, synthetic};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// The synthetic graph with a few branch labels, as a real history has: near the base, in the
/// middle and near the heads, so every revision carries some and the tails below them are walked.
fn labelled(n: usize) -> Vec<Revision> {
    let mut revs = synthetic(n);
    for (k, at) in [5, n / 3, n / 2, n - 10].into_iter().enumerate() {
        revs[at].branch_labels.push(format!("label{k}"));
    }
    revs
}

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
        // What `history` asks of the graph: every revision, newest first, with its markers. A
        // fresh graph each time, so the labels of the whole graph are computed in the run (its
        // copy and its drop are not timed).
        let with_labels = Graph::build(labelled(n)).expect("valid");
        group.bench_with_input(
            BenchmarkId::new("history_with_markers", n),
            &with_labels,
            |b, g| {
                b.iter_batched_ref(
                    || g.clone(),
                    |g| {
                        let revs = g.history(None, &empty).expect("whole history");
                        revs.iter()
                            .map(|r| g.markers(r).labels.len())
                            .sum::<usize>()
                    },
                    criterion::BatchSize::LargeInput,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
