//! Braid in someone else's workspace, as a user meets it: the adopter example
//! (`examples/adopter`, a workspace of its own) built and run with `cargo xtask migrate …` on
//! every backend, its application migrating itself at start-up — two instances at once against
//! each server — and `braid init` wiring a fresh `cargo new` project.
//!
//! The workspaces built here share this workspace's target directory, so Braid's dependencies
//! compile once. Their binaries share its output paths too (every xtask is `target/debug/xtask`),
//! so the tests that drive cargo run one at a time; other test binaries rebuild their own
//! xtask before they use it.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use braid_driver::Driver;
use braid_tests::{MysqlTarget, PostgresTarget, TestDb, target_dir, workspace_root};
use support::{Run, copy_tree, hold_lock, with_conn, with_db};

/// One cargo-driving test at a time (see the module docs).
fn serial() -> MutexGuard<'static, ()> {
    static CARGO: Mutex<()> = Mutex::new(());
    CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `cargo <args>` in `dir`, on the shared target directory, without the caller's `BRAID_*`.
fn cargo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("CARGO_MANIFEST_DIR");
    for (key, _) in std::env::vars() {
        if key.starts_with("BRAID_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("cannot run cargo").into()
}

/// A copy of `examples/adopter` at `dest`, its path dependencies on Braid made absolute.
fn adopter_copy(dest: &Path) -> PathBuf {
    copy_tree(&workspace_root().join("examples/adopter"), dest);
    let crates = workspace_root().join("crates");
    for manifest in ["app/Cargo.toml", "xtask/Cargo.toml"] {
        let path = dest.join(manifest);
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("../../../crates", &crates.display().to_string());
        std::fs::write(&path, text).unwrap();
    }
    dest.to_path_buf()
}

/// `cargo xtask migrate <args>` in the adopter workspace, against the database at `url`.
fn xtask(root: &Path, url: &str, args: &[&str]) -> Run {
    let all = [&["--locked", "xtask", "migrate"], args].concat();
    cargo(root, &all, &[("BRAID_DATABASES__APP__URL", url)])
}

fn applied(run: &serde_json::Value) -> Vec<String> {
    run["databases"][0]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["revision"].as_str().unwrap().to_string())
        .collect()
}

/// generate (SQL and Rust) once, then upgrade, check, `downgrade -1`, check, upgrade on
/// `url`: the new Rust revision runs without a manual rebuild.
fn adopter_flow(root: &Path, url: &str, new: &[String]) {
    let up = xtask(root, url, &["--format", "json", "upgrade"])
        .ok()
        .json();
    let mut expected = vec!["5f1c0a9d2e41".to_string(), "8b2e4f6a1c30".to_string()];
    expected.extend(new.iter().cloned());
    assert_eq!(applied(&up), expected, "{url}");
    xtask(root, url, &["check"]).ok();
    let down = xtask(root, url, &["--format", "json", "downgrade", "-1"])
        .ok()
        .json();
    assert_eq!(applied(&down), [new[1].clone()], "{url}");
    let pending = xtask(root, url, &["check"]).fails(4);
    assert!(pending.stdout.contains(&new[1]), "{}", pending.stdout);
    xtask(root, url, &["upgrade"]).ok();
    xtask(root, url, &["check"]).ok();
}

#[test]
fn the_adopter_workspace_generates_and_migrates_on_every_backend() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let root = adopter_copy(&tmp.path().join("shop"));
    let sqlite = format!("sqlite://{}", tmp.path().join("shop.db").display());

    let heads = xtask(&root, &sqlite, &["heads"]).ok();
    assert_eq!(heads.stdout, "8b2e4f6a1c30 (head)\n");

    // A new SQL revision, written as a user would…
    let sql = xtask(
        &root,
        &sqlite,
        &["--format", "json", "generate", "-m", "add account notes"],
    )
    .ok()
    .json();
    let files: Vec<PathBuf> = sql["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| root.join(f.as_str().unwrap()))
        .collect();
    assert!(files[0].starts_with(root.join("migrations")), "{files:?}");
    std::fs::write(
        &files[1],
        "ALTER TABLE accounts ADD note VARCHAR(100) NULL;\n",
    )
    .unwrap();
    std::fs::write(&files[2], "ALTER TABLE accounts DROP COLUMN note;\n").unwrap();
    // …and a Rust one, which the next `cargo xtask` compiles in.
    let rust = xtask(
        &root,
        &sqlite,
        &[
            "--format",
            "json",
            "generate",
            "--rust",
            "-m",
            "add order notes",
        ],
    )
    .ok()
    .json();
    let new = [
        sql["revision"].as_str().unwrap().to_string(),
        rust["revision"].as_str().unwrap().to_string(),
    ];

    adopter_flow(&root, &sqlite, &new);
    with_db::<PostgresTarget>(|db| adopter_flow(&root, &db.url, &new));
    with_db::<MysqlTarget>(|db| adopter_flow(&root, &db.url, &new));
}

/// The app binary of the adopter workspace at `root`.
fn build_app(root: &Path) -> PathBuf {
    let built = cargo(
        root,
        &["--locked", "build", "-p", "shop", "--message-format=json"],
        &[],
    )
    .ok();
    built
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|m| {
            (m["target"]["name"] == "shop")
                .then(|| m["executable"].as_str().map(PathBuf::from))
                .flatten()
        })
        .expect("cargo reports the shop executable")
}

