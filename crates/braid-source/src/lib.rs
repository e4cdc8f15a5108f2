//! The migrations directory on disk: reading revisions into a [`braid_graph::Graph`], reading
//! the SQL a revision runs, checksums, and writing new revisions.
//!
//! # Format
//!
//! ```text
//! migrations/
//!   README.md                      plain files at the top level are ignored
//!   .scratch/                      hidden entries (starting with '.') are ignored
//!   a1b2c3d4e5f6_add_users/        one directory per revision, any name
//!     revision.toml                required
//!     up.sql                       upgrade, used for every dialect without an override
//!     down.sql                     downgrade: must exactly undo up.sql
//!     down.mysql.sql               optional per-dialect override (postgres, mysql, sqlite)
//! ```
//!
//! * **One directory per revision** directly under the migrations directory. The name is free;
//!   `generate` writes `<id>_<slug>` (slug: the message lowercased, every run of characters other
//!   than ASCII letters and digits turned into one `_`, at most 40 characters) so that `ls`
//!   shows what each one does. A directory without `revision.toml` is an error (a misspelt
//!   `revisions.toml` would otherwise silently drop a revision).
//! * **`revision.toml`**:
//!   ```toml
//!   id = "a1b2c3d4e5f6"             # letters, digits, _; unique
//!   parents = ["0f9e8d7c6b5a"]      # [] for a base; 2+ for a merge
//!   depends_on = []                 # optional: ids or branch labels applied first
//!   branch_labels = []              # optional
//!   message = "add user preferences"
//!   created = 2026-11-26T03:52:29Z  # TOML date-time with offset, or an RFC 3339 string
//!   transaction = true              # optional, default true; false = run outside a transaction
//!   phase = "expand"                # optional: "expand" or "contract"; inferred when absent
//!   ```
//!   `id`, `parents`, `message` and `created` are required (`parents = []` spelt out, so a base
//!   is always deliberate; `created` orders independent revisions). Unknown keys are errors.
//! * **SQL bodies**: `up.sql` and `down.sql`; `up.<dialect>.sql` / `down.<dialect>.sql` with
//!   dialect `postgres`, `mysql` or `sqlite` replaces the generic file for that dialect. Each
//!   direction needs its generic file or all three dialect files. `verify.sql` and
//!   `verify.<dialect>.sql` are `braid verify`'s data checks ([`verify_files`]), never run by
//!   an upgrade. Any other `*.sql` name is an error with a suggestion; other files (notes,
//!   `.md`) are ignored.
//!
//! * **Rust bodies**: instead of SQL files, `revision.toml` may name a Rust file in the same
//!   directory, `rust = "migration.rs"`. The file defines `pub struct Migration` implementing
//!   sea-orm-migration's `MigrationTrait` (importing `braid::prelude::*`); the binary that runs it
//!   compiles every such file in from its build script (`braid_build::rust_revisions` for an
//!   xtask, `braid_build::embed` for an application). The revision is
//!   loaded as `Body::Rust { name: <id>, source: <dir>/<file> }`. A directory with both SQL
//!   files and a `rust` body is an error. [`write_rust_revision`] creates one.
//! * **A migrations directory that is also a crate**: when the directory holds a `Cargo.toml`,
//!   its `src/` and `target/` directories belong to the crate and are not revisions.
//!
//! Loading reads only `revision.toml` and the directory listing of each revision — never the SQL
//! — so that `heads` or `history` stays fast on a long history. SQL is read by [`sql`] when a
//! migration actually runs or is checksummed.

mod error;
mod metadata;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use braid_driver::Dialect;
use braid_graph::{Body, Direction, Graph, Revision};
use sha2::{Digest, Sha256};

pub use error::SourceError;
pub use metadata::parse_metadata;

/// The metadata file every revision directory holds.
pub const METADATA_FILE: &str = "revision.toml";

/// Directories of a migrations directory that is also a crate (it holds a `Cargo.toml`) which are
/// the crate's, not revisions.
pub const CRATE_DIRS: [&str; 2] = ["src", "target"];

/// The Rust body file name [`write_rust_revision`] uses.
pub const RUST_FILE: &str = "migration.rs";

/// Below this many revision directories, loading runs on the calling thread: starting threads
/// costs more than it saves.
const PARALLEL_THRESHOLD: usize = 128;

