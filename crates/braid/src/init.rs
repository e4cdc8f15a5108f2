//! `braid init`: wires Braid into an existing Cargo workspace.
//!
//! What it writes, all relative to the workspace root:
//!
//! * `xtask/` — a crate whose `main` is one call into `braid_cli`, so `cargo xtask migrate …`
//!   runs every command; with Rust revisions, a `build.rs` that compiles them in. The crate is
//!   added to the workspace's `members` (a single-package project gets a `[workspace]` table).
//!   Where an `xtask` crate already exists, nothing of it is touched: the report carries the
//!   lines to add by hand.
//! * `.cargo/config.toml` — the `cargo xtask` alias.
//! * `config/braid.toml` — one embedded SQLite database (`.braid/app.db`), the others the
//!   chosen backends make possible as comments.
//! * `migrations/` — the migrations directory, with a README saying how revisions are made.
//! * `.gitignore` — `.braid/` (the SQLite files).
//!
//! Idempotent: a file that exists is never overwritten, a setting already present is left as
//! it is, and a second run changes nothing.

use std::path::{Path, PathBuf};

use braid_driver::Dialect;
use serde::Serialize;

/// Where the Braid crates a new xtask depends on come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BraidSource {
    /// The checkout this binary was built from (it must still exist).
    #[default]
    Auto,
    /// Path dependencies on a Braid checkout.
    Path(PathBuf),
    /// A version requirement from the registry.
    Version(String),
}

/// What `init` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOptions {
    /// A directory inside the workspace to wire (its Cargo workspace root is used).
    pub dir: PathBuf,
    /// The built-in drivers to compile in (`sqlite` at least, for the default database).
    pub backends: Vec<Dialect>,
    /// Rust revisions (sea-orm-migration's `SchemaManager`).
    pub rust: bool,
    pub braid: BraidSource,
}

/// What `init` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InitReport {
    pub root: PathBuf,
    /// Files and directories created.
    pub created: Vec<PathBuf>,
    /// Existing files a setting was added to, with what was added.
    pub changed: Vec<(PathBuf, String)>,
    /// Lines to add by hand (an `xtask` that existed before), empty when there is nothing to do.
    pub manual: Vec<String>,
}

/// Why `init` could not run.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(
        "no Cargo.toml in {} or any directory above it: `braid init` wires Braid into a Cargo \
         workspace (create one with `cargo new` or `cargo init`)",
        .0.display()
    )]
    NoWorkspace(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not valid TOML, left as it is: {message}", path.display())]
    Toml { path: PathBuf, message: String },
    #[error("the default database is SQLite: --backends must include sqlite (got {0})")]
    NoSqlite(String),
    #[error(
        "the Braid checkout this binary was built from is gone: pass --braid-path DIR (a Braid \
         checkout) or --braid-version V (from a registry that has Braid's crates)"
    )]
    NoCheckout,
}

/// The Braid checkout this binary was built from (`<checkout>/crates/braid`), if it is still
/// there.
pub fn built_from() -> Option<PathBuf> {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?.parent()?;
    checkout
        .join("crates/braid-cli/Cargo.toml")
        .is_file()
        .then(|| checkout.to_path_buf())
}

/// Wires Braid into the workspace around `options.dir`.
pub fn init(options: &InitOptions) -> Result<InitReport, InitError> {
    if !options.backends.contains(&Dialect::Sqlite) {
        let named: Vec<&str> = options.backends.iter().map(|d| d.as_str()).collect();
        return Err(InitError::NoSqlite(named.join(", ")));
    }
    let dir = std::path::absolute(&options.dir).map_err(|source| InitError::Io {
        path: options.dir.clone(),
        source,
    })?;
    let root = crate::root::find_root(&dir);
    if !root.join("Cargo.toml").is_file() {
        return Err(InitError::NoWorkspace(dir));
    }
    // Read what may be edited before writing anything: a file that cannot be edited stops
    // `init` before it changed the workspace.
    parse(&root.join("Cargo.toml"))?;
    if root.join(CARGO_CONFIG).exists() {
        parse(&root.join(CARGO_CONFIG))?;
    }
    let mut report = InitReport {
        root: root.clone(),
        ..InitReport::default()
    };
    let deps = Dependencies::new(options)?;
    xtask(&root, options, &deps, &mut report)?;
    create(
        &root.join("config/braid.toml"),
        &config_file(options),
        &mut report,
    )?;
    create(
        &root.join("migrations/README.md"),
        MIGRATIONS_README,
        &mut report,
    )?;
    gitignore(&root, &mut report)?;
    Ok(report)
}

