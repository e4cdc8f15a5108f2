use braid_driver::Dialect;
use braid_graph::Phase;
use proptest::prelude::*;

use super::*;
use crate::code::Code;
use crate::finding::Finding;
use crate::overlap;

/// Asserts `script` reads as contract on `dialect`, with a reason containing `because`.
fn contract(dialect: Dialect, script: &str, because: &str) {
    let got = infer(script, dialect);
    assert_eq!(
        got.phase,
        Phase::Contract,
        "{dialect}: {script:?}: {got:#?}"
    );
    assert!(
        got.reasons.iter().any(|r| r.reason.contains(because)),
        "{dialect}: `{because}` not in {:#?}",
        got.reasons
    );
}

fn expand(dialect: Dialect, script: &str) {
    let got = infer(script, dialect);
    assert_eq!(got.phase, Phase::Expand, "{dialect}: {script:?}: {got:#?}");
    assert!(got.reasons.is_empty());
}

/// The worked example: a price moves from `price_cents` to `price_minor`. Each dialect's first
/// expand revision adds the column and a trigger that keeps it in step.
fn sync_trigger(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;\n\
             CREATE FUNCTION plans_sync_price() RETURNS trigger AS $$\n\
             BEGIN\n  NEW.price_minor := NEW.price_cents;\n  RETURN NEW;\nEND;\n\
             $$ LANGUAGE plpgsql;\n\
             CREATE TRIGGER plans_sync_price BEFORE INSERT OR UPDATE ON plans\n  \
             FOR EACH ROW EXECUTE FUNCTION plans_sync_price();"
        }
        Dialect::Mysql => {
            "ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;\n\
             CREATE TRIGGER plans_sync_price BEFORE INSERT ON plans\n  \
             FOR EACH ROW SET NEW.price_minor = NEW.price_cents;"
        }
        Dialect::Sqlite => {
            "ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;\n\
             CREATE TRIGGER plans_sync_price AFTER INSERT ON plans BEGIN\n  \
             UPDATE plans SET price_minor = NEW.price_cents WHERE id = NEW.id;\nEND;"
        }
    }
}

/// The second expand revision: a batched backfill.
const BACKFILL: &str = "-- braid:backfill key=id batch=500\n\
                        UPDATE plans SET price_minor = price_cents WHERE price_minor <> price_cents;";

/// The contract revision, dropping the trigger (and the Postgres function) first.
fn contract_script(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "DROP TRIGGER plans_sync_price ON plans;\n\
             DROP FUNCTION plans_sync_price();\n\
             ALTER TABLE plans DROP COLUMN price_cents;"
        }
        _ => "DROP TRIGGER plans_sync_price;\nALTER TABLE plans DROP COLUMN price_cents;",
    }
}

const DROP_ONLY: &str = "ALTER TABLE plans DROP COLUMN price_cents;";

#[test]
fn the_worked_example_reads_expand_expand_contract_on_every_dialect() {
    for d in Dialect::ALL {
        let first = infer(sync_trigger(d), d);
        assert_eq!(first.phase, Phase::Expand, "{d}: {first:#?}");
        assert!(first.unparsed.is_empty(), "{d}: {:#?}", first.unparsed);
        expand(d, BACKFILL);
        let last = infer(contract_script(d), d);
        assert_eq!(last.phase, Phase::Contract, "{d}");
        let column = last.reasons.last().unwrap();
        assert_eq!(column.reason, "drops column `plans.price_cents`");
        assert_eq!(
            column.statement,
            "ALTER TABLE plans DROP COLUMN price_cents"
        );
        assert!(
            last.reasons[0]
                .reason
                .starts_with("drops trigger `plans_sync_price`")
        );
        assert_eq!(last.reasons[0].line, 1);
    }
}

