//! End-to-end tests of the commands that need no database: generate, merge, heads, branches,
//! show, history — run through the real `cargo xtask` binary on temporary migrations dirs.

mod support;

use std::path::Path;

use support::migrate;

fn generate(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--format", "json", "generate"];
    all.extend_from_slice(args);
    migrate(dir, &all).ok().json()
}

fn heads(dir: &Path) -> Vec<String> {
    let json = migrate(dir, &["--format", "json", "heads"]).ok().json();
    json["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["revision"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn generate_chains_on_the_single_head_and_reports_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    let first = generate(&dir, &["-m", "create users", "--rev-id", "a1"]);
    assert_eq!(first["revision"], "a1");
    let files: Vec<&str> = first["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        assert!(
            Path::new(file).is_file(),
            "{file} was reported but not written"
        );
    }
    assert!(files.iter().any(|f| f.ends_with("revision.toml")));
    assert!(files.iter().any(|f| f.ends_with("up.sql")));
    assert!(files.iter().any(|f| f.ends_with("down.sql")));

    let second = generate(&dir, &["-m", "add email"]);
    let id = second["revision"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 12, "default ids are 12 hex digits: {id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let shown = migrate(&dir, &["--format", "json", "show", &id])
        .ok()
        .json();
    assert_eq!(shown["parents"], serde_json::json!(["a1"]));
    assert_eq!(shown["message"], "add email");
    assert_eq!(heads(&dir), vec![id]);
}

#[test]
fn several_heads_refuse_generate_until_merged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    generate(&dir, &["-m", "base", "--rev-id", "a"]);
    generate(&dir, &["-m", "one", "--rev-id", "b"]);
    // Branching from a non-head needs --splice, as in Alembic.
    let refused = migrate(
        &dir,
        &["generate", "-m", "two", "--rev-id", "c", "--head", "a"],
    )
    .fails(1);
    assert!(refused.stderr.contains("--splice"), "{}", refused.stderr);
    generate(
        &dir,
        &[
            "-m",
            "two",
            "--rev-id",
            "c",
            "--head",
            "a",
            "--splice",
            "--branch-label",
            "feature",
        ],
    );

    let mut got = heads(&dir);
    got.sort();
    assert_eq!(got, vec!["b", "c"]);

    let refused = migrate(&dir, &["generate", "-m", "three"]).fails(1);
    assert!(
        refused.stderr.contains("several heads"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--head"), "{}", refused.stderr);
    assert!(refused.stderr.contains("merge heads"), "{}", refused.stderr);

    // label@head picks the branch.
    let on_label = generate(
        &dir,
        &[
            "-m",
            "on feature",
            "--rev-id",
            "d",
            "--head",
            "feature@head",
        ],
    );
    assert_eq!(on_label["revision"], "d");
    let shown = migrate(&dir, &["--format", "json", "show", "d"])
        .ok()
        .json();
    assert_eq!(shown["parents"], serde_json::json!(["c"]));

    let merged = migrate(
        &dir,
        &[
            "--format", "json", "merge", "heads", "--rev-id", "m", "-m", "join",
        ],
    )
    .ok()
    .json();
    assert_eq!(merged["revision"], "m");
    assert_eq!(heads(&dir), vec!["m"]);
    let shown = migrate(&dir, &["--format", "json", "show", "m"])
        .ok()
        .json();
    let mut parents: Vec<String> = serde_json::from_value(shown["parents"].clone()).unwrap();
    parents.sort();
    assert_eq!(parents, vec!["b", "d"]);
    assert_eq!(shown["is_merge_point"], true);

    let branches = migrate(&dir, &["--format", "json", "branches"]).ok().json();
    let points = branches["branch_points"].as_array().unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0]["revision"], "a");
    let mut children: Vec<String> = serde_json::from_value(points[0]["children"].clone()).unwrap();
    children.sort();
    assert_eq!(children, vec!["b", "c"]);

    // history: newest first, flags set, every revision once.
    let history = migrate(&dir, &["--format", "json", "history"]).ok().json();
    let revs = history["revisions"].as_array().unwrap();
    let ids: Vec<&str> = revs
        .iter()
        .map(|r| r["revision"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[0], "m");
    assert_eq!(*ids.last().unwrap(), "a");
    let a = revs.iter().find(|r| r["revision"] == "a").unwrap();
    assert_eq!(a["is_branch_point"], true);
    assert_eq!(a["is_head"], false);
    let m = revs.iter().find(|r| r["revision"] == "m").unwrap();
    assert_eq!(m["is_head"], true);
    assert_eq!(m["is_merge_point"], true);
    for key in ["parents", "depends_on", "branch_labels", "message"] {
        assert!(m.get(key).is_some(), "history JSON lacks {key}");
    }

    let drawn = migrate(&dir, &["history", "--graph"]).ok().stdout;
    assert!(drawn.contains("|\\"), "a merge opens a lane:\n{drawn}");
    assert!(drawn.contains("|/"), "a branch point closes one:\n{drawn}");
    assert!(drawn.contains("(feature)"), "labels are visible:\n{drawn}");
    assert_eq!(drawn.matches('*').count(), 5, "{drawn}");
}

#[test]
fn merge_refuses_non_heads_without_splice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    generate(&dir, &["-m", "a", "--rev-id", "a"]);
    generate(&dir, &["-m", "b", "--rev-id", "b"]);
    generate(&dir, &["-m", "c", "--rev-id", "c", "--head", "base"]);
    let refused = migrate(&dir, &["merge", "a", "c"]).fails(1);
    assert!(refused.stderr.contains("not a head"), "{}", refused.stderr);
    let merged = migrate(&dir, &["--format", "json", "merge", "b", "c"])
        .ok()
        .json();
    let id = merged["revision"].as_str().unwrap();
    assert_eq!(heads(&dir), vec![id.to_string()]);
}

