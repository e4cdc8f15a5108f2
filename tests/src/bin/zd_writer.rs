//! The application in the zero-downtime test (`tests/tests/zero_downtime.rs`): a process of its
//! own, with a connection of its own, that keeps inserting and updating rows of `plans` the way
//! each release of the application writes them, while the test migrates the database.
//!
//! ```text
//! zd_writer <url> <seeded>
//! ```
//!
//! `seeded` is how many rows the test inserted before starting it (codes `s-1` … `s-<seeded>`).
//! The writer inserts rows of its own (codes `w-1`, `w-2`, …) and updates its own rows and the
//! seeded ones in turn, each write a new price. It starts as the release before the change,
//! which knows only `price_cents`, and becomes the next one (which writes both `price_cents` and
//! `price_minor`) on the line `deploy`.
//!
//! Its session waits at most [`LOCK_BOUND_SECS`] for a lock: a statement blocked longer fails
//! instead, and every failure is reported. Commands on stdin, one a line:
//!
//! * `deploy`: write both columns from now on (answered `deployed`);
//! * `stage <name>`: tag the failures from now on with `<name>` (answered `stage <name>`);
//! * `stop`: print the summary and exit.
//!
//! On stdout: `ready` once the session is set up, `wrote <n>` after every tenth successful
//! statement (`n` counts them all), and last one JSON line: `{"last": {code: price}, "inserted":
//! [code], "statements": n, "errors": [{"stage", "release", "statement", "message"}]}`, `last`
//! being the price each row touched was last given by a statement that succeeded.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::Duration;

use braid_driver::{Dialect, Driver, Value};

/// The lock wait bound of the writer's session, in seconds.
const LOCK_BOUND_SECS: u64 = 5;

/// How many failures are kept (each one is counted).
const MAX_ERRORS: usize = 200;

enum Command {
    Deploy,
    Stage(String),
    Stop,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(seeded)) = (args.next(), args.next()) else {
        eprintln!("usage: zd_writer <url> <seeded>");
        std::process::exit(2);
    };
    let seeded: u64 = seeded.parse().expect("<seeded> is a number");
    let (tx, commands) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let line = line.trim();
            let command = match line.split_once(' ') {
                _ if line == "deploy" => Command::Deploy,
                _ if line == "stop" => Command::Stop,
                Some(("stage", name)) => Command::Stage(name.to_string()),
                _ => continue,
            };
            if tx.send(command).is_err() {
                break;
            }
        }
        // stdin closed: stop.
        let _ = tx.send(Command::Stop);
    });
    let summary = braid_tests::block_on(write(&url, seeded, commands));
    println!("{summary}");
}

