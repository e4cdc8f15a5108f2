//! Every exit code of the command line, one per meaning, and the one mapping from a failed
//! database's [`FailureKind`] to its code ([`for_failure`]).
//!
//! The codes are for scripts: a deploy script branches on them without reading messages.
//!
//! | code | meaning | what to do |
//! |---|---|---|
//! | 0 | success | |
//! | 1 | an error: bad input (config, target, a migration file that cannot be read) or anything that is not about one database | read stderr and fix what it names |
//! | 2 | usage error | fix the command line |
//! | 3 | `check`: several heads | `merge heads` |
//! | 4 | `check` (or `current --check-heads`): pending migrations | `upgrade` |
//! | 5 | an applied migration was edited since it ran | restore the file, or `accept` the edit |
//! | 6 | the database has revisions the migrations directory does not know | check out the branch that has them |
//! | 7 | a migration stopped part-way outside a transaction: statements of it stay applied | fix it and `upgrade` (resumes), or undo/finish by hand and `stamp` |
//! | 8 | `lint` (or `check --lint`): a lint error that is not allowed | fix the migration, or allow it with `-- braid:allow CODE reason` |
//! | 9 | `verify`: a revision failed up, down or up again, or its schema did not come back | fix the migration (usually its down.sql) |
//! | 10 | cannot reach the database or log in; nothing changed | check URL, network, credentials; retry |
//! | 11 | another run holds the migration lock; nothing changed | retry later (or raise `lock_timeout_secs`) |
//! | 12 | a migration failed and was rolled back | fix the migration and run again |
//! | 13 | the migration lock was lost mid-run | `current -v`, then run again |
//! | 14 | whether the last migration took effect is unknown (its COMMIT's answer was lost) | `current -v` and inspect the schema before running again |
//! | 15 | the version store could not be read or written | check the version table and its permissions, then run again |
//! | 16 | `check --models`: the sea-orm entities and the schema the migrations produce differ | `generate --autogenerate`, review, commit |
//! | 17 | `check`: the heads file does not match the graph, or has git conflict markers | `merge heads` or `rebase`; `heads --write` |
//! | 18 | `check --merges`: a merge's branches give different schemas in different orders | make the branches independent (or one depend on the other), so every order gives one schema |
//! | 19 | `check --phase expand`: the expand step would run a revision declared `expand` that drops, renames or changes something | move the statement to a contract revision, or declare it `contract` |
//!
//! 10 and 11 are **retryable** as they are: nothing was changed. 12 needs the migration fixed.
//! 5, 6, 7, 13, 14 and 15 need a person to look at the database's state first.
//!
//! When several databases fail, the command exits with the code of the most severe failure
//! ([`FailureKind::most_severe`], the order of [`FailureKind::SEVERITY`]).

use braid::FailureKind;

/// Success.
pub const SUCCESS: u8 = 0;
/// An error stderr explains: bad input (a setting, a target that does not resolve, a migration
/// body that cannot be read), a missing or broken config or migrations directory, anything not
/// about one database.
pub const ERROR: u8 = 1;
/// A misuse of the command line (unknown command or option, missing argument, options that do
/// not go together).
pub const USAGE: u8 = 2;
/// `check`: the graph has more than one head. Join them with `merge heads`.
pub const MULTIPLE_HEADS: u8 = 3;
/// `check` (or `current --check-heads`): a database has migrations to apply.
pub const PENDING: u8 = 4;
/// An applied migration's file changed since it ran (`check`'s finding, or a command refused
/// because of it). Restore the file, or `accept REV` if the edit is intended.
pub const EDITED: u8 = 5;
/// A database has revisions applied that the migrations directory does not know (`check`'s
/// finding, or a command refused because of it). Check out the branch that added them.
pub const UNKNOWN_REVISIONS: u8 = 6;
/// A migration stopped part-way outside a transaction: some of its statements stay applied and
/// the progress is recorded (`check`'s finding, or a command that stopped on one or was refused
/// because of one). Fix it and `upgrade` again (it resumes after the statements already run), or
/// undo/finish them by hand and settle with `stamp`.
pub const PARTIAL: u8 = 7;
/// `lint` (or `check --lint`): an error that no `-- braid:allow CODE reason` accepts. Fix the
/// migration, or allow the finding with a reason.
pub const LINT_ERRORS: u8 = 8;
/// `verify`: a revision's up, down or up again failed, or the schema (or `verify.sql`'s data)
/// did not come back as it was; or a scratch database could not be made or dropped.
pub const VERIFY_FAILED: u8 = 9;
/// The database could not be reached, opened or logged in to ([`FailureKind::Connect`],
/// [`FailureKind::Auth`]). Nothing was changed: check the URL, the network and the credentials;
/// retrying is safe.
pub const CONNECT: u8 = 10;
/// Another run held the migration lock longer than `lock_timeout_secs`
/// ([`FailureKind::LockTimeout`]). Nothing was changed: retry later.
pub const LOCK_TIMEOUT: u8 = 11;
/// A migration failed and was rolled back: nothing of it stays ([`FailureKind::Migration`]).
/// Migrations committed before it in the same run stay applied (JSON `"applied"`). Fix the
/// migration and run again.
pub const MIGRATION_FAILED: u8 = 12;
/// The migration lock was lost during the run; another run may have taken it, so this one
/// stopped ([`FailureKind::LockLost`]). What was committed stays. Check `current -v` (and that no
/// other run is migrating), then run again.
pub const LOCK_LOST: u8 = 13;
/// The answer to a migration's COMMIT was lost: whether it took effect is not known for sure
/// ([`FailureKind::OutcomeUnknown`]). Check `current -v` and the schema before running again.
pub const OUTCOME_UNKNOWN: u8 = 14;
/// A read or write of the version store failed ([`FailureKind::Store`]): the table was changed
/// by hand, permissions, a full disk. Check the version table (`current -v`), then run again.
pub const STORE: u8 = 15;
/// `check --models`: the sea-orm entities and the schema the migrations produce differ on a
/// backend. Write the migration (`generate --autogenerate`), review it, commit it.
pub const MODELS_DIFFER: u8 = 16;
/// `check`: the heads file (`HEADS` in the migrations directory) does not match the graph, or
/// holds git's conflict markers. Join the heads (`merge heads`, `rebase`), or rewrite the file
/// (`heads --write`).
pub const HEADS_FILE: u8 = 17;
/// `check --merges`: a merge's branches give different schemas in different orders (or a
/// revision of one fails in one order only) on a backend. Databases that received the branches
/// in another order than production's hold another schema: make the branches independent, or
/// have one side depend on the other so that a single order remains.
pub const MERGE_ORDER: u8 = 18;
/// `check --phase expand`: a revision the expand step would run declares `phase = "expand"` but
/// drops, renames or changes something the release still running uses: the deploy's first
/// step would break it. Move the statement to a contract revision, or declare it `contract`.
pub const UNSAFE_EXPAND: u8 = 19;

