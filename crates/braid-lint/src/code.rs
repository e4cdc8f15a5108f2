//! The lint codes: one per rule, each with a stable identifier, a severity and the three texts a
//! front end shows (what it is, why it is a risk, what to do instead).
//!
//! The identifiers are part of the interface: `-- braid:allow B101 …` comments, CI filters and
//! JSON consumers name them, so a code is never renumbered or reused. The hundreds say where a
//! rule belongs: `B1xx` backward compatibility with the application release still running,
//! `B2xx` Postgres, `B3xx` MySQL/MariaDB, `B4xx` SQLite, `B5xx` the shape of a migration,
//! `B9xx` what the linter could not read.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// How much a finding matters. Ordered from the most severe: `Error < Warning < Info`, so the
/// minimum of a set of findings is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The migration fails, silently does something else than written, or breaks the running
    /// application: fix it or suppress it with a reason.
    Error,
    /// A risk that depends on the data, the traffic or the release process.
    Warning,
    /// Something the linter could not check.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lint rule's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// B101
    DropTable,
    /// B102
    DropColumn,
    /// B103
    RenameTable,
    /// B104
    RenameColumn,
    /// B105
    ChangeColumnType,
    /// B106
    SetNotNull,
    /// B107
    AddConstraint,
    /// B108
    AddRequiredColumn,
    /// B109
    DropDefault,
    /// B110
    DestructiveInExpand,
    /// B111
    RemovedWhileRead,
    /// B201
    IndexWithoutConcurrently,
    /// B202
    ConstraintWithoutNotValid,
    /// B203
    UniqueConstraintLocks,
    /// B204
    SetNotNullScans,
    /// B205
    TypeChangeRewrites,
    /// B206
    VolatileDefault,
    /// B207
    ConcurrentlyInTransaction,
    /// B208
    NoLockTimeout,
    /// B301
    TableCopy,
    /// B302
    EnumChange,
    /// B303
    InlineReferences,
    /// B401
    SqliteAlterUnsupported,
    /// B402
    SqliteDropColumnRefused,
    /// B403
    SqliteAddColumnRefused,
    /// B404
    SqlitePragmaInTransaction,
    /// B501
    MissingDowngrade,
    /// B502
    DowngradeIncomplete,
    /// B503
    NotRerunnable,
    /// B504
    SuppressionWithoutReason,
    /// B505
    SuppressionUnknownCode,
    /// B506
    Unwritten,
    /// B900
    Unparsed,
    /// B901
    BodyUnavailable,
}

/// Everything said about a code, in one row of [`INFO`].
struct Info {
    code: Code,
    id: &'static str,
    severity: Severity,
    title: &'static str,
    why: &'static str,
    instead: &'static str,
}

