//! Whether a DDL statement has taken effect, read from the database's schema.
//!
//! A statement that cannot share a transaction with its bookkeeping (MySQL's DDL, any statement
//! of a `transaction = false` migration) is recorded as *started* before it runs. If the run is
//! killed in between, the next run does not know whether it committed. Running it again would
//! fail ("already exists") or, worse, do it twice; so the statement is parsed (sqlparser) and its
//! effect looked up in the introspected schema: a table, column, index or foreign key that must
//! now exist or be gone. The answer says what was checked, for the report.
//!
//! Only what the schema can show is judged. Anything else — a statement that does not parse, an
//! operation whose effect introspection cannot see (a type change, a `CHECK`), or an `ALTER
//! TABLE` whose operations disagree — is [`Effect::Unknown`], and the runner refuses to guess.

use braid_driver::{Dialect, Schema, Table};
use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, Ident, ObjectName, ObjectType, RenameTableNameKind,
    Statement, TableConstraint,
};
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

/// What the schema says about a started statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// It took effect (the text says how that was seen): do not run it again.
    Present(String),
    /// It did not: run it.
    Absent(String),
    /// Running it again is harmless (`IF NOT EXISTS`, `IF EXISTS`, `OR REPLACE`, a type change
    /// to the same type): run it.
    Repeatable(String),
    /// Cannot tell (why).
    Unknown(String),
}

/// Whether a resumed run can judge `statement` from the schema alone (the check of what a
/// statement did answers something other than "cannot tell"): such a statement need not be safe to run twice,
/// since a run that stopped while it was running settles it by looking. `braid lint` asks this
/// to warn only about statements a resume would stop at.
pub fn judged_on_resume(statement: &str, dialect: Dialect) -> bool {
    let current = (dialect != Dialect::Sqlite).then_some("");
    // The table an `ALTER TABLE` changes must exist for its operations to be looked at.
    let mut schema = Schema::default();
    if let Ok(parsed) = parse(statement, dialect)
        && let [Statement::AlterTable(alter)] = parsed.as_slice()
    {
        schema.tables.push(braid_driver::Table {
            name: last(&alter.name).value.clone(),
            ..Default::default()
        });
    }
    !matches!(
        check(statement, dialect, &schema, current),
        Effect::Unknown(_)
    )
}

/// `statement` parsed with the dialect's grammar: the one choice of parser in the runner.
pub(crate) fn parse(
    statement: &str,
    dialect: Dialect,
) -> Result<Vec<Statement>, sqlparser::parser::ParserError> {
    match dialect {
        Dialect::Postgres => Parser::parse_sql(&PostgreSqlDialect {}, statement),
        Dialect::Mysql => Parser::parse_sql(&MySqlDialect {}, statement),
        Dialect::Sqlite => Parser::parse_sql(&SQLiteDialect {}, statement),
    }
}

/// Judges `statement` against `schema`, the introspection of the schema called `current`
/// (Postgres `current_schema()`, MySQL `DATABASE()`; `None` for SQLite): a name qualified with
/// another schema is not judged.
pub fn check(statement: &str, dialect: Dialect, schema: &Schema, current: Option<&str>) -> Effect {
    let statements = match parse(statement, dialect) {
        Ok(s) => s,
        Err(e) => return Effect::Unknown(format!("the statement could not be analysed ({e})")),
    };
    let [statement] = statements.as_slice() else {
        return Effect::Unknown("the text is not exactly one statement".into());
    };
    Schemas {
        dialect,
        schema,
        current,
    }
    .statement(statement)
}

/// One operation's verdict, before operations are combined.
enum Seen {
    Done(String),
    NotDone(String),
    Harmless(String),
    Unknown(String),
}

struct Schemas<'a> {
    dialect: Dialect,
    schema: &'a Schema,
    current: Option<&'a str>,
}

