//! Reading Alembic projects.
//!
//! The tests that need Alembic itself (rendering SQL) skip with a note when it is not
//! installed, unless `BRAID_REQUIRE_SERVERS=1`, when they fail.

use std::path::{Path, PathBuf};
use std::process::Command;

use braid_driver::Dialect;
use braid_import::{AlembicOptions, Body, History, ImportError, ReadOptions, Sql, Tool};

mod common;

use common::dir_with;

const BASE: &str = "14414c37c911";
const EMAIL: &str = "7ae6d94ceeb9";
const AUDIT: &str = "24c8bcf461b9";
const NAME_INDEX: &str = "e004a88352ae";
const AUDIT_INDEX: &str = "b37446ebfa7f";
const MERGE: &str = "dd1bc5fdfdb0";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alembic")
}

fn read_with(dir: &Path, alembic: AlembicOptions) -> Result<History, ImportError> {
    braid_import::read(Tool::Alembic, dir, &ReadOptions { alembic })
}

/// Options that never find Alembic: reading the graph without rendering anything.
fn no_alembic() -> AlembicOptions {
    AlembicOptions {
        command: Some(vec!["/nonexistent/alembic".to_string()]),
        ..AlembicOptions::default()
    }
}

fn read_graph(dir: &Path) -> Result<History, ImportError> {
    read_with(dir, no_alembic())
}

fn require_servers() -> bool {
    std::env::var("BRAID_REQUIRE_SERVERS").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Whether Alembic runs here (as `alembic`, or `python3 -m alembic`); when it does not, a note,
/// or a failure under `BRAID_REQUIRE_SERVERS=1`.
fn alembic_available(test: &str) -> bool {
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works("alembic", &[]) || works("python3", &["-m", "alembic"]) {
        return true;
    }
    assert!(
        !require_servers(),
        "{test}: Alembic is not installed and BRAID_REQUIRE_SERVERS=1 (pip install alembic)"
    );
    eprintln!("SKIPPED [{test}]: Alembic is not installed (pip install alembic)");
    false
}

/// A copy of the fixture project in a temporary directory.
fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixture(), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A revision file as Alembic's template writes it, with `assignments` as its identifiers.
fn revision_file(message: &str, assignments: &str) -> String {
    format!(
        "\"\"\"{message}\n\nRevision ID: x\nRevises:\n\
         Create Date: 2024-01-02 10:11:12.123456\n\n\"\"\"\n\
         from alembic import op\nimport sqlalchemy as sa\n\n\
         # revision identifiers, used by Alembic.\n{assignments}\n\n\n\
         def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )
}

fn find<'a>(history: &'a History, key: &str) -> &'a braid_import::Imported {
    history
        .revisions
        .iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no revision {key}"))
}

fn texts(sql: &Sql) -> Vec<(Option<Dialect>, &str)> {
    match sql {
        Sql::Every(text) => vec![(None, text.as_str())],
        Sql::PerDialect(texts) => texts.iter().map(|(d, t)| (Some(*d), t.as_str())).collect(),
    }
}

fn up_down(history: &History, key: &str) -> (Sql, Option<Sql>) {
    match &find(history, key).body {
        Body::Sql { up, down } => (up.clone(), down.clone()),
        other => panic!("{key}: not SQL: {other:?}"),
    }
}

fn for_dialect(sql: &Sql, dialect: Dialect) -> &str {
    match sql {
        Sql::Every(text) => text,
        Sql::PerDialect(texts) => texts
            .iter()
            .find(|(d, _)| *d == dialect)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no SQL for {dialect}")),
    }
}

