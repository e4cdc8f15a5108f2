//! `Project::lint` over a project on disk: which sets and dialects are linted, ranges, per-dialect
//! files, suppressions, and revisions that cannot be read.

use std::path::Path;

use braid::lint::{Code, LintReport, LintRequest, Severity};
use braid::{Dialect, Error, Project, ProjectOptions, RustRevisions};

/// Three databases on one set: SQLite, MySQL, Postgres (in name order: app, my, pg).
const THREE_DIALECTS: &str = r#"
[default]
migrations = "migrations"

[default.databases.app]
url = "sqlite://.braid/app.db"

[default.databases.my]
url = "mysql://root@127.0.0.1:3306/app"

[default.databases.pg]
url = "postgres://postgres@127.0.0.1:5432/app"
"#;

fn config(root: &Path, text: &str) {
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(root.join("config/braid.toml"), text).unwrap();
}

/// Writes revision `id` under `dir` with `files` (`up.sql`, `down.sql`, `up.postgres.sql`, …).
fn revision(dir: &Path, id: &str, parents: &[&str], extra: &str, files: &[(&str, &str)]) {
    let rev = dir.join(id);
    std::fs::create_dir_all(&rev).unwrap();
    let parents: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
    std::fs::write(
        rev.join("revision.toml"),
        format!(
            "id = {id:?}\nparents = [{}]\nmessage = {id:?}\ncreated = 2026-11-20T10:00:00Z\n{extra}",
            parents.join(", ")
        ),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(rev.join(name), text).unwrap();
    }
}

/// Three revisions: a table, an index on it (a later revision: the table holds data by then),
/// and a Postgres-only file that uses CONCURRENTLY inside a transaction.
fn three_revisions(dir: &Path) {
    revision(
        dir,
        "r1_users",
        &[],
        "",
        &[
            (
                "up.sql",
                "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(200));",
            ),
            ("down.sql", "DROP TABLE users;"),
        ],
    );
    revision(
        dir,
        "r2_index",
        &["r1_users"],
        "",
        &[
            ("up.sql", "CREATE INDEX ix_users_email ON users (email);"),
            ("down.sql", "DROP INDEX ix_users_email;"),
            ("down.mysql.sql", "DROP INDEX ix_users_email ON users;"),
        ],
    );
    revision(
        dir,
        "r3_unique",
        &["r2_index"],
        "",
        &[
            (
                "up.sql",
                "CREATE UNIQUE INDEX uq_users_email ON users (email);",
            ),
            (
                "up.postgres.sql",
                "CREATE UNIQUE INDEX CONCURRENTLY uq_users_email ON users (email);",
            ),
            ("down.sql", "DROP INDEX uq_users_email;"),
            ("down.mysql.sql", "DROP INDEX uq_users_email ON users;"),
        ],
    );
}

fn open(root: &Path) -> Project {
    Project::open(
        ProjectOptions {
            root: Some(root.to_path_buf()),
            ..ProjectOptions::default()
        },
        RustRevisions::new(),
    )
    .unwrap()
}

fn project_with_three_dialects() -> (tempfile::TempDir, Project) {
    let tmp = tempfile::tempdir().unwrap();
    config(tmp.path(), THREE_DIALECTS);
    three_revisions(&tmp.path().join("migrations"));
    let project = open(tmp.path());
    (tmp, project)
}

/// `(revision, dialect, code)` of the active findings.
fn active(report: &LintReport) -> Vec<(String, Dialect, Code)> {
    report
        .findings
        .iter()
        .filter(|f| f.is_active())
        .map(|f| (f.revision.clone(), f.dialect, f.code))
        .collect()
}

fn has(report: &LintReport, revision: &str, dialect: Dialect, code: Code) -> bool {
    active(report).contains(&(revision.to_string(), dialect, code))
}

