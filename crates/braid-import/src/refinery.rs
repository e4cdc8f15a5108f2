//! refinery: files named `V<VERSION>__<NAME>.sql` or `U<VERSION>__<NAME>.sql` (or `.rs`, for
//! a Rust migration), anywhere under the directory.
//!
//! The rules follow `refinery_core` 0.8.16 `util.rs` (`find_migration_files`,
//! `load_sql_migrations`, `parse_migration_name`), `runner.rs` and `traits/mod.rs`, and
//! 0.10.1's `SchemaVersion` (`util.rs`) for the `int8-versions` feature:
//!
//! * The directory is walked recursively (`WalkDir`); a file counts when its whole name matches
//!   `^([U|V])(\d+(?:\.\d+)?)__(\w+)\.(rs|sql)$` (`embed_migrations!`; `load_sql_migrations`
//!   reads the `.sql` ones only), and any other file is skipped with a warning.
//! * The version must then parse as refinery's `SchemaVersion` (`1.1` matches the pattern but
//!   fails here, and refinery stops with `InvalidVersion`): an `i32` by default, an `i64` with
//!   the `int8-versions` feature, which exists for timestamp versions such as
//!   `V20240101120000__x.sql`. The directory does not say which a project built with, so any
//!   version that fits an `i64` is accepted (a larger one is an error). The key is the version
//!   in decimal, as `refinery_schema_history.version` (`INT4`, or `INT8` with the feature)
//!   holds it (`V001__x.sql` is `1`).
//! * The name is the `\w+` part, everything between `__` and `.sql`; it is stored in the
//!   table's `name` column and covered by the checksum, so it is kept exactly.
//! * `U` means *unversioned*: refinery applies such a migration even when its version is
//!   below the last one applied (`verify_migrations` only reports a gap for `V`), but records
//!   it in the same table, under its version, with the same checksum. Braid keeps one order,
//!   so a `U` migration is imported like a `V` one, in version order; a database where it ran
//!   after later versions holds the same rows either way.
//! * Two files with one version are refused (`RepeatedVersion`; older releases refused them
//!   while scanning).
//! * A line that is exactly `--` (two or more dashes), at most one whitespace character and
//!   `refinery:noTransaction` marks the migration to run outside a transaction. Released
//!   refinery (0.8.16) ignores this; its main branch (`parse_no_transaction`) honours it, and
//!   the line is only ever written to ask for that, so it is honoured here.
//! * A Rust migration (`V<VERSION>__<NAME>.rs`, whose `migration()` returns the SQL to run) is
//!   recorded in the same table as an SQL one, so it is imported in version order with them,
//!   as a revision whose body is the Rust source, [`Body::Untranslated`]: Braid cannot run
//!   refinery's Rust, and the revision refuses to run until its SQL is written. Its checksum,
//!   over the SQL the code returned, cannot be computed from the source.
//!
//! `\w` is Unicode-aware in Rust's `regex`; names here are checked with
//! `char::is_alphanumeric` plus `_`, which agrees with it on every letter and digit and differs
//! only on rare marks and numeric symbols.

use crate::files::{read_text, walk};
use std::path::{Path, PathBuf};

use crate::{
    Body, History, ImportError, Imported, Skipped, Sql, Tool, braid_id, chain, message_from_name,
};

const SEPARATOR: &str = "__";
const SQL: &str = ".sql";
const RUST: &str = ".rs";
const NO_TRANSACTION: &str = "refinery:noTransaction";

pub(crate) fn read(dir: &Path) -> Result<History, ImportError> {
    let mut migrations = Vec::new();
    let mut skipped = Vec::new();
    for path in walk(dir, has_migration_suffix)? {
        match classify(&path)? {
            Classified::Ignored => {}
            Classified::Skipped(reason) => skipped.push(Skipped { path, reason }),
            Classified::Migration(migration) => migrations.push(migration),
        }
    }
    migrations.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.path.cmp(&b.path)));
    reject_duplicates(&migrations)?;
    let mut revisions = migrations
        .into_iter()
        .map(RefineryFile::into_imported)
        .collect::<Result<Vec<_>, _>>()?;
    if revisions.is_empty() {
        return Err(empty(dir, &skipped));
    }
    chain(&mut revisions);
    Ok(History {
        tool: Tool::Refinery,
        source: dir.to_path_buf(),
        revisions,
        skipped,
    })
}