#[test]
fn reads_the_fixture_graph() {
    let history = read_graph(&fixture()).expect("read");
    assert_eq!(history.tool, Tool::Alembic);
    assert_eq!(history.source, fixture());
    assert!(history.skipped.is_empty());
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, [BASE, EMAIL, AUDIT, NAME_INDEX, AUDIT_INDEX, MERGE]);
    for rev in &history.revisions {
        assert_eq!(rev.id, rev.key, "Alembic ids are valid Braid ids");
        assert!(rev.transactional);
        assert!(rev.name.is_empty());
        assert!(
            rev.origin
                .starts_with(fixture().join("migrations/versions"))
        );
        assert!(rev.origin.to_string_lossy().contains(&rev.key));
    }
    let parents = |key: &str| find(&history, key).parents.clone();
    assert!(parents(BASE).is_empty());
    assert_eq!(parents(EMAIL), [BASE]);
    assert_eq!(parents(AUDIT), [EMAIL]);
    assert_eq!(parents(NAME_INDEX), [EMAIL]);
    assert_eq!(parents(MERGE), [AUDIT_INDEX, AUDIT]);
    assert_eq!(find(&history, AUDIT).branch_labels, ["audit"]);
    assert_eq!(find(&history, AUDIT_INDEX).depends_on, [AUDIT]);
    assert!(find(&history, NAME_INDEX).depends_on.is_empty());
    assert_eq!(find(&history, BASE).message, "create users table");
    assert_eq!(find(&history, MERGE).message, "merge audit branch");
    let created = find(&history, BASE).created.expect("created");
    assert_eq!(created.to_string(), "2024-03-05T22:42:12.050494Z");
    assert!(history.revisions.iter().all(|r| r.created.is_some()));
}

#[test]
fn without_alembic_every_body_is_its_python_with_a_reason() {
    let history = read_graph(&fixture()).expect("read");
    for rev in &history.revisions {
        let Body::Untranslated {
            file_name,
            text,
            reason,
        } = &rev.body
        else {
            panic!("{}: {:?}", rev.key, rev.body);
        };
        let original = rev.origin.file_name().expect("file name").to_string_lossy();
        assert_eq!(file_name, &*original);
        assert_eq!(
            text,
            &std::fs::read_to_string(&rev.origin).expect("read source")
        );
        assert!(reason.contains("/nonexistent/alembic"), "{reason}");
        assert!(!reason.contains('\n'), "{reason}");
    }
}

#[test]
fn renders_each_dialect_with_alembic() {
    if !alembic_available("renders_each_dialect_with_alembic") {
        return;
    }
    let started = std::time::Instant::now();
    let history = read_with(&fixture(), AlembicOptions::default()).expect("read");
    eprintln!("rendered the fixture in {:?}", started.elapsed());
    for rev in &history.revisions {
        let (up, down) = up_down(&history, &rev.key);
        let down = down.unwrap_or_else(|| panic!("{}: no down", rev.key));
        for (_, text) in texts(&up).into_iter().chain(texts(&down)) {
            assert!(!text.contains("alembic_version"), "{}: {text}", rev.key);
            assert!(
                !text.contains("BEGIN;") && !text.contains("COMMIT;"),
                "{text}"
            );
            assert!(!text.contains("-- Running"), "{text}");
        }
    }
    let (up, down) = up_down(&history, BASE);
    assert!(for_dialect(&up, Dialect::Postgres).contains("id SERIAL NOT NULL"));
    assert!(for_dialect(&up, Dialect::Mysql).contains("AUTO_INCREMENT"));
    assert!(for_dialect(&up, Dialect::Sqlite).starts_with("CREATE TABLE users (\n"));
    assert_eq!(down, Some(Sql::Every("DROP TABLE users;\n".to_string())));
    let (up, down) = up_down(&history, EMAIL);
    assert_eq!(
        up,
        Sql::Every("ALTER TABLE users ADD COLUMN email VARCHAR(255);\n".to_string())
    );
    assert_eq!(
        down,
        Some(Sql::Every(
            "ALTER TABLE users DROP COLUMN email;\n".to_string()
        ))
    );
    let (_, down) = up_down(&history, NAME_INDEX);
    let down = down.expect("down");
    assert_eq!(
        for_dialect(&down, Dialect::Mysql),
        "DROP INDEX ix_users_name ON users;\n"
    );
    assert_eq!(
        for_dialect(&down, Dialect::Postgres),
        "DROP INDEX ix_users_name;\n"
    );
    let (up, down) = up_down(&history, MERGE);
    assert_eq!(up, Sql::Every(String::new()));
    assert_eq!(down, Some(Sql::Every(String::new())));
}

