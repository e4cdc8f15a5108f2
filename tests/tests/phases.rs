//! Expand/contract deploys through the real binary on SQLite: `upgrade --phase` applies one
//! phase's part and lists what it leaves, `check --phase` is the gate of each step, and `show`
//! says each revision's phase, declared or inferred.

mod support;

use std::path::{Path, PathBuf};

use support::{Run, braid_bin, run_in};

/// Writes an SQL revision `id` with `parents`, its `phase` line (if any) and its scripts.
fn revision(migrations: &Path, id: &str, parents: &[&str], phase: Option<&str>, up: &str) {
    let dir = migrations.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let parents: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
    let phase = phase.map_or(String::new(), |p| format!("phase = \"{p}\"\n"));
    let created = format!(
        "2026-01-01T00:00:{:02}Z",
        std::fs::read_dir(migrations).unwrap().count()
    );
    std::fs::write(
        dir.join("revision.toml"),
        format!(
            "id = \"{id}\"\nparents = [{}]\nmessage = \"{id}\"\ncreated = {created}\n{phase}",
            parents.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(dir.join("up.sql"), up).unwrap();
    std::fs::write(dir.join("down.sql"), "SELECT 1;").unwrap();
}

struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    /// Two releases: e1 (expand) → c1 (contract) → e2 (expand) → c2 (contract). e1 and c1
    /// declare their phases; e2 and c2 leave them to be inferred.
    fn two_releases() -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let m = root.join("migrations");
        std::fs::create_dir_all(&m).unwrap();
        revision(
            &m,
            "e1",
            &[],
            Some("expand"),
            "CREATE TABLE plans (id INTEGER PRIMARY KEY, price_cents INTEGER NOT NULL);\n\
             ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;",
        );
        revision(
            &m,
            "c1",
            &["e1"],
            Some("contract"),
            "ALTER TABLE plans DROP COLUMN price_cents;",
        );
        revision(
            &m,
            "e2",
            &["c1"],
            None,
            "ALTER TABLE plans ADD COLUMN currency VARCHAR(3) NOT NULL DEFAULT 'EUR';",
        );
        revision(
            &m,
            "c2",
            &["e2"],
            None,
            "ALTER TABLE plans RENAME COLUMN currency TO currency_code;",
        );
        std::fs::write(
            root.join("braid.toml"),
            "[default]\n[default.databases.app]\nurl = \"sqlite://app.db\"\n",
        )
        .unwrap();
        Project { _tmp: tmp, root }
    }

    fn braid(&self, args: &[&str]) -> Run {
        let mut all = vec!["--config", "braid.toml", "--migrations", "migrations"];
        all.extend_from_slice(args);
        run_in(braid_bin(), &self.root, &all, &[])
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        self.braid(&all).ok().json()
    }

    fn applied(&self) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.root.join("app.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT revision FROM braid_version ORDER BY revision")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

fn ids(list: &serde_json::Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn each_release_is_an_expand_step_then_a_contract_step() {
    let p = Project::two_releases();
    // Before anything (the database made, nothing applied): the expand step's gate counts e1
    // as pending, not the rest.
    p.braid(&["upgrade", "base"]).ok();
    let gate = p
        .braid(&["--format", "json", "check", "--phase", "expand"])
        .fails(4);
    let gate = gate.json();
    assert_eq!(
        gate["databases"][0]["check"]["pending"],
        serde_json::json!(["e1"])
    );
    assert_eq!(
        ids(&gate["databases"][0]["left_for_later"], "revision"),
        ["c1", "e2", "c2"]
    );

    let first = p.json(&["upgrade", "--phase", "expand"]);
    let db = &first["databases"][0];
    assert_eq!(ids(&db["applied"], "revision"), ["e1"]);
    assert_eq!(
        db["left_for_later"],
        serde_json::json!([
            {"revision": "c1", "phase": "contract"},
            {"revision": "e2", "phase": "expand", "waits_for": "c1"},
            {"revision": "c2", "phase": "contract"},
        ])
    );
    assert_eq!(p.applied(), ["e1"]);
    // After the expand step its gate passes, with the contract revisions still to run; the
    // plain gate still counts them.
    let done = p.braid(&["check", "--phase", "expand"]).ok();
    assert!(
        done.stdout.contains("done with the expand step"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains(
            "app: left for a later step: c1 (contract), e2 (expand, needs c1), c2 (contract)"
        ),
        "{}",
        done.stdout
    );
    p.braid(&["check"]).fails(4);

    let human = p.braid(&["upgrade", "--phase", "contract"]).ok();
    assert!(
        human
            .stdout
            .contains("app: left for a later step: e2 (expand), c2 (contract, needs e2)"),
        "{}",
        human.stdout
    );
    assert_eq!(p.applied(), ["c1", "e1"]);
    // The next release: e2 and c2 have no declared phase; their statements say it.
    let second = p.json(&["upgrade", "--phase", "expand"]);
    assert_eq!(ids(&second["databases"][0]["applied"], "revision"), ["e2"]);
    let last = p.json(&["upgrade", "--phase", "contract"]);
    assert_eq!(ids(&last["databases"][0]["applied"], "revision"), ["c2"]);
    assert!(
        last["databases"][0].get("left_for_later").is_none(),
        "{last}"
    );
    p.braid(&["check"]).ok();
}

#[test]
fn a_contract_step_before_its_expand_step_applies_nothing_and_says_why() {
    let p = Project::two_releases();
    let run = p.json(&["upgrade", "--phase", "contract"]);
    let db = &run["databases"][0];
    assert_eq!(db["applied"], serde_json::json!([]));
    assert_eq!(db["left_for_later"][0]["revision"], "e1");
    assert_eq!(db["left_for_later"][1]["waits_for"], "e1");
    // A plain upgrade applies everything, in order, as before.
    let all = p.json(&["upgrade"]);
    assert_eq!(
        ids(&all["databases"][0]["applied"], "revision"),
        ["e1", "c1", "e2", "c2"]
    );
}

#[test]
fn show_says_each_phase_and_where_it_comes_from() {
    let p = Project::two_releases();
    let declared = p.braid(&["show", "c1"]).ok();
    assert!(
        declared.stdout.contains("Phase: contract (declared)"),
        "{}",
        declared.stdout
    );
    let inferred = p.braid(&["show", "c2"]).ok();
    assert!(
        inferred.stdout.contains("Phase: contract (inferred: ")
            && inferred.stdout.contains("currency")
            && inferred.stdout.contains("up.sql:1"),
        "{}",
        inferred.stdout
    );
    let additive = p.json(&["show", "e2"]);
    assert_eq!(additive["phase"]["phase"], "expand");
    assert_eq!(additive["phase"]["declared"], false);
    let history = p.braid(&["history", "-v"]).ok();
    assert_eq!(
        history.stdout.matches("Phase: ").count(),
        4,
        "{}",
        history.stdout
    );
}

#[test]
fn a_destructive_revision_declared_expand_fails_the_expand_gate() {
    let p = Project::two_releases();
    revision(
        &p.root.join("migrations"),
        "e3",
        &["c2"],
        Some("expand"),
        "ALTER TABLE plans DROP COLUMN price_minor;",
    );
    p.braid(&["upgrade", "c2"]).ok();
    let gate = p.braid(&["check", "--phase", "expand"]).fails(19);
    assert!(
        gate.stdout.contains("the expand step would run e3") && gate.stdout.contains("price_minor"),
        "{}",
        gate.stdout
    );
    // The contract step's gate does not judge expand revisions.
    p.braid(&["check", "--phase", "contract"]).ok();
}
