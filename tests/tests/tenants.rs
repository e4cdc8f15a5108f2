//! Tenant sets: one config entry for many databases — a Postgres schema per tenant, a database
//! per tenant on a server, a SQLite file per tenant — driven by the real `braid` binary: listing,
//! `SET:TENANT`, shards (also two at once on one server), canaries, `--max-failures`, the bound
//! on connections per server (checked with the server's own view of its sessions), and the run
//! record that `--only-failed` resumes from.

mod support;

use std::path::{Path, PathBuf};

use braid_tests::{MysqlTarget, PostgresTarget};
use support::{Run, braid_bin, run_in, with_conn, with_db};

/// Three revisions, each creating a table `tN`; `extra` is added to every up script.
fn history(dir: &Path, extra: &str) {
    let mut parent: Option<String> = None;
    for n in 1..=3 {
        let id = format!("r{n}");
        let rev = dir.join(&id);
        std::fs::create_dir_all(&rev).unwrap();
        let parents = parent
            .as_deref()
            .map(|p| format!("[\"{p}\"]"))
            .unwrap_or("[]".into());
        std::fs::write(
            rev.join("revision.toml"),
            format!(
                "id = \"{id}\"\nparents = {parents}\nmessage = \"table {n}\"\n\
                 created = 2026-11-24T10:00:00Z\n"
            ),
        )
        .unwrap();
        std::fs::write(
            rev.join("up.sql"),
            format!("CREATE TABLE t{n} (id INTEGER PRIMARY KEY, v VARCHAR(20));\n{extra}"),
        )
        .unwrap();
        std::fs::write(rev.join("down.sql"), format!("DROP TABLE t{n};\n")).unwrap();
        parent = Some(id);
    }
}

/// A project at `root`: the history above and `config` as its braid.toml.
fn project(root: &Path, config: &str, extra_sql: &str) -> PathBuf {
    history(&root.join("migrations"), extra_sql);
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(root.join("config/braid.toml"), config).unwrap();
    root.to_path_buf()
}

fn braid(root: &Path, args: &[&str]) -> Run {
    let root_arg = root.display().to_string();
    let mut all = vec!["--root", root_arg.as_str()];
    all.extend_from_slice(args);
    run_in(braid_bin(), root, &all, &[])
}

