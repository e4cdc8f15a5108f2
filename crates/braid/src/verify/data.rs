//! Data checks: a revision's `verify.sql` (format in the [module docs](super)).

use std::fmt;
use std::path::{Path, PathBuf};

use braid_driver::{Dialect, Driver, DriverError, Rows, Value};
use serde::Serialize;

/// The line that opens the statements run before the `up`.
const SETUP: &str = "-- braid:setup";
/// The line that opens the queries compared before the `up` and after the `down`.
const CHECK: &str = "-- braid:check";
/// Rows shown of each result in a [`DataMismatch`].
const ROWS_SHOWN: usize = 3;
/// Characters shown of one text or bytes value.
const VALUE_CHARS: usize = 40;

/// Why a `verify.sql` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}, line {line}: SQL before the first `{SETUP}` or `{CHECK}` line (every statement \
         belongs to one of them; only `--` comments may come first)",
        path.display()
    )]
    Unsectioned { path: PathBuf, line: usize },
}

/// A check query whose results after the `down` are not those before the `up`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataMismatch {
    /// The file it is in.
    pub file: PathBuf,
    /// 1-based, among the file's check queries.
    pub index: usize,
    /// The query, shortened to one line.
    pub query: String,
    /// Its results before the `up`, shortened: the row count, then rows from the first that
    /// differs.
    pub before: String,
    /// Its results after the `down`, likewise.
    pub after: String,
}

impl fmt::Display for DataMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "check query {} of {} (`{}`) returns other rows after the down: before the up {}; \
             after the down {}",
            self.index,
            self.file.display(),
            self.query,
            self.before,
            self.after
        )
    }
}

/// A parsed `verify.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DataCheck {
    path: PathBuf,
    /// Every setup section, in order.
    setup: String,
    /// Every check section, in order; split into queries by the driver that runs them.
    checks: String,
}

impl DataCheck {
    /// The `verify.<dialect>.sql` of a revision directory, else its `verify.sql`, if any.
    pub fn load(dir: &Path, dialect: Dialect) -> Result<Option<DataCheck>, DataFileError> {
        let found = braid_source::verify_files(dialect)
            .into_iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file());
        let Some(path) = found else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(&path).map_err(|source| DataFileError::Read {
            path: path.clone(),
            source,
        })?;
        Self::parse(path, &text).map(Some)
    }

    /// Sorts the lines of `text` into its sections.
    fn parse(path: PathBuf, text: &str) -> Result<DataCheck, DataFileError> {
        let mut check = DataCheck {
            path,
            setup: String::new(),
            checks: String::new(),
        };
        let mut section: Option<&mut String> = None;
        for (index, line) in text.lines().enumerate() {
            match line.trim() {
                SETUP => section = Some(&mut check.setup),
                CHECK => section = Some(&mut check.checks),
                _ => match section.as_deref_mut() {
                    Some(text) => {
                        text.push_str(line);
                        text.push('\n');
                    }
                    None if line.trim().is_empty() || line.trim_start().starts_with("--") => {}
                    None => {
                        return Err(DataFileError::Unsectioned {
                            path: check.path.clone(),
                            line: index + 1,
                        });
                    }
                },
            }
        }
        Ok(check)
    }

    /// Whether the file has setup statements (which may change the schema as well as rows).
    pub fn has_setup(&self) -> bool {
        !self.setup.trim().is_empty()
    }

    /// Runs the setup statements.
    pub async fn setup(&self, driver: &mut dyn Driver) -> Result<(), DriverError> {
        if !self.has_setup() {
            return Ok(());
        }
        driver.execute_script(&self.setup).await
    }

    /// The results of every check query, in order.
    pub async fn results(&self, driver: &mut dyn Driver) -> Result<Vec<Rows>, DriverError> {
        let mut results = Vec::new();
        for query in driver.split_script(&self.checks) {
            results.push(driver.query(&query, &[]).await?);
        }
        Ok(results)
    }

    /// The first check query whose results differ between `before` and `after`.
    pub fn compare(
        &self,
        driver: &dyn Driver,
        before: &[Rows],
        after: &[Rows],
    ) -> Option<DataMismatch> {
        let queries = driver.split_script(&self.checks);
        let index = before.iter().zip(after).position(|(b, a)| b != a)?;
        let (b, a) = (&before[index], &after[index]);
        let from = first_difference(b, a);
        Some(DataMismatch {
            file: self.path.clone(),
            index: index + 1,
            query: queries
                .get(index)
                .map(|q| braid_driver::statement_excerpt(q))
                .unwrap_or_default(),
            before: describe(b, from),
            after: describe(a, from),
        })
    }
}