/// The exit code of a database that failed with `kind`.
///
/// One code per meaning, shared with `check`'s findings where the meaning is the same (edited
/// 5, unknown revisions 6, partial 7). [`FailureKind::Connect`] and [`FailureKind::Auth`] share
/// [`CONNECT`]: either way nothing ran and the fix is in the URL, network or credentials.
///
/// [`FailureKind::Config`], [`FailureKind::Target`] and [`FailureKind::Body`] are input errors
/// and exit [`ERROR`], like the input errors found before any database is reached (a broken
/// config file, a target no migration set knows): nothing ran, retrying changes nothing, and
/// what to fix is in the message — a dedicated code would tell a script nothing it can act on.
///
/// The match is exhaustive on purpose: a new kind must be given a code here.
pub const fn for_failure(kind: FailureKind) -> u8 {
    match kind {
        FailureKind::Config | FailureKind::Target | FailureKind::Body => ERROR,
        FailureKind::Connect | FailureKind::Auth => CONNECT,
        FailureKind::LockTimeout => LOCK_TIMEOUT,
        FailureKind::LockLost => LOCK_LOST,
        FailureKind::UnknownRevisions => UNKNOWN_REVISIONS,
        FailureKind::Edited => EDITED,
        FailureKind::Partial => PARTIAL,
        FailureKind::Migration => MIGRATION_FAILED,
        FailureKind::OutcomeUnknown => OUTCOME_UNKNOWN,
        FailureKind::Store => STORE,
    }
}

/// The exit code of a run in which databases failed with `kinds`: the code of the most severe
/// ([`FailureKind::most_severe`]), or [`ERROR`] when none is known.
pub fn for_failures(kinds: impl IntoIterator<Item = FailureKind>) -> u8 {
    FailureKind::most_severe(kinds).map_or(ERROR, for_failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_code_outside_the_check_only_ones() {
        let check_only = [
            SUCCESS,
            USAGE,
            MULTIPLE_HEADS,
            PENDING,
            HEADS_FILE,
            MERGE_ORDER,
            UNSAFE_EXPAND,
        ];
        for kind in FailureKind::SEVERITY {
            let code = for_failure(kind);
            assert!(!check_only.contains(&code), "{kind:?} -> {code}");
        }
    }

    #[test]
    fn database_failures_have_their_own_codes() {
        assert_eq!(for_failure(FailureKind::Connect), 10);
        assert_eq!(for_failure(FailureKind::Auth), 10);
        assert_eq!(for_failure(FailureKind::LockTimeout), 11);
        assert_eq!(for_failure(FailureKind::Migration), 12);
        assert_eq!(for_failure(FailureKind::LockLost), 13);
        assert_eq!(for_failure(FailureKind::OutcomeUnknown), 14);
        assert_eq!(for_failure(FailureKind::Store), 15);
        // The meanings `check` has codes for keep them.
        assert_eq!(for_failure(FailureKind::Edited), EDITED);
        assert_eq!(
            for_failure(FailureKind::UnknownRevisions),
            UNKNOWN_REVISIONS
        );
        assert_eq!(for_failure(FailureKind::Partial), PARTIAL);
        // Input errors.
        for kind in [FailureKind::Config, FailureKind::Target, FailureKind::Body] {
            assert_eq!(for_failure(kind), ERROR, "{kind:?}");
        }
    }

    #[test]
    fn several_failures_exit_with_the_most_severe() {
        use FailureKind::*;
        assert_eq!(for_failures([Connect, Migration]), MIGRATION_FAILED);
        assert_eq!(for_failures([LockTimeout, Connect]), LOCK_TIMEOUT);
        assert_eq!(for_failures([Migration, Partial, Connect]), PARTIAL);
        assert_eq!(for_failures([Store, OutcomeUnknown]), OUTCOME_UNKNOWN);
        assert_eq!(for_failures([Config, LockTimeout]), ERROR);
        assert_eq!(for_failures([]), ERROR);
    }
}
