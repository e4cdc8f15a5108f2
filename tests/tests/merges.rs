//! Order-independence of a merge, through the library and the `braid` binary, on SQLite,
//! Postgres and MariaDB: the branches a merge revision joins are applied in each order on
//! scratch databases and the schemas compared; an order-dependent merge is reported with its
//! differences and the order production uses, fails `verify`, and makes `check --merges` exit
//! 18.
//!
//! Postgres and MariaDB tests skip with a message when the server is unreachable, and fail
//! instead when `BRAID_REQUIRE_SERVERS=1`.

mod support;

use std::path::PathBuf;

use braid::Project;
use braid::verify::{
    BackendReport, Cleanup, MergeReport, MergeStatus, MergesBackendReport, MergesRequest,
    RevisionOutcome, VerifyRequest, VerifyStep, no_verify_events,
};
use support::{
    Configured, assert_untouched, each_backend, run_in, scratch_exists, with_db, worked_example,
};

/// A project in a temp dir: `migrations/` and `braid.toml` with one database, `app`.
struct Fixture {
    dir: tempfile::TempDir,
    count: usize,
}

impl Fixture {
    fn new() -> Self {
        let fixture = Fixture {
            dir: tempfile::tempdir().unwrap(),
            count: 0,
        };
        std::fs::create_dir_all(fixture.migrations()).unwrap();
        fixture
    }

    fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Revision `id` on `parents`, running `up` and undone by `down`, created after every
    /// revision before it.
    fn rev(&mut self, id: &str, parents: &[&str], up: &str, down: &str) -> &mut Self {
        self.count += 1;
        let parents: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
        let dir = self.migrations().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("revision.toml"),
            format!(
                "id = {id:?}\nparents = [{}]\nmessage = {id:?}\n\
                 created = 2026-01-01T00:00:{:02}Z\n",
                parents.join(", "),
                self.count
            ),
        )
        .unwrap();
        std::fs::write(dir.join("up.sql"), up).unwrap();
        std::fs::write(dir.join("down.sql"), down).unwrap();
        self
    }

    fn project(&self, url: &str) -> Project {
        support::project(self.dir.path(), &self.migrations(), url)
    }

    /// `braid --migrations … --config … <args>` (the config `project` wrote).
    fn braid(&self, args: &[&str]) -> support::Run {
        let migrations = self.migrations();
        let config = self.dir.path().join("braid.toml");
        let mut all = vec![
            "--migrations",
            migrations.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        run_in(support::braid_bin(), self.dir.path(), &all, &[])
    }
}

/// A table every order creates first, then two branches on it.
const ROOT: &str = "CREATE TABLE t (id INT PRIMARY KEY);";
/// Harmless, on every backend: a revision with nothing to do.
const NOTHING: &str = "SELECT 1;";

/// Two branches that each create `x` unless it exists, with a column of their own: whichever
/// runs first decides what `x` is. Each revision passes `verify` on its own, in production's
/// order (`a1_x` first: its `down` drops `x`, `b1_x`'s has nothing to undo).
fn racing_creates() -> Fixture {
    let mut f = Fixture::new();
    f.rev("root_t", &[], ROOT, "DROP TABLE t;")
        .rev(
            "a1_x",
            &["root_t"],
            "CREATE TABLE IF NOT EXISTS x (a INT);",
            "DROP TABLE IF EXISTS x;",
        )
        .rev(
            "b1_x",
            &["root_t"],
            "CREATE TABLE IF NOT EXISTS x (b INT);",
            NOTHING,
        )
        .rev("m_ab", &["a1_x", "b1_x"], NOTHING, NOTHING);
    f
}

/// Two branches on tables of their own: every order gives one schema.
fn independent_branches() -> Fixture {
    let mut f = Fixture::new();
    f.rev("root_t", &[], ROOT, "DROP TABLE t;")
        .rev(
            "a1_ta",
            &["root_t"],
            "CREATE TABLE ta (a INT);",
            "DROP TABLE ta;",
        )
        .rev(
            "b1_tb",
            &["root_t"],
            "CREATE TABLE tb (b INT);",
            "DROP TABLE tb;",
        )
        .rev("m_ab", &["a1_ta", "b1_tb"], NOTHING, NOTHING);
    f
}