#[test]
fn additive_statements_are_expand() {
    for d in Dialect::ALL {
        expand(
            d,
            "ALTER TABLE users ADD COLUMN tier INT NOT NULL DEFAULT 0;",
        );
        expand(d, "ALTER TABLE users ADD COLUMN nickname VARCHAR(50);");
        expand(d, "CREATE TABLE audit (id INT PRIMARY KEY, at TIMESTAMP);");
        expand(d, "CREATE INDEX ix_users_email ON users (email);");
        expand(
            d,
            "CREATE VIEW active_users AS SELECT id FROM users WHERE active = 1;",
        );
        expand(d, "INSERT INTO plans (id, name) VALUES (1, 'free');");
        expand(d, "UPDATE users SET tier = 1 WHERE tier IS NULL;");
        expand(d, "DELETE FROM sessions WHERE expired = 1;");
        expand(
            d,
            "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id);",
        );
        expand(d, "");
    }
    expand(
        Dialect::Postgres,
        "CREATE INDEX CONCURRENTLY ix_users_email ON users (email);",
    );
    expand(
        Dialect::Postgres,
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS 'BEGIN RETURN NEW; END' \
         LANGUAGE plpgsql;",
    );
    expand(
        Dialect::Postgres,
        "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
    );
    expand(
        Dialect::Postgres,
        "ALTER TABLE users ALTER COLUMN tier SET DEFAULT 0;",
    );
}

#[test]
fn destructive_statements_are_contract_on_every_dialect() {
    for d in Dialect::ALL {
        contract(d, "DROP TABLE legacy;", "drops table `legacy`");
        contract(
            d,
            "ALTER TABLE users DROP COLUMN email;",
            "drops column `users.email`",
        );
        contract(
            d,
            "ALTER TABLE users RENAME COLUMN email TO mail;",
            "renames column `users.email` to `users.mail`",
        );
        contract(
            d,
            "ALTER TABLE users RENAME TO people;",
            "renames table `users` to `people`",
        );
        contract(d, "DROP VIEW report;", "drops view `report`");
        contract(
            d,
            "ALTER TABLE users ADD COLUMN tier INT NOT NULL;",
            "adds `users.tier` NOT NULL without a default",
        );
    }
    contract(
        Dialect::Postgres,
        "ALTER TABLE users ALTER COLUMN age TYPE BIGINT;",
        "changes the type of `users.age`",
    );
    contract(
        Dialect::Mysql,
        "ALTER TABLE users MODIFY age BIGINT;",
        "redefines `users.age` as BIGINT",
    );
    contract(
        Dialect::Mysql,
        "ALTER TABLE users CHANGE email mail VARCHAR(200);",
        "renames column `users.email` to `users.mail`",
    );
    contract(
        Dialect::Postgres,
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        "makes `users.email` NOT NULL",
    );
    contract(
        Dialect::Postgres,
        "ALTER TABLE users ALTER COLUMN tier DROP DEFAULT;",
        "drops the default of `users.tier`",
    );
    contract(
        Dialect::Postgres,
        "DROP INDEX ix_users_email;",
        "drops index `ix_users_email`",
    );
    contract(
        Dialect::Mysql,
        "ALTER TABLE users DROP INDEX ix_users_email;",
        "drops index `ix_users_email` on `users`",
    );
    contract(
        Dialect::Postgres,
        "ALTER TABLE orders DROP CONSTRAINT fk_user;",
        "drops constraint `fk_user` on `orders`",
    );
    contract(
        Dialect::Mysql,
        "ALTER TABLE orders DROP FOREIGN KEY fk_user;",
        "drops constraint `fk_user` on `orders`",
    );
    contract(
        Dialect::Postgres,
        "DROP FUNCTION touch();",
        "drops routine `touch`",
    );
    contract(
        Dialect::Postgres,
        "DROP TRIGGER tg ON users;",
        "drops trigger `tg` on `users`",
    );
    contract(
        Dialect::Sqlite,
        "DROP TRIGGER IF EXISTS tg;",
        "drops trigger `tg`",
    );
    contract(
        Dialect::Postgres,
        "DROP SEQUENCE invoice_no;",
        "drops sequence `invoice_no`",
    );
    contract(
        Dialect::Postgres,
        "DROP TYPE IF EXISTS mood;",
        "drops type `mood`",
    );
    contract(
        Dialect::Postgres,
        "DROP EXTENSION pg_trgm;",
        "drops extension `pg_trgm`",
    );
    contract(
        Dialect::Postgres,
        "ALTER INDEX ix_a RENAME TO ix_b;",
        "renames index `ix_a` to `ix_b`",
    );
    contract(
        Dialect::Postgres,
        "ALTER VIEW report RENAME TO summary;",
        "renames view `report` to `summary`",
    );
    contract(
        Dialect::Mysql,
        "RENAME TABLE users TO people;",
        "renames table `users` to `people`",
    );
}