/// One row per code, in code order. Every text is one sentence or two: front ends print them
/// under a finding, and the README's table is generated from the same words.
const INFO: &[Info] = &[
    Info {
        code: Code::DropTable,
        id: "B101",
        severity: Severity::Error,
        title: "drops an existing table",
        why: "the release still running reads and writes the table: its queries fail from the \
              moment the migration commits, and the data is gone",
        instead: "stop using the table in one release and drop it in a later migration (expand, \
                  then contract); suppress with a reason once no running code uses it",
    },
    Info {
        code: Code::DropColumn,
        id: "B102",
        severity: Severity::Error,
        title: "drops a column of an existing table",
        why: "the release still running selects or inserts the column and fails (an ORM that \
              lists every column fails on any query of the table)",
        instead: "stop reading and writing the column in one release (ignore it in the ORM), \
                  drop it in a later migration",
    },
    Info {
        code: Code::RenameTable,
        id: "B103",
        severity: Severity::Error,
        title: "renames an existing table",
        why: "the release still running uses the old name: every query of the table fails until \
              the new release is everywhere",
        instead: "create the new table (or a view under one of the names), write both, move \
                  readers, drop the old one in a later release",
    },
    Info {
        code: Code::RenameColumn,
        id: "B104",
        severity: Severity::Error,
        title: "renames a column of an existing table",
        why: "the release still running uses the old name and fails on every query naming it",
        instead: "add the new column, write both, backfill, move readers, drop the old column \
                  in a later release",
    },
    Info {
        code: Code::ChangeColumnType,
        id: "B105",
        severity: Severity::Warning,
        title: "changes the type of an existing column",
        why: "the release still running may write values the new type rejects or truncates, or \
              read them as another type; the change may also lock or rewrite the table",
        instead: "add a column of the new type, write both, backfill, switch readers, drop the \
                  old column later",
    },
    Info {
        code: Code::SetNotNull,
        id: "B106",
        severity: Severity::Warning,
        title: "makes an existing column NOT NULL",
        why: "the release still running may insert without the column or write NULL, and fails; \
              a row already holding NULL makes the migration fail",
        instead: "deploy code that always writes the column, backfill, then add NOT NULL in a \
                  later migration",
    },
    Info {
        code: Code::AddConstraint,
        id: "B107",
        severity: Severity::Warning,
        title: "adds a UNIQUE, CHECK, foreign key or primary key constraint to an existing table \
                in one step",
        why: "rows already there may violate it (the migration fails), and the release still \
              running may write rows it rejects",
        instead: "deploy code that respects the constraint and clean the data first; on \
                  Postgres add it NOT VALID and VALIDATE it later, or build the unique index \
                  CONCURRENTLY",
    },
    Info {
        code: Code::AddRequiredColumn,
        id: "B108",
        severity: Severity::Error,
        title: "adds a NOT NULL column without a default to an existing table",
        why: "Postgres and SQLite refuse it on a table with rows; on MySQL the release still \
              running inserts without the column and fails in strict mode",
        instead: "add the column with a DEFAULT (or nullable), backfill, add NOT NULL in a later \
                  migration",
    },
    Info {
        code: Code::DropDefault,
        id: "B109",
        severity: Severity::Warning,
        title: "drops the default of an existing column",
        why: "the release still running may insert without the column, relying on the default: \
              those inserts now write NULL or fail",
        instead: "drop the default once every running release writes the column explicitly",
    },
    Info {
        code: Code::DestructiveInExpand,
        id: "B110",
        severity: Severity::Error,
        title: "a destructive statement in a revision that declares `phase = \"expand\"`",
        why: "`upgrade --phase expand` runs expand revisions before the new release is \
              deployed, while the previous release still reads and writes the schema: a drop, \
              a rename or a type change breaks it",
        instead: "move the statement to a revision that declares `phase = \"contract\"` (run \
                  after the release that stops using what it removes), or declare this one a \
                  contract",
    },
    Info {
        code: Code::RemovedWhileRead,
        id: "B111",
        severity: Severity::Error,
        title: "a contract revision drops or renames a column or table that an object an expand \
                revision of its release created still reads",
        why: "the view, trigger, routine, index, constraint or generated column the expand step \
              left behind reads it for as long as it exists: the migration fails (SQLite, a \
              Postgres view), or every write that fires the trigger fails afterwards",
        instead: "drop (or redefine) that object first, in the contract revision or an earlier \
                  one",
    },
    Info {
        code: Code::IndexWithoutConcurrently,
        id: "B201",
        severity: Severity::Warning,
        title: "CREATE INDEX without CONCURRENTLY on an existing table",
        why: "Postgres blocks every write to the table (SHARE lock) while it builds the index, \
              for as long as the build takes",
        instead: "CREATE INDEX CONCURRENTLY in a revision of its own with `transaction = false` \
                  (check for an INVALID index if it fails)",
    },
    Info {
        code: Code::ConstraintWithoutNotValid,
        id: "B202",
        severity: Severity::Warning,
        title: "adds a foreign key or CHECK constraint without NOT VALID",
        why: "Postgres scans the whole table to validate it while holding a lock that blocks \
              writes (and, for a foreign key, writes to the referenced table too)",
        instead: "ADD CONSTRAINT … NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT in a later \
                  migration: validating takes a lock that lets reads and writes go on",
    },
    Info {
        code: Code::UniqueConstraintLocks,
        id: "B203",
        severity: Severity::Warning,
        title: "adds a UNIQUE or PRIMARY KEY constraint that builds its index under lock",
        why: "Postgres builds the index while holding an ACCESS EXCLUSIVE lock: no reads or \
              writes of the table until it is done",
        instead: "CREATE UNIQUE INDEX CONCURRENTLY (its own revision, `transaction = false`), \
                  then ADD CONSTRAINT … UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)",
    },
    Info {
        code: Code::SetNotNullScans,
        id: "B204",
        severity: Severity::Warning,
        title: "SET NOT NULL without a validated CHECK (col IS NOT NULL) first",
        why: "Postgres scans the whole table under an ACCESS EXCLUSIVE lock to prove there is no \
              NULL; since Postgres 12 a validated CHECK (col IS NOT NULL) lets it skip the scan",
        instead: "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c in a \
                  later migration; then SET NOT NULL and DROP CONSTRAINT c",
    },
    Info {
        code: Code::TypeChangeRewrites,
        id: "B205",
        severity: Severity::Warning,
        title: "changes a column's type in a way that may rewrite the table",
        why: "most type changes rewrite the table and rebuild its indexes under an ACCESS \
              EXCLUSIVE lock; only a few are catalog-only (to text, to a longer varchar, \
              dropping a varchar or numeric limit)",
        instead: "add a column of the new type, backfill it in batches, switch, drop the old \
                  column",
    },
    Info {
        code: Code::VolatileDefault,
        id: "B206",
        severity: Severity::Warning,
        title: "adds a column whose value is computed per row",
        why: "a constant default (now() included) is stored once in the catalog; a volatile \
              default (random(), gen_random_uuid(), clock_timestamp(), nextval, serial), an \
              identity or a stored generated column makes Postgres rewrite the table under an \
              ACCESS EXCLUSIVE lock",
        instead: "add the column without that default, SET DEFAULT in a separate statement (it \
                  applies to new rows), backfill existing rows in batches",
    },
    Info {
        code: Code::ConcurrentlyInTransaction,
        id: "B207",
        severity: Severity::Error,
        title: "CONCURRENTLY in a migration that runs in a transaction",
        why: "Postgres refuses CREATE INDEX, DROP INDEX, REINDEX and REFRESH … CONCURRENTLY \
              inside a transaction block: the migration fails",
        instead: "move the statement to a revision of its own with `transaction = false` in its \
                  revision.toml",
    },
    Info {
        code: Code::NoLockTimeout,
        id: "B208",
        severity: Severity::Warning,
        title: "locks an existing table with no lock_timeout",
        why: "while the migration waits for its lock behind a long query, every other query on \
              the table queues behind the migration: an outage for as long as it waits",
        instead: "SET lock_timeout = '5s' (SET LOCAL in a transaction) before the first such \
                  statement, and rerun the migration when it times out",
    },
    Info {
        code: Code::TableCopy,
        id: "B301",
        severity: Severity::Warning,
        title: "an ALTER TABLE that may copy the table, without ALGORITHM= or LOCK=",
        why: "MySQL and MariaDB rebuild the table for a column type change, a primary key change \
              or a character set conversion, blocking writes while they copy; without \
              ALGORITHM or LOCK the server silently picks the copy",
        instead: "state ALGORITHM=INSTANT or INPLACE (and LOCK=NONE) so the server refuses a \
                  blocking copy instead of doing it, or use an online schema change tool",
    },
    Info {
        code: Code::EnumChange,
        id: "B302",
        severity: Severity::Warning,
        title: "changes an ENUM's or SET's values other than by appending",
        why: "appending values at the end is instant; reordering, inserting or removing values \
              rebuilds the table, and a removed value makes existing rows invalid and the \
              release still running fail when it writes it",
        instead: "only append new values at the end of the list; remove values in a later \
                  release, after the data no longer holds them",
    },
    Info {
        code: Code::InlineReferences,
        id: "B303",
        // A warning, not an error: MariaDB 10.5+ creates the key (the same file means two
        // schemas on two servers of the one dialect), MySQL before 9.0 does not.
        severity: Severity::Warning,
        title: "REFERENCES in a column definition",
        why: "MySQL before 9.0 (and MariaDB before 10.5) parse an inline REFERENCES and ignore \
              it: no foreign key is created, silently, while MariaDB 10.5+ creates one — the \
              same migration gives two schemas",
        instead: "declare the foreign key as a table constraint: FOREIGN KEY (col) REFERENCES \
                  parent (id)",
    },
    Info {
        code: Code::SqliteAlterUnsupported,
        id: "B401",
        severity: Severity::Error,
        title: "an ALTER TABLE that SQLite cannot do",
        why: "SQLite's ALTER TABLE only renames tables and columns, adds columns and drops \
              columns: anything else is a syntax error when the migration runs",
        instead: "rebuild the table: create the new table, copy the rows, drop the old one, \
                  rename the new one (https://sqlite.org/lang_altertable.html#otheralter)",
    },
    Info {
        code: Code::SqliteDropColumnRefused,
        id: "B402",
        severity: Severity::Error,
        title: "DROP COLUMN of a column SQLite refuses to drop",
        why: "SQLite refuses to drop a column that is part of the primary key, a UNIQUE \
              constraint, an index or a foreign key: the migration fails",
        instead: "drop the index first, or rebuild the table: create the new table, copy the \
                  rows, drop the old one, rename the new one",
    },
    Info {
        code: Code::SqliteAddColumnRefused,
        id: "B403",
        severity: Severity::Error,
        title: "ADD COLUMN that SQLite refuses",
        why: "SQLite cannot add a PRIMARY KEY or UNIQUE column, a column whose default is not a \
              constant (CURRENT_TIMESTAMP, an expression in parentheses), or a STORED generated \
              column: the migration fails",
        instead: "add a plain column and create a unique index on it, use a constant default, \
                  or rebuild the table",
    },
    Info {
        code: Code::SqlitePragmaInTransaction,
        id: "B404",
        severity: Severity::Error,
        title: "PRAGMA foreign_keys in a migration that runs in a transaction",
        why: "SQLite ignores PRAGMA foreign_keys inside a transaction: the table rebuild it was \
              meant to protect runs with foreign keys still on, and dropping the old table \
              fails or cascades its deletes",
        instead: "give the revision `transaction = false` so the PRAGMA takes effect, and check \
                  PRAGMA foreign_key_check before turning foreign keys back on",
    },
    Info {
        code: Code::MissingDowngrade,
        id: "B501",
        severity: Severity::Warning,
        title: "a schema change without a downgrade",
        why: "the revision cannot be rolled back: a failed deployment has no way back but by \
              hand",
        instead: "write the downgrade that undoes the upgrade; for an irreversible revision, \
                  say so with `-- braid:allow B501 reason`",
    },
    Info {
        code: Code::DowngradeIncomplete,
        id: "B502",
        severity: Severity::Warning,
        title: "the downgrade does not undo something the upgrade created",
        why: "after a downgrade the object stays behind, and the next upgrade fails because it \
              already exists",
        instead: "drop in the downgrade every table, index, view and column the upgrade creates",
    },
    Info {
        code: Code::NotRerunnable,
        id: "B503",
        severity: Severity::Warning,
        title: "a statement that fails when run twice and that a resumed run cannot judge, in \
                a migration run statement by statement",
        why: "a migration outside a transaction (every MySQL migration, `transaction = false` \
              elsewhere) can stop half-way; a resumed run judges tables, columns, indexes and \
              foreign keys from the schema, but stops at this statement if it was running, and \
              finishing it by hand runs it again",
        instead: "guard it: CREATE … IF NOT EXISTS, DROP … IF EXISTS, ADD COLUMN IF NOT EXISTS \
                  (Postgres, MariaDB), CREATE OR REPLACE VIEW",
    },
    Info {
        code: Code::SuppressionWithoutReason,
        id: "B504",
        severity: Severity::Error,
        title: "a braid:allow comment without a reason",
        why: "a suppression is a decision someone must be able to review later; without a reason \
              it suppresses nothing",
        instead: "write why the risk is acceptable: `-- braid:allow B101 the table is unused \
                  since release 4.2`",
    },
    Info {
        code: Code::SuppressionUnknownCode,
        id: "B505",
        severity: Severity::Error,
        title: "a braid:allow comment naming an unknown code",
        why: "a misspelt code suppresses nothing, and the finding it meant to suppress stays",
        instead: "name a code as `braid lint` prints it (B101, B201, …), several separated by \
                  commas",
    },
    Info {
        code: Code::Unwritten,
        id: "B506",
        severity: Severity::Error,
        title: "a script that is not written yet",
        why: "an import could not translate this body, or the source tool had no down \
              migration; Braid refuses to run the script until it is written",
        instead: "write the SQL the first line asks for (an imported Python body is beside the \
                  file), then delete that `-- braid:unwritten` line",
    },
    Info {
        code: Code::Unparsed,
        id: "B900",
        severity: Severity::Info,
        title: "a statement the linter could not read",
        why: "no rule could check it: its risks are not reported",
        instead: "review it by hand; the statement itself runs as written",
    },
    Info {
        code: Code::BodyUnavailable,
        id: "B901",
        severity: Severity::Info,
        title: "a migration body the linter could not read",
        why: "the body could not be read or rendered for this dialect (a Rust revision this \
              binary did not compile in, or one that needs a live database): nothing in it was \
              checked",
        instead: "lint through the workspace's xtask, which compiles the Rust revisions in",
    },
];

