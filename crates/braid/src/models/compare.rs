//! How the schema the migrations produce differs from the schema the entities want, on one
//! backend: pure, over two introspection snapshots.
//!
//! Objects are matched by what they do, not by the names a backend chose for them: indexes by
//! their columns and uniqueness (a `UNIQUE` column is `users_email_key` on Postgres and
//! `email` on MySQL; MySQL adds its own index for a foreign key), foreign keys by their columns,
//! the table and columns they reference and their actions. Columns compare by type,
//! nullability, default and identity; on SQLite a type compares by its affinity, the only part
//! of a declared type SQLite enforces (`varchar(100)` and `varchar(255)` store the same
//! values).

use braid_driver::{Column, Dialect, ForeignKey, Index, Schema, Table};
use serde::Serialize;

use super::{Rename, Renames};

/// One difference, as the change a migration makes to remove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateTable {
        table: String,
    },
    DropTable {
        table: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: String,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    /// Type, nullability, default or identity; `from` and `to` as the backend prints them.
    AlterColumn {
        table: String,
        column: String,
        from: String,
        to: String,
    },
    AddIndex {
        table: String,
        columns: Vec<String>,
        unique: bool,
    },
    DropIndex {
        table: String,
        /// The index as the migrations named it on this backend.
        name: String,
        columns: Vec<String>,
        unique: bool,
        /// Backed by a constraint (Postgres `UNIQUE`, SQLite's autoindex): dropped as one.
        constraint: bool,
        /// Whether an entity could declare it: not partial, on columns (not expressions),
        /// without INCLUDE or an access method. One it could not is never dropped.
        expressible: bool,
    },
    AddForeignKey {
        table: String,
        columns: Vec<String>,
        references: String,
    },
    DropForeignKey {
        table: String,
        name: Option<String>,
        columns: Vec<String>,
        references: String,
    },
    /// A different primary key: never written (a table rebuild on SQLite, a data question
    /// everywhere), always reported.
    PrimaryKey {
        table: String,
        from: Vec<String>,
        to: Vec<String>,
    },
}

impl Change {
    /// What identifies the change across backends: the same change seen on Postgres and
    /// MySQL is written once (the details a backend prints, such as type spellings and index
    /// names, are left out).
    pub fn key(&self) -> String {
        match self {
            Change::CreateTable { table } => format!("create {table}"),
            Change::DropTable { table } => format!("drop {table}"),
            Change::RenameTable { from, to } => format!("rename {from} {to}"),
            Change::AddColumn { table, column } => format!("add {table}.{column}"),
            Change::DropColumn { table, column } => format!("drop {table}.{column}"),
            Change::RenameColumn { table, from, to } => format!("rename {table}.{from} {to}"),
            Change::AlterColumn { table, column, .. } => format!("alter {table}.{column}"),
            Change::AddIndex {
                table,
                columns,
                unique,
            } => format!("add index {table}({}) {unique}", columns.join(",")),
            // A dropped object is named: each backend drops its own (`users_email_key` on
            // Postgres is `email` on MySQL).
            Change::DropIndex {
                table,
                name,
                columns,
                unique,
                ..
            } => format!("drop index {name} {table}({}) {unique}", columns.join(",")),
            Change::AddForeignKey {
                table,
                columns,
                references,
            } => format!("add fk {table}({}) {references}", columns.join(",")),
            Change::DropForeignKey {
                table,
                name,
                columns,
                references,
            } => format!(
                "drop fk {} {table}({}) {references}",
                name.as_deref().unwrap_or(""),
                columns.join(",")
            ),
            Change::PrimaryKey { table, .. } => format!("primary key {table}"),
        }
    }

    /// Whether it loses data (what `--allow-drop` is for).
    pub fn destructive(&self) -> bool {
        matches!(self, Change::DropTable { .. } | Change::DropColumn { .. })
    }

    /// The table it concerns (for a rename, the new name).
    pub fn table(&self) -> &str {
        match self {
            Change::RenameTable { to, .. } => to,
            Change::CreateTable { table }
            | Change::DropTable { table }
            | Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::AddIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::PrimaryKey { table, .. } => table,
        }
    }
}