#[test]
fn what_the_script_itself_created_or_recreates_is_no_removal() {
    for d in Dialect::ALL {
        // A scratch table and a helper index.
        expand(
            d,
            "CREATE TABLE scratch (id INT);\nINSERT INTO scratch SELECT id FROM users;\n\
             DROP TABLE scratch;",
        );
        expand(
            d,
            "CREATE TABLE t (id INT, a INT);\nALTER TABLE t DROP COLUMN a;",
        );
    }
    expand(
        Dialect::Postgres,
        "CREATE INDEX ix_tmp ON users (email);\nDROP INDEX ix_tmp;",
    );
    // MySQL has no CREATE OR REPLACE TRIGGER: a trigger is replaced by dropping it first.
    expand(
        Dialect::Mysql,
        "DROP TRIGGER IF EXISTS plans_sync_price;\n\
         CREATE TRIGGER plans_sync_price BEFORE INSERT ON plans\n  \
         FOR EACH ROW SET NEW.price_minor = NEW.price_cents;",
    );
    expand(
        Dialect::Postgres,
        "DROP VIEW IF EXISTS report;\nCREATE VIEW report AS SELECT id FROM users;",
    );
    // A table dropped and created again loses its rows: that stays a removal.
    contract(
        Dialect::Sqlite,
        "DROP TABLE users;\nCREATE TABLE users (id INT);",
        "drops table `users`",
    );
}

#[test]
fn an_unreadable_statement_makes_nothing_contract_and_is_listed() {
    for d in Dialect::ALL {
        let got = infer("THIS IS NOT SQL;\nALTER TABLE users ADD COLUMN a INT;", d);
        assert_eq!(got.phase, Phase::Expand, "{d}");
        assert_eq!(got.unparsed.len(), 1, "{d}: {:#?}", got.unparsed);
        assert_eq!(got.unparsed[0].line, 1);
        assert_eq!(got.unparsed[0].statement, "THIS IS NOT SQL");
        let both = infer("THIS IS NOT SQL;\nDROP TABLE users;", d);
        assert_eq!(both.phase, Phase::Contract, "{d}");
        assert_eq!(both.reasons[0].line, 2);
        assert_eq!(both.unparsed.len(), 1);
    }
    // A SQLite PRAGMA only sets the connection.
    assert!(
        infer("PRAGMA foreign_keys = OFF;", Dialect::Sqlite)
            .unparsed
            .is_empty()
    );
}

#[test]
fn phase_of_a_script_is_the_same_as_the_sum_of_its_statements() {
    for d in Dialect::ALL {
        let script = format!("{}\n{BACKFILL}\n{DROP_ONLY}", sync_trigger(d));
        let got = infer(&script, d);
        assert_eq!(got.phase, Phase::Contract, "{d}");
        assert_eq!(got.reasons.len(), 1, "{d}: {:#?}", got.reasons);
    }
}

/// Lints `up` on `dialect` as revision `c1`, declaring `phase`, with `release` read from
/// `(id, script)` pairs.
fn lint_with(
    dialect: Dialect,
    up: &str,
    phase: Option<Phase>,
    release: &[(&str, &str)],
) -> Vec<Finding> {
    let read: Vec<(&str, Vec<StatementEffects>)> = release
        .iter()
        .map(|(id, script)| (*id, overlap::statements(script, dialect)))
        .collect();
    let release: Vec<ExpandRevision<'_>> = read
        .iter()
        .map(|(id, statements)| ExpandRevision {
            revision: id,
            statements,
        })
        .collect();
    crate::lint(&RevisionInput {
        revision: "c1",
        dialect,
        transactional: true,
        up: Source {
            origin: "migrations/c1/up.sql",
            text: up,
        },
        down: Down::Unreadable,
        rendered: false,
        phase,
        release: &release,
    })
}

fn of(code: Code, findings: &[Finding]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| f.code == code)
        .cloned()
        .collect()
}

