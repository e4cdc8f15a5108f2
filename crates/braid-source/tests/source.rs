//! The migrations directory format: round trips, every bad input, dialect overrides, checksums.

use std::fs;
use std::path::{Path, PathBuf};

use braid_driver::Dialect;
use braid_graph::{Body, Direction};
use braid_source::{
    NewRevision, SourceError, checksum, checksum_revision, load, load_revisions, new_revision_id,
    parse_metadata, rust_source, slug, sql, write_revision, write_rust_revision,
};

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn new_rev(id: &str, parents: &[&str], message: &str) -> NewRevision {
    NewRevision {
        id: id.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        depends_on: vec![],
        branch_labels: vec![],
        message: message.into(),
        created: ts("2026-11-26T03:52:29Z"),
        transactional: true,
        allow_overlap: None,
        phase: None,
    }
}

/// Writes a revision directory by hand: `files` are (name, contents).
fn rev_dir(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        fs::write(dir.join(file), text).unwrap();
    }
    dir
}

fn meta(id: &str, parents: &str) -> String {
    format!("id = \"{id}\"\nparents = {parents}\nmessage = \"m\"\ncreated = 2026-11-26T03:52:29Z\n")
}

fn good(root: &Path, id: &str, parents: &str) -> PathBuf {
    rev_dir(
        root,
        id,
        &[
            ("revision.toml", &meta(id, parents)),
            ("up.sql", "select 1;"),
            ("down.sql", "select 2;"),
        ],
    )
}

fn err_of(dir: &Path) -> String {
    match load_revisions(dir) {
        Ok(revs) => panic!("expected an error, loaded {} revisions", revs.len()),
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------- round trip

#[test]
fn write_then_load_revisions_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let mig = tmp.path().join("migrations"); // does not exist yet: write creates it
    let mut a = new_rev("aaa111", &[], "Create users: \"quoted\" \\ and\nnewline");
    a.created = ts("2026-11-26T03:52:29.123456789Z");
    let mut b = new_rev("bbb222", &["aaa111"], "add prefs");
    b.depends_on = vec!["aaa111".into()];
    b.branch_labels = vec!["prefs".into()];
    b.transactional = false;
    let wa = write_revision(&mig, &a).unwrap();
    let wb = write_revision(&mig, &b).unwrap();
    assert_eq!(
        wa.dir.file_name().unwrap(),
        "aaa111_create_users_quoted_and_newline"
    );
    assert_eq!(wb.dir.file_name().unwrap(), "bbb222_add_prefs");
    assert_eq!(wb.files.len(), 3);
    assert!(wb.files.iter().all(|f| f.is_file()));
    let down = fs::read_to_string(wb.dir.join("down.sql")).unwrap();
    assert!(down.contains("undoes up.sql"), "{down}");

    let revs = load_revisions(&mig).unwrap();
    assert_eq!(revs.len(), 2);
    for (new, rev) in [(&a, &revs[0]), (&b, &revs[1])] {
        assert_eq!(rev.id, new.id);
        assert_eq!(rev.parents, new.parents);
        assert_eq!(rev.depends_on, new.depends_on);
        assert_eq!(rev.branch_labels, new.branch_labels);
        assert_eq!(rev.message, new.message);
        assert_eq!(rev.created, Some(new.created));
        assert_eq!(rev.transactional, new.transactional);
        match &rev.body {
            Body::Sql { files, .. } => assert_eq!(files, &["down.sql", "up.sql"]),
            other => panic!("{other:?}"),
        }
        assert!(rev.origin.as_ref().unwrap().ends_with("revision.toml"));
    }
}

#[test]
fn write_refuses_existing_directory_and_bad_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let a = new_rev("aaa111", &[], "x");
    write_revision(tmp.path(), &a).unwrap();
    let e = write_revision(tmp.path(), &a).unwrap_err();
    assert!(matches!(e, SourceError::AlreadyExists { .. }), "{e}");
    assert!(e.to_string().contains("aaa111_x"), "{e}");
    for bad in ["", "../evil", "a-b", "a b", &"x".repeat(65)] {
        let e = write_revision(tmp.path(), &new_rev(bad, &[], "x")).unwrap_err();
        assert!(matches!(e, SourceError::InvalidNew(_)), "{bad}: {e}");
    }
    assert!(!tmp.path().parent().unwrap().join("evil_x").exists());
}

