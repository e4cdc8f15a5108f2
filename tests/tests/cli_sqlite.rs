//! End-to-end tests of the database commands on real SQLite files, through the real binary:
//! round trips over the example migrations, racing processes, edited and unknown revisions,
//! several databases with one broken, `check` exit codes and offline SQL.

mod support;

use std::path::{Path, PathBuf};

use support::{Run, migrate_with};

/// The workspace's example migrations.
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

/// A config with the given `[default.databases.*]` entries (name, url).
fn config(dir: &Path, databases: &[(&str, String)]) -> PathBuf {
    let mut text = String::from("[default]\nlock_timeout_secs = 60\n");
    for (name, url) in databases {
        text.push_str(&format!("[default.databases.{name}]\nurl = \"{url}\"\n"));
    }
    let path = dir.join("braid.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn run(migrations: &Path, config: &Path, args: &[&str]) -> Run {
    migrate_with(migrations, Some(config), args, &[])
}

fn json(migrations: &Path, config: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    run(migrations, config, &all).ok().json()
}

fn tables(db: &Path) -> Vec<String> {
    support::sqlite_tables(db)
}

fn version_rows(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT revision FROM braid_version ORDER BY revision")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn examples_upgrade_downgrade_and_upgrade_again() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    let m = examples();

    let up = json(&m, &cfg, &["upgrade"]);
    let app = &up["databases"][0];
    assert_eq!(app["name"], "app");
    assert_eq!(app["status"], "ok");
    assert_eq!(
        app["current"],
        serde_json::json!(["zd4_plans_drop_price_cents"])
    );
    assert_eq!(app["applied"].as_array().unwrap().len(), 11);
    assert!(
        app["applied"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["direction"] == "up")
    );
    assert_eq!(app["error"], serde_json::Value::Null);
    let all_tables = tables(&db);
    assert!(all_tables.contains(&"users".to_string()), "{all_tables:?}");
    assert!(
        all_tables.contains(&"user_preferences".to_string()),
        "{all_tables:?}"
    );
    assert_eq!(version_rows(&db).len(), 11, "one row per applied revision");

    // Downgrade one branch only: what stands on the merge, the merge and the audit branch go,
    // billing stays.
    let down = json(&m, &cfg, &["downgrade", "audit@core2_user_preferences"]);
    let steps: Vec<&str> = down["databases"][0]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["revision"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        vec![
            "zd4_plans_drop_price_cents",
            "zd3_plans_backfill_price_minor",
            "zd2_plans_price_minor_index",
            "zd1_plans_price_minor",
            "core3_merge_audit_billing",
            "audit2_log_index",
            "audit1_log"
        ]
    );
    assert_eq!(
        down["databases"][0]["current"],
        serde_json::json!(["billing2_subscriptions"])
    );

    let down = json(&m, &cfg, &["downgrade", "base"]);
    assert_eq!(down["databases"][0]["current"], serde_json::json!([]));
    assert_eq!(
        tables(&db),
        Vec::<String>::new(),
        "every down.sql undoes its up.sql"
    );
    assert!(version_rows(&db).is_empty());

    let again = json(&m, &cfg, &["upgrade", "heads"]);
    assert_eq!(
        again["databases"][0]["applied"].as_array().unwrap().len(),
        11
    );
    let current = json(&m, &cfg, &["current"]);
    assert_eq!(
        current["databases"][0]["current"],
        serde_json::json!(["zd4_plans_drop_price_cents"])
    );
    run(&m, &cfg, &["check"]).ok();
}

#[test]
fn stamp_then_relative_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("app.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    let m = examples();
    let stamped = json(&m, &cfg, &["stamp", "audit2_log_index", "billing1_plans"]);
    let mut current: Vec<String> =
        serde_json::from_value(stamped["databases"][0]["current"].clone()).unwrap();
    current.sort();
    assert_eq!(current, vec!["audit2_log_index", "billing1_plans"]);
    assert!(tables(&db).is_empty(), "stamp runs no migration");
    assert_eq!(version_rows(&db).len(), 5);

    // Several applied heads: a bare -1 is ambiguous and names them.
    let refused = run(&m, &cfg, &["downgrade", "-1"]).fails(1);
    assert!(
        refused.stderr.contains("audit2_log_index") && refused.stderr.contains("billing1_plans"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("audit@-1") && refused.stderr.contains("billing@-1"),
        "suggests label@-1 for each head: {}",
        refused.stderr
    );

    run(&m, &cfg, &["stamp", "--purge", "base"]).ok();
    assert!(version_rows(&db).is_empty());
}

#[test]
fn racing_processes_apply_each_revision_once() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("race.db");
    let cfg = config(tmp.path(), &[("race", sqlite_url(&db))]);
    let m = examples();
    let children: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(support::xtask_bin())
                .args(["migrate", "--format", "json", "--migrations"])
                .arg(&m)
                .arg("--config")
                .arg(&cfg)
                .arg("upgrade")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied_total = 0;
    for child in children {
        let run: Run = child.wait_with_output().unwrap().into();
        let run = run.ok();
        let json = run.json();
        assert_eq!(json["databases"][0]["status"], "ok");
        applied_total += json["databases"][0]["applied"].as_array().unwrap().len();
    }
    assert_eq!(
        applied_total, 11,
        "every revision applied exactly once across the 8 processes"
    );
    assert_eq!(version_rows(&db).len(), 11);
}

/// A copy of the example migrations that a test may edit.
fn copy_examples(to: &Path) -> PathBuf {
    let dest = to.join("migrations");
    for entry in walk(&examples()) {
        let rel = entry.strip_prefix(examples()).unwrap();
        let target = dest.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &target).unwrap();
    }
    dest
}

