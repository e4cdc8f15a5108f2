//! `ddl_lock_timeout_ms`: a migration that waits for a table lock behind a long transaction
//! gives up after the bound instead of queueing every query behind it. Postgres rolls the
//! migration back and tries again; MySQL/MariaDB stop with the statement's progress recorded,
//! and the next upgrade resumes it. Coordinated by events and rows, never by sleeping.

mod support;

use std::path::Path;
use std::sync::mpsc;

use braid::{DbStatus, Event, Operation, RunSettings};
use braid_tests::{MysqlTarget, PostgresTarget, block_on};
use support::with_db;

/// `t` and then a revision that alters it, in a project whose config bounds lock waits.
fn project(root: &Path, url: &str, retries: u32) -> braid::Project {
    let m = root.join("migrations");
    for (id, parents, up, down) in [
        (
            "t1",
            "",
            "CREATE TABLE t (id INT PRIMARY KEY);",
            "DROP TABLE t;",
        ),
        (
            "t2",
            "\"t1\"",
            "ALTER TABLE t ADD COLUMN b INT;",
            "ALTER TABLE t DROP COLUMN b;",
        ),
    ] {
        let dir = m.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("revision.toml"),
            format!(
                "id = \"{id}\"\nparents = [{parents}]\nmessage = \"{id}\"\n\
                 created = 2026-01-01T00:00:0{}Z\n",
                &id[1..]
            ),
        )
        .unwrap();
        std::fs::write(dir.join("up.sql"), up).unwrap();
        std::fs::write(dir.join("down.sql"), down).unwrap();
    }
    let config = root.join("braid.toml");
    std::fs::write(
        &config,
        format!(
            "[default]\nddl_lock_timeout_ms = 300\nddl_lock_retries = {retries}\n\
             [default.databases.app]\nurl = {url:?}\n"
        ),
    )
    .unwrap();
    braid::Project::open(
        braid::ProjectOptions {
            root: Some(root.to_path_buf()),
            config: Some(config),
            migrations: Some(m),
            profile: None,
        },
        braid::RustRevisions::new(),
    )
    .unwrap()
}

fn upgrade(target: &str) -> Operation {
    Operation::Upgrade {
        target: target.into(),
        phase: None,
    }
}

/// On its own connection and thread: opens a transaction that reads `t` (holding a lock the
/// ALTER must wait for), says so, and commits when told.
fn hold_table(url: &str) -> (mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (held_tx, held_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let url = url.to_string();
    std::thread::spawn(move || {
        block_on(async {
            let mut driver = braid::drivers::open_url(&url).await.unwrap();
            driver.begin().await.unwrap();
            driver.query("SELECT * FROM t", &[]).await.unwrap();
            held_tx.send(()).unwrap();
            let _ = release_rx.recv();
            driver.commit().await.unwrap();
            driver.close().await.unwrap();
        })
    });
    held_rx.recv().expect("the table lock was taken");
    (held_rx, release_tx)
}

/// Whether `event` is the notice of a retry.
fn is_retry(event: &Event) -> bool {
    matches!(event, Event::Notice { message, .. } if message.contains("trying again"))
}

#[test]
fn postgres_retries_a_migration_that_timed_out_waiting_for_a_lock() {
    with_db::<PostgresTarget>(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let p = project(tmp.path(), &db.url, 3);
        let settings = RunSettings::default();
        p.run(&settings, &upgrade("t1"), &|_| {}).unwrap();
        let (_held, release) = hold_table(&db.url);
        // The holder commits once the first attempt has given up: the retry then gets the lock.
        let release = std::sync::Mutex::new(Some(release));
        let events = |event: &Event| {
            if is_retry(event)
                && let Some(release) = release.lock().unwrap().take()
            {
                release.send(()).unwrap();
            }
        };
        let results = p.run(&settings, &upgrade("heads"), &events).unwrap();
        let r = &results[0];
        assert_eq!(r.status, DbStatus::Ok, "{r:?}");
        assert_eq!(r.current, ["t2"]);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("revision `t2` waited longer than ddl_lock_timeout_ms")),
            "{:?}",
            r.notes
        );
    });
}

#[test]
fn postgres_fails_once_the_retries_are_spent_and_leaves_nothing_behind() {
    with_db::<PostgresTarget>(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let p = project(tmp.path(), &db.url, 1);
        let settings = RunSettings::default();
        p.run(&settings, &upgrade("t1"), &|_| {}).unwrap();
        let (_held, release) = hold_table(&db.url);
        let retries = std::sync::atomic::AtomicUsize::new(0);
        let events = |event: &Event| {
            if is_retry(event) {
                retries.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        };
        let results = p.run(&settings, &upgrade("heads"), &events).unwrap();
        release.send(()).unwrap();
        let r = &results[0];
        assert_eq!(r.status, DbStatus::Error, "{r:?}");
        assert_eq!(retries.load(std::sync::atomic::Ordering::SeqCst), 1);
        let error = r.error.as_deref().unwrap();
        assert!(error.contains("55P03"), "{error}");
        assert_eq!(r.current, ["t1"], "rolled back, nothing recorded");
        // Without the holder, the same upgrade goes through.
        let again = p.run(&settings, &upgrade("heads"), &|_| {}).unwrap();
        assert_eq!(again[0].current, ["t2"], "{:?}", again[0]);
    });
}

#[test]
fn mysql_stops_at_the_bound_and_the_next_upgrade_resumes() {
    with_db::<MysqlTarget>(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let p = project(tmp.path(), &db.url, 3);
        let settings = RunSettings::default();
        p.run(&settings, &upgrade("t1"), &|_| {}).unwrap();
        let (_held, release) = hold_table(&db.url);
        let results = p.run(&settings, &upgrade("heads"), &|_| {}).unwrap();
        let r = &results[0];
        assert_eq!(r.status, DbStatus::Error, "{r:?}");
        assert!(r.error.as_deref().unwrap().contains("1205"), "{r:?}");
        assert_eq!(r.current, ["t1"]);
        release.send(()).unwrap();
        let again = p.run(&settings, &upgrade("heads"), &|_| {}).unwrap();
        assert_eq!(again[0].status, DbStatus::Ok, "{:?}", again[0]);
        assert_eq!(again[0].current, ["t2"]);
    });
}
