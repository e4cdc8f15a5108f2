//! Driver plugins loaded at run time: every way loading can fail gives a clear error (and no
//! crash), a plugin that returns garbage (huge counts, null pointers, wrong lengths) fails only
//! that call with a clear error, a panicking plugin poisons only its connection, and a full
//! upgrade/downgrade cycle runs over the SQLite plugin. (The conformance suite over the plugin
//! is in `conformance.rs`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use braid_driver::{Dialect, ErrorKind, Value};
use braid_plugin::{PluginError, abi, load};
use braid_tests::{plugin, plugin_library, unique_name};

const FIXTURE: &str = "braid-plugin-fixture";
const SQLITE_PLUGIN: &str = "braid-sqlite-plugin";

#[test]
fn missing_file_is_a_clear_error() {
    let path = Path::new("/nonexistent/braid/libno_such_plugin.so");
    let err = load(path).expect_err("must not load");
    assert!(matches!(err, PluginError::NotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("driver plugin not found"), "{msg}");
    assert!(
        msg.contains("/nonexistent/braid/libno_such_plugin.so"),
        "{msg}"
    );

    let dir = tempfile::tempdir().unwrap();
    let err = load(dir.path()).expect_err("a directory is not a plugin");
    assert!(err.to_string().contains("not a file"), "{err}");
}

#[test]
fn a_file_that_is_not_a_library_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("libnot_a_library.so");
    std::fs::write(&path, "just text").unwrap();
    let err = load(&path).expect_err("must not load");
    assert!(matches!(err, PluginError::Load { .. }), "{err:?}");
    assert!(
        err.to_string().contains("cannot load driver plugin"),
        "{err}"
    );
    assert!(err.to_string().contains("libnot_a_library.so"), "{err}");
}