/// The first row where `a` and `b` differ (0 when their columns do).
fn first_difference(a: &Rows, b: &Rows) -> usize {
    if a.columns != b.columns {
        return 0;
    }
    a.rows
        .iter()
        .zip(&b.rows)
        .position(|(x, y)| x != y)
        .unwrap_or(a.rows.len().min(b.rows.len()))
}

/// `3 rows (id, email), from row 2: (2, 'b@x'), (3, 'c@x')`.
fn describe(rows: &Rows, from: usize) -> String {
    let count = rows.rows.len();
    let mut out = format!(
        "{count} row{} ({})",
        if count == 1 { "" } else { "s" },
        rows.columns.join(", ")
    );
    let shown: Vec<String> = rows
        .rows
        .iter()
        .skip(from)
        .take(ROWS_SHOWN)
        .map(|row| row_text(row))
        .collect();
    if shown.is_empty() {
        return out;
    }
    if from > 0 {
        out.push_str(&format!(", from row {}", from + 1));
    }
    out.push_str(": ");
    out.push_str(&shown.join(", "));
    if from + ROWS_SHOWN < count {
        out.push_str(", …");
    }
    out
}

fn row_text(row: &[Value]) -> String {
    let values: Vec<String> = row.iter().map(value_text).collect();
    format!("({})", values.join(", "))
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Text(s) => {
            let mut shown: String = s.chars().take(VALUE_CHARS).collect();
            if shown.len() < s.len() {
                shown.push('…');
            }
            format!("'{}'", shown.replace('\'', "''"))
        }
        Value::Bytes(b) => {
            let hex: String = b
                .iter()
                .take(VALUE_CHARS / 2)
                .map(|x| format!("{x:02x}"))
                .collect();
            let more = if b.len() > VALUE_CHARS / 2 { "…" } else { "" };
            format!("x'{hex}{more}'")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DataCheck, DataFileError> {
        DataCheck::parse(PathBuf::from("verify.sql"), text)
    }

    #[test]
    fn sections_are_sorted_out() {
        let check = parse(
            "-- rows for the new column\n\n-- braid:setup\nINSERT INTO t VALUES (1);\n\
             -- braid:check\nSELECT * FROM t;\n  -- braid:setup  \nINSERT INTO t VALUES (2);\n",
        )
        .unwrap();
        assert_eq!(
            check.setup,
            "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n"
        );
        assert_eq!(check.checks, "SELECT * FROM t;\n");
        assert!(check.has_setup());
    }

    #[test]
    fn sql_outside_a_section_is_refused() {
        let err = parse("-- note\nSELECT 1;\n-- braid:check\nSELECT 2;\n").unwrap_err();
        assert!(
            matches!(err, DataFileError::Unsectioned { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn results_are_described_from_the_first_difference() {
        let rows = |values: &[i64]| Rows {
            columns: vec!["id".into(), "email".into()],
            rows: values
                .iter()
                .map(|&i| vec![Value::Int(i), Value::Text(format!("u{i}@x"))])
                .collect(),
        };
        let (before, after) = (rows(&[1, 2, 3, 4, 5]), rows(&[1, 2]));
        let from = first_difference(&before, &after);
        assert_eq!(from, 2);
        assert_eq!(
            describe(&before, from),
            "5 rows (id, email), from row 3: (3, 'u3@x'), (4, 'u4@x'), (5, 'u5@x')"
        );
        assert_eq!(describe(&after, from), "2 rows (id, email)");
        assert_eq!(
            value_text(&Value::Text("it's".into())),
            "'it''s'".to_string()
        );
        assert_eq!(value_text(&Value::Bytes(vec![1, 255])), "x'01ff'");
    }
}