#[test]
fn load_builds_graph_from_written_revisions() {
    // Needs braid-graph's Graph::build.
    let tmp = tempfile::tempdir().unwrap();
    write_revision(tmp.path(), &new_rev("aaa111", &[], "one")).unwrap();
    write_revision(tmp.path(), &new_rev("bbb222", &["aaa111"], "two")).unwrap();
    let graph = load(tmp.path()).unwrap();
    assert_eq!(graph.len(), 2);
    assert_eq!(graph.real_heads()[0].id, "bbb222");
}

#[test]
fn string_created_is_accepted() {
    let rev = parse_metadata(
        "id = \"a\"\nparents = []\nmessage = \"\"\ncreated = \"2026-11-26T04:52:29+01:00\"\n",
        Path::new("x/revision.toml"),
    )
    .unwrap();
    assert_eq!(rev.created, Some(ts("2026-11-26T03:52:29Z")));
    assert!(rev.transactional);
    assert!(rev.depends_on.is_empty() && rev.branch_labels.is_empty());
}

#[test]
fn slugs_and_ids() {
    assert_eq!(slug("Add user preferences!"), "add_user_preferences");
    assert_eq!(slug("  --Héllo   World-- "), "h_llo_world");
    assert_eq!(slug(""), "");
    let long = slug(&"abc ".repeat(30));
    assert!(long.len() <= 40 && !long.ends_with('_'), "{long}");
    let ids: std::collections::BTreeSet<String> = (0..1000).map(|_| new_revision_id()).collect();
    assert_eq!(ids.len(), 1000);
    for id in &ids {
        assert_eq!(id.len(), 12);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}

// ---------------------------------------------------------------- bad inputs

#[test]
fn missing_directory_says_how_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let e = err_of(&tmp.path().join("nope"));
    assert!(e.contains("nope") && e.contains("does not exist"), "{e}");
    assert!(e.contains("braid generate -m"), "{e}");
}

#[test]
fn empty_directory_says_how_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("README.md"), "notes").unwrap();
    fs::create_dir(tmp.path().join(".git")).unwrap();
    let e = err_of(tmp.path());
    assert!(e.contains("contains no revision"), "{e}");
    assert!(e.contains("braid generate -m"), "{e}");
}

#[test]
fn hidden_entries_and_top_level_files_are_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    good(tmp.path(), "a", "[]");
    fs::write(tmp.path().join("README.md"), "notes").unwrap();
    fs::create_dir(tmp.path().join(".hidden")).unwrap();
    // Non-SQL files inside a revision directory are fine too.
    fs::write(tmp.path().join("a").join("NOTES.md"), "x").unwrap();
    fs::write(tmp.path().join("a").join(".#up.sql"), "x").unwrap();
    assert_eq!(load_revisions(tmp.path()).unwrap().len(), 1);
}

#[test]
fn directory_without_revision_toml_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    good(tmp.path(), "a", "[]");
    rev_dir(
        tmp.path(),
        "b_typo",
        &[
            ("revisions.toml", &meta("b", "[\"a\"]")),
            ("up.sql", ""),
            ("down.sql", ""),
        ],
    );
    let e = err_of(tmp.path());
    assert!(
        e.contains("b_typo") && e.contains("no revision.toml"),
        "{e}"
    );
    assert!(
        e.contains("revisions.toml"),
        "mentions the likely typo: {e}"
    );
}

#[test]
fn malformed_toml_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    rev_dir(
        tmp.path(),
        "a",
        &[
            (
                "revision.toml",
                "id = \"a\"\nparents = [\nmessage = \"m\"\n",
            ),
            ("up.sql", ""),
            ("down.sql", ""),
        ],
    );
    let e = err_of(tmp.path());
    assert!(e.contains("revision.toml"), "{e}");
    assert!(e.contains("line 3"), "{e}");
}

#[test]
fn unknown_key_names_file_key_and_allowed_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!("{}parent = [\"x\"]\n", meta("a", "[]"));
    rev_dir(
        tmp.path(),
        "a",
        &[("revision.toml", &text), ("up.sql", ""), ("down.sql", "")],
    );
    let e = err_of(tmp.path());
    assert!(e.contains("a/revision.toml"), "{e}");
    assert!(e.contains("parent"), "{e}");
    for key in [
        "id",
        "parents",
        "depends_on",
        "branch_labels",
        "message",
        "created",
        "transaction",
    ] {
        assert!(e.contains(key), "lists {key}: {e}");
    }
}