impl Schemas<'_> {
    fn statement(&self, statement: &Statement) -> Effect {
        if let Some(elsewhere) = self.elsewhere(statement) {
            return Effect::Unknown(format!(
                "`{elsewhere}` is not in the schema Braid can look at ({})",
                self.current.unwrap_or("none")
            ));
        }
        let seen = match statement {
            // Transaction control and session settings change nothing lasting.
            Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Set(_)
            | Statement::Use(_) => vec![Seen::Harmless("it changes only the session".into())],
            // An interrupted `CREATE INDEX CONCURRENTLY` leaves an invalid index behind, which
            // introspection shows like a valid one.
            Statement::CreateIndex(i) if i.concurrently => vec![Seen::Unknown(
                "an interrupted CREATE INDEX CONCURRENTLY leaves an invalid index that looks \
                 like a finished one: check `pg_index.indisvalid`, drop the index if it is \
                 invalid, and add IF NOT EXISTS"
                    .into(),
            )],
            Statement::CreateTable(t) if t.if_not_exists || t.or_replace => {
                vec![Seen::Harmless("it is `IF NOT EXISTS`".into())]
            }
            Statement::CreateTable(t) => vec![self.exists("table", &t.name, self.table(&t.name))],
            Statement::CreateIndex(i) if i.if_not_exists => {
                vec![Seen::Harmless("it is `IF NOT EXISTS`".into())]
            }
            Statement::CreateIndex(i) => match &i.name {
                Some(name) => {
                    vec![self.exists("index", name, self.index(Some(&i.table_name), name))]
                }
                None => vec![Seen::Unknown("the index has no name to look for".into())],
            },
            Statement::CreateView(v) if v.or_replace || v.if_not_exists => {
                vec![Seen::Harmless("it is `OR REPLACE`".into())]
            }
            Statement::Drop {
                if_exists: true, ..
            } => {
                vec![Seen::Harmless("it is `IF EXISTS`".into())]
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => names
                .iter()
                .map(|n| self.gone("table", n, self.table(n).is_none()))
                .collect(),
            Statement::Drop {
                object_type: ObjectType::Index,
                names,
                table,
                ..
            } => names
                .iter()
                .map(|n| self.gone("index", n, !self.index(table.as_ref(), n)))
                .collect(),
            Statement::RenameTable(renames) => renames
                .iter()
                .map(|r| self.renamed_table(&r.old_name, &r.new_name))
                .collect(),
            Statement::AlterTable(alter) => {
                let Some(table) = self.table(&alter.name) else {
                    // A rename may be what happened to it.
                    return match alter.operations.as_slice() {
                        [AlterTableOperation::RenameTable { table_name }] => {
                            combine(vec![self.renamed_table(&alter.name, new_name(table_name))])
                        }
                        _ => Effect::Unknown(format!(
                            "table `{}` does not exist, so its change cannot be looked for",
                            last(&alter.name).value
                        )),
                    };
                };
                alter
                    .operations
                    .iter()
                    .map(|op| self.operation(&alter.name, table, op))
                    .collect()
            }
            _ => vec![Seen::Unknown(
                "Braid can check only tables, columns, indexes and foreign keys".into(),
            )],
        };
        combine(seen)
    }

    fn operation(&self, name: &ObjectName, table: &Table, op: &AlterTableOperation) -> Seen {
        let t = &last(name).value;
        match op {
            AlterTableOperation::AddColumn {
                if_not_exists: true,
                ..
            } => Seen::Harmless("it is `IF NOT EXISTS`".into()),
            AlterTableOperation::AddColumn { column_def, .. } => {
                let c = &column_def.name;
                self.seen(
                    self.column(table, c),
                    format!("column `{t}.{}` exists", c.value),
                    format!("column `{t}.{}` does not exist", c.value),
                )
            }
            AlterTableOperation::DropColumn {
                if_exists: true, ..
            } => Seen::Harmless("it is `IF EXISTS`".into()),
            AlterTableOperation::DropColumn { column_names, .. } => combine_seen(
                column_names
                    .iter()
                    .map(|c| {
                        self.seen(
                            !self.column(table, c),
                            format!("column `{t}.{}` is gone", c.value),
                            format!("column `{t}.{}` still exists", c.value),
                        )
                    })
                    .collect(),
            ),
            AlterTableOperation::RenameColumn {
                old_column_name: old,
                new_column_name: new,
            }
            | AlterTableOperation::ChangeColumn {
                old_name: old,
                new_name: new,
                ..
            } if !self.same(old, new) => self.renamed(
                "column",
                &format!("{t}.{}", old.value),
                &format!("{t}.{}", new.value),
                self.column(table, old),
                self.column(table, new),
            ),
            // A conversion runs its expression again on converted data.
            AlterTableOperation::AlterColumn {
                op: AlterColumnOperation::SetDataType { using: Some(_), .. },
                ..
            } => {
                Seen::Unknown("a type change `USING` an expression converts the data again".into())
            }
            // A type, default or nullability change: the same again changes nothing.
            AlterTableOperation::ChangeColumn { .. }
            | AlterTableOperation::ModifyColumn { .. }
            | AlterTableOperation::AlterColumn { .. } => {
                Seen::Harmless("changing a column to what it already is changes nothing".into())
            }
            AlterTableOperation::AddConstraint { constraint, .. } => {
                match constraint_name(constraint) {
                    Some((n, kind)) => {
                        self.exists_seen("constraint", t, n, self.named(table, n, kind))
                    }
                    None => Seen::Unknown("the constraint has no name to look for".into()),
                }
            }
            AlterTableOperation::DropConstraint {
                if_exists: true, ..
            } => Seen::Harmless("it is `IF EXISTS`".into()),
            AlterTableOperation::DropConstraint { name, .. } => {
                self.dropped_constraint(table, name)
            }
            AlterTableOperation::DropForeignKey { name, .. } => {
                self.gone_from(t, name, self.named(table, name, Named::ForeignKey))
            }
            AlterTableOperation::DropIndex { name } => {
                self.gone_from(t, name, self.named(table, name, Named::Index))
            }
            AlterTableOperation::RenameTable { table_name } => {
                self.renamed_table(name, new_name(table_name))
            }
            other => Seen::Unknown(format!(
                "the effect of `{other}` is not visible to introspection"
            )),
        }
    }

    fn seen(&self, done: bool, if_done: String, if_not: String) -> Seen {
        if done {
            Seen::Done(if_done)
        } else {
            Seen::NotDone(if_not)
        }
    }

    fn exists(&self, what: &str, name: &ObjectName, found: impl Into<Found>) -> Seen {
        let n = &last(name).value;
        self.seen(
            found.into().0,
            format!("{what} `{n}` exists"),
            format!("{what} `{n}` does not exist"),
        )
    }

    /// `name` on `table` is gone when it is not `found` any more.
    fn gone_from(&self, table: &str, name: &Ident, found: bool) -> Seen {
        self.seen(
            !found,
            format!("`{}` on `{table}` is gone", name.value),
            format!("`{}` on `{table}` still exists", name.value),
        )
    }

    /// `DROP CONSTRAINT name`, which names any kind of constraint. On MySQL/MariaDB a foreign
    /// key's index keeps the key's name after the key is dropped, so a name left only on an
    /// index says nothing: it may be that index, or a unique key not dropped yet.
    fn dropped_constraint(&self, table: &Table, name: &Ident) -> Seen {
        let t = &table.name;
        // A primary key only by its name: where the backend keeps none (MySQL, SQLite), it is
        // never dropped this way.
        let primary = table
            .primary_key
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .is_some_and(|n| self.matches(&self.folded(name), n));
        let constraint = primary
            || [Named::ForeignKey, Named::Check]
                .into_iter()
                .any(|kind| self.named(table, name, kind));
        let index = self.named(table, name, Named::Index);
        if self.dialect == Dialect::Mysql && index && !constraint {
            return Seen::Unknown(format!(
                "an index `{}` on `{t}` remains, which a dropped foreign key leaves behind and \
                 an undropped unique key is",
                name.value
            ));
        }
        self.gone_from(t, name, constraint || index)
    }

    fn exists_seen(&self, what: &str, table: &str, name: &Ident, found: bool) -> Seen {
        self.seen(
            found,
            format!("{what} `{}` on `{table}` exists", name.value),
            format!("{what} `{}` on `{table}` does not exist", name.value),
        )
    }

    fn gone(&self, what: &str, name: &ObjectName, gone: bool) -> Seen {
        let n = &last(name).value;
        self.seen(
            gone,
            format!("{what} `{n}` is gone"),
            format!("{what} `{n}` still exists"),
        )
    }

    fn renamed_table(&self, old: &ObjectName, new: &ObjectName) -> Seen {
        self.renamed(
            "table",
            &last(old).value,
            &last(new).value,
            self.table(old).is_some(),
            self.table(new).is_some(),
        )
    }

    /// A rename is done when only the new name exists and not done when only the old one does.
    fn renamed(&self, what: &str, old: &str, new: &str, has_old: bool, has_new: bool) -> Seen {
        match (has_old, has_new) {
            (false, true) => Seen::Done(format!("{what} `{new}` exists and `{old}` does not")),
            (true, false) => Seen::NotDone(format!("{what} `{old}` exists and `{new}` does not")),
            (true, true) => Seen::Unknown(format!("both {what}s `{old}` and `{new}` exist")),
            (false, false) => Seen::Unknown(format!("neither {what} `{old}` nor `{new}` exists")),
        }
    }

    /// Whether two identifiers name the same object on this backend.
    fn same(&self, a: &Ident, b: &Ident) -> bool {
        self.matches(&self.folded(a), &self.folded(b))
    }

    /// An identifier as the backend stores it: Postgres folds unquoted names to lower case.
    fn folded(&self, ident: &Ident) -> String {
        match (self.dialect, ident.quote_style) {
            (Dialect::Postgres, None) => ident.value.to_lowercase(),
            _ => ident.value.clone(),
        }
    }

    /// Whether a stored name matches: Postgres compares exactly (after folding); MySQL's column
    /// and index names and all of SQLite's names ignore case.
    fn matches(&self, folded: &str, stored: &str) -> bool {
        match self.dialect {
            Dialect::Postgres => folded == stored,
            Dialect::Mysql | Dialect::Sqlite => folded.eq_ignore_ascii_case(stored),
        }
    }

    /// Whether a table name matches: MySQL's table names are file names, case-sensitive on
    /// Linux (a server that folds them stores them lower-cased, so a mismatch errs towards
    /// "absent", and running the statement again fails loudly rather than skipping it).
    fn matches_table(&self, folded: &str, stored: &str) -> bool {
        match self.dialect {
            Dialect::Mysql => folded == stored,
            _ => self.matches(folded, stored),
        }
    }

    fn table(&self, name: &ObjectName) -> Option<&Table> {
        let want = self.folded(last(name));
        self.schema
            .tables
            .iter()
            .find(|t| self.matches_table(&want, &t.name))
    }

    /// The first name of `statement` qualified with a schema other than the one introspected.
    fn elsewhere(&self, statement: &Statement) -> Option<String> {
        let names: Vec<&ObjectName> = match statement {
            Statement::CreateTable(t) => vec![&t.name],
            Statement::CreateIndex(i) => i.name.iter().chain([&i.table_name]).collect(),
            Statement::Drop { names, table, .. } => names.iter().chain(table).collect(),
            Statement::RenameTable(r) => {
                r.iter().flat_map(|r| [&r.old_name, &r.new_name]).collect()
            }
            Statement::AlterTable(a) => vec![&a.name],
            _ => Vec::new(),
        };
        names.into_iter().find_map(|n| {
            let parts = &n.0;
            if parts.len() < 2 {
                return None;
            }
            let schema = parts[parts.len() - 2].as_ident()?;
            let same = self
                .current
                .is_some_and(|c| self.matches_table(&self.folded(schema), c));
            (!same).then(|| n.to_string())
        })
    }

    fn column(&self, table: &Table, name: &Ident) -> bool {
        let want = self.folded(name);
        table.columns.iter().any(|c| self.matches(&want, &c.name))
    }

    /// A `kind` of object called `name` on `table`. A primary key is found by existence where
    /// the backend keeps no name for it (a table has one at most).
    fn named(&self, table: &Table, name: &Ident, kind: Named) -> bool {
        let want = self.folded(name);
        let is = |n: &str| self.matches(&want, n);
        match kind {
            Named::Index => table.indexes.iter().any(|i| is(&i.name)),
            Named::ForeignKey => table
                .foreign_keys
                .iter()
                .filter_map(|f| f.name.as_deref())
                .any(is),
            Named::Check => table
                .checks
                .iter()
                .filter_map(|c| c.name.as_deref())
                .any(is),
            Named::PrimaryKey => table
                .primary_key
                .as_ref()
                .is_some_and(|p| p.name.as_deref().is_none_or(is)),
        }
    }

    /// An index called `name`, on `table` when given, else on any table.
    fn index(&self, table: Option<&ObjectName>, name: &ObjectName) -> bool {
        let want = last(name);
        match table.and_then(|t| self.table(t)) {
            Some(t) => self.named(t, want, Named::Index),
            None => self
                .schema
                .tables
                .iter()
                .any(|t| self.named(t, want, Named::Index)),
        }
    }
}