#[test]
fn renders_only_the_dialects_asked_for() {
    if !alembic_available("renders_only_the_dialects_asked_for") {
        return;
    }
    let options = AlembicOptions {
        dialects: vec![Dialect::Sqlite],
        ..AlembicOptions::default()
    };
    let history = read_with(&fixture(), options).expect("read");
    let (up, _) = up_down(&history, EMAIL);
    assert_eq!(
        up,
        Sql::PerDialect(vec![(
            Dialect::Sqlite,
            "ALTER TABLE users ADD COLUMN email VARCHAR(255);\n".to_string()
        )])
    );
}

#[test]
fn rendering_leaves_the_project_as_it_was() {
    if !alembic_available("rendering_leaves_the_project_as_it_was") {
        return;
    }
    let copy = fixture_copy();
    let before = listing(copy.path());
    let options = AlembicOptions {
        dialects: vec![Dialect::Sqlite],
        ..AlembicOptions::default()
    };
    read_with(copy.path(), options).expect("read");
    assert_eq!(listing(copy.path()), before);
}

/// Every path under `dir`, sorted.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            paths.push(path);
        }
    }
    paths.sort();
    paths
}

/// A revision whose upgrade reads the database, which offline mode cannot do.
const LIVE: &str = r#""""backfill emails

Revision ID: f00d00000001
Revises: dd1bc5fdfdb0
Create Date: 2024-03-06 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = 'f00d00000001'
down_revision = 'dd1bc5fdfdb0'
branch_labels = None
depends_on = None


def upgrade():
    rows = op.get_bind().execute(sa.text("SELECT id FROM users")).fetchall()
    for row in rows:
        op.execute(f"UPDATE users SET email = 'u{row[0]}' WHERE id = {row[0]}")


def downgrade():
    op.get_bind().execute(sa.text("SELECT 1")).fetchall()
"#;

/// Built on [`LIVE`]; its downgrade is irreversible, Alembic-style.
const AFTER_LIVE: &str = r#""""add users active

Revision ID: f00d00000002
Revises: f00d00000001
Create Date: 2024-03-06 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = "f00d00000002"
down_revision = "f00d00000001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("active", sa.Boolean(), nullable=True))


def downgrade():
    raise NotImplementedError("irreversible")
"#;

#[test]
fn a_body_that_needs_the_database_stays_python_and_the_rest_renders() {
    if !alembic_available("a_body_that_needs_the_database_stays_python") {
        return;
    }
    let copy = fixture_copy();
    let versions = copy.path().join("migrations/versions");
    std::fs::write(versions.join("f00d00000001_backfill_emails.py"), LIVE).expect("write");
    std::fs::write(
        versions.join("f00d00000002_add_users_active.py"),
        AFTER_LIVE,
    )
    .expect("write");
    let options = AlembicOptions {
        dialects: vec![Dialect::Postgres],
        ..AlembicOptions::default()
    };
    let history = read_with(copy.path(), options).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys[6..], ["f00d00000001", "f00d00000002"]);
    match &find(&history, "f00d00000001").body {
        Body::Untranslated {
            file_name, reason, ..
        } => {
            assert_eq!(file_name, "f00d00000001_backfill_emails.py");
            assert!(reason.contains("fetchall"), "{reason}");
        }
        other => panic!("rendered a body that reads the database: {other:?}"),
    }
    let (up, down) = up_down(&history, "f00d00000002");
    assert!(for_dialect(&up, Dialect::Postgres).contains("ADD COLUMN active BOOLEAN"));
    assert_eq!(down, None, "NotImplementedError reads as no down migration");
    for key in [BASE, EMAIL, AUDIT, NAME_INDEX, AUDIT_INDEX, MERGE] {
        let (_, down) = up_down(&history, key);
        assert!(down.is_some(), "{key}");
    }
}

