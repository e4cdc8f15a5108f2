//! `cargo xtask bench`: whole-command benchmarks, always as ratios within one run (the machines
//! are shared and noisy, so absolute times from different runs do not compare).
//!
//! - `heads` over N SQL revision directories, against Alembic's `heads` over the same graph
//!   when Alembic is installed (`pip install alembic`);
//! - upgrading a fresh SQLite file through N small revisions, against a plain rusqlite loop that
//!   runs the same statements and the same bookkeeping with the same commits (the floor), in
//!   both transaction modes; plus the peak memory of the Braid run.
//!
//! Timing is hyperfine's; the release build of this binary is what gets timed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: Option<BenchCommand>,
    /// How many revisions the synthetic migrations directory holds.
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// hyperfine runs per command.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Where to keep the generated files [default: a fresh temporary directory].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Only `heads` over N revision directories.
    Heads,
    /// Only the SQLite upgrade against its floor.
    Sqlite,
    /// `heads`, `history` and `history --format json` of the standalone binary over 5 000 and
    /// 10 000 synthetic revision directories, and how each grows from one to the other (2× is
    /// linear). Not part of the default run.
    History,
    /// Write N synthetic revisions (a table each; a branch and a merge every 50, unless
    /// `--linear`).
    #[command(hide = true)]
    Synth {
        dir: PathBuf,
        /// One line of revisions, without branches or merges.
        #[arg(long)]
        linear: bool,
    },
    /// The floor: a plain rusqlite loop over the same files.
    #[command(hide = true)]
    Floor {
        dir: PathBuf,
        /// `sqlite://…`, `postgres://…` or `mysql://…`.
        url: String,
        #[arg(long)]
        single_transaction: bool,
    },
    /// Only Postgres and MariaDB against their floors (servers from BRAID_TEST_POSTGRES_URL /
    /// BRAID_TEST_MYSQL_URL, defaults as in the tests).
    Servers,
    /// `verify` against `upgrade` of the same revisions, on SQLite, Postgres and MariaDB.
    Verify,
    /// Tenant sets: N tenants (a Postgres schema or a SQLite file each) upgraded one at a time
    /// and two at a time, the bound on connections, and the peak memory at 1 000 and 10 000
    /// tenants. Not part of the default run: it takes minutes.
    Tenants(crate::bench_tenants::TenantsArgs),
    /// The worked example's batched backfill (zd3_plans_backfill_price_minor) over 1 000 000
    /// rows on SQLite, Postgres and MariaDB with a writer running: rows per second and the
    /// writer's longest statement. Not part of the default run: it takes minutes.
    Backfill(crate::bench_backfill::BackfillArgs),
    /// Build times of the adopter example (examples/adopter): a clean debug build with the
    /// smallest feature set (Postgres, SQL only) and with everything, each in a target
    /// directory of its own, and the incremental rebuild after adding a Rust revision. Not part
    /// of the default run: it takes minutes.
    Adopter,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match &args.what {
        Some(BenchCommand::Synth { dir, linear }) => {
            synth(dir, args.count, !linear)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(BenchCommand::Floor {
            dir,
            url,
            single_transaction,
        }) => {
            floor(dir, url, *single_transaction)?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    if let Some(BenchCommand::History) = &args.what {
        println!("\n{}", bench_history(&args)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(BenchCommand::Adopter) = &args.what {
        println!("\n{}", bench_adopter(&args)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(BenchCommand::Backfill(backfill)) = &args.what {
        let report = crate::bench_backfill::run(backfill, args.work_dir.as_deref())?;
        println!("\n{report}");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(BenchCommand::Tenants(tenants)) = &args.what {
        let report = crate::bench_tenants::run(tenants, args.work_dir.as_deref())?;
        println!("\n{report}");
        return Ok(ExitCode::SUCCESS);
    }
    which("hyperfine").context("hyperfine is needed: apt-get install hyperfine")?;
    let bin = release_binary("xtask", "xtask")?;
    let tmp;
    let work = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => {
            tmp = tempdir()?;
            tmp.clone()
        }
    };
    std::fs::create_dir_all(&work)?;
    let migrations = work.join("migrations");
    if !migrations.exists() {
        run_checked(
            Command::new(&bin)
                .args(["bench", "--count", &args.count.to_string(), "synth"])
                .arg(&migrations),
        )?;
    }
    let mut report = String::new();
    if matches!(args.what, None | Some(BenchCommand::Heads)) {
        report.push_str(&bench_heads(&bin, &work, &migrations, &args)?);
    }
    if matches!(args.what, None | Some(BenchCommand::Sqlite)) {
        report.push_str(&bench_sqlite(&bin, &work, &migrations, &args)?);
    }
    if matches!(args.what, None | Some(BenchCommand::Servers)) {
        report.push_str(&bench_servers(&bin, &work, &migrations, &args)?);
    }
    if matches!(args.what, None | Some(BenchCommand::Verify)) {
        report.push_str(&bench_verify(&bin, &work, &args)?);
    }
    println!("\n{report}");
    Ok(ExitCode::SUCCESS)
}

/// This workspace: the benchmarks build its binaries.
fn workspace_root() -> anyhow::Result<PathBuf> {
    Ok(braid::find_root(&std::env::current_dir()?))
}

pub(crate) fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("braid-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub(crate) fn which(tool: &str) -> anyhow::Result<()> {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        bail!("{tool} not found")
    }
}

pub(crate) fn run_checked(cmd: &mut Command) -> anyhow::Result<std::process::Output> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

/// Builds binary `bin` of `package` in release mode and asks cargo where it is.
pub(crate) fn release_binary(package: &str, bin: &str) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building the release binary {bin}…");
    let out = run_checked(
        Command::new(cargo)
            .args(["build", "--release", "-p", package, "--message-format=json"])
            .current_dir(workspace_root()?),
    )?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact"
            && msg["target"]["name"] == bin
            && let Some(exe) = msg["executable"].as_str()
        {
            return Ok(PathBuf::from(exe));
        }
    }
    bail!("cargo did not report the {bin} executable")
}

/// Runs hyperfine over named commands and returns each command's mean and stddev in seconds.
fn hyperfine(
    work: &Path,
    name: &str,
    runs: usize,
    prepare: Option<&str>,
    commands: &[(&str, String)],
) -> anyhow::Result<Vec<(String, f64, f64)>> {
    let json = work.join(format!("{name}.json"));
    let mut cmd = Command::new("hyperfine");
    cmd.args([
        "--warmup",
        "2",
        "--runs",
        &runs.to_string(),
        "--style",
        "basic",
        "-N",
    ])
    .arg("--export-json")
    .arg(&json);
    if let Some(prepare) = prepare {
        cmd.args(["--prepare", prepare]);
    }
    for (label, command) in commands {
        cmd.args(["--command-name", label, command]);
    }
    let status = cmd.status().context("cannot run hyperfine")?;
    if !status.success() {
        bail!("hyperfine failed for {name}");
    }
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    Ok(data["results"]
        .as_array()
        .context("hyperfine JSON has no results")?
        .iter()
        .map(|r| {
            (
                r["command"].as_str().unwrap_or("?").to_string(),
                r["mean"].as_f64().unwrap_or(f64::NAN),
                r["stddev"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect())
}

/// Times commands in alternation — A B, B A, A B, … — each after `prepare`. A server's own state
/// drifts over a long benchmark (purges, growing files), and timing every run of one command
/// before any of the other (as hyperfine does) would charge that drift to the second command.
fn alternate(
    prepare: &str,
    runs: usize,
    commands: &[(&str, String)],
) -> anyhow::Result<Vec<(String, f64, f64)>> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); commands.len()];
    for round in 0..runs {
        let mut order: Vec<usize> = (0..commands.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            run_checked(Command::new("sh").args(["-c", prepare]))?;
            let started = std::time::Instant::now();
            run_checked(Command::new("sh").args(["-c", &commands[i].1]))?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!("  {}: {:.3} s", commands[i].0, secs);
            times[i].push(secs);
        }
    }
    Ok(commands
        .iter()
        .zip(times)
        .map(|((name, _), mut t)| {
            // The median: a shared disk's fsync stalls hit single runs hard.
            t.sort_by(f64::total_cmp);
            let median = t[t.len() / 2];
            let mean = t.iter().sum::<f64>() / t.len() as f64;
            let var =
                t.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (t.len().max(2) - 1) as f64;
            (name.to_string(), median, var.sqrt())
        })
        .collect())
}

fn table(title: &str, results: &[(String, f64, f64)], baseline: usize) -> String {
    let mut out = format!("### {title}\n\n| command | time | ± | ratio |\n|---|---:|---:|---:|\n");
    let base = results[baseline].1;
    for (name, mean, sd) in results {
        let _ = writeln!(
            out,
            "| {name} | {:.1} ms | {:.1} ms | {:.2}× |",
            mean * 1e3,
            sd * 1e3,
            mean / base
        );
    }
    out.push('\n');
    out
}

pub(crate) fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

fn bench_heads(
    bin: &Path,
    work: &Path,
    migrations: &Path,
    args: &BenchArgs,
) -> anyhow::Result<String> {
    let xtask = format!(
        "{} migrate --migrations {} heads",
        shell_quote(bin),
        shell_quote(migrations)
    );
    let standalone = format!(
        "{} --migrations {} heads",
        shell_quote(&release_binary("braid-cli", "braid")?),
        shell_quote(migrations)
    );
    let mut commands = vec![
        ("cargo xtask migrate heads (the xtask binary)", xtask),
        ("braid heads (standalone)", standalone),
    ];
    let alembic_dir = work.join("alembic");
    let have_alembic = Command::new("python3")
        .args(["-c", "import alembic"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if have_alembic {
        write_alembic_mirror(migrations, &alembic_dir)?;
        commands.push((
            "alembic heads",
            format!(
                "alembic -c {} heads",
                shell_quote(&alembic_dir.join("alembic.ini"))
            ),
        ));
    } else {
        eprintln!("alembic is not installed (pip install alembic): comparing with Braid alone");
    }
    let results = hyperfine(work, "heads", args.runs, None, &commands)?;
    Ok(table(
        &format!("heads over {} revision directories", args.count),
        &results,
        0,
    ))
}

/// The history lengths `bench history` compares: twice as many revisions should cost twice the
/// time beyond the process start.
const HISTORY_SIZES: [usize; 2] = [5_000, 10_000];

/// The graph commands a long history makes slow if any per-revision question is not O(1).
const HISTORY_COMMANDS: [&str; 3] = ["heads", "history", "history --format json"];

/// `heads` and `history` over [`HISTORY_SIZES`] synthetic revision directories (written once
/// into the work directory), with the growth of each command from the first size to the second.
fn bench_history(args: &BenchArgs) -> anyhow::Result<String> {
    which("hyperfine").context("hyperfine is needed: apt-get install hyperfine")?;
    let braid = shell_quote(&release_binary("braid-cli", "braid")?);
    let work = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => tempdir()?,
    };
    std::fs::create_dir_all(&work)?;
    let mut report = String::new();
    let mut means: Vec<Vec<f64>> = Vec::new();
    for n in HISTORY_SIZES {
        let migrations = work.join(format!("history-{n}"));
        if !migrations.exists() {
            eprintln!("writing {n} revision directories…");
            synth(&migrations, n, true)?;
        }
        let commands: Vec<(&str, String)> = HISTORY_COMMANDS
            .iter()
            .map(|c| {
                let line = format!("{braid} --migrations {} {c}", shell_quote(&migrations));
                (*c, line)
            })
            .collect();
        let results = hyperfine(&work, &format!("history-{n}"), args.runs, None, &commands)?;
        report.push_str(&table(
            &format!("{n} revision directories (standalone braid, process start included)"),
            &results,
            0,
        ));
        means.push(results.iter().map(|r| r.1).collect());
    }
    let [small, large] = HISTORY_SIZES;
    let _ = writeln!(
        report,
        "### Growth from {small} to {large} revisions (2.00× is linear)\n\n| command | ratio |\n|---|---:|"
    );
    if let [first, second] = means.as_slice() {
        for (command, (a, b)) in HISTORY_COMMANDS.iter().zip(first.iter().zip(second)) {
            let _ = writeln!(report, "| {command} | {:.2}× |", b / a);
        }
    }
    Ok(report)
}

/// The same graph as an Alembic project, so both tools read the same history.
fn write_alembic_mirror(migrations: &Path, out: &Path) -> anyhow::Result<()> {
    let versions = out.join("versions");
    if versions.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&versions)?;
    std::fs::write(
        out.join("alembic.ini"),
        format!("[alembic]\nscript_location = {}\n", out.display()),
    )?;
    std::fs::write(out.join("env.py"), "")?;
    std::fs::write(out.join("script.py.mako"), "")?;
    let graph = braid_source::load(migrations)?;
    for rev in graph.in_order() {
        let down = match rev.parents.len() {
            0 => "None".to_string(),
            1 => format!("'{}'", rev.parents[0]),
            _ => format!(
                "({})",
                rev.parents
                    .iter()
                    .map(|p| format!("'{p}',"))
                    .collect::<String>()
            ),
        };
        std::fs::write(
            versions.join(format!("{}_.py", rev.id)),
            format!(
                "\"\"\"{}\"\"\"\nrevision = '{}'\ndown_revision = {down}\nbranch_labels = None\ndepends_on = None\n\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n",
                rev.message, rev.id
            ),
        )?;
    }
    Ok(())
}

fn bench_sqlite(
    bin: &Path,
    work: &Path,
    migrations: &Path,
    args: &BenchArgs,
) -> anyhow::Result<String> {
    let db = work.join("bench.db");
    let config = work.join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[default]\nmigrations = {:?}\n[default.databases.bench]\nurl = \"sqlite://{}\"\n",
            migrations.display().to_string(),
            db.display()
        ),
    )?;
    let prepare = format!("rm -f {0} {0}-journal {0}-wal {0}-shm", shell_quote(&db));
    let bin_q = shell_quote(bin);
    let braid = |mode: &str| {
        format!(
            "{bin_q} migrate --config {} upgrade heads --transaction {mode}",
            shell_quote(&config)
        )
    };
    let floor = |single: bool| {
        format!(
            "{bin_q} bench floor {} {}{}",
            shell_quote(migrations),
            shell_quote(Path::new(&format!("sqlite://{}", db.display()))),
            if single { " --single-transaction" } else { "" }
        )
    };
    let runs = args.runs.clamp(2, 5);
    let per = hyperfine(
        work,
        "sqlite-per-migration",
        runs,
        Some(&prepare),
        &[
            ("floor: rusqlite, commit per migration", floor(false)),
            ("braid --transaction per-migration", braid("per-migration")),
        ],
    )?;
    let all = hyperfine(
        work,
        "sqlite-all",
        runs,
        Some(&prepare),
        &[
            ("floor: rusqlite, one transaction", floor(true)),
            ("braid --transaction all", braid("all")),
        ],
    )?;
    // Peak memory of one Braid run.
    let _ = std::fs::remove_file(&db);
    let out = run_checked(
        Command::new("/usr/bin/time")
            .args(["-f", "%M"])
            .arg(bin)
            .args(["migrate", "--config"])
            .arg(&config)
            .args(["upgrade", "heads"]),
    )?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak_kb: u64 = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let mut report = table(
        &format!(
            "upgrade a fresh SQLite file through {} revisions, one transaction per migration",
            args.count
        ),
        &per,
        0,
    );
    report.push_str(&table(
        &format!(
            "upgrade a fresh SQLite file through {} revisions, one transaction",
            args.count
        ),
        &all,
        0,
    ));
    let _ = writeln!(
        report,
        "Peak memory (max RSS) of `braid upgrade`: {:.1} MB\n",
        peak_kb as f64 / 1024.0
    );
    Ok(report)
}

/// Synthetic history: mostly linear, a two-revision side branch and a merge every 50 (with
/// `merges`; otherwise one line).
fn synth(dir: &Path, count: usize, merges: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let start = jiff::Timestamp::from_second(1_780_000_000)?;
    let mut main: Option<String> = None;
    let mut side: Option<String> = None;
    for i in 0..count {
        let id = format!("r{i:06}");
        let at = if merges { i % 50 } else { 0 };
        match (at, &main, &side) {
            // Open a side branch from the main line, and grow it by one.
            (10, Some(m), _) => {
                write_synth(dir, &id, std::slice::from_ref(m), i, start)?;
                side = Some(id);
            }
            (11, _, Some(s)) => {
                write_synth(dir, &id, std::slice::from_ref(s), i, start)?;
                side = Some(id);
            }
            // Merge it back.
            (49, Some(m), Some(s)) => {
                write_synth(dir, &id, &[m.clone(), s.clone()], i, start)?;
                side = None;
                main = Some(id);
            }
            _ => {
                let parents: Vec<String> = main.iter().cloned().collect();
                write_synth(dir, &id, &parents, i, start)?;
                main = Some(id);
            }
        }
    }
    Ok(())
}

fn write_synth(
    dir: &Path,
    id: &str,
    parents: &[String],
    i: usize,
    start: jiff::Timestamp,
) -> anyhow::Result<()> {
    let rev_dir = dir.join(format!("{id}_bench"));
    std::fs::create_dir_all(&rev_dir)?;
    let parents_toml = parents
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let created = start.checked_add(jiff::SignedDuration::from_secs(i as i64))?;
    std::fs::write(
        rev_dir.join("revision.toml"),
        format!(
            "id = \"{id}\"\nparents = [{parents_toml}]\nmessage = \"bench {i}\"\ncreated = {created}\n"
        ),
    )?;
    std::fs::write(
        rev_dir.join("up.sql"),
        format!(
            "CREATE TABLE t_{id} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);\n"
        ),
    )?;
    std::fs::write(rev_dir.join("down.sql"), format!("DROP TABLE t_{id};\n"))?;
    Ok(())
}

/// Postgres and MariaDB: a fresh database per run (dropped and created by `--prepare` with the
/// servers' own clients), Braid per migration against the plain client loop.
fn bench_servers(
    bin: &Path,
    work: &Path,
    migrations: &Path,
    args: &BenchArgs,
) -> anyhow::Result<String> {
    let [pg, my] = server_backends();
    // The same runs without waiting for the WAL flush at each commit (a session setting in the
    // URL, read by Braid and the floor alike): what is left is the client's own overhead, which
    // the shared disk's fsync latency otherwise drowns.
    let pg_async = Backend {
        name: "Postgres (synchronous_commit=off)",
        url: format!("{}?options=-c%20synchronous_commit%3Doff", pg.url),
        prepare: pg.prepare.clone(),
    };
    let backends = [pg, pg_async, my].map(|b| (b.name, b.url, b.prepare));
    let bin_q = shell_quote(bin);
    let mut report = String::new();
    for (name, url, prepare) in backends {
        let config = work.join(format!("bench-{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "[default]\nmigrations = {:?}\n[default.databases.bench]\nurl = {url:?}\n",
                migrations.display().to_string()
            ),
        )?;
        eprintln!("{name}: 1 000 revisions, alternating runs");
        let _ = work;
        let results = alternate(
            &prepare,
            args.runs.clamp(2, 6),
            &[
                (
                    &format!("floor: {name} client, commit per migration"),
                    format!("{bin_q} bench floor {} '{url}'", shell_quote(migrations)),
                ),
                (
                    "braid --transaction per-migration",
                    format!(
                        "{bin_q} migrate --config {} upgrade heads",
                        shell_quote(&config)
                    ),
                ),
            ],
        )?;
        report.push_str(&table(
            &format!(
                "{name}: upgrade a fresh database through {} revisions, one transaction per migration (median of {} alternating runs)",
                args.count,
                args.runs.clamp(2, 6)
            ),
            &results,
            0,
        ));
    }
    Ok(report)
}

/// A server database the benchmarks migrate, and the shell command that makes it fresh.
struct Backend {
    name: &'static str,
    url: String,
    prepare: String,
}

/// `braid_bench` on the test servers (BRAID_TEST_POSTGRES_URL / BRAID_TEST_MYSQL_URL, defaults
/// as in the tests), dropped and created again by `prepare` with the servers' own clients.
fn server_backends() -> [Backend; 2] {
    let pg = std::env::var("BRAID_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let my = std::env::var("BRAID_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
    let db = "braid_bench";
    let with_db = |url: &str| match url.rfind('/') {
        Some(i) => format!("{}/{db}", &url[..i]),
        None => url.to_string(),
    };
    [
        Backend {
            name: "Postgres",
            url: with_db(&pg),
            prepare: format!(
                "psql -q -h 127.0.0.1 -U postgres -d postgres -c 'DROP DATABASE IF EXISTS {db} WITH (FORCE)' -c 'CREATE DATABASE {db}'"
            ),
        },
        Backend {
            name: "MariaDB",
            url: with_db(&my),
            prepare: format!(
                "mysql -h 127.0.0.1 -u root -e 'DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}'"
            ),
        },
    ]
}

/// How many revisions `bench verify` walks: each is upgraded, downgraded and upgraded again
/// with a schema snapshot after each, so a tenth of the upgrade benchmarks' history.
const VERIFY_REVISIONS: usize = 100;

/// `verify` against `upgrade` of the same revisions on each backend, alternating: what proving
/// a history costs next to applying it. Two histories of the same revisions: one line (the
/// walk alone: up, down and up again of each), and one with a side branch and a merge every
/// 50 (the walk, plus each merge's branches applied in their other order on a scratch database
/// of its own). `verify` makes and drops its own scratch databases (on the same server), so its
/// time includes that; `upgrade` gets a fresh database from `prepare`.
fn bench_verify(bin: &Path, work: &Path, args: &BenchArgs) -> anyhow::Result<String> {
    let line = work.join("migrations-verify-line");
    let merges = work.join("migrations-verify");
    for (dir, linear) in [(&line, true), (&merges, false)] {
        if !dir.exists() {
            let mut synth = Command::new(bin);
            synth.args(["bench", "--count", &VERIFY_REVISIONS.to_string(), "synth"]);
            if linear {
                synth.arg("--linear");
            }
            run_checked(synth.arg(dir))?;
        }
    }
    let sqlite_file = work.join("verify-upgrade.db");
    let sqlite = Backend {
        name: "SQLite",
        url: format!("sqlite://{}", sqlite_file.display()),
        prepare: format!("rm -f {}*", shell_quote(&sqlite_file)),
    };
    let [pg, my] = server_backends();
    let bin_q = shell_quote(bin);
    let runs = args.runs.clamp(2, 6);
    let mut report = String::new();
    for backend in [sqlite, pg, my] {
        let config = |name: &str, migrations: &Path| -> anyhow::Result<PathBuf> {
            let config = work.join(format!("bench-verify-{}-{name}.toml", backend.name));
            std::fs::write(
                &config,
                format!(
                    "[default]\nmigrations = {:?}\n[default.databases.bench]\nurl = {:?}\n",
                    migrations.display().to_string(),
                    backend.url
                ),
            )?;
            Ok(config)
        };
        let (line_config, merges_config) = (config("line", &line)?, config("merges", &merges)?);
        eprintln!(
            "{}: verify {VERIFY_REVISIONS} revisions, alternating runs",
            backend.name
        );
        let run = |config: &Path, command: &str| {
            format!("{bin_q} migrate --config {} {command}", shell_quote(config))
        };
        let results = alternate(
            &backend.prepare,
            runs,
            &[
                ("braid upgrade heads", run(&line_config, "upgrade heads")),
                ("braid verify, one line", run(&line_config, "verify")),
                ("braid verify, two merges", run(&merges_config, "verify")),
            ],
        )?;
        report.push_str(&table(
            &format!(
                "{}: verify {VERIFY_REVISIONS} revisions against upgrading them (median of {runs} alternating runs)",
                backend.name
            ),
            &results,
            0,
        ));
    }
    Ok(report)
}

/// The floor Braid is measured against: what a hand-written loop would do — read each up.sql in
/// order, run it and insert the version row, with a commit per migration (or one for all). No
/// lock, no checksum, no validation, no events. On MySQL every DDL statement commits by itself,
/// so the loop runs the statement and then the row, each committing, as Braid must.
fn floor(dir: &Path, url: &str, single_transaction: bool) -> anyhow::Result<()> {
    let graph = braid_source::load(dir)?;
    let scripts: Vec<(String, String)> = graph
        .in_order()
        .filter_map(|rev| match &rev.body {
            braid::Body::Sql { dir, .. } => Some((rev.id.clone(), dir.join("up.sql"))),
            _ => None,
        })
        .map(|(id, path)| Ok((id, std::fs::read_to_string(path)?)))
        .collect::<std::io::Result<_>>()?;
    let insert = |p: &str| {
        format!(
            "INSERT INTO braid_version (revision, checksum, applied_at, duration_ms, applied_by) VALUES ({p}1, {p}2, {p}3, {p}4, {p}5)"
        )
    };
    let create = "CREATE TABLE IF NOT EXISTS braid_version (revision VARCHAR(64) PRIMARY KEY, checksum VARCHAR(80) NOT NULL, \
                  applied_at VARCHAR(40) NOT NULL, duration_ms BIGINT NOT NULL, applied_by VARCHAR(255) NOT NULL)";
    if let Some(path) = url.strip_prefix("sqlite://") {
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch(&format!("PRAGMA foreign_keys = ON; {create};"))?;
        let insert = insert("?");
        if single_transaction {
            conn.execute_batch("BEGIN")?;
        }
        for (id, sql) in &scripts {
            let started = std::time::Instant::now();
            if !single_transaction {
                conn.execute_batch("BEGIN")?;
            }
            conn.execute_batch(sql)?;
            conn.execute(
                &insert,
                rusqlite::params![
                    id,
                    "",
                    jiff::Timestamp::now().to_string(),
                    started.elapsed().as_millis() as i64,
                    "bench"
                ],
            )?;
            if !single_transaction {
                conn.execute_batch("COMMIT")?;
            }
        }
        if single_transaction {
            conn.execute_batch("COMMIT")?;
        }
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if url.starts_with("postgres") {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            client.batch_execute(create).await?;
            let insert = client.prepare(&insert("$")).await?;
            for (id, sql) in &scripts {
                let started = std::time::Instant::now();
                client.batch_execute("BEGIN").await?;
                client.batch_execute(sql).await?;
                let ms = started.elapsed().as_millis() as i64;
                let at = jiff::Timestamp::now().to_string();
                client
                    .execute(&insert, &[id, &"", &at, &ms, &"bench"])
                    .await?;
                client.batch_execute("COMMIT").await?;
            }
        } else {
            use mysql_async::prelude::Queryable;
            let mut conn = mysql_async::Conn::new(mysql_async::Opts::from_url(url)?).await?;
            conn.query_drop(create).await?;
            let insert = insert("?")
                .replace("?1", "?")
                .replace("?2", "?")
                .replace("?3", "?")
                .replace("?4", "?")
                .replace("?5", "?");
            for (id, sql) in &scripts {
                let started = std::time::Instant::now();
                conn.query_drop(sql.as_str()).await?;
                let ms = started.elapsed().as_millis() as i64;
                let at = jiff::Timestamp::now().to_string();
                conn.exec_drop(insert.as_str(), (id.as_str(), "", at, ms, "bench"))
                    .await?;
            }
            conn.disconnect().await?;
        }
        anyhow::Ok(())
    })
}

/// Clean debug builds of the adopter example with the smallest and the full feature set, and
/// the incremental build that follows `generate --rust` in the full one.
fn bench_adopter(args: &BenchArgs) -> anyhow::Result<String> {
    let root = workspace_root()?;
    let work = match &args.work_dir {
        Some(dir) => dir.clone(),
        None => tempdir()?,
    };
    let crates = root.join("crates").display().to_string();
    let copy = |name: &str, features: &str, rust: bool| -> anyhow::Result<PathBuf> {
        let dest = work.join(name);
        let _ = std::fs::remove_dir_all(&dest);
        run_checked(
            Command::new("cp")
                .arg("-r")
                .arg(root.join("examples/adopter"))
                .arg(&dest),
        )?;
        for manifest in ["app/Cargo.toml", "xtask/Cargo.toml"] {
            let path = dest.join(manifest);
            let text = std::fs::read_to_string(&path)?
                .replace("../../../crates", &crates)
                .replace(
                    "features = [\"sqlite\", \"postgres\", \"mysql\", \"rust\"]",
                    features,
                );
            std::fs::write(&path, text)?;
        }
        if !rust {
            std::fs::remove_dir_all(dest.join("migrations/8b2e4f6a1c30_create_orders"))?;
            std::fs::write(dest.join("xtask/build.rs"), "fn main() {}\n")?;
            let main = dest.join("xtask/src/main.rs");
            let text = std::fs::read_to_string(&main)?
                .replace("braid::rust_revisions!()", "braid::RustRevisions::new()");
            std::fs::write(&main, text)?;
        }
        Ok(dest)
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let timed = |dir: &Path, args: &[&str]| -> anyhow::Result<f64> {
        let started = std::time::Instant::now();
        run_checked(
            Command::new(&cargo)
                .args(args)
                .current_dir(dir)
                .env("CARGO_TARGET_DIR", dir.join("target")),
        )?;
        Ok(started.elapsed().as_secs_f64())
    };
    let small = copy("adopter-small", "features = [\"postgres\"]", false)?;
    let full = copy(
        "adopter-full",
        "features = [\"sqlite\", \"postgres\", \"mysql\", \"plugins\", \"rust\"]",
        true,
    )?;
    eprintln!("clean build, smallest feature set…");
    let small_secs = timed(&small, &["build", "--workspace"])?;
    eprintln!("clean build, every feature…");
    let full_secs = timed(&full, &["build", "--workspace"])?;
    timed(&full, &["xtask", "migrate", "upgrade"])?;
    timed(
        &full,
        &["xtask", "migrate", "generate", "--rust", "-m", "one more"],
    )?;
    eprintln!("incremental build after generate --rust…");
    let incremental = timed(&full, &["xtask", "migrate", "upgrade"])?;
    let unchanged = timed(&full, &["xtask", "migrate", "upgrade"])?;
    let mut out = String::from("### The adopter example's builds (debug, on this machine)\n\n");
    let _ = writeln!(
        out,
        "| build | time |\n|---|---:|\n\
         | clean, smallest feature set (Postgres, SQL only) | {small_secs:.1} s |\n\
         | clean, every feature (three drivers, plugins, Rust revisions) | {full_secs:.1} s |\n\
         | ratio smallest / full | {:.2} |\n\
         | `generate --rust`, then `cargo xtask migrate upgrade` (rebuild + run) | {incremental:.1} s |\n\
         | `cargo xtask migrate upgrade` with nothing to rebuild | {unchanged:.2} s |",
        small_secs / full_secs
    );
    Ok(out)
}