/// The revisions of the zero-downtime example, which stand on the merge.
const ZERO_DOWNTIME: [&str; 4] = [
    "zd1_plans_price_minor",
    "zd2_plans_price_minor_index",
    "zd3_plans_backfill_price_minor",
    "zd4_plans_drop_price_cents",
];

/// Removes the merge `core3_merge_audit_billing` from a copy of the examples, with the
/// revisions standing on it: the audit and billing branches are the heads again.
fn remove_the_merge(m: &Path) {
    for id in ["core3_merge_audit_billing"].iter().chain(&ZERO_DOWNTIME) {
        std::fs::remove_dir_all(m.join(id)).unwrap();
    }
}

/// A copy of the examples whose head is the merge `core3_merge_audit_billing`: without the
/// revisions standing on it (and without the heads file, which names those).
fn copy_examples_to_the_merge(to: &Path) -> PathBuf {
    let m = copy_examples(to);
    for id in ZERO_DOWNTIME {
        std::fs::remove_dir_all(m.join(id)).unwrap();
    }
    std::fs::remove_file(m.join("HEADS")).unwrap();
    m
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn edited_applied_migration_is_refused_until_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let m = copy_examples(tmp.path());
    let db = tmp.path().join("app.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    run(&m, &cfg, &["upgrade", "core2_user_preferences"]).ok();

    // core1_users is a Rust migration: its checksum covers migration.rs.
    let file = m.join("core1_users").join("migration.rs");
    let mut text = std::fs::read_to_string(&file).unwrap();
    // Whitespace-only edits do not count…
    std::fs::write(&file, text.replace('\n', "  \r\n")).unwrap();
    run(&m, &cfg, &["check"]).fails(4);
    // …a real edit does.
    text.push_str("\n// an edit after the fact\nconst _EDITED: u8 = 1;\n");
    std::fs::write(&file, &text).unwrap();
    let checked = run(&m, &cfg, &["check"]).fails(5);
    assert!(checked.stdout.contains("core1_users"), "{}", checked.stdout);
    let refused = run(&m, &cfg, &["upgrade", "heads"]).fails(5);
    assert!(refused.stderr.contains("core1_users"), "{}", refused.stderr);
    // …in this front end's words.
    assert!(
        refused
            .stderr
            .contains("run `cargo xtask migrate accept core1_users`"),
        "says how to accept: {}",
        refused.stderr
    );
    assert_eq!(version_rows(&db).len(), 2, "nothing ran");

    let accepted = json(&m, &cfg, &["accept", "core1_users"]);
    assert_eq!(
        accepted["databases"][0]["accepted"]["revision"],
        "core1_users"
    );
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    run(&m, &cfg, &["check"]).ok();
}

#[test]
fn database_ahead_of_the_graph_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let m = copy_examples(tmp.path());
    let db = tmp.path().join("app.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    // Another branch's checkout: the merge revision is not there.
    remove_the_merge(&m);
    let refused = run(&m, &cfg, &["upgrade", "heads"]).fails(6);
    assert!(
        refused.stderr.contains("core3_merge_audit_billing"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("branch"), "{}", refused.stderr);
    run(&m, &cfg, &["check"]).fails(6);
}

#[test]
fn one_broken_database_does_not_stop_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.db");
    // A file where a directory should be: the SQLite file cannot be created.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let cfg = config(
        tmp.path(),
        &[
            ("good", sqlite_url(&good)),
            ("broken", sqlite_url(&blocker.join("x.db"))),
            (
                "remote",
                "postgres://admin:hunter2@127.0.0.1:1/none".to_string(),
            ),
        ],
    );
    let m = examples();
    let out = run(&m, &cfg, &["--format", "json", "upgrade", "heads"]).fails(10);
    assert!(
        !out.stdout.contains("hunter2") && !out.stderr.contains("hunter2"),
        "password leaked"
    );
    let json = out.json();
    let dbs = json["databases"].as_array().unwrap();
    assert_eq!(dbs.len(), 3);
    let by_name = |n: &str| dbs.iter().find(|d| d["name"] == n).unwrap();
    assert_eq!(by_name("good")["status"], "ok");
    assert_eq!(by_name("good")["applied"].as_array().unwrap().len(), 11);
    for name in ["broken", "remote"] {
        assert_eq!(by_name(name)["status"], "error", "{name}");
        assert!(
            by_name(name)["error"].as_str().unwrap().contains(name),
            "the error names the database"
        );
    }
    // Human output: a summary row per database.
    let human = run(&m, &cfg, &["upgrade", "heads"]).fails(10);
    for name in ["good", "broken", "remote"] {
        assert!(human.stdout.contains(name), "{}", human.stdout);
    }
    assert!(!human.stdout.contains("hunter2") && !human.stderr.contains("hunter2"));
    // --db narrows to one database.
    let only = json_ok(&m, &cfg, &["--db", "good", "current"]);
    assert_eq!(only["databases"].as_array().unwrap().len(), 1);
}

