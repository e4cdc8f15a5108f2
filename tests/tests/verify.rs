//! `verify` through the library, on SQLite, Postgres and MariaDB: each revision up, down, up
//! again on a scratch database, snapshots compared; the scratch database dropped afterwards
//! and the configured database untouched.
//!
//! Postgres and MariaDB tests skip with a message when the server is unreachable, and fail
//! instead when `BRAID_REQUIRE_SERVERS=1`.

mod support;

use std::path::PathBuf;

use braid::verify::{
    BackendReport, Cleanup, Failure, RevisionOutcome, VerifyReport, VerifyRequest, VerifyStep,
    no_verify_events,
};
use braid::{Dialect, FailureKind, Operation, Project, RunSettings};
use braid_tests::{MysqlTarget, PostgresTarget};
use support::{
    Configured, assert_untouched, each_backend, scratch_exists, with_db, worked_example,
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

    /// Revision `id` after `parent`, running `up` and undone by `down`.
    fn rev(&mut self, id: &str, parent: Option<&str>, up: &str, down: &str) -> &mut Self {
        self.count += 1;
        let parents = parent.map(|p| format!("{p:?}")).unwrap_or_default();
        self.file(
            id,
            "revision.toml",
            &format!(
                "id = {id:?}\nparents = [{parents}]\nmessage = {id:?}\n\
                 created = 2026-01-01T00:00:{:02}Z\n",
                self.count
            ),
        );
        self.file(id, "up.sql", up);
        self.file(id, "down.sql", down)
    }

    /// Another file in revision `id`'s directory (`up.mysql.sql`, `verify.sql`).
    fn file(&mut self, id: &str, name: &str, text: &str) -> &mut Self {
        let dir = self.migrations().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        self
    }

    /// The project, its one database `app` at `url`.
    fn project(&self, url: &str) -> Project {
        support::project(self.dir.path(), &self.migrations(), url)
    }

    /// `verify` of every revision on `db`, checked to have cleaned up after itself.
    fn verify(&self, db: &Configured) -> BackendReport {
        self.verify_with(db, &VerifyRequest::default())
    }

    /// Verifies on a fresh Postgres database, where `revision` must fail its downgrade's
    /// schema check; `expect` looks at the differences.
    fn down_differences_on_postgres(&self, revision: &str, expect: impl FnOnce(&str) + Send) {
        with_db::<PostgresTarget>(|db| {
            let db = Configured {
                dialect: Dialect::Postgres,
                url: db.url.clone(),
            };
            let backend = self.verify(&db);
            let (step, failure) = failure(&backend, revision);
            assert_eq!(step, VerifyStep::DownSchema, "{failure}");
            expect(&differences(failure));
        });
    }

    fn verify_with(&self, db: &Configured, request: &VerifyRequest) -> BackendReport {
        let report = self
            .project(&db.url)
            .verify(request, &no_verify_events)
            .unwrap();
        only_backend(report, db)
    }
}

/// The report's one backend, after checking that its scratch database is gone and the
/// configured database was not touched.
#[track_caller]
fn only_backend(report: VerifyReport, db: &Configured) -> BackendReport {
    let [backend]: [BackendReport; 1] = report.backends.try_into().unwrap();
    assert_eq!(backend.dialect, db.dialect);
    assert!(
        matches!(backend.cleanup, Cleanup::Dropped),
        "[{}] {:?}",
        db.dialect,
        backend.cleanup
    );
    let scratch = backend.scratch.clone().expect("a scratch database");
    assert!(
        !scratch_exists(db, &scratch),
        "[{}] {scratch} is left",
        db.dialect
    );
    assert_untouched(db);
    backend
}

/// The step and failure of `revision`, which must have failed.
#[track_caller]
fn failure<'r>(backend: &'r BackendReport, revision: &str) -> (VerifyStep, &'r Failure) {
    let rev = backend
        .revisions
        .iter()
        .find(|r| r.revision == revision)
        .unwrap_or_else(|| panic!("no {revision} in {backend:#?}"));
    match &rev.outcome {
        RevisionOutcome::Failed { step, failure } => (*step, failure),
        other => panic!("[{}] {revision}: {other:?}", backend.dialect),
    }
}