/// The dependency lines of a new xtask.
struct Dependencies {
    braid: String,
    cli: String,
    build: String,
}

impl Dependencies {
    fn new(options: &InitOptions) -> Result<Self, InitError> {
        let source = match &options.braid {
            BraidSource::Auto => BraidSource::Path(built_from().ok_or(InitError::NoCheckout)?),
            other => other.clone(),
        };
        let mut features: Vec<&str> = options
            .backends
            .iter()
            .map(|d| crate::drivers::feature_of(*d))
            .collect();
        features.sort();
        features.dedup();
        if options.rust {
            features.push("rust");
        }
        let features = features
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let at = |krate: &str| match &source {
            BraidSource::Path(checkout) => {
                format!(
                    "path = {:?}",
                    checkout.join("crates").join(krate).display().to_string()
                )
            }
            BraidSource::Version(v) => format!("version = {v:?}"),
            BraidSource::Auto => unreachable!("resolved above"),
        };
        Ok(Dependencies {
            braid: format!(
                "braid = {{ {}, default-features = false, features = [{features}] }}",
                at("braid")
            ),
            cli: format!(
                "braid-cli = {{ {}, default-features = false }}",
                at("braid-cli")
            ),
            build: format!("braid-build = {{ {} }}", at("braid-build")),
        })
    }
}

const ALIAS: &str = "xtask = \"run --quiet --package xtask --\"";
const CARGO_CONFIG: &str = ".cargo/config.toml";

/// Creates the xtask crate and registers it, or — for an xtask that exists — lists what to add.
fn xtask(
    root: &Path,
    options: &InitOptions,
    deps: &Dependencies,
    report: &mut InitReport,
) -> Result<(), InitError> {
    let crate_dir = root.join("xtask");
    let main = if options.rust {
        "braid_cli::xtask(braid::rust_revisions!())"
    } else {
        "braid_cli::xtask(braid::RustRevisions::new())"
    };
    if crate_dir.exists() {
        let manifest = read(&crate_dir.join("Cargo.toml"))?.unwrap_or_default();
        if manifest.contains("braid-cli") {
            // Wired already (by an earlier run): finish what that run may not have.
            add_member(root, report)?;
            return add_alias(root, report);
        }
        report.manual.push(format!(
            "xtask/Cargo.toml, under [dependencies]:\n  {}\n  {}",
            deps.braid, deps.cli
        ));
        if options.rust {
            report.manual.push(format!(
                "xtask/Cargo.toml, under [build-dependencies]:\n  {}\nxtask/build.rs, in main:\n  braid_build::rust_revisions([\"../migrations\"]);",
                deps.build
            ));
        }
        report.manual.push(format!(
            "xtask/src/main.rs: run `{main}` for the `migrate` subcommand (braid_cli::Args \
             embeds the whole command line in your own clap parser; see braid_cli::run)"
        ));
        if !has_alias(root)? {
            report
                .manual
                .push(format!(".cargo/config.toml, under [alias]:\n  {ALIAS}"));
        }
        return Ok(());
    }
    let mut manifest = format!(
        "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\
         description = \"Workspace tasks: `cargo xtask migrate …` runs Braid's migrations.\"\n\n\
         [dependencies]\n{}\n{}\n",
        deps.braid, deps.cli
    );
    if options.rust {
        manifest.push_str(&format!("\n[build-dependencies]\n{}\n", deps.build));
        create(&crate_dir.join("build.rs"), BUILD_RS, report)?;
    }
    create(&crate_dir.join("Cargo.toml"), &manifest, report)?;
    create(
        &crate_dir.join("src/main.rs"),
        &format!(
            "//! `cargo xtask migrate …`: this workspace's database migrations, with Braid.\n\n\
             fn main() -> std::process::ExitCode {{\n    {main}\n}}\n"
        ),
        report,
    )?;
    add_member(root, report)?;
    add_alias(root, report)
}

const BUILD_RS: &str = "//! Compiles the Rust revisions of the migrations directory into `cargo xtask migrate`.\n\n\
fn main() {\n    braid_build::rust_revisions([\"../migrations\"]);\n}\n";

