//! Mapping a source tool's version table to imported revisions: the rules of `adopt`, without a
//! database (the end-to-end cases on every backend are in the workspace's tests).

use braid_driver::{Dialect, Value};
use braid_graph::{Graph, Revision};
use braid_import::{AdoptError, ImportMap, MapEntry, SourceRow, Tool, adopt, version_query};

fn map(tool: Tool, keys: &[(&str, &str)]) -> ImportMap {
    ImportMap {
        tool,
        revisions: keys
            .iter()
            .map(|(key, id)| MapEntry {
                key: key.to_string(),
                id: id.to_string(),
                name: String::new(),
                ..MapEntry::default()
            })
            .collect(),
    }
}

fn chain(ids: &[&str]) -> Graph {
    let mut previous: Option<&str> = None;
    let mut revisions = Vec::new();
    for id in ids {
        revisions.push(Revision::new(*id, previous.as_slice()));
        previous = Some(id);
    }
    Graph::build(revisions).unwrap()
}

fn row(key: &str) -> SourceRow {
    SourceRow {
        key: key.to_string(),
        checksum: None,
        success: true,
        kind: None,
    }
}

fn flyway(key: &str, kind: &str) -> SourceRow {
    SourceRow {
        kind: Some(kind.to_string()),
        ..row(key)
    }
}

fn no_sql(_: &str) -> Result<String, String> {
    Ok(String::new())
}

#[test]
fn alembic_rows_are_heads_and_bring_their_ancestors() {
    // base ── a ──┬── b1 ── m (merge)
    //             └── c1 ──┘      d depends on b1, on its own base
    let mut revisions = vec![
        Revision::new("base0", &[]),
        Revision::new("a", &["base0"]),
        Revision::new("b1", &["a"]),
        Revision::new("c1", &["a"]),
        Revision::new("m", &["b1", "c1"]),
    ];
    let mut d = Revision::new("d", &[]);
    d.depends_on = vec!["b1".into()];
    revisions.push(d);
    let graph = Graph::build(revisions).unwrap();
    let keys = [
        ("base0", "base0"),
        ("a", "a"),
        ("b1", "b1"),
        ("c1", "c1"),
        ("m", "m"),
        ("d", "d"),
    ];
    let map = map(Tool::Alembic, &keys);
    let plan = adopt(&map, &graph, &[row("c1"), row("d")], &no_sql).unwrap();
    assert_eq!(plan.stamp, ["c1", "d"]);
    assert_eq!(plan.applied, ["base0", "a", "b1", "c1", "d"]);
    assert_eq!(plan.pending, ["m"]);
}

#[test]
fn a_chain_is_applied_as_a_prefix() {
    let graph = chain(&["v1", "v2", "v3"]);
    let map = map(Tool::Diesel, &[("1", "v1"), ("2", "v2"), ("3", "v3")]);
    let plan = adopt(&map, &graph, &[row("1"), row("2")], &no_sql).unwrap();
    assert_eq!(plan.applied, ["v1", "v2"]);
    assert_eq!(plan.stamp, ["v2"]);
    assert_eq!(plan.pending, ["v3"]);
    let none = adopt(&map, &graph, &[], &no_sql).unwrap();
    assert!(none.stamp.is_empty() && none.applied.is_empty());
    let gap = adopt(&map, &graph, &[row("1"), row("3")], &no_sql).unwrap_err();
    assert_eq!(
        gap,
        AdoptError::OutOfOrder {
            tool: Tool::Diesel,
            missing: "2".into(),
            later: "3".into()
        }
    );
    let unknown = adopt(&map, &graph, &[row("1"), row("9")], &no_sql).unwrap_err();
    assert!(matches!(unknown, AdoptError::Unknown { key, .. } if key == "9"));
}

#[test]
fn flyway_undo_and_baseline() {
    let graph = chain(&["v1", "v1_1", "v2", "v3"]);
    let map = map(
        Tool::Flyway,
        &[("1", "v1"), ("1.1", "v1_1"), ("2", "v2"), ("3", "v3")],
    );
    // A baseline at 1.1 stands for 1 and 1.1; 2 ran; then 2 was undone.
    let rows = [
        flyway("1.1", "BASELINE"),
        flyway("2", "SQL"),
        flyway("2", "UNDO_SQL"),
    ];
    let plan = adopt(&map, &graph, &rows, &no_sql).unwrap();
    assert_eq!(plan.applied, ["v1", "v1_1"]);
    assert_eq!(plan.pending, ["v2", "v3"]);
    // `1.10` comes after `1.9`, and `1.0` is `1`.
    let rows = [flyway("1.0", "BASELINE")];
    let plan = adopt(&map, &graph, &rows, &no_sql).unwrap();
    assert_eq!(plan.applied, ["v1"]);
}

