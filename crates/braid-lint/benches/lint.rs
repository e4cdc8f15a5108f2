//! Linting 1 000 synthetic revisions (a third per dialect, six statements and a downgrade each,
//! most rules firing somewhere). Target: under 1 s for all of them. Inferring their deploy
//! phase on every dialect (what `lint` and `upgrade --phase` do for an undeclared revision) is
//! measured beside it.

use std::hint::black_box;

use braid_driver::Dialect;
use braid_lint::{Down, RevisionInput, Source, lint, phase};
use criterion::{Criterion, criterion_group, criterion_main};

struct Revision {
    id: String,
    dialect: Dialect,
    up: String,
    down: String,
}

fn synthetic(n: usize) -> Vec<Revision> {
    (0..n)
        .map(|i| {
            let dialect = Dialect::ALL[i % 3];
            let up = format!(
                "SET lock_timeout = '5s';\n\
                 CREATE TABLE items_{i} (\n  id BIGINT PRIMARY KEY,\n  owner_id BIGINT NOT NULL,\n  \
                 name VARCHAR(200) NOT NULL,\n  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP\n);\n\
                 CREATE INDEX ix_items_{i}_owner ON items_{i} (owner_id);\n\
                 ALTER TABLE users ADD COLUMN flag_{i} INT NOT NULL DEFAULT 0;\n\
                 CREATE UNIQUE INDEX uq_users_{i} ON users (email, flag_{i});\n\
                 -- braid:allow B101 replaced by items_{i} two releases ago\n\
                 DROP TABLE legacy_{i};\n\
                 INSERT INTO items_{i} (id, owner_id, name) SELECT id, owner_id, name FROM legacy_copy_{i};"
            );
            let down = format!(
                "DROP INDEX uq_users_{i};\n\
                 ALTER TABLE users DROP COLUMN flag_{i};\n\
                 DROP TABLE items_{i};"
            );
            Revision {
                id: format!("rev_{i:04}"),
                dialect,
                up,
                down,
            }
        })
        .collect()
}

fn lint_all(revisions: &[Revision]) -> usize {
    revisions
        .iter()
        .map(|r| {
            lint(&RevisionInput {
                revision: &r.id,
                dialect: r.dialect,
                transactional: true,
                up: Source {
                    origin: "migrations/up.sql",
                    text: &r.up,
                },
                down: Down::Script(Source {
                    origin: "migrations/down.sql",
                    text: &r.down,
                }),
                rendered: false,
                phase: None,
                release: &[],
            })
            .len()
        })
        .sum()
}

/// How many (revision, dialect) pairs read as contract, each revision inferred on every
/// dialect.
fn infer_all(revisions: &[Revision]) -> usize {
    revisions
        .iter()
        .flat_map(|r| Dialect::ALL.map(|d| phase::infer(&r.up, d).phase))
        .filter(|&p| p == braid_graph::Phase::Contract)
        .count()
}

fn bench(c: &mut Criterion) {
    let revisions = synthetic(1_000);
    assert!(lint_all(&revisions) > 1_000, "the rules fire on the corpus");
    assert_eq!(infer_all(&revisions), 3_000, "every revision drops a table");
    let mut group = c.benchmark_group("lint");
    group.sample_size(10);
    group.bench_function("1000_revisions", |b| {
        b.iter(|| black_box(lint_all(&revisions)))
    });
    group.bench_function("1000_revisions_phase_on_every_dialect", |b| {
        b.iter(|| black_box(infer_all(&revisions)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
