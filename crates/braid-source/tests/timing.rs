//! Loading speed over a long history. `heads` over 1 000 revisions must stay well under 30 ms
//! including process start, so loading alone gets a generous share of that.
//! Run: `cargo test --release -p braid-source --test timing -- --ignored --nocapture`.

use std::time::Instant;

use braid_source::{NewRevision, load, load_revisions, write_revision};

fn history(n: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let start: jiff::Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
    for i in 0..n {
        let new = NewRevision {
            id: format!("r{i:05}"),
            parents: if i == 0 {
                vec![]
            } else {
                vec![format!("r{:05}", i - 1)]
            },
            depends_on: vec![],
            branch_labels: vec![],
            message: format!("revision number {i}"),
            created: start + jiff::SignedDuration::from_secs(i as i64 * 60),
            transactional: true,
            allow_overlap: None,
            phase: None,
        };
        write_revision(tmp.path(), &new).unwrap();
    }
    tmp
}

#[test]
#[ignore = "timing; run in release"]
fn load_1000_revisions() {
    let tmp = history(1000);
    for _ in 0..3 {
        let t = Instant::now();
        let revs = load_revisions(tmp.path()).unwrap();
        let read = t.elapsed();
        let t = Instant::now();
        let graph = load(tmp.path()).unwrap();
        let total = t.elapsed();
        assert_eq!(revs.len(), 1000);
        assert_eq!(graph.len(), 1000);
        eprintln!("load_revisions: {read:?}; load (with graph): {total:?}");
    }
}

#[test]
#[ignore = "timing; run in release"]
fn parse_only() {
    let text = "# c\nid = \"r00001\"\nparents = [\"r00000\"]\ndepends_on = []\nbranch_labels = []\nmessage = \"revision number 1\"\ncreated = 2026-11-01T00:01:00Z\ntransaction = true\n";
    let t = Instant::now();
    for _ in 0..1000 {
        braid_source::parse_metadata(text, std::path::Path::new("x")).unwrap();
    }
    eprintln!("1000 parses: {:?}", t.elapsed());
    let tmp = history(1000);
    let dirs: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let t = Instant::now();
    for d in &dirs {
        let n = std::fs::read_dir(d).unwrap().count();
        assert!(n > 0);
    }
    eprintln!("1000 readdirs: {:?}", t.elapsed());
    let t = Instant::now();
    for d in &dirs {
        std::fs::read_to_string(d.join("revision.toml")).unwrap();
    }
    eprintln!("1000 reads: {:?}", t.elapsed());
}