/// Adds `xtask` to the workspace's members (a `[workspace]` table for a single package).
fn add_member(root: &Path, report: &mut InitReport) -> Result<(), InitError> {
    let path = root.join("Cargo.toml");
    let mut doc = parse(&path)?;
    let workspace = doc
        .entry("workspace")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut();
    let Some(workspace) = workspace else {
        return Err(InitError::Toml {
            path,
            message: "`workspace` is not a table".into(),
        });
    };
    if workspace.get("members").is_none() {
        workspace.insert("members", toml_edit::value(toml_edit::Array::new()));
    }
    let members = workspace.get_mut("members").and_then(|m| m.as_array_mut());
    let Some(members) = members else {
        return Err(InitError::Toml {
            path,
            message: "`workspace.members` is not an array".into(),
        });
    };
    if members
        .iter()
        .filter_map(|m| m.as_str())
        .any(|m| glob_matches(m, "xtask"))
    {
        return Ok(());
    }
    members.push("xtask");
    write(&path, &doc.to_string())?;
    report
        .changed
        .push((path, "\"xtask\" in [workspace] members".into()));
    Ok(())
}

/// `pattern` (Cargo's member globs: `*` within a path segment) matches `name`.
fn glob_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.trim_end_matches('/') == name,
        Some((prefix, suffix)) => {
            !name.contains('/')
                && name.len() >= prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        }
    }
}

fn has_alias(root: &Path) -> Result<bool, InitError> {
    let path = root.join(CARGO_CONFIG);
    if !path.exists() {
        return Ok(false);
    }
    Ok(parse(&path)?
        .get("alias")
        .and_then(|a| a.get("xtask"))
        .is_some())
}

/// The `cargo xtask` alias in `.cargo/config.toml`, unless one is there.
fn add_alias(root: &Path, report: &mut InitReport) -> Result<(), InitError> {
    let path = root.join(CARGO_CONFIG);
    if !path.exists() {
        return create(&path, &format!("[alias]\n{ALIAS}\n"), report);
    }
    if has_alias(root)? {
        return Ok(());
    }
    let mut doc = parse(&path)?;
    let alias = doc.entry("alias").or_insert_with(toml_edit::table);
    let Some(alias) = alias.as_table_like_mut() else {
        return Err(InitError::Toml {
            path,
            message: "`alias` is not a table".into(),
        });
    };
    alias.insert("xtask", toml_edit::value("run --quiet --package xtask --"));
    write(&path, &doc.to_string())?;
    report.changed.push((path, "the `xtask` alias".into()));
    Ok(())
}

/// `.braid/` in `.gitignore`: the embedded SQLite databases are local state.
fn gitignore(root: &Path, report: &mut InitReport) -> Result<(), InitError> {
    let path = root.join(".gitignore");
    let Some(text) = read(&path)? else {
        return create(&path, "/target\n.braid/\n", report);
    };
    if text
        .lines()
        .any(|l| matches!(l.trim(), ".braid" | ".braid/" | "/.braid" | "/.braid/"))
    {
        return Ok(());
    }
    let separator = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    write(&path, &format!("{text}{separator}.braid/\n"))?;
    report.changed.push((path, "`.braid/`".into()));
    Ok(())
}

fn config_file(options: &InitOptions) -> String {
    let mut text = String::from(
        "# Braid's configuration, found at the project root (the Cargo workspace around the current\n\
         # directory, or --root); relative paths in it are relative to that root.\n\
         # Top-level tables are profiles: [default] is always read, `--profile NAME` layers\n\
         # another over it. BRAID_<KEY> environment variables override both, with `__` between\n\
         # nested keys (BRAID_DATABASES__APP__URL=…).\n\n\
         [default]\nmigrations = \"migrations\"\nlock_timeout_secs = 60\njobs = 4\n\n\
         # The default needs no server: an SQLite file under .braid/ (git-ignored).\n\
         [default.databases.app]\nurl = \"sqlite://.braid/app.db\"\n",
    );
    for dialect in &options.backends {
        let example = match dialect {
            Dialect::Postgres => {
                "[servers.databases.pg]\n# url = \"postgres://user@127.0.0.1:5432/app\""
            }
            Dialect::Mysql => {
                "[servers.databases.mysql]\n# url = \"mysql://root@127.0.0.1:3306/app\""
            }
            Dialect::Sqlite => continue,
        };
        text.push_str(&format!(
            "\n# `cargo xtask migrate --profile servers …` adds this database (set its URL):\n# {}\n",
            example
        ));
    }
    text
}

const MIGRATIONS_README: &str = "# Migrations\n\n\
One directory per revision, made by `cargo xtask migrate generate -m \"what it does\"`\n\
(`--rust` for a Rust migration written with sea-orm-migration's `SchemaManager`). Each holds a\n\
`revision.toml` and `up.sql`/`down.sql` (per-dialect `up.postgres.sql`, … override them) or a\n\
`migration.rs`. Files at this level, like this one, are ignored.\n";

