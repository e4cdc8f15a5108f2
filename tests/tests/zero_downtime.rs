//! The worked example's zero-downtime change (`migrations/zd1_…` to `zd4_…`: `plans.price_cents`
//! becomes `plans.price_minor`), deployed the way its README says — `upgrade --phase expand`,
//! the new release, `upgrade --phase contract` — through the real `cargo xtask` binary, while an
//! application keeps writing to `plans`, on SQLite, Postgres and MariaDB.
//!
//! The application is `zd_writer` (`tests/src/bin/zd_writer.rs`), a process of its own with a
//! connection of its own. **The bound on blocking is 5 seconds**: the writer's session waits at
//! most 5 s for any lock (Postgres `lock_timeout = '5s'`; MySQL/MariaDB `lock_wait_timeout = 5`
//! and `innodb_lock_wait_timeout = 5`; SQLite `busy_timeout` 5000 ms), so a statement the
//! migration blocks for longer fails, and the writer reports every failure. No time is measured
//! or asserted here: a wait beyond the bound shows up as a failed write.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use braid::Dialect;
use braid_driver::Driver;
use support::{Configured, copy_tree, each_backend, migrate_with, with_conn, xtask_bin};

/// The base the change starts from: the example's head before the `zd*` revisions.
const BASE: &str = "core3_merge_audit_billing";
const BACKFILL: &str = "zd3_plans_backfill_price_minor";
const CONTRACT: &str = "zd4_plans_drop_price_cents";
const EXPANDS: [&str; 3] = [
    "zd1_plans_price_minor",
    "zd2_plans_price_minor_index",
    BACKFILL,
];

/// Rows in `plans` before the change: 40 batches of the example's 500.
const SEEDED: u64 = 20_000;

/// How long any one wait on the writer or the database may take before the test gives up: a
/// guard against a hang, never a measurement.
const GIVE_UP: Duration = Duration::from_secs(180);

/// Expand, deploy, contract with the application writing all along: no write is blocked beyond
/// the bound or fails before the contract, and at the end every row the application wrote holds
/// its last price in `price_minor` and every other row its original price (the trigger and the
/// backfill together left nothing behind).
#[test]
fn expand_deploy_contract_while_the_application_writes() {
    each_backend(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project::new(tmp.path(), &db.url);
        project.migrate(&["upgrade", BASE]).ok();
        seed(db);

        let mut writer = Writer::start(&db.url);
        writer.wrote_more(50);

        // Expand: zd1–zd3 run while the old release writes only price_cents; zd4 waits.
        let before = writer.wrote;
        let expand = project
            .migrate(&["upgrade", "--phase", "expand", "--format", "json"])
            .ok()
            .json();
        writer.drain();
        assert!(
            writer.wrote > before,
            "[{}] the application wrote nothing while the expand ran",
            db.dialect
        );
        let result = &expand["databases"][0];
        assert_eq!(applied(result), EXPANDS, "[{}] {result}", db.dialect);
        assert_eq!(
            result["left_for_later"],
            serde_json::json!([{"revision": CONTRACT, "phase": "contract"}]),
            "[{}] {result}",
            db.dialect
        );
        // The old release goes on after the backfill: from now on only the trigger keeps
        // price_minor right.
        writer.wrote_more(50);

        // The release that writes both columns.
        writer.send("deploy", "deployed");
        writer.wrote_more(50);

        // Contract: zd4 drops the triggers and price_cents.
        writer.send("stage contract", "stage contract");
        let contract = project
            .migrate(&["upgrade", "--phase", "contract", "--format", "json"])
            .ok()
            .json();
        let result = &contract["databases"][0];
        assert_eq!(applied(result), [CONTRACT], "[{}] {result}", db.dialect);
        assert!(result.get("left_for_later").is_none(), "{result}");
        let summary = writer.stop();

        // No write failed before the contract: none was blocked beyond the bound.
        let errors = summary["errors"].as_array().unwrap();
        let before: Vec<_> = errors.iter().filter(|e| e["stage"] != "contract").collect();
        assert!(
            before.is_empty(),
            "[{}] {} write(s) failed before the contract: {before:#?}",
            db.dialect,
            before.len()
        );
        // During the contract, the one failure allowed is the deployed release still naming
        // the column zd4 drops (it must write it until then: it is NOT NULL without a default);
        // no write waited beyond the bound.
        for e in errors.iter().filter(|e| e["stage"] == "contract") {
            let message = e["message"].as_str().unwrap();
            assert!(
                message.contains("price_cents") && !timed_out(message),
                "[{}] a write failed during the contract for another reason: {e:#}",
                db.dialect
            );
        }

        // Every row is there, with the price last written, or its original one.
        let prices = prices(db);
        let last = summary["last"].as_object().unwrap();
        for code in summary["inserted"].as_array().unwrap() {
            let code = code.as_str().unwrap();
            assert!(
                prices.contains_key(code),
                "[{}] row {code} is lost",
                db.dialect
            );
        }
        let mut from_writer = 0;
        for (code, price) in &prices {
            let expected = match last.get(code) {
                Some(written) => {
                    from_writer += 1;
                    written.as_i64().unwrap()
                }
                None => seeded_price(code),
            };
            assert_eq!(
                *price, expected,
                "[{}] plans row {code}: price_minor is {price}, expected {expected}",
                db.dialect
            );
        }
        assert_eq!(
            prices.len() as u64,
            SEEDED + summary["inserted"].as_array().unwrap().len() as u64,
            "[{}] rows in plans",
            db.dialect
        );
        assert!(from_writer > 0, "[{}] the writer wrote nothing", db.dialect);
        assert!(
            !has_column(db, "plans", "price_cents"),
            "[{}] price_cents is still there",
            db.dialect
        );
    });
}

