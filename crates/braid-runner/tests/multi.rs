//! Several databases at once.

mod common;

use std::sync::Mutex;

use braid_runner::{
    DbStatus, DbTarget, Event, Limits, Opener, Operation, SourceBodies, no_events, run_all,
};
use common::{Fixture, ids, rows};

fn opener(url: &str) -> Opener {
    let url = url.to_string();
    Box::new(move || Box::pin(async move { braid_sqlite::open_boxed(&url).await }))
}

fn fixture() -> Fixture {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &["a"]);
    f
}

#[tokio::test]
async fn one_broken_url_does_not_stop_the_good_database() {
    let f = fixture();
    let g = f.graph();
    let good = f.url("good");
    let bad = "mysql://root:hunter2@nowhere/app".to_string();
    let dbs = vec![
        DbTarget::new("broken", &g, &SourceBodies, bad.clone(), opener(&bad)),
        DbTarget::new("good", &g, &SourceBodies, good.clone(), opener(&good)),
    ];
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let results = run_all(
        dbs,
        &Limits::jobs(2),
        &Operation::Upgrade {
            target: "heads".into(),
            phase: None,
        },
        &sink,
    );
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].name, "broken");
    assert_eq!(results[0].status, DbStatus::Error);
    let err = results[0].error.as_deref().unwrap();
    assert!(err.contains("`broken`"), "{err}");
    assert!(err.contains("root:***@nowhere"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");

    assert_eq!(results[1].name, "good");
    assert_eq!(results[1].status, DbStatus::Ok);
    assert_eq!(results[1].current, ids(&["b"]));
    assert_eq!(results[1].applied.len(), 2);
    assert!(results[1].error.is_none());

    // The CLI's JSON contract.
    let json = serde_json::to_value(serde_json::json!({ "databases": results })).unwrap();
    let good_json = &json["databases"][1];
    assert_eq!(good_json["status"], "ok");
    assert_eq!(good_json["current"], serde_json::json!(["b"]));
    assert_eq!(good_json["applied"][0]["revision"], "a");
    assert_eq!(good_json["applied"][0]["direction"], "up");
    assert!(good_json["applied"][0]["ms"].is_u64());
    assert!(good_json["error"].is_null());
    assert_eq!(json["databases"][0]["status"], "error");
    // The contract's keys are all there (more are allowed: `from` and `ms` feed the summary).
    let object = good_json.as_object().unwrap();
    for key in [
        "name", "status", "current", "applied", "error", "from", "ms",
    ] {
        assert!(object.contains_key(key), "missing {key}");
    }

    let mut db = f.open("good").await;
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b"]));
    assert!(
        events
            .into_inner()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::Finished { database, .. } if database == "good"))
    );
}

#[tokio::test]
async fn fail_fast_skips_databases_not_yet_started() {
    let f = fixture();
    let g = f.graph();
    let bad = "sqlite://".to_string();
    let (one, two) = (f.url("one"), f.url("two"));
    let dbs = vec![
        DbTarget::new("bad", &g, &SourceBodies, bad.clone(), opener(&bad)),
        DbTarget::new("one", &g, &SourceBodies, one.clone(), opener(&one)),
        DbTarget::new("two", &g, &SourceBodies, two.clone(), opener(&two)),
    ];
    let results = run_all(
        dbs,
        &Limits {
            max_failures: Some(1),
            ..Limits::jobs(1)
        },
        &Operation::Upgrade {
            target: "heads".into(),
            phase: None,
        },
        &no_events,
    );
    let statuses: Vec<DbStatus> = results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [DbStatus::Error, DbStatus::Skipped, DbStatus::Skipped]
    );
    let json = serde_json::to_value(&results[1]).unwrap();
    assert_eq!(json["status"], "skipped");
}

