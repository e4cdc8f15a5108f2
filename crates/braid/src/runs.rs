//! The record a run leaves: one compact entry per database (from, to, status, error), written
//! as JSON at the end of a run, so a run over thousands of tenants can be read by tools,
//! summarised by outcome, and resumed: [`RunRecord::unfinished`] names exactly the databases
//! to run again (`--only-failed RECORD`).
//!
//! A run over a tenant set writes its record to [`LAST_RUN`] under the project root unless the
//! caller names another file; any run can be recorded by naming one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use braid_runner::{DbResult, DbStatus, FailureKind, Operation};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Where a run over a tenant set records itself when the caller names no file, relative to the
/// project root (`.braid/` holds the local SQLite database too, and is git-ignored).
pub const LAST_RUN: &str = ".braid/last-run.json";

/// The record's format version: a reader refuses others.
pub const RECORD_VERSION: u32 = 1;

/// What a run did to each database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub version: u32,
    /// `upgrade heads`, `downgrade -1`, `stamp …`, `current`, …
    pub operation: String,
    pub databases: Vec<RecordedDatabase>,
}

/// One database's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedDatabase {
    pub name: String,
    pub status: DbStatus,
    pub from: Vec<String>,
    pub to: Vec<String>,
    /// Steps applied.
    pub steps: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FailureKind>,
}

/// A record that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "{}: not a run record ({source}); pass the file a run wrote (by default {LAST_RUN})",
        path.display()
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{}: a run record of format {found}; this Braid reads format {RECORD_VERSION}",
        path.display()
    )]
    Version { path: PathBuf, found: u32 },
}

/// A record's outcome counts, for a summary grouped by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// Succeeded and changed something.
    pub changed: usize,
    /// Succeeded with nothing to do.
    pub unchanged: usize,
    pub failed: usize,
    pub skipped: usize,
    /// The failed databases by their error, most common first: one line per distinct error.
    pub errors: Vec<(String, Vec<String>)>,
    /// Where the succeeded databases are now, by heads (`<base>` for none), most first.
    pub now_at: Vec<(String, usize)>,
}

/// One database's entry as it is written: borrowed from its result, so writing the record of
/// ten thousand tenants copies none of them.
#[derive(Serialize)]
struct EntryRef<'a> {
    name: &'a str,
    status: DbStatus,
    from: &'a [String],
    to: &'a [String],
    steps: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<FailureKind>,
}

/// Writes the record of `results` of `operation` to `path` (its directory created if missing),
/// whole or not at all: a temporary file beside it, renamed over it. One database per line, so
/// the file reads (and greps) as well as it parses.
pub fn write_record(path: &Path, operation: &Operation, results: &[DbResult]) -> Result<(), Error> {
    use std::io::Write;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temporary = path.with_extension("json.partial");
    let file = std::fs::File::create(&temporary).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    let operation = serde_json::to_string(&command_of(operation)).map_err(|e| io(e.into()))?;
    write!(
        out,
        "{{\"version\": {RECORD_VERSION}, \"operation\": {operation}, \"databases\": ["
    )
    .map_err(io)?;
    for (i, r) in results.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })
            .map_err(io)?;
        let entry = EntryRef {
            name: &r.name,
            status: r.status,
            from: &r.from,
            to: &r.current,
            steps: r.applied.len(),
            error: r.error.as_deref(),
            kind: r.error_kind,
        };
        serde_json::to_writer(&mut out, &entry).map_err(|e| io(e.into()))?;
    }
    out.write_all(b"\n]}\n").map_err(io)?;
    out.into_inner()
        .map_err(|e| io(e.into_error()))?
        .sync_all()
        .map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

impl RunRecord {
    /// Reads the record at `path`.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let record: RunRecord =
            serde_json::from_str(&text).map_err(|source| RecordError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        if record.version != RECORD_VERSION {
            return Err(RecordError::Version {
                path: path.to_path_buf(),
                found: record.version,
            }
            .into());
        }
        Ok(record)
    }

    /// The databases that did not finish: failed or never started.
    pub fn unfinished(&self) -> Vec<String> {
        self.databases
            .iter()
            .filter(|d| d.status != DbStatus::Ok)
            .map(|d| d.name.clone())
            .collect()
    }

    /// The counts by outcome, the failures grouped by error, the successes by where they are.
    pub fn outcomes(&self) -> Outcomes {
        Outcomes::tally(self.databases.iter().map(|d| Entry {
            name: &d.name,
            status: d.status,
            steps: d.steps,
            to: &d.to,
            error: d.error.as_deref(),
        }))
    }
}

/// What [`Outcomes`] reads of one database.
struct Entry<'a> {
    name: &'a str,
    status: DbStatus,
    steps: usize,
    to: &'a [String],
    error: Option<&'a str>,
}

impl Outcomes {
    /// The outcomes of a run's results, without making its record.
    pub fn of(results: &[DbResult]) -> Outcomes {
        Outcomes::tally(results.iter().map(|r| Entry {
            name: &r.name,
            status: r.status,
            steps: r.applied.len(),
            to: &r.current,
            error: r.error.as_deref(),
        }))
    }