/// The differences of a schema failure, one per line.
#[track_caller]
fn differences(failure: &Failure) -> String {
    match failure {
        Failure::Schema { differences } => differences
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("not a schema difference: {other}"),
    }
}

const USERS: &str = "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL);";

#[test]
fn a_good_history_passes() {
    let mut f = Fixture::new();
    f.rev("r1_users", None, USERS, "DROP TABLE users;")
        .rev(
            "r2_email_index",
            Some("r1_users"),
            "CREATE INDEX ix_users_email ON users (email);",
            "DROP INDEX ix_users_email;",
        )
        .file(
            "r2_email_index",
            "down.mysql.sql",
            "DROP INDEX ix_users_email ON users;",
        )
        .rev(
            "r3_nickname",
            Some("r2_email_index"),
            "ALTER TABLE users ADD COLUMN nickname VARCHAR(50);",
            "ALTER TABLE users DROP COLUMN nickname;",
        );
    each_backend(|db| {
        let backend = f.verify(db);
        assert!(backend.passed(), "{backend:#?}");
        let ids: Vec<&str> = backend
            .revisions
            .iter()
            .map(|r| r.revision.as_str())
            .collect();
        assert_eq!(ids, ["r1_users", "r2_email_index", "r3_nickname"]);
    });
}

/// A scratch database is thrown away, so its session does not wait for the disk at commit
/// where the backend lets a session choose: the revision below fails on a session that
/// flushes (Postgres's `synchronous_commit`, SQLite's `synchronous`). MySQL/MariaDB decide
/// it server-wide, and the revision passes there as it is.
#[test]
fn scratch_sessions_do_not_wait_for_the_disk() {
    let mut f = Fixture::new();
    f.rev(
        "r1_sync",
        None,
        "CREATE TABLE sync (level INTEGER CHECK (level = 0));",
        "DROP TABLE sync;",
    )
    .file(
        "r1_sync",
        "up.sqlite.sql",
        "CREATE TABLE sync (level INTEGER CHECK (level = 0));\n\
         INSERT INTO sync SELECT synchronous FROM pragma_synchronous;",
    )
    .file(
        "r1_sync",
        "up.postgres.sql",
        "CREATE TABLE sync (level INTEGER CHECK (level = 0));\n\
         INSERT INTO sync SELECT CASE current_setting('synchronous_commit') \
         WHEN 'off' THEN 0 ELSE 1 END;",
    );
    each_backend(|db| {
        let backend = f.verify(db);
        assert!(backend.passed(), "{backend:#?}");
    });
}

#[test]
fn a_down_that_forgets_an_index_is_caught_naming_it() {
    let mut f = Fixture::new();
    f.rev("r1_users", None, USERS, "DROP TABLE users;").rev(
        "r2_email_index",
        Some("r1_users"),
        "CREATE INDEX ix_users_email ON users (email);",
        "SELECT 1;",
    );
    each_backend(|db| {
        let backend = f.verify(db);
        assert!(!backend.passed());
        let (step, failure) = failure(&backend, "r2_email_index");
        assert_eq!(step, VerifyStep::DownSchema);
        let found = differences(failure);
        assert!(found.contains("ix_users_email"), "[{}] {found}", db.dialect);
        // The JSON a front end prints.
        let json = serde_json::to_value(&backend).unwrap();
        let r2 = &json["revisions"][1];
        assert_eq!(r2["status"], "failed", "{json:#}");
        assert_eq!(r2["step"], "down_schema", "{json:#}");
        assert_eq!(r2["failure"]["cause"], "schema", "{json:#}");
        assert_eq!(json["cleanup"]["status"], "dropped", "{json:#}");
    });
}

