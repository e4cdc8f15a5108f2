//! `Project::overlaps`: what the branches to be joined both touch, read from a migrations
//! directory with no config (SQLite) and from the repository's migrations, whose base
//! revisions are Rust.

mod support;

use std::path::Path;

use braid::overlap::{OverlapKind, OverlapReport};

/// Writes an SQL revision: `revision.toml`, `up.sql` and a `down.sql`. `minute` orders the
/// revisions' creation times.
fn revision(dir: &Path, id: &str, parents: &[&str], minute: u32, up: &str) {
    let rev = dir.join(id);
    std::fs::create_dir_all(&rev).unwrap();
    std::fs::write(
        rev.join("revision.toml"),
        format!(
            "id = {id:?}\nparents = {parents:?}\nmessage = {id:?}\n\
             created = 2026-01-01T00:{minute:02}:00Z\n"
        ),
    )
    .unwrap();
    std::fs::write(rev.join("up.sql"), up).unwrap();
    std::fs::write(rev.join("down.sql"), "SELECT 1;").unwrap();
}

/// A project at `root` with no config, reading `migrations`.
fn project(root: &Path, migrations: &Path, rust: braid::RustRevisions) -> braid::Project {
    braid::Project::open(
        braid::ProjectOptions {
            root: Some(root.to_path_buf()),
            config: None,
            migrations: Some(migrations.to_path_buf()),
            profile: None,
        },
        rust,
    )
    .unwrap()
}

/// base → `a` (a1, a2) and base → `b` (b1, b2): both add `users.email`, `b` renames the
/// column `a` indexes, and `b` creates a table `a` never touches.
fn conflicting_history(dir: &Path) {
    revision(
        dir,
        "base1",
        &[],
        0,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);",
    );
    revision(
        dir,
        "a1",
        &["base1"],
        1,
        "ALTER TABLE users ADD COLUMN email TEXT;",
    );
    revision(
        dir,
        "a2",
        &["a1"],
        2,
        "CREATE INDEX ix_users_name ON users (name);",
    );
    revision(
        dir,
        "b1",
        &["base1"],
        3,
        "ALTER TABLE users ADD COLUMN email VARCHAR(200);",
    );
    revision(
        dir,
        "b2",
        &["b1"],
        4,
        "ALTER TABLE users RENAME COLUMN name TO full_name;\nCREATE TABLE audit (id INTEGER);",
    );
}

fn kinds(report: &OverlapReport) -> Vec<(OverlapKind, &str, bool)> {
    report
        .overlaps
        .iter()
        .map(|o| (o.kind, o.object.as_str(), o.conflicting))
        .collect()
}

#[test]
fn branches_that_collide_are_reported_with_their_revisions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    conflicting_history(&dir);
    let project = project(tmp.path(), &dir, braid::RustRevisions::new());

    let report = project.overlaps(&[], &["heads".to_string()]).unwrap();
    assert_eq!(report.dialects, [braid::Dialect::Sqlite]);
    assert_eq!(report.base, ["base1"]);
    let sides: Vec<(&str, Vec<&str>)> = report
        .sides
        .iter()
        .map(|s| {
            (
                s.head.as_str(),
                s.revisions.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(sides, [("a2", vec!["a1", "a2"]), ("b2", vec!["b1", "b2"])]);
    assert_eq!(
        kinds(&report),
        [
            (OverlapKind::BothAdd, "column users.email", true),
            (OverlapKind::DropInUse, "column users.name", true),
            (OverlapKind::BothAlterTable, "table users", false),
        ]
    );
    let renamed = &report.overlaps[1];
    assert_eq!(
        (renamed.left.as_slice(), renamed.right.as_slice()),
        (&["a2".to_string()][..], &["b2".to_string()][..])
    );
    assert_eq!(report.overlaps[2].left, ["a1", "a2"]);
    assert!(report.conflicting());
    assert_eq!(report.conflicts().count(), 2);
    assert_eq!(
        report.overlaps[0].to_string(),
        "conflict: both sides add column users.email (left: a1; right: b1)"
    );
    assert!(report.not_analysed.is_empty(), "{:?}", report.not_analysed);

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["overlaps"][0]["kind"], "both_add");
    assert_eq!(json["sides"][1]["head"], "b2");
    assert_eq!(json["dialects"][0], "sqlite");

    // The heads named one by one, or not at all, resolve as `heads` does.
    let named = project
        .overlaps(&[], &["a2".to_string(), "b2".to_string()])
        .unwrap();
    assert_eq!(named, report);
    assert_eq!(project.overlaps(&[], &[]).unwrap(), report);
    // One side only: nothing to compare.
    let alone = project.overlaps(&[], &["a2".to_string()]).unwrap();
    assert!(alone.overlaps.is_empty() && !alone.conflicting());
    // A name that is no revision is the same typed error `merge` gives.
    let unknown = project.overlaps(&[], &["zz9".to_string()]);
    assert!(unknown.is_err(), "{unknown:?}");
}

#[test]
fn harmless_branches_are_reported_not_refused_and_unreadable_sql_is_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    revision(
        &dir,
        "base1",
        &[],
        0,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE legacy (id INTEGER);",
    );
    revision(
        &dir,
        "a1",
        &["base1"],
        1,
        "ALTER TABLE users ADD COLUMN phone TEXT;\nDROP TABLE legacy;",
    );
    revision(
        &dir,
        "b1",
        &["base1"],
        2,
        "ALTER TABLE users ADD COLUMN nickname TEXT;\nTHIS IS NOT SQL;\nCREATE TABLE audit (id INTEGER);",
    );
    let project = project(tmp.path(), &dir, braid::RustRevisions::new());

    let report = project.overlaps(&[], &[]).unwrap();
    assert_eq!(
        kinds(&report),
        [(OverlapKind::BothAlterTable, "table users", false)]
    );
    assert!(!report.conflicting());
    let [unread] = report.not_analysed.as_slice() else {
        panic!("{:?}", report.not_analysed);
    };
    assert_eq!(unread.revision, "b1");
    assert_eq!(unread.line, Some(2));
    assert_eq!(unread.statement.as_deref(), Some("THIS IS NOT SQL"));
    assert!(unread.file.ends_with("up.sql"), "{}", unread.file);
}

