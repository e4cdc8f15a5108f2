//! Lint rules for migration SQL: what a migration does to the application still running
//! (backward compatibility), to each backend's locks, and whether it can be undone and resumed.
//!
//! Pure: [`lint`] takes one revision's scripts for one dialect and returns findings; reading
//! files, rendering Rust revisions and choosing dialects is the facade's job (`braid::Project::lint`).
//!
//! Each script is split into statements exactly as the runner splits it
//! ([`braid_driver::split_statements`]), so a finding's line is the line the runner would report,
//! and each statement is parsed with sqlparser's grammar for the dialect. A statement the
//! parser cannot read is reported ([`Code::Unparsed`], info) and otherwise only looked at by the
//! few rules that work on its words; nothing here panics on any input.
//!
//! Rules see one revision at a time. "An existing table" is therefore a table not created
//! earlier in the same upgrade: tables created by earlier revisions hold production data.
//!
//! The codes, their severities and texts are in [`Code`]; a finding can be accepted in the SQL
//! with `-- braid:allow CODE reason` (see [`Finding::suppressed`]).
//!
//! Deploy phases ([`phase`]): whether a script is expand or contract is inferred from the same
//! rules, a revision is held to the phase it declares, and a contract revision is checked
//! against the expand revisions of its release ([`RevisionInput::release`]).

mod code;
mod finding;
mod names;
pub mod overlap;
mod parse;
pub mod phase;
mod rules;
mod scope;
mod suppress;

use std::cmp::Ordering;

pub use code::{Code, Severity, UnknownCode};
pub use finding::{Down, Finding, RevisionInput, Source, body_unavailable};
pub use scope::scope;

use parse::Stmt;
use rules::{At, Ctx, DownScript, Hit, Which};
use suppress::Allows;

/// Lints one revision on one dialect: every finding, suppressed ones included, in file and
/// line order.
pub fn lint(input: &RevisionInput<'_>) -> Vec<Finding> {
    let up = parse::read(input.up.text, input.dialect);
    let down = match input.down {
        Down::Script(source) => DownScript::Statements(parse::read(source.text, input.dialect)),
        Down::Absent => DownScript::Absent,
        Down::Unreadable => DownScript::Unreadable,
    };
    let ctx = Ctx::new(input, &up, &down);
    let mut hits = rules::run(&ctx);
    let mut allows = Allows::default();
    hits.extend(allows.read(Which::Up, input.up.text, &up));
    if let (Down::Script(source), DownScript::Statements(statements)) = (input.down, &down) {
        hits.extend(allows.read(Which::Down, source.text, statements));
    }
    hits.sort_by(order);
    hits.into_iter()
        .map(|hit| finding(input, &up, &down, &allows, hit))
        .collect()
}

/// Findings in reading order: the upgrade before the downgrade, then by line, whole-script
/// findings last, then by code.
fn order(a: &Hit, b: &Hit) -> Ordering {
    let line = |hit: &Hit| match hit.at {
        At::Statement(i) => (0, i),
        At::Line(n) => (0, n),
        At::Whole => (1, 0),
    };
    (a.which, line(a), a.code).cmp(&(b.which, line(b), b.code))
}

fn finding(
    input: &RevisionInput<'_>,
    up: &[Stmt],
    down: &DownScript,
    allows: &Allows,
    hit: Hit,
) -> Finding {
    let (file, statements) = match (hit.which, input.down, down) {
        (Which::Down, Down::Script(source), DownScript::Statements(statements)) => {
            (source.origin, statements.as_slice())
        }
        _ => (input.up.origin, up),
    };
    let stmt = match hit.at {
        At::Statement(i) => statements.get(i),
        _ => None,
    };
    let line = match hit.at {
        At::Line(n) => Some(n),
        _ => stmt.map(|s| s.line),
    };
    Finding {
        code: hit.code,
        severity: hit.code.severity(),
        revision: input.revision.to_string(),
        dialect: input.dialect,
        file: file.to_string(),
        line,
        rendered: input.rendered,
        statement: stmt.map(|s| finding::excerpt(&s.text)),
        suppressed: allows
            .reason(hit.code, hit.which, hit.at)
            .or_else(|| suppress::expected(input.phase, hit.code, hit.which))
            .map(str::to_string),
        message: hit.message,
    }
}

#[cfg(test)]
mod tests {
    use braid_driver::Dialect;
    use proptest::prelude::*;

    use super::*;

    fn input<'a>(dialect: Dialect, up: &'a str, down: &'a str) -> RevisionInput<'a> {
        RevisionInput {
            revision: "r1",
            dialect,
            transactional: true,
            up: Source {
                origin: "m/r1/up.sql",
                text: up,
            },
            down: Down::Script(Source {
                origin: "m/r1/down.sql",
                text: down,
            }),
            rendered: false,
            phase: None,
            release: &[],
        }
    }