#[test]
fn a_down_that_restores_a_column_with_another_type_is_caught() {
    let mut f = Fixture::new();
    f.rev("r1_users", None, USERS, "DROP TABLE users;").rev(
        "r2_drop_email",
        Some("r1_users"),
        "ALTER TABLE users DROP COLUMN email;",
        "ALTER TABLE users ADD COLUMN email TEXT;",
    );
    each_backend(|db| {
        let backend = f.verify(db);
        let (step, failure) = failure(&backend, "r2_drop_email");
        assert_eq!(step, VerifyStep::DownSchema);
        let found = differences(failure);
        assert!(
            found.contains("email") && found.to_lowercase().contains("text"),
            "[{}] {found}",
            db.dialect
        );
    });
}

#[test]
fn a_trigger_left_behind_is_caught() {
    let mut f = Fixture::new();
    f.rev(
        "r1_counts",
        None,
        "CREATE TABLE counts (id INT PRIMARY KEY, n INT NOT NULL);",
        "DROP TABLE counts;",
    )
    .rev("r2_trigger", Some("r1_counts"), "SELECT 1;", "SELECT 1;")
    .file(
        "r2_trigger",
        "up.postgres.sql",
        "CREATE FUNCTION counts_bump() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN NEW.n := NEW.n + 1; RETURN NEW; END $$;\n\
         CREATE TRIGGER trg_counts_bump BEFORE INSERT ON counts\n\
         FOR EACH ROW EXECUTE FUNCTION counts_bump();\n",
    )
    .file(
        "r2_trigger",
        "up.mysql.sql",
        "CREATE TRIGGER trg_counts_bump BEFORE INSERT ON counts FOR EACH ROW SET NEW.n = NEW.n + 1;\n",
    )
    .file(
        "r2_trigger",
        "up.sqlite.sql",
        "CREATE TRIGGER trg_counts_bump AFTER INSERT ON counts\n\
         BEGIN UPDATE counts SET n = n + 1 WHERE id = NEW.id; END;\n",
    );
    each_backend(|db| {
        let backend = f.verify(db);
        let (step, failure) = failure(&backend, "r2_trigger");
        assert_eq!(step, VerifyStep::DownSchema, "[{}] {failure}", db.dialect);
        let found = differences(failure);
        assert!(
            found.contains("trg_counts_bump"),
            "[{}] {found}",
            db.dialect
        );
    });
}

/// A snapshot covers what a revision names: `DROP INDEX ix` names no table, yet the table
/// holding the index is compared (with its trigger, on SQLite, from the first snapshot on),
/// and the missing index is all the difference says.
#[test]
fn an_index_dropped_by_its_name_alone_and_not_restored_is_caught() {
    let users = format!("{USERS}\nCREATE INDEX ix_users_email ON users (email);");
    let mut f = Fixture::new();
    f.rev("r1_users", None, &users, "DROP TABLE users;")
        .file(
            "r1_users",
            "up.sqlite.sql",
            &format!(
                "{users}\nCREATE TRIGGER trg_users_touch AFTER UPDATE ON users\n\
             BEGIN SELECT 1; END;"
            ),
        )
        .rev(
            "r2_drop_index",
            Some("r1_users"),
            "DROP INDEX ix_users_email;",
            "SELECT 1;",
        )
        .file(
            "r2_drop_index",
            "up.mysql.sql",
            "DROP INDEX ix_users_email ON users;",
        );
    each_backend(|db| {
        let backend = f.verify(db);
        let (step, failure) = failure(&backend, "r2_drop_index");
        assert_eq!(step, VerifyStep::DownSchema, "[{}] {failure}", db.dialect);
        let found = differences(failure);
        assert!(
            found.contains("index `ix_users_email` on `users`") && found.lines().count() == 1,
            "[{}] {found}",
            db.dialect
        );
    });
}

