//! Reading diesel migrations directories.

use std::path::{Path, PathBuf};

use braid_import::{ImportError, Tool};

mod common;

use common::{dir_with, up_down};

fn fixture() -> PathBuf {
    common::fixture("diesel/app")
}

fn read(dir: &Path) -> Result<braid_import::History, ImportError> {
    common::read(Tool::Diesel, dir)
}

#[test]
fn reads_a_diesel_directory_in_version_order() {
    let history = read(&fixture()).expect("read");
    assert_eq!(history.tool, Tool::Diesel);
    assert!(history.skipped.is_empty());
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "00000000000000",
            "20240101120000",
            "20240102090000",
            "20240103100000"
        ]
    );
    let ids: Vec<&str> = history.revisions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, keys);
    let names: Vec<&str> = history.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "diesel_initial_setup",
            "create_users",
            "index_user_email",
            "seed_admin"
        ]
    );
    assert_eq!(history.revisions[1].message, "create users");
    let transactional: Vec<bool> = history.revisions.iter().map(|r| r.transactional).collect();
    assert_eq!(transactional, [true, true, false, true]);
    let created: Vec<Option<String>> = history
        .revisions
        .iter()
        .map(|r| r.created.map(|t| t.to_string()))
        .collect();
    assert_eq!(created[0], None, "00000000000000 is no time");
    assert_eq!(created[1].as_deref(), Some("2024-01-01T12:00:00Z"));
    assert_eq!(history.revisions[1].parents, ["00000000000000"]);
    assert_eq!(
        history.revisions[1].origin,
        fixture().join("2024-01-01-120000_create_users")
    );
}

#[test]
fn keeps_up_and_down_byte_for_byte_and_a_missing_down_as_none() {
    let history = read(&fixture()).expect("read");
    let file = |path: &str| std::fs::read_to_string(fixture().join(path)).expect("fixture");
    let (up, down) = up_down(&history.revisions[0].body);
    assert_eq!(up, file("00000000000000_diesel_initial_setup/up.sql"));
    assert_eq!(
        down,
        Some(file("00000000000000_diesel_initial_setup/down.sql").as_str())
    );
    let (up, down) = up_down(&history.revisions[3].body);
    assert_eq!(up, file("2024-01-03-100000_seed_admin/up.sql"));
    assert_eq!(down, None);
}

#[test]
fn plain_versions_are_kept_and_ordered_as_diesel_orders_them() {
    let dir = dir_with(&[
        ("2_second/up.sql", "select 2;"),
        ("10_tenth/up.sql", "select 10;"),
        ("1_first/up.sql", "select 1;\r\n"),
    ]);
    let history = read(dir.path()).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    // diesel compares versions as text.
    assert_eq!(keys, ["1", "10", "2"]);
    assert_eq!(up_down(&history.revisions[0].body).0, "select 1;\r\n");
    assert_eq!(history.revisions[0].created, None);
}

#[test]
fn a_directory_without_up_sql_is_an_error() {
    let dir = dir_with(&[
        ("2024-01-01-120000_create_users/up.sql", "select 1;"),
        ("2024-01-02-120000_typo/upp.sql", "select 2;"),
    ]);
    match read(dir.path()) {
        Err(ImportError::Layout {
            path,
            problem,
            hint,
        }) => {
            assert_eq!(path, dir.path().join("2024-01-02-120000_typo"));
            assert!(problem.contains("up.sql"), "{problem}");
            assert!(hint.contains("up.sql"), "{hint}");
        }
        other => panic!("expected a layout error, got {other:?}"),
    }
}

#[test]
fn a_directory_without_a_version_is_an_error() {
    let dir = dir_with(&[("_create_users/up.sql", "select 1;")]);
    assert!(matches!(read(dir.path()), Err(ImportError::Layout { .. })));
}

#[test]
fn two_directories_of_one_version_are_a_duplicate() {
    let dir = dir_with(&[
        ("2024-01-01-120000_a/up.sql", "select 1;"),
        ("20240101120000_b/up.sql", "select 1;"),
    ]);
    match read(dir.path()) {
        Err(ImportError::Duplicate { tool, key, .. }) => {
            assert_eq!(tool, Tool::Diesel);
            assert_eq!(key, "20240101120000");
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[test]
fn hidden_directories_and_plain_files_are_ignored() {
    let dir = dir_with(&[
        (".git/HEAD", "ref"),
        ("README.md", "# notes"),
        ("1_first/up.sql", "select 1;"),
    ]);
    let history = read(dir.path()).expect("read");
    assert_eq!(history.revisions.len(), 1);
}

#[test]
fn an_empty_directory_is_an_error_with_a_hint() {
    let dir = dir_with(&[("README.md", "# notes")]);
    match read(dir.path()) {
        Err(ImportError::Empty { tool, hint, .. }) => {
            assert_eq!(tool, Tool::Diesel);
            assert!(hint.contains("up.sql"), "{hint}");
        }
        other => panic!("expected empty, got {other:?}"),
    }
}