/// Reads every revision under `dir` and builds the graph.
///
/// A missing or empty directory is an error that says how to create the first revision; a graph
/// error (missing parent, cycle, …) names the offending `revision.toml`.
pub fn load(dir: &Path) -> Result<Graph, SourceError> {
    let revisions = load_revisions(dir)?;
    Ok(Graph::build(revisions)?)
}

/// Reads every revision under `dir`, in directory-name order, without building the graph.
///
/// Errors are reported for the first bad directory in name order, so the message is the same on
/// every run and every machine.
pub fn load_revisions(dir: &Path) -> Result<Vec<Revision>, SourceError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SourceError::MissingDir {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(SourceError::io(dir, e)),
    };
    let mut dirs = Vec::new();
    // A migrations directory that is a Cargo package: its own directories are not revisions.
    let crate_dirs: &[&str] = if dir.join("Cargo.toml").is_file() {
        &CRATE_DIRS
    } else {
        &[]
    };
    for entry in entries {
        let entry = entry.map_err(|e| SourceError::io(dir, e))?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".")
            || crate_dirs
                .iter()
                .any(|d| name.as_encoded_bytes() == d.as_bytes())
        {
            continue;
        }
        let path = entry.path();
        let mut is_dir = entry
            .file_type()
            .map_err(|e| SourceError::io(&path, e))?
            .is_dir();
        if !is_dir && entry.file_type().is_ok_and(|t| t.is_symlink()) {
            // A symlinked revision directory counts; a dangling link is just not a directory.
            is_dir = std::fs::metadata(&path).is_ok_and(|m| m.is_dir());
        }
        if is_dir {
            dirs.push((name, path));
        }
    }
    if dirs.is_empty() {
        return Err(SourceError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    // By name: the same order as sorting the paths (one directory, one component each), without
    // comparing them component by component, which showed in the profile of a long history.
    dirs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let dirs: Vec<PathBuf> = dirs.into_iter().map(|(_, path)| path).collect();

    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if dirs.len() < PARALLEL_THRESHOLD || threads < 2 {
        return dirs.iter().map(|d| load_one(d)).collect();
    }
    let chunk = dirs.len().div_ceil(threads);
    let results: Vec<Result<Vec<Revision>, SourceError>> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|d| load_one(d)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    // Chunks are in name order, so the first error here is the first in name order.
    let mut revisions = Vec::with_capacity(dirs.len());
    for part in results {
        revisions.extend(part?);
    }
    Ok(revisions)
}

/// Reads one revision directory: its listing (to validate SQL file names) and `revision.toml`.
pub fn load_one(dir: &Path) -> Result<Revision, SourceError> {
    let mut files = Vec::new();
    let mut has_metadata = false;
    let mut toml_like = None;
    for entry in std::fs::read_dir(dir).map_err(|e| SourceError::io(dir, e))? {
        let entry = entry.map_err(|e| SourceError::io(dir, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // Not UTF-8: cannot be one of our names, and is not ours to judge.
        };
        if name.starts_with('.') {
            continue; // Editor swap and lock files (`.up.sql.swp`, `.#up.sql`).
        } else if name == METADATA_FILE {
            has_metadata = true;
        } else if is_verify_file(&name) {
            continue; // Read by `verify`, not part of the body.
        } else if has_sql_extension(&name) {
            check_sql_name(dir, &name)?;
            files.push(name);
        } else if name.ends_with(".toml") {
            toml_like = Some(name);
        }
    }
    if !has_metadata {
        return Err(SourceError::MissingMetadata {
            dir: dir.to_path_buf(),
            found: toml_like,
        });
    }
    files.sort();
    let file = dir.join(METADATA_FILE);
    let text = read_small(&file).map_err(|e| SourceError::io(&file, e))?;
    let (mut revision, rust) = metadata::parse_metadata_full(&text, &file)?;
    if let Some(rust) = rust {
        if !files.is_empty() {
            return Err(SourceError::MixedBody {
                dir: dir.to_path_buf(),
                rust,
                sql: files,
            });
        }
        let source = dir.join(&rust);
        if !source.is_file() {
            return Err(SourceError::MissingRust { file: source });
        }
        revision.body = Body::Rust {
            name: revision.id.clone(),
            source,
        };
        return Ok(revision);
    }
    for direction in ["up", "down"] {
        check_complete(dir, direction, &files)?;
    }
    revision.body = Body::Sql {
        dir: dir.to_path_buf(),
        files,
    };
    Ok(revision)
}

/// Reads a small text file with plain `read` calls: `fs::read_to_string` first asks for the
/// size (`statx` + `lseek`), which is two syscalls per revision for nothing on files this small.
fn read_small(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1024];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// `up` or `down` for a direction, as used in file names.
fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}

/// The data check `braid verify` runs for a revision on `dialect`, in order of preference:
/// `verify.<dialect>.sql`, then `verify.sql` (the dialect's file replaces the generic one, as
/// `up.<dialect>.sql` replaces `up.sql`).
pub fn verify_files(dialect: Dialect) -> [String; 2] {
    [format!("verify.{dialect}.sql"), "verify.sql".to_string()]
}

/// Whether `name` is one of [`verify_files`] for some dialect. Asked for every file of every
/// revision while loading, so the names are made once.
fn is_verify_file(name: &str) -> bool {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES
        .get_or_init(|| Dialect::ALL.iter().flat_map(|d| verify_files(*d)).collect())
        .iter()
        .any(|f| f == name)
}

/// Whether `name` ends in `.sql`, in any case (`UP.SQL` is an SQL file with a wrong name, not a
/// note to ignore).
fn has_sql_extension(name: &str) -> bool {
    let ext = name.len().checked_sub(4).and_then(|at| name.get(at..));
    ext.is_some_and(|ext| ext.eq_ignore_ascii_case(".sql"))
}

/// Accepts exactly `up.sql`, `down.sql`, `up.<dialect>.sql`, `down.<dialect>.sql`; otherwise
/// an error with the closest valid name when one can be guessed.
fn check_sql_name(dir: &Path, name: &str) -> Result<(), SourceError> {
    let valid_direction = |d: &str| d == "up" || d == "down";
    // `<direction>.sql` or `<direction>.<dialect>.sql`, without collecting the parts: this runs
    // for every SQL file of every revision while loading.
    let valid = name
        .strip_suffix(".sql")
        .is_some_and(|stem| match stem.split_once('.') {
            None => valid_direction(stem),
            Some((d, dialect)) => {
                valid_direction(d) && Dialect::ALL.iter().any(|x| x.as_str() == dialect)
            }
        });
    if valid {
        return Ok(());
    }
    let lower = name.to_ascii_lowercase();
    let stem = lower.split('.').next().unwrap_or("");
    let direction = if stem.contains("down") || stem.contains("revert") || stem.contains("undo") {
        Some("down")
    } else if stem.contains("up") || stem.contains("apply") || stem.contains("migrate") {
        Some("up")
    } else {
        None
    };
    let lower_parts: Vec<&str> = lower.split('.').collect();
    let dialect = match lower_parts.as_slice() {
        [_, middle, "sql"] => Some(middle.parse::<Dialect>().ok()),
        _ => None,
    };
    let suggestion = match (direction, dialect) {
        (Some(d), None) => Some(format!("{d}.sql")),
        (Some(d), Some(Some(dialect))) => Some(format!("{d}.{dialect}.sql")),
        (Some(d), Some(None)) => Some(format!(
            "{d}.sql, {d}.postgres.sql, {d}.mysql.sql or {d}.sqlite.sql"
        )),
        (None, _) => None,
    };
    Err(SourceError::BadSqlName {
        file: dir.join(name),
        suggestion,
    })
}

/// A direction needs its generic file, or an override for every dialect.
fn check_complete(dir: &Path, direction: &str, files: &[String]) -> Result<(), SourceError> {
    let generic = format!("{direction}.sql");
    if files.contains(&generic) {
        return Ok(());
    }
    let missing: Vec<String> = Dialect::ALL
        .iter()
        .map(|d| format!("{direction}.{d}.sql"))
        .filter(|f| !files.contains(f))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let hint = if missing.len() == Dialect::ALL.len() {
        format!("every revision needs {generic} (or one {direction}.<dialect>.sql per dialect)")
    } else {
        format!(
            "without {generic}, every dialect needs its own file; add {generic} for the \
             dialects that have none, or add {}",
            missing.join(", ")
        )
    };
    Err(SourceError::MissingSql {
        dir: dir.to_path_buf(),
        missing: generic,
        hint,
    })
}

/// A script read from disk (SQL, or the source of a Rust revision), with the file it came from
/// for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlScript {
    pub path: PathBuf,
    pub text: String,
}