#[test]
fn a_destructive_statement_in_a_declared_expand_revision_is_an_error() {
    for d in Dialect::ALL {
        let got = lint_with(d, DROP_ONLY, Some(Phase::Expand), &[]);
        let hits = of(Code::DestructiveInExpand, &got);
        assert_eq!(hits.len(), 1, "{d}: {got:#?}");
        assert!(hits[0].is_error());
        assert_eq!(hits[0].line, Some(1));
        assert_eq!(
            hits[0].message,
            "drops column `plans.price_cents` in a revision that declares `phase = \"expand\"`"
        );
        // Near misses: undeclared, declared contract, or nothing destructive.
        for (script, phase) in [
            (DROP_ONLY, None),
            (DROP_ONLY, Some(Phase::Contract)),
            (sync_trigger(d), Some(Phase::Expand)),
            (BACKFILL, Some(Phase::Expand)),
        ] {
            let got = lint_with(d, script, phase, &[]);
            assert!(
                of(Code::DestructiveInExpand, &got).is_empty(),
                "{d}: {script:?} {phase:?}: {got:#?}"
            );
        }
        // Accepted like any finding, with a reason.
        let allowed = format!("-- braid:allow B110 the column was never read\n{DROP_ONLY}");
        let got = lint_with(d, &allowed, Some(Phase::Expand), &[]);
        assert!(!of(Code::DestructiveInExpand, &got)[0].is_active());
    }
}

#[test]
fn a_declared_contract_revision_expects_its_drops_not_its_renames() {
    let script = "DROP TABLE legacy;\nALTER TABLE users DROP COLUMN email;\n\
                  ALTER TABLE users RENAME COLUMN name TO full_name;\n\
                  ALTER TABLE accounts RENAME TO customers;";
    let reason = "contract revision: it runs after the release that stops using this";
    for d in Dialect::ALL {
        let got = lint_with(d, script, Some(Phase::Contract), &[]);
        for code in [Code::DropTable, Code::DropColumn] {
            let found = of(code, &got);
            assert_eq!(found.len(), 1, "{d} {code}: {got:#?}");
            assert_eq!(found[0].suppressed.as_deref(), Some(reason), "{d} {code}");
        }
        // The release deployed between the steps still uses the old name: a rename counts.
        for code in [Code::RenameColumn, Code::RenameTable] {
            let found = of(code, &got);
            assert_eq!(found.len(), 1, "{d} {code}: {got:#?}");
            assert!(found[0].is_active(), "{d} {code}");
        }
        // Undeclared (inferred contract) or declared expand: they count.
        for phase in [None, Some(Phase::Expand)] {
            let got = lint_with(d, script, phase, &[]);
            assert!(of(Code::DropTable, &got)[0].is_active(), "{d} {phase:?}");
        }
    }
    // A type change is not a drop or a rename: it still counts.
    let got = lint_with(
        Dialect::Postgres,
        "ALTER TABLE users ALTER COLUMN age TYPE BIGINT;",
        Some(Phase::Contract),
        &[],
    );
    assert!(of(Code::ChangeColumnType, &got)[0].is_active());
    // A hand-written reason is the one shown.
    let got = lint_with(
        Dialect::Sqlite,
        "-- braid:allow B101 unused since 4.2\nDROP TABLE legacy;",
        Some(Phase::Contract),
        &[],
    );
    assert_eq!(
        of(Code::DropTable, &got)[0].suppressed.as_deref(),
        Some("unused since 4.2")
    );
}

