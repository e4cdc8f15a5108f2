//! Torture tests through the real binary.
//!
//! **Kill -9.** Each trial migrates a fresh database (a new SQLite file, a new Postgres or
//! MariaDB database: nothing carries over between trials) with `upgrade` and SIGKILLs the process
//! at a pseudo-random moment. `current -v` and `check` must then describe the database exactly:
//! every revision recorded as applied has all its effects, a revision with recorded statement
//! progress has exactly the statements the progress says ran, and no other revision has any
//! effect. A plain `upgrade` must then reach the head with every effect present exactly once.
//! Each of the [`REVISIONS`] revisions creates a table `t_<i>` and inserts one row `<i>` into
//! the shared table `marker` (created by the first), so every effect can be checked.
//!
//! **Racing runners.** Eight `upgrade` processes queue on the migration lock the test holds,
//! are released together, and must apply each revision exactly once between them.
//!
//! Settings (environment):
//! - `BRAID_TORTURE_TRIALS`: trials per backend (default [`TRIALS`]; the ignored `*_long`
//!   tests [`LONG_TRIALS`]).
//! - `BRAID_TORTURE_SEED`: the seed of the kill delays, decimal or `0x` hex (default: from the
//!   clock). Every failure prints the seed of its trial and the command line that replays it.
//! - `BRAID_TORTURE_SPAN_MS`: the delays are drawn from `0..=span` milliseconds after the
//!   process starts (default: the time one uninterrupted upgrade takes, measured first).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use braid_driver::{Dialect, Driver, Value};
use braid_tests::{MysqlTarget, PostgresTarget, SqliteTarget, TestDb, TestTarget};
use support::{Run, hold_lock, with_conn, with_db, xtask_bin};

/// Revisions in the kill -9 chain.
const REVISIONS: usize = 40;
/// Trials per backend by default (CI: three backends, about 30 trials in all).
const TRIALS: usize = 10;
/// Trials per backend of the ignored long variants.
const LONG_TRIALS: usize = 100;
/// How long a condition polled for (a process exit, sessions gone, runners waiting) may take.
const DEADLINE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// A tiny seeded generator (no `rand` here).

/// xorshift64*, seeded through splitmix64 so that nearby seeds give unrelated sequences.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift(if z == 0 { 1 } else { z })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..=max`.
    fn up_to(&mut self, max: u64) -> u64 {
        self.next_u64() % (max + 1)
    }
}

/// The seed of trial `trial` of a run seeded with `seed`. Trial 0's is `seed` itself, so
/// `BRAID_TORTURE_SEED=<a trial's seed> BRAID_TORTURE_TRIALS=1` replays that one trial.
fn trial_seed(seed: u64, trial: usize) -> u64 {
    seed.wrapping_add((trial as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|e| panic!("{name}={text}: not a number ({e})")))
}

fn seed() -> u64 {
    env_u64("BRAID_TORTURE_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (now.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
    })
}

fn trials(default: usize) -> usize {
    env_u64("BRAID_TORTURE_TRIALS").map_or(default, |n| n as usize)
}

// ---------------------------------------------------------------------------------------------
// Migrations and what each one does.

fn rev_id(i: usize) -> String {
    format!("r{i:02}")
}

/// One statement of a revision, by its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    MarkerTable,
    Table(usize),
    Marker(usize),
}

impl Effect {
    fn sql(self) -> String {
        match self {
            Effect::MarkerTable => "CREATE TABLE marker (rev INT NOT NULL)".into(),
            Effect::Table(i) => format!("CREATE TABLE t_{i} (id INT)"),
            Effect::Marker(i) => format!("INSERT INTO marker (rev) VALUES ({i})"),
        }
    }
}

/// The statements of revision `i`, in order.
fn effects(i: usize) -> Vec<Effect> {
    let mut out = Vec::new();
    if i == 0 {
        out.push(Effect::MarkerTable);
    }
    out.extend([Effect::Table(i), Effect::Marker(i)]);
    out
}