/// The report's one backend, its one merge, after checking that every order ran on a
/// scratch database that is gone now and that the configured database was not touched.
#[track_caller]
fn only_merge(backends: Vec<MergesBackendReport>, db: &Configured) -> MergeReport {
    let [backend]: [MergesBackendReport; 1] = backends.try_into().unwrap();
    assert_eq!(backend.dialect, db.dialect);
    assert!(backend.error.is_none(), "{backend:#?}");
    let [merge]: [MergeReport; 1] = backend.merges.try_into().unwrap();
    assert_cleaned_up(&merge, db);
    assert_untouched(db);
    merge
}

/// Every order of `merge` was applied on its own scratch database, dropped since.
#[track_caller]
fn assert_cleaned_up(merge: &MergeReport, db: &Configured) {
    assert!(merge.orders.len() >= 2, "[{}] {merge:#?}", db.dialect);
    for order in &merge.orders {
        assert!(
            matches!(order.cleanup, Cleanup::Dropped),
            "[{}] {order:#?}",
            db.dialect
        );
        let scratch = order.scratch.as_deref().expect("a scratch database");
        assert!(
            !scratch_exists(db, scratch),
            "[{}] {scratch} is left",
            db.dialect
        );
    }
}

/// `verify` of `f`'s history on `db`, which must pass: the report of its merge `m_ab`.
#[track_caller]
fn verified_merge(f: &Fixture, db: &Configured) -> MergeReport {
    let report = f
        .project(&db.url)
        .verify(&VerifyRequest::default(), &no_verify_events)
        .unwrap();
    assert!(report.passed(), "[{}] {report:#?}", db.dialect);
    let [backend]: [BackendReport; 1] = report.backends.try_into().unwrap();
    let m = backend.revisions.into_iter().find(|r| r.revision == "m_ab");
    m.unwrap().merge.expect("the merge's orders")
}

/// In `verify`: the production order was read from the walk's own database (no scratch
/// database of its own), every other order was applied on a scratch database dropped since.
#[track_caller]
fn assert_walked(merge: &MergeReport, db: &Configured) {
    assert!(merge.orders.len() >= 2, "[{}] {merge:#?}", db.dialect);
    for order in &merge.orders {
        if order.production {
            assert!(order.scratch.is_none(), "[{}] {order:#?}", db.dialect);
            assert!(matches!(order.cleanup, Cleanup::NotCreated));
            continue;
        }
        let scratch = order.scratch.as_deref().expect("a scratch database");
        assert!(
            matches!(order.cleanup, Cleanup::Dropped),
            "[{}] {order:#?}",
            db.dialect
        );
        assert!(
            !scratch_exists(db, scratch),
            "[{}] {scratch} is left",
            db.dialect
        );
    }
}

/// `(name, production)` of each order.
fn orders(merge: &MergeReport) -> Vec<(&str, bool)> {
    merge
        .orders
        .iter()
        .map(|o| (o.name.as_str(), o.production))
        .collect()
}

#[test]
fn the_worked_example_merge_gives_one_schema_in_every_order() {
    each_backend(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let project = worked_example(tmp.path(), &db.url);
        let report = project.check_merges(&MergesRequest::default()).unwrap();
        assert!(report.passed(), "{report:#?}");
        let merge = only_merge(report.backends, db);
        assert_eq!(merge.revision, "core3_merge_audit_billing");
        assert_eq!(merge.status, MergeStatus::Same, "{merge:#?}");
        assert_eq!(merge.common, 2, "core1_users and core2_user_preferences");
        let branches = [
            "billing1_plans, billing2_subscriptions",
            "audit1_log, audit2_log_index",
        ];
        let names: Vec<&str> = merge.orders.iter().map(|o| o.name.as_str()).collect();
        assert!(
            names.contains(&format!("{} then {}", branches[0], branches[1]).as_str())
                && names.contains(&format!("{} then {}", branches[1], branches[0]).as_str()),
            "{names:?}"
        );
        // The production order is one of the orders applied, and the report states it.
        let production = merge.orders.iter().find(|o| o.production).unwrap();
        let applied: Vec<&String> = production.runs.iter().flatten().collect();
        assert_eq!(applied, merge.production.iter().collect::<Vec<_>>());
        assert_eq!(merge.production.len(), 4, "{:?}", merge.production);
        assert!(
            merge.summary().contains(&format!(
                "Braid applies them in this order in production: {}",
                merge.production.join(", ")
            )),
            "{}",
            merge.summary()
        );
        for order in &merge.orders {
            assert!(
                order.differences.is_empty() && order.error.is_none(),
                "{order:#?}"
            );
        }
    });
}

