//! End-to-end tests against the real Postgres and MariaDB servers, through the real binary:
//! the example migrations on every backend, three backends from one command, racing processes,
//! a migration that fails on MySQL only (statement-level progress and resume), faults
//! (unreachable, wrong password, missing database) and a killed run.
//!
//! Each test makes its own uniquely named database(s) and drops them; a server that cannot be
//! reached skips the test with a message, or fails it under `BRAID_REQUIRE_SERVERS=1`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use braid_driver::Driver;
use braid_tests::{MysqlTarget, PostgresTarget, TestDb};
use support::{Run, migrate_with, with_conn, with_db, xtask_bin};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

fn config(dir: &Path, databases: &[(&str, &str)]) -> PathBuf {
    let mut text = String::from("[default]\nlock_timeout_secs = 60\n");
    for (name, url) in databases {
        text.push_str(&format!("[default.databases.{name}]\nurl = \"{url}\"\n"));
    }
    let path = dir.join("braid.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json(migrations: &Path, config: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    migrate_with(migrations, Some(config), &all, &[])
        .ok()
        .json()
}

/// The user tables of a database, sorted, Braid's own left out.
fn tables(db: &TestDb) -> Vec<String> {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        d.introspect().await.unwrap()
    })
    .tables
    .into_iter()
    .map(|t| t.name)
    .filter(|n| !n.starts_with("braid_version"))
    .collect()
}

/// How many version rows the database holds (0 when the store does not exist yet).
fn version_rows(db: &TestDb) -> usize {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        d.query("SELECT revision FROM braid_version", &[])
            .await
            .map(|r| r.rows.len())
            .unwrap_or(0)
    })
}

fn round_trip(db: &mut TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), &[("db", &db.url)]);
    let m = examples();
    let up = json(&m, &cfg, &["upgrade", "heads"]);
    assert_eq!(up["databases"][0]["status"], "ok", "{up}");
    assert_eq!(up["databases"][0]["applied"].as_array().unwrap().len(), 11);
    let t = tables(db);
    for table in [
        "users",
        "user_preferences",
        "audit_log",
        "plans",
        "subscriptions",
    ] {
        assert!(
            t.contains(&table.to_string()),
            "{} lacks {table}: {t:?}",
            db.target
        );
    }
    let down = json(&m, &cfg, &["downgrade", "base"]);
    assert_eq!(down["databases"][0]["current"], serde_json::json!([]));
    assert_eq!(
        tables(db),
        Vec::<String>::new(),
        "every down undoes its up on {}",
        db.target
    );
    let again = json(&m, &cfg, &["upgrade", "heads"]);
    assert_eq!(
        again["databases"][0]["applied"].as_array().unwrap().len(),
        11
    );
    migrate_with(&m, Some(&cfg), &["check"], &[]).ok();
}

#[test]
fn examples_round_trip_on_postgres() {
    with_db::<PostgresTarget>(round_trip);
}

#[test]
fn examples_round_trip_on_mariadb() {
    with_db::<MysqlTarget>(round_trip);
}

#[test]
fn three_backends_from_one_command() {
    with_db::<PostgresTarget>(|pg| {
        with_db::<MysqlTarget>(|my| {
            let tmp = tempfile::tempdir().unwrap();
            let lite = format!("sqlite://{}", tmp.path().join("app.db").display());
            let cfg = config(
                tmp.path(),
                &[("lite", &lite), ("pg", &pg.url), ("my", &my.url)],
            );
            let m = examples();
            let out = json(&m, &cfg, &["upgrade", "heads"]);
            let dbs = out["databases"].as_array().unwrap();
            assert_eq!(dbs.len(), 3);
            for db in dbs {
                assert_eq!(db["status"], "ok", "{db}");
                assert_eq!(
                    db["current"],
                    serde_json::json!(["zd4_plans_drop_price_cents"])
                );
                assert_eq!(db["applied"].as_array().unwrap().len(), 11);
            }
            let human = migrate_with(&m, Some(&cfg), &["current"], &[]).ok().stdout;
            for name in ["lite", "pg", "my"] {
                assert!(
                    human.contains(&format!("{name}: zd4_plans_drop_price_cents")),
                    "{human}"
                );
            }
            let table = migrate_with(&m, Some(&cfg), &["downgrade", "base"], &[])
                .ok()
                .stdout;
            for name in ["lite", "pg", "my"] {
                assert!(
                    table.contains(name),
                    "the summary has a row per database:\n{table}"
                );
            }
        })
    });
}