/// The repository's migrations without their merge revision (nor the revisions standing on it):
/// `audit` and `billing` branch from `core2_user_preferences`, a Rust revision. A third branch
/// from `core1_users` creates `user_preferences` again, which `core2_user_preferences` creates in
/// Rust.
fn repository_branches(tmp: &Path) -> std::path::PathBuf {
    let dir = tmp.join("migrations");
    support::copy_tree(&braid_tests::repo_migrations(), &dir);
    for id in [
        "core3_merge_audit_billing",
        "zd1_plans_price_minor",
        "zd2_plans_price_minor_index",
        "zd3_plans_backfill_price_minor",
        "zd4_plans_drop_price_cents",
    ] {
        std::fs::remove_dir_all(dir.join(id)).unwrap();
    }
    let _ = std::fs::remove_file(dir.join("HEADS"));
    revision(
        &dir,
        "prefs_again",
        &["core1_users"],
        0,
        "CREATE TABLE user_preferences (id INTEGER PRIMARY KEY, user_id INTEGER);",
    );
    dir
}

#[test]
fn rust_revisions_are_read_as_the_sql_they_render() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = repository_branches(tmp.path());
    let project = project(tmp.path(), &dir, braid_tests::repo_rust_revisions());

    let report = project.overlaps(&[], &[]).unwrap();
    assert_eq!(report.base, ["core1_users"]);
    assert_eq!(report.sides.len(), 3, "{:?}", report.sides);
    // Found with `audit` and with `billing`, which share the revision: listed once.
    let created: Vec<_> = report
        .overlaps
        .iter()
        .filter(|o| o.kind == OverlapKind::BothCreate && o.object == "table user_preferences")
        .collect();
    let [created] = created.as_slice() else {
        panic!("{:#?}", report.overlaps);
    };
    let both: Vec<&str> = created
        .left
        .iter()
        .chain(&created.right)
        .map(String::as_str)
        .collect();
    assert!(
        both.contains(&"core2_user_preferences") && both.contains(&"prefs_again"),
        "{created:?}"
    );
    assert!(report.conflicting());
    assert!(report.not_analysed.is_empty(), "{:?}", report.not_analysed);
    // `audit` and `billing` share core2_user_preferences: it is on neither side of their pair.
    assert!(
        report
            .overlaps
            .iter()
            .all(|o| !(o.left.contains(&"core2_user_preferences".to_string())
                && o.right.contains(&"core2_user_preferences".to_string()))),
        "{:#?}",
        report.overlaps
    );

    // A binary without the Rust revisions says what it could not read, and refuses nothing
    // because of it.
    let without = project_without_rust(tmp.path(), &dir);
    let report = without.overlaps(&[], &[]).unwrap();
    assert!(
        report
            .not_analysed
            .iter()
            .any(|n| n.revision == "core2_user_preferences" && n.line.is_none()),
        "{:?}",
        report.not_analysed
    );
    assert!(
        report
            .overlaps
            .iter()
            .all(|o| o.object != "table user_preferences"),
        "{:#?}",
        report.overlaps
    );
}

fn project_without_rust(root: &Path, migrations: &Path) -> braid::Project {
    project(root, migrations, braid::RustRevisions::new())
}