fn json_ok(m: &Path, cfg: &Path, args: &[&str]) -> serde_json::Value {
    json(m, cfg, args)
}

#[test]
fn check_reports_several_heads() {
    let tmp = tempfile::tempdir().unwrap();
    let m = copy_examples(tmp.path());
    remove_the_merge(&m);
    let db = tmp.path().join("app.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    let checked = run(&m, &cfg, &["check"]).fails(3);
    assert!(checked.stdout.contains("merge heads"), "{}", checked.stdout);
    // `head` with two heads is Alembic's error, with the way out.
    let refused = run(&m, &cfg, &["upgrade"]).fails(1);
    assert!(refused.stderr.contains("heads"), "{}", refused.stderr);
}

#[test]
fn offline_sql_needs_no_database() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("never.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    let m = examples();
    let sql = run(&m, &cfg, &["upgrade", "--sql"]).ok().stdout;
    assert!(sql.contains("CREATE TABLE"), "{sql}");
    assert!(sql.contains("-- Running upgrade"), "{sql}");
    assert!(sql.contains("core3_merge_audit_billing"), "{sql}");
    assert!(!db.exists(), "--sql must not connect");
    for dialect in ["postgres", "mysql", "sqlite"] {
        let sql = migrate_with(
            &m,
            None,
            &[
                "upgrade",
                "--sql",
                "--dialect",
                dialect,
                "base:core2_user_preferences",
            ],
            &[],
        )
        .ok()
        .stdout;
        assert!(sql.contains("user_preferences"), "{dialect}: {sql}");
        assert_eq!(
            sql.contains("BEGIN;"),
            dialect != "mysql",
            "{dialect}: {sql}"
        );
    }
    let down = run(
        &m,
        &cfg,
        &["downgrade", "--sql", "heads:core2_user_preferences"],
    )
    .ok()
    .stdout;
    assert!(down.contains("-- Running downgrade"), "{down}");
    run(&m, &cfg, &["downgrade", "--sql", "base"]).fails(2);
    run(&m, &cfg, &["stamp", "--sql", "--purge", "heads"]).fails(2);
}

#[test]
fn review_regressions() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one.db");
    let two = tmp.path().join("two.db");
    let cfg = config(
        tmp.path(),
        &[("one", sqlite_url(&one)), ("two", sqlite_url(&two))],
    );
    let m = examples();

    // Reading commands do not create a missing SQLite file.
    let current = run(&m, &cfg, &["current"]).fails(10);
    assert!(
        current.stdout.contains("does not exist"),
        "{}",
        current.stdout
    );
    assert!(!one.exists() && !two.exists());

    // Options may follow stamp's targets; --sql stays offline.
    let sql = run(
        &m,
        &cfg,
        &["stamp", "heads", "--sql", "--dialect", "sqlite"],
    )
    .ok()
    .stdout;
    assert!(sql.contains("INSERT INTO"), "{sql}");
    assert!(!one.exists());
    // --dialect only makes sense offline.
    run(&m, &cfg, &["upgrade", "--dialect", "mysql"]).fails(2);

    // history -i names the databases a revision is applied on.
    run(&m, &cfg, &["--db", "one", "upgrade", "heads"]).ok();
    run(&m, &cfg, &["--db", "two", "upgrade", "core1_users"]).ok();
    let text = run(&m, &cfg, &["history", "-i"]).ok().stdout;
    assert!(text.contains("core1_users (applied: one, two)"), "{text}");
    assert!(
        text.contains("core2_user_preferences (applied: one)"),
        "{text}"
    );
    let json = json(&m, &cfg, &["history", "-i"]);
    let core2 = json["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == "core2_user_preferences")
        .unwrap()
        .clone();
    assert_eq!(core2["applied_in"], serde_json::json!(["one"]));
    assert_eq!(core2["is_applied"], false);

    // A stamp says what it recorded, not that it ran anything.
    let stamped = run(
        &m,
        &cfg,
        &["--db", "two", "stamp", "core2_user_preferences"],
    )
    .ok()
    .stdout;
    assert!(
        stamped.contains("two: stamp recorded core2_user_preferences"),
        "{stamped}"
    );

    // Errors before any database is reached are one JSON object in JSON mode.
    let missing = migrate_with(
        &tmp.path().join("nope"),
        Some(&cfg),
        &["--format", "json", "heads"],
        &[],
    )
    .fails(1);
    assert!(
        missing.json()["error"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );

    // A password in the query string is hidden too.
    let leaky = config(
        tmp.path(),
        &[(
            "pg",
            "postgres://u@127.0.0.1:1/x?password=SECRETPW".to_string(),
        )],
    );
    let out = run(&m, &leaky, &["--format", "json", "current"]).fails(10);
    assert!(
        !out.stdout.contains("SECRETPW") && !out.stderr.contains("SECRETPW"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

/// Alembic's graph commands over the example history (core1 → core2 → audit1 → audit2 and
/// billing1 → billing2 → the merge core3): a target wrong for every database is reported once,
/// before any database is contacted; `downgrade -1` from the merge undoes the merge alone;
/// `stamp` below the merge drops its other side, where `downgrade` keeps it; `current
/// --check-heads` fails unless every database is at the heads.
#[test]
fn graph_commands_as_alembic() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one.db"), tmp.path().join("two.db"));
    // A server nothing listens on: contacting it would fail with exit code 10.
    let remote = "postgres://admin@127.0.0.1:1/none".to_string();
    let cfg = config(
        tmp.path(),
        &[
            ("one", sqlite_url(&one)),
            ("two", sqlite_url(&two)),
            ("remote", remote),
        ],
    );
    let m = copy_examples_to_the_merge(tmp.path());
    for target in [
        "no_such_revision",
        "audit@no_such",
        "core2_user_preferences+2",
    ] {
        let refused = run(&m, &cfg, &["upgrade", target]).fails(1);
        assert_eq!(
            refused.stderr.matches("error").count(),
            1,
            "reported once: {}",
            refused.stderr
        );
        assert!(!refused.stderr.contains("remote"), "{}", refused.stderr);
        assert!(!one.exists() && !two.exists(), "no database was opened");
    }

    let cfg = config(tmp.path(), &[("one", sqlite_url(&one))]);
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    run(&m, &cfg, &["current", "--check-heads"]).ok();
    let undone = json(&m, &cfg, &["downgrade", "-1"]);
    let mut current: Vec<String> =
        serde_json::from_value(undone["databases"][0]["current"].clone()).unwrap();
    current.sort();
    assert_eq!(current, ["audit2_log_index", "billing2_subscriptions"]);
    let off = run(&m, &cfg, &["current", "--check-heads"]).fails(4);
    assert!(
        off.stderr.contains("not at the heads: one (1 to apply)"),
        "{}",
        off.stderr
    );
    // Two steps down from the merge must choose a side.
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    run(&m, &cfg, &["downgrade", "-2"]).fails(1);

    // Downgrade to audit1_log undoes what stands on it and keeps the billing side...
    run(&m, &cfg, &["downgrade", "audit1_log"]).ok();
    assert!(version_rows(&one).contains(&"billing2_subscriptions".to_string()));
    // ...while stamp moves the merge head down to audit1_log: the billing side goes.
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    run(&m, &cfg, &["stamp", "audit1_log"]).ok();
    assert_eq!(
        version_rows(&one),
        ["audit1_log", "core1_users", "core2_user_preferences"]
    );
}

/// The heads file: written with each revision, checked against the graph by `check` (exit code
/// 17 when it lists other heads or holds git's conflict markers), rewritten by `heads --write`.
#[test]
fn the_heads_file_follows_the_graph() {
    let tmp = tempfile::tempdir().unwrap();
    let m = copy_examples(tmp.path());
    let _ = std::fs::remove_file(m.join("HEADS"));
    let db = tmp.path().join("app.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    // A project without the file is not checked.
    run(&m, &cfg, &["check"]).ok();

    run(
        &m,
        &cfg,
        &["generate", "-m", "add notes", "--rev-id", "core4_notes"],
    )
    .ok();
    let heads = std::fs::read_to_string(m.join("HEADS")).unwrap();
    assert!(
        heads.contains("\nhead core4_notes\ngraph sha256:"),
        "{heads}"
    );
    let dir = m.join("core4_notes_add_notes");
    std::fs::write(dir.join("up.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.join("down.sql"), "SELECT 1;\n").unwrap();
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    run(&m, &cfg, &["check"]).ok();

    // A revision added without Braid: the file lists the old head.
    let by_hand = m.join("core5_by_hand");
    std::fs::create_dir(&by_hand).unwrap();
    std::fs::write(
        by_hand.join("revision.toml"),
        "id = \"core5_by_hand\"\nparents = [\"core4_notes\"]\nmessage = \"by hand\"\n\
         created = 2030-01-01T00:00:00Z\n",
    )
    .unwrap();
    std::fs::write(by_hand.join("up.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(by_hand.join("down.sql"), "SELECT 1;\n").unwrap();
    run(&m, &cfg, &["upgrade", "heads"]).ok();
    let stale = run(&m, &cfg, &["check"]).fails(17);
    assert!(
        stale
            .stdout
            .contains("lists core4_notes but the graph's heads are core5_by_hand"),
        "{}",
        stale.stdout
    );
    run(&m, &cfg, &["heads", "--write"]).ok();
    run(&m, &cfg, &["check"]).ok();

    // A git conflict left in it.
    let text = std::fs::read_to_string(m.join("HEADS")).unwrap();
    let conflicted = text.replace(
        "head core5_by_hand\n",
        "<<<<<<< HEAD\nhead core5_by_hand\n=======\nhead core5_other\n>>>>>>> feature\n",
    );
    std::fs::write(m.join("HEADS"), conflicted).unwrap();
    let marked = run(&m, &cfg, &["check"]).fails(17);
    assert!(
        marked.stdout.contains("conflict markers"),
        "{}",
        marked.stdout
    );
    let json = run(&m, &cfg, &["--format", "json", "check"])
        .fails(17)
        .json();
    assert!(
        json["problems"][0]
            .as_str()
            .unwrap()
            .contains("conflict markers"),
        "{json}"
    );
}

/// A database that follows one branch plans on the graph restricted to it: `head` is that
/// branch's head there, though the whole graph has two, and the check made before contacting
/// any database agrees.
#[test]
fn a_target_is_checked_on_the_branches_a_database_follows() {
    let tmp = tempfile::tempdir().unwrap();
    let m = copy_examples(tmp.path());
    remove_the_merge(&m);
    let db = tmp.path().join("audit.db");
    let cfg = tmp.path().join("braid.toml");
    std::fs::write(
        &cfg,
        format!(
            "[default]\n[default.databases.audit]\nurl = \"{}\"\nbranches = [\"audit\"]\n",
            sqlite_url(&db)
        ),
    )
    .unwrap();
    run(&m, &cfg, &["upgrade", "head"]).ok();
    assert!(version_rows(&db).contains(&"audit2_log_index".to_string()));
    assert!(!version_rows(&db).contains(&"billing1_plans".to_string()));
}

/// `merge` reads both branches: two revisions adding the same column refuse the merge, and
/// `check` names them under its several-heads finding; `--allow-overlap` merges anyway and
/// records why in the merge revision.
#[test]
fn a_merge_of_conflicting_branches_needs_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let m = copy_examples(tmp.path());
    remove_the_merge(&m);
    let db = tmp.path().join("app.db");
    let cfg = config(tmp.path(), &[("app", sqlite_url(&db))]);
    for (label, id) in [("audit", "a3_nickname"), ("billing", "b3_nickname")] {
        let head = format!("{label}@head");
        run(
            &m,
            &cfg,
            &["generate", "-m", id, "--rev-id", id, "--head", &head],
        )
        .ok();
        let dir = revision_dir(&m, id);
        std::fs::write(
            dir.join("up.sql"),
            "ALTER TABLE users ADD COLUMN nickname TEXT;\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("down.sql"),
            "ALTER TABLE users DROP COLUMN nickname;\n",
        )
        .unwrap();
    }
    run(&m, &cfg, &["upgrade", "core2_user_preferences"]).ok();
    let conflict = "conflict: both sides add column users.nickname";
    let checked = run(&m, &cfg, &["check"]).fails(3);
    assert!(checked.stdout.contains(conflict), "{}", checked.stdout);

    let refused = run(&m, &cfg, &["merge", "heads", "--rev-id", "m4"]).fails(1);
    assert!(refused.stderr.contains(conflict), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--allow-overlap"),
        "{}",
        refused.stderr
    );
    assert!(
        !std::fs::read_dir(&m)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("m4_"))
    );
    run(&m, &cfg, &["merge", "heads", "--allow-overlap", " "]).fails(1);

    let reason = "b3 \"widens\" it before release";
    let merged = run(
        &m,
        &cfg,
        &[
            "merge",
            "heads",
            "--rev-id",
            "m4",
            "--allow-overlap",
            reason,
        ],
    )
    .ok();
    assert!(merged.stdout.contains(conflict), "{}", merged.stdout);
    let toml = std::fs::read_to_string(revision_dir(&m, "m4").join("revision.toml")).unwrap();
    assert!(
        toml.contains("allow_overlap = 'b3 \"widens\" it before release'"),
        "{toml}"
    );
    // The file loads: the graph has one head again.
    let heads = run(&m, &cfg, &["--format", "json", "heads"]).ok().json();
    assert_eq!(heads["heads"][0]["revision"], "m4");
}

/// The directory `generate` wrote for revision `id` (`<id>_<slug>`, or `<id>` when the slug
/// is the id).
fn revision_dir(migrations: &Path, id: &str) -> PathBuf {
    let prefix = format!("{id}_");
    std::fs::read_dir(migrations)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name == id || name.starts_with(&prefix)
        })
        .unwrap_or_else(|| panic!("no directory for {id}"))
}

/// `rebase` refuses what it cannot prove safe: a database it cannot read (until `--offline`,
/// which warns), and a move after which a branch label would cover other revisions.
#[test]
fn rebase_refuses_what_it_cannot_prove() {
    let tmp = tempfile::tempdir().unwrap();
    let m = copy_examples(tmp.path());
    remove_the_merge(&m);
    // The SQLite file does not exist yet, so its version store cannot be read.
    let cfg = config(
        tmp.path(),
        &[("app", sqlite_url(&tmp.path().join("app.db")))],
    );

    // billing's revisions onto audit's head: `audit` would then cover billing1 and billing2.
    let labels = run(&m, &cfg, &["rebase", "billing@head"]).fails(1);
    assert!(
        labels
            .stderr
            .contains("would change which revisions branch labels cover"),
        "{}",
        labels.stderr
    );

    // Two unlabelled revisions on audit's head: moving one changes no label.
    for id in ["x1_one", "y1_two"] {
        run(
            &m,
            &cfg,
            &[
                "generate",
                "-m",
                id,
                "--rev-id",
                id,
                "--head",
                "audit2_log_index",
                "--splice",
            ],
        )
        .ok();
    }
    let unread = run(&m, &cfg, &["rebase", "y1_two", "--onto", "x1_one"]).fails(1);
    assert!(
        unread
            .stderr
            .contains("cannot read the version store of database `app`")
            && unread.stderr.contains("--offline"),
        "{}",
        unread.stderr
    );
    let offline = run(
        &m,
        &cfg,
        &["rebase", "y1_two", "--onto", "x1_one", "--offline"],
    )
    .ok();
    assert!(
        offline.stderr.contains("warning: --offline"),
        "{}",
        offline.stderr
    );
    assert!(
        offline
            .stdout
            .contains("y1_two: parents audit2_log_index -> x1_one"),
        "{}",
        offline.stdout
    );
    let heads = run(&m, &cfg, &["--format", "json", "heads"]).ok().json();
    let mut heads: Vec<&str> = heads["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["revision"].as_str().unwrap())
        .collect();
    heads.sort();
    assert_eq!(heads, ["billing2_subscriptions", "y1_two"]);
}