    #[test]
    fn a_finding_says_where_and_what() {
        let up = "SET lock_timeout = '5s';\n\n-- old\nDROP TABLE\n  legacy;";
        let got = lint(&input(Dialect::Postgres, up, "SELECT 1"));
        let drop = got.iter().find(|f| f.code == Code::DropTable).unwrap();
        assert_eq!(drop.file, "m/r1/up.sql");
        assert_eq!(drop.line, Some(4));
        assert_eq!(drop.statement.as_deref(), Some("DROP TABLE legacy"));
        assert_eq!(drop.revision, "r1");
        assert_eq!(drop.severity, Severity::Error);
        assert_eq!(drop.message, "drops table `legacy`");
        let json = serde_json::to_value(drop).unwrap();
        assert_eq!(json["code"], "B101");
        assert_eq!(json["severity"], "error");
        assert_eq!(json["dialect"], "postgres");
        assert_eq!(json["suppressed"], serde_json::Value::Null);
    }

    #[test]
    fn an_unreadable_statement_is_info_and_the_rest_is_still_linted() {
        let up = "THIS IS NOT SQL;\nDROP TABLE legacy;";
        for d in Dialect::ALL {
            let got = lint(&input(d, up, "SELECT 1"));
            let codes: Vec<Code> = got.iter().map(|f| f.code).collect();
            assert!(codes.contains(&Code::Unparsed), "{d}: {codes:?}");
            assert!(codes.contains(&Code::DropTable), "{d}: {codes:?}");
            let unparsed = got.iter().find(|f| f.code == Code::Unparsed).unwrap();
            assert_eq!(unparsed.severity, Severity::Info);
            assert_eq!(unparsed.line, Some(1));
            let readable = lint(&input(d, "UPDATE t SET a = 1 WHERE b IS NULL;", "SELECT 1"));
            assert!(readable.iter().all(|f| f.code != Code::Unparsed), "{d}");
        }
    }

    #[test]
    fn the_workspace_example_migration_reads_clean_on_sqlite() {
        let up = "CREATE TABLE audit_log (\n    id INTEGER PRIMARY KEY AUTOINCREMENT,\n    \
                  action VARCHAR(100) NOT NULL\n);\n\
                  CREATE INDEX ix_audit_log_action ON audit_log (action);";
        let down = "DROP INDEX ix_audit_log_action;\nDROP TABLE audit_log;";
        assert_eq!(lint(&input(Dialect::Sqlite, up, down)), []);
    }

    #[test]
    fn garbage_never_panics() {
        let nasty = [
            "",
            ";",
            ";;;",
            "'",
            "\"",
            "`",
            "$$",
            "$a$ unterminated",
            "/* open",
            "ALTER TABLE",
            "ALTER TABLE t ADD",
            "ALTER TABLE t ADD IF",
            "ALTER TABLE t ADD IF NOT",
            "DROP",
            "CREATE INDEX ON",
            "-- braid:allow",
            "-- braid:allow ,,, ",
            "SET lock_timeout",
            "SET lock_timeout =",
            "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((",
            "SELECT ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1",
            "\u{feff}DROP TABLE t",
            "DROP TABLE \u{1F600}",
            "ALTER TABLE t MODIFY c ENUM(",
        ];
        for text in nasty {
            for d in Dialect::ALL {
                let _ = lint(&input(d, text, text));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_text_lints_without_panicking(text in "\\PC{0,200}") {
            for d in Dialect::ALL {
                let _ = lint(&input(d, &text, &text));
            }
        }

        #[test]
        fn sql_like_text_lints_without_panicking(
            words in prop::collection::vec(
                prop::sample::select(vec![
                    "ALTER", "TABLE", "t", "ADD", "DROP", "COLUMN", "IF", "NOT", "EXISTS",
                    "CREATE", "INDEX", "CONCURRENTLY", "ON", "(", ")", ",", ";", "a", "INT",
                    "DEFAULT", "NULL", "MODIFY", "ENUM", "'x'", "RENAME", "TO", "SET",
                    "lock_timeout", "=", "0", "--", "braid:allow", "B101", "\n", "UNIQUE",
                    "REFERENCES", "PRIMARY", "KEY", "CHECK", "VALID", "VALIDATE", "CONSTRAINT",
                ]),
                0..40,
            )
        ) {
            let text = words.join(" ");
            for d in Dialect::ALL {
                let _ = lint(&input(d, &text, &text));
            }
        }
    }
}