// Every code has its row, at its own index: `info` finds it without searching and cannot
// index past the table.
const _: () = {
    assert!(INFO.len() == Code::ALL.len());
    let mut i = 0;
    while i < INFO.len() {
        assert!(INFO[i].code as usize == i);
        i += 1;
    }
};

impl Code {
    /// Every code, in code order.
    pub const ALL: [Code; 34] = [
        Code::DropTable,
        Code::DropColumn,
        Code::RenameTable,
        Code::RenameColumn,
        Code::ChangeColumnType,
        Code::SetNotNull,
        Code::AddConstraint,
        Code::AddRequiredColumn,
        Code::DropDefault,
        Code::DestructiveInExpand,
        Code::RemovedWhileRead,
        Code::IndexWithoutConcurrently,
        Code::ConstraintWithoutNotValid,
        Code::UniqueConstraintLocks,
        Code::SetNotNullScans,
        Code::TypeChangeRewrites,
        Code::VolatileDefault,
        Code::ConcurrentlyInTransaction,
        Code::NoLockTimeout,
        Code::TableCopy,
        Code::EnumChange,
        Code::InlineReferences,
        Code::SqliteAlterUnsupported,
        Code::SqliteDropColumnRefused,
        Code::SqliteAddColumnRefused,
        Code::SqlitePragmaInTransaction,
        Code::MissingDowngrade,
        Code::DowngradeIncomplete,
        Code::NotRerunnable,
        Code::SuppressionWithoutReason,
        Code::SuppressionUnknownCode,
        Code::Unwritten,
        Code::Unparsed,
        Code::BodyUnavailable,
    ];