#[test]
fn a_failed_row_stops_and_a_checksum_must_match() {
    let graph = chain(&["v1", "v2"]);
    let map = map(Tool::Sqlx, &[("1", "v1"), ("2", "v2")]);
    let failed = SourceRow {
        success: false,
        ..row("2")
    };
    let error = adopt(&map, &graph, &[row("1"), failed], &no_sql).unwrap_err();
    assert!(matches!(&error, AdoptError::Failed { key, .. } if key == "2"));
    assert!(error.to_string().contains("_sqlx_migrations"), "{error}");

    let sql = "CREATE TABLE t (id INT);\n";
    let stored = SourceRow {
        checksum: Some(
            braid_import::expected_checksums(Tool::Sqlx, &map.revisions[0], sql).remove(0),
        ),
        ..row("1")
    };
    let same = |_: &str| Ok(sql.to_string());
    adopt(&map, &graph, std::slice::from_ref(&stored), &same).unwrap();
    let edited = |_: &str| Ok(sql.replace("INT", "BIGINT"));
    let error = adopt(&map, &graph, &[stored], &edited).unwrap_err();
    assert!(
        matches!(&error, AdoptError::Checksum { id, .. } if id == "v1"),
        "{error}"
    );
}

#[test]
fn rows_decode_from_every_driver_type() {
    let sqlx = SourceRow::decode(
        Tool::Sqlx,
        &[
            Value::Int(20240101),
            Value::Bytes(vec![0xab, 0x01]),
            Value::Int(1),
        ],
    )
    .unwrap();
    assert_eq!(sqlx.key, "20240101");
    assert_eq!(sqlx.checksum.as_deref(), Some("ab01"));
    assert!(sqlx.success);
    let flyway = SourceRow::decode(
        Tool::Flyway,
        &[
            Value::Text("1.1".into()),
            Value::Int(-42),
            Value::Text("0".into()),
            Value::Bytes(b"SQL".to_vec()),
        ],
    )
    .unwrap();
    assert_eq!(flyway.checksum.as_deref(), Some("-42"));
    assert!(!flyway.success);
    assert_eq!(flyway.kind.as_deref(), Some("SQL"));
    assert!(SourceRow::decode(Tool::Diesel, &[Value::Null]).is_none());
}

#[test]
fn the_query_quotes_each_part_of_the_table() {
    let q = version_query(Tool::Alembic, Dialect::Postgres, "my\"app.alembic_version");
    assert_eq!(
        q,
        "SELECT version_num FROM \"my\"\"app\".\"alembic_version\""
    );
    let q = version_query(Tool::Flyway, Dialect::Mysql, "flyway_schema_history");
    assert!(q.contains("FROM `flyway_schema_history`"), "{q}");
    assert!(q.contains("ORDER BY installed_rank"), "{q}");
}

#[test]
fn flyway_baseline_scripts_and_repaired_rows() {
    let graph = chain(&["v1", "v2", "v3"]);
    let map = map(Tool::Flyway, &[("1", "v1"), ("2", "v2"), ("3", "v3")]);
    // A database made from a `B2__…` script records SQL_BASELINE at 2: 1 and 2 are applied,
    // and its row is not compared with V2's file.
    let rows = [
        SourceRow {
            checksum: Some("12345".into()),
            ..flyway("2", "SQL_BASELINE")
        },
        flyway("3", "SQL"),
    ];
    let plan = adopt(&map, &graph, &rows, &no_sql).unwrap();
    assert_eq!(plan.applied, ["v1", "v2", "v3"]);
    // `flyway repair` keeps the row of a migration whose file is gone and appends a DELETE
    // row: the version counts as not applied, and a later run of it counts again.
    let rows = [
        flyway("1", "SQL"),
        flyway("9", "SQL"),
        flyway("9", "DELETE"),
    ];
    let plan = adopt(&map, &graph, &rows, &no_sql).unwrap();
    assert_eq!(plan.applied, ["v1"]);
    let rows = [
        flyway("1", "SQL"),
        flyway("2", "SQL"),
        flyway("2", "DELETE"),
        flyway("2", "SQL"),
    ];
    let plan = adopt(&map, &graph, &rows, &no_sql).unwrap();
    assert_eq!(plan.applied, ["v1", "v2"]);
}

#[test]
fn ids_are_kept_where_valid_and_mapped_where_not() {
    use braid_import::braid_id;
    assert_eq!(braid_id("20240101120000"), "20240101120000");
    assert_eq!(
        braid_id("m20220101_000001_create_table"),
        "m20220101_000001_create_table"
    );
    assert_eq!(braid_id("1.1"), "v1_1");
    assert_eq!(braid_id("2.0.1-beta"), "v2_0_1_beta");
    assert_eq!(braid_id("head"), "vhead");
    assert_eq!(braid_id(""), "v");
}

/// A body that was not translated (refinery's Rust migration) has no file whose checksum could
/// equal the one the tool kept over the SQL its code produced: that row is not checked.
#[test]
fn an_untranslated_body_is_not_checksummed() {
    let graph = chain(&["v1", "v2"]);
    let mut map = map(Tool::Refinery, &[("1", "v1"), ("2", "v2")]);
    map.revisions[1].untranslated = true;
    let stored = |key: &str| SourceRow {
        checksum: Some("42".into()),
        ..row(key)
    };
    let error = adopt(&map, &graph, &[stored("1"), stored("2")], &no_sql).unwrap_err();
    assert!(
        matches!(&error, AdoptError::Checksum { id, .. } if id == "v1"),
        "{error}"
    );
    map.revisions[0].untranslated = true;
    let plan = adopt(&map, &graph, &[stored("1"), stored("2")], &no_sql).unwrap();
    assert_eq!(plan.applied, ["v1", "v2"]);
}
