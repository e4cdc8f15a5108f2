//! The parallel-feature workflow end to end, with real `git` and the command line on all
//! three backends (through the xtask, which has the example's Rust revisions compiled in): a repository with a history applied everywhere, two branches that each add a
//! revision on the same head, `git merge` conflicting on the heads file, then the heads joined
//! by a merge revision (with its overlap report) or by `rebase`, and `upgrade` on every
//! database.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Run, run_in, with_db, xtask_bin};

/// `git args…` in `repo`, with an identity and no user or system configuration.
fn git(repo: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args([
            "-c",
            "user.name=Dev",
            "-c",
            "user.email=dev@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "merge.conflictstyle=merge",
        ])
        .args(args)
        .output()
        .expect("cannot run git")
}

fn git_ok(repo: &Path, args: &[&str]) {
    let out = git(repo, args);
    assert!(
        out.status.success(),
        "git {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `cargo xtask migrate args…` in `repo`: the xtask has the example's Rust revisions compiled
/// in.
fn braid(repo: &Path, args: &[&str]) -> Run {
    run_in(xtask_bin(), repo, &[&["migrate"], args].concat(), &[])
}

/// A repository holding the example history and a config naming one database per backend.
fn repository(root: &Path, urls: &[(&str, &str)]) -> PathBuf {
    let repo = root.join("repo");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    support::copy_tree(&examples, &repo.join("migrations"));
    let mut config = String::from("[default]\n");
    for (name, url) in urls {
        config.push_str(&format!("[default.databases.{name}]\nurl = {url:?}\n"));
    }
    std::fs::create_dir_all(repo.join("config")).unwrap();
    std::fs::write(repo.join("config/braid.toml"), config).unwrap();
    git_ok(&repo, &["init", "-q"]);
    git_ok(&repo, &["add", "-A"]);
    git_ok(&repo, &["commit", "-q", "-m", "history"]);
    repo
}

/// On a new git branch from main: a revision adding `column` to `users`.
fn feature(repo: &Path, branch: &str, id: &str, column: &str) {
    git_ok(repo, &["checkout", "-q", "-b", branch, "main"]);
    let message = format!("add users.{column}");
    braid(repo, &["generate", "-m", &message, "--rev-id", id]).ok();
    let dir = std::fs::read_dir(repo.join("migrations"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(id))
        .unwrap();
    let up = format!("ALTER TABLE users ADD COLUMN {column} VARCHAR(40);\n");
    let down = format!("ALTER TABLE users DROP COLUMN {column};\n");
    std::fs::write(dir.join("up.sql"), up).unwrap();
    std::fs::write(dir.join("down.sql"), down).unwrap();
    git_ok(repo, &["add", "-A"]);
    git_ok(repo, &["commit", "-q", "-m", &message]);
}

/// Two branches from main, each adding a revision on its single head; main merges both and
/// git conflicts on the heads file.
fn diverge_and_conflict(repo: &Path) {
    feature(repo, "nickname", "f1_nickname", "nickname");
    feature(repo, "phone", "f2_phone", "phone");
    git_ok(repo, &["checkout", "-q", "main"]);
    git_ok(repo, &["merge", "-q", "nickname"]);
    let merged = git(repo, &["merge", "phone"]);
    assert!(!merged.status.success(), "git merged without a conflict");
    let said = String::from_utf8_lossy(&merged.stdout);
    assert!(
        said.contains("CONFLICT (content): Merge conflict in migrations/HEADS"),
        "{said}"
    );
    // Both revisions are in the working tree; only the heads file conflicts.
    let check = braid(repo, &["check"]).fails(3);
    assert!(
        check.stdout.contains("2 heads (f1_nickname, f2_phone)"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("conflict markers"),
        "{}",
        check.stdout
    );
}

/// Every database applies the new revisions, then `check` passes.
fn upgrade_everywhere(repo: &Path, names: &[&str]) {
    let up = braid(repo, &["--format", "json", "upgrade", "heads"])
        .ok()
        .json();
    for db in up["databases"].as_array().unwrap() {
        assert_eq!(db["status"], "ok", "{db}");
    }
    assert_eq!(up["databases"].as_array().unwrap().len(), names.len());
    braid(repo, &["check"]).ok();
}

fn with_three_backends(test: impl Fn(&[(&str, &str)]) + Sync) {
    with_db::<braid_tests::PostgresTarget>(|pg| {
        with_db::<braid_tests::MysqlTarget>(|my| {
            let tmp = tempfile::tempdir().unwrap();
            let sqlite = format!("sqlite://{}", tmp.path().join("app.db").display());
            test(&[
                ("sqlite", &sqlite),
                ("postgres", &pg.url),
                ("mysql", &my.url),
            ]);
        })
    });
}

#[test]
fn two_branches_on_one_head_then_a_merge_revision() {
    with_three_backends(|urls| {
        let tmp = tempfile::tempdir().unwrap();
        let repo = repository(tmp.path(), urls);
        braid(&repo, &["upgrade", "heads"]).ok();
        diverge_and_conflict(&repo);

        let merged = braid(&repo, &["merge", "heads", "-m", "join nickname and phone"]).ok();
        // Two new columns on one table: reported, not refused.
        assert!(
            merged.stdout.contains(
                "overlap: both sides alter table users (left: f1_nickname; right: f2_phone)"
            ),
            "{}",
            merged.stdout
        );
        git_ok(&repo, &["add", "-A"]);
        git_ok(&repo, &["commit", "-q", "--no-edit"]);
        let names: Vec<&str> = urls.iter().map(|(n, _)| *n).collect();
        upgrade_everywhere(&repo, &names);
    });
}

#[test]
fn two_branches_on_one_head_then_a_rebase() {
    with_three_backends(|urls| {
        let tmp = tempfile::tempdir().unwrap();
        let repo = repository(tmp.path(), urls);
        braid(&repo, &["upgrade", "heads"]).ok();
        diverge_and_conflict(&repo);

        // A revision one database ran keeps its parents: the rebase names that database.
        braid(&repo, &["--db", "postgres", "upgrade", "f2_phone"]).ok();
        let refused = braid(&repo, &["rebase", "f2_phone"]).fails(1);
        assert!(
            refused
                .stderr
                .contains("database `postgres` has applied f2_phone"),
            "{}",
            refused.stderr
        );
        braid(&repo, &["--db", "postgres", "downgrade", "-1"]).ok();

        let rebased = braid(&repo, &["rebase", "f2_phone"]).ok();
        assert!(
            rebased
                .stdout
                .contains("f2_phone: parents zd4_plans_drop_price_cents -> f1_nickname"),
            "{}",
            rebased.stdout
        );
        let heads = braid(&repo, &["--format", "json", "heads"]).ok().json();
        assert_eq!(heads["heads"].as_array().unwrap().len(), 1, "{heads}");
        assert_eq!(heads["heads"][0]["revision"], "f2_phone");
        git_ok(&repo, &["add", "-A"]);
        git_ok(&repo, &["commit", "-q", "--no-edit"]);
        let names: Vec<&str> = urls.iter().map(|(n, _)| *n).collect();
        upgrade_everywhere(&repo, &names);
        let history = braid(&repo, &["history", "-r", "core3_merge_audit_billing:"]).ok();
        let order: Vec<&str> = history
            .stdout
            .lines()
            .filter_map(|l| l.split(" -> ").nth(1))
            .map(|l| l.split([' ', ',']).next().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "f2_phone",
                "f1_nickname",
                "zd4_plans_drop_price_cents",
                "zd3_plans_backfill_price_minor",
                "zd2_plans_price_minor_index",
                "zd1_plans_price_minor",
                "core3_merge_audit_billing"
            ]
        );
    });
}