#[test]
fn missing_required_key_and_bad_created() {
    let cases = [
        (
            "id = \"a\"\nmessage = \"m\"\ncreated = 2026-11-26T03:52:29Z\n",
            "parents",
        ),
        ("id = \"a\"\nparents = []\nmessage = \"m\"\n", "created"),
        (
            "id = \"a\"\nparents = []\nmessage = \"m\"\ncreated = 2026-11-26T03:52:29\n",
            "offset",
        ),
        (
            "id = \"a\"\nparents = []\nmessage = \"m\"\ncreated = 2026-11-26\n",
            "offset",
        ),
        (
            "id = \"a\"\nparents = []\nmessage = \"m\"\ncreated = \"yesterday\"\n",
            "RFC 3339",
        ),
        (
            "id = \"a\"\nparents = []\nmessage = \"m\"\ncreated = 5\n",
            "created",
        ),
        (
            "id = 5\nparents = []\nmessage = \"m\"\ncreated = 2026-11-26T03:52:29Z\n",
            "id",
        ),
    ];
    for (text, needle) in cases {
        let e = parse_metadata(text, Path::new("m/x/revision.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m/x/revision.toml: "), "{e}");
        assert!(e.contains(needle), "{needle}: {e}");
    }
}

#[test]
fn missing_up_sql_names_directory_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    rev_dir(
        tmp.path(),
        "a_dir",
        &[("revision.toml", &meta("a", "[]")), ("down.sql", "")],
    );
    let e = err_of(tmp.path());
    assert!(e.contains("a_dir") && e.contains("missing up.sql"), "{e}");
}

#[test]
fn partial_dialect_overrides_name_the_missing_files() {
    let tmp = tempfile::tempdir().unwrap();
    rev_dir(
        tmp.path(),
        "a",
        &[
            ("revision.toml", &meta("a", "[]")),
            ("up.sql", ""),
            ("down.postgres.sql", ""),
            ("down.mysql.sql", ""),
        ],
    );
    let e = err_of(tmp.path());
    assert!(e.contains("missing down.sql"), "{e}");
    assert!(e.contains("down.sqlite.sql"), "{e}");
    assert!(!e.contains("down.mysql.sql"), "{e}");
}

#[test]
fn all_three_dialect_files_replace_the_generic_one() {
    let tmp = tempfile::tempdir().unwrap();
    rev_dir(
        tmp.path(),
        "a",
        &[
            ("revision.toml", &meta("a", "[]")),
            ("up.postgres.sql", "pg"),
            ("up.mysql.sql", "my"),
            ("up.sqlite.sql", "lite"),
            ("down.sql", "down"),
        ],
    );
    let revs = load_revisions(tmp.path()).unwrap();
    let rev = &revs[0];
    assert_eq!(
        sql(rev, Direction::Up, Dialect::Postgres).unwrap().text,
        "pg"
    );
    assert_eq!(sql(rev, Direction::Up, Dialect::Mysql).unwrap().text, "my");
    assert_eq!(
        sql(rev, Direction::Up, Dialect::Sqlite).unwrap().text,
        "lite"
    );
    assert_eq!(
        sql(rev, Direction::Down, Dialect::Mysql).unwrap().text,
        "down"
    );
}

#[test]
fn bad_sql_file_names_get_suggestions() {
    let cases = [
        ("up.postgresql.sql", Some("up.postgres.sql")),
        ("down.mariadb.sql", Some("down.mysql.sql")),
        ("upgrade.sql", Some("up.sql")),
        ("downgrade.sql", Some("down.sql")),
        ("UP.SQL", Some("up.sql")),
        ("up.oracle.sql", Some("up.sql, up.postgres.sql")),
        ("schema.sql", None),
    ];
    for (name, suggestion) in cases {
        let tmp = tempfile::tempdir().unwrap();
        good(tmp.path(), "a", "[]");
        fs::write(tmp.path().join("a").join(name), "").unwrap();
        let e = err_of(tmp.path());
        assert!(e.contains(&format!("a/{name}")), "{e}");
        assert!(e.contains("not a migration file name"), "{e}");
        match suggestion {
            Some(s) => assert!(e.contains(&format!("did you mean {s}")), "{name}: {e}"),
            None => assert!(!e.contains("did you mean"), "{name}: {e}"),
        }
    }
}