/// A backfill killed half-way (SIGKILL, mid-batch) resumes after the last batch it committed:
/// the second run says it resumed, and every row is filled exactly once. To see "exactly once",
/// the test's copy of the backfill also counts each visit of a row (`fills = fills + 1`, a
/// column added for the test) and drops the example's `WHERE price_minor <> price_cents`, which
/// would otherwise hide a batch run twice; it pauses between batches so that the kill lands
/// half-way.
#[test]
fn a_backfill_killed_half_way_resumes_after_its_last_batch() {
    each_backend(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project::new(tmp.path(), &db.url);
        let backfill = project.migrations.join(BACKFILL);
        // One script for every dialect: the per-dialect ones go.
        for entry in std::fs::read_dir(&backfill).unwrap().flatten() {
            let name = entry.file_name().into_string().unwrap();
            if name.starts_with("up.") && name.ends_with(".sql") {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
        std::fs::write(
            backfill.join("up.sql"),
            "-- braid:backfill key=id batch=100 pause_ms=10\n\
             UPDATE plans SET price_minor = price_cents, fills = fills + 1;\n",
        )
        .unwrap();
        project.migrate(&["upgrade", BASE]).ok();
        seed(db);
        execute(
            db,
            "ALTER TABLE plans ADD COLUMN fills INTEGER NOT NULL DEFAULT 0",
        );

        // The first run, killed once some batches are committed.
        let log = tmp.path().join("first-run.log");
        let mut first = project.spawn(&["upgrade", "--phase", "expand"], &log);
        wait_for_batches(db, &mut first, 5, &log);
        first.kill().unwrap();
        first.wait().unwrap();

        // What the kill left: the cursor is exactly as far as the data (read in one statement,
        // one snapshot: a COMMIT the killed run had already sent may still land).
        let (last_key, done, wrong_below, wrong_above) = after_the_kill(db);
        assert!(
            done > 0 && wrong_below == 0 && wrong_above == 0,
            "[{}] cursor at key {last_key}: {done} rows up to it, {wrong_below} of them not \
             filled exactly once, {wrong_above} rows after it filled",
            db.dialect
        );

        // The second run goes on from the cursor.
        let second = project
            .migrate(&["upgrade", "--phase", "expand", "--format", "json"])
            .ok()
            .json();
        let result = &second["databases"][0];
        assert_eq!(applied(result), [BACKFILL], "[{}] {result}", db.dialect);
        let resumed_after: Vec<i64> = result["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| {
                let key = n
                    .as_str()?
                    .split("resuming the backfill of `plans` after key ")
                    .nth(1)?;
                key.split(' ').next()?.parse().ok()
            })
            .collect();
        assert!(
            matches!(resumed_after.as_slice(), [key] if *key >= last_key && *key < SEEDED as i64),
            "[{}] the second run does not say it resumed half-way, after key {last_key}: \
             {result}",
            db.dialect
        );
        assert_eq!(
            fills(db),
            vec![(1, SEEDED)],
            "[{}] every row filled exactly once",
            db.dialect
        );
        let unfilled = count(
            db,
            "SELECT COUNT(*) FROM plans WHERE price_minor <> price_cents",
        );
        assert_eq!(unfilled, 0, "[{}] rows left unfilled", db.dialect);
        assert!(
            !cursor_row_exists(db),
            "[{}] the cursor row outlives the applied revision",
            db.dialect
        );
    });
}