/// Whether a file name ends as refinery's SQL or Rust migrations do.
fn has_migration_suffix(name: &str) -> bool {
    name.ends_with(SQL) || name.ends_with(RUST)
}

/// What a file under a refinery directory is.
enum Classified {
    /// Rust code that is not named as a migration (a `mod.rs`, say).
    Ignored,
    Skipped(String),
    Migration(RefineryFile),
}

/// A migration file, its name parsed.
struct RefineryFile {
    version: i64,
    name: String,
    path: PathBuf,
    /// A Rust migration (`.rs`) rather than SQL.
    rust: bool,
}

/// Sorts one file the way refinery's file pattern does, with an error for a name that is
/// meant as a migration but that refinery would skip or refuse.
fn classify(path: &Path) -> Result<Classified, ImportError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, is_sql) = match (file_name.strip_suffix(SQL), file_name.strip_suffix(RUST)) {
        (Some(stem), _) => (stem, true),
        (None, Some(stem)) => (stem, false),
        (None, None) => return Ok(Classified::Ignored),
    };
    if !looks_like_migration(stem) {
        if !is_sql {
            return Ok(Classified::Ignored);
        }
        return Ok(Classified::Skipped(
            "not named 'V<VERSION>__<NAME>.sql'; refinery skips it".to_string(),
        ));
    }
    let (version, name) = parse_stem(stem).map_err(|problem| malformed(path, stem, problem))?;
    Ok(Classified::Migration(RefineryFile {
        version,
        name: name.to_string(),
        path: path.to_path_buf(),
        rust: !is_sql,
    }))
}

/// `V` or `U` (either case) followed by a digit: meant as a migration, so a name refinery
/// would not accept is worth an error rather than a silent skip.
fn looks_like_migration(stem: &str) -> bool {
    let mut chars = stem.chars();
    matches!(chars.next(), Some('V' | 'U' | 'v' | 'u'))
        && chars.next().is_some_and(|c| c.is_ascii_digit())
}

/// Parses a stem refinery's pattern matches, `(U|V)<digits>[.<digits>]__<name>`, into its
/// version (as wide as refinery's `int8-versions` allows) and its name; `Err` says what is
/// wrong.
fn parse_stem(stem: &str) -> Result<(i64, &str), String> {
    let Some(rest) = stem.strip_prefix(['V', 'U']) else {
        return Err("refinery only reads names starting with an upper-case 'V' or 'U'".into());
    };
    let Some((version, name)) = rest.split_once(SEPARATOR) else {
        return Err(format!(
            "there is no '{SEPARATOR}' between the version and the name"
        ));
    };
    if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_alphanumeric()) {
        return Err(
            "the name after '__' must be letters, digits and '_' only (refinery's \\w+)"
                .to_string(),
        );
    }
    if !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{version}' is not a refinery version: refinery versions are whole numbers"
        ));
    }
    let version = version.parse::<i64>().map_err(|_| {
        format!("{version} does not fit refinery's version, an i64 at most (int8-versions)")
    })?;
    Ok((version, name))
}

/// The error for a file named like a refinery migration that refinery would skip or refuse.
fn malformed(path: &Path, stem: &str, problem: String) -> ImportError {
    ImportError::Layout {
        path: path.to_path_buf(),
        problem: format!("named like a refinery migration ('{stem}') but {problem}"),
        hint: "rename it 'V<VERSION>__<name>.sql' (an integer version, two underscores, a \
               name of letters, digits and '_') if it is a migration, or move it out of the \
               directory"
            .to_string(),
    }
}