#[tokio::test]
async fn many_databases_with_bounded_jobs_and_a_failing_migration() {
    let mut f = fixture();
    f.sql("c", &["b"], "SELECT * FROM nowhere;", "");
    let g = f.graph();
    let mut dbs = Vec::new();
    for i in 0..4 {
        let url = f.url(&format!("db{i}"));
        dbs.push(DbTarget::new(
            format!("db{i}"),
            &g,
            &SourceBodies,
            url.clone(),
            opener(&url),
        ));
    }
    let results = run_all(
        dbs,
        &Limits::jobs(2),
        &Operation::Upgrade {
            target: "heads".into(),
            phase: None,
        },
        &no_events,
    );
    for r in &results {
        assert_eq!(r.status, DbStatus::Error);
        // Kept steps and where the database stopped are reported.
        assert_eq!(r.applied.len(), 2, "{r:?}");
        assert_eq!(r.current, ids(&["b"]));
        assert!(r.error.as_deref().unwrap().contains("`c`"));
    }

    // current over all of them.
    let mut dbs = Vec::new();
    for i in 0..4 {
        let url = f.url(&format!("db{i}"));
        dbs.push(DbTarget::new(
            format!("db{i}"),
            &g,
            &SourceBodies,
            url.clone(),
            opener(&url),
        ));
    }
    let results = run_all(dbs, &Limits::jobs(3), &Operation::Current, &no_events);
    assert!(
        results
            .iter()
            .all(|r| r.status == DbStatus::Ok && r.current == ids(&["b"]))
    );
}

/// Counts the scripts the runner asks for, passing them through to the SQL files.
struct Counting(std::sync::atomic::AtomicUsize);

impl braid_runner::Bodies for Counting {
    fn script(
        &self,
        rev: &braid_graph::Revision,
        direction: braid_graph::Direction,
        dialect: braid_driver::Dialect,
    ) -> Result<braid_runner::Script, braid_runner::BodyError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        SourceBodies.script(rev, direction, dialect)
    }

    fn checksum(&self, rev: &braid_graph::Revision, script: &braid_runner::Script) -> String {
        SourceBodies.checksum(rev, script)
    }
}

#[tokio::test]
async fn databases_sharing_a_set_read_each_script_once() {
    let f = fixture();
    let g = f.graph();
    let upgrade = Operation::Upgrade {
        target: "heads".into(),
        phase: None,
    };
    let run = |shared: Option<&braid_runner::Shared>| {
        let bodies = Counting(std::sync::atomic::AtomicUsize::new(0));
        let dbs: Vec<DbTarget<'_>> = (0..4)
            .map(|i| {
                let url = f.url(&format!("t{i}-{}", shared.is_some()));
                let mut db = DbTarget::new(format!("t{i}"), &g, &bodies, url.clone(), opener(&url));
                db.shared = shared;
                db
            })
            .collect();
        let results = run_all(dbs, &Limits::jobs(2), &upgrade, &no_events);
        assert!(
            results.iter().all(|r| r.status == DbStatus::Ok),
            "{results:?}"
        );
        bodies.0.into_inner()
    };
    // Two revisions, four databases: each reads both scripts (and the up-to-date check reads
    // none), unless they share.
    assert_eq!(run(None), 8);
    let shared = braid_runner::Shared::new();
    assert_eq!(run(Some(&shared)), 2);
}

#[tokio::test]
async fn a_shared_plan_is_made_for_each_applied_state() {
    let f = fixture();
    let g = f.graph();
    let (fresh, halfway) = (f.url("fresh"), f.url("halfway"));
    // `halfway` has `a` already.
    let first = vec![DbTarget::new(
        "halfway",
        &g,
        &SourceBodies,
        halfway.clone(),
        opener(&halfway),
    )];
    let to_a = Operation::Upgrade {
        target: "a".into(),
        phase: None,
    };
    assert_eq!(
        run_all(first, &Limits::jobs(1), &to_a, &no_events)[0]
            .applied
            .len(),
        1
    );
    let shared = braid_runner::Shared::new();
    let dbs: Vec<DbTarget<'_>> = [("fresh", &fresh), ("halfway", &halfway)]
        .into_iter()
        .map(|(name, url)| {
            let mut db = DbTarget::new(name, &g, &SourceBodies, url.clone(), opener(url));
            db.shared = Some(&shared);
            db
        })
        .collect();
    let upgrade = Operation::Upgrade {
        target: "heads".into(),
        phase: None,
    };
    let results = run_all(dbs, &Limits::jobs(1), &upgrade, &no_events);
    let applied = |i: usize| -> Vec<String> {
        results[i]
            .applied
            .iter()
            .map(|s| s.revision.clone())
            .collect()
    };
    assert_eq!(applied(0), ids(&["a", "b"]));
    assert_eq!(applied(1), ids(&["b"]));
}