/// A revision names a column `email`, which is also the name of an index on a table it does
/// not touch (MySQL names a `UNIQUE` column's index after the column), and the next revision
/// names that table: the last snapshot, read for both, holds the table, and the one after the
/// first upgrade (which MySQL reads by table names only) does not. That is no difference, and
/// the history passes.
#[test]
fn a_name_shared_with_an_index_of_another_table_is_not_a_difference() {
    let mut f = Fixture::new();
    f.rev(
        "r1_users",
        None,
        "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL);\n\
         CREATE UNIQUE INDEX email ON users (email);",
        "DROP TABLE users;",
    )
    .rev(
        "r2_tags",
        Some("r1_users"),
        "CREATE TABLE tags (id INT PRIMARY KEY);",
        "DROP TABLE tags;",
    )
    .rev(
        "r3_customers",
        Some("r2_tags"),
        "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100));",
        "DROP TABLE customers;",
    )
    .rev(
        "r4_nickname",
        Some("r3_customers"),
        "ALTER TABLE users ADD COLUMN nickname VARCHAR(50);",
        "ALTER TABLE users DROP COLUMN nickname;",
    );
    each_backend(|db| {
        let backend = f.verify(db);
        assert!(backend.passed(), "{backend:#?}");
    });
}

/// Code run by a migration can change what its text never names: such a revision is
/// compared on the whole schema, and the table its downgrade leaves behind is found.
#[test]
fn a_down_that_runs_code_is_compared_on_the_whole_schema() {
    let mut f = Fixture::new();
    f.rev(
        "r1_things",
        None,
        "CREATE TABLE things (id INT PRIMARY KEY);",
        "DROP TABLE things;\n\
         DO $$ BEGIN EXECUTE 'CREATE TABLE left' || 'over (id int)'; END $$;",
    );
    f.down_differences_on_postgres("r1_things", |found| {
        assert!(found.contains("leftover"), "{found}");
    });
}

/// A statement that would take the scratch session to another database (MySQL's `USE`,
/// SQLite's `ATTACH`) is refused before anything of its revision runs: the configured database
/// stays untouched (`only_backend` checks it), and the failure names the statement. A Postgres
/// session cannot change databases, and the same revision passes there.
#[test]
fn a_migration_that_switches_databases_is_refused_before_it_runs() {
    each_backend(|db| {
        let (switch, keyword) = match db.dialect {
            Dialect::Mysql => {
                let name = db
                    .url
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .split('?')
                    .next()
                    .unwrap();
                (format!("USE `{name}`;\n"), "USE")
            }
            Dialect::Sqlite => {
                let file = db.url.trim_start_matches("sqlite://");
                (format!("ATTACH DATABASE '{file}' AS app;\n"), "ATTACH")
            }
            Dialect::Postgres => (String::new(), ""),
        };
        let table = match db.dialect {
            Dialect::Sqlite => "app.leak",
            _ => "leak",
        };
        let mut f = Fixture::new();
        f.rev(
            "r1_leak",
            None,
            &format!("{switch}CREATE TABLE {table} (id INT);"),
            &format!("DROP TABLE {table};"),
        );
        let backend = f.verify(db);
        if db.dialect == Dialect::Postgres {
            assert!(backend.passed(), "{backend:#?}");
            return;
        }
        let (step, failure) = failure(&backend, "r1_leak");
        assert_eq!(step, VerifyStep::Up, "[{}] {failure}", db.dialect);
        let said = failure.to_string();
        assert!(
            said.contains(keyword) && said.contains("statement 1"),
            "[{}] {said}",
            db.dialect
        );
    });
}

/// A `pg_dump` script empties the `search_path` for the rest of the session and names every
/// object with its schema. The snapshots after it still read the schema the session started
/// in, so the next revision's downgrade that forgets to undo its change is caught (reading no
/// schema at all, it passed).
#[test]
fn snapshots_after_an_emptied_search_path_read_the_starting_schema() {
    let mut f = Fixture::new();
    f.rev(
        "r1_a",
        None,
        "SELECT pg_catalog.set_config('search_path', '', false);\n\
         CREATE TABLE public.a (id int);",
        "DROP TABLE public.a;",
    )
    .rev(
        "r2_not_null",
        Some("r1_a"),
        "ALTER TABLE public.a ALTER COLUMN id SET NOT NULL;",
        "SELECT 1;",
    );
    f.down_differences_on_postgres("r2_not_null", |found| {
        assert!(found.contains("id"), "{found}");
    });
}

