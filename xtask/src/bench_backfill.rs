//! `cargo xtask bench backfill`: the worked example's batched backfill
//! (`migrations/zd3_plans_backfill_price_minor`: `-- braid:backfill key=id batch=500`) over a
//! large `plans` table on SQLite, Postgres and MariaDB, with an application writing meanwhile.
//!
//! For each backend: a fresh database is upgraded to `core3_merge_audit_billing`, `plans` gets
//! N rows (1 000 000 by default) written as the release before the change writes them (only
//! `price_cents`), and `zd1`–`zd2` add `price_minor` (0 everywhere) and its index. Then the
//! release `cargo xtask` binary runs `upgrade zd3_plans_backfill_price_minor` while a writer
//! thread, on a connection of its own with a 5 s lock wait bound (as the zero-downtime test's
//! writer), updates random rows' `price_cents` and inserts new ones, one statement at a time.
//!
//! Reported: the backfill's rate (rows over the step's own duration, from the run's JSON), the
//! whole command's wall time, and what the writer saw during the backfill — its statements, its
//! failures, and its longest single statement, which is the longest it was kept waiting for a
//! lock plus the statement's own work. Afterwards every row must hold `price_minor =
//! price_cents`.
//!
//! SQLite has one write lock, and a writer waiting for it is not queued: a backfill that takes
//! the lock again as soon as it commits a batch keeps a waiting writer out until its busy
//! timeout. The example's SQLite script (`up.sqlite.sql`) therefore pauses 5 ms between batches;
//! SQLite runs a second time on a copy of the migrations without that file (the generic
//! `up.sql`, no pause), to show what the pause buys.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;

use crate::bench::{release_binary, run_checked, tempdir, which};

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Rows in `plans` before the backfill.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// The Postgres server; the benchmark creates and drops its own database there.
    #[arg(
        long,
        env = "BRAID_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub postgres_url: String,
    /// The MySQL/MariaDB server; the benchmark creates and drops its own database there.
    #[arg(
        long,
        env = "BRAID_TEST_MYSQL_URL",
        default_value = "mysql://root@127.0.0.1:3306/test"
    )]
    pub mysql_url: String,
    /// Leave out the second SQLite run, without the example's pause between batches.
    #[arg(long)]
    pub no_unthrottled: bool,
}

/// The revisions around the backfill.
const BASE: &str = "core3_merge_audit_billing";
const BEFORE: &str = "zd2_plans_price_minor_index";
const BACKFILL: &str = "zd3_plans_backfill_price_minor";

/// The database the benchmark makes on each server.
const DB: &str = "braid_bench_backfill";

/// The writer's lock wait bound.
const LOCK_BOUND_SECS: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

struct Backend {
    name: String,
    kind: Kind,
    url: String,
    /// The migrations directory: the workspace's, or a copy with another throttle.
    migrations: PathBuf,
}

/// What one backend's run measured.
struct Measured {
    name: String,
    rows: u64,
    step_ms: u64,
    wall: Duration,
    writer: WriterStats,
}

pub fn run(args: &BackfillArgs, work_dir: Option<&Path>) -> anyhow::Result<String> {
    which("psql").context("psql is needed for the Postgres part")?;
    which("mysql").context("the mysql client is needed for the MariaDB part")?;
    let work = match work_dir {
        Some(dir) => dir.to_path_buf(),
        None => tempdir()?,
    };
    std::fs::create_dir_all(&work)?;
    let work = work.canonicalize()?;
    let bin = release_binary("xtask", "xtask")?;
    let migrations = braid::find_root(&std::env::current_dir()?).join("migrations");
    let sqlite_file = work.join("backfill.db");
    let sqlite = |name: String, migrations: PathBuf| Backend {
        name,
        kind: Kind::Sqlite,
        url: format!("sqlite://{}", sqlite_file.display()),
        migrations,
    };
    let mut backends = vec![
        sqlite("SQLite".into(), migrations.clone()),
        Backend {
            name: "Postgres".into(),
            kind: Kind::Postgres,
            url: with_database(&args.postgres_url),
            migrations: migrations.clone(),
        },
        Backend {
            name: "MariaDB".into(),
            kind: Kind::Mysql,
            url: with_database(&args.mysql_url),
            migrations: migrations.clone(),
        },
    ];
    if !args.no_unthrottled {
        let unthrottled = work.join("migrations-unthrottled");
        copy_dir(&migrations, &unthrottled)?;
        std::fs::remove_file(unthrottled.join(BACKFILL).join("up.sqlite.sql"))
            .context("the example's backfill has no up.sqlite.sql")?;
        backends.push(sqlite("SQLite, no pause (up.sql)".into(), unthrottled));
    }
    let mut measured = Vec::new();
    for backend in &backends {
        fresh(backend, &sqlite_file)?;
        let result = bench_one(args, &bin, &work, backend);
        drop_database(backend, &sqlite_file);
        measured.push(result?);
    }
    Ok(table(args, &measured))
}