#[test]
fn missing_parent_is_a_graph_error_naming_the_file() {
    // Needs braid-graph's Graph::build.
    let tmp = tempfile::tempdir().unwrap();
    good(tmp.path(), "a", "[]");
    good(tmp.path(), "b", "[\"nope\"]");
    let e = load(tmp.path()).unwrap_err();
    assert!(matches!(e, SourceError::Graph(_)), "{e}");
    let e = e.to_string();
    assert!(e.contains("b/revision.toml"), "{e}");
    assert!(e.contains("nope"), "{e}");
}

#[test]
fn errors_are_reported_in_name_order_even_when_loading_in_parallel() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..300 {
        good(tmp.path(), &format!("r{i:04}"), "[]");
    }
    fs::remove_file(tmp.path().join("r0150/up.sql")).unwrap();
    fs::remove_file(tmp.path().join("r0280/up.sql")).unwrap();
    let e = err_of(tmp.path());
    assert!(e.contains("r0150"), "{e}");
    fs::write(tmp.path().join("r0150/up.sql"), "").unwrap();
    fs::write(tmp.path().join("r0280/up.sql"), "").unwrap();
    let revs = load_revisions(tmp.path()).unwrap();
    assert_eq!(revs.len(), 300);
    assert!(revs.windows(2).all(|w| w[0].id < w[1].id));
}

#[test]
fn sql_of_a_revision_without_files_is_an_error() {
    let rev = braid_graph::Revision::new("mem", &[]);
    let e = sql(&rev, Direction::Up, Dialect::Sqlite).unwrap_err();
    assert!(e.to_string().contains("revision mem has no SQL"), "{e}");
    assert!(checksum_revision(&rev, Dialect::Sqlite).is_err());
}

#[test]
fn sql_file_deleted_after_load_is_an_io_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    good(tmp.path(), "a", "[]");
    let revs = load_revisions(tmp.path()).unwrap();
    fs::remove_file(tmp.path().join("a/up.sql")).unwrap();
    let e = sql(&revs[0], Direction::Up, Dialect::Postgres).unwrap_err();
    assert!(e.to_string().contains("a/up.sql"), "{e}");
}

// ---------------------------------------------------------------- checksums

#[test]
fn checksum_ignores_line_endings_trailing_space_and_blank_lines() {
    let base = checksum("create table t (id int);\ninsert into t values (1);");
    assert!(
        base.starts_with("sha256:") && base.len() == 7 + 64,
        "{base}"
    );
    for same in [
        "create table t (id int);\r\ninsert into t values (1);\r\n",
        "create table t (id int);   \ninsert into t values (1);\t\n\n\n",
        "\u{feff}create table t (id int);\ninsert into t values (1);\n  \n",
    ] {
        assert_eq!(checksum(same), base, "{same:?}");
    }
    for different in [
        "create table t (id int);\n\ninsert into t values (1);",
        "  create table t (id int);\ninsert into t values (1);",
        "create table t (id int);\ninsert into t values (2);",
        "\ncreate table t (id int);\ninsert into t values (1);",
    ] {
        assert_ne!(checksum(different), base, "{different:?}");
    }
    assert_eq!(checksum(""), checksum("\n\n  \r\n"));
}

#[test]
fn checksum_revision_uses_the_dialects_up_script() {
    let tmp = tempfile::tempdir().unwrap();
    rev_dir(
        tmp.path(),
        "a",
        &[
            ("revision.toml", &meta("a", "[]")),
            ("up.sql", "generic;"),
            ("up.mysql.sql", "mysql;"),
            ("down.sql", "down;"),
        ],
    );
    let rev = &load_revisions(tmp.path()).unwrap()[0];
    assert_eq!(
        checksum_revision(rev, Dialect::Sqlite).unwrap(),
        checksum("generic;")
    );
    assert_eq!(
        checksum_revision(rev, Dialect::Mysql).unwrap(),
        checksum("mysql;")
    );
}

