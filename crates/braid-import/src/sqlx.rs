//! sqlx: a flat directory of `<VERSION>_<DESCRIPTION>.sql` files (simple migrations) or
//! `<VERSION>_<DESCRIPTION>.up.sql` / `.down.sql` pairs (reversible ones).
//!
//! The rules follow `sqlx-core` 0.9 `migrate/source.rs` (`resolve_blocking_with_config`) and
//! `migrate/migration_type.rs`:
//!
//! * Only regular files (symlinks followed) directly in the directory are read; a file name is
//!   split at its first `_`, and a name without `_`, or whose rest does not end in `.sql`, is
//!   ignored by sqlx.
//! * The part before the `_` must parse as an `i64` (`str::parse`, so `0001` is version 1);
//!   if it does not, sqlx refuses the whole directory.
//! * The kind comes from the rest: `.up.sql`, `.down.sql`, else simple. The description is the
//!   rest with that suffix trimmed (`trim_end_matches`, so repeated suffixes all go) and every
//!   `_` turned into a space; it is what `_sqlx_migrations.description` holds.
//! * A migration whose SQL starts with exactly `-- no-transaction` runs outside a transaction.
//! * `_sqlx_migrations.version` is the `BIGINT` version, so the key is its decimal form.
//!
//! sqlx itself tolerates an `.up.sql` without its `.down.sql` (it just cannot revert it); here
//! that is an error, since an unpaired half is almost always a file renamed or lost by mistake.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::files::{entries, read_text, timestamp_from_digits};
use crate::{Body, History, ImportError, Imported, Skipped, Sql, Tool, braid_id, chain};

/// The marker sqlx looks for at the very start of a migration's SQL.
const NO_TRANSACTION: &str = "-- no-transaction";

pub(crate) fn read(dir: &Path) -> Result<History, ImportError> {
    let mut slots: BTreeMap<i64, Slot> = BTreeMap::new();
    let mut skipped = Vec::new();
    for (name, path) in files(dir)? {
        match classify(&name, &path)? {
            Classified::Ignored => {}
            Classified::Skipped(reason) => skipped.push(Skipped { path, reason }),
            Classified::Migration(file) => {
                let version = file.version;
                let slot = Slot::join(slots.remove(&version), file)?;
                slots.insert(version, slot);
            }
        }
    }
    let mut revisions = slots
        .into_values()
        .map(Slot::into_imported)
        .collect::<Result<Vec<_>, _>>()?;
    if revisions.is_empty() {
        return Err(empty(dir, &skipped));
    }
    chain(&mut revisions);
    Ok(History {
        tool: Tool::Sqlx,
        source: dir.to_path_buf(),
        revisions,
        skipped,
    })
}

/// The regular files directly in `dir`, by name, hidden ones left out. Names are read lossily,
/// as sqlx reads them.
fn files(dir: &Path) -> Result<Vec<(String, PathBuf)>, ImportError> {
    let mut files: Vec<(String, PathBuf)> = entries(dir)?
        .into_iter()
        .filter(|e| e.is_file)
        .map(|e| (e.name, e.path))
        .collect();
    files.sort();
    Ok(files)
}

/// What a file in a sqlx directory is.
enum Classified {
    /// Not sqlx's business (no `.sql` ending).
    Ignored,
    /// A `.sql` file sqlx ignores, with why.
    Skipped(String),
    Migration(SqlxFile),
}

/// One file of a migration: the whole of a simple one, or one half of a reversible one.
struct SqlxFile {
    version: i64,
    kind: Kind,
    description: String,
    path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Simple,
    Up,
    Down,
}

impl Kind {
    /// sqlx's `MigrationType::from_filename`, on the part after the first `_`.
    fn of(rest: &str) -> Kind {
        if rest.ends_with(Kind::Up.suffix()) {
            Kind::Up
        } else if rest.ends_with(Kind::Down.suffix()) {
            Kind::Down
        } else {
            Kind::Simple
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Kind::Simple => ".sql",
            Kind::Up => ".up.sql",
            Kind::Down => ".down.sql",
        }
    }
}

/// Sorts one file name the way sqlx does, with an error where sqlx would fail or where a file
/// named like a migration would be silently dropped.
fn classify(name: &str, path: &Path) -> Result<Classified, ImportError> {
    if !name.ends_with(".sql") {
        return Ok(Classified::Ignored);
    }
    let Some((version, rest)) = name.split_once('_') else {
        return no_description(name, path);
    };
    if !rest.ends_with(".sql") {
        return Ok(Classified::Ignored);
    }
    let Ok(version) = version.parse::<i64>() else {
        return Err(ImportError::Layout {
            path: path.to_path_buf(),
            problem: format!(
                "'{version}' (before the first '_') is not an integer version, and sqlx refuses \
                 a migrations directory holding such a file"
            ),
            hint: format!(
                "rename it '<VERSION>_{rest}' with an integer version, or move it out of the \
                 migrations directory"
            ),
        });
    };
    let kind = Kind::of(rest);
    Ok(Classified::Migration(SqlxFile {
        version,
        kind,
        description: description(rest, kind),
        path: path.to_path_buf(),
    }))
}

/// A `.sql` name without `_`: sqlx ignores it. One that is all digits was surely meant as a
/// migration (and so never ran): an error; anything else is left out with a note.
fn no_description(name: &str, path: &Path) -> Result<Classified, ImportError> {
    let stem = name.strip_suffix(".sql").unwrap_or(name);
    if !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ImportError::Layout {
            path: path.to_path_buf(),
            problem: "named like a sqlx migration but without '_<DESCRIPTION>', so sqlx \
                      ignored it and never ran it"
                .to_string(),
            hint: format!(
                "rename it '{stem}_<description>.sql' if it is a migration, or move it out of \
                 the migrations directory"
            ),
        });
    }
    Ok(Classified::Skipped(
        "not named '<VERSION>_<DESCRIPTION>.sql'; sqlx ignores it".to_string(),
    ))
}