/// A revision file for [`branches_that_both_fail_still_render_the_rest`]: `up` and `down` are
/// the bodies of `upgrade()` and `downgrade()`.
fn tiny_revision(key: &str, down_revision: &str, up: &str, down: &str) -> String {
    format!(
        "\"\"\"{key}\n\nRevision ID: {key}\n\"\"\"\n\
         from alembic import op\nimport sqlalchemy as sa\n\n\
         revision = '{key}'\ndown_revision = {down_revision}\nbranch_labels = None\n\
         depends_on = None\n\n\ndef upgrade():\n    {up}\n\n\ndef downgrade():\n    {down}\n"
    )
}

#[test]
fn branches_that_both_fail_still_render_the_rest() {
    if !alembic_available("branches_that_both_fail_still_render_the_rest") {
        return;
    }
    let copy = fixture_copy();
    let versions = copy.path().join("migrations/versions");
    for entry in std::fs::read_dir(&versions).expect("read_dir") {
        std::fs::remove_file(entry.expect("entry").path()).expect("remove");
    }
    let live = "op.get_bind().execute(sa.text('SELECT 1')).fetchall()";
    let select = |n: i32| format!("op.execute('SELECT {n}')");
    let files = [
        ("b0", "None".to_string(), select(0), select(-0)),
        ("x1", "'b0'".to_string(), live.to_string(), live.to_string()),
        ("x2", "'x1'".to_string(), select(2), select(-2)),
        ("y1", "'b0'".to_string(), live.to_string(), live.to_string()),
        ("y2", "'y1'".to_string(), select(3), select(-3)),
        (
            "m",
            "('x2', 'y2')".to_string(),
            "pass".to_string(),
            "pass".to_string(),
        ),
        ("top", "'m'".to_string(), select(4), select(-4)),
    ];
    for (key, down_revision, up, down) in &files {
        let text = tiny_revision(key, down_revision, up, down);
        std::fs::write(versions.join(format!("{key}_r.py")), text).expect("write");
    }
    let options = AlembicOptions {
        dialects: vec![Dialect::Sqlite],
        ..AlembicOptions::default()
    };
    let history = read_with(copy.path(), options).expect("read");
    for key in ["x1", "y1"] {
        assert!(
            matches!(find(&history, key).body, Body::Untranslated { .. }),
            "{key}"
        );
    }
    for (key, up) in [
        ("b0", "SELECT 0;\n"),
        ("x2", "SELECT 2;\n"),
        ("y2", "SELECT 3;\n"),
        ("m", ""),
        ("top", "SELECT 4;\n"),
    ] {
        let (rendered, down) = up_down(&history, key);
        assert_eq!(for_dialect(&rendered, Dialect::Sqlite), up, "{key}");
        assert!(down.is_some(), "{key}");
    }
}

#[test]
fn an_env_py_that_ignores_the_ini_url_is_caught() {
    if !alembic_available("an_env_py_that_ignores_the_ini_url_is_caught") {
        return;
    }
    let copy = fixture_copy();
    let env = copy.path().join("migrations/env.py");
    let text = std::fs::read_to_string(&env).expect("read env.py");
    let own_url = text.replace(
        "url = config.get_main_option(\"sqlalchemy.url\")",
        "url = \"postgresql://app@db/app\"",
    );
    assert_ne!(own_url, text);
    std::fs::write(&env, own_url).expect("write env.py");
    let options = AlembicOptions {
        dialects: vec![Dialect::Postgres, Dialect::Sqlite],
        ..AlembicOptions::default()
    };
    let history = read_with(copy.path(), options).expect("read");
    for rev in &history.revisions {
        match &rev.body {
            Body::Untranslated { reason, .. } => {
                assert!(
                    reason.contains("PostgresqlImpl, not for sqlite"),
                    "{reason}"
                );
            }
            other => panic!("{}: rendered as the wrong dialect: {other:?}", rev.key),
        }
    }
}

