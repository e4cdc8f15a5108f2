//! diesel: one directory per migration, `<VERSION>_<NAME>/` holding `up.sql`, usually
//! `down.sql`, and optionally `metadata.toml`.
//!
//! The rules follow `diesel_migrations` 2.x (`file_based_migrations.rs`,
//! `migration_harness.rs`) and `migrations_internals` (`lib.rs`):
//!
//! * Every entry of the directory that is not a file and whose name does not start with `.`
//!   is a migration (`migrations_directories`); one without a (non-hidden) `up.sql` makes
//!   diesel refuse the whole directory (`UnknownMigrationFormat`). Plain files are ignored.
//! * The version is `version_from_string`: the directory name up to its first `_`, with every
//!   `-` removed. `2015-12-19-180527_create_users` is version `20151219180527`, which is what
//!   `__diesel_schema_migrations.version` (a `VARCHAR`) holds;
//!   `00000000000000_diesel_initial_setup` is version `00000000000000`. Versions are ordered
//!   as strings (`MigrationVersion` derives `Ord` on its text), and that is the order kept
//!   here.
//! * `down.sql` is optional: diesel only fails when asked to revert without one.
//! * `metadata.toml` is read into `TomlMetadata { #[serde(default)] run_in_transaction: bool }`
//!   with `unwrap_or_default()`: no file, or one that fails to parse, means `true`; a file that
//!   parses but does not mention the key means `false` (`bool`'s serde default).
//!
//! diesel's CLI names migrations with `%Y-%m-%d-%H%M%S` in UTC, so such a version gives the
//! revision's `created` time.

use std::path::{Path, PathBuf};

use crate::files::{entries, read_text, timestamp_from_digits};
use crate::{Body, History, ImportError, Imported, Sql, Tool, braid_id, chain, message_from_name};

/// The file diesel runs to apply a migration.
const UP: &str = "up.sql";
/// The file diesel runs to revert one.
const DOWN: &str = "down.sql";
/// Per-migration settings.
const METADATA: &str = "metadata.toml";

pub(crate) fn read(dir: &Path) -> Result<History, ImportError> {
    let mut found = Vec::new();
    for (name, path) in migration_dirs(dir)? {
        found.push(parse_dir(&name, path)?);
    }
    found.sort_by(|a, b| a.version.cmp(&b.version).then_with(|| a.path.cmp(&b.path)));
    reject_duplicates(&found)?;
    let mut revisions = found
        .into_iter()
        .map(DieselDir::into_imported)
        .collect::<Result<Vec<_>, _>>()?;
    if revisions.is_empty() {
        return Err(ImportError::Empty {
            tool: Tool::Diesel,
            dir: dir.to_path_buf(),
            hint: "diesel migrations are directories named '<VERSION>_<NAME>' holding 'up.sql': \
                   pass the directory diesel reads, usually 'migrations/'"
                .to_string(),
        });
    }
    chain(&mut revisions);
    Ok(History {
        tool: Tool::Diesel,
        source: dir.to_path_buf(),
        revisions,
        skipped: Vec::new(),
    })
}

/// The entries of `dir` diesel takes for migrations: everything but files and hidden names.
fn migration_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, ImportError> {
    Ok(entries(dir)?
        .into_iter()
        .filter(|e| !e.is_file)
        .map(|e| (e.name, e.path))
        .collect())
}

/// One migration directory, its name parsed.
struct DieselDir {
    version: String,
    name: String,
    path: PathBuf,
}

/// Reads a migration directory's name, and checks it is one diesel can run.
fn parse_dir(dir_name: &str, path: PathBuf) -> Result<DieselDir, ImportError> {
    let (version, name) = dir_name.split_once('_').unwrap_or((dir_name, ""));
    let version = version.replace('-', "");
    if version.is_empty() {
        return Err(ImportError::Layout {
            path,
            problem: "the directory name has no version before its first '_'".to_string(),
            hint: "rename it '<VERSION>_<name>', e.g. with the time it was written as \
                   'YYYY-MM-DD-HHMMSS'"
                .to_string(),
        });
    }
    if !has_visible_file(&path, UP)? {
        return Err(ImportError::Layout {
            problem: format!(
                "a directory in a diesel migrations directory without '{UP}', which diesel \
                 refuses"
            ),
            hint: format!(
                "add '{UP}' if it is a migration, or move the directory out (diesel reads \
                 every non-hidden directory there)"
            ),
            path,
        });
    }
    Ok(DieselDir {
        version,
        name: name.to_string(),
        path,
    })
}

/// Whether `dir` holds an entry called `file` (diesel's `valid_sql_migration_directory`, which
/// lists the directory rather than probing the path).
fn has_visible_file(dir: &Path, file: &str) -> Result<bool, ImportError> {
    for entry in std::fs::read_dir(dir).map_err(|e| ImportError::io(dir, e))? {
        let entry = entry.map_err(|e| ImportError::io(dir, e))?;
        if entry.file_name() == file {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Two directories with one version (`2015-12-19-180527_a` and `20151219180527_b`) would
/// share one row of diesel's table.
fn reject_duplicates(sorted: &[DieselDir]) -> Result<(), ImportError> {
    for pair in sorted.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(ImportError::Duplicate {
                tool: Tool::Diesel,
                key: pair[0].version.clone(),
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
    }
    Ok(())
}

impl DieselDir {
    fn into_imported(self) -> Result<Imported, ImportError> {
        let up = read_text(&self.path.join(UP))?;
        let down = read_optional(&self.path.join(DOWN))?;
        let transactional = run_in_transaction(&self.path.join(METADATA))?;
        let message = if self.name.trim().is_empty() {
            format!("diesel migration {}", self.version)
        } else {
            message_from_name(&self.name)
        };
        Ok(Imported {
            id: braid_id(&self.version),
            created: timestamp_from_digits(&self.version),
            name: self.name,
            parents: Vec::new(),
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            message,
            transactional,
            body: Body::Sql {
                up: Sql::Every(up),
                down: down.map(Sql::Every),
            },
            origin: self.path,
            key: self.version,
        })
    }
}

/// diesel's reading of `metadata.toml`: see the module documentation for its three cases.
fn run_in_transaction(path: &Path) -> Result<bool, ImportError> {
    let Some(text) = read_optional(path)? else {
        return Ok(true);
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(true);
    };
    Ok(match table.get("run_in_transaction") {
        None => false,
        Some(toml::Value::Boolean(run)) => *run,
        // Any other type fails diesel's deserialisation, which then falls back to the default.
        Some(_) => true,
    })
}

/// The file's text, or `None` when there is no such file.
fn read_optional(path: &Path) -> Result<Option<String>, ImportError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ImportError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(text: Option<&str>) -> bool {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(METADATA);
        if let Some(text) = text {
            std::fs::write(&path, text).expect("write");
        }
        run_in_transaction(&path).expect("read")
    }

    #[test]
    fn metadata_follows_diesels_defaults() {
        assert!(metadata(None));
        assert!(!metadata(Some("run_in_transaction = false\n")));
        assert!(metadata(Some("run_in_transaction = true\n")));
        assert!(!metadata(Some("# nothing set\n")));
        assert!(metadata(Some("run_in_transaction = \"no\"\n")));
        assert!(metadata(Some("this is not toml")));
    }
}