/// One line per change, as the command prints it: `+` adds, `-` drops, `~` changes.
impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unique = |u: &bool| if *u { "unique index" } else { "index" };
        match self {
            Change::CreateTable { table } => write!(f, "+ table {table}"),
            Change::DropTable { table } => write!(f, "- table {table}"),
            Change::RenameTable { from, to } => write!(f, "~ table {from} renamed to {to}"),
            Change::AddColumn { table, column } => write!(f, "+ column {table}.{column}"),
            Change::DropColumn { table, column } => write!(f, "- column {table}.{column}"),
            Change::RenameColumn { table, from, to } => {
                write!(f, "~ column {table}.{from} renamed to {to}")
            }
            Change::AlterColumn {
                table,
                column,
                from,
                to,
            } => write!(f, "~ column {table}.{column}: {from} → {to}"),
            Change::AddIndex {
                table,
                columns,
                unique: u,
            } => write!(f, "+ {} on {table} ({})", unique(u), columns.join(", ")),
            Change::DropIndex {
                table,
                name,
                columns,
                unique: u,
                ..
            } => write!(
                f,
                "- {} {name} on {table} ({})",
                unique(u),
                columns.join(", ")
            ),
            Change::AddForeignKey {
                table,
                columns,
                references,
            } => write!(
                f,
                "+ foreign key {table} ({}) → {references}",
                columns.join(", ")
            ),
            Change::DropForeignKey {
                table,
                columns,
                references,
                ..
            } => write!(
                f,
                "- foreign key {table} ({}) → {references}",
                columns.join(", ")
            ),
            Change::PrimaryKey { table, from, to } => write!(
                f,
                "~ primary key of {table}: ({}) → ({})",
                from.join(", "),
                to.join(", ")
            ),
        }
    }
}

/// The changes that turn `current` (what the migrations produce) into `desired` (what the
/// entities want) on `dialect`, in the order the snapshot lists objects. Tables the entities do
/// not mention are drops; `renames` say which drop-and-add pairs are renames.
pub fn compare(
    dialect: Dialect,
    current: &Schema,
    desired: &Schema,
    renames: &[Rename],
) -> Vec<Change> {
    let mut out = Vec::new();
    let renames = Renames(renames);
    for want in &desired.tables {
        let old = renames
            .old_table(&want.name)
            .filter(|old| table(desired, old).is_none())
            .and_then(|old| table(current, old));
        match (table(current, &want.name), old) {
            (Some(have), _) => compare_table(dialect, have, want, renames, &mut out),
            (None, Some(have)) => {
                out.push(Change::RenameTable {
                    from: have.name.clone(),
                    to: want.name.clone(),
                });
                compare_table(dialect, have, want, renames, &mut out);
            }
            (None, None) => out.push(Change::CreateTable {
                table: want.name.clone(),
            }),
        }
    }
    for have in &current.tables {
        let kept = table(desired, &have.name).is_some()
            || table(desired, &renames.new_table(&have.name)).is_some();
        if !kept {
            out.push(Change::DropTable {
                table: have.name.clone(),
            });
        }
    }
    out
}

fn table<'s>(schema: &'s Schema, name: &str) -> Option<&'s Table> {
    schema.tables.iter().find(|t| t.name == name)
}

fn column<'t>(table: &'t Table, name: &str) -> Option<&'t Column> {
    table.columns.iter().find(|c| c.name == name)
}

/// `have` (named as it is now) against `want`: columns, primary key, indexes, foreign keys.
/// Changes name the table by its new name.
fn compare_table(
    dialect: Dialect,
    have: &Table,
    want: &Table,
    renames: Renames<'_>,
    out: &mut Vec<Change>,
) {
    let name = &want.name;
    let mut matched: Vec<&str> = Vec::new();
    for w in &want.columns {
        let old = renames
            .old_column(name, &w.name)
            .filter(|old| column(want, old).is_none())
            .and_then(|old| column(have, old));
        let h = match (column(have, &w.name), old) {
            (Some(h), _) => h,
            (None, Some(h)) => {
                out.push(Change::RenameColumn {
                    table: name.clone(),
                    from: h.name.clone(),
                    to: w.name.clone(),
                });
                h
            }
            (None, None) => {
                out.push(Change::AddColumn {
                    table: name.clone(),
                    column: w.name.clone(),
                });
                continue;
            }
        };
        matched.push(&h.name);
        if !same_column(dialect, h, w) {
            out.push(Change::AlterColumn {
                table: name.clone(),
                column: w.name.clone(),
                from: shown(h),
                to: shown(w),
            });
        }
    }
    for h in &have.columns {
        if !matched.contains(&h.name.as_str()) {
            out.push(Change::DropColumn {
                table: name.clone(),
                column: h.name.clone(),
            });
        }
    }
    let key = |t: &Table| {
        t.primary_key
            .as_ref()
            .map(|k| k.columns.clone())
            .unwrap_or_default()
    };
    let (have_key, want_key) = (renames.new_columns(name, &key(have)), key(want));
    if have_key != want_key {
        out.push(Change::PrimaryKey {
            table: name.clone(),
            from: have_key,
            to: want_key,
        });
    }
    compare_indexes(have, want, renames, out);
    compare_foreign_keys(have, want, renames, out);
}