/// Writes a revision directory.
fn revision(dir: &Path, i: usize, parent: Option<usize>, files: &[(&str, String)]) {
    let id = rev_id(i);
    let rev = dir.join(&id);
    std::fs::create_dir_all(&rev).unwrap();
    let parents = parent.map_or(String::new(), |p| format!("\"{}\"", rev_id(p)));
    std::fs::write(
        rev.join("revision.toml"),
        format!(
            "id = \"{id}\"\nparents = [{parents}]\nmessage = \"step {i}\"\ncreated = 2026-01-01T00:{:02}:{:02}Z\n",
            i / 60,
            i % 60
        ),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(rev.join(name), text).unwrap();
    }
}

/// `count` revisions in a line, revision `i` running [`effects`]`(i)` and then `extra` (a
/// statement per dialect file: `(file name, statement)`).
fn chain(dir: &Path, count: usize, extra: &[(&str, &str)]) {
    for i in 0..count {
        let body: String = effects(i)
            .iter()
            .map(|e| format!("{};\n", e.sql()))
            .collect();
        let mut down = format!("DELETE FROM marker WHERE rev = {i};\nDROP TABLE t_{i};\n");
        if i == 0 {
            down.push_str("DROP TABLE marker;\n");
        }
        let mut files = vec![("down.sql", down)];
        if extra.is_empty() {
            files.push(("up.sql", body.clone()));
        }
        for (file, statement) in extra {
            files.push((file, format!("{body}{statement};\n")));
        }
        revision(dir, i, i.checked_sub(1), &files);
    }
}

