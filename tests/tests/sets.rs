//! Several migration sets in one project: a database may name its own migrations directory
//! (`migrations = "services/billing/migrations"`); each set is its own graph. Graph commands
//! choose a set, database commands drive every database along its own, from one command —
//! through the library, with Rust revisions in both sets, and through the command line.

mod support;

use std::path::{Path, PathBuf};

use braid::{Error, Operation, Project, ProjectOptions, RunSettings};
use support::{copy_tree, run_in, xtask_bin};

/// A monorepo at `root`: the repository's migrations for `app`, `billing` on `billing_dir`.
fn monorepo(root: &Path, billing_dir: &Path) -> PathBuf {
    copy_tree(&braid_tests::repo_migrations(), &root.join("migrations"));
    copy_tree(billing_dir, &root.join("services/billing/migrations"));
    std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(
        root.join("config/braid.toml"),
        r#"
[default]
migrations = "migrations"

[default.databases.app]
url = "sqlite://.braid/app.db"

[default.databases.billing]
url = "sqlite://.braid/billing.db"
migrations = "services/billing/migrations"
"#,
    )
    .unwrap();
    root.to_path_buf()
}

fn tables(root: &Path, file: &str) -> Vec<String> {
    support::sqlite_tables(&root.join(".braid").join(file))
}

/// The project at `root`, with the Rust revisions of both sets compiled in.
fn open(root: &Path) -> Project {
    Project::open(
        ProjectOptions {
            root: Some(root.to_path_buf()),
            ..ProjectOptions::default()
        },
        braid_tests::repo_rust_revisions(),
    )
    .unwrap()
}

#[test]
fn each_database_follows_its_own_set_with_rust_revisions_in_both() {
    let tmp = tempfile::tempdir().unwrap();
    let root = monorepo(tmp.path(), &braid_tests::billing_migrations());
    let project = open(&root);
    let sets = project.sets();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1].dir, root.join("services/billing/migrations"));
    assert_eq!(sets[1].databases, ["billing"]);
    assert!(matches!(
        project.set_dir(&[]),
        Err(Error::SeveralSets { .. })
    ));
    assert_eq!(
        project.set_dir(&["billing".to_string()]).unwrap(),
        sets[1].dir
    );

    let settings = RunSettings::default();
    let results = project
        .run(
            &settings,
            &Operation::Upgrade {
                target: "heads".into(),
                phase: None,
            },
            &|_| {},
        )
        .unwrap();
    assert_eq!(results[0].current, ["zd4_plans_drop_price_cents"]);
    assert_eq!(results[1].current, ["b2_invoices"]);
    // Both sets have a Rust revision `core1_users`; each ran its own body. Relative SQLite
    // URLs are files under the root, wherever the command runs.
    assert!(tables(&root, "app.db").contains(&"users".to_string()));
    assert_eq!(tables(&root, "billing.db"), ["billing_users", "invoices"]);
    let report = project.check(&settings, None, &|_| {}).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

fn revision(dir: &Path, id: &str, parents: &[&str], up: &str, down: &str) {
    let rev = dir.join(id);
    std::fs::create_dir_all(&rev).unwrap();
    let parents: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
    std::fs::write(
        rev.join("revision.toml"),
        format!(
            "id = {id:?}\nparents = [{}]\nmessage = {id:?}\ncreated = 2026-11-20T10:00:00Z\n",
            parents.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(rev.join("up.sql"), up).unwrap();
    std::fs::write(rev.join("down.sql"), down).unwrap();
}

#[test]
fn graph_commands_choose_a_set_and_database_commands_drive_every_set() {
    let tmp = tempfile::tempdir().unwrap();
    let billing = tmp.path().join("billing-src");
    revision(
        &billing,
        "b1",
        &[],
        "CREATE TABLE invoices (id INT);",
        "DROP TABLE invoices;",
    );
    revision(
        &billing,
        "b2",
        &["b1"],
        "CREATE TABLE refunds (id INT);",
        "DROP TABLE refunds;",
    );
    let root = monorepo(&tmp.path().join("mono"), &billing);
    let xtask = |args: &[&str]| {
        let all = [&["migrate"], args].concat();
        run_in(xtask_bin(), &root, &all, &[])
    };

    let refused = xtask(&["heads"]).fails(1);
    assert!(
        refused.stderr.contains("2 migration sets") && refused.stderr.contains("--db NAME"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        xtask(&["--db", "billing", "heads"]).ok().stdout,
        "b2 (head)\n"
    );
    assert_eq!(
        xtask(&["--db", "app", "heads"]).ok().stdout,
        "zd4_plans_drop_price_cents (audit, billing) (head)\n"
    );

    // A revision of one set, with no database named, is refused rather than failing the
    // databases of the other set.
    let refused = xtask(&["upgrade", "b1"]).fails(1);
    assert!(
        refused.stderr.contains("set of billing only") && refused.stderr.contains("--db"),
        "{}",
        refused.stderr
    );
    xtask(&["--db", "billing", "upgrade", "b1"]).ok();

    let up = xtask(&["--format", "json", "upgrade", "heads"]).ok().json();
    assert_eq!(
        up["databases"][0]["current"][0],
        "zd4_plans_drop_price_cents"
    );
    assert_eq!(up["databases"][1]["current"][0], "b2");

    let generated = xtask(&[
        "--db",
        "billing",
        "--format",
        "json",
        "generate",
        "-m",
        "add credits",
    ])
    .ok()
    .json();
    let file = generated["files"][0].as_str().unwrap();
    assert!(file.starts_with("services/billing/migrations/"), "{file}");
    assert_eq!(generated["parents"][0], "b2");

    let check = xtask(&["--format", "json", "check"]).fails(4).json();
    let problems = check["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .starts_with("billing: 1 pending"),
        "{problems:?}"
    );

    // Offline SQL: one script per database, each from its own set.
    let scripts = xtask(&["--format", "json", "upgrade", "base:heads", "--sql"])
        .ok()
        .json();
    let scripts = scripts["scripts"].as_array().unwrap();
    assert!(
        scripts[0]["sql"]
            .as_str()
            .unwrap()
            .contains("user_preferences")
    );
    assert!(
        scripts[1]["sql"]
            .as_str()
            .unwrap()
            .contains("CREATE TABLE refunds")
    );

    let marked = xtask(&["--db", "billing", "history", "-i"]).ok();
    assert!(marked.stdout.contains("b1 (applied)"), "{}", marked.stdout);
}

/// A migration set that does not load fails its own databases only.
#[test]
fn a_set_that_does_not_load_fails_only_its_databases() {
    let tmp = tempfile::tempdir().unwrap();
    let root = monorepo(tmp.path(), &braid_tests::billing_migrations());
    let config = root.join("config/braid.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[default.databases.reports]\nurl = \"sqlite://.braid/reports.db\"\nmigrations = \"services/reports/migrations\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let project = open(&root);
    let upgrade = Operation::Upgrade {
        target: "heads".into(),
        phase: None,
    };
    let results = project
        .run(&RunSettings::default(), &upgrade, &|_| {})
        .unwrap();
    let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["app", "billing", "reports"], "config order");
    assert_eq!(results[0].status, braid::DbStatus::Ok);
    assert_eq!(results[1].status, braid::DbStatus::Ok);
    assert_eq!(results[2].status, braid::DbStatus::Error);
    let error = results[2].error.as_deref().unwrap();
    assert!(
        error.contains("`reports`") && error.contains("does not exist"),
        "{error}"
    );
}