/// Replaces the fixture's offline `context.configure(…)` options with `options` added.
fn configure_offline_with(project: &Path, options: &str) {
    let env = project.join("migrations/env.py");
    let text = std::fs::read_to_string(&env).expect("read env.py");
    let anchor = "dialect_opts={\"paramstyle\": \"named\"},";
    assert!(text.contains(anchor));
    let changed = text.replacen(anchor, &format!("{anchor}\n        {options}"), 1);
    std::fs::write(&env, changed).expect("write env.py");
}

#[test]
fn a_custom_version_table_is_dropped_like_the_default() {
    if !alembic_available("a_custom_version_table_is_dropped_like_the_default") {
        return;
    }
    let copy = fixture_copy();
    configure_offline_with(
        copy.path(),
        "version_table=\"my_versions\", version_table_schema=\"app\", \
         transaction_per_migration=True,",
    );
    let history = read_with(copy.path(), AlembicOptions::default()).expect("read");
    for rev in &history.revisions {
        let (up, down) = up_down(&history, &rev.key);
        let down = down.unwrap_or_else(|| panic!("{}: no down", rev.key));
        for (_, text) in texts(&up).into_iter().chain(texts(&down)) {
            assert!(!text.contains("my_versions"), "{}: {text}", rev.key);
            assert!(
                !text.contains("BEGIN;") && !text.contains("COMMIT;"),
                "{text}"
            );
        }
        assert!(rev.transactional, "{}", rev.key);
    }
    let (up, down) = up_down(&history, EMAIL);
    assert_eq!(
        up,
        Sql::Every("ALTER TABLE users ADD COLUMN email VARCHAR(255);\n".to_string())
    );
    assert_eq!(
        down,
        Some(Sql::Every(
            "ALTER TABLE users DROP COLUMN email;\n".to_string()
        ))
    );
    let (_, down) = up_down(&history, BASE);
    assert_eq!(down, Some(Sql::Every("DROP TABLE users;\n".to_string())));
}

/// Built on the fixture's head: an index that Postgres builds only outside a transaction.
const CONCURRENTLY: &str = r#""""index users concurrently

Revision ID: c0c0c0c0c0c1
Revises: dd1bc5fdfdb0
"""
from alembic import op

revision = "c0c0c0c0c0c1"
down_revision = "dd1bc5fdfdb0"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)")
    op.execute("SELECT 2")


def downgrade():
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY ix_users_email")
"#;

/// Built on [`CONCURRENTLY`]: a procedure whose body commits, between blank lines.
const PROCEDURE: &str = r#""""a procedure that commits

Revision ID: c0c0c0c0c0c2
Revises: c0c0c0c0c0c1
"""
from alembic import op

revision = "c0c0c0c0c0c2"
down_revision = "c0c0c0c0c0c1"
branch_labels = None
depends_on = None

BODY = """CREATE PROCEDURE flush_users() LANGUAGE plpgsql AS $$
BEGIN
DELETE FROM users;

COMMIT;

