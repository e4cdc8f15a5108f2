//! Statement-level progress of a migration that runs outside a transaction.
//!
//! MySQL commits every DDL statement as it runs, so a migration that fails at statement 3 of 5
//! has applied statements 1–2 for good; the same holds for a `transaction = false` migration on
//! any backend. Braid does what Atlas does: it runs such a migration one statement at a time and
//! records, in the version row, how many statements ran and a hash of each. The next run reports
//! exactly what was applied, and after the file is fixed it resumes at the failed statement —
//! once it has checked that the statements already run are unchanged.
//!
//! The progress lives in the version row's `statements_done`, `statements_total` and
//! `statement_hashes` columns; `statement_hashes` is `up:` or `down:` followed by one short hash
//! per statement, comma-separated, so a row says which direction was interrupted.
//!
//! **A run killed between a statement and its record.** A data statement (`INSERT`, `UPDATE`,
//! `DELETE`, …) commits in one transaction with its progress, so it never runs twice. Any other
//! statement cannot (MySQL cannot commit DDL and a bookkeeping row atomically), so it is
//! recorded in `statement_started`, with the `session` running it, *before* it runs. The next
//! run that finds a started statement waits while that session still executes it (a server
//! finishes a killed client's statement), then looks in the schema for its effect (see
//! [`crate::effect`]) and goes on — skipping it if it took effect, running it if not — or stops
//! and says what to check when the schema cannot tell.

use braid_graph::Direction;

use crate::report::Progress;

/// Progress recorded for one revision, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub direction: Direction,
    pub done: usize,
    pub total: usize,
    pub hashes: Vec<String>,
    /// A statement (1-based) recorded as started, not as finished.
    pub started: Option<usize>,
    /// The session that ran it.
    pub session: Option<String>,
}

impl Recorded {
    /// Decodes a row's progress; `None` for a complete row (or columns Braid did not write).
    pub fn from_row(progress: Option<&Progress>) -> Option<Recorded> {
        let p = progress?;
        let encoded = p.statement_hashes.as_deref().unwrap_or("");
        let (direction, list) = match encoded.split_once(':') {
            Some(("down", list)) => (Direction::Down, list),
            Some((_, list)) => (Direction::Up, list),
            None => (Direction::Up, encoded),
        };
        let hashes: Vec<String> = list
            .split(',')
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect();
        Some(Recorded {
            direction,
            done: usize::try_from(p.statements_done).unwrap_or(0),
            total: p
                .statements_total
                .and_then(|t| usize::try_from(t).ok())
                .unwrap_or(hashes.len()),
            hashes,
            started: p.statement_started.and_then(|s| usize::try_from(s).ok()),
            session: p.session.clone(),
        })
    }
}

/// A statement's hash as recorded: 16 hex digits of the normalised statement's SHA-256 —
/// enough to notice an edit, short enough for a row with hundreds of statements.
pub fn statement_hash(statement: &str) -> String {
    let sum = braid_source::checksum(statement);
    let hex = sum.strip_prefix("sha256:").unwrap_or(&sum);
    hex.chars().take(16).collect()
}

/// The `statement_hashes` value for a direction.
pub fn encode(direction: Direction, hashes: &[String]) -> String {
    let prefix = match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    };
    format!("{prefix}:{}", hashes.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let hashes = vec![
            statement_hash("CREATE TABLE a (id INT)"),
            statement_hash("DROP TABLE b"),
        ];
        let p = Progress {
            statements_done: 1,
            statements_total: Some(2),
            statement_hashes: Some(encode(Direction::Down, &hashes)),
            statement_started: Some(2),
            session: Some("42".into()),
        };
        let r = Recorded::from_row(Some(&p)).unwrap();
        assert_eq!(r.direction, Direction::Down);
        assert_eq!(r.done, 1);
        assert_eq!(r.total, 2);
        assert_eq!(r.hashes, hashes);
        assert_eq!((r.started, r.session.as_deref()), (Some(2), Some("42")));
        assert_eq!(Recorded::from_row(None), None);
    }

    #[test]
    fn hash_ignores_trailing_whitespace_only() {
        assert_eq!(statement_hash("SELECT 1"), statement_hash("SELECT 1  \r\n"));
        assert_ne!(statement_hash("SELECT 1"), statement_hash("SELECT 2"));
        assert_eq!(statement_hash("SELECT 1").len(), 16);
    }
}