/// The indexes that matter for a comparison: a primary key's own index is the key.
fn indexes(table: &Table) -> impl Iterator<Item = &Index> {
    let key = table.primary_key.as_ref().map(|k| &k.columns);
    table
        .indexes
        .iter()
        .filter(move |i| !(i.unique && Some(&i.columns) == key))
}

/// What an index does: its columns, uniqueness, predicate, included columns and method.
type IndexSignature = (
    Vec<String>,
    bool,
    Option<String>,
    Vec<String>,
    Option<String>,
);

fn compare_indexes(have: &Table, want: &Table, renames: Renames<'_>, out: &mut Vec<Change>) {
    let signature = |i: &Index, columns: Vec<String>| -> IndexSignature {
        (
            columns,
            i.unique,
            i.predicate.clone(),
            i.include.clone(),
            i.method.clone(),
        )
    };
    let mut left: Vec<(&Index, IndexSignature)> = indexes(have)
        .map(|i| (i, signature(i, renames.new_columns(&want.name, &i.columns))))
        .collect();
    for w in indexes(want) {
        let sig = signature(w, w.columns.clone());
        match left.iter().position(|(_, s)| *s == sig) {
            Some(i) => {
                left.remove(i);
            }
            None => out.push(Change::AddIndex {
                table: want.name.clone(),
                columns: w.columns.clone(),
                unique: w.unique,
            }),
        }
    }
    for (h, (columns, unique, predicate, include, method)) in left {
        out.push(Change::DropIndex {
            table: want.name.clone(),
            name: h.name.clone(),
            expressible: predicate.is_none()
                && include.is_empty()
                && method.is_none()
                && h.columns.iter().all(|c| is_column(have, c)),
            columns,
            unique,
            constraint: h.constraint,
        });
    }
}

/// Whether an index's part is a column of `table` (not an expression).
fn is_column(table: &Table, part: &str) -> bool {
    table.columns.iter().any(|c| c.name == part)
}

/// A foreign key as what it does: columns, target (`table(columns)`), actions.
fn fk_signature(
    fk: &ForeignKey,
    columns: Vec<String>,
    target: String,
) -> (Vec<String>, String, String) {
    let actions = format!(
        "{} {}",
        fk.on_delete.as_deref().unwrap_or(""),
        fk.on_update.as_deref().unwrap_or("")
    );
    (columns, target, actions)
}

/// `table(columns)` a foreign key references.
pub(super) fn references(fk: &ForeignKey) -> String {
    format!(
        "{}({})",
        fk.referenced_table,
        fk.referenced_columns.join(", ")
    )
}

fn compare_foreign_keys(have: &Table, want: &Table, renames: Renames<'_>, out: &mut Vec<Change>) {
    let mut left: Vec<(&ForeignKey, _)> = have
        .foreign_keys
        .iter()
        .map(|fk| {
            let columns = renames.new_columns(&want.name, &fk.columns);
            let to = renames.new_table(&fk.referenced_table);
            let to_columns = renames.new_columns(&to, &fk.referenced_columns);
            let target = format!("{to}({})", to_columns.join(", "));
            (fk, fk_signature(fk, columns, target))
        })
        .collect();
    for w in &want.foreign_keys {
        let sig = fk_signature(w, w.columns.clone(), references(w));
        match left.iter().position(|(_, s)| *s == sig) {
            Some(i) => {
                left.remove(i);
            }
            None => out.push(Change::AddForeignKey {
                table: want.name.clone(),
                columns: w.columns.clone(),
                references: references(w),
            }),
        }
    }
    for (h, (columns, target, _)) in left {
        out.push(Change::DropForeignKey {
            table: want.name.clone(),
            name: h.name.clone(),
            columns,
            references: target,
        });
    }
}

fn same_column(dialect: Dialect, have: &Column, want: &Column) -> bool {
    let same_type = match dialect {
        Dialect::Sqlite => {
            braid_driver::sqlite_affinity(&have.data_type)
                == braid_driver::sqlite_affinity(&want.data_type)
        }
        _ => have.data_type.eq_ignore_ascii_case(&want.data_type),
    };
    same_type
        && have.nullable == want.nullable
        && own_default(have) == own_default(want)
        && numbered(have) == numbered(want)
}