/// Writes until told to stop; the summary as JSON.
async fn write(url: &str, seeded: u64, commands: mpsc::Receiver<Command>) -> serde_json::Value {
    let mut driver = braid::drivers::open_url(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect: {e}"));
    let dialect = driver.dialect();
    bound_lock_waits(driver.as_mut(), dialect).await;
    say("ready");
    let mut writer = Writer {
        dialect,
        seeded,
        release: "old",
        stage: "before the deploy".to_string(),
        last: BTreeMap::new(),
        inserted: Vec::new(),
        ok: 0,
        errors: Vec::new(),
        failures: 0,
    };
    let mut i: u64 = 0;
    loop {
        match commands.try_recv() {
            Ok(Command::Deploy) => {
                writer.release = "new";
                say("deployed");
            }
            Ok(Command::Stage(name)) => {
                say(&format!("stage {name}"));
                writer.stage = name;
            }
            Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        i += 1;
        writer.one(driver.as_mut(), i).await;
        // An application's load, not a flood: a writer that never lets go of SQLite's one write
        // lock would starve the migration of it, which no real application does.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let _ = driver.close().await;
    serde_json::json!({
        "last": writer.last,
        "inserted": writer.inserted,
        "statements": writer.ok,
        "failures": writer.failures,
        "errors": writer.errors,
    })
}

/// Sets the session's lock wait limits to [`LOCK_BOUND_SECS`].
async fn bound_lock_waits(driver: &mut dyn Driver, dialect: Dialect) {
    let secs = LOCK_BOUND_SECS;
    let sql = match dialect {
        Dialect::Postgres => format!("SET lock_timeout = '{secs}s'"),
        Dialect::Mysql => format!(
            "SET SESSION lock_wait_timeout = {secs}, SESSION innodb_lock_wait_timeout = {secs}"
        ),
        Dialect::Sqlite => format!("PRAGMA busy_timeout = {}", secs * 1000),
    };
    driver
        .query(&sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

struct Writer {
    dialect: Dialect,
    seeded: u64,
    /// `old`: writes `price_cents` only; `new`: writes both columns.
    release: &'static str,
    stage: String,
    last: BTreeMap<String, i64>,
    inserted: Vec<String>,
    ok: u64,
    errors: Vec<serde_json::Value>,
    failures: u64,
}

impl Writer {
    /// Write number `i`: an insert, an update of one of the writer's rows, or an update of a
    /// seeded row, in turn; the price is new each time.
    async fn one(&mut self, driver: &mut dyn Driver, i: u64) {
        let price = 100_000 + i as i64;
        let (code, insert) = match i % 3 {
            0 => (format!("w-{}", self.inserted.len() + 1), true),
            1 if !self.inserted.is_empty() => {
                let k = (i as usize / 3) % self.inserted.len();
                (self.inserted[k].clone(), false)
            }
            // Seeded rows all over the key range: some before the backfill reaches them, some
            // after it went past.
            _ => (format!("s-{}", (i * 7919) % self.seeded + 1), false),
        };
        let (sql, params) = self.statement(&code, price, insert);
        match driver.execute(&sql, &params).await {
            Ok(1) => {
                if insert {
                    self.inserted.push(code.clone());
                }
                self.last.insert(code, price);
                self.ok += 1;
                if self.ok.is_multiple_of(10) {
                    say(&format!("wrote {}", self.ok));
                }
            }
            Ok(n) => self.failed(&sql, format!("{n} rows written, expected 1")),
            Err(e) => self.failed(&sql, e.to_string()),
        }
    }

    /// The statement each release runs.
    fn statement(&self, code: &str, price: i64, insert: bool) -> (String, Vec<Value>) {
        let p = |n: usize| match self.dialect {
            Dialect::Postgres => format!("${n}"),
            _ => "?".to_string(),
        };
        let name = format!("Plan {code}");
        match (self.release, insert) {
            ("old", true) => (
                format!(
                    "INSERT INTO plans (code, name, price_cents) VALUES ({}, {}, {})",
                    p(1),
                    p(2),
                    p(3)
                ),
                vec![code.into(), name.into(), price.into()],
            ),
            ("old", false) => (
                format!(
                    "UPDATE plans SET price_cents = {} WHERE code = {}",
                    p(1),
                    p(2)
                ),
                vec![price.into(), code.into()],
            ),
            (_, true) => (
                format!(
                    "INSERT INTO plans (code, name, price_cents, price_minor) VALUES ({}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4)
                ),
                vec![code.into(), name.into(), price.into(), price.into()],
            ),
            (_, false) => (
                format!(
                    "UPDATE plans SET price_cents = {}, price_minor = {} WHERE code = {}",
                    p(1),
                    p(2),
                    p(3)
                ),
                vec![price.into(), price.into(), code.into()],
            ),
        }
    }

    fn failed(&mut self, sql: &str, message: String) {
        eprintln!("zd_writer [{}]: {sql}: {message}", self.stage);
        self.failures += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(serde_json::json!({
                "stage": self.stage,
                "release": self.release,
                "statement": sql,
                "message": message,
            }));
        }
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
