//! Reading Flyway migration locations.

use std::path::{Path, PathBuf};

use braid_import::{ImportError, Tool};

mod common;

use common::{dir_with, layout_error, up_down};

fn fixture() -> PathBuf {
    common::fixture("flyway/app")
}

fn read(dir: &Path) -> Result<braid_import::History, ImportError> {
    common::read(Tool::Flyway, dir)
}

#[test]
fn reads_a_flyway_location_recursively_in_version_order() {
    let history = read(&fixture()).expect("read");
    assert_eq!(history.tool, Tool::Flyway);
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["1", "1.1", "2", "10"]);
    let ids: Vec<&str> = history.revisions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["1", "v1_1", "2", "10"]);
    let names: Vec<&str> = history.revisions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Create person table",
            "Add email",
            "Index person name",
            "Create t"
        ]
    );
    assert_eq!(history.revisions[0].message, "Create person table");
    let transactional: Vec<bool> = history.revisions.iter().map(|r| r.transactional).collect();
    assert_eq!(
        transactional,
        [true, true, false, true],
        "V2 has a script config"
    );
    assert!(history.revisions.iter().all(|r| r.created.is_none()));
    assert_eq!(history.revisions[3].parents, ["2"]);
    assert_eq!(
        history.revisions[3].origin,
        fixture().join("later/V10__Create_t.sql")
    );
}

#[test]
fn undo_scripts_become_downs_and_sql_is_kept_byte_for_byte() {
    let history = read(&fixture()).expect("read");
    let file = |path: &str| std::fs::read_to_string(fixture().join(path)).expect("fixture");
    let (up, down) = up_down(&history.revisions[1].body);
    assert_eq!(up, file("V1_1__Add_email.sql"));
    assert_eq!(down, Some(file("U1_1__Add_email.sql").as_str()));
    let (up, down) = up_down(&history.revisions[0].body);
    assert_eq!(up, file("V1__Create_person_table.sql"));
    assert_eq!(down, None);
}

#[test]
fn repeatables_and_callbacks_are_skipped_with_a_reason() {
    let history = read(&fixture()).expect("read");
    let skipped: Vec<&Path> = history.skipped.iter().map(|s| s.path.as_path()).collect();
    assert_eq!(
        skipped,
        [
            fixture().join("R__Person_names_view.sql"),
            fixture().join("beforeMigrate.sql")
        ]
    );
    assert!(history.skipped[0].reason.contains("repeatable"));
    assert!(history.skipped[1].reason.contains("callback"));
}

#[test]
fn versions_keep_their_text_and_compare_numerically() {
    let dir = dir_with(&[
        ("V1_10__ten.sql", "select 10;"),
        ("V1_9__nine.sql", "select 9;"),
        ("V001__one.sql", "select 1;"),
        ("V2024.01.31__dated.sql", "select 2024;"),
    ]);
    let history = read(dir.path()).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["001", "1.9", "1.10", "2024.01.31"]);
}

#[test]
fn long_descriptions_are_cut_as_the_table_keeps_them() {
    let long = "word_".repeat(42);
    let dir = dir_with(&[(&format!("V1__{long}.sql"), "select 1;")]);
    let history = read(dir.path()).expect("read");
    let name = &history.revisions[0].name;
    assert_eq!(name.len(), 200);
    assert!(name.ends_with("..."));
    assert!(
        history.revisions[0].message.len() > 200,
        "the message keeps it all"
    );
}

#[test]
fn a_versioned_name_without_the_double_underscore_is_an_error() {
    let dir = dir_with(&[("V1__ok.sql", "select 1;"), ("V2_bad.sql", "select 2;")]);
    let problem = layout_error(read(dir.path()), "V2_bad.sql");
    assert!(problem.contains("'__'"), "{problem}");
}

#[test]
fn a_version_that_is_not_numeric_is_an_error() {
    let dir = dir_with(&[("V1.x__bad.sql", "select 1;")]);
    layout_error(read(dir.path()), "V1.x__bad.sql");
}

#[test]
fn an_undo_without_its_versioned_migration_is_an_error() {
    let dir = dir_with(&[("V1__ok.sql", "select 1;"), ("U2__gone.sql", "select 2;")]);
    layout_error(read(dir.path()), "U2__gone.sql");
}

#[test]
fn a_repeatable_with_a_version_is_an_error() {
    let dir = dir_with(&[("R1__view.sql", "select 1;")]);
    layout_error(read(dir.path()), "R1__view.sql");
}

#[test]
fn equal_versions_are_a_duplicate() {
    let dir = dir_with(&[("V1__a.sql", "select 1;"), ("sub/V1.0__b.sql", "select 1;")]);
    match read(dir.path()) {
        Err(ImportError::Duplicate {
            tool,
            first,
            second,
            ..
        }) => {
            assert_eq!(tool, Tool::Flyway);
            assert_ne!(first, second);
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

#[test]
fn a_script_config_with_a_bad_value_is_a_parse_error() {
    let dir = dir_with(&[
        ("V1__a.sql", "select 1;"),
        ("V1__a.sql.conf", "# settings\nexecuteInTransaction=maybe\n"),
    ]);
    match read(dir.path()) {
        Err(ImportError::Parse { path, line, .. }) => {
            assert_eq!(path, dir.path().join("V1__a.sql.conf"));
            assert_eq!(line, Some(2));
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn only_repeatables_is_empty_with_a_hint() {
    let dir = dir_with(&[("R__view.sql", "select 1;")]);
    match read(dir.path()) {
        Err(ImportError::Empty { tool, hint, .. }) => {
            assert_eq!(tool, Tool::Flyway);
            assert!(hint.contains("repeatable"), "{hint}");
        }
        other => panic!("expected empty, got {other:?}"),
    }
}

#[test]
fn a_lower_case_prefix_is_an_error() {
    let dir = dir_with(&[("v1__lower.sql", "select 1;")]);
    match read(dir.path()) {
        Err(ImportError::Layout { hint, .. }) => {
            assert!(hint.contains("'V1__lower.sql'"), "{hint}")
        }
        other => panic!("expected a layout error, got {other:?}"),
    }
}
