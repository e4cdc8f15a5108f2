//! The standalone `braid` binary (braid-cli's `src/main.rs`): the same commands, flags, output
//! and exit codes as `cargo xtask migrate`, the project root found at run time, a clear way out
//! for Rust revisions it cannot compile, and shell completions.

mod support;

use std::path::{Path, PathBuf};

use support::{Run, braid_bin, copy_tree, run_in, xtask_bin};

fn revision(dir: &Path, id: &str, parents: &[&str], labels: &[&str], created: &str) {
    let rev = dir.join(id);
    std::fs::create_dir_all(&rev).unwrap();
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    std::fs::write(
        rev.join("revision.toml"),
        format!(
            "id = {id:?}\nparents = [{}]\nbranch_labels = [{}]\nmessage = \"make {id}\"\ncreated = {created}\n",
            list(parents),
            list(labels)
        ),
    )
    .unwrap();
    std::fs::write(
        rev.join("up.sql"),
        format!("CREATE TABLE t_{id} (id INTEGER);\n"),
    )
    .unwrap();
    std::fs::write(rev.join("down.sql"), format!("DROP TABLE t_{id};\n")).unwrap();
}

/// A Cargo workspace with a config (one SQLite database, relative to the root) and a small
/// SQL graph: a base, two branches, a merge.
fn project(root: &Path) -> PathBuf {
    let m = root.join("migrations");
    revision(&m, "a", &[], &[], "2026-11-01T00:00:00Z");
    revision(&m, "b", &["a"], &["left"], "2026-11-02T00:00:00Z");
    revision(&m, "c", &["a"], &["right"], "2026-11-03T00:00:00Z");
    revision(&m, "d", &["b", "c"], &[], "2026-11-04T00:00:00Z");
    std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(
        root.join("config/braid.toml"),
        "[default.databases.app]\nurl = \"sqlite://.braid/app.db\"\n",
    )
    .unwrap();
    root.to_path_buf()
}

/// What a command printed, with what differs between the two runs taken out: the invocation,
/// the project's directory, timings.
fn normalised(run: &Run, root: &Path) -> (i32, String, String) {
    let clean = |text: &str| {
        let text = text
            .replace("cargo xtask migrate", "braid")
            .replace(&root.display().to_string(), "<root>");
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(mut json) => {
                strip_timings(&mut json);
                json.to_string()
            }
            Err(_) => strip_unit(&strip_unit(&text, " s", true), " ms", false),
        }
    };
    (run.code, clean(&run.stdout), clean(&run.stderr))
}

/// Human output's durations (`0.01 s` in tables, `14 ms` in step lines) as `<t> s` and
/// `<t> ms`: two runs never take the same time. Seconds are told from other words ending in
/// ` s` by their decimal point.
fn strip_unit(text: &str, unit: &str, decimal: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(unit) {
        let (before, after) = rest.split_at(at);
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let number = &before[start..];
        let digits = number.chars().next().is_some_and(|c| c.is_ascii_digit());
        if digits && number.contains('.') == decimal {
            out.push_str(&before[..start]);
            out.push_str("<t>");
        } else {
            out.push_str(before);
        }
        out.push_str(unit);
        rest = &after[unit.len()..];
    }
    out.push_str(rest);
    out
}

fn strip_timings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("ms");
            map.values_mut().for_each(strip_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_timings),
        _ => {}
    }
}

#[test]
fn the_standalone_binary_answers_as_cargo_xtask_migrate_does() {
    let tmp = tempfile::tempdir().unwrap();
    let with_xtask = project(&tmp.path().join("x"));
    let with_braid = project(&tmp.path().join("b"));
    let commands: &[&[&str]] = &[
        &["heads"],
        &["heads", "-v"],
        &["--format", "json", "heads"],
        &["branches"],
        &["show", "left"],
        &["show", "nope"],
        &["history"],
        &["history", "--graph"],
        &["--format", "json", "history", "-r", "b:d"],
        &["--format", "json", "current"],
        &["check"],
        &["--format", "json", "upgrade", "left@head"],
        &["history", "-i"],
        &["upgrade", "base:heads", "--sql"],
        &["downgrade", "base", "--sql"],
        &["--format", "json", "upgrade"],
        &["current"],
        &["check"],
        &["downgrade", "-1"],
        &["--format", "json", "downgrade", "right@base"],
        &["--format", "json", "check"],
        &["stamp", "heads", "--purge"],
        &[
            "--format",
            "json",
            "generate",
            "-m",
            "add things",
            "--rev-id",
            "e",
        ],
        &["merge", "heads"],
        &["--format", "json", "drivers"],
        &["no-such-command"],
    ];
    for args in commands {
        let xtask = run_in(
            xtask_bin(),
            &with_xtask,
            &[&["migrate"], *args].concat(),
            &[],
        );
        let braid = run_in(braid_bin(), &with_braid, args, &[]);
        assert_eq!(
            normalised(&braid, &with_braid),
            normalised(&xtask, &with_xtask),
            "`braid {}` differs from `cargo xtask migrate {0}`",
            args.join(" ")
        );
    }
}

