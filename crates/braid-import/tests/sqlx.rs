//! Reading sqlx migrations directories.

use std::path::{Path, PathBuf};

use braid_import::{ImportError, Tool};

mod common;

use common::{dir_with, layout_error, up_down};

fn fixture() -> PathBuf {
    common::fixture("sqlx/app")
}

fn read(dir: &Path) -> Result<braid_import::History, ImportError> {
    common::read(Tool::Sqlx, dir)
}

#[test]
fn reads_a_sqlx_directory_in_version_order() {
    let history = read(&fixture()).expect("read");
    assert_eq!(history.tool, Tool::Sqlx);
    assert_eq!(history.source, fixture());
    assert!(history.skipped.is_empty(), "{:?}", history.skipped);
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["20240101120000", "20240102090000", "20240103100000"]);
    let ids: Vec<&str> = history.revisions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, keys);
    let names: Vec<&str> = history.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["create users", "index user email", "seed admin"]);
    let messages: Vec<&str> = history
        .revisions
        .iter()
        .map(|r| r.message.as_str())
        .collect();
    assert_eq!(messages, ["create users", "index user email", "seed admin"]);
    let parents: Vec<Vec<String>> = history
        .revisions
        .iter()
        .map(|r| r.parents.clone())
        .collect();
    assert_eq!(
        parents,
        [
            vec![],
            vec!["20240101120000".to_string()],
            vec!["20240102090000".to_string()]
        ]
    );
    let transactional: Vec<bool> = history.revisions.iter().map(|r| r.transactional).collect();
    assert_eq!(transactional, [true, false, true]);
    let created = history.revisions[0].created.map(|t| t.to_string());
    assert_eq!(created.as_deref(), Some("2024-01-01T12:00:00Z"));
}

#[test]
fn keeps_the_sql_files_byte_for_byte() {
    let history = read(&fixture()).expect("read");
    let file = |name: &str| std::fs::read_to_string(fixture().join(name)).expect("fixture");
    let (up, down) = up_down(&history.revisions[0].body);
    assert_eq!(up, file("20240101120000_create_users.up.sql"));
    assert_eq!(
        down,
        Some(file("20240101120000_create_users.down.sql").as_str())
    );
    assert_eq!(
        history.revisions[0].origin,
        fixture().join("20240101120000_create_users.up.sql")
    );
    let (up, down) = up_down(&history.revisions[2].body);
    assert_eq!(up, file("20240103100000_seed_admin.sql"));
    assert_eq!(down, None, "a simple migration has no down");

    let dir = dir_with(&[("7_crlf.sql", "\u{feff}select 1;\r\n\r\n")]);
    let history = read(dir.path()).expect("read");
    assert_eq!(
        up_down(&history.revisions[0].body).0,
        "\u{feff}select 1;\r\n\r\n"
    );
}

#[test]
fn versions_sort_as_integers_and_keep_no_leading_zeros() {
    let dir = dir_with(&[("10_ten.sql", "select 10;"), ("0002_two.sql", "select 2;")]);
    let history = read(dir.path()).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["2", "10"]);
    assert_eq!(history.revisions[0].created, None, "not a timestamp");
}

#[test]
fn no_transaction_must_open_the_file() {
    let dir = dir_with(&[
        ("1_late.sql", "select 1;\n-- no-transaction\n"),
        ("2_down_only.up.sql", "select 2;"),
        ("2_down_only.down.sql", "-- no-transaction\nselect 2;"),
    ]);
    let history = read(dir.path()).expect("read");
    assert!(history.revisions[0].transactional);
    assert!(!history.revisions[1].transactional, "either half opts out");
}

#[test]
fn sql_files_sqlx_ignores_are_listed_as_skipped() {
    let dir = dir_with(&[("1_first.sql", "select 1;"), ("schema.sql", "select 0;")]);
    let history = read(dir.path()).expect("read");
    assert_eq!(history.revisions.len(), 1);
    assert_eq!(history.skipped.len(), 1);
    assert_eq!(history.skipped[0].path, dir.path().join("schema.sql"));
}

#[test]
fn an_up_without_its_down_is_an_error() {
    let dir = dir_with(&[("1_users.up.sql", "create table users ();")]);
    let problem = layout_error(read(dir.path()), "1_users.up.sql");
    assert!(problem.contains(".down.sql"), "{problem}");
}

#[test]
fn a_down_without_its_up_is_an_error() {
    let dir = dir_with(&[("1_users.down.sql", "drop table users;")]);
    let problem = layout_error(read(dir.path()), "1_users.down.sql");
    assert!(problem.contains(".up.sql"), "{problem}");
}

#[test]
fn a_version_that_is_not_an_integer_is_an_error() {
    let dir = dir_with(&[("1_first.sql", "select 1;"), ("seed_data.sql", "select 0;")]);
    let problem = layout_error(read(dir.path()), "seed_data.sql");
    assert!(problem.contains("'seed'"), "{problem}");
}

#[test]
fn a_version_without_a_description_is_an_error() {
    let dir = dir_with(&[("20240101120000.sql", "select 1;")]);
    layout_error(read(dir.path()), "20240101120000.sql");
}

#[test]
fn two_files_of_one_version_are_a_duplicate() {
    let dir = dir_with(&[("1_a.sql", "select 1;"), ("001_b.sql", "select 1;")]);
    match read(dir.path()) {
        Err(ImportError::Duplicate {
            tool,
            key,
            first,
            second,
        }) => {
            assert_eq!(tool, Tool::Sqlx);
            assert_eq!(key, "1");
            assert_eq!(first, dir.path().join("001_b.sql"));
            assert_eq!(second, dir.path().join("1_a.sql"));
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let dir = dir_with(&[
        ("1_a.sql", "select 1;"),
        ("1_a.up.sql", "select 1;"),
        ("1_a.down.sql", "select 1;"),
    ]);
    assert!(matches!(
        read(dir.path()),
        Err(ImportError::Duplicate { .. })
    ));
}

#[test]
fn an_empty_directory_is_an_error_with_a_hint() {
    let dir = dir_with(&[("README.md", "# notes")]);
    match read(dir.path()) {
        Err(ImportError::Empty { tool, dir: d, hint }) => {
            assert_eq!(tool, Tool::Sqlx);
            assert_eq!(d, dir.path());
            assert!(hint.contains("<VERSION>_<DESCRIPTION>.sql"), "{hint}");
        }
        other => panic!("expected empty, got {other:?}"),
    }
}

#[test]
fn a_missing_directory_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    match read(&missing) {
        Err(ImportError::Io { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected an io error, got {other:?}"),
    }
}
