//! The exit codes of database commands that fail, through the real `braid` binary: each kind of
//! failure its own code (see `braid_cli::exit_codes`), the most severe when several databases
//! fail, and the JSON saying each database's `"kind"` and the command's `"exit_code"`.
//!
//! Every expected code here is one a run exiting 1 for every failure would not give.

mod support;

use std::path::{Path, PathBuf};

use support::{Run, braid_bin, hold_lock, run_in};

const CONNECT: i32 = 10;
const LOCK_TIMEOUT: i32 = 11;
const MIGRATION_FAILED: i32 = 12;
const EDITED: i32 = 5;
const UNKNOWN_REVISIONS: i32 = 6;
const PARTIAL: i32 = 7;

/// A URL nothing listens on.
const UNREACHABLE: &str = "postgres://postgres@127.0.0.1:1/x";

/// A project in a temp dir: `migrations/` and `braid.toml`.
struct Project {
    dir: tempfile::TempDir,
    count: usize,
}

impl Project {
    fn new() -> Self {
        let project = Project {
            dir: tempfile::tempdir().unwrap(),
            count: 0,
        };
        std::fs::create_dir_all(project.migrations()).unwrap();
        project
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn migrations(&self) -> PathBuf {
        self.path().join("migrations")
    }

    fn sqlite(&self, name: &str) -> String {
        format!(
            "sqlite://{}",
            self.path().join(format!("{name}.db")).display()
        )
    }

    /// Revision `id` after `parent`, running `up` (undone by `down`).
    fn rev(&mut self, id: &str, parent: Option<&str>, up: &str, down: &str) -> &mut Self {
        self.rev_with(id, parent, up, down, true)
    }

    fn rev_with(
        &mut self,
        id: &str,
        parent: Option<&str>,
        up: &str,
        down: &str,
        transaction: bool,
    ) -> &mut Self {
        self.count += 1;
        let dir = self.migrations().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let parents = parent.map(|p| format!("{p:?}")).unwrap_or_default();
        std::fs::write(
            dir.join("revision.toml"),
            format!(
                "id = {id:?}\nparents = [{parents}]\nmessage = {id:?}\n\
                 created = 2026-01-01T00:00:{:02}Z\ntransaction = {transaction}\n",
                self.count
            ),
        )
        .unwrap();
        std::fs::write(dir.join("up.sql"), up).unwrap();
        std::fs::write(dir.join("down.sql"), down).unwrap();
        self
    }

    /// `braid.toml` with these `(name, url)` databases and a lock timeout of `lock_secs`.
    fn config(&self, databases: &[(&str, String)], lock_secs: u64) -> &Self {
        let mut text = format!("[default]\nlock_timeout_secs = {lock_secs}\n");
        for (name, url) in databases {
            text.push_str(&format!("[default.databases.{name}]\nurl = {url:?}\n"));
        }
        std::fs::write(self.path().join("braid.toml"), text).unwrap();
        self
    }

    /// `braid --migrations … --config … <args>`.
    fn braid(&self, args: &[&str]) -> Run {
        let migrations = self.migrations();
        let config = self.path().join("braid.toml");
        let mut all = vec![
            "--migrations",
            migrations.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        run_in(braid_bin(), self.path(), &all, &[])
    }

    /// `braid --format json <args>`, expected to exit `code`: the JSON.
    #[track_caller]
    fn json_fails(&self, code: i32, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.braid(&all).fails(code).json()
    }
}

/// The JSON entry of database `name`.
fn db<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["databases"]
        .as_array()
        .unwrap_or_else(|| panic!("no databases: {json}"))
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no database {name}: {json}"))
}

/// A one-revision project whose revision fails inside its transaction.
fn failing(project: &mut Project) {
    project
        .rev(
            "a1",
            None,
            "CREATE TABLE a (id INTEGER);\n",
            "DROP TABLE a;\n",
        )
        .rev(
            "b2",
            Some("a1"),
            "CREATE TABLE b (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
            "DROP TABLE b;\n",
        );
}

#[test]
fn a_failed_migration_exits_with_the_migration_code() {
    let mut project = Project::new();
    failing(&mut project);
    project.config(&[("app", project.sqlite("app"))], 60);

    let json = project.json_fails(MIGRATION_FAILED, &["upgrade", "heads"]);
    let app = db(&json, "app");
    assert_eq!(app["status"], "error");
    assert_eq!(app["kind"], "migration", "{json}");
    assert_eq!(json["exit_code"], MIGRATION_FAILED, "{json}");
    assert!(
        json["error"].as_str().is_some_and(|e| e.contains("app")),
        "{json}"
    );
    // The revision before it was committed and stays.
    assert_eq!(app["current"], serde_json::json!(["a1"]), "{json}");

    // Human output: the same code, and the database's error on stderr.
    let human = project.braid(&["upgrade", "heads"]).fails(MIGRATION_FAILED);
    assert!(human.stderr.contains("no_such_table"), "{}", human.stderr);
    assert!(human.stderr.contains("rolled back"), "{}", human.stderr);
}

#[test]
fn a_partial_migration_exits_with_the_partial_code_of_check() {
    let mut project = Project::new();
    project.rev_with(
        "p1",
        None,
        "CREATE TABLE p (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
        "DROP TABLE p;\n",
        false,
    );
    project.config(&[("app", project.sqlite("app"))], 60);

    let json = project.json_fails(PARTIAL, &["upgrade", "heads"]);
    assert_eq!(db(&json, "app")["kind"], "partial", "{json}");
    assert_eq!(json["exit_code"], PARTIAL, "{json}");
    // One code per meaning: `check` says the same of the database.
    let check = project.json_fails(PARTIAL, &["check"]);
    assert_eq!(check["exit_code"], PARTIAL, "{check}");
}

#[test]
fn a_held_lock_exits_with_the_lock_code() {
    let mut project = Project::new();
    project.rev(
        "a1",
        None,
        "CREATE TABLE a (id INTEGER);\n",
        "DROP TABLE a;\n",
    );
    let url = project.sqlite("app");
    project.config(&[("app", url.clone())], 0);

    let release = hold_lock(&url);
    let json = project.json_fails(LOCK_TIMEOUT, &["upgrade", "heads"]);
    let human = project.braid(&["upgrade", "heads"]).fails(LOCK_TIMEOUT);
    release.send(()).unwrap();
    assert_eq!(db(&json, "app")["kind"], "lock_timeout", "{json}");
    assert_eq!(json["exit_code"], LOCK_TIMEOUT, "{json}");
    assert!(human.stderr.contains("lock"), "{}", human.stderr);

    // Retryable: once the lock is free, the same command succeeds.
    let mut retried = project.braid(&["upgrade", "heads"]);
    for _ in 0..50 {
        if retried.code != LOCK_TIMEOUT {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        retried = project.braid(&["upgrade", "heads"]);
    }
    retried.ok();
}

#[test]
fn an_unreachable_database_exits_with_the_connect_code() {
    let mut project = Project::new();
    project.rev(
        "a1",
        None,
        "CREATE TABLE a (id INTEGER);\n",
        "DROP TABLE a;\n",
    );
    project.config(&[("remote", UNREACHABLE.to_string())], 60);

    let json = project.json_fails(CONNECT, &["upgrade", "heads"]);
    assert_eq!(db(&json, "remote")["kind"], "connect", "{json}");
    assert_eq!(json["exit_code"], CONNECT, "{json}");
    project.braid(&["upgrade", "heads"]).fails(CONNECT);
    // Every database command, reading ones included.
    let current = project.json_fails(CONNECT, &["current"]);
    assert_eq!(current["exit_code"], CONNECT, "{current}");
    project.braid(&["stamp", "a1"]).fails(CONNECT);
    // `check`: a database that cannot be checked exits with its failure's code.
    let check = project.json_fails(CONNECT, &["check"]);
    assert_eq!(check["exit_code"], CONNECT, "{check}");
}

#[test]
fn refused_credentials_exit_with_the_connect_code() {
    // MariaDB at 127.0.0.1:3306; skipped when nothing listens there.
    if std::net::TcpStream::connect("127.0.0.1:3306").is_err() {
        eprintln!("skipped: no MariaDB at 127.0.0.1:3306");
        return;
    }
    let mut project = Project::new();
    project.rev(
        "a1",
        None,
        "CREATE TABLE a (id INTEGER);\n",
        "DROP TABLE a;\n",
    );
    project.config(
        &[(
            "my",
            // root has no password there: a wrong one is refused (error 1045).
            "mysql://root:wrong-password@127.0.0.1:3306/test".to_string(),
        )],
        60,
    );
    let json = project.json_fails(CONNECT, &["current"]);
    assert_eq!(db(&json, "my")["kind"], "auth", "{json}");
    assert_eq!(json["exit_code"], CONNECT, "{json}");
}

#[test]
fn several_failed_databases_exit_with_the_most_severe() {
    let mut project = Project::new();
    failing(&mut project);
    project.config(
        &[
            ("remote", UNREACHABLE.to_string()),
            ("app", project.sqlite("app")),
        ],
        60,
    );
    // A failed migration is more severe than a database that could not be reached.
    let json = project.json_fails(MIGRATION_FAILED, &["upgrade", "heads"]);
    assert_eq!(db(&json, "remote")["kind"], "connect", "{json}");
    assert_eq!(db(&json, "app")["kind"], "migration", "{json}");
    assert_eq!(json["exit_code"], MIGRATION_FAILED, "{json}");
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.contains("2 of 2") && e.contains("remote") && e.contains("app")),
        "{json}"
    );