// ---------------------------------------------------------------- the repository's own examples

#[test]
fn repository_migrations_load_and_have_every_script() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let revs = load_revisions(&dir).unwrap();
    assert!(revs.len() >= 7, "{}", revs.len());
    for rev in &revs {
        if let Body::Rust { .. } = rev.body {
            let source = rust_source(rev).unwrap();
            assert!(source.text.contains("impl MigrationTrait for Migration"));
            continue;
        }
        for dialect in Dialect::ALL {
            for direction in [Direction::Up, Direction::Down] {
                let script = sql(rev, direction, dialect).unwrap();
                assert!(!script.text.trim().is_empty(), "{}", script.path.display());
            }
        }
    }
}

#[test]
fn repository_migrations_form_the_documented_graph() {
    // Needs braid-graph.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let graph = load(&dir).unwrap();
    let heads: Vec<_> = graph.real_heads().iter().map(|r| r.id.clone()).collect();
    assert_eq!(heads, ["zd4_plans_drop_price_cents"]);
    let bases: Vec<_> = graph.bases().iter().map(|r| r.id.clone()).collect();
    assert_eq!(bases, ["core1_users"]);
    assert_eq!(graph.label_owner("audit").unwrap().id, "audit1_log");
    assert_eq!(graph.label_owner("billing").unwrap().id, "billing1_plans");
    let order: Vec<_> = graph.in_order().map(|r| r.id.as_str()).collect();
    assert_eq!(
        order,
        [
            "core1_users",
            "core2_user_preferences",
            "audit1_log",
            "audit2_log_index",
            "billing1_plans",
            "billing2_subscriptions",
            "core3_merge_audit_billing",
            "zd1_plans_price_minor",
            "zd2_plans_price_minor_index",
            "zd3_plans_backfill_price_minor",
            "zd4_plans_drop_price_cents"
        ]
    );
}

// ---- Rust bodies ----

fn rust_meta(id: &str, parents: &str) -> String {
    format!("{}rust = \"migration.rs\"\n", meta(id, parents))
}

#[test]
fn rust_revision_loads_as_a_rust_body_and_checksums_its_source() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    rev_dir(
        root,
        "a",
        &[
            ("revision.toml", &meta("a", "[]")),
            ("up.sql", "SELECT 1;"),
            ("down.sql", "SELECT 2;"),
        ],
    );
    let b = rev_dir(
        root,
        "b",
        &[
            ("revision.toml", &rust_meta("b", "[\"a\"]")),
            ("migration.rs", "// b\r\n"),
        ],
    );
    rev_dir(
        root,
        "c",
        &[
            ("revision.toml", &meta("c", "[\"b\"]")),
            ("up.sql", "SELECT 3;"),
            ("down.sql", "SELECT 4;"),
        ],
    );
    let graph = load(root).unwrap();
    let rev = graph.lookup("b").unwrap();
    assert_eq!(
        rev.body,
        Body::Rust {
            name: "b".into(),
            source: b.join("migration.rs")
        }
    );
    // Same normalisation as SQL, same value on every dialect.
    for dialect in Dialect::ALL {
        assert_eq!(checksum_revision(rev, dialect).unwrap(), checksum("// b"));
    }
    // SQL revisions on either side of it are untouched.
    assert!(matches!(graph.lookup("c").unwrap().body, Body::Sql { .. }));
    let e = sql(rev, Direction::Up, Dialect::Sqlite).unwrap_err();
    assert!(matches!(e, SourceError::NotSql { .. }), "{e}");
}