fn config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("braid.toml");
    std::fs::write(
        &path,
        format!("[default]\nlock_timeout_secs = 60\n[default.databases.db]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    path
}

/// `xtask migrate --migrations <m> --config <cfg> <args…>`, isolated from the caller's BRAID_*
/// environment (this file's BRAID_TORTURE_* would be unknown config keys to it).
fn command(m: &Path, cfg: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(xtask_bin());
    cmd.arg("migrate")
        .arg("--migrations")
        .arg(m)
        .arg("--config")
        .arg(cfg)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("BRAID_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Kills (SIGKILL) and reaps the children still running when dropped, so a failing test leaves
/// no process behind.
struct Children(Vec<Option<Child>>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in self.0.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Looking at a database directly.

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        Value::Text(s) => s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")),
        other => panic!("not a number: {other:?}"),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("not text: {other:?}"),
    }
}

/// What a database holds: its user tables (Braid's own left out) and, when `marker` exists,
/// how many marker rows each revision number has.
#[derive(Debug)]
struct Observed {
    tables: BTreeSet<String>,
    markers: Option<BTreeMap<i64, usize>>,
}

fn observe(db: &TestDb) -> Observed {
    let sql = match db.dialect {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Dialect::Postgres => "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
        Dialect::Mysql => {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    };
    with_conn(&db.url, async |d: &mut dyn Driver| {
        let tables: BTreeSet<String> = d
            .query(sql, &[])
            .await
            .unwrap()
            .rows
            .iter()
            .map(|r| text(&r[0]))
            .filter(|n| !n.starts_with("braid_version"))
            .collect();
        let markers = if tables.contains("marker") {
            let mut counts = BTreeMap::new();
            for row in d.query("SELECT rev FROM marker", &[]).await.unwrap().rows {
                *counts.entry(int(&row[0])).or_insert(0) += 1;
            }
            Some(counts)
        } else {
            None
        };
        Observed { tables, markers }
    })
}

/// Client sessions connected to the database (`None` for SQLite, which has no server).
fn sessions(db: &TestDb) -> Option<i64> {
    let sql = match db.dialect {
        Dialect::Sqlite => return None,
        Dialect::Postgres => {
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
        }
        Dialect::Mysql => {
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()"
        }
    };
    Some(with_conn(&db.url, async |d: &mut dyn Driver| {
        int(&d.query(sql, &[]).await.unwrap().rows[0][0])
    }))
}

/// Waits until the sessions of a killed process are gone from the server: a server finishes the
/// statement in flight (and may commit it) before it notices that its client died, so the
/// database is not settled until then.
fn wait_for_sessions(db: &TestDb, baseline: Option<i64>) -> Result<(), String> {
    let Some(baseline) = baseline else {
        return Ok(());
    };
    let deadline = Instant::now() + DEADLINE;
    loop {
        let now = sessions(db).unwrap();
        if now <= baseline {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the killed process's sessions never went away ({now} sessions, {baseline} \
                 before it started)"
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------------
// Kill -9 torture.

/// What the version store says of one revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    Nothing,
    /// Statement progress: `done` statements ran; with `started`, the next one was recorded as
    /// started and not as finished (`statement_started`): whether it took effect is in doubt,
    /// and either outcome is a true description.
    Partial {
        done: usize,
        started: bool,
    },
    Applied,
}

/// Reads `current -v --format json` into one [`Recorded`] per revision, checking the JSON's
/// own consistency on the way. Returns the problems found.
fn recorded_from(current: &serde_json::Value, problems: &mut Vec<String>) -> Vec<Recorded> {
    let mut recorded = vec![Recorded::Nothing; REVISIONS];
    let db = &current["databases"][0];
    if db["status"] != "ok" {
        problems.push(format!(
            "`current -v` reports status {}: {}",
            db["status"], db["error"]
        ));
    }
    let Some(rows) = db["rows"].as_array() else {
        problems.push("`current -v` has no `rows`".into());
        return recorded;
    };
    for row in rows {
        let rev = row["revision"].as_str().unwrap_or("?");
        let Some(i) = (0..REVISIONS).find(|&i| rev_id(i) == rev) else {
            problems.push(format!(
                "a version row for `{rev}`, which is no revision here"
            ));
            continue;
        };
        if recorded[i] != Recorded::Nothing {
            problems.push(format!("two version rows for `{rev}`"));
        }
        recorded[i] = match &row["partial"] {
            serde_json::Value::Null => Recorded::Applied,
            p => {
                let total = effects(i).len();
                let done = p["statements_done"].as_u64().unwrap_or(u64::MAX) as usize;
                if p["statements_total"].as_u64() != Some(total as u64) {
                    problems.push(format!(
                        "`{rev}` has {total} statements; its progress says {}",
                        p["statements_total"]
                    ));
                }
                if done > total {
                    problems.push(format!(
                        "`{rev}`: progress {p} beyond its {total} statements"
                    ));
                }
                let started = match &p["statement_started"] {
                    serde_json::Value::Null => false,
                    k if k.as_u64() == Some(done as u64 + 1) && done < total => true,
                    k => {
                        problems.push(format!(
                            "`{rev}`: statement {k} recorded as started after {done} done"
                        ));
                        false
                    }
                };
                Recorded::Partial {
                    done: done.min(total),
                    started,
                }
            }
        };
    }
    recorded
}

/// Compares what the store says with what the database holds; one line per revision that
/// differs, saying what was recorded and what is there.
fn compare(recorded: &[Recorded], seen: &Observed, problems: &mut Vec<String>) {
    let present = |e: Effect| -> usize {
        match e {
            Effect::MarkerTable => usize::from(seen.markers.is_some()),
            Effect::Table(i) => usize::from(seen.tables.contains(&format!("t_{i}"))),
            Effect::Marker(i) => seen
                .markers
                .as_ref()
                .map_or(0, |m| m.get(&(i as i64)).copied().unwrap_or(0)),
        }
    };
    for (i, r) in recorded.iter().enumerate() {
        let all = effects(i);
        let (n, in_doubt, says) = match *r {
            Recorded::Nothing => (0, false, "nothing recorded".to_string()),
            Recorded::Partial { done, started } => (
                done,
                started,
                format!(
                    "progress: {done} of {} statements{}",
                    all.len(),
                    if started {
                        format!(", statement {} started", done + 1)
                    } else {
                        String::new()
                    }
                ),
            ),
            Recorded::Applied => (all.len(), false, "recorded applied".to_string()),
        };
        let counts: Vec<usize> = all.iter().map(|&e| present(e)).collect();
        // Statements before `n` ran once, a statement in doubt ran once or not at all, the
        // others did not run. Without the marker table marker rows cannot be seen: r00's own
        // record decides (i > 0 checks only its table).
        let fits = counts.iter().enumerate().all(|(k, &c)| {
            let unseen = i > 0 && seen.markers.is_none() && k > 0;
            unseen || c == usize::from(k < n) || (in_doubt && k == n && c <= 1)
        });
        if fits {
            continue;
        }
        let what: Vec<String> = all
            .iter()
            .zip(&counts)
            .map(|(e, c)| {
                format!(
                    "`{}` {}",
                    e.sql(),
                    match c {
                        0 => "absent".to_string(),
                        1 => "present".to_string(),
                        c => format!("present {c} times"),
                    }
                )
            })
            .collect();
        let ahead: Vec<usize> = (0..all.len()).map(|k| usize::from(k <= n)).collect();
        let hint = if counts == ahead {
            format!(
                " -- statement {} of {} took effect but is not recorded: the kill came after \
                 the server ran it, or while it ran (a server finishes the statement of a \
                 client that died), and before its bookkeeping",
                n + 1,
                all.len()
            )
        } else {
            String::new()
        };
        problems.push(format!("{} ({says}): {}{hint}", rev_id(i), what.join(", ")));
    }
    for table in &seen.tables {
        let known = table == "marker" || (0..REVISIONS).any(|i| *table == format!("t_{i}"));
        if !known {
            problems.push(format!("an unexpected table `{table}`"));
        }
    }
    if let Some(markers) = &seen.markers {
        for rev in markers.keys() {
            if !(0..REVISIONS as i64).contains(rev) {
                problems.push(format!("a marker row {rev} of no revision"));
            }
        }
    }
}

/// The problems with the shape of the recorded state: one runner on a line of revisions leaves
/// applied revisions `0..k`, then at most one with progress (`k`), on a backend whose
/// migrations run in transactions none.
fn check_shape(recorded: &[Recorded], dialect: Dialect, problems: &mut Vec<String>) {
    let applied = recorded
        .iter()
        .take_while(|r| **r == Recorded::Applied)
        .count();
    let rest = &recorded[applied..];
    let after = match rest.first() {
        Some(Recorded::Partial { .. }) => &rest[1..],
        _ => rest,
    };
    if after.iter().any(|r| *r != Recorded::Nothing) {
        problems.push(format!(
            "not a prefix of the line: applied r00..{}, then {rest:?}",
            if applied == 0 {
                "(none)".to_string()
            } else {
                rev_id(applied - 1)
            }
        ));
    }
    if dialect != Dialect::Mysql
        && recorded
            .iter()
            .any(|r| matches!(r, Recorded::Partial { .. }))
    {
        problems.push(
            "statement progress recorded, but every migration here runs in a transaction".into(),
        );
    }
}

/// What `check --format json` must say of `recorded`: its exit code, `pending` and `partial`.
fn check_check(run: &Run, recorded: &[Recorded], problems: &mut Vec<String>) {
    let partial: Vec<String> = (0..REVISIONS)
        .filter(|&i| matches!(recorded[i], Recorded::Partial { .. }))
        .map(rev_id)
        .collect();
    let pending: Vec<String> = (0..REVISIONS)
        .filter(|&i| recorded[i] != Recorded::Applied)
        .map(rev_id)
        .collect();
    let code = if !partial.is_empty() {
        7
    } else if !pending.is_empty() {
        4
    } else {
        0
    };
    if run.code != code {
        problems.push(format!(
            "`check` exits {}, expected {code}; stderr: {}",
            run.code,
            run.stderr.trim()
        ));
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&run.stdout) else {
        problems.push(format!("`check` printed no JSON: {}", run.stdout));
        return;
    };
    let status = &json["databases"][0]["check"];
    let list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    if list(&status["pending"]) != pending {
        problems.push(format!(
            "`check` says pending {}, expected {pending:?}",
            status["pending"]
        ));
    }
    if list(&status["partial"]) != partial {
        problems.push(format!(
            "`check` says partial {}, expected {partial:?}",
            status["partial"]
        ));
    }
}

/// The migrations directory of the kill -9 tests (one per test binary run).
fn kill_migrations() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        chain(dir.path(), REVISIONS, &[]);
        dir
    })
    .path()
}

/// One uninterrupted upgrade of a fresh database: checks that it applies everything, and
/// returns how long the process ran.
fn calibrate<T: TestTarget>() -> Option<Duration> {
    let mut took = None;
    with_db::<T>(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = config(tmp.path(), &db.url);
        let m = kill_migrations();
        // Warm up: the first start of the binary reads it from disk.
        let warm: Run = command(m, &cfg, &["heads"]).output().unwrap().into();
        warm.ok();
        let t0 = Instant::now();
        let run: Run = command(m, &cfg, &["--format", "json", "upgrade"])
            .output()
            .unwrap()
            .into();
        took = Some(t0.elapsed());
        let json = run.ok().json();
        assert_eq!(
            json["databases"][0]["applied"].as_array().map(Vec::len),
            Some(REVISIONS),
            "[{}] {json}",
            db.target
        );
        let mut problems = Vec::new();
        compare(&[Recorded::Applied; REVISIONS], &observe(db), &mut problems);
        assert!(problems.is_empty(), "[{}] {problems:#?}", db.target);
    });
    took
}

fn torture<T: TestTarget>(default_trials: usize) {
    let trials = trials(default_trials);
    let seed = seed();
    let Some(measured) = calibrate::<T>() else {
        return; // skipped: the server is unreachable
    };
    let span = env_u64("BRAID_TORTURE_SPAN_MS").unwrap_or(measured.as_millis() as u64);
    eprintln!(
        "[{}] kill -9 torture: {trials} trials, seed {seed:#x}, delays in 0..={span} ms (one \
         uninterrupted upgrade took {} ms)",
        T::NAME,
        measured.as_millis()
    );
    let (mut killed, mut failures) = (0, Vec::new());
    for trial in 0..trials {
        let seed = trial_seed(seed, trial);
        let delay = Duration::from_millis(XorShift::new(seed).up_to(span));
        let context = format!(
            "[{}] trial {}/{trials}, seed {seed:#x}: SIGKILL {} ms after the start (replay: \
             BRAID_TORTURE_SEED={seed:#x} BRAID_TORTURE_TRIALS=1 BRAID_TORTURE_SPAN_MS={span})",
            T::NAME,
            trial + 1,
            delay.as_millis()
        );
        with_db::<T>(|db| match kill_trial(db, delay) {
            Ok(was_killed) => killed += usize::from(was_killed),
            Err(failure) => {
                killed += 1;
                eprintln!("{context}: FAILED");
                failures.push(format!("{context}\n{failure}"));
            }
        });
    }
    eprintln!(
        "[{}] {killed} of {trials} runs were killed before they finished; {} trial(s) failed",
        T::NAME,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {trials} kill -9 trials failed (run seed {seed:#x}):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// One trial: `Ok(whether the process was killed before it finished)`, or what went wrong.
fn kill_trial(db: &mut TestDb, delay: Duration) -> Result<bool, String> {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), &db.url);
    let m = kill_migrations();
    let baseline = sessions(db);
    let mut child = command(m, &cfg, &["upgrade"]).spawn().unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL; a no-op if it has already exited
    let out = child.wait_with_output().unwrap();
    let was_killed = out.status.code().is_none();
    let killed_run = Run::from(out);
    let how = format!(
        "the run was {}; its stderr: {:?}",
        if was_killed {
            "killed"
        } else {
            "already finished"
        },
        killed_run.stderr.trim()
    );
    wait_for_sessions(db, baseline).map_err(|e| format!("{how}\n{e}"))?;

    // `current -v` and `check` describe the database exactly.
    let current_run: Run = command(m, &cfg, &["--format", "json", "current", "-v"])
        .output()
        .unwrap()
        .into();
    let mut problems = Vec::new();
    if current_run.code != 0 {
        problems.push(format!(
            "`current -v` exits {}: {}",
            current_run.code,
            current_run.stderr.trim()
        ));
    }
    let current: serde_json::Value =
        serde_json::from_str(&current_run.stdout).unwrap_or(serde_json::Value::Null);
    let recorded = recorded_from(&current, &mut problems);
    check_shape(&recorded, db.dialect, &mut problems);
    let applied = recorded
        .iter()
        .take_while(|r| **r == Recorded::Applied)
        .count();
    let heads = match applied {
        0 => serde_json::json!([]),
        n => serde_json::json!([rev_id(n - 1)]),
    };
    if current["databases"][0]["current"] != heads {
        problems.push(format!(
            "`current` says heads {}, expected {heads}",
            current["databases"][0]["current"]
        ));
    }
    let check: Run = command(m, &cfg, &["--format", "json", "check"])
        .output()
        .unwrap()
        .into();
    check_check(&check, &recorded, &mut problems);
    compare(&recorded, &observe(db), &mut problems);
    let state = describe(&recorded);
    let mut failure = String::new();
    if !problems.is_empty() {
        let _ = write!(
            failure,
            "{how}\nafter the kill, `current -v` and `check` say: {state}; but\n  {}\n",
            problems.join("\n  ")
        );
    }

    // A plain `upgrade` finishes the job, applying each remaining revision once.
    let up: Run = command(m, &cfg, &["--format", "json", "upgrade"])
        .output()
        .unwrap()
        .into();
    if up.code != 0 {
        let error = serde_json::from_str::<serde_json::Value>(&up.stdout)
            .ok()
            .and_then(|j| j["databases"][0]["error"].as_str().map(String::from))
            .unwrap_or_else(|| format!("stdout: {} stderr: {}", up.stdout, up.stderr));
        let _ = write!(
            failure,
            "the `upgrade` after the kill (state: {state}) exits {}: {error}",
            up.code
        );
        return Err(failure);
    }
    let mut problems = Vec::new();
    let up = up.json();
    let ran: Vec<String> = up["databases"][0]["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["revision"].as_str().unwrap().to_string())
        .collect();
    let remaining: Vec<String> = (applied..REVISIONS).map(rev_id).collect();
    if ran != remaining {
        problems.push(format!(
            "it applied {ran:?}, expected exactly what was left: {remaining:?}"
        ));
    }
    let head = serde_json::json!([rev_id(REVISIONS - 1)]);
    if up["databases"][0]["current"] != head {
        problems.push(format!(
            "it ends at {}, not at the head",
            up["databases"][0]["current"]
        ));
    }
    compare(&[Recorded::Applied; REVISIONS], &observe(db), &mut problems);
    let check: Run = command(m, &cfg, &["check"]).output().unwrap().into();
    if check.code != 0 {
        problems.push(format!(
            "`check` then exits {}: {}{}",
            check.code, check.stdout, check.stderr
        ));
    }
    if !problems.is_empty() {
        let _ = write!(
            failure,
            "after the `upgrade` that followed the kill (state after the kill: {state}), every \
             migration's effect must be there exactly once, but\n  {}",
            problems.join("\n  ")
        );
    }
    if failure.is_empty() {
        Ok(was_killed)
    } else {
        Err(failure)
    }
}

/// The recorded state, short: `applied r00..r12, r13 progress 1 of 2`.
fn describe(recorded: &[Recorded]) -> String {
    let applied = recorded
        .iter()
        .take_while(|r| **r == Recorded::Applied)
        .count();
    let mut out = match applied {
        0 => "nothing applied".to_string(),
        n => format!("applied r00..{}", rev_id(n - 1)),
    };
    for (i, r) in recorded.iter().enumerate().skip(applied) {
        match r {
            Recorded::Nothing => {}
            Recorded::Partial { done, started } => {
                let _ = write!(
                    out,
                    ", {} progress {done} of {}",
                    rev_id(i),
                    effects(i).len()
                );
                if *started {
                    let _ = write!(out, " (statement {} started)", done + 1);
                }
            }
            Recorded::Applied => {
                let _ = write!(out, ", {} applied", rev_id(i));
            }
        }
    }
    out
}

#[test]
fn kill_9_torture_on_sqlite() {
    torture::<SqliteTarget>(TRIALS);
}

#[test]
fn kill_9_torture_on_postgres() {
    torture::<PostgresTarget>(TRIALS);
}

#[test]
fn kill_9_torture_on_mariadb() {
    torture::<MysqlTarget>(TRIALS);
}

#[test]
#[ignore = "long: a hundred trials per backend"]
fn kill_9_torture_long_on_sqlite() {
    torture::<SqliteTarget>(LONG_TRIALS);
}

#[test]
#[ignore = "long: a hundred trials per backend"]
fn kill_9_torture_long_on_postgres() {
    torture::<PostgresTarget>(LONG_TRIALS);
}

#[test]
#[ignore = "long: a hundred trials per backend"]
fn kill_9_torture_long_on_mariadb() {
    torture::<MysqlTarget>(LONG_TRIALS);
}

// ---------------------------------------------------------------------------------------------
// Racing runners.

/// Runners released together.
const RUNNERS: usize = 8;
/// Revisions of the race, each sleeping on the server so the runners really contend.
const RACE_REVISIONS: usize = 5;

/// What a runner that had to wait for the migration lock says about it, in its `notes` (JSON)
/// or on stderr. Adjust here if the notice's wording changes.
fn reports_waiting(run: &Run, json: &serde_json::Value) -> bool {
    const WORD: &str = "waiting";
    let in_notes = json["databases"][0]["notes"]
        .as_array()
        .is_some_and(|notes| {
            notes
                .iter()
                .filter_map(|n| n.as_str())
                .any(|n| n.to_lowercase().contains(WORD))
        });
    in_notes || run.stderr.to_lowercase().contains(WORD)
}

/// Holds the lock, starts [`RUNNERS`] upgrades, waits until `waiting` (a count query) sees all
/// of them waiting for the lock on the server, releases it, and checks that exactly one applied
/// everything, once.
fn race(db: &mut TestDb, waiting: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("migrations");
    chain(
        &m,
        RACE_REVISIONS,
        &[
            ("up.sql", "SELECT pg_sleep(0.2)"),
            ("up.mysql.sql", "DO SLEEP(0.2)"),
        ],
    );
    let cfg = config(tmp.path(), &db.url);
    let release = hold_lock(&db.url);
    let mut children = Children(
        (0..RUNNERS)
            .map(|_| {
                Some(
                    command(&m, &cfg, &["--format", "json", "upgrade"])
                        .spawn()
                        .unwrap(),
                )
            })
            .collect(),
    );
    let deadline = Instant::now() + DEADLINE;
    loop {
        let now = with_conn(&db.url, async |d: &mut dyn Driver| {
            int(&d.query(waiting, &[]).await.unwrap().rows[0][0])
        });
        if now >= RUNNERS as i64 {
            break;
        }
        for slot in children.0.iter_mut() {
            if let Some(status) = slot.as_mut().and_then(|c| c.try_wait().unwrap()) {
                let run: Run = slot.take().unwrap().wait_with_output().unwrap().into();
                panic!(
                    "[{}] a runner exited ({status}) while the test held the migration lock \
                     (support::hold_lock): do the two take the same lock key?\nstdout: \
                     {}\nstderr: {}",
                    db.target, run.stdout, run.stderr
                );
            }
        }
        assert!(
            Instant::now() < deadline,
            "[{}] the {RUNNERS} runners never all waited for the lock ({now} seen waiting)",
            db.target
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    release.send(()).unwrap();

    // Every runner exits, in time.
    let mut runs: Vec<Run> = Vec::new();
    for slot in children.0.iter_mut() {
        let mut child = slot.take().unwrap();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() >= deadline {
                *slot = Some(child);
                panic!("[{}] a runner did not finish in time", db.target);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        runs.push(child.wait_with_output().unwrap().into());
    }
    let mut applied: Vec<usize> = Vec::new();
    let mut jsons = Vec::new();
    for (k, run) in runs.iter().enumerate() {
        assert_eq!(
            run.code, 0,
            "[{}] runner {k} failed\nstdout: {}\nstderr: {}",
            db.target, run.stdout, run.stderr
        );
        let json = run.json();
        applied.push(json["databases"][0]["applied"].as_array().unwrap().len());
        jsons.push(json);
    }
    let mut sorted = applied.clone();
    sorted.sort();
    let mut expected = vec![0; RUNNERS];
    expected[RUNNERS - 1] = RACE_REVISIONS;
    assert_eq!(
        sorted, expected,
        "[{}] exactly one runner applies the revisions, the others none (applied per runner: {applied:?})",
        db.target
    );

    // Each revision is recorded once and took effect once.
    let versions = with_conn(&db.url, async |d: &mut dyn Driver| {
        d.query("SELECT revision FROM braid_version", &[])
            .await
            .unwrap()
            .rows
            .iter()
            .map(|r| text(&r[0]))
            .collect::<Vec<_>>()
    });
    let mut versions_sorted = versions.clone();
    versions_sorted.sort();
    assert_eq!(
        versions_sorted,
        (0..RACE_REVISIONS).map(rev_id).collect::<Vec<_>>(),
        "[{}] one version row per revision",
        db.target
    );
    let seen = observe(db);
    let markers = seen.markers.clone().unwrap_or_default();
    assert_eq!(
        markers,
        (0..RACE_REVISIONS as i64).map(|i| (i, 1)).collect(),
        "[{}] each migration ran once (marker rows per revision)",
        db.target
    );
    for i in 0..RACE_REVISIONS {
        assert!(seen.tables.contains(&format!("t_{i}")), "{seen:?}");
    }
    let check: Run = command(&m, &cfg, &["check"]).output().unwrap().into();
    assert_eq!(
        check.code, 0,
        "[{}] `check` after the race: {}{}",
        db.target, check.stdout, check.stderr
    );

    // SPECIFIED (the lead's notice): every runner waited for the lock, and says so.
    let silent: Vec<usize> = (0..RUNNERS)
        .filter(|&k| !reports_waiting(&runs[k], &jsons[k]))
        .collect();
    assert!(
        silent.is_empty(),
        "[{}] every runner waited for the migration lock, but runners {silent:?} do not say \
         \"waiting\" in their JSON `notes` or on stderr; runner {}: notes {} stderr {:?}",
        db.target,
        silent[0],
        jsons[silent[0]]["databases"][0]["notes"],
        runs[silent[0]].stderr
    );
}

#[test]
fn eight_runners_released_together_on_postgres() {
    // Runners poll `pg_try_advisory_lock`; the test's own session, which holds the lock, is
    // left out.
    with_db::<PostgresTarget>(|db| {
        race(
            db,
            "SELECT count(*) FROM pg_stat_activity a WHERE a.datname = current_database() \
             AND a.query LIKE 'SELECT pg_try_advisory_lock(%' AND NOT EXISTS (SELECT 1 FROM \
             pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)",
        )
    });
}

#[test]
fn eight_runners_released_together_on_mariadb() {
    // Runners wait inside `GET_LOCK`.
    with_db::<MysqlTarget>(|db| {
        race(
            db,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() \
             AND INFO LIKE 'SELECT GET_LOCK%'",
        )
    });
}