/// A copy of the example's migrations and a config naming one database.
struct Project {
    migrations: PathBuf,
    config: PathBuf,
}

impl Project {
    fn new(root: &Path, url: &str) -> Project {
        let migrations = root.join("migrations");
        copy_tree(&braid_tests::repo_migrations(), &migrations);
        let config = root.join("braid.toml");
        std::fs::write(
            &config,
            format!("[default]\n[default.databases.app]\nurl = {url:?}\n"),
        )
        .unwrap();
        Project { migrations, config }
    }

    fn migrate(&self, args: &[&str]) -> support::Run {
        migrate_with(&self.migrations, Some(&self.config), args, &[])
    }

    /// `cargo xtask migrate <args>` started, its output going to `log`.
    fn spawn(&self, args: &[&str], log: &Path) -> Child {
        let out = std::fs::File::create(log).unwrap();
        let mut cmd = Command::new(xtask_bin());
        cmd.arg("migrate")
            .arg("--migrations")
            .arg(&self.migrations)
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (key, _) in std::env::vars() {
            if key.starts_with("BRAID_") {
                cmd.env_remove(key);
            }
        }
        cmd.spawn().expect("cannot run xtask")
    }
}

/// The revisions an upgrade's JSON result says it applied, in order.
fn applied(result: &serde_json::Value) -> Vec<String> {
    result["applied"]
        .as_array()
        .unwrap_or_else(|| panic!("no `applied` in {result}"))
        .iter()
        .map(|s| s["revision"].as_str().unwrap().to_string())
        .collect()
}

/// The writer process, and what it says on stdout.
struct Writer {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    /// Successful statements so far, as last reported.
    wrote: u64,
}

impl Writer {
    fn start(url: &str) -> Writer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zd_writer"))
            .args([url, &SEEDED.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot start zd_writer");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut writer = Writer {
            child,
            stdin,
            lines,
            wrote: 0,
        };
        writer.until(|line| line == "ready");
        writer
    }

    /// Reads lines until `done` says so (counting the writes reported on the way).
    fn until(&mut self, mut done: impl FnMut(&str) -> bool) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(GIVE_UP)
                .expect("the writer went silent or exited");
            if let Some(n) = line.strip_prefix("wrote ") {
                self.wrote = n.parse().unwrap();
            }
            if done(&line) {
                return line;
            }
        }
    }

    /// Reads the lines already said (counting the writes reported).
    fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            if let Some(n) = line.strip_prefix("wrote ") {
                self.wrote = n.parse().unwrap();
            }
        }
    }

    /// Waits until the writer has written `n` more rows than last reported.
    fn wrote_more(&mut self, n: u64) {
        let target = self.wrote + n;
        self.until(|line| {
            line.strip_prefix("wrote ")
                .is_some_and(|w| w.parse::<u64>().unwrap() >= target)
        });
    }

    /// Sends a command and waits for its answer.
    fn send(&mut self, command: &str, answer: &str) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        self.until(|line| line == answer);
    }

    /// Stops the writer; its summary.
    fn stop(mut self) -> serde_json::Value {
        writeln!(self.stdin, "stop").unwrap();
        self.stdin.flush().unwrap();
        let summary = self.until(|line| line.starts_with('{'));
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the writer failed: {status}");
        serde_json::from_str(&summary).unwrap()
    }
}

/// Whether a driver's message is a lock wait that gave up.
fn timed_out(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("lock timeout")
        || m.contains("lock wait timeout")
        || m.contains("canceling statement due to lock timeout")
        || m.contains("database is locked")
        || m.contains("busy")
}

/// The price a seeded row `s-<n>` was given.
fn seeded_price(code: &str) -> i64 {
    let n: i64 = code
        .strip_prefix("s-")
        .unwrap_or_else(|| panic!("{code} is neither seeded nor written by the writer"))
        .parse()
        .unwrap();
    n % 9973 + 1
}

