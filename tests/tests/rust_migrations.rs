//! Rust migrations (sea-orm-migration's `MigrationTrait`) in Braid's graph, run through Braid's
//! drivers and runner: the worked examples on every backend, their offline SQL per dialect
//! (insta snapshots), a mixed SQL/Rust graph with a merge, and the failure modes (render panics,
//! offline questions, binaries built without a revision, edited sources).

use std::path::{Path, PathBuf};

use braid_driver::{Dialect, Driver};
use braid_graph::{Body, Direction, Graph};
use braid_runner::{
    Bodies, DEFAULT_VERSION_TABLE, OfflineOp, RunError, RunOptions, Runner, StoreNames, no_events,
    render_offline,
};
use braid_seaorm::prelude::*;
use braid_seaorm::{Registry, RustBodies};
use braid_tests::{MysqlTarget, PostgresTarget, SqliteTarget, TestDb, TestTarget, fresh_or_skip};

fn repo_migrations() -> PathBuf {
    braid_tests::repo_migrations()
}

fn repo_registry() -> Registry {
    braid_tests::repo_rust_revisions().registry().clone()
}

fn repo_graph() -> Graph {
    braid_source::load(&repo_migrations()).expect("load the repository's migrations")
}

/// User tables, lowercased and sorted, Braid's own left out.
async fn user_tables(driver: &mut dyn Driver) -> Vec<String> {
    let schema = driver.introspect().await.expect("introspect");
    let mut names: Vec<String> = schema
        .tables
        .iter()
        .map(|t| t.name.to_lowercase())
        .filter(|n| !n.starts_with("braid_"))
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// The worked examples on every backend
// ---------------------------------------------------------------------------------------------

/// The repository's graph (Rust core revisions, SQL audit/billing revisions with per-backend
/// overrides, a merge): up to each Rust revision, then heads, down to base, up again.
async fn examples_round_trip(db: &mut TestDb) {
    let graph = repo_graph();
    let registry = repo_registry();
    let rust: Vec<&str> = graph
        .in_order()
        .filter(|r| matches!(r.body, Body::Rust { .. }))
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(rust, ["core1_users", "core2_user_preferences"]);
    assert_eq!(registry.ids().collect::<Vec<_>>(), rust);
    let bodies = RustBodies::new(&registry);
    let runner = Runner::new("app", &graph, RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let driver = db.driver.as_mut();
    let target = db.target;

    runner
        .upgrade(driver, "core1_users", &no_events)
        .await
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    assert_eq!(user_tables(driver).await, ["users"], "[{target}]");

    runner
        .upgrade(driver, "core2_user_preferences", &no_events)
        .await
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    assert_eq!(
        user_tables(driver).await,
        ["user_preferences", "users"],
        "[{target}]"
    );
    let schema = driver.introspect().await.unwrap();
    let prefs = schema
        .tables
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case("user_preferences"))
        .unwrap();
    assert!(
        prefs
            .indexes
            .iter()
            .any(|i| i.name == "ix_user_preferences_user_id" && i.columns == ["user_id"]),
        "[{target}] {:?}",
        prefs.indexes
    );
    let fk = prefs.foreign_keys.first().expect("a foreign key");
    assert_eq!(fk.columns, ["user_id"], "[{target}]");
    assert!(
        fk.referenced_table.eq_ignore_ascii_case("users"),
        "[{target}]"
    );
    assert_eq!(
        fk.on_delete
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref(),
        Some("CASCADE"),
        "[{target}]"
    );
    // The foreign key is enforced with the cascade the SQL version had.
    let p = |n| braid_tests::param(db.dialect, n);
    driver
        .execute(
            &format!("INSERT INTO users (email) VALUES ({})", p(1)),
            &["a@example.com".into()],
        )
        .await
        .unwrap();

    let report = runner
        .upgrade(driver, "heads", &no_events)
        .await
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    assert_eq!(report.to, ["zd4_plans_drop_price_cents"]);
    let report = runner
        .downgrade(driver, "base", &no_events)
        .await
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    assert_eq!(report.steps.len(), 11);
    assert!(user_tables(driver).await.is_empty(), "[{target}]");
    let report = runner
        .upgrade(driver, "heads", &no_events)
        .await
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    assert_eq!(report.steps.len(), 11);
    let tables = user_tables(driver).await;
    assert!(
        tables.contains(&"users".to_string()) && tables.contains(&"user_preferences".to_string()),
        "[{target}] {tables:?}"
    );
    // Checksums recorded for Rust revisions are those of their source files: `check` is clean.
    let status = runner.status(driver).await.unwrap();
    assert!(
        status.edited.is_empty(),
        "[{target}] edited: {:?}",
        status.edited
    );
}

async fn on<T: TestTarget>() {
    let Some(mut db) = fresh_or_skip::<T>().await else {
        return;
    };
    examples_round_trip(&mut db).await;
    db.teardown().await;
}

#[tokio::test]
async fn examples_round_trip_on_sqlite() {
    on::<SqliteTarget>().await;
}

#[tokio::test]
async fn examples_round_trip_on_postgres() {
    on::<PostgresTarget>().await;
}

#[tokio::test]
async fn examples_round_trip_on_mariadb() {
    on::<MysqlTarget>().await;
}

// ---------------------------------------------------------------------------------------------
// Offline SQL
// ---------------------------------------------------------------------------------------------

/// Every example Rust migration's statements, per dialect and direction, as snapshots.
#[test]
fn offline_sql_of_each_rust_migration_per_dialect() {
    let registry = repo_registry();
    let mut count = 0;
    for id in registry.ids() {
        let migration = registry.get(id).unwrap();
        for dialect in Dialect::ALL {
            for direction in [Direction::Up, Direction::Down] {
                let which = match direction {
                    Direction::Up => "up",
                    Direction::Down => "down",
                };
                let sql = braid_seaorm::recorder::render(&*migration, dialect, direction)
                    .unwrap_or_else(|e| panic!("{id} {which} {dialect}: {e}"));
                insta::assert_snapshot!(format!("{id}__{which}__{dialect}"), sql);
                count += 1;
            }
        }
    }
    assert_eq!(count, 12);
}

/// `upgrade --sql` over the repository graph renders the Rust bodies for each dialect between
/// the SQL ones, with the checksum of the source file.
#[test]
fn offline_upgrade_script_renders_rust_bodies() {
    let graph = repo_graph();
    let registry = repo_registry();
    let bodies = RustBodies::new(&registry);
    let names = StoreNames::new(DEFAULT_VERSION_TABLE, None).unwrap();
    let rev = graph.lookup("core1_users").unwrap();
    let sum = braid_source::checksum_revision(rev, Dialect::Sqlite).unwrap();
    for dialect in Dialect::ALL {
        let op = OfflineOp::Upgrade {
            from: None,
            to: "heads",
        };
        let script = render_offline(&graph, dialect, &op, &names, &bodies).unwrap();
        let users = script.find("CREATE TABLE").unwrap();
        let prefs = script
            .find("-- Running upgrade core1_users -> core2_user_preferences")
            .unwrap();
        let audit = script
            .find("-- Running upgrade core2_user_preferences -> audit1_log")
            .unwrap();
        assert!(users < prefs && prefs < audit, "{dialect}:\n{script}");
        assert!(script.contains(&sum), "{dialect}: checksum of migration.rs");
        let create_users = match dialect {
            Dialect::Mysql => "CREATE TABLE `users`",
            _ => "CREATE TABLE \"users\"",
        };
        assert!(script.contains(create_users), "{dialect}:\n{script}");

        let op = OfflineOp::Downgrade {
            from: Some("heads"),
            to: "base",
        };
        let script = render_offline(&graph, dialect, &op, &names, &bodies).unwrap();
        assert!(script.contains("DROP TABLE"), "{dialect}:\n{script}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-built graphs: test migrations registered by hand
// ---------------------------------------------------------------------------------------------

/// What a test migration does.
#[derive(Clone, Copy)]
enum Kind {
    /// Creates `log` and logs itself, in one multi-statement `execute_unprepared` (the batch path).
    CreateLog,
    /// Logs itself with a bound parameter (sea-query `INSERT`), after checking `log` exists.
    Log,
    /// `ALTER TABLE` with two options: sea-query panics rendering it for SQLite.
    Boom,
    /// Asks whether a table exists.
    Asks,
}

struct TestMigration {
    id: &'static str,
    kind: Kind,
}

impl MigrationName for TestMigration {
    fn name(&self) -> &str {
        self.id
    }
}

async fn log(manager: &SchemaManager<'_>, id: &str) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table("log")
        .columns(["id"])
        .values_panic([id.into()])
        .to_owned();
    manager.get_connection().execute(&insert).await.map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for TestMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match self.kind {
            Kind::CreateLog => manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE TABLE log (id VARCHAR(50) NOT NULL);\nINSERT INTO log (id) VALUES ('{}');",
                    self.id
                ))
                .await
                .map(|_| ()),
            Kind::Log => {
                assert!(manager.table_exists("log").await?, "log exists");
                assert!(manager.column_exists("log", "id").await?);
                assert!(!manager.column_exists("log", "nope").await?);
                assert!(!manager.table_exists("nope").await?);
                log(manager, self.id).await
            }
            Kind::Boom => {
                manager
                    .alter_table(
                        Table::alter()
                            .table("log")
                            .add_column(ColumnDef::new("a").integer())
                            .add_column(ColumnDef::new("b").integer())
                            .to_owned(),
                    )
                    .await
            }
            Kind::Asks => {
                if !manager.table_exists("log").await? {
                    log(manager, self.id).await?;
                }
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match self.kind {
            Kind::CreateLog => {
                manager
                    .drop_table(Table::drop().table("log").to_owned())
                    .await
            }
            _ => {
                let delete = Query::delete()
                    .from_table("log")
                    .and_where(Expr::col("id").eq(self.id))
                    .to_owned();
                manager.get_connection().execute(&delete).await.map(|_| ())
            }
        }
    }
}

/// A migrations directory in a temp dir, plus the registry a build of it would have.
struct Fixture {
    dir: tempfile::TempDir,
    registry: Registry,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            registry: Registry::new(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn meta(id: &str, parents: &[&str], created: &str) -> String {
        let parents: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
        format!(
            "id = {id:?}\nparents = [{}]\nmessage = {id:?}\ncreated = {created}\n",
            parents.join(", ")
        )
    }

    fn rust(&mut self, id: &'static str, parents: &[&str], created: &str, kind: Kind) {
        let dir = self.path().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = format!(
            "{}rust = \"migration.rs\"\n",
            Self::meta(id, parents, created)
        );
        std::fs::write(dir.join("revision.toml"), meta).unwrap();
        let source: &'static str = Box::leak(format!("// test migration {id}\n").into_boxed_str());
        std::fs::write(dir.join("migration.rs"), source).unwrap();
        self.registry
            .add(id, "(test)", source, Box::new(TestMigration { id, kind }));
    }

    fn sql(&self, id: &str, parents: &[&str], created: &str) {
        let dir = self.path().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("revision.toml"), Self::meta(id, parents, created)).unwrap();
        std::fs::write(
            dir.join("up.sql"),
            format!("INSERT INTO log (id) VALUES ('{id}');\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("down.sql"),
            format!("DELETE FROM log WHERE id = '{id}';\n"),
        )
        .unwrap();
    }

    fn graph(&self) -> Graph {
        braid_source::load(self.path()).unwrap()
    }

    async fn sqlite(&self) -> Box<dyn Driver> {
        let url = format!("sqlite://{}", self.path().join("app.db").display());
        Box::new(braid_sqlite::open(&url).await.unwrap())
    }
}

async fn logged(driver: &mut dyn Driver) -> Vec<String> {
    let rows = driver
        .query("SELECT id FROM log ORDER BY rowid", &[])
        .await
        .unwrap();
    rows.rows
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect()
}

/// m1 (Rust) → { s2a (SQL), r2b (Rust) } → s3 (SQL merge) → r4 (Rust): applied in graph order,
/// reverted in reverse order, through one driver and the runner's transactions.
#[tokio::test]
async fn mixed_sql_and_rust_graph_with_a_merge_runs_in_order() {
    let mut f = Fixture::new();
    f.rust("m1", &[], "2026-01-01T00:00:00Z", Kind::CreateLog);
    f.sql("s2a", &["m1"], "2026-01-02T00:00:00Z");
    f.rust("r2b", &["m1"], "2026-01-03T00:00:00Z", Kind::Log);
    f.sql("s3", &["s2a", "r2b"], "2026-01-04T00:00:00Z");
    f.rust("r4", &["s3"], "2026-01-05T00:00:00Z", Kind::Log);
    let graph = f.graph();
    let order: Vec<&str> = graph.in_order().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["m1", "s2a", "r2b", "s3", "r4"]);

    let bodies = RustBodies::new(&f.registry);
    let runner = Runner::new("app", &graph, RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let mut db = f.sqlite().await;
    let report = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    let steps: Vec<&str> = report.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(steps, order);
    assert_eq!(logged(db.as_mut()).await, order);

    // Down to m1: r4, s3, then both branches.
    let report = runner
        .downgrade(db.as_mut(), "m1", &no_events)
        .await
        .unwrap();
    assert_eq!(report.steps.len(), 4);
    assert_eq!(report.steps[0].revision, "r4");
    assert_eq!(report.steps[1].revision, "s3");
    assert_eq!(logged(db.as_mut()).await, ["m1"]);

    runner
        .downgrade(db.as_mut(), "base", &no_events)
        .await
        .unwrap();
    assert!(user_tables(db.as_mut()).await.is_empty());
}

/// A failing Rust migration rolls back like a failing SQL one, and reports the driver's error
/// with the statement.
#[tokio::test]
async fn a_failing_statement_is_reported_with_the_statement_and_rolled_back() {
    let mut f = Fixture::new();
    f.rust("m1", &[], "2026-01-01T00:00:00Z", Kind::CreateLog);
    // `log` exists already: creating it again fails inside the second migration.
    f.rust("m2", &["m1"], "2026-01-02T00:00:00Z", Kind::CreateLog);
    let graph = f.graph();
    let bodies = RustBodies::new(&f.registry);
    let runner = Runner::new("app", &graph, RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let mut db = f.sqlite().await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RunError::Step(_)), "{msg}");
    assert!(
        msg.contains("`m2`") && msg.contains("CREATE TABLE log"),
        "{msg}"
    );
    assert!(msg.contains("already exists"), "{msg}");
    assert_eq!(err.kept_steps().len(), 1);
    assert_eq!(logged(db.as_mut()).await, ["m1"]);
}

/// sea-query panics rendering an SQLite `ALTER TABLE` with two options: online it is a step
/// failure naming the revision; offline it is an error naming it; Postgres renders it fine.
#[tokio::test]
async fn a_render_panic_is_an_error_naming_the_revision() {
    let mut f = Fixture::new();
    f.rust("m1", &[], "2026-01-01T00:00:00Z", Kind::CreateLog);
    f.rust("boom", &["m1"], "2026-01-02T00:00:00Z", Kind::Boom);
    let graph = f.graph();
    let bodies = RustBodies::new(&f.registry);
    let runner = Runner::new("app", &graph, RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let mut db = f.sqlite().await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("boom") && msg.contains("panicked"), "{msg}");
    assert!(msg.contains("multiple alter options"), "{msg}");
    assert_eq!(logged(db.as_mut()).await, ["m1"]);

    let names = StoreNames::new(DEFAULT_VERSION_TABLE, None).unwrap();
    let op = OfflineOp::Upgrade {
        from: None,
        to: "heads",
    };
    let err = render_offline(&graph, Dialect::Sqlite, &op, &names, &bodies).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`boom`") && msg.contains("panicked"), "{msg}");
    let pg = render_offline(&graph, Dialect::Postgres, &op, &names, &bodies).unwrap();
    assert!(
        pg.contains(r#"ALTER TABLE "log" ADD COLUMN "a" integer, ADD COLUMN "b" integer;"#),
        "{pg}"
    );
}

/// A migration that asks the database a question cannot be rendered offline; live, it runs.
#[tokio::test]
async fn offline_mode_reports_a_migration_that_asks_the_database() {
    let mut f = Fixture::new();
    f.rust("m1", &[], "2026-01-01T00:00:00Z", Kind::CreateLog);
    f.rust("asks", &["m1"], "2026-01-02T00:00:00Z", Kind::Asks);
    let graph = f.graph();
    let bodies = RustBodies::new(&f.registry);
    let names = StoreNames::new(DEFAULT_VERSION_TABLE, None).unwrap();
    let op = OfflineOp::Upgrade {
        from: None,
        to: "heads",
    };
    for dialect in Dialect::ALL {
        let err = render_offline(&graph, dialect, &op, &names, &bodies).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`asks`") && msg.contains("needs a live database"),
            "{dialect}: {msg}"
        );
    }
    // Up to m1 only, offline, is fine.
    let op = OfflineOp::Upgrade {
        from: None,
        to: "m1",
    };
    let script = render_offline(&graph, Dialect::Sqlite, &op, &names, &bodies).unwrap();
    assert!(script.contains("CREATE TABLE log"), "{script}");

    let runner = Runner::new("app", &graph, RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let mut db = f.sqlite().await;
    runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(logged(db.as_mut()).await, ["m1"]);
}

/// A Rust revision this binary was built without, or whose file changed since, says to rebuild.
#[test]
fn a_rust_revision_missing_from_the_build_or_edited_says_rebuild() {
    let mut f = Fixture::new();
    f.rust("m1", &[], "2026-01-01T00:00:00Z", Kind::CreateLog);
    let graph = f.graph();
    let rev = graph.lookup("m1").unwrap();

    let empty = Registry::new();
    let err = RustBodies::new(&empty)
        .script(rev, Direction::Up, Dialect::Sqlite)
        .unwrap_err();
    assert!(
        err.message.contains("built without") && err.message.contains("rebuild"),
        "{}",
        err.message
    );

    std::fs::write(f.path().join("m1/migration.rs"), "// edited\n").unwrap();
    let err = RustBodies::new(&f.registry)
        .script(rev, Direction::Up, Dialect::Sqlite)
        .unwrap_err();
    assert!(
        err.message.contains("changed since this binary was built"),
        "{}",
        err.message
    );

    // The default bodies (no Rust support) refuse clearly too.
    let err = braid_runner::SourceBodies
        .script(rev, Direction::Up, Dialect::Sqlite)
        .unwrap_err();
    assert!(err.message.contains("Rust migration"), "{}", err.message);
}

/// The Rust bodies' scripts carry code and checksum the source; SQL ones are unchanged.
#[test]
fn rust_scripts_checksum_their_source() {
    let graph = repo_graph();
    let registry = repo_registry();
    let bodies = RustBodies::new(&registry);
    for rev in graph.in_order() {
        let script = bodies
            .script(rev, Direction::Up, Dialect::Postgres)
            .unwrap();
        let (sum, origin) = bodies.current_checksum(rev, Dialect::Postgres).unwrap();
        assert_eq!(sum, braid_source::checksum(&script.text));
        match rev.body {
            Body::Rust { ref source, .. } => {
                assert!(script.code.is_some());
                assert_eq!(origin, source.display().to_string());
                assert_eq!(
                    sum,
                    braid_source::checksum(&std::fs::read_to_string(source).unwrap())
                );
            }
            _ => assert!(script.code.is_none()),
        }
    }
}

/// An applied Rust migration whose source changed is "edited" like an SQL one (`check` reports
/// it, `upgrade` refuses, `accept` takes the new checksum) even though this binary still holds
/// the old code: checksums come from the file on disk.
#[tokio::test]
async fn an_edited_applied_rust_migration_is_reported_and_accepted() {
    let mut f = Fixture::new();
    f.rust("m1", &[], "2026-01-01T00:00:00Z", Kind::CreateLog);
    f.sql("s2", &["m1"], "2026-01-02T00:00:00Z");
    let graph = f.graph();
    let bodies = RustBodies::new(&f.registry);
    let runner = Runner::new("app", &graph, RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let mut db = f.sqlite().await;
    runner.upgrade(db.as_mut(), "m1", &no_events).await.unwrap();

    // Whitespace does not count.
    let file = f.path().join("m1/migration.rs");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace('\n', "  \r\n")).unwrap();
    assert!(runner.status(db.as_mut()).await.unwrap().edited.is_empty());

    std::fs::write(&file, format!("{text}// an edit after the fact\n")).unwrap();
    let status = runner.status(db.as_mut()).await.unwrap();
    assert_eq!(status.edited.len(), 1);
    assert_eq!(status.edited[0].0, "m1");
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Edited { .. }), "{err}");
    runner.accept(db.as_mut(), "m1").await.unwrap();
    runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(logged(db.as_mut()).await, ["m1", "s2"]);
}
