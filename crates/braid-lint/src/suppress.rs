//! `-- braid:allow CODE[,CODE…] reason`: accepting a finding, in the migration, with a reason.
//!
//! The comment applies to the statement on its own line (a trailing comment) or else to the
//! next statement; a finding about a whole script (a missing downgrade) is accepted by such a
//! comment anywhere in the revision. The reason is required: a suppression is a decision a
//! review must be able to read, so one without a reason is itself an error and accepts
//! nothing. Suppressed findings stay in the report, with their reason.
//!
//! A revision that declares `phase = "contract"` needs no comment for the drops
//! it exists to make (B101, B102): they are reported suppressed, with that reason
//! ([`expected`]). A comment's own reason, when there is one, is the one shown.

use braid_graph::Phase;

use crate::code::Code;
use crate::parse::Stmt;
use crate::rules::{At, Hit, Which};

const MARKER: &str = "braid:allow";

/// The drops a revision that declares `phase = "contract"` is written to make: it runs after
/// the release that stops using what it removes, so they are not a risk to the release still
/// running. Renames are not among them: the release deployed between the two steps still uses
/// the old name when the contract step runs.
const EXPECTED_IN_CONTRACT: &[Code] = &[Code::DropTable, Code::DropColumn];

/// Why a finding of `code` in the upgrade of a revision declaring `phase` is accepted without
/// a `braid:allow` comment, if it is: the drops of a declared contract revision.
pub(crate) fn expected(phase: Option<Phase>, code: Code, which: Which) -> Option<&'static str> {
    (phase == Some(Phase::Contract) && which == Which::Up && EXPECTED_IN_CONTRACT.contains(&code))
        .then_some("contract revision: it runs after the release that stops using this")
}

/// One valid `braid:allow` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allow {
    which: Which,
    codes: Vec<Code>,
    reason: String,
    /// The statement it applies to; `None` after the last statement.
    target: Option<usize>,
}

/// The `braid:allow` comments of a revision.
#[derive(Debug, Default)]
pub(crate) struct Allows {
    allows: Vec<Allow>,
}

impl Allows {
    /// Reads the comments of one script of the revision; returns the findings about the
    /// comments themselves (no reason, unknown codes).
    pub fn read(&mut self, which: Which, text: &str, statements: &[Stmt]) -> Vec<Hit> {
        let mut problems = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let number = i + 1;
            let Some(comment) = allow_comment(line) else {
                continue;
            };
            let (codes, reason) = split(comment);
            let mut known = Vec::new();
            for code in &codes {
                match code.parse::<Code>() {
                    Ok(code) => known.push(code),
                    Err(e) => problems.push(problem(
                        Code::SuppressionUnknownCode,
                        which,
                        number,
                        format!("`{MARKER}` names an {e}"),
                    )),
                }
            }
            if codes.is_empty() {
                problems.push(problem(
                    Code::SuppressionUnknownCode,
                    which,
                    number,
                    format!("`{MARKER}` names no code"),
                ));
            } else if reason.is_empty() {
                problems.push(problem(
                    Code::SuppressionWithoutReason,
                    which,
                    number,
                    format!(
                        "`{MARKER} {}` gives no reason, so it suppresses nothing",
                        codes.join(",")
                    ),
                ));
            } else if !known.is_empty() {
                self.allows.push(Allow {
                    which,
                    codes: known,
                    reason: reason.to_string(),
                    target: target(statements, number),
                });
            }
        }
        problems
    }

    /// The reason `code` is accepted at `at` of `which`, if it is.
    pub fn reason(&self, code: Code, which: Which, at: At) -> Option<&str> {
        self.allows
            .iter()
            .filter(|a| a.codes.contains(&code))
            .find(|a| match at {
                At::Statement(i) => a.which == which && a.target == Some(i),
                At::Whole => true,
                At::Line(_) => false,
            })
            .map(|a| a.reason.as_str())
    }
}