/// A `serial` column's sequence is named by no statement that drops or recreates its table,
/// yet goes with the table: a downgrade that recreates the table gives it a fresh sequence,
/// and the options the history set on the old one (here its increment) are found lost.
#[test]
fn a_serial_columns_sequence_is_compared_with_its_table() {
    let mut f = Fixture::new();
    f.rev(
        "r1_s",
        None,
        "CREATE TABLE s (id serial);\nALTER SEQUENCE s_id_seq INCREMENT BY 10;",
        "DROP TABLE s;",
    )
    .rev(
        "r2_drop_s",
        Some("r1_s"),
        "DROP TABLE s;",
        "CREATE TABLE s (id serial);",
    );
    f.down_differences_on_postgres("r2_drop_s", |found| {
        assert!(
            found.contains("s_id_seq") && found.contains("INCREMENT 10"),
            "{found}"
        );
    });
}

/// A rename reaches what refers to the renamed table: SQLite rewrites the other tables'
/// foreign keys to follow it. A table rebuilt by renaming it away (which SQLite's documentation
/// warns against) leaves `orders` pointing at a table that is gone; the revision is compared
/// on the whole schema, and `orders` is in the difference though the scripts never name it.
#[test]
fn a_rename_is_compared_on_the_whole_schema() {
    let rebuild = |from: &str, columns: &str| {
        format!(
            "ALTER TABLE users RENAME TO {from};\n\
             CREATE TABLE users ({columns});\n\
             INSERT INTO users (id) SELECT id FROM {from};\n\
             DROP TABLE {from};"
        )
    };
    let mut f = Fixture::new();
    f.rev(
        "r1_orders",
        None,
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));",
        "DROP TABLE orders;\nDROP TABLE users;",
    )
    .rev(
        "r2_rebuild_users",
        Some("r1_orders"),
        &rebuild("users_old", "id INTEGER PRIMARY KEY, email TEXT"),
        &rebuild("users_new", "id INTEGER PRIMARY KEY"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let db = Configured {
        dialect: Dialect::Sqlite,
        url: format!("sqlite://{}", tmp.path().join("app.db").display()),
    };
    let backend = f.verify(&db);
    let (step, failure) = failure(&backend, "r2_rebuild_users");
    assert_eq!(step, VerifyStep::DownSchema, "{failure}");
    let found = differences(failure);
    assert!(found.contains("orders"), "{found}");
}

#[test]
fn an_up_that_cannot_run_again_after_its_down_is_caught() {
    let mut f = Fixture::new();
    f.rev(
        "r1_ledger",
        None,
        "CREATE TABLE ledger (id INT PRIMARY KEY);",
        "DROP TABLE ledger;",
    )
    // The down forgets the row the up inserted: the second up collides with it.
    .rev(
        "r2_seed",
        Some("r1_ledger"),
        "INSERT INTO ledger (id) VALUES (1);",
        "SELECT 1;",
    )
    .rev(
        "r3_after",
        Some("r2_seed"),
        "CREATE TABLE later (id INT);",
        "DROP TABLE later;",
    );
    each_backend(|db| {
        let backend = f.verify(db);
        let (step, failure) = failure(&backend, "r2_seed");
        assert_eq!(step, VerifyStep::UpAgain);
        assert!(
            matches!(
                failure,
                Failure::Run {
                    kind: FailureKind::Migration | FailureKind::Partial,
                    ..
                }
            ),
            "[{}] {failure:?}",
            db.dialect
        );
        // The backend stops at its first failure.
        let last = backend.revisions.last().unwrap();
        assert_eq!(last.revision, "r3_after");
        assert!(matches!(last.outcome, RevisionOutcome::NotVerified));
    });
}

#[test]
fn a_data_check_catches_a_down_that_loses_rows() {
    let mut f = Fixture::new();
    f.rev("r1_users", None, USERS, "DROP TABLE users;")
        .rev(
            "r2_split",
            Some("r1_users"),
            "CREATE TABLE old_users (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL);\n\
             INSERT INTO old_users SELECT id, email FROM users WHERE id > 1;\n\
             DELETE FROM users WHERE id > 1;",
            // Drops the moved rows instead of moving them back.
            "DROP TABLE old_users;",
        )
        .file(
            "r2_split",
            "verify.sql",
            "-- braid:setup\n\
             INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x');\n\
             -- braid:check\n\
             SELECT count(*) FROM users;\n\
             SELECT id, email FROM users ORDER BY id;\n",
        );
    each_backend(|db| {
        let backend = f.verify(db);
        let (step, failure) = failure(&backend, "r2_split");
        assert_eq!(step, VerifyStep::DownData);
        let Failure::Data(mismatch) = failure else {
            panic!("[{}] {failure:?}", db.dialect);
        };
        assert_eq!(mismatch.index, 1, "{mismatch}");
        assert!(mismatch.before.contains("(3)"), "{mismatch}");
        assert!(mismatch.after.contains("(1)"), "{mismatch}");
    });
}

#[test]
fn changed_checks_only_what_no_configured_database_has_applied() {
    let mut f = Fixture::new();
    f.rev("r1_users", None, USERS, "DROP TABLE users;").rev(
        "r2_email_index",
        Some("r1_users"),
        "CREATE INDEX ix_users_email ON users (email);",
        // Wrong, but r2 is what is checked, and it is caught.
        "SELECT 1;",
    );
    each_backend(|db| {
        let project = f.project(&db.url);
        let upgrade = Operation::Upgrade {
            target: "r1_users".into(),
            phase: None,
        };
        let results = project
            .run(&RunSettings::default(), &upgrade, &braid_runner::no_events)
            .unwrap();
        assert!(results[0].error.is_none(), "{results:?}");
        let request = VerifyRequest {
            changed: true,
            ..VerifyRequest::default()
        };
        let report = project.verify(&request, &no_verify_events).unwrap();
        let [backend]: [BackendReport; 1] = report.backends.try_into().unwrap();
        let ids: Vec<&str> = backend
            .revisions
            .iter()
            .map(|r| r.revision.as_str())
            .collect();
        assert_eq!(ids, ["r2_email_index"], "[{}] {backend:#?}", db.dialect);
        assert!(matches!(backend.cleanup, Cleanup::Dropped));
        // The configured database still has r1 only.
        let current = project
            .run(
                &RunSettings::default(),
                &Operation::Current,
                &braid_runner::no_events,
            )
            .unwrap();
        assert_eq!(current[0].current, ["r1_users"], "[{}]", db.dialect);
    });
}

#[test]
fn url_makes_the_scratch_database_on_another_server_and_passwords_stay_hidden() {
    let mut f = Fixture::new();
    f.rev("r1_users", None, USERS, "DROP TABLE users;");
    let servers = [
        ("postgres://app:s3cretpw@127.0.0.1:1/app", Dialect::Postgres),
        ("mysql://app:s3cretpw@127.0.0.1:1/app", Dialect::Mysql),
    ];
    for (configured, dialect) in servers {
        let project = f.project(configured);
        // The configured server is unreachable: reported, without its password.
        let report = project
            .verify(&VerifyRequest::default(), &no_verify_events)
            .unwrap();
        let backend = &report.backends[0];
        let error = backend.error.as_ref().expect("an unreachable server");
        let json = serde_json::to_string(&report).unwrap();
        for shown in [error.to_string(), backend.server.clone(), json] {
            assert!(!shown.contains("s3cretpw"), "{shown}");
        }
        assert!(matches!(backend.cleanup, Cleanup::NotCreated));
        assert!(!report.passed());
        // With --url, the scratch database is made on the test server instead.
        let run = |db: &mut braid_tests::TestDb| {
            let request = VerifyRequest {
                url: Some(db.url.clone()),
                ..VerifyRequest::default()
            };
            let report = project.verify(&request, &no_verify_events).unwrap();
            let backend = &report.backends[0];
            assert!(backend.passed(), "{backend:#?}");
            let scratch = backend.scratch.as_deref().unwrap();
            let on_server = Configured {
                dialect,
                url: db.url.clone(),
            };
            assert!(!scratch_exists(&on_server, scratch));
        };
        match dialect {
            Dialect::Postgres => with_db::<PostgresTarget>(run),
            _ => with_db::<MysqlTarget>(run),
        }
    }
}

/// A configured Postgres URL whose query names the database (`dbname=`, which tokio-postgres
/// lets override the path, here with its name percent-encoded) must not send the walk to the
/// configured database: the server is asked first, and nothing runs.
#[test]
fn a_url_parameter_naming_the_database_cannot_redirect_verify() {
    with_db::<PostgresTarget>(|db| {
        let configured = Configured {
            dialect: Dialect::Postgres,
            url: db.url.clone(),
        };
        let database = db.url.rsplit('/').next().unwrap().to_string();
        let sneaky = format!("{}?%64bname={database}", db.url);
        let mut f = Fixture::new();
        f.rev("r1_t", None, "CREATE TABLE t (id INT);", "DROP TABLE t;");
        let report = f
            .project(&sneaky)
            .verify(&VerifyRequest::default(), &no_verify_events)
            .unwrap();
        assert!(!report.passed());
        let [backend]: [BackendReport; 1] = report.backends.try_into().unwrap();
        let error = backend.error.as_ref().expect("refused").to_string();
        assert!(error.contains("nothing was run"), "{error}");
        assert!(
            matches!(backend.cleanup, Cleanup::Dropped),
            "{:?}",
            backend.cleanup
        );
        assert_untouched(&configured);
    });
}

#[test]
fn the_worked_example_verifies() {
    each_backend(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let project = worked_example(tmp.path(), &db.url);
        let report = project
            .verify(&VerifyRequest::default(), &no_verify_events)
            .unwrap();
        let backend = only_backend(report, db);
        assert!(backend.passed(), "{backend:#?}");
        assert_eq!(backend.revisions.len(), 11);
    });
}