#[test]
fn every_revision_is_linted_on_every_dialect_of_its_set() {
    let (_tmp, project) = project_with_three_dialects();
    let report = project.lint(&LintRequest::default()).unwrap();
    assert_eq!(report.revisions, 3);
    assert_eq!(report.sets.len(), 1);
    assert_eq!(
        report.sets[0].dialects,
        [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres]
    );
    // The index on a table of an earlier revision locks writes on Postgres only.
    assert!(has(
        &report,
        "r2_index",
        Dialect::Postgres,
        Code::IndexWithoutConcurrently
    ));
    assert!(has(
        &report,
        "r2_index",
        Dialect::Postgres,
        Code::NoLockTimeout
    ));
    assert!(!has(
        &report,
        "r2_index",
        Dialect::Sqlite,
        Code::IndexWithoutConcurrently
    ));
    // MySQL runs statement by statement, but a resumed run judges a CREATE TABLE from the
    // schema: no guard needed, on any dialect (views and triggers are flagged: braid-lint's
    // own tests).
    assert!(!has(
        &report,
        "r1_users",
        Dialect::Mysql,
        Code::NotRerunnable
    ));
    assert!(!has(
        &report,
        "r1_users",
        Dialect::Sqlite,
        Code::NotRerunnable
    ));
    // The Postgres file of r3 is the one linted on Postgres.
    assert!(has(
        &report,
        "r3_unique",
        Dialect::Postgres,
        Code::ConcurrentlyInTransaction
    ));
    assert!(!has(
        &report,
        "r3_unique",
        Dialect::Mysql,
        Code::ConcurrentlyInTransaction
    ));
    assert_eq!(report.worst(), Some(Severity::Error));
    assert_eq!(report.errors(), 1, "{:#?}", report.findings);
    let concurrently = report
        .findings
        .iter()
        .find(|f| f.code == Code::ConcurrentlyInTransaction)
        .unwrap();
    assert_eq!(
        Path::new(&concurrently.file),
        Path::new("migrations/r3_unique/up.postgres.sql")
    );
    assert_eq!(concurrently.line, Some(1));
    assert!(!concurrently.rendered);
}

#[test]
fn naming_databases_lints_their_dialects_only() {
    let (_tmp, project) = project_with_three_dialects();
    let request = LintRequest {
        databases: vec!["pg".into()],
        range: None,
    };
    let report = project.lint(&request).unwrap();
    assert_eq!(report.sets[0].dialects, [Dialect::Postgres]);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.dialect == Dialect::Postgres)
    );
    let unknown = LintRequest {
        databases: vec!["nope".into()],
        range: None,
    };
    assert!(matches!(project.lint(&unknown), Err(Error::Config(_))));
}

#[test]
fn a_range_selects_the_revisions_an_upgrade_would_run() {
    let (_tmp, project) = project_with_three_dialects();
    // r2 and r3 have findings on Postgres, so the findings name the revisions linted.
    let revisions = |range: &str| -> Vec<String> {
        let report = project
            .lint(&LintRequest {
                databases: vec!["pg".into()],
                range: Some(range.into()),
            })
            .unwrap();
        let mut revs: Vec<String> = report.findings.iter().map(|f| f.revision.clone()).collect();
        revs.dedup();
        assert_eq!(report.revisions, revs.len());
        revs
    };
    let all = LintRequest {
        databases: Vec::new(),
        range: Some(":".into()),
    };
    assert_eq!(project.lint(&all).unwrap().revisions, 3);
    assert_eq!(revisions("r1_users:"), ["r2_index", "r3_unique"]);
    assert_eq!(revisions("r1_users:r2_index"), ["r2_index"]);
    assert_eq!(revisions("r3_unique"), ["r3_unique"]);
    let unknown = project.lint(&LintRequest {
        databases: Vec::new(),
        range: Some("zzz".into()),
    });
    assert!(matches!(unknown, Err(Error::Plan(_))), "{unknown:?}");
}