#[test]
fn history_range_and_prefixes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    for id in ["aaa1", "bbb2", "ccc3", "ddd4"] {
        generate(&dir, &["-m", id, "--rev-id", id]);
    }
    let json = migrate(&dir, &["--format", "json", "history", "-r", "bbb2:ccc3"])
        .ok()
        .json();
    let ids: Vec<&str> = json["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["ccc3", "bbb2"]);
    let shown = migrate(&dir, &["--format", "json", "show", "cc"])
        .ok()
        .json();
    assert_eq!(shown["revision"], "ccc3");
    let text = migrate(&dir, &["history"]).ok().stdout;
    assert!(text.starts_with("ccc3 -> ddd4 (head), ddd4"), "{text}");
    assert!(text.contains("<base> -> aaa1, aaa1"), "{text}");
}

#[test]
fn bad_input_names_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");

    // An empty or missing directory says how to start.
    let empty = migrate(&dir, &["heads"]).fails(1);
    assert!(empty.stderr.contains("generate"), "{}", empty.stderr);

    generate(&dir, &["-m", "a", "--rev-id", "abc1"]);
    generate(&dir, &["-m", "b", "--rev-id", "abc2"]);

    let ambiguous = migrate(&dir, &["show", "abc"]).fails(1);
    assert!(
        ambiguous.stderr.contains("abc1") && ambiguous.stderr.contains("abc2"),
        "{}",
        ambiguous.stderr
    );
    let unknown = migrate(&dir, &["show", "abd1"]).fails(1);
    assert!(unknown.stderr.contains("abd1"), "{}", unknown.stderr);

    // Usage errors exit 2.
    migrate(&dir, &["generate"]).fails(2);
    migrate(&dir, &["no-such-command"]).fails(2);

    // A broken metadata file is named.
    let toml = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("revision.toml"))
        .find(|p| std::fs::read_to_string(p).unwrap().contains("abc2"))
        .unwrap();
    std::fs::write(&toml, "id = \"abc2\"\nparents = [\n").unwrap();
    let broken = migrate(&dir, &["heads"]).fails(1);
    assert!(broken.stderr.contains("revision.toml"), "{}", broken.stderr);
    assert!(!broken.stderr.contains("panicked"), "{}", broken.stderr);

    // A parent that does not exist is named with its file.
    std::fs::write(
        &toml,
        "id = \"abc2\"\nparents = [\"zzz9\"]\nmessage = \"b\"\ncreated = 2026-11-26T00:00:00Z\n",
    )
    .unwrap();
    let missing = migrate(&dir, &["heads"]).fails(1);
    assert!(
        missing.stderr.contains("zzz9") && missing.stderr.contains("revision.toml"),
        "{}",
        missing.stderr
    );
}