/// refinery refuses two migrations of one version.
fn reject_duplicates(sorted: &[RefineryFile]) -> Result<(), ImportError> {
    for pair in sorted.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(ImportError::Duplicate {
                tool: Tool::Refinery,
                key: pair[0].version.to_string(),
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
    }
    Ok(())
}

/// Why a refinery Rust migration is imported as a body that refuses to run.
const RUST_REASON: &str = "a refinery Rust migration: Braid runs SQL or sea-orm-migration Rust, \
                           not refinery's Rust; write its SQL";

impl RefineryFile {
    fn into_imported(self) -> Result<Imported, ImportError> {
        let text = read_text(&self.path)?;
        let key = self.version.to_string();
        // The annotation in a Rust migration can only be in the SQL it returns, on a line of
        // its own in a multi-line literal: honoured the same way.
        let transactional = !no_transaction(&text);
        let body = if self.rust {
            Body::Untranslated {
                file_name: self
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                text,
                reason: RUST_REASON.to_string(),
            }
        } else {
            Body::Sql {
                up: Sql::Every(text),
                down: None,
            }
        };
        Ok(Imported {
            id: braid_id(&key),
            message: message_from_name(&self.name),
            transactional,
            name: self.name,
            parents: Vec::new(),
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            created: None,
            body,
            origin: self.path,
            key,
        })
    }
}

/// Whether a line of `sql` is refinery's no-transaction annotation,
/// `^[-]{2,}[\s]?(refinery:noTransaction)$` (lines as `str::lines` gives them).
fn no_transaction(sql: &str) -> bool {
    sql.lines().any(|line| {
        let after_dashes = line.trim_start_matches('-');
        if line.len() - after_dashes.len() < 2 {
            return false;
        }
        let mut chars = after_dashes.chars();
        match chars.next() {
            Some(c) if c.is_whitespace() => chars.as_str() == NO_TRANSACTION,
            _ => after_dashes == NO_TRANSACTION,
        }
    })
}

/// The error for a directory without any refinery migration.
fn empty(dir: &Path, skipped: &[Skipped]) -> ImportError {
    let mut hint = "refinery migrations are files named 'V<VERSION>__<NAME>.sql': pass the \
                    directory given to refinery's embed_migrations! or load_sql_migrations"
        .to_string();
    if let Some(first) = skipped.first() {
        hint.push_str(&format!(
            " ({} file(s) left out, e.g. {}: {})",
            skipped.len(),
            first.path.display(),
            first.reason
        ));
    }
    ImportError::Empty {
        tool: Tool::Refinery,
        dir: dir.to_path_buf(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_parse_as_refinery_parses_them() {
        assert_eq!(parse_stem("V1__initial"), Ok((1, "initial")));
        assert_eq!(parse_stem("U007__a__b"), Ok((7, "a__b")));
        assert_eq!(parse_stem("V2__añadir_cafés"), Ok((2, "añadir_cafés")));
        assert!(parse_stem("V1_initial").is_err());
        assert!(parse_stem("V1.1__initial").is_err());
        assert!(parse_stem("V1__add-users").is_err());
        assert!(parse_stem("V1__").is_err());
        assert!(parse_stem("v1__initial").is_err());
        assert_eq!(
            parse_stem("V20240101120000__dated"),
            Ok((20_240_101_120_000, "dated"))
        );
        assert_eq!(
            parse_stem("V9223372036854775807__max"),
            Ok((i64::MAX, "max"))
        );
        assert!(parse_stem("V9223372036854775808__too_big").is_err());
    }

    #[test]
    fn the_no_transaction_annotation_is_matched_exactly() {
        assert!(no_transaction(
            "-- refinery:noTransaction\nCREATE INDEX x ON t (c);\n"
        ));
        assert!(no_transaction("select 1;\r\n--refinery:noTransaction\r\n"));
        assert!(no_transaction("---- refinery:noTransaction"));
        assert!(!no_transaction("-  refinery:noTransaction"));
        assert!(!no_transaction("--  refinery:noTransaction"));
        assert!(!no_transaction("-- refinery:noTransaction please"));
        assert!(!no_transaction("select 1; -- refinery:noTransaction"));
    }
}