    // A held lock is more severe than an unreachable database.
    let mut project = Project::new();
    project.rev(
        "a1",
        None,
        "CREATE TABLE a (id INTEGER);\n",
        "DROP TABLE a;\n",
    );
    let url = project.sqlite("app");
    project.config(
        &[("app", url.clone()), ("remote", UNREACHABLE.to_string())],
        0,
    );
    let release = hold_lock(&url);
    let json = project.json_fails(LOCK_TIMEOUT, &["upgrade", "heads"]);
    release.send(()).unwrap();
    assert_eq!(db(&json, "app")["kind"], "lock_timeout", "{json}");
    assert_eq!(db(&json, "remote")["kind"], "connect", "{json}");
    assert_eq!(json["exit_code"], LOCK_TIMEOUT, "{json}");
}

#[test]
fn refusals_share_the_codes_of_check() {
    let mut project = Project::new();
    project
        .rev(
            "a1",
            None,
            "CREATE TABLE a (id INTEGER);\n",
            "DROP TABLE a;\n",
        )
        .rev(
            "b2",
            Some("a1"),
            "CREATE TABLE b (id INTEGER);\n",
            "DROP TABLE b;\n",
        );
    project.config(
        &[
            ("app", project.sqlite("app")),
            ("other", project.sqlite("other")),
        ],
        60,
    );
    project.braid(&["--db", "app", "upgrade", "a1"]).ok();
    project.braid(&["--db", "other", "upgrade", "heads"]).ok();

    // An applied migration edited since: refused with check's "edited" code.
    std::fs::write(
        project.migrations().join("a1").join("up.sql"),
        "CREATE TABLE a (id INTEGER, edited INTEGER);\n",
    )
    .unwrap();
    let json = project.json_fails(EDITED, &["--db", "app", "upgrade", "heads"]);
    assert_eq!(db(&json, "app")["kind"], "edited", "{json}");
    assert_eq!(json["exit_code"], EDITED, "{json}");
    project.braid(&["--db", "app", "check"]).fails(EDITED);
    project.braid(&["--db", "app", "accept", "a1"]).ok();

    // A revision the migrations directory does not know: check's "unknown" code.
    std::fs::remove_dir_all(project.migrations().join("b2")).unwrap();
    let json = project.json_fails(UNKNOWN_REVISIONS, &["--db", "other", "upgrade", "heads"]);
    assert_eq!(db(&json, "other")["kind"], "unknown_revisions", "{json}");
    assert_eq!(json["exit_code"], UNKNOWN_REVISIONS, "{json}");
    project
        .braid(&["--db", "other", "check"])
        .fails(UNKNOWN_REVISIONS);

    // Both at once (edited on one, unknown on the other): unknown revisions are the more severe.
    std::fs::write(
        project.migrations().join("a1").join("up.sql"),
        "CREATE TABLE a (id INTEGER, edited_again INTEGER);\n",
    )
    .unwrap();
    let json = project.json_fails(UNKNOWN_REVISIONS, &["upgrade", "heads"]);
    assert_eq!(db(&json, "app")["kind"], "edited", "{json}");
    assert_eq!(json["exit_code"], UNKNOWN_REVISIONS, "{json}");
}