/// The file a revision runs for `direction` on `dialect`: the dialect override if there is one,
/// else the generic file. Does not read it.
pub fn sql_path(
    rev: &Revision,
    direction: Direction,
    dialect: Dialect,
) -> Result<PathBuf, SourceError> {
    let Body::Sql { dir, files } = &rev.body else {
        return Err(SourceError::NotSql {
            id: rev.id.clone(),
            origin: rev.describe_origin(),
        });
    };
    let d = direction_name(direction);
    let specific = format!("{d}.{dialect}.sql");
    let generic = format!("{d}.sql");
    if files.contains(&specific) {
        Ok(dir.join(specific))
    } else if files.contains(&generic) {
        Ok(dir.join(generic))
    } else {
        // Only reachable for a hand-built Revision: the loader rejects incomplete directories.
        Err(SourceError::MissingSql {
            dir: dir.clone(),
            missing: generic.clone(),
            hint: format!("add {generic} or {specific}"),
        })
    }
}

/// Reads the SQL a revision runs for `direction` on `dialect`.
pub fn sql(
    rev: &Revision,
    direction: Direction,
    dialect: Dialect,
) -> Result<SqlScript, SourceError> {
    let path = sql_path(rev, direction, dialect)?;
    let text = std::fs::read_to_string(&path).map_err(|e| SourceError::io(&path, e))?;
    Ok(SqlScript { path, text })
}