/// Copies the directory tree `from` to `to` (build output and local databases left out).
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "target" || name == ".braid" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// `url` with the benchmark's own database.
fn with_database(url: &str) -> String {
    match url.rfind('/') {
        Some(i) => format!("{}/{DB}", &url[..i]),
        None => url.to_string(),
    }
}

/// An empty database: the SQLite file removed, the server database dropped and created again.
fn fresh(backend: &Backend, sqlite_file: &Path) -> anyhow::Result<()> {
    drop_database(backend, sqlite_file);
    if backend.kind != Kind::Sqlite {
        run_checked(&mut server_client(
            backend.kind,
            &format!("CREATE DATABASE {DB}"),
        ))?;
    }
    Ok(())
}

fn drop_database(backend: &Backend, sqlite_file: &Path) {
    let drop = match backend.kind {
        Kind::Sqlite => {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_file.display()));
            }
            return;
        }
        Kind::Postgres => format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"),
        Kind::Mysql => format!("DROP DATABASE IF EXISTS {DB}"),
    };
    let _ = run_checked(&mut server_client(backend.kind, &drop));
}

/// The server's own client running `sql` on the test server, as its administrator.
fn server_client(kind: Kind, sql: &str) -> Command {
    let (program, args): (&str, &[&str]) = match kind {
        Kind::Mysql => ("mysql", &["-h", "127.0.0.1", "-u", "root", "-e"]),
        _ => (
            "psql",
            &[
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-c",
            ],
        ),
    };
    let mut command = Command::new(program);
    command.args(args).arg(sql);
    command
}

fn bench_one(
    args: &BackfillArgs,
    bin: &Path,
    work: &Path,
    backend: &Backend,
) -> anyhow::Result<Measured> {
    let file: String = backend
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let config = work.join(format!("backfill-{file}.toml"));
    std::fs::write(
        &config,
        format!(
            "[default]\nmigrations = {:?}\n[default.databases.bench]\nurl = {:?}\n",
            backend.migrations.display().to_string(),
            backend.url
        ),
    )?;
    let migrate = |target: &str| -> anyhow::Result<serde_json::Value> {
        let out = run_checked(
            Command::new(bin)
                .args(["migrate", "--config"])
                .arg(&config)
                .args(["upgrade", target, "--format", "json"]),
        )?;
        Ok(serde_json::from_slice(&out.stdout)?)
    };
    eprintln!(
        "{}: {BASE}, then {} rows in plans…",
        backend.name, args.rows
    );
    migrate(BASE)?;
    let seed = seed_sql(backend.kind, args.rows);
    Client::connect(backend)?.execute(&seed)?;
    eprintln!("{}: {BEFORE} (price_minor and its index)…", backend.name);
    migrate(BEFORE)?;

    eprintln!("{}: the backfill, with the writer…", backend.name);
    let writer = Writer::start(backend, args.rows)?;
    writer.measure.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let result = migrate(BACKFILL);
    let wall = started.elapsed();
    writer.measure.store(false, Ordering::SeqCst);
    let stats = writer.stop()?;
    let json = result?;
    let step = &json["databases"][0]["applied"][0];
    if step["revision"] != BACKFILL {
        bail!("{}: the run did not apply {BACKFILL}: {json}", backend.name);
    }
    let step_ms = step["ms"]
        .as_u64()
        .context("no step duration in the JSON")?;
    let mut client = Client::connect(backend)?;
    let left = client.count("SELECT COUNT(*) FROM plans WHERE price_minor <> price_cents")?;
    if left != 0 {
        bail!(
            "{}: {left} rows hold price_minor <> price_cents after the backfill",
            backend.name
        );
    }
    Ok(Measured {
        name: backend.name.clone(),
        rows: args.rows,
        step_ms,
        wall,
        writer: stats,
    })
}

