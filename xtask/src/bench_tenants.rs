//! `cargo xtask bench tenants`: upgrading a tenant set — many databases on the same migrations —
//! with the standalone `braid` binary (release build).
//!
//! 1. Postgres, a schema per tenant (N schemas in a fresh database): `upgrade heads` from base
//!    tenant by tenant (`--jobs 1`) and two at a time (`--jobs 2`, the machine's cores), and the
//!    ratio `T(jobs=2) / (T(jobs=1) / 2)`: 1 is a perfect split over two workers, 2 no gain at
//!    all (goal ≤ 1.5). Then `--jobs 8` with and without `--max-connections 4` while a thread
//!    counts Braid's sessions in `pg_stat_activity` every 2 ms: the peak must stay within the
//!    bound (a migrating database holds two connections, its work and its lock).
//! 2. SQLite, a file per tenant listed in a file: the same two runs and the same ratio.
//! 3. The peak memory (max RSS) of the SQLite upgrade at 1 000 and 10 000 tenants: what a
//!    tenant costs in memory while the run lasts.
//!
//! Times are ratios within one run, as in the other benchmarks: the machine is shared and noisy,
//! so absolute times from different runs do not compare. Each timed run starts from base
//! (hyperfine's `--prepare` recreates the database or removes the files), and the run record
//! (`.braid/last-run.json`) is checked afterwards: every tenant applied every revision.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::Args;

use crate::bench::{release_binary, run_checked, shell_quote, tempdir, which};