#[test]
fn a_contract_dropping_a_column_a_trigger_of_its_release_reads_is_an_error() {
    for d in Dialect::ALL {
        let release = [("e1_sync", sync_trigger(d)), ("e2_backfill", BACKFILL)];
        let got = lint_with(d, DROP_ONLY, Some(Phase::Contract), &release);
        let hits = of(Code::RemovedWhileRead, &got);
        let trigger = hits
            .iter()
            .find(|h| h.message.contains("trigger `plans_sync_price`"))
            .unwrap_or_else(|| panic!("{d}: {got:#?}"));
        assert!(trigger.is_error());
        assert_eq!(trigger.line, Some(1));
        assert_eq!(trigger.file, "migrations/c1/up.sql");
        assert!(
            trigger
                .message
                .starts_with("drops column `plans.price_cents`, which trigger `plans_sync_price`"),
            "{}",
            trigger.message
        );
        assert!(
            trigger.message.ends_with(
                "created by expand revision `e1_sync` still reads: drop the trigger first, in \
                 this revision or an earlier one"
            ),
            "{}",
            trigger.message
        );
        // The near miss: the contract drops the trigger (and the function) first.
        let got = lint_with(d, contract_script(d), Some(Phase::Contract), &release);
        assert!(of(Code::RemovedWhileRead, &got).is_empty(), "{d}: {got:#?}");
        // The backfill alone reads once: it leaves nothing behind.
        let got = lint_with(
            d,
            DROP_ONLY,
            Some(Phase::Contract),
            &[("e2_backfill", BACKFILL)],
        );
        assert!(of(Code::RemovedWhileRead, &got).is_empty(), "{d}: {got:#?}");
    }
    // On Postgres the function the trigger executes reads the column too.
    let release = [("e1_sync", sync_trigger(Dialect::Postgres))];
    let got = lint_with(Dialect::Postgres, DROP_ONLY, None, &release);
    let hits = of(Code::RemovedWhileRead, &got);
    assert_eq!(hits.len(), 2, "{got:#?}");
    assert!(hits[0].message.contains("routine `plans_sync_price`"));
    assert!(
        hits[1]
            .message
            .contains("trigger `plans_sync_price` on `plans`")
    );
    // Dropping the trigger but not the function leaves the function.
    let got = lint_with(
        Dialect::Postgres,
        "DROP TRIGGER plans_sync_price ON plans;\nALTER TABLE plans DROP COLUMN price_cents;",
        None,
        &release,
    );
    let hits = of(Code::RemovedWhileRead, &got);
    assert_eq!(hits.len(), 1, "{got:#?}");
    assert!(hits[0].message.contains("routine `plans_sync_price`"));
    assert_eq!(hits[0].line, Some(2));
}

#[test]
fn views_indexes_checks_and_generated_columns_still_read() {
    use Dialect::{Mysql, Postgres, Sqlite};
    // (expand, what still reads, where the drop leaves it reading, where it takes it along):
    // Postgres drops a table's indexes and constraints with the column, MySQL its indexes;
    // SQLite refuses to drop a column any of them names.
    let cases: [(&str, &str, &[Dialect], &[Dialect]); 6] = [
        (
            "CREATE VIEW priced AS SELECT id, price_cents FROM plans;",
            "view `priced`",
            &[Postgres, Mysql, Sqlite],
            &[],
        ),
        (
            "CREATE VIEW everything AS SELECT * FROM plans;",
            "view `everything`",
            &[Postgres, Sqlite],
            &[],
        ),
        (
            "CREATE INDEX ix_plans_price ON plans (price_cents);",
            "index `ix_plans_price`",
            &[Sqlite],
            &[Postgres, Mysql],
        ),
        (
            "CREATE INDEX ON plans (price_cents);",
            "an unnamed index on `plans`",
            &[],
            &[Postgres],
        ),
        (
            "ALTER TABLE plans ADD CONSTRAINT price_positive CHECK (price_cents >= 0);",
            "constraint `price_positive` on `plans`",
            &[Mysql],
            &[Postgres],
        ),
        (
            "ALTER TABLE plans ADD COLUMN price_eur NUMERIC GENERATED ALWAYS AS \
             (price_cents / 100.0) STORED;",
            "column `plans.price_eur`",
            &[Postgres],
            &[],
        ),
    ];
    for (expand, dependent, fires, along) in cases {
        for &d in fires {
            let got = lint_with(d, DROP_ONLY, Some(Phase::Contract), &[("e1", expand)]);
            let hits = of(Code::RemovedWhileRead, &got);
            assert_eq!(hits.len(), 1, "{d} {expand}: {got:#?}");
            assert!(hits[0].message.contains(dependent), "{}", hits[0].message);
        }
        for &d in along {
            let got = lint_with(d, DROP_ONLY, Some(Phase::Contract), &[("e1", expand)]);
            assert!(
                of(Code::RemovedWhileRead, &got).is_empty(),
                "{d} {expand}: {got:#?}"
            );
        }
    }
    // Renaming the column, or dropping the table, breaks a view that reads it.
    let view = [(
        "e1",
        "CREATE VIEW priced AS SELECT id, price_cents FROM plans;",
    )];
    for contract in [
        "ALTER TABLE plans RENAME COLUMN price_cents TO price_old;",
        "DROP TABLE plans;",
    ] {
        let got = lint_with(Dialect::Postgres, contract, None, &view);
        assert_eq!(of(Code::RemovedWhileRead, &got).len(), 1, "{contract}");
    }
    // A column the view does not read, or another table's column of that name.
    for contract in [
        "ALTER TABLE plans DROP COLUMN name;",
        "ALTER TABLE invoices DROP COLUMN price_cents;",
    ] {
        let got = lint_with(Dialect::Postgres, contract, None, &view);
        assert!(of(Code::RemovedWhileRead, &got).is_empty(), "{contract}");
    }
}