#[test]
fn errors_before_any_database_keep_their_codes() {
    let mut project = Project::new();
    project.rev(
        "a1",
        None,
        "CREATE TABLE a (id INTEGER);\n",
        "DROP TABLE a;\n",
    );
    project.config(&[("app", project.sqlite("app"))], 60);
    // A target no migration knows: an input error, before any database is reached.
    let json = project.json_fails(1, &["upgrade", "nope"]);
    assert_eq!(json["exit_code"], 1, "{json}");
    // Usage.
    project.braid(&["upgrade", "--dialect", "mysql"]).fails(2);
    project
        .braid(&["stamp", "heads", "--purge", "--sql"])
        .fails(2);
}

const LINT_ERRORS: i32 = 8;
const VERIFY_FAILED: i32 = 9;

/// A column dropped from an existing table (B102, an error) and accepted with a reason in a
/// later revision: `lint` exits 8 naming the file and line; JSON lists both findings, the
/// accepted one with its reason; `--format github` annotates the file; `check --lint` fails the
/// gate with the same code while a plain `check` passes.
#[test]
fn lint_errors_exit_with_their_own_code() {
    let mut project = Project::new();
    project
        .rev(
            "a1",
            None,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);\n",
            "DROP TABLE t;\n",
        )
        .rev(
            "b2",
            Some("a1"),
            "-- the column goes\nALTER TABLE t DROP COLUMN a;\n",
            "ALTER TABLE t ADD COLUMN a INTEGER;\n",
        )
        .rev(
            "c3",
            Some("b2"),
            "-- braid:allow B102 nothing reads b since release 4.2\nALTER TABLE t DROP COLUMN b;\n",
            "ALTER TABLE t ADD COLUMN b INTEGER;\n",
        );
    project.config(&[("app", project.sqlite("app"))], 60);

    let human = project.braid(&["lint"]).fails(LINT_ERRORS);
    assert!(
        human.stdout.contains("b2/up.sql:2: error B102 [sqlite]"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("instead:"), "{}", human.stdout);

    let json = project.json_fails(LINT_ERRORS, &["lint"]);
    let findings = json["findings"].as_array().expect("findings");
    let b102: Vec<_> = findings.iter().filter(|f| f["code"] == "B102").collect();
    assert_eq!(b102.len(), 2, "{json}");
    assert_eq!(b102[0]["revision"], "b2");
    assert_eq!(b102[0]["line"], 2);
    assert!(b102[0]["suppressed"].is_null(), "{json}");
    assert_eq!(b102[1]["suppressed"], "nothing reads b since release 4.2");

    let github = project
        .braid(&["--format", "github", "lint"])
        .fails(LINT_ERRORS);
    let annotation = github
        .stdout
        .lines()
        .find(|l| l.starts_with("::error file="))
        .unwrap_or_else(|| panic!("no annotation: {}", github.stdout));
    assert!(annotation.contains("b2/up.sql,line=2,"), "{annotation}");
    assert!(
        !github.stdout.contains("c3/up.sql"),
        "accepted findings are not annotated: {}",
        github.stdout
    );

    project.braid(&["upgrade"]).ok();
    project.braid(&["check"]).ok();
    let gate = project.json_fails(LINT_ERRORS, &["check", "--lint"]);
    assert_eq!(gate["exit_code"], LINT_ERRORS, "{gate}");
    assert!(gate["lint"]["findings"].is_array(), "{gate}");
}