    fn info(self) -> &'static Info {
        &INFO[self as usize]
    }

    /// The stable identifier: `B101`.
    pub fn as_str(self) -> &'static str {
        self.info().id
    }

    pub fn severity(self) -> Severity {
        self.info().severity
    }

    /// What the rule finds, in a few words.
    pub fn title(self) -> &'static str {
        self.info().title
    }

    /// Why it is a risk.
    pub fn why(self) -> &'static str {
        self.info().why
    }

    /// What to do instead.
    pub fn instead(self) -> &'static str {
        self.info().instead
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code named by a `braid:allow` comment or a command-line filter that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode(pub String);

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown lint code `{}`", self.0)
    }
}

impl std::error::Error for UnknownCode {}

impl FromStr for Code {
    type Err = UnknownCode;

    /// Reads `B101` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownCode(s.to_string()))
    }
}

impl Serialize for Code {
    /// As its identifier: JSON consumers filter on `"B101"`, not on a Rust variant name.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_enum_and_ids_are_unique() {
        assert_eq!(INFO.len(), Code::ALL.len());
        for (i, code) in Code::ALL.into_iter().enumerate() {
            assert_eq!(code as usize, i);
            assert_eq!(INFO[i].code, code, "row {i} of INFO");
        }
        let mut ids: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Code::ALL.len());
    }

    #[test]
    fn codes_read_back_and_serialize_as_their_id() {
        for code in Code::ALL {
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
            assert!(!code.title().is_empty() && !code.why().is_empty());
            assert!(!code.instead().is_empty());
        }
        assert_eq!("b101".parse::<Code>(), Ok(Code::DropTable));
        assert!("B999".parse::<Code>().is_err());
    }

    #[test]
    fn the_hundreds_say_the_family() {
        for code in Code::ALL {
            let family = &code.as_str()[..2];
            assert!(["B1", "B2", "B3", "B4", "B5", "B9"].contains(&family));
        }
    }
}
