//! Reading refinery migrations directories.

use std::path::{Path, PathBuf};

use braid_import::{Body, ImportError, Tool};

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
    assert_eq!(keys, ["1", "2", "3", "4", "10", "11"]);
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
            "index_cars_brand",
            "create_users"
        ]
    );
    assert_eq!(history.revisions[1].message, "add cars and motos table");
    let transactional: Vec<bool> = history.revisions.iter().map(|r| r.transactional).collect();
    assert_eq!(transactional, [true, true, true, true, false, true]);
    assert_eq!(history.revisions[4].parents, ["4"]);
    assert_eq!(
        history.revisions[2].origin,
        fixture().join("V3/V3__add_brand_to_cars_table.sql")
    );
}

#[test]
fn keeps_the_sql_byte_for_byte_without_a_down() {
    let history = read(&fixture()).expect("read");
    let sql = history
        .revisions
        .iter()
        .filter(|r| !matches!(r.body, Body::Untranslated { .. }));
    for revision in sql {
        let (up, down) = up_down(&revision.body);
        assert_eq!(
            up,
            std::fs::read_to_string(&revision.origin).expect("fixture")
        );
        assert_eq!(down, None, "refinery has no down migrations");
    }
}

#[test]
fn a_rust_migration_is_imported_as_a_body_that_refuses_to_run() {
    let history = read(&fixture()).expect("read");
    assert!(history.skipped.is_empty(), "{:?}", history.skipped);
    let rust = &history.revisions[5];
    assert_eq!(rust.key, "11");
    assert_eq!(rust.parents, ["10"]);
    assert_eq!(rust.origin, fixture().join("V11__create_users.rs"));
    assert_eq!(
        rust.body,
        Body::Untranslated {
            file_name: "V11__create_users.rs".to_string(),
            text: std::fs::read_to_string(fixture().join("V11__create_users.rs")).expect("fixture"),
            reason: "a refinery Rust migration: Braid runs SQL or sea-orm-migration Rust, not \
                     refinery's Rust; write its SQL"
                .to_string(),
        }
    );
}

#[test]
fn rust_migrations_take_their_place_in_version_order() {
    let dir = dir_with(&[
        ("V1__a.sql", "select 1;"),
        ("V3__c.sql", "select 3;"),
        (
            "rust/V2__b.rs",
            "pub fn migration() -> String { String::new() }\n",
        ),
        ("rust/mod.rs", "pub mod V2__b;\n"),
    ]);
    let history = read(dir.path()).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "3"]);
    assert_eq!(history.revisions[1].name, "b");
    assert_eq!(history.revisions[1].parents, ["1"]);
    assert_eq!(history.revisions[2].parents, ["2"]);
    assert!(matches!(
        history.revisions[1].body,
        Body::Untranslated { .. }
    ));
    assert!(history.skipped.is_empty(), "{:?}", history.skipped);
}

#[test]
fn a_rust_and_an_sql_migration_of_one_version_are_a_duplicate() {
    let dir = dir_with(&[("V1__a.sql", "select 1;"), ("V1__b.rs", "")]);
    match read(dir.path()) {
        Err(ImportError::Duplicate { key, .. }) => assert_eq!(key, "1"),
        other => panic!("expected a duplicate, got {other:?}"),
    }
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
fn timestamp_versions_are_read_as_int8_versions() {
    let dir = common::fixture("refinery/int8");
    let history = read(&dir).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        ["1", "20240101120000", "20240215093000", "20240301000000"]
    );
    let ids: Vec<&str> = history.revisions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, keys);
    assert_eq!(history.revisions[3].parents, ["20240215093000"]);
    assert!(!history.revisions[2].transactional);
    assert_eq!(
        history.revisions[3].origin,
        dir.join("seeds/V20240301000000__seed_admin.sql")
    );
}

#[test]
fn the_largest_int8_version_is_read_and_a_larger_one_is_an_error() {
    let dir = dir_with(&[("V9223372036854775807__max.sql", "select 1;")]);
    let history = read(dir.path()).expect("read");
    assert_eq!(history.revisions[0].key, "9223372036854775807");
    let dir = dir_with(&[("V9223372036854775808__over.sql", "select 1;")]);
    let problem = layout_error(read(dir.path()), "V9223372036854775808__over.sql");
    assert!(problem.contains("i64"), "{problem}");
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