#[test]
fn a_suppressed_finding_is_listed_with_its_reason_and_does_not_count() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    revision(
        &dir,
        "r1_users",
        &[],
        "",
        &[
            ("up.sql", "CREATE TABLE users (id INT PRIMARY KEY);"),
            ("down.sql", "DROP TABLE users;"),
        ],
    );
    revision(
        &dir,
        "r2_drop",
        &["r1_users"],
        "",
        &[
            (
                "up.sql",
                "-- braid:allow B101 no release reads users since 3.0\nDROP TABLE users;",
            ),
            ("down.sql", "CREATE TABLE users (id INT PRIMARY KEY);"),
        ],
    );
    // No config: the default set, on SQLite.
    let report = open(tmp.path()).lint(&LintRequest::default()).unwrap();
    assert_eq!(report.sets[0].dialects, [Dialect::Sqlite]);
    let drop = report
        .findings
        .iter()
        .find(|f| f.code == Code::DropTable)
        .unwrap();
    assert_eq!(
        drop.suppressed.as_deref(),
        Some("no release reads users since 3.0")
    );
    assert_eq!(drop.line, Some(2));
    assert_eq!(report.errors(), 0);
    assert_eq!(report.suppressed(), 1);
}

#[test]
fn each_set_is_linted_on_the_dialects_of_its_own_databases() {
    let tmp = tempfile::tempdir().unwrap();
    config(
        tmp.path(),
        r#"
[default]
migrations = "migrations"

[default.databases.app]
url = "sqlite://.braid/app.db"

[default.databases.billing]
url = "postgres://postgres@127.0.0.1:5432/billing"
migrations = "billing"
"#,
    );
    let add_index = [
        ("up.sql", "CREATE INDEX ix_t_a ON t (a);"),
        ("down.sql", "DROP INDEX ix_t_a;"),
    ];
    revision(&tmp.path().join("migrations"), "a1", &[], "", &add_index);
    revision(&tmp.path().join("billing"), "b1", &[], "", &add_index);
    let report = open(tmp.path()).lint(&LintRequest::default()).unwrap();
    assert_eq!(report.sets.len(), 2);
    assert_eq!(report.sets[0].dialects, [Dialect::Sqlite]);
    assert_eq!(report.sets[1].dialects, [Dialect::Postgres]);
    assert_eq!(report.revisions, 2);
    assert!(has(
        &report,
        "b1",
        Dialect::Postgres,
        Code::IndexWithoutConcurrently
    ));
    assert!(report.findings.iter().all(|f| f.revision != "a1"));
}

#[test]
fn a_rust_revision_this_binary_cannot_render_is_reported_and_the_rest_linted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    revision(&dir, "r1_rust", &[], "rust = \"migration.rs\"\n", &[]);
    std::fs::write(dir.join("r1_rust/migration.rs"), "// a Rust migration\n").unwrap();
    revision(
        &dir,
        "r2_sql",
        &["r1_rust"],
        "",
        &[("up.sql", "DROP TABLE users;"), ("down.sql", "")],
    );
    let report = open(tmp.path()).lint(&LintRequest::default()).unwrap();
    let unavailable: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == Code::BodyUnavailable)
        .collect();
    assert_eq!(unavailable.len(), 1, "{:#?}", report.findings);
    assert_eq!(unavailable[0].revision, "r1_rust");
    assert_eq!(unavailable[0].severity, Severity::Info);
    assert!(has(&report, "r2_sql", Dialect::Sqlite, Code::DropTable));
    assert!(has(
        &report,
        "r2_sql",
        Dialect::Sqlite,
        Code::MissingDowngrade
    ));
}

#[test]
fn a_transaction_false_revision_may_use_concurrently() {
    let tmp = tempfile::tempdir().unwrap();
    config(
        tmp.path(),
        "[default]\nmigrations = \"migrations\"\n\n[default.databases.pg]\n\
         url = \"postgres://postgres@127.0.0.1:5432/app\"\n",
    );
    revision(
        &tmp.path().join("migrations"),
        "r1_index",
        &[],
        "transaction = false\n",
        &[
            (
                "up.sql",
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON users (email);",
            ),
            ("down.sql", "DROP INDEX CONCURRENTLY IF EXISTS ix;"),
        ],
    );
    let report = open(tmp.path()).lint(&LintRequest::default()).unwrap();
    assert_eq!(report.errors(), 0, "{:#?}", report.findings);
    assert_eq!(report.warnings(), 0, "{:#?}", report.findings);
}