#[test]
fn rust_revisions_point_to_the_xtask_or_an_embedding() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(tmp.path());
    std::fs::remove_dir_all(root.join("migrations")).unwrap();
    copy_tree(&braid_tests::repo_migrations(), &root.join("migrations"));
    let braid = |args: &[&str]| run_in(braid_bin(), &root, args, &[]);

    // Reading the graph and the databases, and recording, need no compiled body.
    braid(&["heads"]).ok();
    braid(&["stamp", "core1_users"]).ok();
    braid(&["check"]).fails(4);
    let refused = braid(&["upgrade"]).fails(1);
    for needle in [
        "core2_user_preferences",
        "Rust migration",
        "braid_cli::xtask",
        "embed",
    ] {
        assert!(
            refused.stderr.contains(needle),
            "{needle}: {}",
            refused.stderr
        );
    }
    let offline = braid(&["upgrade", "base:core1_users", "--sql"]).fails(1);
    assert!(
        offline.stderr.contains("Rust migration"),
        "{}",
        offline.stderr
    );
    // Entities are compiled into an xtask too: the standalone binary says where to register
    // them, and writes nothing.
    let revisions = || std::fs::read_dir(root.join("migrations")).unwrap().count();
    let before = revisions();
    for args in [
        &["generate", "--autogenerate", "-m", "from entities"][..],
        &["check", "--models"][..],
    ] {
        let refused = braid(args).fails(1);
        assert!(
            refused.stderr.contains("with_models"),
            "{args:?}: {}",
            refused.stderr
        );
    }
    assert_eq!(revisions(), before);
}

#[test]
fn the_root_is_the_workspace_around_the_current_directory() {
    let tmp = tempfile::tempdir().unwrap();
    // A root whose path has characters a URL would treat specially.
    let root = project(&tmp.path().join("c# shop?"));
    let deep = root.join("services/api/src");
    std::fs::create_dir_all(&deep).unwrap();

    run_in(braid_bin(), &deep, &["upgrade"], &[]).ok();
    assert!(
        root.join(".braid/app.db").is_file(),
        "the config's SQLite file is under the root"
    );
    assert!(!deep.join(".braid").exists());

    let elsewhere = tmp.path();
    let root_arg = root.display().to_string();
    let by_flag = run_in(braid_bin(), elsewhere, &["--root", &root_arg, "heads"], &[]).ok();
    assert_eq!(by_flag.stdout, "d (left, right) (head) (mergepoint)\n");
    let by_env = run_in(
        braid_bin(),
        elsewhere,
        &["heads"],
        &[("BRAID_ROOT", &root_arg)],
    )
    .ok();
    assert_eq!(by_env.stdout, by_flag.stdout);
    // Outside any project: the current directory is the root, and it has no migrations.
    let outside = run_in(braid_bin(), elsewhere, &["heads"], &[]).fails(1);
    assert!(
        outside.stderr.contains("does not exist"),
        "{}",
        outside.stderr
    );
}

#[test]
fn shell_completions() {
    let tmp = tempfile::tempdir().unwrap();
    let bash = run_in(braid_bin(), tmp.path(), &["completions", "bash"], &[]).ok();
    assert!(
        bash.stdout.contains("_braid") && bash.stdout.contains("upgrade"),
        "{}",
        bash.stdout
    );
    let zsh = run_in(
        xtask_bin(),
        tmp.path(),
        &["migrate", "completions", "zsh"],
        &[],
    )
    .ok();
    assert!(zsh.stdout.contains("downgrade"), "{}", zsh.stdout);
}