/// A down.sql that forgets an index: `verify` exits 9, names the revision, the step and the
/// index, and leaves the configured database untouched; fixed, it passes.
#[test]
fn a_migration_that_does_not_come_back_fails_verify() {
    let mut project = Project::new();
    project
        .rev(
            "a1",
            None,
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
            "DROP TABLE users;\n",
        )
        .rev(
            "b2",
            Some("a1"),
            "CREATE INDEX ix_users_email ON users (email);\n",
            "SELECT 1;\n",
        );
    project.config(&[("app", project.sqlite("app"))], 60);

    let human = project.braid(&["verify"]).fails(VERIFY_FAILED);
    assert!(
        human
            .stdout
            .contains("FAILED  b2: down leaves a different schema"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("ix_users_email"), "{}", human.stdout);
    let json = project.json_fails(VERIFY_FAILED, &["verify"]);
    assert_eq!(json["passed"], false, "{json}");
    let revisions = &json["backends"][0]["revisions"];
    assert_eq!(revisions[0]["status"], "passed", "{json}");
    assert_eq!(revisions[1]["status"], "failed", "{json}");
    assert_eq!(revisions[1]["step"], "down_schema", "{json}");
    assert!(
        !project.path().join("app.db").exists(),
        "the configured database is never touched"
    );

    std::fs::write(
        project.migrations().join("b2").join("down.sql"),
        "DROP INDEX ix_users_email;\n",
    )
    .unwrap();
    let ok = project.braid(&["verify"]).ok();
    assert!(
        ok.stdout.contains("2/2 revision(s) verified"),
        "{}",
        ok.stdout
    );
}