    fn tally<'a>(entries: impl Iterator<Item = Entry<'a>>) -> Outcomes {
        let mut outcomes = Outcomes::default();
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut now_at: BTreeMap<String, usize> = BTreeMap::new();
        for d in entries {
            match d.status {
                DbStatus::Ok if d.steps > 0 => outcomes.changed += 1,
                DbStatus::Ok => outcomes.unchanged += 1,
                DbStatus::Error => outcomes.failed += 1,
                DbStatus::Skipped => outcomes.skipped += 1,
            }
            match d.status {
                DbStatus::Ok => *now_at.entry(heads_text(d.to)).or_default() += 1,
                DbStatus::Error => errors
                    .entry(without_name(d.name, d.error))
                    .or_default()
                    .push(d.name.to_string()),
                DbStatus::Skipped => {}
            }
        }
        outcomes.errors = errors.into_iter().collect();
        outcomes
            .errors
            .sort_by_key(|(_, names)| std::cmp::Reverse(names.len()));
        outcomes.now_at = now_at.into_iter().collect();
        outcomes.now_at.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        outcomes
    }
}

impl crate::Project {
    /// Records `results` of `operation`: in `explicit` when given, else — for a run that
    /// changed databases (upgrade, downgrade, stamp) and included a tenant — in [`LAST_RUN`]
    /// under the project root. Returns where it wrote, `None` when nothing was to be recorded.
    pub fn record_run(
        &self,
        explicit: Option<&Path>,
        operation: &Operation,
        results: &[DbResult],
    ) -> Result<Option<PathBuf>, Error> {
        let changes = matches!(
            operation,
            Operation::Upgrade { .. } | Operation::Downgrade { .. } | Operation::Stamp { .. }
        );
        let tenants = results
            .iter()
            .any(|r| braid_config::tenants::split_tenant(&r.name).is_some());
        let path = match explicit {
            Some(path) => self.root().join(path),
            None if changes && tenants => self.root().join(LAST_RUN),
            None => return Ok(None),
        };
        write_record(&path, operation, results)?;
        Ok(Some(path))
    }
}

impl From<RecordError> for Error {
    fn from(e: RecordError) -> Self {
        Error::Record(Box::new(e))
    }
}

/// A failure's message without its database's name, so that one error on many tenants groups
/// as one line.
fn without_name(name: &str, error: Option<&str>) -> String {
    let error = error.unwrap_or("failed");
    error
        .replace(&format!("`{name}`"), "`…`")
        .replace(name, "…")
}

fn heads_text(heads: &[String]) -> String {
    match heads.is_empty() {
        true => "<base>".to_string(),
        false => heads.join(", "),
    }
}

/// The operation as typed after `braid`: `upgrade heads`.
fn command_of(op: &Operation) -> String {
    match op {
        Operation::Upgrade {
            target,
            phase: None,
        } => format!("upgrade {target}"),
        Operation::Upgrade {
            target,
            phase: Some(phase),
        } => format!("upgrade --phase {phase} {target}"),
        Operation::Downgrade { target } => format!("downgrade {target}"),
        Operation::Stamp { targets, purge } => {
            format!(
                "stamp {}{}",
                targets.join(" "),
                if *purge { " --purge" } else { "" }
            )
        }
        Operation::Current => "current".to_string(),
        Operation::Status => "check".to_string(),
        Operation::Accept { revision } => format!("accept {revision}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, status: DbStatus, error: Option<&str>) -> DbResult {
        let mut r = match status {
            DbStatus::Skipped => DbResult::skipped(name, "not started"),
            _ => DbResult::failed(name, error.unwrap_or(""), FailureKind::Migration),
        };
        if status == DbStatus::Ok {
            r.status = DbStatus::Ok;
            r.error = None;
            r.error_kind = None;
            r.current = vec!["b".into()];
        }
        r
    }

    #[test]
    fn a_record_round_trips_and_names_what_to_rerun() {
        let results = vec![
            result("shops:a", DbStatus::Ok, None),
            result("shops:b", DbStatus::Error, Some("database `shops:b`: boom")),
            result("shops:c", DbStatus::Error, Some("database `shops:c`: boom")),
            result("shops:d", DbStatus::Skipped, None),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs/last.json");
        let upgrade = Operation::Upgrade {
            target: "heads".into(),
            phase: None,
        };
        write_record(&path, &upgrade, &results).unwrap();
        let read = RunRecord::read(&path).unwrap();
        assert_eq!(read.operation, "upgrade heads");
        assert_eq!(read.databases.len(), 4);
        assert_eq!(read.databases[0].to, ["b"]);
        assert_eq!(read.databases[1].kind, Some(FailureKind::Migration));
        assert_eq!(Outcomes::of(&results), read.outcomes());
        // One database per line.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 6, "{text}");
        assert_eq!(read.unfinished(), ["shops:b", "shops:c", "shops:d"]);
        let outcomes = read.outcomes();
        assert_eq!(
            (outcomes.unchanged, outcomes.failed, outcomes.skipped),
            (1, 2, 1)
        );
        assert_eq!(
            outcomes.errors,
            [(
                "database `…`: boom".to_string(),
                vec!["shops:b".to_string(), "shops:c".to_string()]
            )]
        );
        assert_eq!(outcomes.now_at, [("b".to_string(), 1)]);
    }

    #[test]
    fn a_file_that_is_not_a_record_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "{}").unwrap();
        let e = RunRecord::read(&path).unwrap_err().to_string();
        assert!(e.contains("not a run record"), "{e}");
        std::fs::write(&path, r#"{"version":9,"operation":"x","databases":[]}"#).unwrap();
        let e = RunRecord::read(&path).unwrap_err().to_string();
        assert!(e.contains("format 9"), "{e}");
    }
}