/// sqlx's description: the suffix trimmed as often as it repeats, `_` read as a space.
fn description(rest: &str, kind: Kind) -> String {
    let mut text = rest;
    while let Some(shorter) = text.strip_suffix(kind.suffix()) {
        text = shorter;
    }
    text.replace('_', " ")
}

/// The files found for one version.
enum Slot {
    Simple(SqlxFile),
    Up(SqlxFile),
    Down(SqlxFile),
    Pair { up: SqlxFile, down: SqlxFile },
}

impl Slot {
    /// `slot` with `file` added; a second file for the same version and direction, or a
    /// simple file beside a reversible one, is a duplicate (sqlx would record the version
    /// twice).
    fn join(slot: Option<Slot>, file: SqlxFile) -> Result<Slot, ImportError> {
        match (slot, file.kind) {
            (None, Kind::Simple) => Ok(Slot::Simple(file)),
            (None, Kind::Up) => Ok(Slot::Up(file)),
            (None, Kind::Down) => Ok(Slot::Down(file)),
            (Some(Slot::Up(up)), Kind::Down) => Ok(Slot::Pair { up, down: file }),
            (Some(Slot::Down(down)), Kind::Up) => Ok(Slot::Pair { up: file, down }),
            (Some(taken), _) => Err(ImportError::Duplicate {
                tool: Tool::Sqlx,
                key: file.version.to_string(),
                first: taken.first_path().to_path_buf(),
                second: file.path,
            }),
        }
    }

    /// The file that took the version first.
    fn first_path(&self) -> &Path {
        match self {
            Slot::Simple(f) | Slot::Up(f) | Slot::Down(f) => &f.path,
            Slot::Pair { up, .. } => &up.path,
        }
    }

    /// The revision for this version: a simple file alone, or an up/down pair.
    fn into_imported(self) -> Result<Imported, ImportError> {
        match self {
            Slot::Simple(simple) => imported(simple, None),
            Slot::Pair { up, down } => imported(up, Some(down)),
            Slot::Up(up) => Err(unpaired(&up, Kind::Down)),
            Slot::Down(down) => Err(unpaired(&down, Kind::Up)),
        }
    }
}

/// The error for half of a reversible migration without its other half.
fn unpaired(file: &SqlxFile, missing: Kind) -> ImportError {
    let name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = name.strip_suffix(file.kind.suffix()).unwrap_or(&name);
    let hint = match missing {
        Kind::Down => format!(
            "add '{base}.down.sql' beside it, or rename it '{base}.sql' if the migration has \
             no down"
        ),
        _ => format!("add the '{base}.up.sql' it reverts, or delete it"),
    };
    ImportError::Layout {
        path: file.path.clone(),
        problem: format!(
            "a reversible sqlx migration without its '{}' half",
            missing.suffix()
        ),
        hint,
    }
}

/// One revision from its up file (the simple file, or the `.up.sql`) and its down file.
fn imported(up: SqlxFile, down: Option<SqlxFile>) -> Result<Imported, ImportError> {
    let up_sql = read_text(&up.path)?;
    let down_sql = down.as_ref().map(|d| read_text(&d.path)).transpose()?;
    let no_transaction = up_sql.starts_with(NO_TRANSACTION)
        || down_sql
            .as_deref()
            .is_some_and(|s| s.starts_with(NO_TRANSACTION));
    let key = up.version.to_string();
    let message = if up.description.trim().is_empty() {
        format!("sqlx migration {key}")
    } else {
        crate::message_from_name(&up.description)
    };
    Ok(Imported {
        id: braid_id(&key),
        created: timestamp_from_digits(&key),
        name: up.description,
        parents: Vec::new(),
        depends_on: Vec::new(),
        branch_labels: Vec::new(),
        message,
        // One flag covers both directions in Braid: a half that must run outside a
        // transaction makes the revision run outside one (SQL that could run inside one runs
        // as well outside it, the reverse is not true).
        transactional: !no_transaction,
        body: Body::Sql {
            up: Sql::Every(up_sql),
            down: down_sql.map(Sql::Every),
        },
        origin: up.path,
        key,
    })
}

/// The error for a directory without any sqlx migration.
fn empty(dir: &Path, skipped: &[Skipped]) -> ImportError {
    let mut hint = "sqlx migrations are files named '<VERSION>_<DESCRIPTION>.sql' (or \
                    '.up.sql'/'.down.sql' pairs) directly in the directory: pass the directory \
                    sqlx reads, usually 'migrations/'"
        .to_string();
    if !skipped.is_empty() {
        hint.push_str(&format!(
            " ({} '.sql' file(s) here are not named that way)",
            skipped.len()
        ));
    }
    ImportError::Empty {
        tool: Tool::Sqlx,
        dir: dir.to_path_buf(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_lose_every_trailing_suffix_and_their_underscores() {
        assert_eq!(description("add_users.sql", Kind::Simple), "add users");
        assert_eq!(description("add_users.up.sql", Kind::Up), "add users");
        assert_eq!(description("x.sql.sql", Kind::Simple), "x");
        assert_eq!(description(".sql", Kind::Simple), "");
    }

    #[test]
    fn kinds_follow_the_suffix() {
        assert_eq!(Kind::of("a.up.sql"), Kind::Up);
        assert_eq!(Kind::of("a.down.sql"), Kind::Down);
        assert_eq!(Kind::of("a.sql"), Kind::Simple);
    }
}