#[derive(Debug, Args)]
pub struct TenantsArgs {
    /// How many tenants each set holds (parts 1 and 2).
    #[arg(long, default_value_t = 1000, value_parser = at_least_one)]
    pub tenants: usize,
    /// How many linear revisions each tenant is upgraded through (a table and an index each).
    #[arg(long, default_value_t = 20, value_parser = at_least_one)]
    pub revisions: usize,
    /// hyperfine runs per command (after one warm-up run).
    #[arg(long, default_value_t = 3, value_parser = at_least_one)]
    pub runs: usize,
    /// The tenant counts whose peak memory is measured (part 3).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000", value_parser = at_least_one)]
    pub memory_tenants: Vec<usize>,
    /// Revisions per tenant in the memory runs [default: --revisions].
    #[arg(long, value_parser = at_least_one)]
    pub memory_revisions: Option<usize>,
    /// The Postgres server; the benchmark creates and drops its own database there.
    #[arg(
        long,
        env = "BRAID_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub postgres_url: String,
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}` is not a whole number of at least 1")),
    }
}

/// Runs the three parts and returns their report (markdown).
pub fn run(args: &TenantsArgs, work_dir: Option<&Path>) -> anyhow::Result<String> {
    which("hyperfine").context("hyperfine is needed: apt-get install hyperfine")?;
    which("psql").context("psql is needed for the Postgres part")?;
    let work = match work_dir {
        Some(dir) => dir.to_path_buf(),
        None => tempdir()?,
    };
    std::fs::create_dir_all(&work)?;
    let work = work.canonicalize()?;
    let bin = release_binary("braid-cli", "braid")?;
    let migrations = work.join(format!("tenant-migrations-{}", args.revisions));
    write_revisions(&migrations, args.revisions)?;

    let mut report = bench_postgres(args, &bin, &work, &migrations)?;
    report.push_str(&bench_sqlite(args, &bin, &work, &migrations)?);
    report.push_str(&bench_memory(args, &bin, &work)?);
    Ok(report)
}

/// `count` linear revisions, each creating a table of a few columns and an index on it, in SQL
/// that Postgres and SQLite both run.
fn write_revisions(dir: &Path, count: usize) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let start = jiff::Timestamp::from_second(1_780_000_000)?;
    for i in 0..count {
        let id = format!("r{i:06}");
        let parents = match i {
            0 => String::new(),
            _ => format!("\"r{:06}\"", i - 1),
        };
        let created = start.checked_add(jiff::SignedDuration::from_secs(i as i64))?;
        let rev = dir.join(format!("{id}_tenant"));
        std::fs::create_dir_all(&rev)?;
        std::fs::write(
            rev.join("revision.toml"),
            format!(
                "id = \"{id}\"\nparents = [{parents}]\nmessage = \"tenant bench {i}\"\ncreated = {created}\n"
            ),
        )?;
        std::fs::write(
            rev.join("up.sql"),
            format!(
                "CREATE TABLE items_{i} (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL,\n    \
                 quantity INTEGER NOT NULL DEFAULT 0,\n    created_at VARCHAR(40)\n);\n\
                 CREATE INDEX items_{i}_name ON items_{i} (name);\n"
            ),
        )?;
        std::fs::write(rev.join("down.sql"), format!("DROP TABLE items_{i};\n"))?;
    }
    Ok(())
}

/// The tenants' names: `t0000`, `t0001`, … (at least four digits, so that they sort).
fn tenant_names(count: usize) -> impl Iterator<Item = String> {
    let width = (count.saturating_sub(1)).to_string().len().max(4);
    (0..count).map(move |i| format!("t{i:0width$}"))
}

/// A `braid upgrade heads` over one project root (its config, the tenant set, `.braid/`).
struct Upgrade<'a> {
    bin: &'a Path,
    root: PathBuf,
    migrations: &'a Path,
}

impl Upgrade<'_> {
    /// `upgrade heads` with `--jobs 1` (tenant by tenant) and `--jobs 2` (the cores), from the
    /// state `prepare` makes, each checked against the run's record; their table and ratio.
    fn compare_jobs(
        &self,
        work: &Path,
        args: &TenantsArgs,
        prepare: &str,
        name: &str,
        what: &str,
    ) -> anyhow::Result<String> {
        eprintln!(
            "{what}: {} tenants × {} revisions, --jobs 1 and --jobs 2",
            args.tenants, args.revisions
        );
        let times = hyperfine(
            work,
            name,
            args.runs,
            prepare,
            &[
                ("jobs=1", self.command_line("--jobs 1")),
                ("jobs=2", self.command_line("--jobs 2")),
            ],
        )?;
        self.check_record(args.tenants, args.revisions)?;
        let [jobs1, jobs2] = <[Timing; 2]>::try_from(times)
            .map_err(|_| anyhow!("hyperfine did not report both commands"))?;
        Ok(jobs_table(
            &format!(
                "{what}: `upgrade heads` of {} tenants × {} revisions from base (mean of {} runs)",
                args.tenants, args.revisions, args.runs
            ),
            &jobs1,
            &jobs2,
            args.tenants * args.revisions,
        ))
    }

    fn config(&self) -> PathBuf {
        self.root.join("braid.toml")
    }

    /// The command line, for hyperfine.
    fn command_line(&self, options: &str) -> String {
        format!(
            "{} --root {} --config {} --migrations {} upgrade heads {options}",
            shell_quote(self.bin),
            shell_quote(&self.root),
            shell_quote(&self.config()),
            shell_quote(self.migrations),
        )
    }

    /// The command, run under `wrapper` (e.g. `/usr/bin/time`) when given.
    fn command(&self, wrapper: &[&str], options: &[&str]) -> Command {
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(self.bin);
                cmd
            }
            None => Command::new(self.bin),
        };
        cmd.arg("--root")
            .arg(&self.root)
            .arg("--config")
            .arg(self.config())
            .arg("--migrations")
            .arg(self.migrations)
            .args(["upgrade", "heads"])
            .args(options);
        cmd
    }

    /// Checks the run record the last run left: every tenant applied every revision.
    fn check_record(&self, tenants: usize, revisions: usize) -> anyhow::Result<()> {
        let path = self.root.join(".braid/last-run.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the run record {}", path.display()))?;
        let record: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
        let databases = record["databases"]
            .as_array()
            .with_context(|| format!("{}: no `databases`", path.display()))?;
        let complete = databases
            .iter()
            .filter(|db| db["steps"].as_u64() == Some(revisions as u64) && db["error"].is_null())
            .count();
        if databases.len() != tenants || complete != tenants {
            bail!(
                "{}: {} databases, {complete} of them upgraded through {revisions} revisions; expected {tenants}",
                path.display(),
                databases.len()
            );
        }
        Ok(())
    }
}

/// The mean and standard deviation of a command's runs, in seconds.
struct Timing {
    mean: f64,
    sd: f64,
}

/// hyperfine over `commands` with one warm-up run (a run takes seconds to minutes), each run
/// after `prepare`.
fn hyperfine(
    work: &Path,
    name: &str,
    runs: usize,
    prepare: &str,
    commands: &[(&str, String)],
) -> anyhow::Result<Vec<Timing>> {
    let json = work.join(format!("{name}.json"));
    let mut cmd = Command::new("hyperfine");
    cmd.args(["--warmup", "1", "--runs", &runs.to_string()])
        .args([
            "--style",
            "basic",
            "-N",
            "--prepare",
            prepare,
            "--export-json",
        ])
        .arg(&json);
    for (label, command) in commands {
        cmd.args(["--command-name", label, command]);
    }
    if !cmd.status().context("cannot run hyperfine")?.success() {
        bail!("hyperfine failed for {name}");
    }
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    let results = data["results"]
        .as_array()
        .context("hyperfine's JSON has no results")?;
    Ok(results
        .iter()
        .map(|r| Timing {
            mean: r["mean"].as_f64().unwrap_or(f64::NAN),
            sd: r["stddev"].as_f64().unwrap_or(f64::NAN),
        })
        .collect())
}

fn seconds(t: f64) -> String {
    if t.is_nan() {
        "–".into()
    } else if t >= 1.0 {
        format!("{t:.2} s")
    } else {
        format!("{:.0} ms", t * 1e3)
    }
}

/// A table of the `--jobs 1` and `--jobs 2` runs and their ratio.
fn jobs_table(title: &str, jobs1: &Timing, jobs2: &Timing, migrations: usize) -> String {
    let mut out = format!(
        "### {title}\n\n| command | time | ± | per tenant migration |\n|---|---:|---:|---:|\n"
    );
    for (jobs, t) in [(1, jobs1), (2, jobs2)] {
        let _ = writeln!(
            out,
            "| `upgrade heads --jobs {jobs}` | {} | {} | {:.2} ms |",
            seconds(t.mean),
            seconds(t.sd),
            t.mean * 1e3 / migrations as f64
        );
    }
    let _ = writeln!(
        out,
        "\nT(jobs=2) / (T(jobs=1) / 2) = **{:.2}** (goal ≤ 1.5; 1 is a perfect split over the 2 \
         cores, 2 no gain)\n",
        jobs2.mean / (jobs1.mean / 2.0)
    );
    out
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> anyhow::Result<String> {
    let (before, after) = url
        .split_once("://")
        .with_context(|| format!("`{url}` is not a URL"))?;
    let (authority, rest) = after
        .split_once('/')
        .with_context(|| format!("`{url}` names no database"))?;
    let query = rest.find('?').map_or("", |i| &rest[i..]);
    Ok(format!("{before}://{authority}/{db}{query}"))
}

/// The benchmark's own Postgres database, dropped when this goes out of scope (errors too).
struct BenchDatabase {
    name: String,
    /// The server's `postgres` database, where `name` is dropped and created.
    admin_url: String,
    /// The benchmark database itself.
    url: String,
}

impl BenchDatabase {
    fn new(server: &str) -> anyhow::Result<Self> {
        let name = format!("braid_bench_tenants_{}", std::process::id());
        Ok(BenchDatabase {
            admin_url: with_database(server, "postgres")?,
            url: with_database(server, &name)?,
            name,
        })
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let dropped = Command::new("psql")
            .args(["-q", "-X", "-d", &self.admin_url, "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
        if !dropped.is_ok_and(|o| o.status.success()) {
            eprintln!("warning: could not drop the database {}", self.name);
        }
    }
}

fn bench_postgres(
    args: &TenantsArgs,
    bin: &Path,
    work: &Path,
    migrations: &Path,
) -> anyhow::Result<String> {
    let db = BenchDatabase::new(&args.postgres_url)?;
    let upgrade = Upgrade {
        bin,
        root: work.join("tenants-postgres"),
        migrations,
    };
    std::fs::create_dir_all(&upgrade.root)?;
    std::fs::write(
        upgrade.config(),
        format!(
            "[default]\njobs = 2\n[default.tenants.shops]\nurl = {:?}\nschema = \"{{tenant}}\"\n\
             tenants = {{ like = \"t%\" }}\n",
            db.url
        ),
    )?;
    // A fresh database with N empty schemas, in one psql script.
    let script = upgrade.root.join("prepare.sql");
    let mut sql = format!(
        "DROP DATABASE IF EXISTS {0} WITH (FORCE);\nCREATE DATABASE {0};\n\\connect {0}\nBEGIN;\n",
        db.name
    );
    for tenant in tenant_names(args.tenants) {
        let _ = writeln!(sql, "CREATE SCHEMA {tenant};");
    }
    sql.push_str("COMMIT;\n");
    std::fs::write(&script, sql)?;
    let prepare = format!(
        "psql -q -X -v ON_ERROR_STOP=1 -d {} -f {}",
        shell_quote(Path::new(&db.admin_url)),
        shell_quote(&script)
    );
    let reset = || run_checked(Command::new("sh").args(["-c", &prepare])).map(drop);
    reset().context("cannot make the benchmark's Postgres database")?;

    let mut report = upgrade.compare_jobs(
        work,
        args,
        &prepare,
        "tenants-postgres",
        "Postgres, a schema per tenant",
    )?;

    report.push_str("| one run | time | peak Braid sessions on the database |\n|---|---:|---:|\n");
    for (options, expected) in [
        (&["--jobs", "8", "--max-connections", "4"][..], "goal ≤ 4"),
        (&["--jobs", "8"][..], "unbounded: up to 16"),
    ] {
        reset()?;
        eprintln!("Postgres: {} while counting sessions", options.join(" "));
        let (secs, peak) = with_peak_sessions(&db, upgrade.command(&[], options))?;
        upgrade.check_record(args.tenants, args.revisions)?;
        let _ = writeln!(
            report,
            "| `upgrade heads {}` | {} | **{peak}** ({expected}) |",
            options.join(" "),
            seconds(secs)
        );
    }
    report.push('\n');
    Ok(report)
}

/// Runs `braid` while a thread counts Braid's sessions on the database every 2 ms; returns the
/// run's time and the most sessions seen.
fn with_peak_sessions(db: &BenchDatabase, mut braid: Command) -> anyhow::Result<(f64, i64)> {
    let stop = AtomicBool::new(false);
    let (ready, is_ready) = mpsc::channel();
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| count_sessions(db, &stop, ready));
        // The poller's connection is up before Braid starts, or the poller failed.
        if is_ready.recv().is_err() {
            return match poller.join() {
                Ok(Err(e)) => Err(e),
                _ => Err(anyhow!("the session counter stopped")),
            };
        }
        let started = Instant::now();
        let ran = run_checked(&mut braid);
        let secs = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let peak = poller
            .join()
            .map_err(|_| anyhow!("the session counter panicked"))??;
        ran?;
        Ok((secs, peak))
    })
}

fn count_sessions(
    db: &BenchDatabase,
    stop: &AtomicBool,
    ready: mpsc::Sender<()>,
) -> anyhow::Result<i64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .context("the session counter cannot connect")?;
        tokio::spawn(connection);
        let query = client
            .prepare(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = $1 AND application_name = 'braid'",
            )
            .await?;
        let _ = ready.send(());
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            let sessions: i64 = client.query_one(&query, &[&db.name]).await?.get(0);
            peak = peak.max(sessions);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(peak)
    })
}

/// A project root with a SQLite tenant set of `tenants` files under `tenants/`, listed in
/// `tenants.txt`.
fn sqlite_project<'a>(
    bin: &'a Path,
    root: PathBuf,
    migrations: &'a Path,
    tenants: usize,
) -> anyhow::Result<Upgrade<'a>> {
    std::fs::create_dir_all(&root)?;
    let names: String = tenant_names(tenants).map(|t| t + "\n").collect();
    std::fs::write(root.join("tenants.txt"), names)?;
    let upgrade = Upgrade {
        bin,
        root,
        migrations,
    };
    std::fs::write(
        upgrade.config(),
        "[default]\njobs = 2\n[default.tenants.devices]\nurl = \"sqlite://tenants/{tenant}.db\"\n\
         tenants = { file = \"tenants.txt\" }\n",
    )?;
    Ok(upgrade)
}

fn bench_sqlite(
    args: &TenantsArgs,
    bin: &Path,
    work: &Path,
    migrations: &Path,
) -> anyhow::Result<String> {
    let upgrade = sqlite_project(bin, work.join("tenants-sqlite"), migrations, args.tenants)?;
    let prepare = format!("rm -rf {}", shell_quote(&upgrade.root.join("tenants")));
    let report = upgrade.compare_jobs(
        work,
        args,
        &prepare,
        "tenants-sqlite",
        "SQLite, a file per tenant",
    )?;
    std::fs::remove_dir_all(upgrade.root.join("tenants"))?;
    Ok(report)
}

fn bench_memory(args: &TenantsArgs, bin: &Path, work: &Path) -> anyhow::Result<String> {
    let revisions = args.memory_revisions.unwrap_or(args.revisions);
    let migrations = work.join(format!("tenant-migrations-{revisions}"));
    write_revisions(&migrations, revisions)?;
    let mut report = format!(
        "### Peak memory (max RSS) of `braid upgrade heads --jobs 2`, a SQLite file per tenant, \
         {revisions} revisions\n\n| tenants | time | peak RSS |\n|---:|---:|---:|\n"
    );
    let mut peaks: Vec<(usize, u64)> = Vec::new();
    for &tenants in &args.memory_tenants {
        let upgrade = sqlite_project(
            bin,
            work.join(format!("tenants-memory-{tenants}")),
            &migrations,
            tenants,
        )?;
        let files = upgrade.root.join("tenants");
        if files.exists() {
            std::fs::remove_dir_all(&files)?;
        }
        eprintln!("memory: {tenants} SQLite files × {revisions} revisions");
        let started = Instant::now();
        let out =
            run_checked(&mut upgrade.command(&["/usr/bin/time", "-f", "%M"], &["--jobs", "2"]))?;
        let secs = started.elapsed().as_secs_f64();
        upgrade.check_record(tenants, revisions)?;
        // 10 000 tenants' files take about 2 GB at 20 revisions.
        std::fs::remove_dir_all(&files)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let peak_kb: u64 = stderr
            .lines()
            .last()
            .and_then(|line| line.trim().parse().ok())
            .with_context(|| format!("/usr/bin/time reported no peak memory:\n{stderr}"))?;
        let _ = writeln!(
            report,
            "| {tenants} | {} | {:.1} MB |",
            seconds(secs),
            peak_kb as f64 / 1024.0
        );
        peaks.push((tenants, peak_kb));
    }
    if let (Some(&(n0, kb0)), Some(&(n1, kb1))) = (peaks.first(), peaks.last())
        && n1 > n0
    {
        let _ = writeln!(
            report,
            "\nFrom {n0} to {n1} tenants: {:.2} KB more per tenant",
            (kb1 as f64 - kb0 as f64) / (n1 - n0) as f64
        );
    }
    report.push('\n');
    Ok(report)
}