#[test]
fn branches_that_create_one_table_differently_are_order_dependent() {
    let f = racing_creates();
    each_backend(|db| {
        let report = f
            .project(&db.url)
            .check_merges(&MergesRequest::default())
            .unwrap();
        assert!(!report.passed() && report.order_dependent(), "{report:#?}");
        let merge = only_merge(report.backends, db);
        assert_eq!(merge.status, MergeStatus::OrderDependent);
        assert_eq!(merge.common, 1, "root_t");
        assert_eq!(merge.production, ["a1_x", "b1_x"]);
        assert_eq!(
            orders(&merge),
            [("a1_x then b1_x", true), ("b1_x then a1_x", false)]
        );
        // `x` as the first order made it, then as the second did.
        let differences: Vec<String> = merge.orders[1]
            .differences
            .iter()
            .map(ToString::to_string)
            .collect();
        let text = differences.join("\n");
        assert!(
            text.contains("column `a` on `x`") && text.contains("column `b` on `x`"),
            "[{}] {text}",
            db.dialect
        );
        assert!(merge.orders[0].differences.is_empty());
        let summary = merge.summary();
        assert!(
            summary.contains("`a1_x then b1_x` and `b1_x then a1_x` give different schemas")
                && summary.contains("Braid applies them in this order in production: a1_x, b1_x"),
            "{summary}"
        );
    });
}

#[test]
fn a_side_that_fails_in_one_order_only_is_order_dependent() {
    // `b1_y` reads a table only `a1_y` creates, without depending on it.
    let mut f = Fixture::new();
    f.rev("root_t", &[], ROOT, "DROP TABLE t;")
        .rev(
            "a1_y",
            &["root_t"],
            "CREATE TABLE y (a INT);",
            "DROP TABLE y;",
        )
        .rev(
            "b1_y",
            &["root_t"],
            "CREATE INDEX ix_y_a ON y (a);",
            "DROP INDEX ix_y_a;",
        )
        .rev("m_ab", &["a1_y", "b1_y"], NOTHING, NOTHING);
    each_backend(|db| {
        let report = f
            .project(&db.url)
            .check_merges(&MergesRequest::default())
            .unwrap();
        let merge = only_merge(report.backends, db);
        assert_eq!(merge.status, MergeStatus::OrderDependent, "{merge:#?}");
        let failed = &merge.orders[1];
        assert_eq!(failed.name, "b1_y then a1_y");
        let error = failed.error.as_ref().expect("b1_y fails first").to_string();
        assert!(error.contains("applying `b1_y` failed"), "{error}");
        assert!(
            merge
                .summary()
                .contains("`b1_y then a1_y` fails where `a1_y then b1_y` applies"),
            "{}",
            merge.summary()
        );
    });
}

#[test]
fn verify_fails_an_order_dependent_merge_and_passes_its_branches() {
    let f = racing_creates();
    each_backend(|db| {
        let report = f
            .project(&db.url)
            .verify(&VerifyRequest::default(), &no_verify_events)
            .unwrap();
        let [backend]: [BackendReport; 1] = report.backends.try_into().unwrap();
        assert!(!backend.passed());
        for revision in ["root_t", "a1_x", "b1_x"] {
            let r = backend.revisions.iter().find(|r| r.revision == revision);
            let r = r.unwrap();
            assert!(
                matches!(r.outcome, RevisionOutcome::Passed) && r.merge.is_none(),
                "[{}] {r:#?}",
                db.dialect
            );
        }
        let m = backend.revisions.iter().find(|r| r.revision == "m_ab");
        let m = m.unwrap();
        match &m.outcome {
            RevisionOutcome::Failed { step, failure } => {
                assert_eq!(*step, VerifyStep::MergeOrder);
                assert!(
                    failure.to_string().contains("in production: a1_x, b1_x"),
                    "{failure}"
                );
            }
            other => panic!("[{}] {other:?}", db.dialect),
        }
        let merge = m.merge.as_ref().expect("the merge's orders");
        assert_eq!(merge.status, MergeStatus::OrderDependent);
        assert_cleaned_up(merge, db);
        assert_untouched(db);
    });
}

#[test]
fn verify_reports_a_merge_whose_orders_agree() {
    let f = independent_branches();
    each_backend(|db| {
        let merge = verified_merge(&f, db);
        assert_eq!(merge.status, MergeStatus::Same);
        assert_eq!(
            orders(&merge),
            [("a1_ta then b1_tb", true), ("b1_tb then a1_ta", false)]
        );
        assert_walked(&merge, db);
    });
}