END $$"""


def upgrade():
    op.execute(BODY)


def downgrade():
    op.execute("DROP PROCEDURE flush_users")
"#;

#[test]
fn a_revision_that_commits_inside_runs_outside_a_transaction() {
    if !alembic_available("a_revision_that_commits_inside_runs_outside_a_transaction") {
        return;
    }
    let copy = fixture_copy();
    let versions = copy.path().join("migrations/versions");
    std::fs::write(versions.join("c0c0c0c0c0c1_concurrently.py"), CONCURRENTLY).expect("write");
    std::fs::write(versions.join("c0c0c0c0c0c2_procedure.py"), PROCEDURE).expect("write");
    let history = read_with(copy.path(), AlembicOptions::default()).expect("read");
    let concurrently = find(&history, "c0c0c0c0c0c1");
    assert!(!concurrently.transactional);
    let (up, down) = up_down(&history, "c0c0c0c0c0c1");
    assert_eq!(
        up,
        Sql::Every(
            "SELECT 1;\n\nCREATE INDEX CONCURRENTLY ix_users_email ON users (email);\n\n\
             SELECT 2;\n"
                .to_string()
        )
    );
    assert_eq!(
        down,
        Some(Sql::Every(
            "DROP INDEX CONCURRENTLY ix_users_email;\n".to_string()
        ))
    );
    assert!(find(&history, "c0c0c0c0c0c2").transactional);
    let (up, _) = up_down(&history, "c0c0c0c0c0c2");
    assert_eq!(
        for_dialect(&up, Dialect::Postgres),
        "CREATE PROCEDURE flush_users() LANGUAGE plpgsql AS $$\nBEGIN\nDELETE FROM users;\n\n\
         COMMIT;\n\nEND $$;\n"
    );
    for key in [BASE, EMAIL, AUDIT, NAME_INDEX, AUDIT_INDEX, MERGE] {
        assert!(find(&history, key).transactional, "{key}");
    }
}

#[test]
fn the_real_alembic_upgrades_a_sqlite_database_from_the_fixture() {
    if !alembic_available("the_real_alembic_upgrades_a_sqlite_database") {
        return;
    }
    let copy = fixture_copy();
    let alembic = |args: &[&str]| {
        let direct = Command::new("alembic")
            .args(args)
            .current_dir(copy.path())
            .output();
        let output = match direct {
            Ok(output) => output,
            Err(_) => Command::new("python3")
                .args(["-m", "alembic"])
                .args(args)
                .current_dir(copy.path())
                .output()
                .expect("python3 -m alembic"),
        };
        assert!(
            output.status.success(),
            "alembic {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    alembic(&["upgrade", "heads"]);
    assert!(copy.path().join("app.db").is_file());
    assert!(alembic(&["current"]).contains(MERGE));
    alembic(&["downgrade", "base"]);
}

#[test]
fn finds_the_project_from_the_ini_file_or_the_script_directory() {
    let from_ini = read_graph(&fixture().join("alembic.ini")).expect("ini file");
    assert_eq!(from_ini.revisions.len(), 6);
    let from_scripts = read_graph(&fixture().join("migrations")).expect("script dir");
    assert_eq!(from_scripts.revisions.len(), 6);
}

#[test]
fn reads_version_locations() {
    let dir = dir_with(&[
        (
            "alembic.ini",
            "[alembic]\nscript_location = %(here)s/db\n\
             version_locations = %(here)s/one %(here)s/two\n\
             sqlalchemy.url = sqlite:///x.db\n",
        ),
        ("db/env.py", "\n"),
        (
            "one/aaaa1111_first.py",
            &revision_file("first", "revision = 'aaaa1111'\ndown_revision = None"),
        ),
        (
            "two/bbbb2222_second.py",
            &revision_file(
                "second",
                "revision = 'bbbb2222'\ndown_revision = 'aaaa1111'",
            ),
        ),
    ]);
    let history = read_graph(dir.path()).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["aaaa1111", "bbbb2222"]);
}

#[test]
fn reads_every_way_of_writing_the_identifiers() {
    let dir = dir_with(&[
        (
            "versions/a.py",
            &revision_file("base", "revision = \"r1\"\ndown_revision = None"),
        ),
        (
            "versions/b.py",
            &revision_file(
                "typed",
                "revision: str = 'r2'\n\
                 down_revision: Union[str, Sequence[str], None] = ['r1']\n\
                 branch_labels: Union[str, Sequence[str], None] = 'side'\n\
                 depends_on: Union[str, Sequence[str], None] = None",
            ),
        ),
        (
            "versions/c.py",
            &revision_file(
                "on a label",
                "revision = 'r3'\ndown_revision = 'r1'\ndepends_on = ('side',)",
            ),
        ),
        (
            "versions/d.py",
            &revision_file(
                "merge",
                "revision = 'r4'\ndown_revision = (\n    'r2',  # one\n    \"r3\",\n)",
            ),
        ),
    ]);
    let history = read_graph(dir.path()).expect("read");
    assert_eq!(find(&history, "r2").parents, ["r1"]);
    assert_eq!(find(&history, "r2").branch_labels, ["side"]);
    assert_eq!(find(&history, "r3").depends_on, ["side"], "labels are kept");
    assert_eq!(find(&history, "r4").parents, ["r2", "r3"]);
    assert_eq!(find(&history, "r2").message, "typed");
}

#[test]
fn branch_labels_braid_does_not_accept_are_mapped() {
    let dir = dir_with(&[
        (
            "versions/a.py",
            &revision_file(
                "base",
                "revision = 'r1'\ndown_revision = None\n\
                 branch_labels = ('feature-x', 'main', 'heads')",
            ),
        ),
        (
            "versions/b.py",
            &revision_file(
                "on the labels",
                "revision = 'r2'\ndown_revision = None\n\
                 depends_on = ['feature-x', 'main', 'heads']",
            ),
        ),
    ]);
    let history = read_graph(dir.path()).expect("read");
    let heads = braid_import::braid_id("heads");
    assert!(braid_graph::validate_id(&heads).is_ok(), "{heads}");
    assert_eq!(
        find(&history, "r1").branch_labels,
        ["feature_x", "main", heads.as_str()]
    );
    assert_eq!(
        find(&history, "r2").depends_on,
        ["feature_x", "main", heads.as_str()]
    );
    let revisions = history
        .revisions
        .iter()
        .map(|r| {
            let mut rev = braid_graph::Revision::new(r.id.clone(), &[]);
            rev.parents = r.parents.clone();
            rev.depends_on = r.depends_on.clone();
            rev.branch_labels = r.branch_labels.clone();
            rev
        })
        .collect();
    braid_graph::Graph::build(revisions).expect("a graph Braid accepts");
}

#[test]
fn a_branch_label_that_cannot_be_mapped_is_refused_by_name() {
    for (labels, mapped, suggestion) in [
        (
            "('feature-x', 'feature_x')",
            "feature_x",
            "feature_x_branch",
        ),
        ("'r-2'", "r_2", "r_2_branch"),
    ] {
        let dir = dir_with(&[
            (
                "versions/a.py",
                &revision_file(
                    "base",
                    &format!("revision = 'r1'\ndown_revision = None\nbranch_labels = {labels}"),
                ),
            ),
            (
                "versions/b.py",
                &revision_file("other", "revision = 'r_2'\ndown_revision = 'r1'"),
            ),
        ]);
        let err = read_graph(dir.path()).expect_err(labels);
        let ImportError::Parse { path, problem, .. } = &err else {
            panic!("{labels}: {err:?}");
        };
        assert!(path.ends_with("a.py"), "{err}");
        assert!(
            problem.contains(&format!("would become '{mapped}'")),
            "{err}"
        );
        assert!(problem.contains(&format!("'{suggestion}'")), "{err}");
    }
}

#[test]
fn a_script_directory_without_env_py_keeps_python_bodies() {
    let dir = dir_with(&[(
        "versions/aaaa1111_first.py",
        &revision_file("first", "revision = 'aaaa1111'\ndown_revision = None"),
    )]);
    let history = read_with(dir.path(), AlembicOptions::default()).expect("read");
    match &history.revisions[0].body {
        Body::Untranslated { reason, .. } => assert!(reason.contains("env.py"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn orders_parents_first_whatever_the_file_names() {
    let dir = dir_with(&[
        (
            "versions/a_child.py",
            &revision_file("child", "revision = 'c'\ndown_revision = 'p'"),
        ),
        (
            "versions/b_parent.py",
            &revision_file("parent", "revision = 'p'\ndown_revision = None"),
        ),
        ("versions/__init__.py", ""),
    ]);
    let history = read_graph(dir.path()).expect("read");
    let keys: Vec<&str> = history.revisions.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["p", "c"]);
}

#[test]
fn an_unknown_parent_is_left_for_the_graph_to_report() {
    let dir = dir_with(&[(
        "versions/a.py",
        &revision_file("orphan", "revision = 'a1'\ndown_revision = 'missing'"),
    )]);
    let history = read_graph(dir.path()).expect("read");
    assert_eq!(history.revisions[0].parents, ["missing"]);
}

#[test]
fn a_file_without_a_revision_is_refused_by_name() {
    let dir = dir_with(&[
        (
            "versions/good.py",
            &revision_file("good", "revision = 'a1'\ndown_revision = None"),
        ),
        ("versions/helpers.py", "def helper():\n    return 1\n"),
    ]);
    let err = read_graph(dir.path()).expect_err("no revision");
    let ImportError::Parse { path, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(path.ends_with("helpers.py"));
    assert!(err.to_string().contains("revision"), "{err}");
}

#[test]
fn unparsable_identifiers_are_refused_with_their_line() {
    for (assignments, line) in [
        ("revision = 'a1'\ndown_revision = ('x', 'y'", 13),
        ("revision = 'a1'\ndown_revision = ('x', compute())", 13),
        (
            "revision = 'a1'\ndown_revision = None\nbranch_labels = {'a': 1}",
            14,
        ),
        ("revision = None\ndown_revision = None", 12),
    ] {
        let dir = dir_with(&[("versions/bad.py", &revision_file("bad", assignments))]);
        let err = read_graph(dir.path()).expect_err(assignments);
        match &err {
            ImportError::Parse {
                path, line: found, ..
            } => {
                assert!(path.ends_with("bad.py"), "{err}");
                assert_eq!(*found, Some(line), "{assignments}: {err}");
            }
            other => panic!("{assignments}: {other:?}"),
        }
    }
}

#[test]
fn a_missing_down_revision_is_refused() {
    let dir = dir_with(&[(
        "versions/a.py",
        &revision_file("no parent given", "revision = 'a1'"),
    )]);
    let err = read_graph(dir.path()).expect_err("no down_revision");
    assert!(err.to_string().contains("down_revision"), "{err}");
}

#[test]
fn a_revision_defined_twice_is_refused() {
    let dir = dir_with(&[
        (
            "versions/a.py",
            &revision_file("one", "revision = 'a1'\ndown_revision = None"),
        ),
        (
            "versions/b.py",
            &revision_file("two", "revision = 'a1'\ndown_revision = None"),
        ),
    ]);
    let err = read_graph(dir.path()).expect_err("twice");
    assert!(matches!(err, ImportError::Duplicate { .. }), "{err:?}");
}

#[test]
fn an_odd_create_date_is_no_date() {
    let dir = dir_with(&[(
        "versions/a.py",
        "\"\"\"no date\n\nCreate Date: sometime\n\"\"\"\nrevision = 'a1'\ndown_revision = None\n",
    )]);
    let history = read_graph(dir.path()).expect("read");
    assert_eq!(history.revisions[0].created, None);
    assert_eq!(history.revisions[0].message, "no date");
}

#[test]
fn layout_problems_say_where_to_point() {
    let empty = tempfile::tempdir().expect("tempdir");
    let err = read_graph(empty.path()).expect_err("nothing there");
    assert!(matches!(err, ImportError::Layout { .. }), "{err:?}");
    assert!(err.to_string().contains("alembic.ini"), "{err}");

    let no_location = dir_with(&[("alembic.ini", "[alembic]\nsqlalchemy.url = sqlite://\n")]);
    let err = read_graph(no_location.path()).expect_err("no script_location");
    assert!(err.to_string().contains("script_location"), "{err}");

    let no_revisions = dir_with(&[("versions/README", "nothing yet\n")]);
    let err = read_graph(no_revisions.path()).expect_err("no revisions");
    assert!(matches!(err, ImportError::Empty { .. }), "{err:?}");
}