/// A lookup's outcome, from a bool or an `Option`.
struct Found(bool);

impl From<bool> for Found {
    fn from(b: bool) -> Self {
        Found(b)
    }
}

impl<T> From<Option<T>> for Found {
    fn from(o: Option<T>) -> Self {
        Found(o.is_some())
    }
}

fn last(name: &ObjectName) -> &Ident {
    static EMPTY: std::sync::OnceLock<Ident> = std::sync::OnceLock::new();
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .unwrap_or_else(|| EMPTY.get_or_init(|| Ident::new("")))
}

fn new_name(kind: &RenameTableNameKind) -> &ObjectName {
    match kind {
        RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
    }
}

/// What a constraint or index name stands for on a table: a name is looked for among its
/// own kind only (on MySQL/MariaDB an index may share a foreign key's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Index,
    ForeignKey,
    Check,
    PrimaryKey,
}

/// The name a constraint is looked for by, and among which kind of object.
fn constraint_name(c: &TableConstraint) -> Option<(&Ident, Named)> {
    match c {
        TableConstraint::Unique(u) => {
            Some((u.name.as_ref().or(u.index_name.as_ref())?, Named::Index))
        }
        TableConstraint::ForeignKey(f) => Some((f.name.as_ref()?, Named::ForeignKey)),
        TableConstraint::Index(i) => Some((i.name.as_ref()?, Named::Index)),
        TableConstraint::Check(c) => Some((c.name.as_ref()?, Named::Check)),
        TableConstraint::PrimaryKey(p) => Some((p.name.as_ref()?, Named::PrimaryKey)),
        _ => None,
    }
}

