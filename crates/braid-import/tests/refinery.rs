//! Reading refinery migrations directories.

use std::path::{Path, PathBuf};

use braid_import::{ImportError, Tool};

mod common;

use common::{dir_with, layout_error, up_down};

fn fixture() -> PathBuf {
    common::fixture("refinery/app")
}

fn read(dir: &Path) -> Result<braid_import::History, ImportError> {
    common::read(Tool::Refinery, dir)
}

#[test]
fn reads_a_refinery_directory_recursively_in_version_order() {
    let history = read(&fixture()).expect("read");
    assert_eq!(history.tool, Tool::Refinery);
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "3", "4", "10"]);
    let ids: Vec<&str> = history.revisions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, keys);
    let names: Vec<&str> = history.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "initial",
            "add_cars_and_motos_table",
            "add_brand_to_cars_table",
            "add_year_to_motos_table",
            "index_cars_brand"
        ]
    );
    assert_eq!(history.revisions[1].message, "add cars and motos table");
    let transactional: Vec<bool> = history.revisions.iter().map(|r| r.transactional).collect();
    assert_eq!(transactional, [true, true, true, true, false]);
    assert_eq!(history.revisions[4].parents, ["4"]);
    assert_eq!(
        history.revisions[2].origin,
        fixture().join("V3/V3__add_brand_to_cars_table.sql")
    );
}

#[test]
fn keeps_the_sql_byte_for_byte_without_a_down() {
    let history = read(&fixture()).expect("read");
    for revision in &history.revisions {
        let (up, down) = up_down(&revision.body);
        assert_eq!(
            up,
            std::fs::read_to_string(&revision.origin).expect("fixture")
        );
        assert_eq!(down, None, "refinery has no down migrations");
    }
}

#[test]
fn rust_migrations_are_skipped_and_other_files_ignored() {
    let history = read(&fixture()).expect("read");
    assert_eq!(history.skipped.len(), 1, "{:?}", history.skipped);
    assert_eq!(
        history.skipped[0].path,
        fixture().join("V11__create_users.rs")
    );
    assert!(history.skipped[0].reason.contains("Rust"));
}

#[test]
fn a_name_without_the_double_underscore_is_an_error() {
    let dir = dir_with(&[("V1__ok.sql", "select 1;"), ("V2_bad.sql", "select 2;")]);
    let problem = layout_error(read(dir.path()), "V2_bad.sql");
    assert!(problem.contains("'__'"), "{problem}");
}

#[test]
fn a_dotted_version_is_an_error() {
    let dir = dir_with(&[("V1.1__minor.sql", "select 1;")]);
    layout_error(read(dir.path()), "V1.1__minor.sql");
}

#[test]
fn a_name_refinery_would_not_match_is_an_error() {
    let dir = dir_with(&[("V1__add-users.sql", "select 1;")]);
    layout_error(read(dir.path()), "V1__add-users.sql");
    let dir = dir_with(&[("v1__lower.sql", "select 1;")]);
    layout_error(read(dir.path()), "v1__lower.sql");
}

#[test]
fn a_version_too_large_for_refinery_is_an_error() {
    let dir = dir_with(&[("V20240101120000__dated.sql", "select 1;")]);
    layout_error(read(dir.path()), "V20240101120000__dated.sql");
}

#[test]
fn one_version_twice_is_a_duplicate_even_across_prefixes() {
    let dir = dir_with(&[("V1__a.sql", "select 1;"), ("sub/U01__b.sql", "select 1;")]);
    match read(dir.path()) {
        Err(ImportError::Duplicate { tool, key, .. }) => {
            assert_eq!(tool, Tool::Refinery);
            assert_eq!(key, "1");
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[test]
fn other_sql_files_are_skipped() {
    let dir = dir_with(&[("V1__a.sql", "select 1;"), ("seed.sql", "select 0;")]);
    let history = read(dir.path()).expect("read");
    assert_eq!(history.revisions.len(), 1);
    assert_eq!(history.skipped.len(), 1);
}

#[test]
fn an_empty_directory_is_an_error_with_a_hint() {
    let dir = dir_with(&[("README.md", "# notes")]);
    match read(dir.path()) {
        Err(ImportError::Empty { tool, hint, .. }) => {
            assert_eq!(tool, Tool::Refinery);
            assert!(hint.contains("V<VERSION>__<NAME>.sql"), "{hint}");
        }
        other => panic!("expected empty, got {other:?}"),
    }
}