#[test]
fn rust_and_sql_in_one_directory_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    rev_dir(
        tmp.path(),
        "a",
        &[
            ("revision.toml", &rust_meta("a", "[]")),
            ("migration.rs", ""),
            ("up.sql", ""),
        ],
    );
    let e = load_revisions(tmp.path()).unwrap_err();
    assert!(matches!(e, SourceError::MixedBody { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("either SQL or Rust") && msg.contains("up.sql"),
        "{msg}"
    );
}

#[test]
fn missing_or_bad_rust_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    rev_dir(tmp.path(), "a", &[("revision.toml", &rust_meta("a", "[]"))]);
    let e = load_revisions(tmp.path()).unwrap_err();
    assert!(matches!(e, SourceError::MissingRust { .. }), "{e}");
    assert!(e.to_string().contains("migration.rs"), "{e}");

    for bad in ["../x.rs", "migration.py", "", "sub/m.rs"] {
        let text = format!("{}rust = {bad:?}\n", meta("a", "[]"));
        let e = parse_metadata(&text, Path::new("revision.toml")).unwrap_err();
        assert!(
            e.to_string().contains("must name a `.rs` file"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn a_migrations_directory_that_is_a_crate_skips_src_and_target() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("Cargo.toml"), "[package]\n").unwrap();
    fs::create_dir_all(root.join("src")).unwrap();
    fs::write(root.join("src/lib.rs"), "").unwrap();
    fs::create_dir_all(root.join("target/debug")).unwrap();
    rev_dir(
        root,
        "a",
        &[
            ("revision.toml", &meta("a", "[]")),
            ("up.sql", "SELECT 1;"),
            ("down.sql", "SELECT 2;"),
        ],
    );
    assert_eq!(load_revisions(root).unwrap().len(), 1);
    // Without Cargo.toml, `src` is a revision directory like any other (and lacks its metadata).
    fs::remove_file(root.join("Cargo.toml")).unwrap();
    assert!(matches!(
        load_revisions(root).unwrap_err(),
        SourceError::MissingMetadata { .. }
    ));
}

#[test]
fn write_rust_revision_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let mut new = new_rev("abc123", &["p1"], "Add widgets!");
    new.branch_labels = vec!["w".into()];
    let w = write_rust_revision(tmp.path(), &new).unwrap();
    assert_eq!(w.dir, tmp.path().join("abc123_add_widgets"));
    let names: Vec<_> = w
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["revision.toml", "migration.rs"]);
    let rev = braid_source::load_one(&w.dir).unwrap();
    assert_eq!(rev.id, "abc123");
    assert_eq!(rev.parents, ["p1"]);
    assert_eq!(rev.branch_labels, ["w"]);
    assert_eq!(rev.created, Some(new.created));
    assert!(matches!(rev.body, Body::Rust { ref name, .. } if name == "abc123"));
    let source = fs::read_to_string(w.dir.join("migration.rs")).unwrap();
    assert!(
        source.contains("impl MigrationTrait for Migration"),
        "{source}"
    );
    assert!(source.contains("\"abc123\""), "{source}");
    // Refuses to overwrite.
    assert!(matches!(
        write_rust_revision(tmp.path(), &new).unwrap_err(),
        SourceError::AlreadyExists { .. }
    ));
}

#[test]
fn an_unwritten_script_says_why_on_its_first_line() {
    use braid_source::unwritten;
    assert_eq!(
        unwritten("-- braid:unwritten: sqlx had no down migration\n"),
        Some("sqlx had no down migration")
    );
    assert_eq!(
        unwritten("\u{feff}-- braid:unwritten write me\r\n"),
        Some("write me")
    );
    assert_eq!(
        unwritten("DROP TABLE t;\n-- braid:unwritten: later\n"),
        None
    );
    assert_eq!(unwritten("-- braid:allow B101 reason\n"), None);
    assert_eq!(unwritten(""), None);
}

#[test]
fn a_revision_is_written_with_exactly_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let new = new_rev("m20240101_000001_create_users", &[], "create users");
    let body = braid_source::NewBody::Sql(vec![
        ("up.sql".into(), "CREATE TABLE users (id INT);\n".into()),
        ("down.postgres.sql".into(), "DROP TABLE users;\n".into()),
        ("down.sql".into(), "DROP TABLE users;\n".into()),
    ]);
    let written = braid_source::write_revision_with(tmp.path(), &new, &body).unwrap();
    // An id that ends in its message's slug is not repeated in the directory name.
    assert_eq!(
        written.dir.file_name().unwrap(),
        "m20240101_000001_create_users"
    );
    let rev = braid_source::load_one(&written.dir).unwrap();
    assert_eq!(rev.id, "m20240101_000001_create_users");
    assert_eq!(
        std::fs::read_to_string(written.dir.join("up.sql")).unwrap(),
        "CREATE TABLE users (id INT);\n"
    );
    let again = braid_source::write_revision_with(tmp.path(), &new, &body);
    assert!(again.is_err(), "an existing revision directory is refused");
}
