//! Running the real `cargo xtask` binary from the end-to-end tests, and opening databases from
//! their synchronous bodies.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use braid_driver::Driver;
use braid_tests::{TestDb, TestTarget, block_on, fresh_or_skip};

/// The xtask binary, built once per test binary.
pub fn xtask_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| braid_tests::cargo_executable("xtask"))
}

/// The result of one command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The standalone `braid` binary, built once per test binary.
pub fn braid_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| braid_tests::cargo_binary("braid-cli", "braid"))
}

/// `bin <args…>` run in `cwd`, isolated from the caller's BRAID_* environment, with `env` set.
pub fn run_in(bin: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin);
    cmd.current_dir(cwd).args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("BRAID_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("cannot run the binary").into()
}

/// `cargo xtask migrate --migrations <dir> <args…>`, isolated from the workspace's own config
/// and from the caller's BRAID_* environment.
pub fn migrate(dir: &Path, args: &[&str]) -> Run {
    migrate_with(dir, None, args, &[])
}

pub fn migrate_with(dir: &Path, config: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(xtask_bin());
    cmd.arg("migrate").arg("--migrations").arg(dir);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("BRAID_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("cannot run xtask").into()
}

/// Runs `test` with a fresh database of `T` (skipped when the server is unreachable), then drops it.
/// Each call runs on its own thread with its own runtime, so calls nest (one test, two servers).
pub fn with_db<T: TestTarget>(test: impl FnOnce(&mut TestDb) + Send) {
    std::thread::scope(|s| {
        s.spawn(|| {
            block_on(async {
                let Some(mut db) = fresh_or_skip::<T>().await else {
                    return;
                };
                test(&mut db);
                db.teardown().await;
            })
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
}

/// Opens its own connection to `url` on its own runtime and thread: the test's driver lives on
/// the runtime that is blocked running this synchronous test body, so it cannot be awaited here.
pub fn with_conn<T: Send>(url: &str, f: impl AsyncFnOnce(&mut dyn Driver) -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            block_on(async {
                let mut driver: Box<dyn Driver> = match url.split(':').next() {
                    Some("postgres") => Box::new(braid_postgres::open(url).await.unwrap()),
                    Some("mysql") => Box::new(braid_mysql::open(url).await.unwrap()),
                    _ => Box::new(braid_sqlite::open(url).await.unwrap()),
                };
                let out = f(driver.as_mut()).await;
                driver.close().await.unwrap();
                out
            })
        })
        .join()
        .unwrap()
    })
}

/// Takes Braid's migration lock of the default version store on its own connection and
/// thread; sending on the returned channel releases it.
pub fn hold_lock(url: &str) -> std::sync::mpsc::Sender<()> {
    let (taken_tx, taken_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let url = url.to_string();
    std::thread::spawn(move || {
        block_on(async {
            let mut driver = braid::drivers::open_url(&url).await.unwrap();
            // The key a run takes: from the store's names as the server resolves them.
            let names = braid_runner::StoreNames::default();
            let key = braid_runner::store::resolve_names("test", &names, driver.as_mut())
                .await
                .unwrap()
                .lock_key();
            driver
                .lock(&key, std::time::Duration::from_secs(10))
                .await
                .unwrap();
            taken_tx.send(()).unwrap();
            let _ = release_rx.recv();
            driver.unlock(&key).await.unwrap();
            driver.close().await.unwrap();
        })
    });
    taken_rx.recv().expect("the lock was taken");
    release_tx
}

/// Copies the tree at `from` to `to`, leaving out build output (`target/`) and local
/// databases (`.braid/`).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name == "target" || name == ".braid" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// The user tables of the SQLite file `db`, sorted: SQLite's and Braid's own left out.
pub fn sqlite_tables(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'braid_version%' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The configured database of one backend.
pub struct Configured {
    pub dialect: braid::Dialect,
    pub url: String,
}

/// Runs `test` against a configured database of each backend: an SQLite file, and a fresh
/// database on the Postgres and MariaDB test servers.
pub fn each_backend(test: impl Fn(&Configured) + Sync) {
    let tmp = tempfile::tempdir().unwrap();
    test(&Configured {
        dialect: braid::Dialect::Sqlite,
        url: format!("sqlite://{}", tmp.path().join("app.db").display()),
    });
    with_db::<braid_tests::PostgresTarget>(|db| {
        test(&Configured {
            dialect: braid::Dialect::Postgres,
            url: db.url.clone(),
        })
    });
    with_db::<braid_tests::MysqlTarget>(|db| {
        test(&Configured {
            dialect: braid::Dialect::Mysql,
            url: db.url.clone(),
        })
    });
}

/// A project at `root` with `migrations` and one database, `app`, at `url` (its config written
/// as `root/braid.toml`).
pub fn project(root: &Path, migrations: &Path, url: &str) -> braid::Project {
    let config = root.join("braid.toml");
    std::fs::write(
        &config,
        format!("[default]\n[default.databases.app]\nurl = {url:?}\n"),
    )
    .unwrap();
    braid::Project::open(
        braid::ProjectOptions {
            root: Some(root.to_path_buf()),
            config: Some(config),
            migrations: Some(migrations.to_path_buf()),
            profile: None,
        },
        braid::RustRevisions::new(),
    )
    .unwrap()
}

/// Whether the scratch database `name` (a file for SQLite) still exists.
pub fn scratch_exists(db: &Configured, name: &str) -> bool {
    let sql = match db.dialect {
        braid::Dialect::Sqlite => return Path::new(name).exists(),
        braid::Dialect::Postgres => "SELECT datname FROM pg_database WHERE datname = $1",
        braid::Dialect::Mysql => {
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?"
        }
    };
    with_conn(&db.url, async |d: &mut dyn Driver| {
        !d.query(sql, &[name.into()]).await.unwrap().rows.is_empty()
    })
}

/// The configured database has no table: a command that works on scratch databases never
/// wrote to it (nor, for SQLite, created it).
#[track_caller]
pub fn assert_untouched(db: &Configured) {
    if db.dialect == braid::Dialect::Sqlite {
        let file = db.url.trim_start_matches("sqlite://");
        assert!(!Path::new(file).exists(), "{file} was created");
        return;
    }
    let schema = with_conn(&db.url, async |d: &mut dyn Driver| {
        d.introspect().await.unwrap()
    });
    assert!(schema.tables.is_empty(), "[{}] {schema:?}", db.dialect);
}

/// The repository's migrations (Rust revisions compiled in) in a project at `root` whose one
/// database `app` is at `url`.
pub fn worked_example(root: &Path, url: &str) -> braid::Project {
    copy_tree(&braid_tests::repo_migrations(), &root.join("migrations"));
    let config = root.join("braid.toml");
    std::fs::write(
        &config,
        format!("[default]\n[default.databases.app]\nurl = {url:?}\n"),
    )
    .unwrap();
    braid::Project::open(
        braid::ProjectOptions {
            root: Some(root.to_path_buf()),
            config: Some(config),
            migrations: Some(root.join("migrations")),
            profile: None,
        },
        braid_tests::repo_rust_revisions(),
    )
    .unwrap()
}