#[test]
fn what_is_gone_by_then_reads_nothing() {
    let d = Dialect::Sqlite;
    let release = [
        ("e1", sync_trigger(d)),
        ("e2", "DROP TRIGGER plans_sync_price;"),
    ];
    let got = lint_with(d, DROP_ONLY, None, &release);
    assert!(of(Code::RemovedWhileRead, &got).is_empty(), "{got:#?}");
    // A view redefined without the column.
    let release = [
        (
            "e1",
            "CREATE VIEW priced AS SELECT id, price_cents FROM plans;",
        ),
        (
            "e2",
            "CREATE OR REPLACE VIEW priced AS SELECT id, price_minor FROM plans;",
        ),
    ];
    let got = lint_with(Dialect::Postgres, DROP_ONLY, None, &release);
    assert!(of(Code::RemovedWhileRead, &got).is_empty(), "{got:#?}");
    // A trigger on a table the contract drops goes with it.
    let got = lint_with(d, "DROP TABLE plans;", None, &[("e1", sync_trigger(d))]);
    assert!(of(Code::RemovedWhileRead, &got).is_empty(), "{got:#?}");
    // Dropped in the same statement as the column it reads.
    let release = [(
        "e1",
        "ALTER TABLE plans ADD CONSTRAINT price_positive CHECK (price_cents >= 0);",
    )];
    let got = lint_with(
        Dialect::Postgres,
        "ALTER TABLE plans DROP CONSTRAINT price_positive, DROP COLUMN price_cents;",
        None,
        &release,
    );
    assert!(of(Code::RemovedWhileRead, &got).is_empty(), "{got:#?}");
}

#[test]
fn a_removal_that_an_object_still_reads_is_accepted_with_a_reason() {
    let d = Dialect::Mysql;
    let script = format!("-- braid:allow B111 the trigger ignores a missing column\n{DROP_ONLY}");
    let got = lint_with(d, &script, None, &[("e1", sync_trigger(d))]);
    let hits = of(Code::RemovedWhileRead, &got);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].suppressed.as_deref(),
        Some("the trigger ignores a missing column")
    );
}

#[test]
fn garbage_never_panics() {
    let nasty = [
        "",
        ";;;",
        "DROP",
        "DROP TYPE",
        "ALTER TYPE x RENAME",
        "CREATE TRIGGER",
        "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET",
        "CREATE FUNCTION f() RETURNS trigger AS $$ $$ LANGUAGE plpgsql",
        "CREATE TRIGGER t AFTER INSERT ON x BEGIN END",
        "$$",
        "'",
    ];
    for text in nasty {
        for d in Dialect::ALL {
            let _ = infer(text, d);
            let _ = lint_with(d, text, Some(Phase::Expand), &[("e", text)]);
            let _ = lint_with(d, text, Some(Phase::Contract), &[("e", text)]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_text_is_inferred_without_panicking(text in "\\PC{0,200}") {
        for d in Dialect::ALL {
            let _ = infer(&text, d);
        }
    }

    #[test]
    fn sql_like_text_is_inferred_and_linted_without_panicking(
        words in prop::collection::vec(
            prop::sample::select(vec![
                "ALTER", "TABLE", "t", "ADD", "DROP", "COLUMN", "RENAME", "TO", "CREATE",
                "TRIGGER", "FUNCTION", "VIEW", "INDEX", "ON", "AS", "SELECT", "FROM", "BEGIN",
                "END", "SET", "NEW", ".", "a", "=", "UPDATE", "FOR", "EACH", "ROW", "EXECUTE",
                "BEFORE", "AFTER", "INSERT", "(", ")", ";", "$$", "TYPE", "IF", "EXISTS", "\n",
            ]),
            0..40,
        )
    ) {
        let text = words.join(" ");
        for d in Dialect::ALL {
            let _ = infer(&text, d);
            let _ = lint_with(d, &text, Some(Phase::Expand), &[("e", &text)]);
            let _ = lint_with(d, &text, None, &[("e", &text)]);
        }
    }
}