fn start_app(app: &Path, url: &str) -> Child {
    Command::new(app)
        .env("DATABASE_URL", url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the app")
}

/// How many migrations one start of the app applied, from its output.
fn started(child: Child) -> usize {
    let out = Run::from(child.wait_with_output().unwrap()).ok();
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("migrations applied: "))
        .unwrap_or_else(|| panic!("no report in {}", out.stdout));
    line.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn the_application_migrates_itself_and_agrees_with_the_command_line() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let root = adopter_copy(&tmp.path().join("shop"));
    let app = build_app(&root);
    let url = format!("sqlite://{}", tmp.path().join("app.db").display());

    assert_eq!(started(start_app(&app, &url)), 2);
    assert_eq!(started(start_app(&app, &url)), 0, "an up-to-date start");
    // The checksums compiled into the app are the ones the command line computes from the
    // files, and both keep one version store.
    let check = xtask(&root, &url, &["check"]).ok();
    assert!(
        check.stdout.starts_with("ok: one head (8b2e4f6a1c30)"),
        "{}",
        check.stdout
    );
}

#[test]
fn two_instances_starting_together_apply_each_migration_once() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let app = build_app(&adopter_copy(&tmp.path().join("shop")));
    // Postgres: each instance polls `pg_try_advisory_lock` on a lock connection of its own;
    // the lock holder below is the third such session.
    with_db::<PostgresTarget>(|db| {
        race(
            &app,
            db,
            3,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_try_advisory_lock(%'",
        )
    });
    // MySQL/MariaDB: each instance waits inside `GET_LOCK`.
    with_db::<MysqlTarget>(|db| {
        race(
            &app,
            db,
            2,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'SELECT GET_LOCK%'",
        )
    });
}

/// Holds the migration lock while two instances start, waits until both are waiting for it
/// (`waiting` counts `sessions` of them), then lets go: one migrates, the other finds nothing
/// left to do, and every revision is recorded once.
fn race(app: &Path, db: &TestDb, sessions: i64, waiting: &str) {
    let release = hold_lock(&db.url);
    let apps = [start_app(app, &db.url), start_app(app, &db.url)];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = with_conn(&db.url, async |d: &mut dyn Driver| {
            let rows = d.query(waiting, &[]).await.unwrap();
            match &rows.rows[0][0] {
                braid_driver::Value::Int(n) => *n,
                other => panic!("count: {other:?}"),
            }
        });
        if now >= sessions {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "[{}] the two instances never both waited for the lock ({now} sessions)",
            db.target
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    release.send(()).unwrap();
    let mut applied: Vec<usize> = apps.into_iter().map(started).collect();
    applied.sort();
    assert_eq!(applied, [0, 2], "[{}] one migrates, one waits", db.target);
    let rows = with_conn(&db.url, async |d: &mut dyn Driver| {
        d.query("SELECT revision FROM braid_version", &[])
            .await
            .unwrap()
            .rows
            .len()
    });
    assert_eq!(rows, 2, "[{}] each revision recorded once", db.target);
}

#[test]
fn braid_init_wires_a_fresh_cargo_project() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("store");
    cargo(
        tmp.path(),
        &["new", "--vcs", "none", "--quiet", "store"],
        &[],
    )
    .ok();
    let braid = braid_tests::cargo_binary("braid-cli", "braid");
    let init = || {
        Run::from(
            Command::new(&braid)
                .current_dir(&project)
                .args(["init", "--braid-path"])
                .arg(workspace_root())
                .output()
                .unwrap(),
        )
        .ok()
    };
    let first = init();
    for file in [
        "xtask/Cargo.toml",
        "xtask/src/main.rs",
        ".cargo/config.toml",
        "config/braid.toml",
        "migrations/README.md",
    ] {
        assert!(
            first.stdout.contains(&format!("created {file}")),
            "{file}: {}",
            first.stdout
        );
    }
    // Pin the versions this workspace compiled, so the new project reuses them.
    std::fs::copy(
        workspace_root().join("Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .unwrap();

    let generated = cargo(
        &project,
        &[
            "xtask",
            "migrate",
            "--format",
            "json",
            "generate",
            "-m",
            "create users",
        ],
        &[],
    )
    .ok()
    .json();
    let files: Vec<PathBuf> = generated["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| project.join(f.as_str().unwrap()))
        .collect();
    std::fs::write(
        &files[1],
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
    )
    .unwrap();
    std::fs::write(&files[2], "DROP TABLE users;\n").unwrap();
    let up = cargo(
        &project,
        &["xtask", "migrate", "--format", "json", "upgrade"],
        &[],
    )
    .ok()
    .json();
    assert_eq!(applied(&up), [generated["revision"].as_str().unwrap()]);
    assert!(
        project.join(".braid/app.db").is_file(),
        "the default SQLite database"
    );

    let manifest = std::fs::read_to_string(project.join("xtask/Cargo.toml")).unwrap();
    let again = init();
    assert!(again.stdout.contains("nothing to do"), "{}", again.stdout);
    assert_eq!(
        std::fs::read_to_string(project.join("xtask/Cargo.toml")).unwrap(),
        manifest
    );
}