/// Inserts [`SEEDED`] plans (`s-1` … with price `n % 9973 + 1`), in one statement.
fn seed(db: &Configured) {
    let n = SEEDED;
    let sql = match db.dialect {
        Dialect::Postgres => format!(
            "INSERT INTO plans (code, name, price_cents) \
             SELECT 's-' || g, 'Plan ' || g, g % 9973 + 1 FROM generate_series(1, {n}) g"
        ),
        Dialect::Sqlite => format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
             INSERT INTO plans (code, name, price_cents) \
             SELECT 's-' || n, 'Plan ' || n, n % 9973 + 1 FROM g"
        ),
        // No recursive CTE: MySQL stops one at 1 000 levels by default.
        Dialect::Mysql => {
            let digit = "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 \
                         UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL \
                         SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)";
            format!(
                "INSERT INTO plans (code, name, price_cents) \
                 SELECT CONCAT('s-', n), CONCAT('Plan ', n), MOD(n, 9973) + 1 FROM ( \
                 SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 1 AS n \
                 FROM {digit} a, {digit} b, {digit} c, {digit} e, {digit} f) t \
                 WHERE n <= {n} ORDER BY n"
            )
        }
    };
    execute(db, &sql);
    assert_eq!(count(db, "SELECT COUNT(*) FROM plans"), SEEDED);
}

fn execute(db: &Configured, sql: &str) {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        d.execute(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

fn count(db: &Configured, sql: &str) -> u64 {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        let rows = d.query(sql, &[]).await.unwrap();
        rows.rows[0][0].as_i64().unwrap() as u64
    })
}

/// `price_minor` of every row of `plans`, by code.
fn prices(db: &Configured) -> std::collections::BTreeMap<String, i64> {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        let rows = d
            .query("SELECT code, price_minor FROM plans", &[])
            .await
            .unwrap();
        rows.rows
            .into_iter()
            .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap()))
            .collect()
    })
}

fn has_column(db: &Configured, table: &str, column: &str) -> bool {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        let schema = d.introspect().await.unwrap();
        schema
            .tables
            .iter()
            .find(|t| t.name == table)
            .is_some_and(|t| t.columns.iter().any(|c| c.name == column))
    })
}

/// After the kill, in one statement: the cursor's last key, the rows up to it, how many of
/// those were not filled exactly once, and how many rows after it were filled.
fn after_the_kill(db: &Configured) -> (i64, u64, u64, u64) {
    let sql = format!(
        "SELECT b.last_key, \
         (SELECT COUNT(*) FROM plans WHERE id <= b.last_key), \
         (SELECT COUNT(*) FROM plans WHERE id <= b.last_key AND fills <> 1), \
         (SELECT COUNT(*) FROM plans WHERE id > b.last_key AND fills <> 0) \
         FROM braid_version_backfill b WHERE b.revision = '{BACKFILL}'"
    );
    with_conn(&db.url, async |d: &mut dyn Driver| {
        let rows = d.query(&sql, &[]).await.unwrap();
        let row = rows.rows.first().expect("the cursor row survives the kill");
        let int = |i: usize| {
            row[i]
                .as_i64()
                .unwrap_or_else(|| panic!("{sql}: {:?}", row[i]))
        };
        (int(0), int(1) as u64, int(2) as u64, int(3) as u64)
    })
}

/// `(fills, rows)`: how many rows were filled how many times.
fn fills(db: &Configured) -> Vec<(i64, u64)> {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        let sql = "SELECT fills, COUNT(*) FROM plans GROUP BY fills ORDER BY fills";
        let rows = d.query(sql, &[]).await.unwrap();
        rows.rows
            .iter()
            .map(|r| (r[0].as_i64().unwrap(), r[1].as_i64().unwrap() as u64))
            .collect()
    })
}

/// The batches the backfill's cursor row says are committed; `None` without the row (or
/// before its table exists).
async fn batches(d: &mut dyn Driver) -> Option<i64> {
    let sql = format!("SELECT batches FROM braid_version_backfill WHERE revision = '{BACKFILL}'");
    let rows = d.query(&sql, &[]).await.ok()?;
    rows.rows.first()?.first()?.as_i64()
}

fn cursor_row_exists(db: &Configured) -> bool {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        batches(d).await.is_some()
    })
}

/// Polls the cursor row, on one connection of its own, until `at_least` batches are
/// committed; panics if the run ends first.
fn wait_for_batches(db: &Configured, run: &mut Child, at_least: i64, log: &Path) {
    with_conn(&db.url, async |d: &mut dyn Driver| {
        let started = std::time::Instant::now();
        loop {
            if batches(d).await.is_some_and(|b| b >= at_least) {
                return;
            }
            if let Some(status) = run.try_wait().unwrap() {
                panic!(
                    "[{}] the run ended ({status}) before {at_least} batches were seen:\n{}",
                    db.dialect,
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            assert!(started.elapsed() < GIVE_UP, "no backfill progress");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}