fn race(db: &mut TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), &[("db", &db.url)]);
    let m = examples();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(xtask_bin())
                .args(["migrate", "--format", "json", "--migrations"])
                .arg(&m)
                .arg("--config")
                .arg(&cfg)
                .args(["upgrade", "heads"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let run: Run = child.wait_with_output().unwrap().into();
        applied += run.ok().json()["databases"][0]["applied"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(
        applied, 11,
        "{}: each revision applied exactly once",
        db.target
    );
    assert_eq!(version_rows(db), 11);
}

#[test]
fn eight_racing_processes_on_postgres() {
    with_db::<PostgresTarget>(race);
}

#[test]
fn eight_racing_processes_on_mariadb() {
    with_db::<MysqlTarget>(race);
}

/// Writes a revision directory.
fn revision(dir: &Path, id: &str, parents: &[&str], files: &[(&str, &str)]) {
    let rev = dir.join(id);
    std::fs::create_dir_all(&rev).unwrap();
    let parents = parents
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        rev.join("revision.toml"),
        format!("id = \"{id}\"\nparents = [{parents}]\nmessage = \"{id}\"\ncreated = 2026-11-26T00:00:0{}Z\n", id.len() % 10),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(rev.join(name), text).unwrap();
    }
}

#[test]
fn a_migration_failing_on_mysql_only_reports_progress_and_resumes() {
    with_db::<MysqlTarget>(|my| {
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("migrations");
        revision(
            &m,
            "a",
            &[],
            &[
                ("up.sql", "CREATE TABLE a (id INT PRIMARY KEY);"),
                ("down.sql", "DROP TABLE a;"),
            ],
        );
        let broken = "CREATE TABLE b1 (id INT);\nCREATE TABLE b2 (id INT);\nALTER TABLE nope ADD COLUMN x INT;\nCREATE TABLE b4 (id INT);\nCREATE TABLE b5 (id INT);\n";
        revision(
            &m,
            "b",
            &["a"],
            &[
                (
                    "up.sql",
                    "CREATE TABLE b1 (id INT);\nCREATE TABLE b2 (id INT);\nCREATE TABLE b3 (id INT);\nCREATE TABLE b4 (id INT);\nCREATE TABLE b5 (id INT);\n",
                ),
                ("up.mysql.sql", broken),
                (
                    "down.sql",
                    "DROP TABLE b5;\nDROP TABLE b4;\nDROP TABLE b3;\nDROP TABLE b2;\nDROP TABLE b1;\n",
                ),
            ],
        );
        let lite = format!("sqlite://{}", tmp.path().join("app.db").display());
        let cfg = config(tmp.path(), &[("lite", &lite), ("my", &my.url)]);
        let out = migrate_with(
            &m,
            Some(&cfg),
            &["--format", "json", "upgrade", "heads"],
            &[],
        )
        .fails(7);
        let json = out.json();
        let dbs = json["databases"].as_array().unwrap();
        let lite_r = dbs.iter().find(|d| d["name"] == "lite").unwrap();
        let my_r = dbs.iter().find(|d| d["name"] == "my").unwrap();
        assert_eq!(lite_r["status"], "ok", "the other backend is not harmed");
        assert_eq!(my_r["status"], "error");
        let error = my_r["error"].as_str().unwrap();
        assert!(error.contains("statement 3 of 5"), "{error}");
        assert!(
            error.contains("statements 1-2 of 5 are applied and were not rolled back"),
            "{error}"
        );
        assert!(error.contains("up.mysql.sql"), "names the file: {error}");
        assert!(
            error.contains("ALTER TABLE nope"),
            "names the statement: {error}"
        );
        assert_eq!(my_r["current"], serde_json::json!(["a"]));

        let checked = migrate_with(&m, Some(&cfg), &["--db", "my", "check"], &[]).fails(7);
        assert!(
            checked.stdout.contains("partially applied"),
            "{}",
            checked.stdout
        );
        let current = migrate_with(&m, Some(&cfg), &["--db", "my", "current", "-v"], &[])
            .ok()
            .stdout;
        assert!(
            current.contains("b PARTIAL: 2 of 5 statements ran while upgrading"),
            "{current}"
        );
        let refused =
            migrate_with(&m, Some(&cfg), &["--db", "my", "downgrade", "base"], &[]).fails(7);
        assert!(
            refused.stderr.contains("partially applied"),
            "{}",
            refused.stderr
        );

        // Fix the failed statement: the upgrade resumes at it.
        std::fs::write(
            m.join("b").join("up.mysql.sql"),
            broken.replace(
                "ALTER TABLE nope ADD COLUMN x INT;",
                "CREATE TABLE b3 (id INT);",
            ),
        )
        .unwrap();
        let done = json_ok(&m, &cfg, &["--db", "my", "upgrade", "heads"]);
        assert_eq!(done["databases"][0]["applied"].as_array().unwrap().len(), 1);
        let t = tables(my);
        for table in ["a", "b1", "b2", "b3", "b4", "b5"] {
            assert!(t.contains(&table.to_string()), "{t:?}");
        }
        migrate_with(&m, Some(&cfg), &["check"], &[]).ok();
        json_ok(&m, &cfg, &["downgrade", "base"]);
        assert_eq!(tables(my), Vec::<String>::new());
    });
}

fn json_ok(m: &Path, cfg: &Path, args: &[&str]) -> serde_json::Value {
    json(m, cfg, args)
}

#[test]
fn faults_name_the_database_and_hide_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let pg = braid_tests::postgres_url();
    let my = braid_tests::mysql_url();
    let cfg = config(
        tmp.path(),
        &[
            ("unreachable", "postgres://admin:s3cret@127.0.0.1:1/none"),
            (
                "nodb",
                &braid_tests::server_url_for(&pg, "braid_no_such_database"),
            ),
            (
                "badpass",
                &my.replacen("://root@", "://braid_nobody:s3cret@", 1),
            ),
        ],
    );
    let out = migrate_with(
        &examples(),
        Some(&cfg),
        &["--format", "json", "upgrade", "heads"],
        &[],
    )
    .fails(10);
    assert!(
        !out.stdout.contains("s3cret") && !out.stderr.contains("s3cret"),
        "password leaked"
    );
    let json = out.json();
    for db in json["databases"].as_array().unwrap() {
        assert_eq!(db["status"], "error", "{db}");
        let name = db["name"].as_str().unwrap();
        let error = db["error"].as_str().unwrap();
        assert!(error.contains(name), "{error}");
        match name {
            "unreachable" => assert!(error.contains("127.0.0.1:1"), "{error}"),
            "nodb" => {
                if braid_tests::require_servers() || error.contains("does not exist") {
                    assert!(error.contains("braid_no_such_database"), "{error}");
                }
            }
            "badpass" => {
                if braid_tests::require_servers() || error.contains("denied") {
                    assert!(error.to_lowercase().contains("denied"), "{error}");
                }
            }
            other => panic!("unexpected {other}"),
        }
    }
}