/// What `verify` costs next to `upgrade`, on the worked example, per backend: run with
/// `cargo test -p braid-tests --test verify -- --ignored --nocapture`. (Timings are not
/// asserted: they depend on the machine.)
#[test]
#[ignore]
fn verify_cost_against_upgrade() {
    each_backend(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let project = worked_example(tmp.path(), &db.url);
        let settings = RunSettings::default();
        let up = Operation::Upgrade {
            target: "heads".into(),
            phase: None,
        };
        let down = Operation::Downgrade {
            target: "base".into(),
        };
        let mut upgrades = Vec::new();
        let mut verifies = Vec::new();
        let mut checks = Vec::new();
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let done = project
                .run(&settings, &up, &braid_runner::no_events)
                .unwrap();
            upgrades.push(started.elapsed());
            assert!(done[0].error.is_none(), "{done:?}");
            project
                .run(&settings, &down, &braid_runner::no_events)
                .unwrap();
            let started = std::time::Instant::now();
            let report = project
                .verify(&VerifyRequest::default(), &no_verify_events)
                .unwrap();
            verifies.push(started.elapsed());
            assert!(report.passed(), "{report:#?}");
            let revisions = report.backends[0].revisions.iter().map(|r| r.ms);
            checks.push(std::time::Duration::from_millis(revisions.sum()));
        }
        upgrades.sort();
        verifies.sort();
        checks.sort();
        let (upgrade, verify, check) = (upgrades[2], verifies[2], checks[2]);
        eprintln!(
            "[{}] upgrade {upgrade:?}, verify {verify:?} ({check:?} checking revisions, the \
             rest making and dropping the scratch database): {:.1}x",
            db.dialect,
            verify.as_secs_f64() / upgrade.as_secs_f64()
        );
    });
}