/// `(name, status)` of each database of a JSON result, in order.
fn statuses(run: &Run) -> Vec<(String, String)> {
    run.json()["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn names_with(run: &Run, status: &str) -> Vec<String> {
    statuses(run)
        .into_iter()
        .filter(|(_, s)| s == status)
        .map(|(n, _)| n)
        .collect()
}

/// `upgrade heads --only-failed RECORD`, in JSON.
fn rerun_unfinished(root: &Path, record: &Path) -> Run {
    let record = record.display().to_string();
    braid(
        root,
        &[
            "--format",
            "json",
            "upgrade",
            "heads",
            "--only-failed",
            &record,
        ],
    )
}

fn record_unfinished(path: &Path) -> Vec<String> {
    braid::RunRecord::read(path).unwrap().unfinished()
}

fn sqlite_set(tenants: &str) -> String {
    format!(
        "[default]\njobs = 2\n[default.tenants.shops]\nurl = \"sqlite://data/{{tenant}}.db\"\n\
         tenants = {tenants}\n"
    )
}

/// A SQLite file for `tenant` in which `t2` already exists, so its second revision fails.
fn poison_sqlite(root: &Path, tenant: &str) {
    std::fs::create_dir_all(root.join("data")).unwrap();
    let conn = rusqlite::Connection::open(root.join(format!("data/{tenant}.db"))).unwrap();
    conn.execute_batch("CREATE TABLE t2 (x INTEGER);").unwrap();
}

#[test]
fn a_sqlite_file_per_tenant_from_a_list_a_file_or_the_files_there() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(
        tmp.path(),
        &sqlite_set(r#"["acme", "globex", "initech"]"#),
        "",
    );
    let run = braid(&root, &["--format", "json", "upgrade", "heads"]).ok();
    assert_eq!(
        names_with(&run, "ok"),
        ["shops:acme", "shops:globex", "shops:initech"]
    );
    for tenant in ["acme", "globex", "initech"] {
        let tables = support::sqlite_tables(&root.join(format!("data/{tenant}.db")));
        assert_eq!(tables, ["t1", "t2", "t3"], "{tenant}");
    }
    // A tenant named twice (a set and one of its tenants) is one database.
    let twice = braid(
        &root,
        &[
            "--format",
            "json",
            "current",
            "--db",
            "shops:globex",
            "--db",
            "shops",
        ],
    )
    .ok();
    assert_eq!(
        names_with(&twice, "ok"),
        ["shops:globex", "shops:acme", "shops:initech"]
    );
    // One tenant by name; an unlisted one is refused before anything is opened.
    let one = braid(
        &root,
        &["--format", "json", "current", "--db", "shops:globex"],
    )
    .ok();
    assert_eq!(one.json()["databases"][0]["current"][0], "r3");
    let unknown = braid(&root, &["current", "--db", "shops:nope"]).fails(1);
    assert!(
        unknown
            .stderr
            .contains("tenant set `shops` has no tenant `nope` (3 listed)"),
        "{}",
        unknown.stderr
    );
    assert!(!root.join("data/nope.db").exists());

    // The same tenants from a file, and from the files that exist (a pattern over names).
    std::fs::write(
        root.join("tenants.txt"),
        "# live tenants\nacme\nglobex # big\n",
    )
    .unwrap();
    std::fs::write(
        root.join("config/braid.toml"),
        sqlite_set(r#"{ file = "tenants.txt" }"#),
    )
    .unwrap();
    let from_file = braid(&root, &["--format", "json", "current"]).ok();
    assert_eq!(names_with(&from_file, "ok"), ["shops:acme", "shops:globex"]);
    std::fs::write(
        root.join("config/braid.toml"),
        sqlite_set(r#"{ like = "%e%" }"#),
    )
    .unwrap();
    std::fs::write(root.join("data/notes.txt"), "not a tenant").unwrap();
    let files = braid(&root, &["--format", "json", "current"]).ok();
    assert_eq!(
        names_with(&files, "ok"),
        ["shops:acme", "shops:globex", "shops:initech"]
    );

    // A pattern that matches nothing is refused, not a quiet success.
    std::fs::write(
        root.join("config/braid.toml"),
        sqlite_set(r#"{ like = "zz%" }"#),
    )
    .unwrap();
    let empty = braid(&root, &["upgrade", "heads"]).fails(1);
    assert!(
        empty.stderr.contains("tenant set `shops` lists no tenants"),
        "{}",
        empty.stderr
    );
    std::fs::write(
        root.join("config/braid.toml"),
        sqlite_set(r#"{ like = "%e%" }"#),
    )
    .unwrap();
    let no_jobs = braid(&root, &["upgrade", "heads", "--jobs", "0"]).fails(1);
    assert!(
        no_jobs.stderr.contains("jobs must be at least 1"),
        "{}",
        no_jobs.stderr
    );

    // Commands that need the set, not its tenants: verify, lint, offline SQL.
    braid(&root, &["verify", "--db", "shops"]).ok();
    braid(&root, &["lint", "--db", "shops"]).ok();
    let sql = braid(&root, &["upgrade", "r1", "--sql", "--db", "shops:acme"]).ok();
    assert!(sql.stdout.contains("CREATE TABLE t1"), "{}", sql.stdout);
}

#[test]
fn shards_split_a_set_once_each_and_together_cover_it() {
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..12).map(|i| format!("\"t{i:02}\"")).collect();
    let root = project(
        tmp.path(),
        &sqlite_set(&format!("[{}]", names.join(", "))),
        "",
    );
    let mut seen: Vec<String> = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let record = root.join(format!("shard-{}.json", &shard[..1]));
        let record_arg = record.display().to_string();
        let run = braid(
            &root,
            &[
                "--format",
                "json",
                "upgrade",
                "heads",
                "--shard",
                shard,
                "--report",
                &record_arg,
            ],
        )
        .ok();
        let ran = names_with(&run, "ok");
        assert!(!ran.is_empty() && ran.len() < 12, "shard {shard}: {ran:?}");
        for name in &ran {
            assert!(!seen.contains(name), "{name} is in two shards");
        }
        let recorded = braid::RunRecord::read(&record).unwrap();
        assert_eq!(recorded.databases.len(), ran.len());
        seen.extend(ran);
    }
    seen.sort();
    let all: Vec<String> = (0..12).map(|i| format!("shops:t{i:02}")).collect();
    assert_eq!(seen, all);
    let bad = braid(&root, &["upgrade", "heads", "--shard", "3/3"]).fails(2);
    assert!(bad.stderr.contains("0 <= I < N"), "{}", bad.stderr);
}

#[test]
fn a_failed_canary_stops_the_run_before_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(
        tmp.path(),
        &sqlite_set(r#"["a1", "a2", "b1", "b2", "b3", "b4"]"#),
        "",
    );
    poison_sqlite(&root, "a2");
    let run = braid(
        &root,
        &["--format", "json", "upgrade", "heads", "--canary", "2"],
    );
    assert_ne!(run.code, 0);
    assert_eq!(names_with(&run, "ok"), ["shops:a1"]);
    assert_eq!(names_with(&run, "error"), ["shops:a2"]);
    assert_eq!(
        names_with(&run, "skipped"),
        ["shops:b1", "shops:b2", "shops:b3", "shops:b4"]
    );
    assert!(
        !root.join("data/b1.db").exists(),
        "a skipped tenant was opened"
    );
    let skipped = &run.json()["databases"][2]["error"];
    assert!(skipped.as_str().unwrap().contains("canary"), "{skipped}");
    // With the canaries healthy, the rest follow.
    std::fs::remove_file(root.join("data/a2.db")).unwrap();
    let run = braid(
        &root,
        &["--format", "json", "upgrade", "heads", "--canary", "2"],
    )
    .ok();
    assert_eq!(names_with(&run, "ok").len(), 6);
}

#[test]
fn max_failures_stops_starting_tenants_and_the_record_resumes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(
        tmp.path(),
        &sqlite_set(r#"["a", "b", "c", "d", "e", "f"]"#),
        "",
    );
    for tenant in ["a", "b", "c"] {
        poison_sqlite(&root, tenant);
    }
    let run = braid(
        &root,
        &[
            "--format",
            "json",
            "upgrade",
            "heads",
            "--jobs",
            "1",
            "--max-failures",
            "2",
        ],
    );
    assert_ne!(run.code, 0);
    let human = braid(
        &root,
        &["upgrade", "heads", "--jobs", "1", "--max-failures", "2"],
    );
    assert!(
        human
            .stderr
            .contains("run the same command again with `--only-failed"),
        "{}",
        human.stderr
    );
    assert_eq!(names_with(&run, "error"), ["shops:a", "shops:b"]);
    assert_eq!(
        names_with(&run, "skipped"),
        ["shops:c", "shops:d", "shops:e", "shops:f"]
    );
    // The default record of a tenant run names exactly what did not finish.
    let record = root.join(braid::LAST_RUN);
    assert_eq!(
        record_unfinished(&record),
        [
            "shops:a", "shops:b", "shops:c", "shops:d", "shops:e", "shops:f"
        ]
    );
    for tenant in ["a", "b", "c"] {
        std::fs::remove_file(root.join(format!("data/{tenant}.db"))).unwrap();
    }
    let rerun = rerun_unfinished(&root, &record).ok();
    assert_eq!(names_with(&rerun, "ok").len(), 6);
    let record_arg = record.display().to_string();
    let nothing = braid(&root, &["upgrade", "heads", "--only-failed", &record_arg]).ok();
    assert!(
        nothing.stderr.contains("nothing to run again"),
        "{}",
        nothing.stderr
    );
}

/// Runs `sql` on `url` (a statement at a time).
fn execute(url: &str, sql: &str) {
    let sql = sql.to_string();
    with_conn(url, async move |d| d.execute_script(&sql).await.unwrap());
}

/// The first column of `sql` on `url`, as text.
fn column(url: &str, sql: &str) -> Vec<String> {
    let sql = sql.to_string();
    with_conn(url, async move |d| {
        d.query(&sql, &[])
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|r| match &r[0] {
                braid_driver::Value::Int(n) => n.to_string(),
                v => v.as_str().unwrap_or_default().to_string(),
            })
            .collect()
    })
}

/// Schemas `t_0` … on `url`, one per tenant; their names.
fn schemas(url: &str, count: usize) -> Vec<String> {
    let tenants: Vec<String> = (0..count).map(|i| format!("t_{i}")).collect();
    let setup: String = tenants
        .iter()
        .map(|t| format!("CREATE SCHEMA {t};\n"))
        .collect();
    execute(url, &setup);
    tenants
}

fn schema_set(url: &str, extra: &str) -> String {
    format!(
        "[default]\njobs = 2\n{extra}\n[default.tenants.shops]\nurl = \"{url}\"\n\
         schema = \"{{tenant}}\"\ntenants = {{ like = \"t\\\\_%\" }}\n"
    )
}

#[test]
fn a_postgres_schema_per_tenant_three_poisoned_then_resumed_from_the_record() {
    with_db::<PostgresTarget>(|db| {
        let tenants = ["t_a", "t_b", "t_c", "t_d", "t_e", "t_f"];
        let mut setup: String = tenants
            .iter()
            .map(|t| format!("CREATE SCHEMA {t};\n"))
            .collect();
        setup.push_str("CREATE SCHEMA other;\n");
        for poisoned in ["t_b", "t_d", "t_f"] {
            setup.push_str(&format!("CREATE TABLE {poisoned}.t2 (x int);\n"));
        }
        execute(&db.url, &setup);
        let tmp = tempfile::tempdir().unwrap();
        let root = project(tmp.path(), &schema_set(&db.url, ""), "");
        let run = braid(&root, &["--format", "json", "upgrade", "heads"]);
        assert_ne!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            names_with(&run, "error"),
            ["shops:t_b", "shops:t_d", "shops:t_f"]
        );
        assert_eq!(
            names_with(&run, "ok"),
            ["shops:t_a", "shops:t_c", "shops:t_e"]
        );
        // Each tenant's tables and version store are in its own schema, nothing elsewhere.
        let tables = column(
            &db.url,
            "SELECT table_schema || '.' || table_name FROM information_schema.tables \
             WHERE table_schema IN ('t_a', 'public', 'other') ORDER BY 1",
        );
        assert_eq!(
            tables,
            [
                "t_a.braid_version",
                "t_a.braid_version_log",
                "t_a.braid_version_meta",
                "t_a.t1",
                "t_a.t2",
                "t_a.t3"
            ]
        );
        let record = root.join(braid::LAST_RUN);
        assert_eq!(
            record_unfinished(&record),
            ["shops:t_b", "shops:t_d", "shops:t_f"]
        );
        execute(
            &db.url,
            "DROP TABLE t_b.t2; DROP TABLE t_d.t2; DROP TABLE t_f.t2;",
        );
        let rerun = rerun_unfinished(&root, &record).ok();
        assert_eq!(
            names_with(&rerun, "ok"),
            ["shops:t_b", "shops:t_d", "shops:t_f"]
        );
        for tenant in tenants {
            let applied = column(
                &db.url,
                &format!("SELECT revision FROM {tenant}.braid_version ORDER BY 1"),
            );
            assert_eq!(applied, ["r1", "r2", "r3"], "{tenant}");
        }
    });
}

#[test]
fn a_pattern_lists_the_tenant_part_of_prefixed_schemas_and_offline_sql_sets_the_schema() {
    with_db::<PostgresTarget>(|db| {
        execute(
            &db.url,
            "CREATE SCHEMA s_acme; CREATE SCHEMA s_globex; CREATE SCHEMA other; \
             CREATE SCHEMA \"s_Bad Name\";",
        );
        let tmp = tempfile::tempdir().unwrap();
        let config = format!(
            "[default]\n[default.tenants.shops]\nurl = \"{}\"\nschema = \"s_{{tenant}}\"\n\
             tenants = {{ like = \"%\" }}\n",
            db.url
        );
        let root = project(tmp.path(), &config, "");
        let run = braid(&root, &["--format", "json", "upgrade", "heads"]).ok();
        // Schema `s_acme` is tenant `acme`; `other`, `public` and Postgres's own are no tenants.
        assert_eq!(names_with(&run, "ok"), ["shops:acme", "shops:globex"]);
        let applied = column(&db.url, "SELECT count(*) FROM s_acme.braid_version");
        assert_eq!(applied, ["3"]);
        let sql = braid(&root, &["upgrade", "r1", "--sql", "--db", "shops:acme"]).ok();
        assert!(
            sql.stdout.starts_with("SET search_path TO \"s_acme\";"),
            "{}",
            sql.stdout
        );
    });
}

#[test]
fn connections_to_a_server_stay_within_the_bound() {
    with_db::<PostgresTarget>(|db| {
        let tenants = schemas(&db.url, 10);
        let tmp = tempfile::tempdir().unwrap();
        // Each revision holds its connection a moment, so eight jobs would overlap.
        // The run's sessions are told apart by their application name (this test's own
        // connections, and the one listing the tenants, are Braid's too).
        let config = format!(
            "[default]\nmax_connections = 4\n[default.tenants.shops]\n\
             url = \"{url}?application_name=bounded_run\"\nschema = \"{{tenant}}\"\n\
             tenants = {{ like = \"t\\\\_%\", url = \"{url}\" }}\n",
            url = db.url
        );
        let root = project(tmp.path(), &config, "SELECT pg_sleep(0.1);\n");
        let count = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bounded_run'";
        let mut child = std::process::Command::new(braid_bin())
            .args([
                "--root",
                &root.display().to_string(),
                "upgrade",
                "heads",
                "--jobs",
                "8",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut peak = 0usize;
        let mut seen = std::collections::BTreeMap::<usize, usize>::new();
        let status = loop {
            let now: usize = column(&db.url, count)[0].parse().unwrap();
            *seen.entry(now).or_default() += 1;
            peak = peak.max(now);
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
        };
        assert!(status.success());
        assert!(
            peak <= 4,
            "{peak} connections to the server, bound 4: {seen:?}"
        );
        assert!(peak >= 2, "the run was never seen ({peak})");
        for tenant in &tenants {
            let applied = column(
                &db.url,
                &format!("SELECT count(*) FROM {tenant}.braid_version"),
            );
            assert_eq!(applied, ["3"], "{tenant}");
        }
    });
}

#[test]
fn a_worker_reuses_its_connections_across_a_schema_per_tenant_set() {
    with_db::<PostgresTarget>(|db| {
        let tenants = schemas(&db.url, 10);
        let tmp = tempfile::tempdir().unwrap();
        // The last revision moves the session elsewhere, as pg_dump's output does, and leaves
        // a temporary table: the next tenant on the same connection must still land in its own
        // schema, and create that table afresh.
        let root = project(tmp.path(), &schema_set(&db.url, ""), "");
        std::fs::write(
            root.join("migrations/r3/up.sql"),
            "CREATE TABLE t3 (id INTEGER PRIMARY KEY);\nCREATE TEMP TABLE scratch (x int);\n\
             SET search_path TO public;\n",
        )
        .unwrap();
        let database = db.url.rsplit('/').next().unwrap().to_string();
        let sessions =
            format!("SELECT sessions FROM pg_stat_database WHERE datname = '{database}'");
        let before: i64 = column(&db.url, &sessions)[0].parse().unwrap();
        braid(&root, &["upgrade", "heads", "--jobs", "2"]).ok();
        let after: i64 = column(&db.url, &sessions)[0].parse().unwrap();
        // Two workers with two connections each, the listing, and this test's queries; ten
        // tenants opening their own would be twenty.
        assert!(
            after - before <= 8,
            "{} sessions for ten tenants",
            after - before
        );
        for tenant in &tenants {
            let tables = column(
                &db.url,
                &format!(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = \
                     '{tenant}' AND table_name LIKE 't_' ORDER BY 1"
                ),
            );
            assert_eq!(tables, ["t1", "t2", "t3"], "{tenant}");
        }
        let public = column(
            &db.url,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        );
        assert_eq!(public, ["0"]);
    });
}

#[test]
fn two_shards_and_an_overlapping_run_at_once_on_one_server() {
    with_db::<PostgresTarget>(|db| {
        let tenants = schemas(&db.url, 10);
        let tmp = tempfile::tempdir().unwrap();
        let root = project(tmp.path(), &schema_set(&db.url, ""), "");
        let root_arg = root.display().to_string();
        // Two machines' shards, and a third run over the whole set overlapping both: the
        // per-database lock makes the overlap harmless.
        let children: Vec<_> = [
            vec!["--shard", "0/2", "--report", "s0.json"],
            vec!["--shard", "1/2", "--report", "s1.json"],
            vec!["--report", "all.json"],
        ]
        .into_iter()
        .map(|extra| {
            std::process::Command::new(braid_bin())
                .current_dir(&root)
                .args(["--root", &root_arg, "upgrade", "heads"])
                .args(extra)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let shard = |file: &str| -> Vec<String> {
            braid::RunRecord::read(&root.join(file))
                .unwrap()
                .databases
                .into_iter()
                .map(|d| d.name)
                .collect()
        };
        let (s0, s1) = (shard("s0.json"), shard("s1.json"));
        assert!(s0.iter().all(|n| !s1.contains(n)));
        assert_eq!(s0.len() + s1.len(), 10);
        assert_eq!(shard("all.json").len(), 10);
        for tenant in &tenants {
            let applied = column(
                &db.url,
                &format!("SELECT revision FROM {tenant}.braid_version ORDER BY 1"),
            );
            assert_eq!(applied, ["r1", "r2", "r3"], "{tenant}: each revision once");
        }
    });
}

#[test]
fn a_mysql_database_per_tenant_listed_by_a_query() {
    with_db::<MysqlTarget>(|db| {
        let control = db.url.rsplit('/').next().unwrap().to_string();
        let tenants: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|t| format!("{control}_{t}"))
            .collect();
        let mut setup = String::from("CREATE TABLE tenants (name VARCHAR(64), active INT);\n");
        for (i, t) in tenants.iter().enumerate() {
            setup.push_str(&format!("CREATE DATABASE {t};\n"));
            setup.push_str(&format!(
                "INSERT INTO tenants VALUES ('{t}', {});\n",
                i32::from(i < 2)
            ));
        }
        execute(&db.url, &setup);
        let server = db.url.rsplit_once('/').unwrap().0.to_string();
        let tmp = tempfile::tempdir().unwrap();
        let config = format!(
            "[default]\n[default.tenants.customers]\nurl = \"{server}/{{tenant}}\"\n\
             tenants = {{ query = \"SELECT name FROM tenants WHERE active = 1\", url = \"{}\" }}\n",
            db.url
        );
        let root = project(tmp.path(), &config, "");
        let run = braid(&root, &["--format", "json", "upgrade", "heads"]);
        let drop_all: String = tenants
            .iter()
            .map(|t| format!("DROP DATABASE IF EXISTS {t};\n"))
            .collect();
        let applied = column(
            &db.url,
            &format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{}'",
                tenants[0]
            ),
        );
        let untouched = column(
            &db.url,
            &format!(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{}'",
                tenants[2]
            ),
        );
        execute(&db.url, &drop_all);
        let run = run.ok();
        assert_eq!(
            names_with(&run, "ok"),
            [
                format!("customers:{}", tenants[0]),
                format!("customers:{}", tenants[1])
            ]
        );
        assert_eq!(applied, ["6"], "three tables and the version store's three");
        assert_eq!(untouched, ["0"], "an inactive tenant is not listed");
    });
}