/// A run killed half-way: the next run reports the state, applies nothing twice, and finds no
/// lock left behind.
fn killed(db: &mut TestDb, sleep: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("migrations");
    revision(
        &m,
        "a",
        &[],
        &[
            ("up.sql", "CREATE TABLE k1 (id INT);"),
            ("down.sql", "DROP TABLE k1;"),
        ],
    );
    revision(
        &m,
        "b",
        &["a"],
        &[
            (
                "up.sql",
                &format!("CREATE TABLE k2 (id INT);\n{sleep};\nCREATE TABLE k3 (id INT);\n"),
            ),
            ("down.sql", "DROP TABLE k3;\nDROP TABLE k2;\n"),
        ],
    );
    let cfg = config(tmp.path(), &[("db", &db.url)]);
    let mut child = Command::new(xtask_bin())
        .args(["migrate", "--migrations"])
        .arg(&m)
        .arg("--config")
        .arg(&cfg)
        .args(["upgrade", "heads"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until `a` is recorded and `b` is running, then kill the process.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if version_rows(db) > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never recorded `a`"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();

    let status = migrate_with(&m, Some(&cfg), &["--format", "json", "current", "-v"], &[])
        .ok()
        .json();
    let rows = status["databases"][0]["rows"].as_array().unwrap().clone();
    let again = json(&m, &cfg, &["upgrade", "heads"]);
    let applied: Vec<&str> = again["databases"][0]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["revision"].as_str().unwrap())
        .collect();
    assert_eq!(
        applied,
        vec!["b"],
        "{}: a is not applied twice; rows after the kill: {rows:?}",
        db.target
    );
    let t = tables(db);
    for table in ["k1", "k2", "k3"] {
        assert!(t.contains(&table.to_string()), "{t:?}");
    }
}

#[test]
fn killed_run_on_postgres_rolls_back_and_releases_the_lock() {
    with_db::<PostgresTarget>(|db| killed(db, "SELECT pg_sleep(3)"));
}

#[test]
fn killed_run_on_mariadb_resumes_from_its_progress() {
    with_db::<MysqlTarget>(|db| killed(db, "SELECT SLEEP(3)"));
}

#[test]
fn postgres_version_table_in_a_schema_and_an_index_built_concurrently() {
    with_db::<PostgresTarget>(|db| {
        with_conn(&db.url, async |d: &mut dyn Driver| {
            d.execute_script("CREATE SCHEMA braid_meta").await.unwrap()
        });
        let tmp = tempfile::tempdir().unwrap();
        let m = tmp.path().join("migrations");
        revision(
            &m,
            "a",
            &[],
            &[
                (
                    "up.sql",
                    "CREATE TABLE items (id INT PRIMARY KEY, name TEXT);",
                ),
                ("down.sql", "DROP TABLE items;"),
            ],
        );
        revision(
            &m,
            "b",
            &["a"],
            &[
                (
                    "up.sql",
                    "CREATE INDEX CONCURRENTLY items_name ON items (name);",
                ),
                ("down.sql", "DROP INDEX CONCURRENTLY items_name;"),
            ],
        );
        // CREATE INDEX CONCURRENTLY cannot run in a transaction: the revision opts out.
        let toml = m.join("b").join("revision.toml");
        let text = std::fs::read_to_string(&toml).unwrap();
        std::fs::write(&toml, format!("{text}transaction = false\n")).unwrap();
        let cfg = tmp.path().join("braid.toml");
        std::fs::write(
            &cfg,
            format!(
                "[default.databases.pg]\nurl = \"{}\"\nschema = \"braid_meta\"\nversion_table = \"schema_history\"\n",
                db.url
            ),
        )
        .unwrap();
        let up = json(&m, &cfg, &["upgrade", "heads"]);
        assert_eq!(up["databases"][0]["status"], "ok", "{up}");
        let (in_schema, index) = with_conn(&db.url, async |d: &mut dyn Driver| {
            let rows = d
                .query(
                    "SELECT revision FROM braid_meta.schema_history ORDER BY revision",
                    &[],
                )
                .await
                .unwrap();
            let index = d
                .query(
                    "SELECT indexname FROM pg_indexes WHERE indexname = 'items_name'",
                    &[],
                )
                .await
                .unwrap();
            (rows.rows.len(), index.rows.len())
        });
        assert_eq!(
            in_schema, 2,
            "the version rows live in the configured schema"
        );
        assert_eq!(index, 1);
        let down = json(&m, &cfg, &["downgrade", "base"]);
        assert_eq!(down["databases"][0]["status"], "ok", "{down}");
    });
}