/// A downgrade that loses what `verify` cannot see leaves the walk's database unlike
/// production's: on Postgres, `DROP TABLE` of a partitioned table drops its partitions, which
/// no statement of the revision names. The merge's orders then seem to differ, so the
/// production order is applied on a scratch database after all, and the orders agree.
#[test]
fn a_difference_from_the_walk_is_checked_again_on_scratch_databases() {
    let mut f = Fixture::new();
    f.rev(
        "root_p",
        &[],
        "CREATE TABLE p (id INT) PARTITION BY RANGE (id);\n\
         CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);",
        "DROP TABLE p;",
    )
    .rev(
        "a1_ta",
        &["root_p"],
        "CREATE TABLE ta (a INT);",
        "DROP TABLE ta;\nDROP TABLE p;\nCREATE TABLE p (id INT) PARTITION BY RANGE (id);",
    )
    .rev(
        "b1_tb",
        &["root_p"],
        "CREATE TABLE tb (b INT);",
        "DROP TABLE tb;",
    )
    .rev("m_ab", &["a1_ta", "b1_tb"], NOTHING, NOTHING);
    with_db::<braid_tests::PostgresTarget>(|db| {
        let db = Configured {
            dialect: braid::Dialect::Postgres,
            url: db.url.clone(),
        };
        let merge = verified_merge(&f, &db);
        assert_eq!(merge.status, MergeStatus::Same, "{merge:#?}");
        assert_cleaned_up(&merge, &db);
    });
}

#[test]
fn check_merges_exits_18_on_an_order_dependent_merge_and_0_otherwise() {
    for (fixture, code) in [(racing_creates(), 18), (independent_branches(), 0)] {
        let db = fixture.dir.path().join("app.db");
        let url = format!("sqlite://{}", db.display());
        let _ = fixture.project(&url);
        fixture.braid(&["upgrade", "heads"]).ok();
        // Up to date, and nothing else to report: the merge alone decides.
        fixture.braid(&["check"]).ok();
        let human = fixture.braid(&["check", "--merges"]).fails(code);
        let production = if code == 0 {
            "a1_ta, b1_tb"
        } else {
            "a1_x, b1_x"
        };
        assert!(
            human.stdout.contains(&format!(
                "Braid applies them in this order in production: {production}"
            )),
            "{}",
            human.stdout
        );
        let json = fixture
            .braid(&["--format", "json", "check", "--merges"])
            .fails(code)
            .json();
        let merge = &json["merges"]["backends"][0]["merges"][0];
        assert_eq!(merge["revision"], "m_ab", "{json}");
        if code == 0 {
            assert_eq!(merge["status"], "same", "{json}");
            assert!(
                human
                    .stdout
                    .contains("ok      m_ab: the same schema in 2 orders")
            );
            assert!(json.get("exit_code").is_none(), "{json}");
        } else {
            assert_eq!(merge["status"], "order_dependent", "{json}");
            assert_eq!(json["exit_code"], 18, "{json}");
            assert!(
                human.stdout.contains("FAILED  m_ab")
                    && human.stdout.contains(
                        "- b1_x then a1_x: a different schema than after `a1_x then b1_x`"
                    )
                    && human.stdout.contains("column `b` on `x`"),
                "{}",
                human.stdout
            );
        }
    }
}

/// Two branches that each add a column to one table: only the columns' order differs with the
/// order they run in, which the check leaves out (as `merge` reports the overlap as harmless).
#[test]
fn two_new_columns_on_one_table_are_not_order_dependent() {
    let mut f = Fixture::new();
    f.rev("root_t", &[], ROOT, "DROP TABLE t;")
        .rev(
            "a1_col",
            &["root_t"],
            "ALTER TABLE t ADD COLUMN a INT;",
            "ALTER TABLE t DROP COLUMN a;",
        )
        .rev(
            "b1_col",
            &["root_t"],
            "ALTER TABLE t ADD COLUMN b INT;",
            "ALTER TABLE t DROP COLUMN b;",
        )
        .rev("m_ab", &["a1_col", "b1_col"], NOTHING, NOTHING);
    each_backend(|db| {
        let project = f.project(&db.url);
        let report = project
            .check_merges(&MergesRequest {
                databases: Vec::new(),
                revisions: Vec::new(),
                url: None,
                jobs: None,
            })
            .unwrap();
        let merge = only_merge(report.backends, db);
        assert_eq!(merge.status, MergeStatus::Same, "{}: {merge:?}", db.dialect);
    });
}