/// Several operations' verdicts as one operation's (all must agree).
fn combine_seen(seen: Vec<Seen>) -> Seen {
    match combine(seen) {
        Effect::Present(s) => Seen::Done(s),
        Effect::Absent(s) => Seen::NotDone(s),
        Effect::Repeatable(s) => Seen::Harmless(s),
        Effect::Unknown(s) => Seen::Unknown(s),
    }
}

/// A statement's verdict from its operations': any unknown makes it unknown; harmless
/// operations go with the rest; done and not-done together cannot be (MySQL applies an `ALTER`
/// whole or not at all), so they are unknown too.
fn combine(seen: Vec<Seen>) -> Effect {
    let (mut done, mut not_done, mut harmless) = (Vec::new(), Vec::new(), Vec::new());
    for s in seen {
        match s {
            Seen::Unknown(why) => return Effect::Unknown(why),
            Seen::Done(s) => done.push(s),
            Seen::NotDone(s) => not_done.push(s),
            Seen::Harmless(s) => harmless.push(s),
        }
    }
    match (done.is_empty(), not_done.is_empty()) {
        (false, true) => Effect::Present(done.join(", ")),
        (true, false) => Effect::Absent(not_done.join(", ")),
        (true, true) if !harmless.is_empty() => Effect::Repeatable(harmless.join(", ")),
        (true, true) => Effect::Unknown("the statement changes nothing Braid can see".into()),
        (false, false) => Effect::Unknown(format!(
            "it is half done: {}, but {}",
            done.join(", "),
            not_done.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_driver::{Column, ForeignKey, Index};

    fn schema() -> Schema {
        Schema {
            tables: vec![Table {
                name: "users".into(),
                columns: vec![
                    Column {
                        name: "id".into(),
                        ..Default::default()
                    },
                    Column {
                        name: "email".into(),
                        ..Default::default()
                    },
                ],
                indexes: vec![Index {
                    name: "users_email".into(),
                    columns: vec!["email".into()],
                    unique: true,
                    ..Default::default()
                }],
                foreign_keys: vec![ForeignKey {
                    name: Some("fk_org".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn verdict(sql: &str, dialect: Dialect) -> Effect {
        check(sql, dialect, &schema(), Some("app"))
    }

    fn kind(e: &Effect) -> &'static str {
        match e {
            Effect::Present(_) => "present",
            Effect::Absent(_) => "absent",
            Effect::Repeatable(_) => "repeatable",
            Effect::Unknown(_) => "unknown",
        }
    }

    #[test]
    fn tables_columns_indexes_and_keys() {
        use Dialect::*;
        for (sql, dialect, want) in [
            ("CREATE TABLE users (id INT)", Mysql, "present"),
            ("CREATE TABLE orders (id INT)", Mysql, "absent"),
            (
                "CREATE TABLE IF NOT EXISTS users (id INT)",
                Mysql,
                "repeatable",
            ),
            ("CREATE TABLE \"Users\" (id INT)", Postgres, "absent"),
            ("CREATE TABLE USERS (id INT)", Postgres, "present"),
            ("DROP TABLE orders", Mysql, "present"),
            ("DROP TABLE users", Postgres, "absent"),
            ("DROP TABLE IF EXISTS users", Postgres, "repeatable"),
            ("ALTER TABLE users ADD COLUMN name TEXT", Mysql, "absent"),
            ("ALTER TABLE users ADD COLUMN EMAIL TEXT", Mysql, "present"),
            (
                "ALTER TABLE users ADD a INT, ADD email TEXT",
                Mysql,
                "unknown",
            ),
            ("ALTER TABLE users DROP COLUMN email", Postgres, "absent"),
            ("ALTER TABLE users DROP COLUMN name", Postgres, "present"),
            (
                "ALTER TABLE users RENAME COLUMN email TO mail",
                Postgres,
                "absent",
            ),
            (
                "ALTER TABLE users RENAME COLUMN mail TO email",
                Postgres,
                "present",
            ),
            (
                "ALTER TABLE users MODIFY email VARCHAR(300)",
                Mysql,
                "repeatable",
            ),
            (
                "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
                Postgres,
                "repeatable",
            ),
            (
                "ALTER TABLE users ADD CONSTRAINT fk_org FOREIGN KEY (o) REFERENCES orgs (id)",
                Mysql,
                "present",
            ),
            (
                "ALTER TABLE users ADD CONSTRAINT fk_x FOREIGN KEY (o) REFERENCES orgs (id)",
                Mysql,
                "absent",
            ),
            ("ALTER TABLE users DROP FOREIGN KEY fk_org", Mysql, "absent"),
            ("ALTER TABLE users ADD INDEX by_id (id)", Mysql, "absent"),
            (
                "CREATE INDEX users_email ON users (email)",
                Postgres,
                "present",
            ),
            (
                "CREATE UNIQUE INDEX users_id ON users (id)",
                Mysql,
                "absent",
            ),
            ("DROP INDEX users_email ON users", Mysql, "absent"),
            ("DROP INDEX users_id", Postgres, "present"),
            ("RENAME TABLE users TO people", Mysql, "absent"),
            ("RENAME TABLE people TO users", Mysql, "present"),
            ("ALTER TABLE users RENAME TO people", Postgres, "absent"),
            ("ALTER TABLE people RENAME TO users", Postgres, "present"),
            ("ALTER TABLE ghosts ADD COLUMN a INT", Postgres, "unknown"),
            (
                "CREATE FUNCTION f() RETURNS INT AS 'SELECT 1' LANGUAGE sql",
                Postgres,
                "unknown",
            ),
            ("CALL do_things()", Mysql, "unknown"),
            ("CREATE TABLE app.users (id INT)", Mysql, "present"),
            ("CREATE TABLE audit.users (id INT)", Mysql, "unknown"),
            ("DROP TABLE audit.events", Postgres, "unknown"),
            ("CREATE TABLE Users (id INT)", Mysql, "absent"),
            (
                "CREATE INDEX CONCURRENTLY users_email ON users (email)",
                Postgres,
                "unknown",
            ),
            (
                "ALTER TABLE users ALTER COLUMN id TYPE BIGINT USING id * 100",
                Postgres,
                "unknown",
            ),
            (
                "ALTER TABLE users ALTER COLUMN id TYPE BIGINT",
                Postgres,
                "repeatable",
            ),
            ("SET FOREIGN_KEY_CHECKS = 0", Mysql, "repeatable"),
            ("BEGIN", Postgres, "repeatable"),
            ("COMMIT", Mysql, "repeatable"),
            ("this is not sql", Mysql, "unknown"),
        ] {
            let got = verdict(sql, dialect);
            assert_eq!(kind(&got), want, "{sql}: {got:?}");
        }
    }

    /// A constraint's name is looked for among its own kind: a check or primary key that is
    /// still there is not taken for gone, and on MySQL the index a dropped foreign key leaves
    /// behind (with the key's name) is not taken for the key.
    #[test]
    fn constraints_are_found_by_their_kind() {
        use Dialect::*;
        let mut schema = schema();
        let users = &mut schema.tables[0];
        users.checks.push(braid_driver::Check {
            name: Some("chk_pos".into()),
            expression: "id > 0".into(),
        });
        users.primary_key = Some(braid_driver::PrimaryKey {
            name: Some("users_pkey".into()),
            columns: vec!["id".into()],
        });
        users.indexes.push(Index {
            name: "fk_kept".into(),
            columns: vec!["org".into()],
            ..Default::default()
        });
        // MySQL keeps no name for a primary key.
        schema.tables.push(Table {
            name: "orders".into(),
            primary_key: Some(braid_driver::PrimaryKey {
                name: None,
                columns: vec!["id".into()],
            }),
            ..Default::default()
        });
        for (sql, dialect, want) in [
            (
                "ALTER TABLE orders DROP CONSTRAINT chk_qty",
                Mysql,
                "present",
            ),
            (
                "ALTER TABLE users DROP CONSTRAINT chk_pos",
                Postgres,
                "absent",
            ),
            (
                "ALTER TABLE users DROP CONSTRAINT users_pkey",
                Postgres,
                "absent",
            ),
            (
                "ALTER TABLE users DROP CONSTRAINT chk_gone",
                Postgres,
                "present",
            ),
            ("ALTER TABLE users DROP CONSTRAINT fk_org", Mysql, "absent"),
            (
                "ALTER TABLE users DROP CONSTRAINT fk_kept",
                Mysql,
                "unknown",
            ),
            (
                "ALTER TABLE users DROP FOREIGN KEY fk_kept",
                Mysql,
                "present",
            ),
            (
                "ALTER TABLE users ADD CONSTRAINT fk_kept FOREIGN KEY (org) REFERENCES orgs (id)",
                Mysql,
                "absent",
            ),
            (
                "ALTER TABLE users ADD CONSTRAINT chk_pos CHECK (id > 0)",
                Postgres,
                "present",
            ),
            (
                "ALTER TABLE users ADD CONSTRAINT chk_new CHECK (id > 0)",
                Postgres,
                "absent",
            ),
        ] {
            let got = check(sql, dialect, &schema, Some("app"));
            assert_eq!(kind(&got), want, "{sql}: {got:?}");
        }
    }

    #[test]
    fn verdicts_say_what_was_checked() {
        let Effect::Present(why) = verdict("CREATE TABLE users (id INT)", Dialect::Mysql) else {
            panic!()
        };
        assert_eq!(why, "table `users` exists");
        let Effect::Unknown(why) = verdict(
            "ALTER TABLE users ADD a INT, ADD email TEXT",
            Dialect::Mysql,
        ) else {
            panic!()
        };
        assert!(why.contains("half done"), "{why}");
    }
}
