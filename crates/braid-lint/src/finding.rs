//! What the linter reads (one revision's scripts for one dialect) and what it reports.

use std::fmt;

use braid_driver::Dialect;
use braid_graph::Phase;
use serde::Serialize;

use crate::code::{Code, Severity};
use crate::phase::ExpandRevision;

/// How many characters of a statement a finding quotes: enough to recognise it on one line.
const EXCERPT_CHARS: usize = 80;

/// One revision's scripts on one dialect.
#[derive(Debug, Clone, Copy)]
pub struct RevisionInput<'a> {
    pub revision: &'a str,
    pub dialect: Dialect,
    /// Whether the revision runs in a transaction (`transaction = false` in its revision.toml
    /// makes it run statement by statement; MySQL always does, whatever this says).
    pub transactional: bool,
    pub up: Source<'a>,
    pub down: Down<'a>,
    /// The SQL was rendered from a Rust revision: lines refer to the rendering, not to a file
    /// a person edits, and there are no `braid:allow` comments to honour.
    pub rendered: bool,
    /// The deploy phase the revision declares in its `revision.toml`; `None` when it leaves it
    /// to be inferred. A declared expand revision must not be destructive (B110); in a
    /// declared contract revision the drops and renames B101–B104 report are expected.
    pub phase: Option<Phase>,
    /// When the revision is a contract (declared or inferred): the expand revisions of its
    /// release, oldest first, read on the same dialect (see [`crate::phase`]); empty otherwise.
    pub release: &'a [ExpandRevision<'a>],
}

/// A script and the file it is shown as.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The path shown to the user.
    pub origin: &'a str,
    pub text: &'a str,
}

/// The downgrade of a revision, as far as the linter can know it.
#[derive(Debug, Clone, Copy)]
pub enum Down<'a> {
    Script(Source<'a>),
    /// The revision has no downgrade at all.
    Absent,
    /// There is one, but it could not be read or rendered: shape rules stay silent rather than
    /// report a downgrade as missing.
    Unreadable,
}

/// One problem found in one revision on one dialect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub revision: String,
    pub dialect: Dialect,
    /// The file, as [`Source::origin`] named it.
    pub file: String,
    /// The 1-based line of the statement (or comment) in `file`; `None` for a finding about a
    /// whole script.
    pub line: Option<usize>,
    /// `file` is a Rust revision and `line` a line of the SQL rendered from it.
    pub rendered: bool,
    /// The statement, shortened to one line; `None` for a finding about a whole script.
    pub statement: Option<String>,
    /// What was found, naming the table, column or index.
    pub message: String,
    /// Why it is accepted, from a `-- braid:allow CODE reason` comment: a suppressed finding
    /// is still listed (a review sees every accepted risk) but does not count.
    pub suppressed: Option<String>,
}

impl Finding {
    /// Whether the finding counts: not suppressed.
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }

    /// Whether it is an error that counts.
    pub fn is_error(&self) -> bool {
        self.is_active() && self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.rendered {
            f.write_str(" (rendered SQL)")?;
        }
        write!(
            f,
            ": {} {} [{}]: {}",
            self.severity, self.code, self.dialect, self.message
        )?;
        if let Some(reason) = &self.suppressed {
            write!(f, " (allowed: {reason})")?;
        }
        Ok(())
    }
}

/// The finding for a body that could not be read or rendered on `dialect` (`reason` says
/// why): the caller reports it instead of linting, so the rest of the project is still linted.
pub fn body_unavailable(revision: &str, dialect: Dialect, file: &str, reason: &str) -> Finding {
    Finding {
        code: Code::BodyUnavailable,
        severity: Code::BodyUnavailable.severity(),
        revision: revision.to_string(),
        dialect,
        file: file.to_string(),
        line: None,
        rendered: false,
        statement: None,
        message: format!("not linted on {dialect}: {reason}"),
        suppressed: None,
    }
}

/// A statement as a finding quotes it: one line, short, with no password.
pub(crate) fn excerpt(statement: &str) -> String {
    let full = braid_driver::statement_excerpt(statement);
    if full.chars().count() <= EXCERPT_CHARS {
        return full;
    }
    let mut short: String = full.chars().take(EXCERPT_CHARS).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_one_short_line() {
        let long = format!("CREATE TABLE t (\n{}\n)", "a INT, ".repeat(40));
        let e = excerpt(&long);
        assert!(!e.contains('\n'));
        assert!(e.chars().count() <= EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt("DROP TABLE t"), "DROP TABLE t");
    }

    #[test]
    fn a_finding_prints_where_and_what() {
        let mut f = body_unavailable("r1", Dialect::Sqlite, "m/r1/migration.rs", "no Rust");
        assert_eq!(
            f.to_string(),
            "m/r1/migration.rs: info B901 [sqlite]: not linted on sqlite: no Rust"
        );
        f.line = Some(3);
        f.suppressed = Some("known".into());
        assert!(f.to_string().starts_with("m/r1/migration.rs:3: "));
        assert!(f.to_string().ends_with("(allowed: known)"));
        assert!(!f.is_active());
    }
}