/// N rows `s-1` … written as the release before the change writes them.
fn seed_sql(kind: Kind, n: u64) -> String {
    match kind {
        Kind::Postgres => format!(
            "INSERT INTO plans (code, name, price_cents) \
             SELECT 's-' || g, 'Plan ' || g, g % 9973 + 1 FROM generate_series(1, {n}) g"
        ),
        Kind::Sqlite => format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
             INSERT INTO plans (code, name, price_cents) \
             SELECT 's-' || n, 'Plan ' || n, n % 9973 + 1 FROM g"
        ),
        Kind::Mysql => {
            let digit = "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                         UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL \
                         SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)";
            let digits = n.max(1).to_string().len();
            let tables: Vec<String> = (0..digits).map(|i| format!("{digit} d{i}")).collect();
            let sum: Vec<String> = (0..digits)
                .map(|i| format!("{} * d{i}.d", 10u64.pow(i as u32)))
                .collect();
            format!(
                "INSERT INTO plans (code, name, price_cents) \
                 SELECT CONCAT('s-', n), CONCAT('Plan ', n), MOD(n, 9973) + 1 FROM ( \
                 SELECT {} + 1 AS n FROM {}) t WHERE n <= {n} ORDER BY n",
                sum.join(" + "),
                tables.join(", ")
            )
        }
    }
}

/// A plain client connection: the writer is the application, not Braid.
enum Client {
    Sqlite(rusqlite::Connection),
    Postgres(tokio::runtime::Runtime, tokio_postgres::Client),
    Mysql(tokio::runtime::Runtime, mysql_async::Conn),
}

impl Client {
    fn connect(backend: &Backend) -> anyhow::Result<Client> {
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        };
        Ok(match backend.kind {
            Kind::Sqlite => {
                let path = backend.url.trim_start_matches("sqlite://");
                Client::Sqlite(rusqlite::Connection::open(path)?)
            }
            Kind::Postgres => {
                let rt = runtime()?;
                let client = rt.block_on(async {
                    let (client, connection) =
                        tokio_postgres::connect(&backend.url, tokio_postgres::NoTls).await?;
                    tokio::spawn(connection);
                    anyhow::Ok(client)
                })?;
                Client::Postgres(rt, client)
            }
            Kind::Mysql => {
                let rt = runtime()?;
                let opts = mysql_async::Opts::from_url(&backend.url)?;
                let conn = rt.block_on(mysql_async::Conn::new(opts))?;
                Client::Mysql(rt, conn)
            }
        })
    }

    fn execute(&mut self, sql: &str) -> anyhow::Result<()> {
        use mysql_async::prelude::Queryable;
        match self {
            Client::Sqlite(c) => c.execute_batch(sql)?,
            Client::Postgres(rt, c) => rt.block_on(c.batch_execute(sql))?,
            Client::Mysql(rt, c) => rt.block_on(c.query_drop(sql))?,
        }
        Ok(())
    }

    fn count(&mut self, sql: &str) -> anyhow::Result<i64> {
        use mysql_async::prelude::Queryable;
        Ok(match self {
            Client::Sqlite(c) => c.query_row(sql, [], |r| r.get(0))?,
            Client::Postgres(rt, c) => rt.block_on(c.query_one(sql, &[]))?.get(0),
            Client::Mysql(rt, c) => rt
                .block_on(c.query_first::<i64, _>(sql))?
                .context("no row")?,
        })
    }

    /// Sets the session's lock wait limits to [`LOCK_BOUND_SECS`].
    fn bound_lock_waits(&mut self) -> anyhow::Result<()> {
        let secs = LOCK_BOUND_SECS;
        match self {
            Client::Sqlite(c) => c.busy_timeout(Duration::from_secs(secs))?,
            Client::Postgres(..) => self.execute(&format!("SET lock_timeout = '{secs}s'"))?,
            Client::Mysql(..) => self.execute(&format!(
                "SET SESSION lock_wait_timeout = {secs}, SESSION innodb_lock_wait_timeout = {secs}"
            ))?,
        }
        Ok(())
    }

    /// The application's write number `i`: mostly an update of a random existing row's
    /// `price_cents`, every fifth an insert (as the release before the change writes them).
    fn write(&mut self, i: u64, rows: u64, random: u64) -> anyhow::Result<()> {
        use mysql_async::prelude::Queryable;
        let price = (100_000 + i % 100_000) as i64;
        let id = (random % rows + 1) as i64;
        let code = format!("w-{i}");
        let insert = i.is_multiple_of(5);
        match self {
            Client::Sqlite(c) => {
                if insert {
                    c.prepare_cached(
                        "INSERT INTO plans (code, name, price_cents) VALUES (?1, ?1, ?2)",
                    )?
                    .execute(rusqlite::params![code, price])?;
                } else {
                    c.prepare_cached("UPDATE plans SET price_cents = ?1 WHERE id = ?2")?
                        .execute(rusqlite::params![price, id])?;
                }
            }
            Client::Postgres(rt, c) => {
                let price = price as i32;
                rt.block_on(async {
                    if insert {
                        c.execute(
                            "INSERT INTO plans (code, name, price_cents) VALUES ($1, $1, $2)",
                            &[&code, &price],
                        )
                        .await
                    } else {
                        c.execute(
                            "UPDATE plans SET price_cents = $1 WHERE id = $2",
                            &[&price, &id],
                        )
                        .await
                    }
                })?;
            }
            Client::Mysql(rt, c) => rt.block_on(async {
                if insert {
                    c.exec_drop(
                        "INSERT INTO plans (code, name, price_cents) VALUES (?, ?, ?)",
                        (&code, &code, price),
                    )
                    .await
                } else {
                    c.exec_drop("UPDATE plans SET price_cents = ? WHERE id = ?", (price, id))
                        .await
                }
            })?,
        }
        Ok(())
    }
}