/// Creates `path` with `text` unless it exists (never overwritten).
fn create(path: &Path, text: &str, report: &mut InitReport) -> Result<(), InitError> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| InitError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    write(path, text)?;
    report.created.push(path.to_path_buf());
    Ok(())
}

fn read(path: &Path) -> Result<Option<String>, InitError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InitError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write(path: &Path, text: &str) -> Result<(), InitError> {
    std::fs::write(path, text).map_err(|source| InitError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn parse(path: &Path) -> Result<toml_edit::DocumentMut, InitError> {
    let text = read(path)?.unwrap_or_default();
    text.parse()
        .map_err(|e: toml_edit::TomlError| InitError::Toml {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> InitOptions {
        InitOptions {
            dir: dir.to_path_buf(),
            backends: vec![Dialect::Sqlite, Dialect::Postgres],
            rust: true,
            braid: BraidSource::Version("0.1.0".into()),
        }
    }

    #[test]
    fn single_package_becomes_a_workspace_and_a_second_run_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[package]\nname = \"shop\" # the app\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        std::fs::write(root.join(".gitignore"), "/target").unwrap();
        let report = init(&options(root)).unwrap();
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"shop\" # the app"), "{manifest}");
        assert!(
            manifest.contains("[workspace]\nmembers = [\"xtask\"]"),
            "{manifest}"
        );
        let xtask = std::fs::read_to_string(root.join("xtask/Cargo.toml")).unwrap();
        assert!(
            xtask.contains(
                "braid = { version = \"0.1.0\", default-features = false, features = [\"postgres\", \"sqlite\", \"rust\"] }"
            ),
            "{xtask}"
        );
        assert!(
            xtask.contains("[build-dependencies]\nbraid-build"),
            "{xtask}"
        );
        assert!(root.join("xtask/build.rs").is_file());
        assert!(root.join("config/braid.toml").is_file());
        assert!(root.join("migrations/README.md").is_file());
        assert_eq!(
            std::fs::read_to_string(root.join(".gitignore")).unwrap(),
            "/target\n.braid/\n"
        );
        assert!(report.manual.is_empty());
        assert_eq!(report.changed.len(), 2, "{:?}", report.changed);

        let before = snapshot(root);
        let again = init(&options(root)).unwrap();
        assert!(again.created.is_empty() && again.changed.is_empty() && again.manual.is_empty());
        assert_eq!(snapshot(root), before);
    }

    #[test]
    fn an_existing_xtask_is_left_alone_with_the_lines_to_add() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\", \"xtask\"]\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("xtask/src")).unwrap();
        std::fs::write(
            root.join("xtask/Cargo.toml"),
            "[package]\nname = \"xtask\"\n",
        )
        .unwrap();
        let report = init(&options(root)).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("xtask/Cargo.toml")).unwrap(),
            "[package]\nname = \"xtask\"\n"
        );
        let manual = report.manual.join("\n");
        assert!(manual.contains("braid-cli = { version"), "{manual}");
        assert!(manual.contains("rust_revisions"), "{manual}");
        assert!(manual.contains("[alias]"), "{manual}");
        assert!(!root.join(".cargo/config.toml").exists());
    }

    #[test]
    fn an_inline_alias_table_gets_the_alias_and_a_bad_manifest_changes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"app\"]\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join(".cargo")).unwrap();
        std::fs::write(
            root.join(".cargo/config.toml"),
            "alias = { b = \"build\" }\n",
        )
        .unwrap();
        init(&options(root)).unwrap();
        let config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
        assert!(
            config.contains("b = \"build\"") && config.contains("xtask = \"run"),
            "{config}"
        );
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("members = [\"app\", \"xtask\"]"),
            "{manifest}"
        );

        let broken = tempfile::tempdir().unwrap();
        std::fs::write(broken.path().join("Cargo.toml"), "[workspace\n").unwrap();
        assert!(matches!(
            init(&options(broken.path())),
            Err(InitError::Toml { .. })
        ));
        assert!(!broken.path().join("xtask").exists(), "nothing written");
    }

    #[test]
    fn member_globs() {
        assert!(glob_matches("xtask", "xtask"));
        assert!(glob_matches("*", "xtask"));
        assert!(glob_matches("x*", "xtask"));
        assert!(!glob_matches("crates/*", "xtask"));
    }

    fn snapshot(root: &Path) -> Vec<(PathBuf, String)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        out.sort();
        out
    }
}
