//! The migration lock across real processes: this test binary re-runs itself as a child that
//! takes the lock, and the parent checks it is excluded, sees the child's pid, and gets the lock
//! once the child is killed (the OS releases it; no stale lock).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use braid_driver::{Driver, ErrorKind};

const CHILD_ENV: &str = "BRAID_SQLITE_LOCK_CHILD_DB";
const MARKER: &str = "BRAID_CHILD_HOLDS_LOCK";

/// The child's half: does nothing unless started by the parent test.
#[tokio::test]
async fn lock_holder_child() {
    let Ok(db) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut driver = braid_sqlite::open(&format!("sqlite://{db}")).await.unwrap();
    driver.lock("braid", Duration::from_secs(5)).await.unwrap();
    // Straight to the handle: libtest's capture only intercepts `println!`.
    let mut out = std::io::stdout();
    // libtest prints `test lock_holder_child ... ` on the same line, hence a marker to search for.
    writeln!(out, "{MARKER}").unwrap();
    out.flush().unwrap();
    // Hold the lock until the parent closes our stdin or kills us.
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[tokio::test]
async fn lock_excludes_another_process_and_dies_with_it() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "lock_holder_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Read the child's output on a thread, so a child that never reports cannot hang the test.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains(MARKER) {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the child did not take the lock within 60 s");
    }

    let mut driver = braid_sqlite::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let err = driver
        .lock("braid", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::LockTimeout, "{err}");
    assert!(
        err.message.contains(&format!("pid {}", child.id())),
        "names the holder: {err}"
    );
    assert!(err.message.contains("another braid process"), "{err}");

    // A dying holder leaves no stale lock.
    child.kill().unwrap();
    child.wait().unwrap();
    driver.lock("braid", Duration::from_secs(2)).await.unwrap();
    driver.unlock("braid").await.unwrap();
}