/// The text after `braid:allow` when the line holds such a `--` comment.
fn allow_comment(line: &str) -> Option<&str> {
    let mut rest = line;
    while let Some(at) = rest.find("--") {
        let comment = rest[at + 2..].trim_start();
        if let Some(after) = strip_marker(comment)
            && after.chars().next().is_none_or(char::is_whitespace)
        {
            return Some(after);
        }
        rest = &rest[at + 2..];
    }
    None
}

fn strip_marker(comment: &str) -> Option<&str> {
    let head = comment.get(..MARKER.len())?;
    head.eq_ignore_ascii_case(MARKER)
        .then(|| &comment[MARKER.len()..])
}

/// `B101,B102 the reason` → (["B101", "B102"], "the reason").
fn split(comment: &str) -> (Vec<&str>, &str) {
    let comment = comment.trim();
    let (codes, reason) = comment
        .split_once(char::is_whitespace)
        .unwrap_or((comment, ""));
    let codes = codes
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    (codes, reason.trim())
}

/// The statement a comment on `line` applies to: the one spanning the line, else the next.
fn target(statements: &[Stmt], line: usize) -> Option<usize> {
    statements
        .iter()
        .find(|s| s.line <= line && line <= s.end_line)
        .or_else(|| statements.iter().find(|s| s.line > line))
        .map(|s| s.index)
}

fn problem(code: Code, which: Which, line: usize, message: String) -> Hit {
    Hit {
        code,
        which,
        at: At::Line(line),
        message,
    }
}

#[cfg(test)]
mod tests {
    use braid_driver::Dialect;

    use crate::code::Code;
    use crate::finding::Finding;
    use crate::rules::testing::findings;

    fn of(code: Code, all: &[Finding]) -> Vec<Finding> {
        all.iter().filter(|f| f.code == code).cloned().collect()
    }

    #[test]
    fn a_comment_above_suppresses_the_next_statement_only() {
        let sql = "-- braid:allow B101 the table is unused since 4.2\n\
                   DROP TABLE legacy;\n\
                   DROP TABLE other;";
        let got = of(Code::DropTable, &findings(Dialect::Postgres, sql));
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].suppressed.as_deref(),
            Some("the table is unused since 4.2")
        );
        assert_eq!(got[1].suppressed, None);
    }

    #[test]
    fn a_trailing_comment_suppresses_its_own_statement() {
        let sql = "DROP TABLE a; -- braid:allow B101,B208 dropped in the contract phase\n\
                   DROP TABLE b;";
        let got = of(Code::DropTable, &findings(Dialect::Sqlite, sql));
        assert!(!got[0].is_active());
        assert!(got[1].is_active());
    }

    #[test]
    fn a_comment_without_a_reason_is_an_error_and_suppresses_nothing() {
        let sql = "-- braid:allow B101\nDROP TABLE legacy;";
        for d in Dialect::ALL {
            let all = findings(d, sql);
            assert!(of(Code::DropTable, &all)[0].is_active());
            let problem = &of(Code::SuppressionWithoutReason, &all)[0];
            assert_eq!(problem.line, Some(1));
            assert!(problem.is_error());
        }
    }

    #[test]
    fn an_unknown_code_is_an_error() {
        let sql = "-- braid:allow B1O1 typo\nDROP TABLE legacy;";
        let all = findings(Dialect::Postgres, sql);
        assert_eq!(of(Code::SuppressionUnknownCode, &all).len(), 1);
        assert!(of(Code::DropTable, &all)[0].is_active());
        let none = findings(Dialect::Postgres, "-- braid:allow\nSELECT 1");
        assert_eq!(of(Code::SuppressionUnknownCode, &none).len(), 1);
    }

    #[test]
    fn other_comments_are_not_suppressions() {
        for sql in [
            "-- braid:allowed B101 no\nDROP TABLE legacy;",
            "-- allow B101 no\nDROP TABLE legacy;",
        ] {
            let all = findings(Dialect::Postgres, sql);
            assert!(of(Code::DropTable, &all)[0].is_active(), "{sql}");
            assert!(of(Code::SuppressionWithoutReason, &all).is_empty());
        }
    }
}
