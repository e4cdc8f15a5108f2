//! One Alembic revision file, read without running it.

use std::path::{Path, PathBuf};

use super::python::{self, Statement};
use crate::ImportError;

/// What a revision file declares, in Alembic's terms (its own ids, not Braid's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Script {
    pub path: PathBuf,
    pub revision: String,
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    /// The first line of the module docstring (or of the file name when there is none).
    pub message: String,
    pub created: Option<jiff::Timestamp>,
    /// The file's text, kept for a body Alembic cannot render.
    pub source: String,
    /// Whether `upgrade()` and `downgrade()` do nothing (a merge revision's usually do not),
    /// so that their SQL is known to be empty even when Alembic cannot get to them.
    pub upgrade_does_nothing: bool,
    pub downgrade_does_nothing: bool,
}

/// Reads the revision file at `path`.
pub(super) fn read(path: &Path) -> Result<Script, ImportError> {
    let source = std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))?;
    parse(path, source)
}

/// Reads a revision file's text. Like Alembic, it requires `revision` and `down_revision`;
/// `branch_labels` and `depends_on` are optional.
pub(super) fn parse(path: &Path, source: String) -> Result<Script, ImportError> {
    let code = source.strip_prefix('\u{feff}').unwrap_or(&source);
    let statements = python::statements(code).map_err(|e| ImportError::Parse {
        path: path.to_path_buf(),
        line: Some(e.line),
        problem: e.problem,
    })?;
    let fields = Fields::read(path, &statements)?;
    let revision = required_one(path, "revision", fields.revision)?;
    let down_revisions = match fields.down_revision {
        Some(value) => non_empty(path, "down_revision", value)?,
        None => {
            return Err(missing(
                path,
                "down_revision",
                "Alembic needs one (`down_revision = None` for a first revision)",
            ));
        }
    };
    let docstring = python::docstring(&statements).unwrap_or_default();
    Ok(Script {
        message: message(&docstring, path, &revision),
        created: created(&docstring),
        branch_labels: non_empty(
            path,
            "branch_labels",
            fields.branch_labels.unwrap_or_default(),
        )?,
        depends_on: non_empty(path, "depends_on", fields.depends_on.unwrap_or_default())?,
        path: path.to_path_buf(),
        revision,
        down_revisions,
        upgrade_does_nothing: python::does_nothing(&statements, "upgrade"),
        downgrade_does_nothing: python::does_nothing(&statements, "downgrade"),
        source,
    })
}

/// The four assignments Alembic reads; the last one of a name wins, as in Python.
#[derive(Default)]
struct Fields {
    revision: Option<Field>,
    down_revision: Option<Field>,
    branch_labels: Option<Field>,
    depends_on: Option<Field>,
}

/// One assignment's strings, the line it is on, and whether it was a single string (not a
/// tuple or list).
#[derive(Default)]
struct Field {
    line: usize,
    values: Vec<String>,
    single: bool,
}

impl Fields {
    fn read(path: &Path, statements: &[Statement]) -> Result<Fields, ImportError> {
        let mut fields = Fields::default();
        for statement in statements {
            let Some((name, tokens)) = python::assignment(statement) else {
                continue;
            };
            let slot = match name {
                "revision" => &mut fields.revision,
                "down_revision" => &mut fields.down_revision,
                "branch_labels" => &mut fields.branch_labels,
                "depends_on" => &mut fields.depends_on,
                _ => continue,
            };
            let value = python::value(tokens).map_err(|problem| ImportError::Parse {
                path: path.to_path_buf(),
                line: Some(statement.line()),
                problem: format!("`{name}`: {problem}"),
            })?;
            *slot = Some(Field {
                line: statement.line(),
                single: matches!(value, python::Value::One(_)),
                values: value.into_vec(),
            });
        }
        Ok(fields)
    }
}

/// `revision` must be one string.
fn required_one(path: &Path, name: &str, field: Option<Field>) -> Result<String, ImportError> {
    match field {
        Some(Field {
            mut values,
            single: true,
            ..
        }) if values.len() == 1 && !values[0].is_empty() => Ok(values.remove(0)),
        Some(Field { line, .. }) => Err(ImportError::Parse {
            path: path.to_path_buf(),
            line: Some(line),
            problem: format!("`{name}` must be one non-empty string, as Alembic requires"),
        }),
        None => Err(missing(
            path,
            name,
            "Alembic refuses a revision file without one; give it a revision id or move the \
             file out of the versions directory",
        )),
    }
}

/// The strings of a list-valued field; an empty string is refused (it names nothing).
fn non_empty(path: &Path, name: &str, field: Field) -> Result<Vec<String>, ImportError> {
    let Field { line, values, .. } = field;
    if values.iter().any(String::is_empty) {
        return Err(ImportError::Parse {
            path: path.to_path_buf(),
            line: Some(line),
            problem: format!("`{name}` holds an empty string; use None or a revision id"),
        });
    }
    Ok(values)
}

fn missing(path: &Path, name: &str, what_to_do: &str) -> ImportError {
    ImportError::Parse {
        path: path.to_path_buf(),
        line: None,
        problem: format!("no module-level `{name} = …`; {what_to_do}"),
    }
}

/// The docstring's first non-empty line; without one, the file name after the revision id
/// (`1a2b3c4d5e6f_add_users.py` → `add users`), as Alembic's default file template writes it.
fn message(docstring: &str, path: &Path, revision: &str) -> String {
    if let Some(line) = docstring.lines().map(str::trim).find(|l| !l.is_empty()) {
        return line.to_string();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rest = stem.strip_prefix(revision).unwrap_or(&stem);
    crate::message_from_name(rest)
}

/// The docstring's `Create Date:` line. Alembic writes the local time of the machine that
/// generated the file, without an offset (unless its `timezone` option is set, when the offset
/// follows): Braid has no way to know that machine's zone, so an offset-less date is read as
/// UTC. A missing or unreadable date is `None`.
fn created(docstring: &str) -> Option<jiff::Timestamp> {
    let value = docstring
        .lines()
        .find_map(|l| l.trim().strip_prefix("Create Date:"))?
        .trim();
    if let Ok(at) = value.parse::<jiff::Timestamp>() {
        return Some(at);
    }
    let civil = value.parse::<jiff::civil::DateTime>().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_dates() {
        let at = created("x\n\nCreate Date: 2024-01-02 10:11:12.123456\n").unwrap();
        assert_eq!(at.to_string(), "2024-01-02T10:11:12.123456Z");
        let at = created("Create Date: 2024-01-02 10:11:12.123456+01:00").unwrap();
        assert_eq!(at.to_string(), "2024-01-02T09:11:12.123456Z");
        assert_eq!(created("Create Date: yesterday"), None);
        assert_eq!(created("no date"), None);
    }

    #[test]
    fn message_falls_back_to_the_file_name() {
        let path = Path::new("/v/1a2b3c4d5e6f_add_users.py");
        assert_eq!(message("", path, "1a2b3c4d5e6f"), "add users");
        assert_eq!(message("\n  Add users.\n\nmore", path, "x"), "Add users.");
    }
}