/// What the writer saw while the backfill ran.
#[derive(Debug, Default)]
struct WriterStats {
    statements: u64,
    failures: u64,
    longest: Duration,
    first_failure: Option<String>,
}

/// The application: a thread with its own connection, writing one statement at a time with a
/// millisecond between statements (a load, not a flood: SQLite has one write lock).
struct Writer {
    measure: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<anyhow::Result<WriterStats>>,
}

impl Writer {
    fn start(backend: &Backend, rows: u64) -> anyhow::Result<Writer> {
        let mut client = Client::connect(backend)?;
        client.bound_lock_waits()?;
        let measure = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicU64::new(0));
        let (m, s, st) = (measure.clone(), stop.clone(), started.clone());
        let handle = std::thread::spawn(move || {
            let mut stats = WriterStats::default();
            // xorshift: random rows all over the key range, the same on every run.
            let mut random: u64 = 0x9E37_79B9_7F4A_7C15;
            let mut i = 0;
            while !s.load(Ordering::SeqCst) {
                i += 1;
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                let measuring = m.load(Ordering::SeqCst);
                let began = Instant::now();
                let outcome = client.write(i, rows, random);
                let took = began.elapsed();
                st.fetch_add(1, Ordering::SeqCst);
                if measuring {
                    stats.statements += 1;
                    stats.longest = stats.longest.max(took);
                    if let Err(e) = outcome {
                        stats.failures += 1;
                        stats.first_failure.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(stats)
        });
        // The writer is writing before the backfill starts.
        while started.load(Ordering::SeqCst) < 10 {
            if handle.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(Writer {
            measure,
            stop,
            handle,
        })
    }

    fn stop(self) -> anyhow::Result<WriterStats> {
        self.stop.store(true, Ordering::SeqCst);
        match self.handle.join() {
            Ok(stats) => stats,
            Err(_) => bail!("the writer thread panicked"),
        }
    }
}

fn table(args: &BackfillArgs, measured: &[Measured]) -> String {
    let mut out = format!(
        "### Batched backfill of {} rows (`{BACKFILL}`: 500 rows a batch, on SQLite 5 ms between \
         batches) with a writer\n\n\
         | backend | backfill | rows/s | whole command | writer statements | failed | longest writer statement |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
        args.rows
    );
    for m in measured {
        let secs = m.step_ms as f64 / 1000.0;
        let _ = writeln!(
            out,
            "| {} | {:.1} s | {:.0} | {:.1} s | {} | {} | {:.1} ms |",
            m.name,
            secs,
            m.rows as f64 / secs.max(0.001),
            m.wall.as_secs_f64(),
            m.writer.statements,
            m.writer.failures,
            m.writer.longest.as_secs_f64() * 1e3
        );
    }
    for m in measured {
        if let Some(failure) = &m.writer.first_failure {
            let _ = writeln!(out, "\n{}: the writer's first failure: {failure}", m.name);
        }
    }
    out
}