/// A real shared library of the system that is not a plugin.
fn system_library() -> Option<PathBuf> {
    [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/aarch64-linux-gnu/libm.so.6",
        "/usr/lib/aarch64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
        "/usr/lib64/libm.so.6",
        "/usr/lib/libm.so.6",
        "/usr/lib/libSystem.B.dylib",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

#[test]
fn library_without_entry_symbol_is_a_clear_error() {
    let Some(path) = system_library() else {
        eprintln!("SKIPPED: no system libm found to load");
        return;
    };
    let err = load(&path).expect_err("libm is not a plugin");
    assert!(matches!(err, PluginError::NotAPlugin { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("is not a Braid driver plugin"), "{msg}");
    assert!(msg.contains(abi::ENTRY_SYMBOL), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

/// Loads the fixture in a child process with `BRAID_FIXTURE_MODE=mode` (the mode is read from
/// the environment, which a multi-threaded test process cannot change safely) and returns the
/// load error it printed.
fn load_fixture_in_child(mode: &str) -> String {
    let path = plugin_library(FIXTURE);
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child_loads_fixture", "--exact", "--ignored", "--nocapture"])
        .env("BRAID_FIXTURE_MODE", mode)
        .env("BRAID_FIXTURE_PATH", &path)
        .output()
        .expect("run child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("LOAD RESULT: "))
        .unwrap_or_else(|| panic!("no result from child: {stdout}"))
        .to_string()
}

/// Not a test by itself: run by [`load_fixture_in_child`] in a child process.
#[test]
#[ignore = "run in a child process by the fixture-mode tests"]
fn child_loads_fixture() {
    let Some(path) = std::env::var_os("BRAID_FIXTURE_PATH") else {
        return;
    };
    match load(Path::new(&path)) {
        Ok(p) => println!("LOAD RESULT: loaded {} v{}", p.name, p.abi_version),
        Err(e) => println!("LOAD RESULT: {e}"),
    }
}

/// Loads the fixture in a child process with `BRAID_FIXTURE_MODE=mode`, opens an in-memory
/// database through it and makes one call of each kind (see [`child_uses_fixture`]); returns
/// what each call gave, by name. A child that dies (an abort, a segfault) fails the test with
/// its output, instead of taking the whole test binary down.
fn use_fixture_in_child(mode: &str) -> BTreeMap<String, String> {
    let path = plugin_library(FIXTURE);
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child_uses_fixture", "--exact", "--ignored", "--nocapture"])
        .env("BRAID_FIXTURE_MODE", mode)
        .env("BRAID_FIXTURE_PATH", &path)
        .output()
        .expect("run child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child in mode {mode} failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("CALL "))
        .filter_map(|l| l.split_once(": "))
        .map(|(call, result)| (call.to_string(), result.to_string()))
        .collect()
}

/// Not a test by itself: run by [`use_fixture_in_child`] in a child process. Calls run inline
/// (on the test's own thread, not the blocking pool), so nothing but the host's own checks
/// stands between the plugin's garbage and the process.
#[tokio::test]
#[ignore = "run in a child process by the fixture-mode tests"]
async fn child_uses_fixture() {
    let Some(path) = std::env::var_os("BRAID_FIXTURE_PATH") else {
        return;
    };
    fn show<T: std::fmt::Debug>(call: &str, r: &Result<T, braid_driver::DriverError>) {
        match r {
            Ok(v) => println!("CALL {call}: ok {v:?}"),
            Err(e) => println!("CALL {call}: err {:?}: {}", e.kind, e.message),
        }
    }
    let mut p = load(Path::new(&path)).expect("load the fixture");
    p.inline_calls = true;
    let opened = p.open("sqlite://:memory:").await;
    show(
        "open",
        &opened
            .as_ref()
            .map(|d| d.name().to_string())
            .map_err(Clone::clone),
    );
    let Ok(mut d) = opened else {
        show("open again", &p.open("sqlite://:memory:").await.map(|_| ()));
        println!("CALL done: alive");
        return;
    };
    show("query", &d.query("SELECT 1 AS x", &[]).await);
    show("introspect", &d.introspect().await.map(|s| s.tables.len()));
    show("server_version", &d.server_version().await);
    show("execute_script", &d.execute_script("SELEC nonsense").await);
    show(
        "execute",
        &d.execute("CREATE TABLE t (x INTEGER)", &[]).await,
    );
    show("close", &d.close().await);
    println!("CALL done: alive");
}

/// Asserts that in `mode` the calls in `failing` fail with an `Internal` error naming the
/// plugin and containing `expect`, and that the others (and the process) are fine.
fn assert_only_these_fail(mode: &str, failing: &[&str], expect: &str) {
    let calls = use_fixture_in_child(mode);
    for call in failing {
        let got = &calls[*call];
        assert!(
            got.starts_with("err Internal: plugin braid-plugin-fixture 0.1.0 (")
                && got.contains("braid_plugin_fixture")
                && got.contains("broke the plugin ABI"),
            "{mode}, {call}: names the plugin: {got}"
        );
        assert!(got.contains(expect), "{mode}, {call}: says what: {got}");
    }
    for call in ["open", "execute", "close"] {
        assert!(calls[call].starts_with("ok"), "{mode}, {call}: {calls:#?}");
    }
    assert_eq!(calls["done"], "alive", "{mode}");
}

#[test]
fn the_fixture_works_when_it_does_not_misbehave() {
    let calls = use_fixture_in_child("normal");
    assert_eq!(
        calls["query"],
        "ok Rows { columns: [\"x\"], rows: [[Int(1)]] }"
    );
    assert_eq!(calls["introspect"], "ok 0");
    assert!(calls["server_version"].starts_with("ok \"3."), "{calls:#?}");
    assert!(
        calls["execute_script"].starts_with("err Sql: "),
        "{calls:#?}"
    );
    assert_eq!(calls["execute"], "ok 0");
    assert_eq!(calls["done"], "alive");
}

#[test]
fn garbage_counts_from_a_plugin_are_clear_errors() {
    // Before the checks: a huge row count reserved terabytes up front (an allocation failure
    // aborts the process), a huge column count formed a slice over more than the address space.
    for (mode, expect) in [
        (
            "rows_huge_row_count",
            "row_count is 1099511627776, over the limit of 16777216 rows",
        ),
        (
            "rows_huge_column_count",
            "column_count is 18446744073709551615, over the limit of 65536 columns",
        ),
    ] {
        assert_only_these_fail(mode, &["query", "introspect"], expect);
    }
}

#[test]
fn garbage_pointers_from_a_plugin_are_clear_errors() {
    for (mode, expect) in [
        ("rows_null_columns", "column_count is 1 at a null pointer"),
        ("rows_null_values", "value count is 1 at a null pointer"),
        (
            "rows_null_text",
            "row 0, column 0 (`x`): text value length is 3 at a null pointer",
        ),
        ("rows_misaligned", "is not aligned to 8 bytes"),
        (
            // Before the checks: read as an empty string.
            "string_null",
            "in the server version it returned from `server_version`: the string length is 7 \
             at a null pointer",
        ),
    ] {
        let failing: &[&str] = if mode.starts_with("rows_") {
            &["query", "introspect"]
        } else {
            &["server_version"]
        };
        assert_only_these_fail(mode, failing, expect);
    }
}

#[test]
fn garbage_lengths_and_contents_from_a_plugin_are_clear_errors() {
    // A length far beyond its buffer (1 TiB for a 3-byte string) is refused before reading;
    // before the checks it was read until the process crashed.
    for (mode, failing, expect) in [
        (
            "rows_long_text",
            &["query", "introspect"][..],
            "row 0, column 0 (`x`): text value length is 1099511627776 bytes, over the limit of \
             268435456 bytes",
        ),
        (
            "string_long",
            &["server_version"],
            "the string length is 1099511627776 bytes, over the limit of 268435456 bytes",
        ),
        (
            "rows_bad_utf8",
            &["query", "introspect"],
            "row 0, column 0 (`x`): text value is not UTF-8",
        ),
        (
            "rows_unknown_tag",
            &["query", "introspect"],
            "unknown value tag 42",
        ),
        (
            "string_bad_utf8",
            &["server_version"],
            "the string is not UTF-8",
        ),
    ] {
        assert_only_these_fail(mode, failing, expect);
    }
}

#[test]
fn a_garbage_error_from_a_plugin_is_reported_as_such() {
    for (mode, expect) in [
        (
            "error_long_message",
            "in the error it returned: error message length is 1099511627776 bytes, over the \
             limit of 268435456 bytes; the error it reported (kind Sql): [its message could not \
             be read]",
        ),
        (
            "error_null_message",
            "in the error it returned: error message length is 3 at a null pointer; the error it \
             reported (kind Sql): [its message could not be read]",
        ),
        (
            "error_unknown_kind",
            "in the error it returned: unknown error kind 77; the error it reported (kind \
             Internal): abc",
        ),
    ] {
        let calls = use_fixture_in_child(mode);
        let got = &calls["execute_script"];
        assert!(
            got.starts_with("err Internal: plugin braid-plugin-fixture 0.1.0 (")
                && got.contains(expect),
            "{mode}: {got}"
        );
        assert!(calls["execute"].starts_with("ok"), "{mode}: {calls:#?}");
        assert_eq!(calls["done"], "alive", "{mode}");
    }
}

#[test]
fn what_a_failed_open_handed_out_is_released() {
    // Each failed open hands out a live connection handle, a name and an error; the second
    // one's message counts what the host has not released of the first's.
    let calls = use_fixture_in_child("open_fails");
    for call in ["open", "open again"] {
        let got = &calls[call];
        assert!(
            got.starts_with("err Connect: the fixture fails every open"),
            "{got}"
        );
        assert!(
            got.contains(
                "not yet released from earlier failed opens: 0 handles, 0 names, 0 errors"
            ),
            "{call}: {got}"
        );
    }
    assert_eq!(calls["done"], "alive");
}

#[test]
fn a_misaligned_descriptor_is_read_unaligned() {
    // Before: the header was read unaligned, the rest with an aligned read: undefined
    // behaviour, which x86 happens to tolerate, so this shows the descriptor is accepted and
    // works rather than catching the old read.
    assert_eq!(
        load_fixture_in_child("misaligned"),
        "loaded braid-plugin-fixture v1"
    );
    let calls = use_fixture_in_child("misaligned");
    assert_eq!(
        calls["query"],
        "ok Rows { columns: [\"x\"], rows: [[Int(1)]] }"
    );
    assert_eq!(calls["done"], "alive");
}

#[test]
fn a_bare_library_name_is_refused() {
    // Even one the system has: `dlopen("libm.so.6")` would search the library paths and load
    // the system's, not a file of that name in the current directory.
    let err = load(Path::new("libm.so.6")).expect_err("a bare name");
    assert!(matches!(err, PluginError::NoDirectory { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("libm.so.6 has no directory component"),
        "{msg}"
    );
    assert!(msg.contains("give a path, e.g. ./libm.so.6"), "{msg}");
    // With a directory component, the name means that file.
    let err = load(Path::new("./libm.so.6")).expect_err("no such file here");
    assert!(matches!(err, PluginError::NotFound { .. }), "{err:?}");
}

#[test]
fn abi_version_from_the_future_is_refused() {
    let msg = load_fixture_in_child("future");
    assert!(msg.contains("built for plugin ABI v99"), "{msg}");
    assert!(
        msg.contains(&format!("this Braid's v{}", abi::BRAID_PLUGIN_ABI_VERSION)),
        "{msg}"
    );
    assert!(
        msg.contains("braid_plugin_fixture"),
        "names the file: {msg}"
    );
}

#[test]
fn abi_version_too_old_is_refused() {
    let msg = load_fixture_in_child("ancient");
    assert!(msg.contains("built for plugin ABI v0"), "{msg}");
    assert!(msg.contains("rebuild the plugin"), "{msg}");
}

#[test]
fn missing_required_slot_is_named() {
    let msg = load_fixture_in_child("missing_slot");
    assert!(
        msg.contains("missing the required `execute` function"),
        "{msg}"
    );
    assert!(
        msg.contains("braid_plugin_fixture"),
        "names the file: {msg}"
    );
}

#[test]
fn truncated_descriptor_is_refused() {
    let msg = load_fixture_in_child("truncated");
    assert!(msg.contains("invalid descriptor"), "{msg}");
    assert!(msg.contains("its size is 16 bytes"), "{msg}");
}

#[test]
fn fixture_loads_in_its_normal_mode() {
    let msg = load_fixture_in_child("normal");
    assert_eq!(msg, "loaded braid-plugin-fixture v1");
}

#[test]
fn sqlite_plugin_describes_itself() {
    let p = plugin(SQLITE_PLUGIN);
    assert_eq!(p.name, "braid-sqlite-plugin");
    assert_eq!(p.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(p.abi_version, abi::BRAID_PLUGIN_ABI_VERSION);
    assert_eq!(p.dialect, Dialect::Sqlite);
    assert_eq!(
        braid_plugin::library_path(p.path.parent().unwrap(), SQLITE_PLUGIN),
        p.path,
        "library_path names the file cargo builds"
    );
    // Loading the same library again is harmless and gives the same plugin.
    let again = load(&p.path).expect("load twice");
    assert_eq!(again.name, p.name);
}

#[tokio::test]
async fn panic_in_execute_is_an_error_and_poisons_only_that_connection() {
    let fixture = tokio::task::spawn_blocking(|| plugin(FIXTURE))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let mut a = fixture.open(&url).await.expect("open a");
    a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", &[])
        .await
        .expect("a works before the panic");

    let err = a.execute("PANIC now", &[]).await.expect_err("must fail");
    assert_eq!(err.kind, ErrorKind::Internal, "{err}");
    assert!(err.message.contains("panicked in `execute`"), "{err}");
    assert!(err.message.contains("index out of bounds"), "{err}");
    assert!(err.message.contains("src/lib.rs"), "says where: {err}");

    // The process is alive, and the connection is poisoned for every later call.
    let err = a.query("SELECT 1", &[]).await.expect_err("poisoned");
    assert_eq!(err.kind, ErrorKind::Internal);
    assert!(err.message.contains("poisoned"), "{err}");
    let err = a
        .execute("INSERT INTO t VALUES (1)", &[])
        .await
        .expect_err("poisoned");
    assert!(err.message.contains("poisoned"), "{err}");

    // Another connection to the same database is unaffected.
    let mut b = fixture.open(&url).await.expect("open b");
    assert_eq!(
        b.execute("INSERT INTO t VALUES (?)", &[Value::Int(7)])
            .await
            .unwrap(),
        1
    );
    let rows = b.query("SELECT id FROM t", &[]).await.unwrap();
    assert_eq!(rows.rows, vec![vec![Value::Int(7)]]);

    // Closing the poisoned connection releases it without touching the driver again.
    a.close().await.expect("close poisoned");
    b.close().await.expect("close b");
}

#[tokio::test]
async fn errors_and_values_cross_the_boundary_exactly() {
    let p = tokio::task::spawn_blocking(|| plugin(SQLITE_PLUGIN))
        .await
        .unwrap();
    let Err(err) = p.open("mysql://nope").await else {
        panic!("opened a mysql URL with the SQLite plugin");
    };
    assert_eq!(err.kind, ErrorKind::Url, "{err}");

    let mut d = p.open("sqlite://:memory:").await.expect("open memory");
    assert!(
        d.name().contains("plugin braid-sqlite-plugin"),
        "{}",
        d.name()
    );
    d.execute_script("CREATE TABLE v (i INTEGER, f REAL, t TEXT, b BLOB)")
        .await
        .unwrap();
    let row = vec![
        Value::Int(i64::MIN),
        Value::Float(1.5e-300),
        Value::Text("naïve \u{0}zero".into()),
        Value::Bytes(vec![0, 1, 254, 255]),
    ];
    d.execute("INSERT INTO v VALUES (?, ?, ?, ?)", &row)
        .await
        .unwrap();
    let got = d.query("SELECT i, f, t, b FROM v", &[]).await.unwrap();
    assert_eq!(got.columns, ["i", "f", "t", "b"]);
    assert_eq!(got.rows, vec![row]);

    let err = d
        .execute_script("CREATE TABLE ok1 (x INT); CREATE TABLEX nope; CREATE TABLE ok2 (x INT)")
        .await
        .expect_err("syntax error");
    assert_eq!(err.kind, ErrorKind::Sql);
    let pos = err.position.expect("position crosses the ABI");
    assert_eq!(pos.index, 2);
    assert!(pos.statement.contains("TABLEX"), "{pos:?}");
    d.close().await.unwrap();
}

#[tokio::test]
async fn split_script_is_the_drivers_own() {
    let p = tokio::task::spawn_blocking(|| plugin(SQLITE_PLUGIN))
        .await
        .unwrap();
    let script = "CREATE TABLE a (x INT); -- one\n\
                  CREATE TRIGGER tr AFTER INSERT ON a BEGIN INSERT INTO a VALUES (1); END;\n\
                  /* two */ INSERT INTO a VALUES ('x;y');";
    let via_plugin = p.open("sqlite://:memory:").await.unwrap();
    let native = braid_sqlite::open_boxed("sqlite://:memory:").await.unwrap();
    let split = via_plugin.split_script(script);
    // The SQLite driver's own splitter (which keeps comments and understands triggers), not the
    // host's dialect-lexer fallback, which splits this script differently.
    assert_eq!(split, native.split_script(script));
    assert_eq!(split.len(), 3, "{split:?}");
    via_plugin.close().await.unwrap();
    native.close().await.unwrap();
}

#[tokio::test]
async fn dropping_a_plugin_driver_without_close_releases_its_lock() {
    let p = tokio::task::spawn_blocking(|| plugin(SQLITE_PLUGIN))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("l.db").display());
    let mut a = p.open(&url).await.unwrap();
    a.lock("k", std::time::Duration::from_secs(1))
        .await
        .unwrap();
    drop(a);
    let mut b = p.open(&url).await.unwrap();
    b.lock("k", std::time::Duration::from_secs(2))
        .await
        .expect("lock released by drop");
    b.close().await.unwrap();
}

/// Writes a small SQL migration history (a branch and a merge) into `dir`.
fn write_migrations(dir: &Path) {
    let revs: [(&str, &str, &str, &str); 4] = [
        (
            "p1_users",
            "[]",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);",
            "DROP TABLE users;",
        ),
        (
            "p2_posts",
            "[\"p1_users\"]",
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));\n\
             CREATE INDEX posts_user ON posts (user_id);",
            "DROP INDEX posts_user;\nDROP TABLE posts;",
        ),
        (
            "p3_audit",
            "[\"p1_users\"]",
            "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);",
            "DROP TABLE audit;",
        ),
        (
            "p4_merge",
            "[\"p2_posts\", \"p3_audit\"]",
            "INSERT INTO audit (what) VALUES ('merged');",
            "DELETE FROM audit WHERE what = 'merged';",
        ),
    ];
    for (id, parents, up, down) in revs {
        let d = dir.join(id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("revision.toml"),
            format!(
                "id = \"{id}\"\nparents = {parents}\nmessage = \"{id}\"\ncreated = 2026-11-23T09:00:00Z\n"
            ),
        )
        .unwrap();
        std::fs::write(d.join("up.sql"), up).unwrap();
        std::fs::write(d.join("down.sql"), down).unwrap();
    }
}

#[tokio::test]
async fn upgrade_downgrade_upgrade_over_the_sqlite_plugin() {
    let p = tokio::task::spawn_blocking(|| plugin(SQLITE_PLUGIN))
        .await
        .unwrap();
    assert!(p.inline_calls, "the SQLite plugin declares inline calls");
    upgrade_downgrade_upgrade(p.clone()).await;
    // And through the blocking pool, as a plugin for a server database would run.
    let mut blocking = p;
    blocking.inline_calls = false;
    upgrade_downgrade_upgrade(blocking).await;
}

async fn upgrade_downgrade_upgrade(p: braid_plugin::Plugin) {
    // Its own SQL migrations rather than the workspace's examples, which may include Rust
    // migrations that need the migrations crate to run.
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    write_migrations(&migrations);
    let graph = braid_source::load(&migrations).expect("load the migrations");
    let url = format!(
        "sqlite://{}",
        dir.path()
            .join(format!("{}.db", unique_name("e2e")))
            .display()
    );
    let mut driver = p.open(&url).await.expect("open");
    let runner = braid_runner::Runner::new("plugin", &graph, braid_runner::RunOptions::default())
        .expect("runner");

    let up = runner
        .upgrade(driver.as_mut(), "heads", &braid_runner::no_events)
        .await
        .expect("upgrade");
    assert_eq!(up.steps.len(), graph.len(), "every revision applied");
    let tables =
        |s: braid_driver::Schema| -> Vec<String> { s.tables.into_iter().map(|t| t.name).collect() };
    let after_up = tables(driver.introspect().await.unwrap());
    for t in ["users", "posts", "audit"] {
        assert!(after_up.contains(&t.to_string()), "{after_up:?}");
    }

    let down = runner
        .downgrade(driver.as_mut(), "base", &braid_runner::no_events)
        .await
        .expect("downgrade");
    assert_eq!(down.steps.len(), graph.len());
    let after_down = tables(driver.introspect().await.unwrap());
    for t in ["users", "posts", "audit"] {
        assert!(!after_down.contains(&t.to_string()), "{after_down:?}");
    }

    let again = runner
        .upgrade(driver.as_mut(), "heads", &braid_runner::no_events)
        .await
        .expect("upgrade again");
    assert_eq!(again.steps.len(), graph.len());
    assert_eq!(tables(driver.introspect().await.unwrap()), after_up);
    let current = runner.current(driver.as_mut()).await.expect("current");
    assert_eq!(current.heads, ["p4_merge"]);
    driver.close().await.unwrap();
}

/// Per-call overhead of the plugin against the static driver: 1 000 one-table revisions
/// upgraded on SQLite, static and plugin (blocking-pool and inline calls) alternately in one
/// process, on tmpfs (`/dev/shm`, CPU-bound: shows the per-call cost) and on the temp dir's
/// disk (fsync-bound: what a user sees); plus 10 000 trivial queries for the raw per-call cost.
/// Run in release: `cargo test --release -p braid-tests --test plugin -- --ignored --nocapture perf`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
async fn perf_plugin_vs_static() {
    use std::time::{Duration, Instant};

    const REVISIONS: usize = 1000;
    const QUERIES: usize = 10_000;
    const MODES: [&str; 3] = ["static", "plugin (spawn_blocking)", "plugin (inline calls)"];

    let loaded = tokio::task::spawn_blocking(|| plugin(SQLITE_PLUGIN))
        .await
        .unwrap();
    let mut blocking_plugin = loaded.clone();
    blocking_plugin.inline_calls = false;
    let mut inline_plugin = loaded.clone();
    inline_plugin.inline_calls = true;
    let open = |mode: usize, url: String| {
        let (b, i) = (blocking_plugin.clone(), inline_plugin.clone());
        async move {
            match mode {
                0 => braid_sqlite::open_boxed(&url).await.unwrap(),
                1 => b.open(&url).await.unwrap(),
                _ => i.open(&url).await.unwrap(),
            }
        }
    };

    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    for i in 0..REVISIONS {
        let d = migrations.join(format!("r{i:04}"));
        std::fs::create_dir_all(&d).unwrap();
        let parents = if i == 0 {
            "[]".to_string()
        } else {
            format!("[\"r{:04}\"]", i - 1)
        };
        std::fs::write(
            d.join("revision.toml"),
            format!(
                "id = \"r{i:04}\"\nparents = {parents}\nmessage = \"t{i}\"\ncreated = 2026-11-23T09:00:00Z\n"
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("up.sql"),
            format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY);"),
        )
        .unwrap();
        std::fs::write(d.join("down.sql"), format!("DROP TABLE t_{i};")).unwrap();
    }
    let graph = braid_source::load(&migrations).expect("load");
    let runner = braid_runner::Runner::new("perf", &graph, braid_runner::RunOptions::default())
        .expect("runner");

    let shm = tempfile::tempdir_in("/dev/shm").ok();
    let mut places: Vec<(&str, &Path, usize)> = Vec::new();
    if let Some(shm) = &shm {
        places.push(("tmpfs", shm.path(), 7));
    }
    places.push(("disk", dir.path(), 3));
    for (place, base, reps) in places {
        let mut times: [Vec<Duration>; 3] = Default::default();
        for rep in 0..reps {
            for k in 0..3 {
                // Rotate the order each repetition so drift hits every mode alike.
                let mode = (k + rep) % 3;
                let url = format!(
                    "sqlite://{}",
                    base.join(format!("perf_{rep}_{mode}.db")).display()
                );
                let mut driver = open(mode, url).await;
                let start = Instant::now();
                let report = runner
                    .upgrade(driver.as_mut(), "heads", &braid_runner::no_events)
                    .await
                    .expect("upgrade");
                times[mode].push(start.elapsed());
                assert_eq!(report.steps.len(), REVISIONS);
                driver.close().await.unwrap();
            }
        }
        let medians: Vec<Duration> = times
            .iter_mut()
            .map(|v| {
                v.sort();
                v[v.len() / 2]
            })
            .collect();
        // The minimum is the least disturbed by other load on a shared machine.
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!("upgrade {REVISIONS} revisions on {place}, {reps} runs each:");
        for mode in 0..3 {
            println!(
                "  {:<24} median {:>8.1} ms (ratio {:.3}), min {:>8.1} ms (ratio {:.3}), runs {:?}",
                MODES[mode],
                ms(medians[mode]),
                ms(medians[mode]) / ms(medians[0]),
                ms(times[mode][0]),
                ms(times[mode][0]) / ms(times[0][0]),
                times[mode]
                    .iter()
                    .map(|d| format!("{:.0}", d.as_secs_f64() * 1e3))
                    .collect::<Vec<_>>()
            );
        }
    }

    // Raw per-call cost: a trivial query, in memory.
    println!("query(\"SELECT 1\") x{QUERIES}, in memory:");
    for (mode, label) in MODES.iter().enumerate() {
        let mut d = open(mode, "sqlite://:memory:".to_string()).await;
        let start = Instant::now();
        for _ in 0..QUERIES {
            d.query("SELECT 1", &[]).await.unwrap();
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / QUERIES as f64;
        println!("  {label:<24} {us:>6.2} us/call");
        d.close().await.unwrap();
    }
}
