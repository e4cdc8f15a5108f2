//! `generate --rust` writes `braid_source::rust_template`: the fixture below is that output for a
//! fixed revision, compiled here as a module, so a template that stops compiling fails this test.
//! It must also run, and render (to nothing) offline, on every dialect. (Here, not in
//! braid-seaorm: a generated migration imports `braid::prelude`.)

use braid_graph::Direction;

#[path = "fixtures/generated_migration.rs"]
mod generated;

use braid::seaorm::MigrationName;
use braid::{Dialect, Driver};

fn new_revision() -> braid_source::NewRevision {
    braid_source::NewRevision {
        id: "generated1".into(),
        parents: vec!["core2_user_preferences".into()],
        depends_on: vec![],
        branch_labels: vec![],
        message: "add widgets".into(),
        created: "2026-11-26T04:00:00Z".parse().unwrap(),
        transactional: true,
        allow_overlap: None,
        phase: None,
    }
}

#[test]
fn the_template_is_the_compiled_fixture() {
    let text = braid_source::rust_template(&new_revision());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/generated_migration.rs"
    );
    if std::env::var_os("BRAID_BLESS").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(
        text,
        include_str!("fixtures/generated_migration.rs"),
        "the template changed: rerun with BRAID_BLESS=1 to update the fixture (and check it compiles)"
    );
}

#[tokio::test]
async fn the_generated_migration_runs_and_renders() {
    let m = generated::Migration;
    assert_eq!(m.name(), "generated1");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut driver: Box<dyn Driver> = braid::drivers::open_url(&url).await.unwrap();
    for direction in [Direction::Up, Direction::Down] {
        braid::seaorm::bridge::run_migration(driver.as_mut(), &m, direction, "generated1")
            .await
            .unwrap();
        for dialect in Dialect::ALL {
            let sql = braid::seaorm::recorder::render(&m, dialect, direction).unwrap();
            assert_eq!(sql, "");
        }
    }
}