/// Whether the backend numbers the column itself: an identity, or a Postgres `serial` (a
/// `nextval(…)` default), which a program sees alike.
pub(super) fn numbered(column: &Column) -> bool {
    column.identity.is_some() || serial(column)
}

/// A Postgres `serial` column's default: its sequence, not a value.
pub(super) fn serial(column: &Column) -> bool {
    column
        .default
        .as_deref()
        .is_some_and(|d| d.starts_with("nextval("))
}

/// The default a column is given, as opposed to the numbering of a `serial` column.
fn own_default(column: &Column) -> Option<&str> {
    column.default.as_deref().filter(|_| !serial(column))
}

/// A column as the report shows it: `varchar(100) NOT NULL DEFAULT 'x'`.
fn shown(column: &Column) -> String {
    let mut s = column.data_type.clone();
    s.push_str(if column.nullable {
        " NULL"
    } else {
        " NOT NULL"
    });
    if let Some(default) = &column.default {
        s.push_str(" DEFAULT ");
        s.push_str(default);
    }
    if column.identity.is_some() {
        s.push_str(" IDENTITY");
    }
    s
}

#[cfg(test)]
mod tests {
    use braid_driver::PrimaryKey;

    use super::*;

    fn col(name: &str, data_type: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable,
            ..Column::default()
        }
    }

    fn users(columns: Vec<Column>) -> Table {
        Table {
            name: "users".into(),
            columns,
            primary_key: Some(PrimaryKey {
                name: None,
                columns: vec!["id".into()],
            }),
            ..Table::default()
        }
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    fn id() -> Column {
        col("id", "bigint", false)
    }

    #[test]
    fn equal_schemas_need_nothing() {
        let s = schema(vec![users(vec![id(), col("email", "varchar(255)", false)])]);
        assert!(compare(Dialect::Postgres, &s, &s, &[]).is_empty());
    }

    #[test]
    fn tables_and_columns_added_dropped_and_altered() {
        let have = schema(vec![
            users(vec![
                id(),
                col("name", "varchar(100)", false),
                col("old", "text", true),
            ]),
            Table {
                name: "gone".into(),
                ..Table::default()
            },
        ]);
        let want = schema(vec![
            users(vec![
                id(),
                col("name", "varchar(255)", false),
                col("new", "text", true),
            ]),
            Table {
                name: "tags".into(),
                ..Table::default()
            },
        ]);
        let found = compare(Dialect::Mysql, &have, &want, &[]);
        let lines: Vec<String> = found.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            lines,
            [
                "~ column users.name: varchar(100) NOT NULL → varchar(255) NOT NULL",
                "+ column users.new",
                "- column users.old",
                "+ table tags",
                "- table gone",
            ]
        );
        assert!(found[2].destructive() && found[4].destructive());
        assert!(!found[1].destructive());
    }

    #[test]
    fn sqlite_types_compare_by_affinity() {
        let have = schema(vec![users(vec![id(), col("name", "varchar(100)", false)])]);
        let want = schema(vec![users(vec![id(), col("name", "varchar(255)", false)])]);
        assert!(compare(Dialect::Sqlite, &have, &want, &[]).is_empty());
        let other = schema(vec![users(vec![id(), col("name", "integer", false)])]);
        assert_eq!(compare(Dialect::Sqlite, &have, &other, &[]).len(), 1);
        // Nullability is enforced whatever the type.
        let null = schema(vec![users(vec![id(), col("name", "varchar(100)", true)])]);
        assert_eq!(compare(Dialect::Sqlite, &have, &null, &[]).len(), 1);
    }

    #[test]
    fn indexes_and_foreign_keys_match_by_what_they_do_not_their_names() {
        let index = |name: &str, unique: bool| Index {
            name: name.into(),
            columns: vec!["email".into()],
            unique,
            ..Index::default()
        };
        let fk = |name: &str, on_delete: &str| ForeignKey {
            name: Some(name.into()),
            columns: vec!["account_id".into()],
            referenced_table: "accounts".into(),
            referenced_columns: vec!["id".into()],
            on_delete: Some(on_delete.into()),
            on_update: None,
        };
        let table = |i: Index, f: ForeignKey| {
            let mut t = users(vec![id()]);
            t.indexes = vec![i];
            t.foreign_keys = vec![f];
            schema(vec![t])
        };
        let have = table(index("ux_users_email", true), fk("fk_a", "CASCADE"));
        let same = table(
            index("users_email_key", true),
            fk("fk-users-account_id", "CASCADE"),
        );
        assert!(compare(Dialect::Postgres, &have, &same, &[]).is_empty());
        // A near miss: not unique, and another action, are changes.
        let other = table(index("ux_users_email", false), fk("fk_a", "SET NULL"));
        let lines: Vec<String> = compare(Dialect::Postgres, &have, &other, &[])
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            lines,
            [
                "+ index on users (email)",
                "- unique index ux_users_email on users (email)",
                "+ foreign key users (account_id) → accounts(id)",
                "- foreign key users (account_id) → accounts(id)",
            ]
        );
    }

    #[test]
    fn renames_are_said_not_seen() {
        let have = schema(vec![users(vec![id(), col("nickname", "text", true)])]);
        let mut renamed = users(vec![id(), col("handle", "text", true)]);
        renamed.name = "members".into();
        let want = schema(vec![renamed]);
        let hints = [
            "users=members".parse::<Rename>().unwrap(),
            "members.nickname=handle".parse::<Rename>().unwrap(),
        ];
        let lines: Vec<String> = compare(Dialect::Postgres, &have, &want, &hints)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            lines,
            [
                "~ table users renamed to members",
                "~ column members.nickname renamed to handle",
            ]
        );
        // Without the hints: a new table and a dropped one.
        let unhinted: Vec<String> = compare(Dialect::Postgres, &have, &want, &[])
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(unhinted, ["+ table members", "- table users"]);
    }

    #[test]
    fn an_index_the_entities_cannot_declare_is_marked_so() {
        let mut t = users(vec![id(), col("email", "text", false)]);
        t.indexes = vec![Index {
            name: "ix_active_email".into(),
            columns: vec!["email".into()],
            predicate: Some("(deleted_at IS NULL)".into()),
            ..Index::default()
        }];
        let have = schema(vec![t]);
        let want = schema(vec![users(vec![id(), col("email", "text", false)])]);
        match &compare(Dialect::Postgres, &have, &want, &[])[..] {
            [Change::DropIndex { expressible, .. }] => assert!(!expressible),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_foreign_key_to_a_renamed_table_is_the_same_key() {
        let fk = |to: &str| ForeignKey {
            name: Some("fk".into()),
            columns: vec!["user_id".into()],
            referenced_table: to.into(),
            referenced_columns: vec!["id".into()],
            on_delete: None,
            on_update: None,
        };
        let prefs = |to: &str| Table {
            name: "prefs".into(),
            columns: vec![id(), col("user_id", "bigint", false)],
            foreign_keys: vec![fk(to)],
            ..Table::default()
        };
        let mut members = users(vec![id()]);
        members.name = "members".into();
        let have = schema(vec![users(vec![id()]), prefs("users")]);
        let want = schema(vec![members, prefs("members")]);
        let hints = ["users=members".parse::<Rename>().unwrap()];
        let found = compare(Dialect::Postgres, &have, &want, &hints);
        assert_eq!(
            found,
            [Change::RenameTable {
                from: "users".into(),
                to: "members".into()
            }]
        );
    }

    #[test]
    fn a_serial_column_is_numbered_as_an_identity_is() {
        let serial = Column {
            default: Some("nextval('users_id_seq'::regclass)".into()),
            ..id()
        };
        let identity = Column {
            identity: Some("by default".into()),
            ..id()
        };
        let have = schema(vec![users(vec![serial])]);
        let want = schema(vec![users(vec![identity])]);
        assert!(compare(Dialect::Postgres, &have, &want, &[]).is_empty());
        // A plain column is not numbered.
        let plain = schema(vec![users(vec![id()])]);
        assert_eq!(compare(Dialect::Postgres, &plain, &want, &[]).len(), 1);
    }

    #[test]
    fn a_different_primary_key_is_reported() {
        let have = schema(vec![users(vec![id(), col("email", "text", false)])]);
        let mut t = users(vec![id(), col("email", "text", false)]);
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["email".into()],
        });
        let found = compare(Dialect::Postgres, &have, &schema(vec![t]), &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "~ primary key of users: (id) → (email)"
        );
    }

    #[test]
    fn renames_parse() {
        assert_eq!(
            "a=b".parse::<Rename>().unwrap(),
            Rename::Table {
                from: "a".into(),
                to: "b".into()
            }
        );
        for column in ["t.a=b", "t.a=t.b"] {
            assert_eq!(
                column.parse::<Rename>().unwrap(),
                Rename::Column {
                    table: "t".into(),
                    from: "a".into(),
                    to: "b".into()
                }
            );
        }
        for bad in ["a", "=b", "a=", "t.a=u.b", "a b=c", "a=b.c"] {
            assert!(bad.parse::<Rename>().is_err(), "{bad}");
        }
    }
}