/// The first line of an SQL file that must not run yet: a body an import could not translate,
/// or a down migration the source tool never had. The rest of the line says why. The runner
/// refuses such a file before a plan starts ([`unwritten`]), and `lint` reports it.
pub const UNWRITTEN_MARK: &str = "-- braid:unwritten";

/// Why `text` must not run: the rest of its [`UNWRITTEN_MARK`] line, when it starts with one.
pub fn unwritten(text: &str) -> Option<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next()?;
    let reason = first.strip_prefix(UNWRITTEN_MARK)?;
    Some(reason.trim_start_matches(':').trim())
}

/// `sha256:<hex>` of `text` after normalisation: a UTF-8 BOM, CRLF line ends, trailing
/// whitespace on each line and trailing blank lines do not count.
///
/// Why normalise: a checksum is there to catch an *edited* applied migration, and an editor or
/// a git `autocrlf` setting rewriting whitespace is not an edit anyone should be warned about.
/// The algorithm is part of the value so it can change later without ambiguity.
pub fn checksum(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut hasher = Sha256::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(line.as_bytes());
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

/// The checksum of what `rev` runs upgrading on `dialect`: the script whose edit after it was
/// applied is worth a warning.
///
/// For a Rust revision this is the checksum of its source file (the same on every dialect).
pub fn checksum_revision(rev: &Revision, dialect: Dialect) -> Result<String, SourceError> {
    if let Body::Rust { .. } = &rev.body {
        return Ok(checksum(&rust_source(rev)?.text));
    }
    Ok(checksum(&sql(rev, Direction::Up, dialect)?.text))
}

/// Reads the source file of a Rust revision (what its checksum covers).
pub fn rust_source(rev: &Revision) -> Result<SqlScript, SourceError> {
    let Body::Rust { source, .. } = &rev.body else {
        return Err(SourceError::NotRust {
            id: rev.id.clone(),
            origin: rev.describe_origin(),
        });
    };
    let text = std::fs::read_to_string(source).map_err(|e| SourceError::io(source, e))?;
    Ok(SqlScript {
        path: source.clone(),
        text,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A revision to create with [`write_revision`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRevision {
    pub id: String,
    pub parents: Vec<String>,
    pub depends_on: Vec<String>,
    pub branch_labels: Vec<String>,
    pub message: String,
    /// Written with its full precision, so that loading gives back exactly this value.
    pub created: jiff::Timestamp,
    pub transactional: bool,
    /// For a merge revision written although its branches overlap: why (`allow_overlap`).
    pub allow_overlap: Option<String>,
    /// The deploy phase to declare (`phase`); `None` leaves it to be inferred.
    pub phase: Option<braid_graph::Phase>,
}

/// What [`write_revision`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The new revision directory.
    pub dir: PathBuf,
    /// `revision.toml`, `up.sql`, `down.sql`, in that order.
    pub files: Vec<PathBuf>,
}

/// Creates `<dir>/<id>_<slug>/` with `revision.toml`, `up.sql` and `down.sql` (the SQL files hold
/// only a comment saying what to write). `dir` is created if missing, so the first `generate`
/// works in a new project. Refuses if the revision directory already exists.
pub fn write_revision(dir: &Path, new: &NewRevision) -> Result<Written, SourceError> {
    let rev_dir = create_revision_dir(dir, new)?;
    let up = format!(
        "-- Upgrade for revision {id}: {message}\n\
         -- Write the SQL that applies this change. It runs on every dialect unless an\n\
         -- up.<dialect>.sql (postgres, mysql, sqlite) next to this file replaces it.\n",
        id = new.id,
        message = one_line(&new.message),
    );
    let down = format!(
        "-- Downgrade for revision {id}: {message}\n\
         -- Write the SQL that exactly undoes up.sql (drop what it created, in reverse order).\n\
         -- A down.<dialect>.sql next to this file replaces it for that dialect.\n",
        id = new.id,
        message = one_line(&new.message),
    );
    let files = [
        (METADATA_FILE, metadata::render_metadata(new, None)),
        ("up.sql", up),
        ("down.sql", down),
    ];
    write_files(rev_dir, &files)
}

/// A revision's body files, for [`write_revision_with`]: SQL files by name (`up.sql`,
/// `down.mysql.sql`, …), or a Rust body and any files beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewBody {
    /// SQL files, `(file name, text)`.
    Sql(Vec<(String, String)>),
    /// The Rust body written as [`RUST_FILE`], with other files (notes) beside it.
    Rust {
        source: String,
        beside: Vec<(String, String)>,
    },
}

/// Creates `<dir>/<id>_<slug>/` with `revision.toml` and exactly the given body files; what an
/// import writes. Refuses an existing revision directory, like [`write_revision`].
pub fn write_revision_with(
    dir: &Path,
    new: &NewRevision,
    body: &NewBody,
) -> Result<Written, SourceError> {
    let rev_dir = create_revision_dir(dir, new)?;
    let mut files: Vec<(&str, String)> = Vec::new();
    match body {
        NewBody::Sql(sql) => {
            files.push((METADATA_FILE, metadata::render_metadata(new, None)));
            files.extend(sql.iter().map(|(name, text)| (name.as_str(), text.clone())));
        }
        NewBody::Rust { source, beside } => {
            files.push((
                METADATA_FILE,
                metadata::render_metadata(new, Some(RUST_FILE)),
            ));
            files.push((RUST_FILE, source.clone()));
            files.extend(
                beside
                    .iter()
                    .map(|(name, text)| (name.as_str(), text.clone())),
            );
        }
    }
    write_files(rev_dir, &files)
}

/// Creates `<dir>/<id>_<slug>/` (refusing an existing one), creating `dir` if missing.
fn create_revision_dir(dir: &Path, new: &NewRevision) -> Result<PathBuf, SourceError> {
    check_new_id(&new.id)?;
    let slug = slug(&new.message);
    // An id that already ends in its message (sea-orm-migration's `m…_create_table`) is not
    // repeated.
    let name = if slug.is_empty() || new.id.to_ascii_lowercase().ends_with(&slug) {
        new.id.clone()
    } else {
        format!("{}_{slug}", new.id)
    };
    std::fs::create_dir_all(dir).map_err(|e| SourceError::io(dir, e))?;
    let rev_dir = dir.join(name);
    match std::fs::create_dir(&rev_dir) {
        Ok(()) => Ok(rev_dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(SourceError::AlreadyExists { dir: rev_dir })
        }
        Err(e) => Err(SourceError::io(&rev_dir, e)),
    }
}

fn write_files(rev_dir: PathBuf, files: &[(&str, String)]) -> Result<Written, SourceError> {
    let mut written = Vec::with_capacity(files.len());
    for (file, text) in files {
        let path = rev_dir.join(file);
        std::fs::write(&path, text).map_err(|e| SourceError::io(&path, e))?;
        written.push(path);
    }
    Ok(Written {
        dir: rev_dir,
        files: written,
    })
}

/// Creates a Rust revision: `<dir>/<id>_<slug>/` with `revision.toml` (naming
/// `rust = "migration.rs"`) and `migration.rs`, a sea-orm-migration `MigrationTrait` with empty
/// `up`/`down` that compiles as is. The migrations crate's build script picks the new directory
/// up on the next build (`cargo xtask …` rebuilds by itself).
pub fn write_rust_revision(dir: &Path, new: &NewRevision) -> Result<Written, SourceError> {
    let rev_dir = create_revision_dir(dir, new)?;
    let files = [
        (
            METADATA_FILE,
            metadata::render_metadata(new, Some(RUST_FILE)),
        ),
        (RUST_FILE, rust_template(new)),
    ];
    write_files(rev_dir, &files)
}

/// The `migration.rs` of a new Rust revision.
pub fn rust_template(new: &NewRevision) -> String {
    rust_migration(&RustMigration {
        id: &new.id,
        message: &new.message,
        doc: &[
            "Written once with sea-orm-migration's `SchemaManager`, rendered by Braid for every dialect",
            "(Postgres, MySQL/MariaDB, SQLite). Braid's runner owns the transaction: do not call",
            "`manager.begin()`/`commit()`. `manager.get_database_backend()` tells the dialect when a",
            "backend needs something special. Ask the schema with `manager.table_exists(..)`,",
            "`column_exists` and `index_exists` (sea-orm-migration's `has_*` need sqlx). Offline SQL",
            "(`--sql`) records the statements instead of running them, so a migration that asks the",
            "database cannot be rendered offline.",
        ],
        up: "        // e.g. manager.create_table(Table::create().table(\"things\").col(...).to_owned()).await?;\n        let _ = manager;\n        Ok(())\n",
        down: "        // Undo exactly what `up` did, in reverse order.\n        let _ = manager;\n        Ok(())\n",
    })
}

/// What a Rust revision's `migration.rs` says: written by `generate --rust` with empty
/// bodies, and by autogenerate with its statements. The file's shape lives in
/// [`rust_migration`] alone.
#[derive(Debug, Clone, Copy)]
pub struct RustMigration<'a> {
    pub id: &'a str,
    pub message: &'a str,
    /// The module comment's lines after the title (an empty string is an empty line).
    pub doc: &'a [&'a str],
    /// The bodies of `up` and `down`, indented, each line ending in a newline.
    pub up: &'a str,
    pub down: &'a str,
}

/// `migration`'s file: a sea-orm-migration `MigrationTrait` named after the revision.
pub fn rust_migration(migration: &RustMigration<'_>) -> String {
    let message = one_line(migration.message).replace("*/", "* /");
    let doc: String = migration
        .doc
        .iter()
        .map(|line| match line.trim_end() {
            "" => "//!\n".to_string(),
            // A line may quote SQL over several lines.
            line => format!("//! {}\n", line.replace(['\n', '\r'], " ")),
        })
        .collect();
    format!(
        r#"//! Revision {id}: {message}
//!
{doc}
use braid::prelude::*;

pub struct Migration;

impl MigrationName for Migration {{
    fn name(&self) -> &str {{
        "{id}"
    }}
}}

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
{up}    }}

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
{down}    }}
}}
"#,
        id = migration.id,
        up = migration.up,
        down = migration.down,
    )
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The id is used as a directory name, so it is checked here even though the graph checks ids
/// too: `../x` must never reach the file system.
fn check_new_id(id: &str) -> Result<(), SourceError> {
    if id.is_empty() || id.len() > 64 {
        return Err(SourceError::InvalidNew(format!(
            "revision id '{id}' must be 1 to 64 characters"
        )));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(SourceError::InvalidNew(format!(
            "revision id '{id}' may only contain ASCII letters, digits and '_'"
        )));
    }
    Ok(())
}

/// The directory-name slug of a message: lowercased ASCII letters and digits, every other run of
/// characters turned into one `_`, no leading or trailing `_`, at most 40 characters.
pub fn slug(message: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending = true;
        }
    }
    out.truncate(40);
    out.trim_end_matches('_').to_string()
}

/// A new random-enough revision id: 12 lowercase hex characters.
///
/// SHA-256 of the wall-clock nanoseconds, the process id and a per-process counter: two ids from
/// one process never collide, and two developers generating at the same nanosecond with the
/// same pid is not a practical concern. (No `rand` dependency for 48 bits.)
pub fn new_revision_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let stack_probe = 0u8;
    hasher.update((&stack_probe as *const u8 as usize).to_le_bytes());
    hex(&hasher.finalize()[..6])
}
