//! What two branches of the version graph both touch: the objects each revision's SQL creates,
//! alters, drops, renames or uses ([`effects`]), and where the effects of two sides collide
//! ([`overlaps`]).
//!
//! Why: branches of the graph are written and reviewed apart, and each one is right on its own.
//! Joined, they run one after the other in an order neither author chose: two branches adding
//! the same column fail on whichever runs second, and a branch indexing a column another branch
//! renames fails or silently loses the index. The merge is the first moment both are visible, so
//! `merge` and `check` read what each side does and say where the sides meet, before any
//! database sees them.
//!
//! Pure, like the rest of the crate: the facade (`braid::Project::overlaps`) finds the sides in
//! the graph, reads or renders each revision's upgrade, and calls [`effects`] and [`overlaps`]
//! once per dialect.
//!
//! # Reading a script
//!
//! Statements are split and parsed as [`crate::lint`] parses them (the runner's split, the
//! dialect's sqlparser grammar, MariaDB's `IF [NOT] EXISTS` guards read apart). A statement the
//! parser cannot read, or one that runs code whose effects are not in its text (`CALL`,
//! `EXECUTE`), is listed in [`Effects::not_analysed`] and otherwise ignored: the analysis says
//! what it could not see and never refuses because of it. A SQLite `PRAGMA` only sets the
//! connection and is skipped silently, as the linter skips it.
//!
//! # Names
//!
//! Names are compared as the linter compares them: by their last part, lowercased, quoted or
//! not (`public.Users`, `"users"` and `USERS` are one table). That folds more than Postgres
//! does for a quoted name, deliberately: a spelling mismatch must not hide a collision, and a
//! report too many only costs a look. An object's identity is its kind's namespace, its table
//! when the dialect scopes the name to one, and its name:
//! - tables, views and sequences share one namespace ([`ObjectKind::Table`] for a name a query
//!   reads from, which may be either): every backend refuses a view named like a table;
//! - columns and constraints belong to their table;
//! - an index belongs to its table on MySQL/MariaDB and to the schema on Postgres and SQLite;
//! - a trigger belongs to its table on Postgres and to the schema on MySQL/MariaDB and SQLite;
//! - routines (functions and procedures) are compared by name, whatever their arguments.
//!
//! # The rules
//!
//! Each [`OverlapKind`] is one rule; see its variants. An object reported by a conflicting rule
//! is reported once, by the first rule of: both create (or add), both change the column,
//! dropped in use.
//!
//! # What persistent objects read
//!
//! A data statement reads once; a view, a trigger, a routine, an index, a constraint and a
//! generated column go on reading for as long as they exist. [`statements`] says, statement by
//! statement, what each such object's definition reads ([`Dependency`]): a view's query, a
//! trigger's condition and statements (MySQL's `SET NEW.col = …` and SQLite's `BEGIN … END`
//! included, `NEW` and `OLD` standing for the trigger's table), the columns of an index, a
//! check or a generated expression, a foreign key's tables. A routine's body is text in its own
//! language (plpgsql, a MySQL compound statement): it is read as the names it mentions
//! ([`Reads::Word`]). The deploy-phase rules ([`crate::phase`]) use this to tell when a
//! contract revision removes what an expand revision left reading.
//!
//! # Limits
//!
//! Only what the SQL text says is seen: a routine's body as effects (beyond the names it
//! mentions), a `DO` block and dynamic SQL are opaque, and a routine counts as used only by a
//! trigger that executes it. The columns and checks of a table created by the same statement
//! live and die with it and are not read as dependencies.
//! A query's unqualified column belongs to a table only when the query reads from one relation;
//! qualified columns are resolved through the query's table names and aliases. Columns of a
//! `USING` join clause, `ORDER BY` expressions and rarer expression forms are not read. A
//! constraint name shared by two tables on MySQL (where foreign key names are per schema) is
//! not seen as a collision, nor an index and a `UNIQUE` constraint of the same name.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use braid_driver::Dialect;
use serde::Serialize;
use sqlparser::ast::{
    AlterIndexOperation, AlterTable, AlterTableOperation, AlterViewOperation, AssignmentTarget,
    ColumnOption, CreateIndex, CreateTable, CreateTableLikeKind, CreateTrigger, Delete,
    DollarQuotedString, DropTrigger, Expr, ForeignKeyConstraint, FromTable, FunctionArg,
    FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, InTarget, IndexColumn, Insert,
    JoinConstraint, JoinOperator, ObjectName, ObjectType, Query, RenameTableNameKind, Select,
    SelectItem, SelectItemQualifiedWildcardKind, Set, SetExpr, Statement, TableConstraint,
    TableFactor, TableObject, TableWithJoins, TriggerEvent, Update, UpdateTableFromKind,
};
use sqlparser::tokenizer::Token;

use crate::finding::excerpt;
use crate::names::{ident_key, key};
use crate::parse::{self, Stmt};

/// The column name that stands for every column of a table: what `SELECT *` reads.
pub(crate) const EVERY_COLUMN: &str = "*";

/// What kind of object an effect is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A table, or any relation a query reads from (a view, too: the text does not say which).
    Table,
    View,
    Sequence,
    Column,
    Index,
    Constraint,
    /// A function or a procedure.
    Routine,
    Trigger,
}

impl ObjectKind {
    /// The word a message uses for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::View => "view",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Column => "column",
            ObjectKind::Index => "index",
            ObjectKind::Constraint => "constraint",
            ObjectKind::Routine => "routine",
            ObjectKind::Trigger => "trigger",
        }
    }

    /// The namespace its names live in: tables, views and sequences share one.
    fn space(self) -> Space {
        match self {
            ObjectKind::Table | ObjectKind::View | ObjectKind::Sequence => Space::Relation,
            ObjectKind::Column => Space::Column,
            ObjectKind::Index => Space::Index,
            ObjectKind::Constraint => Space::Constraint,
            ObjectKind::Routine => Space::Routine,
            ObjectKind::Trigger => Space::Trigger,
        }
    }

    /// Whether it is a part of a table that a branch adds to it: both adding one is
    /// [`OverlapKind::BothAdd`] rather than [`OverlapKind::BothCreate`].
    fn is_part_of_a_table(self) -> bool {
        matches!(
            self,
            ObjectKind::Column | ObjectKind::Index | ObjectKind::Constraint
        )
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An object a statement acts on, named as it is compared (see the module docs: last part,
/// lowercased).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Object {
    pub kind: ObjectKind,
    /// The table it belongs to, when its name is scoped to one on the dialect read (columns,
    /// constraints, MySQL indexes, Postgres triggers).
    pub table: Option<String>,
    /// Its name; `*` for "every column" (what `SELECT *` reads).
    pub name: String,
}

impl Object {
    fn named(kind: ObjectKind, name: String) -> Object {
        Object {
            kind,
            table: None,
            name,
        }
    }

    fn on(kind: ObjectKind, table: Option<&str>, name: String) -> Object {
        Object {
            kind,
            table: table.map(str::to_string),
            name,
        }
    }

    fn table(name: &str) -> Object {
        Object::named(ObjectKind::Table, name.to_string())
    }

    fn column(table: &str, name: String) -> Object {
        Object::on(ObjectKind::Column, Some(table), name)
    }

    /// What it is compared by.
    fn key(&self) -> Key {
        Key {
            space: self.kind.space(),
            table: self.table.clone(),
            name: self.name.clone(),
        }
    }

    /// The table it belongs to, as a relation: dropping that table affects it.
    fn owner(&self) -> Option<Key> {
        self.table.as_ref().map(|table| Key {
            space: Space::Relation,
            table: None,
            name: table.clone(),
        })
    }

    /// The same object under another name: what a rename makes.
    fn renamed(&self, to: &str) -> Object {
        Object {
            name: to.to_string(),
            ..self.clone()
        }
    }

    /// Whether `other` names the same object (a table and a view of one name are one
    /// relation).
    pub(crate) fn same(&self, other: &Object) -> bool {
        self.key() == other.key()
    }

    /// Whether it is a table, a view or a sequence: something a query reads from.
    pub(crate) fn is_relation(&self) -> bool {
        self.kind.space() == Space::Relation
    }

    /// How a lint message names it: `` trigger `tg` ``, `` column `plans.price` ``,
    /// `` constraint `c` on `plans` ``, or `` an unnamed index on `plans` ``.
    pub(crate) fn described(&self) -> String {
        match (&self.table, self.name.is_empty()) {
            (Some(table), true) => format!("an unnamed {} on `{table}`", self.kind),
            (None, true) => format!("an unnamed {}", self.kind),
            (Some(table), false) if self.kind == ObjectKind::Column => {
                format!("column `{table}.{}`", self.name)
            }
            (Some(table), false) => format!("{} `{}` on `{table}`", self.kind, self.name),
            (None, false) => format!("{} `{}`", self.kind, self.name),
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.table {
            Some(table) => write!(f, "{} {table}.{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What a statement does to an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Creates it (`CREATE OR REPLACE` too: it replaces whatever definition was there).
    Create,
    /// Changes its definition: a table's columns or options, a column's type, default or
    /// nullability, a view's query.
    Alter,
    Drop,
    /// Renames it; `to` is the new name, compared as names are.
    Rename {
        to: String,
    },
    /// Depends on it without changing it: reads, writes rows of, indexes, references by a
    /// foreign key, executes.
    Use,
}

/// One thing one statement does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Effect {
    pub object: Object,
    pub action: Action,
}

impl Effect {
    /// Whether it makes `object` exist: creates it, or renames something to its name.
    pub(crate) fn creates(&self, object: &Object) -> bool {
        match &self.action {
            Action::Create => self.object.same(object),
            Action::Rename { to } => self.object.renamed(to).same(object),
            _ => false,
        }
    }
}

/// A statement whose effects are not known, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadStatement {
    /// The 1-based line of the script where it starts.
    pub line: usize,
    /// The statement, shortened to one line.
    pub statement: String,
    pub reason: String,
}

/// What one script does, as far as its text says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Effects {
    /// Each effect once, in the order the script first has it.
    pub effects: Vec<Effect>,
    pub not_analysed: Vec<UnreadStatement>,
}

/// What `script` does on `dialect`: every object it creates, alters, drops, renames or uses,
/// and the statements it could not read. Never panics, whatever the text.
pub fn effects(script: &str, dialect: Dialect) -> Effects {
    let mut out = Effects::default();
    for statement in statements(script, dialect) {
        if let Some(unread) = statement.unread {
            out.not_analysed.push(unread);
            continue;
        }
        for effect in statement.effects {
            if !out.effects.contains(&effect) {
                out.effects.push(effect);
            }
        }
    }
    out
}

/// What one statement does, and what the objects it defines go on reading once it has run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementEffects {
    /// The 1-based line of the script where it starts.
    pub line: usize,
    /// Each effect once, in the order the statement has it; empty when it was not read.
    pub effects: Vec<Effect>,
    /// What the views, triggers, routines, indexes, constraints and generated columns it
    /// defines read: unlike a data statement, which reads once, they read for as long as they
    /// exist.
    pub dependencies: Vec<Dependency>,
    /// Why its effects are not known, when they are not.
    pub unread: Option<UnreadStatement>,
}

/// Something a persistent object's definition reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Dependency {
    /// The object that reads: a view, a trigger, a routine, an index, a constraint, a
    /// generated column. An index or constraint created without a name has an empty name.
    pub dependent: Object,
    /// The table it is defined on (a trigger's, an index's, a constraint's, a generated
    /// column's): it goes when that table goes.
    pub on: Option<String>,
    pub reads: Reads,
}

/// What a dependency reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "reads", content = "what", rename_all = "snake_case")]
pub enum Reads {
    /// An object its definition names: a table, a column (`*` for every column), a routine.
    Object(Object),
    /// A name a routine's body mentions. The body is text in the routine's own language
    /// (plpgsql, a MySQL compound statement), read as the names it mentions: it reads any
    /// column or table of that name.
    Word(String),
}

/// What each statement of `script` does on `dialect`, in script order: one
/// [`StatementEffects`] per statement the runner runs. Never panics, whatever the text.
pub fn statements(script: &str, dialect: Dialect) -> Vec<StatementEffects> {
    read_statements(&parse::read(script, dialect), dialect)
}

/// [`statements`] for a script already split and parsed.
pub(crate) fn read_statements(stmts: &[Stmt], dialect: Dialect) -> Vec<StatementEffects> {
    let mut temporary = Vec::new();
    stmts
        .iter()
        .map(|stmt| read_statement(stmt, dialect, &mut temporary))
        .collect()
}

fn read_statement(stmt: &Stmt, dialect: Dialect, temporary: &mut Vec<String>) -> StatementEffects {
    let mut out = StatementEffects {
        line: stmt.line,
        effects: Vec::new(),
        dependencies: Vec::new(),
        unread: unread(stmt, dialect).map(|reason| UnreadStatement {
            line: stmt.line,
            statement: excerpt(&stmt.text),
            reason,
        }),
    };
    if out.unread.is_some() {
        return out;
    }
    let mut reader = Reader {
        dialect,
        effects: &mut out.effects,
        dependencies: &mut out.dependencies,
        temporary,
        dependent: None,
        base: Scope::default(),
    };
    for tree in &stmt.trees {
        reader.statement(tree);
        if let Some(routine) = routine_created(tree) {
            reader.mentions(routine, stmt);
        }
    }
    out
}

/// The routine a statement creates, if it creates one.
fn routine_created(tree: &Statement) -> Option<&ObjectName> {
    match tree {
        Statement::CreateFunction(function) => Some(&function.name),
        Statement::CreateProcedure { name, .. } => Some(name),
        _ => None,
    }
}

/// The names a statement mentions, lowercased, each once: its words, and the words of its
/// string literals (a routine's body is one, dollar-quoted or not).
fn mentioned(stmt: &Stmt) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut add = |word: &str| {
        let word = word.to_lowercase();
        if !word.is_empty() && !words.contains(&word) {
            words.push(word);
        }
    };
    for token in &stmt.tokens {
        match token {
            Token::Word(w) => add(&w.value),
            Token::SingleQuotedString(text)
            | Token::DollarQuotedString(DollarQuotedString { value: text, .. }) => {
                for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
                    add(word);
                }
            }
            _ => {}
        }
    }
    words
}

/// Why the effects of `stmt` cannot be known from its text, if they cannot.
fn unread(stmt: &Stmt, dialect: Dialect) -> Option<String> {
    if let Some(error) = &stmt.error {
        if dialect == Dialect::Sqlite && stmt.starts_with(&["pragma"]) {
            return None;
        }
        return Some(format!("sqlparser could not read it ({error})"));
    }
    stmt.trees
        .iter()
        .any(|tree| matches!(tree, Statement::Call(_) | Statement::Execute { .. }))
        .then(|| "it runs code whose effects are not in its text".to_string())
}

/// The relations a query's column names can refer to.
#[derive(Debug, Clone, Default)]
struct Scope {
    /// Each name a column can be qualified with (a table's name or its alias) and the table it
    /// stands for (`None`: a derived table or a CTE), outer queries' first.
    names: Vec<(String, Option<String>)>,
    /// Where this query's own relations start in `names`.
    own: usize,
    /// The CTE names visible here: a relation of that name is no table.
    ctes: Vec<String>,
}

impl Scope {
    /// The scope of an expression on one table: a check, an index, a generated column.
    fn of_table(table: &str) -> Scope {
        Scope {
            names: vec![(table.to_string(), Some(table.to_string()))],
            own: 0,
            ctes: Vec::new(),
        }
    }

    /// The scope of a trigger's body on `table`: `NEW` and `OLD` are its row.
    fn of_rows(table: &str) -> Scope {
        let names = vec![
            ("new".to_string(), Some(table.to_string())),
            ("old".to_string(), Some(table.to_string())),
        ];
        Scope {
            own: names.len(),
            names,
            ctes: Vec::new(),
        }
    }

    /// The scope of a query nested in this one, reading from `own`.
    fn inner(&self, own: Vec<(String, Option<String>)>) -> Scope {
        let mut names = self.names.clone();
        let start = names.len();
        names.extend(own);
        Scope {
            names,
            own: start,
            ctes: self.ctes.clone(),
        }
    }

    /// The tables this query itself reads from.
    fn own_tables(&self) -> impl Iterator<Item = &str> + '_ {
        self.names[self.own.min(self.names.len())..]
            .iter()
            .filter_map(|(_, table)| table.as_deref())
    }

    /// The table an unqualified column belongs to: the query's only relation.
    fn single(&self) -> Option<&str> {
        match &self.names[self.own.min(self.names.len())..] {
            [(_, table)] => table.as_deref(),
            _ => None,
        }
    }

    /// The table a qualifier names, the innermost first.
    fn table_of(&self, qualifier: &str) -> Option<&str> {
        self.names
            .iter()
            .rev()
            .find(|(name, _)| name == qualifier)
            .and_then(|(_, table)| table.as_deref())
    }
}

/// The object whose definition is being read, and the table it is defined on.
#[derive(Debug, Clone)]
struct Dependent {
    object: Object,
    on: Option<String>,
}

/// Collects the effects of parsed statements.
struct Reader<'a> {
    dialect: Dialect,
    effects: &'a mut Vec<Effect>,
    dependencies: &'a mut Vec<Dependency>,
    /// The script's temporary tables: a scratch table lives and dies within the session that
    /// runs the script, so nothing done to it meets another branch.
    temporary: &'a mut Vec<String>,
    /// While a persistent object's definition is read: that object. What it uses is also a
    /// [`Dependency`] of it.
    dependent: Option<Dependent>,
    /// The names every query of the statement can qualify a column with: a trigger body's
    /// `NEW` and `OLD`; none elsewhere.
    base: Scope,
}

impl Reader<'_> {
    fn push(&mut self, object: Object, action: Action) {
        let relation = object.table.as_ref().unwrap_or(&object.name);
        if self.temporary.contains(relation) {
            return;
        }
        if action == Action::Use
            && let Some(dependent) = &self.dependent
        {
            let dependency = Dependency {
                dependent: dependent.object.clone(),
                on: dependent.on.clone(),
                reads: Reads::Object(object.clone()),
            };
            if !self.dependencies.contains(&dependency) {
                self.dependencies.push(dependency);
            }
        }
        let effect = Effect { object, action };
        if !self.effects.contains(&effect) {
            self.effects.push(effect);
        }
    }

    /// Reads the definition of `object` (defined on `on`) with `read`: what it uses is a
    /// dependency of `object`.
    fn defining(&mut self, object: Object, on: Option<&str>, read: impl FnOnce(&mut Self)) {
        let outer = self.dependent.replace(Dependent {
            object,
            on: on.map(str::to_string),
        });
        read(self);
        self.dependent = outer;
    }

    /// A routine's body, as the names the statement mentions (see [`Reads::Word`]).
    fn mentions(&mut self, routine: &ObjectName, stmt: &Stmt) {
        let dependent = Object::named(ObjectKind::Routine, key(routine));
        for word in mentioned(stmt) {
            let dependency = Dependency {
                dependent: dependent.clone(),
                on: None,
                reads: Reads::Word(word),
            };
            if !self.dependencies.contains(&dependency) {
                self.dependencies.push(dependency);
            }
        }
    }

    fn rename(&mut self, object: Object, to: String) {
        self.push(object, Action::Rename { to });
    }

    fn use_table(&mut self, table: &str) {
        self.push(Object::table(table), Action::Use);
    }

    fn use_column(&mut self, table: &str, column: &Ident) {
        self.push(Object::column(table, ident_key(column)), Action::Use);
    }

    /// The table an index's name is scoped to: its own on MySQL/MariaDB, none (the schema)
    /// elsewhere.
    fn index_table<'t>(&self, table: Option<&'t str>) -> Option<&'t str> {
        table.filter(|_| self.dialect == Dialect::Mysql)
    }

    /// The table a trigger's name is scoped to: its own on Postgres, none elsewhere.
    fn trigger_table<'t>(&self, table: Option<&'t str>) -> Option<&'t str> {
        table.filter(|_| self.dialect == Dialect::Postgres)
    }

    fn statement(&mut self, tree: &Statement) {
        match tree {
            Statement::CreateTable(create) => self.create_table(create),
            Statement::AlterTable(alter) => self.alter_table(alter),
            Statement::CreateIndex(index) => self.create_index(index),
            Statement::Drop {
                object_type,
                names,
                table,
                ..
            } => self.drop(*object_type, names, table.as_ref()),
            Statement::RenameTable(renames) => {
                for r in renames {
                    self.rename(Object::table(&key(&r.old_name)), key(&r.new_name));
                }
            }
            Statement::AlterIndex {
                name,
                operation: AlterIndexOperation::RenameIndex { index_name },
            } => self.rename(Object::named(ObjectKind::Index, key(name)), key(index_name)),
            Statement::CreateView(view) => {
                let object = Object::named(ObjectKind::View, key(&view.name));
                self.push(object.clone(), Action::Create);
                let base = self.base.clone();
                self.defining(object, None, |r| r.query(&view.query, &base));
            }
            Statement::AlterView(view) => {
                let object = Object::named(ObjectKind::View, key(&view.name));
                self.push(object.clone(), Action::Alter);
                match &view.operation {
                    AlterViewOperation::As { query, .. } => {
                        let base = self.base.clone();
                        self.defining(object, None, |r| r.query(query, &base));
                    }
                    AlterViewOperation::RenameTo { new_name } => {
                        self.rename(object, key(new_name));
                    }
                    _ => {}
                }
            }
            Statement::CreateFunction(function) => self.routine(&function.name, Action::Create),
            Statement::CreateProcedure { name, .. } => self.routine(name, Action::Create),
            Statement::DropFunction(drop) => {
                for function in &drop.func_desc {
                    self.routine(&function.name, Action::Drop);
                }
            }
            Statement::DropProcedure { proc_desc, .. } => {
                for procedure in proc_desc {
                    self.routine(&procedure.name, Action::Drop);
                }
            }
            Statement::CreateTrigger(trigger) => self.create_trigger(trigger),
            Statement::DropTrigger(trigger) => self.drop_trigger(trigger),
            Statement::CreateSequence { name, .. } => {
                self.push(
                    Object::named(ObjectKind::Sequence, key(name)),
                    Action::Create,
                );
            }
            Statement::Insert(insert) => self.insert(insert),
            Statement::Update(update) => self.update(update),
            Statement::Delete(delete) => self.delete(delete),
            Statement::Query(query) => {
                let base = self.base.clone();
                self.query(query, &base);
            }
            Statement::Set(set) => self.set(set),
            _ => {}
        }
    }

    fn routine(&mut self, name: &ObjectName, action: Action) {
        self.push(Object::named(ObjectKind::Routine, key(name)), action);
    }

    /// A new table, and the tables its foreign keys, `LIKE` or `AS SELECT` read. Its own
    /// columns and constraints are not listed: they live and die with it.
    fn create_table(&mut self, create: &CreateTable) {
        match create.temporary {
            true => self.temporary.push(key(&create.name)),
            false => self.push(Object::table(&key(&create.name)), Action::Create),
        }
        for column in &create.columns {
            for option in &column.options {
                if let ColumnOption::ForeignKey(fk) = &option.option {
                    self.references(fk);
                }
            }
        }
        for constraint in &create.constraints {
            if let TableConstraint::ForeignKey(fk) = constraint {
                self.references(fk);
            }
        }
        if let Some(query) = &create.query {
            let base = self.base.clone();
            self.query(query, &base);
        }
        if let Some(CreateTableLikeKind::Parenthesized(like) | CreateTableLikeKind::Plain(like)) =
            &create.like
        {
            self.use_table(&key(&like.name));
        }
        if let Some(clone) = &create.clone {
            self.use_table(&key(clone));
        }
    }

    /// The table a foreign key refers to, and its columns.
    fn references(&mut self, fk: &ForeignKeyConstraint) {
        let table = key(&fk.foreign_table);
        self.use_table(&table);
        for column in &fk.referred_columns {
            self.use_column(&table, column);
        }
    }

    /// Every operation, and the table altered unless the statement only renames it.
    fn alter_table(&mut self, alter: &AlterTable) {
        let table = key(&alter.name);
        let changes_definition = alter
            .operations
            .iter()
            .any(|op| !matches!(op, AlterTableOperation::RenameTable { .. }));
        if changes_definition {
            self.push(Object::table(&table), Action::Alter);
        }
        for op in &alter.operations {
            self.alter_op(&table, op);
        }
    }

    fn alter_op(&mut self, table: &str, op: &AlterTableOperation) {
        let column = |name: &Ident| Object::column(table, ident_key(name));
        let constraint =
            |name: &Ident| Object::on(ObjectKind::Constraint, Some(table), ident_key(name));
        match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                self.push(column(&column_def.name), Action::Create);
                for option in &column_def.options {
                    self.column_option(
                        table,
                        &column_def.name,
                        option.name.as_ref(),
                        &option.option,
                    );
                }
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for name in column_names {
                    self.push(column(name), Action::Drop);
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => self.rename(column(old_column_name), ident_key(new_column_name)),
            // MySQL's CHANGE renames when the names differ, and redefines the column either way.
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                options,
                ..
            } => {
                if ident_key(old_name) == ident_key(new_name) {
                    self.push(column(old_name), Action::Alter);
                } else {
                    self.rename(column(old_name), ident_key(new_name));
                }
                for option in options {
                    self.column_option(table, new_name, None, option);
                }
            }
            AlterTableOperation::ModifyColumn {
                col_name, options, ..
            } => {
                self.push(column(col_name), Action::Alter);
                for option in options {
                    self.column_option(table, col_name, None, option);
                }
            }
            AlterTableOperation::AlterColumn { column_name, .. } => {
                self.push(column(column_name), Action::Alter);
            }
            AlterTableOperation::AddConstraint { constraint, .. } => {
                self.add_constraint(table, constraint);
            }
            AlterTableOperation::DropConstraint { name, .. }
            | AlterTableOperation::DropForeignKey { name, .. } => {
                self.push(constraint(name), Action::Drop);
            }
            AlterTableOperation::DropPrimaryKey { .. } => {
                // MySQL's name for a primary key.
                self.push(constraint(&Ident::new("primary")), Action::Drop);
            }
            AlterTableOperation::DropIndex { name } => {
                let index = Object::on(
                    ObjectKind::Index,
                    self.index_table(Some(table)),
                    ident_key(name),
                );
                self.push(index, Action::Drop);
            }
            AlterTableOperation::RenameConstraint { old_name, new_name } => {
                self.rename(constraint(old_name), ident_key(new_name));
            }
            AlterTableOperation::RenameTable {
                table_name: RenameTableNameKind::To(to) | RenameTableNameKind::As(to),
            } => self.rename(Object::table(table), key(to)),
            _ => {}
        }
    }

    /// What the definition of `column` of `table` refers to: a foreign key's table, the
    /// columns of a generated expression or a check. `name` is the constraint's, when named.
    fn column_option(
        &mut self,
        table: &str,
        column: &Ident,
        name: Option<&Ident>,
        option: &ColumnOption,
    ) {
        let scope = Scope::of_table(table);
        let constraint = Object::on(
            ObjectKind::Constraint,
            Some(table),
            name.map(ident_key).unwrap_or_default(),
        );
        match option {
            ColumnOption::ForeignKey(fk) => {
                self.defining(constraint, Some(table), |r| r.references(fk));
            }
            ColumnOption::Check(check) => {
                self.defining(constraint, Some(table), |r| r.expr(&check.expr, &scope));
            }
            ColumnOption::Generated {
                generation_expr: Some(expr),
                ..
            } => {
                let generated = Object::column(table, ident_key(column));
                self.defining(generated, Some(table), |r| r.expr(expr, &scope));
            }
            _ => {}
        }
    }

    /// A constraint (or a MySQL index) added to an existing table: created when named, and
    /// the columns and tables it depends on.
    fn add_constraint(&mut self, table: &str, constraint: &TableConstraint) {
        let (kind, name) = match constraint {
            TableConstraint::Index(index) => (ObjectKind::Index, index.name.as_ref()),
            TableConstraint::FulltextOrSpatial(index) => {
                (ObjectKind::Index, index.opt_index_name.as_ref())
            }
            other => (ObjectKind::Constraint, constraint_name(other)),
        };
        let owner = match (kind, name) {
            (ObjectKind::Index, Some(_)) => self.index_table(Some(table)),
            _ => Some(table),
        };
        let object = Object::on(kind, owner, name.map(ident_key).unwrap_or_default());
        if name.is_some() {
            self.push(object.clone(), Action::Create);
        }
        self.defining(object, Some(table), |r| {
            r.constraint_uses(table, constraint)
        });
    }

    /// The columns and tables a constraint of `table` depends on.
    fn constraint_uses(&mut self, table: &str, constraint: &TableConstraint) {
        let scope = Scope::of_table(table);
        match constraint {
            TableConstraint::Index(index) => self.index_columns(&index.columns, &scope),
            TableConstraint::FulltextOrSpatial(index) => {
                self.index_columns(&index.columns, &scope);
            }
            TableConstraint::Unique(unique) => self.index_columns(&unique.columns, &scope),
            TableConstraint::PrimaryKey(key) => self.index_columns(&key.columns, &scope),
            TableConstraint::Check(check) => self.expr(&check.expr, &scope),
            TableConstraint::ForeignKey(fk) => {
                for column in &fk.columns {
                    self.use_column(table, column);
                }
                self.references(fk);
            }
            _ => {}
        }
    }

    fn index_columns(&mut self, columns: &[IndexColumn], scope: &Scope) {
        for column in columns {
            self.expr(&column.column.expr, scope);
        }
    }

    /// A new index: it changes its table and uses the columns it covers.
    fn create_index(&mut self, index: &CreateIndex) {
        let table = key(&index.table_name);
        self.push(Object::table(&table), Action::Alter);
        // An unnamed index is named after its table, for messages.
        let object = match &index.name {
            Some(name) => Object::on(ObjectKind::Index, self.index_table(Some(&table)), key(name)),
            None => Object::on(ObjectKind::Index, Some(&table), String::new()),
        };
        if index.name.is_some() {
            self.push(object.clone(), Action::Create);
        }
        self.defining(object, Some(&table), |r| r.index_uses(&table, index));
    }

    /// The columns an index of `table` covers, includes and filters on.
    fn index_uses(&mut self, table: &str, index: &CreateIndex) {
        let scope = Scope::of_table(table);
        self.index_columns(&index.columns, &scope);
        for column in &index.include {
            self.use_column(table, column);
        }
        if let Some(predicate) = &index.predicate {
            self.expr(predicate, &scope);
        }
    }

    fn drop(&mut self, object_type: ObjectType, names: &[ObjectName], table: Option<&ObjectName>) {
        let kind = match object_type {
            ObjectType::Table => ObjectKind::Table,
            ObjectType::View | ObjectType::MaterializedView => ObjectKind::View,
            ObjectType::Sequence => ObjectKind::Sequence,
            ObjectType::Index => ObjectKind::Index,
            _ => return,
        };
        let table = table.map(key);
        if let Some(table) = &table {
            self.push(Object::table(table), Action::Alter);
        }
        let owner = match kind {
            ObjectKind::Index => self.index_table(table.as_deref()),
            _ => None,
        };
        for name in names {
            self.push(Object::on(kind, owner, key(name)), Action::Drop);
        }
    }

    /// A trigger changes its table, and uses the routine it executes and what its condition
    /// and its statements read.
    fn create_trigger(&mut self, trigger: &CreateTrigger) {
        let table = key(&trigger.table_name);
        self.push(Object::table(&table), Action::Alter);
        let owner = self.trigger_table(Some(&table));
        let object = Object::on(ObjectKind::Trigger, owner, key(&trigger.name));
        self.push(object.clone(), Action::Create);
        self.defining(object, Some(&table), |r| r.trigger_body(trigger, &table));
    }

    /// What a trigger on `table` reads each time it fires. Its statements and condition
    /// qualify the row's columns with `NEW` and `OLD`.
    fn trigger_body(&mut self, trigger: &CreateTrigger, table: &str) {
        if let Some(body) = &trigger.exec_body {
            self.routine(&body.func_desc.name, Action::Use);
        }
        for event in &trigger.events {
            if let TriggerEvent::Update(columns) = event {
                for column in columns {
                    self.use_column(table, column);
                }
            }
        }
        let rows = Scope::of_rows(table);
        if let Some(condition) = &trigger.condition {
            self.expr(condition, &rows);
        }
        if let Some(statements) = &trigger.statements {
            let outer = std::mem::replace(&mut self.base, rows);
            for statement in statements.statements() {
                self.statement(statement);
            }
            self.base = outer;
        }
    }

    /// A `SET`: in a MySQL trigger, `SET NEW.col = …` writes a column of the row and reads
    /// what the values read; elsewhere it sets a variable, which touches no object.
    fn set(&mut self, set: &Set) {
        let (targets, values): (Vec<&ObjectName>, Vec<&Expr>) = match set {
            Set::SingleAssignment {
                variable, values, ..
            } => (vec![variable], values.iter().collect()),
            Set::ParenthesizedAssignments { variables, values } => {
                (variables.iter().collect(), values.iter().collect())
            }
            Set::MultipleAssignments { assignments } => (
                assignments.iter().map(|a| &a.name).collect(),
                assignments.iter().map(|a| &a.value).collect(),
            ),
            _ => return,
        };
        let scope = self.base.clone();
        for target in targets {
            let parts: Vec<&Ident> = target.0.iter().filter_map(|p| p.as_ident()).collect();
            if let [.., qualifier, column] = parts.as_slice()
                && let Some(table) = scope.table_of(&ident_key(qualifier)).map(str::to_string)
            {
                self.use_column(&table, column);
            }
        }
        for value in values {
            self.expr(value, &scope);
        }
    }

    fn drop_trigger(&mut self, trigger: &DropTrigger) {
        let table = trigger.table_name.as_ref().map(key);
        if let Some(table) = &table {
            self.push(Object::table(table), Action::Alter);
        }
        let owner = self.trigger_table(table.as_deref());
        self.push(
            Object::on(ObjectKind::Trigger, owner, key(&trigger.trigger_name)),
            Action::Drop,
        );
    }

    /// Rows written: the table, the columns named, and what the source query reads.
    fn insert(&mut self, insert: &Insert) {
        if let TableObject::TableName(name) = &insert.table {
            let table = key(name);
            self.use_table(&table);
            for column in &insert.columns {
                if let Some(column) = column.0.last().and_then(|part| part.as_ident()) {
                    self.use_column(&table, column);
                }
            }
            let scope = Scope::of_table(&table);
            for assignment in &insert.assignments {
                self.assignment_target(&assignment.target, &table, &scope);
                self.expr(&assignment.value, &scope);
            }
        }
        if let Some(source) = &insert.source {
            let base = self.base.clone();
            self.query(source, &base);
        }
    }

    /// Rows changed: the tables, the columns set, and what the conditions read.
    fn update(&mut self, update: &Update) {
        let base = self.base.clone();
        let mut own = Vec::new();
        self.table_with_joins(&update.table, &base, &mut own);
        let target = own.first().and_then(|(_, table)| table.clone());
        if let Some(UpdateTableFromKind::BeforeSet(from) | UpdateTableFromKind::AfterSet(from)) =
            &update.from
        {
            for relation in from {
                self.table_with_joins(relation, &base, &mut own);
            }
        }
        let scope = base.inner(own);
        for assignment in &update.assignments {
            if let Some(target) = &target {
                self.assignment_target(&assignment.target, target, &scope);
            }
            self.expr(&assignment.value, &scope);
        }
        if let Some(selection) = &update.selection {
            self.expr(selection, &scope);
        }
    }

    /// The column an assignment sets: of the qualified table, else of `table`.
    fn assignment_target(&mut self, target: &AssignmentTarget, table: &str, scope: &Scope) {
        let names = match target {
            AssignmentTarget::ColumnName(name) => std::slice::from_ref(name),
            AssignmentTarget::Tuple(names) => names.as_slice(),
        };
        for name in names {
            let parts: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
            let owner = match parts.as_slice() {
                [.., qualifier, _] => scope.table_of(&ident_key(qualifier)),
                _ => Some(table),
            };
            if let (Some(owner), Some(column)) = (owner, parts.last()) {
                let owner = owner.to_string();
                self.use_column(&owner, column);
            }
        }
    }

    fn delete(&mut self, delete: &Delete) {
        let base = self.base.clone();
        let mut own = Vec::new();
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
        for relation in from.iter().chain(delete.using.iter().flatten()) {
            self.table_with_joins(relation, &base, &mut own);
        }
        let scope = base.inner(own);
        if let Some(selection) = &delete.selection {
            self.expr(selection, &scope);
        }
    }

    fn query(&mut self, query: &Query, outer: &Scope) {
        let mut scope = outer.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                // Pushed first: a recursive CTE reads itself.
                scope.ctes.push(ident_key(&cte.alias.name));
                self.query(&cte.query, &scope);
            }
        }
        self.set_expr(&query.body, &scope);
    }

    fn set_expr(&mut self, body: &SetExpr, scope: &Scope) {
        match body {
            SetExpr::Select(select) => self.select(select, scope),
            SetExpr::Query(query) => self.query(query, scope),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, scope);
                self.set_expr(right, scope);
            }
            SetExpr::Values(values) => {
                for row in &values.rows {
                    for expr in &row.content {
                        self.expr(expr, scope);
                    }
                }
            }
            SetExpr::Insert(statement)
            | SetExpr::Update(statement)
            | SetExpr::Delete(statement)
            | SetExpr::Merge(statement) => self.statement(statement),
            _ => {}
        }
    }

    fn select(&mut self, select: &Select, outer: &Scope) {
        let mut own = Vec::new();
        for relation in &select.from {
            self.table_with_joins(relation, outer, &mut own);
        }
        let scope = outer.inner(own);
        for item in &select.projection {
            self.select_item(item, &scope);
        }
        let joins = select.from.iter().flat_map(|relation| &relation.joins);
        for join in joins {
            if let Some(JoinConstraint::On(on)) = join_constraint(&join.join_operator) {
                self.expr(on, &scope);
            }
        }
        let conditions = select.selection.iter().chain(&select.having);
        for expr in conditions {
            self.expr(expr, &scope);
        }
        if let GroupByExpr::Expressions(exprs, _) = &select.group_by {
            for expr in exprs {
                self.expr(expr, &scope);
            }
        }
    }

    fn select_item(&mut self, item: &SelectItem, scope: &Scope) {
        match item {
            SelectItem::UnnamedExpr(expr)
            | SelectItem::ExprWithAlias { expr, .. }
            | SelectItem::ExprWithAliases { expr, .. } => self.expr(expr, scope),
            SelectItem::Wildcard(_) => {
                let tables: Vec<String> = scope.own_tables().map(str::to_string).collect();
                for table in tables {
                    self.push(Object::column(&table, EVERY_COLUMN.into()), Action::Use);
                }
            }
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                if let Some(table) = scope.table_of(&key(name)).map(str::to_string) {
                    self.push(Object::column(&table, EVERY_COLUMN.into()), Action::Use);
                }
            }
            SelectItem::QualifiedWildcard(..) => {}
        }
    }

    fn table_with_joins(
        &mut self,
        relation: &TableWithJoins,
        outer: &Scope,
        own: &mut Vec<(String, Option<String>)>,
    ) {
        self.table_factor(&relation.relation, outer, own);
        for join in &relation.joins {
            self.table_factor(&join.relation, outer, own);
        }
    }

    /// A relation a query reads: a table is used; a derived table's query is read. Each adds
    /// the name its columns are qualified with to `own`.
    fn table_factor(
        &mut self,
        factor: &TableFactor,
        outer: &Scope,
        own: &mut Vec<(String, Option<String>)>,
    ) {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let table = key(name);
                let called = alias
                    .as_ref()
                    .map(|a| ident_key(&a.name))
                    .unwrap_or_else(|| table.clone());
                if outer.ctes.contains(&table) {
                    own.push((called, None));
                } else {
                    self.use_table(&table);
                    own.push((called, Some(table)));
                }
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                self.query(subquery, outer);
                let called = alias.as_ref().map(|a| ident_key(&a.name));
                own.push((called.unwrap_or_default(), None));
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(table_with_joins, outer, own),
            _ => {}
        }
    }

    /// The columns and subqueries of an expression, for the common forms (see the module
    /// docs' limits).
    fn expr(&mut self, expr: &Expr, scope: &Scope) {
        match expr {
            Expr::Identifier(column) => {
                if let Some(table) = scope.single().map(str::to_string) {
                    self.use_column(&table, column);
                }
            }
            Expr::CompoundIdentifier(parts) => {
                if let [.., qualifier, column] = parts.as_slice()
                    && let Some(table) = scope.table_of(&ident_key(qualifier)).map(str::to_string)
                {
                    self.use_column(&table, column);
                }
            }
            Expr::BinaryOp { left, right, .. }
            | Expr::AnyOp { left, right, .. }
            | Expr::AllOp { left, right, .. }
            | Expr::IsDistinctFrom(left, right)
            | Expr::IsNotDistinctFrom(left, right)
            | Expr::Like {
                expr: left,
                pattern: right,
                ..
            }
            | Expr::ILike {
                expr: left,
                pattern: right,
                ..
            }
            | Expr::SimilarTo {
                expr: left,
                pattern: right,
                ..
            } => {
                self.expr(left, scope);
                self.expr(right, scope);
            }
            Expr::UnaryOp { expr, .. }
            | Expr::Nested(expr)
            | Expr::IsNull(expr)
            | Expr::IsNotNull(expr)
            | Expr::IsTrue(expr)
            | Expr::IsNotTrue(expr)
            | Expr::IsFalse(expr)
            | Expr::IsNotFalse(expr)
            | Expr::Cast { expr, .. }
            | Expr::Collate { expr, .. }
            | Expr::Extract { expr, .. } => self.expr(expr, scope),
            Expr::Between {
                expr, low, high, ..
            } => {
                for e in [expr, low, high] {
                    self.expr(e, scope);
                }
            }
            Expr::In { expr, target, .. } => {
                self.expr(expr, scope);
                match target {
                    InTarget::List(list) => {
                        for e in list {
                            self.expr(e, scope);
                        }
                    }
                    InTarget::Subquery(query) => self.query(query, scope),
                    _ => {}
                }
            }
            Expr::Tuple(list) => {
                for e in list {
                    self.expr(e, scope);
                }
            }
            Expr::Function(function) => {
                match &function.args {
                    FunctionArguments::List(list) => {
                        for arg in &list.args {
                            if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                            | FunctionArg::Named {
                                arg: FunctionArgExpr::Expr(e),
                                ..
                            } = arg
                            {
                                self.expr(e, scope);
                            }
                        }
                    }
                    FunctionArguments::Subquery(query) => self.query(query, scope),
                    FunctionArguments::None => {}
                }
                if let Some(filter) = &function.filter {
                    self.expr(filter, scope);
                }
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                for e in operand.iter().chain(else_result) {
                    self.expr(e, scope);
                }
                for when in conditions {
                    self.expr(&when.condition, scope);
                    self.expr(&when.result, scope);
                }
            }
            Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => {
                self.query(subquery, scope);
            }
            _ => {}
        }
    }
}

/// The name a constraint was given, if any.
fn constraint_name(constraint: &TableConstraint) -> Option<&Ident> {
    match constraint {
        TableConstraint::Unique(c) => c.name.as_ref(),
        TableConstraint::PrimaryKey(c) => c.name.as_ref(),
        TableConstraint::ForeignKey(c) => c.name.as_ref(),
        TableConstraint::Check(c) => c.name.as_ref(),
        TableConstraint::Index(c) => c.name.as_ref(),
        TableConstraint::FulltextOrSpatial(c) => c.opt_index_name.as_ref(),
        TableConstraint::PrimaryKeyUsingIndex(c) => c.name.as_ref(),
        TableConstraint::UniqueUsingIndex(c) => c.name.as_ref(),
        TableConstraint::Exclude(c) => c.name.as_ref(),
    }
}

/// The condition of a join, whatever its kind.
fn join_constraint(operator: &JoinOperator) -> Option<&JoinConstraint> {
    match operator {
        JoinOperator::Join(c)
        | JoinOperator::Inner(c)
        | JoinOperator::Left(c)
        | JoinOperator::LeftOuter(c)
        | JoinOperator::Right(c)
        | JoinOperator::RightOuter(c)
        | JoinOperator::FullOuter(c)
        | JoinOperator::CrossJoin(c)
        | JoinOperator::Semi(c)
        | JoinOperator::LeftSemi(c)
        | JoinOperator::RightSemi(c)
        | JoinOperator::Anti(c)
        | JoinOperator::LeftAnti(c)
        | JoinOperator::RightAnti(c)
        | JoinOperator::StraightJoin(c) => Some(c),
        JoinOperator::AsOf { constraint, .. } => Some(constraint),
        _ => None,
    }
}

/// Where two sides meet: one rule each. A conflicting kind is one a merge should not be made
/// over without a look; [`OverlapKind::BothAlterTable`] is reported only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlapKind {
    /// Both sides create a table, view or sequence of one name (the three share a namespace),
    /// or a routine or trigger of one name (a rename's new name counts as created). Conflicting:
    /// whichever runs second fails, or with `IF NOT EXISTS` / `OR REPLACE` one definition is
    /// silently lost.
    BothCreate,
    /// Both sides add a column, index or constraint of one name (a column or constraint on the
    /// same table). Conflicting: the second `ADD` fails.
    BothAdd,
    /// Both sides change one column: its type, default or nullability, a rename, a drop.
    /// Conflicting: the second change is made to a column the first already changed.
    BothChangeColumn,
    /// One side drops or renames an object the other creates something on, alters, references
    /// by a foreign key, reads, writes or indexes (a table's drop reaches everything on the
    /// table; a column's reaches `SELECT *`). Conflicting: the other side's statements fail on
    /// the missing name, or lose what they built.
    DropInUse,
    /// Both sides change one table's definition (columns, constraints, indexes, triggers,
    /// options). Not conflicting: two new columns on one table are fine; a collision on the
    /// table's parts is reported by its own rule, with the part named.
    BothAlterTable,
}

impl OverlapKind {
    /// Whether an overlap of this kind is a conflict.
    pub fn conflicting(self) -> bool {
        self != OverlapKind::BothAlterTable
    }

    /// The overlap as a sentence about `object`.
    pub fn describe(self, object: &str) -> String {
        match self {
            OverlapKind::BothCreate => format!("both sides create {object}"),
            OverlapKind::BothAdd => format!("both sides add {object}"),
            OverlapKind::BothChangeColumn => format!("both sides change {object}"),
            OverlapKind::DropInUse => {
                format!("one side drops or renames {object}, the other depends on it")
            }
            OverlapKind::BothAlterTable => format!("both sides alter {object}"),
        }
    }
}

/// Something both sides of a merge touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub kind: OverlapKind,
    /// The object, as a message names it: `column users.email`, `table audit_log`.
    pub object: String,
    pub conflicting: bool,
    /// The revisions of the left side involved, in the order given.
    pub left: Vec<String>,
    /// The revisions of the right side involved, in the order given.
    pub right: Vec<String>,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = if self.conflicting {
            "conflict"
        } else {
            "overlap"
        };
        write!(
            f,
            "{label}: {} (left: {}; right: {})",
            self.kind.describe(&self.object),
            self.left.join(", "),
            self.right.join(", ")
        )
    }
}

/// The namespace of a name: see [`ObjectKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Space {
    Relation,
    Column,
    Index,
    Constraint,
    Routine,
    Trigger,
}

/// What an object is compared by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    space: Space,
    table: Option<String>,
    name: String,
}

impl Key {
    /// The table this key is, or belongs to.
    fn table(&self) -> Option<&str> {
        match self.space {
            Space::Relation => Some(&self.name),
            _ => self.table.as_deref(),
        }
    }

    /// "Every column" of this key's table.
    fn every_column(&self) -> Key {
        Key {
            space: Space::Column,
            table: self.table.clone(),
            name: EVERY_COLUMN.to_string(),
        }
    }
}

/// The revisions (by position) of one side with a role on an object, and how that side names
/// the object.
#[derive(Debug, Default)]
struct Role {
    revisions: Vec<usize>,
    object: Option<Object>,
}

type Roles = BTreeMap<Key, Role>;

fn note(roles: &mut Roles, key: Key, revision: usize, object: &Object) {
    let role = roles.entry(key).or_default();
    if !role.revisions.contains(&revision) {
        role.revisions.push(revision);
    }
    role.object.get_or_insert_with(|| object.clone());
}

/// One side's effects, by the role they play in the rules.
#[derive(Debug, Default)]
struct SideRoles {
    /// Created, or the new name of a rename.
    creates: Roles,
    /// Columns altered, dropped or renamed.
    changes: Roles,
    /// Dropped or renamed.
    removes: Roles,
    /// Anything done to it, or to something on it (a table).
    touches: Roles,
    /// Tables whose definition changes.
    alters: Roles,
}

impl SideRoles {
    fn of(side: &[(String, Effects)]) -> SideRoles {
        let mut roles = SideRoles::default();
        for (revision, (_, effects)) in side.iter().enumerate() {
            for effect in &effects.effects {
                roles.add(revision, effect);
            }
        }
        roles
    }

    fn add(&mut self, revision: usize, effect: &Effect) {
        let object = &effect.object;
        let key = object.key();
        note(&mut self.touches, key.clone(), revision, object);
        if let Some(owner) = object.owner() {
            note(&mut self.touches, owner, revision, object);
        }
        let changes_table = match (&effect.action, object.kind) {
            (Action::Use, _) => false,
            (Action::Alter, ObjectKind::Table) => true,
            _ => object.table.is_some(),
        };
        if changes_table && let Some(table) = key.table() {
            let table = Object::table(table);
            note(&mut self.alters, table.key(), revision, &table);
        }
        match &effect.action {
            Action::Create => note(&mut self.creates, key, revision, object),
            Action::Rename { to } => {
                let new = object.renamed(to);
                note(&mut self.creates, new.key(), revision, &new);
                self.removed(key, revision, object);
            }
            Action::Drop => self.removed(key, revision, object),
            Action::Alter if object.kind == ObjectKind::Column => {
                note(&mut self.changes, key, revision, object);
            }
            Action::Alter | Action::Use => {}
        }
    }

    fn removed(&mut self, key: Key, revision: usize, object: &Object) {
        if object.kind == ObjectKind::Column {
            note(&mut self.changes, key.clone(), revision, object);
        }
        note(&mut self.removes, key, revision, object);
    }
}

/// An overlap being gathered, by key.
#[derive(Debug)]
struct Pending {
    kind: OverlapKind,
    object: String,
    left: Vec<usize>,
    right: Vec<usize>,
}

/// The overlaps found so far, one per key for the conflicting rules.
#[derive(Debug, Default)]
struct Found {
    conflicts: BTreeMap<Key, Pending>,
    harmless: BTreeMap<Key, Pending>,
}

impl Found {
    /// Records `kind` on `key` unless a rule before it already did; the same kind found again
    /// (from the other side) adds its revisions.
    fn add(
        &mut self,
        kind: OverlapKind,
        key: &Key,
        object: &Object,
        left: &[usize],
        right: &[usize],
    ) {
        let found = if kind.conflicting() {
            &mut self.conflicts
        } else {
            &mut self.harmless
        };
        let pending = found.entry(key.clone()).or_insert_with(|| Pending {
            kind,
            object: object.to_string(),
            left: Vec::new(),
            right: Vec::new(),
        });
        if pending.kind != kind {
            return;
        }
        extend(&mut pending.left, left);
        extend(&mut pending.right, right);
    }

    /// Keys with a role on both sides.
    fn both(&mut self, left: &Roles, right: &Roles, kind: impl Fn(&Object) -> OverlapKind) {
        for (key, l) in left {
            let Some(r) = right.get(key) else {
                continue;
            };
            let Some(object) = named(l.object.as_ref(), r.object.as_ref()) else {
                continue;
            };
            self.add(kind(object), key, object, &l.revisions, &r.revisions);
        }
    }

    /// What `removes` drops or renames and `other` touches; `removes_on_left` says which side
    /// `removes` is.
    fn removed(&mut self, removes: &Roles, other: &Roles, removes_on_left: bool) {
        for (key, removed) in removes {
            let Some(object) = &removed.object else {
                continue;
            };
            let mut users: Vec<usize> = Vec::new();
            let mut touched = vec![key.clone()];
            if key.space == Space::Column {
                touched.push(key.every_column());
            }
            for role in touched.iter().filter_map(|k| other.get(k)) {
                extend(&mut users, &role.revisions);
            }
            if users.is_empty() {
                continue;
            }
            let (left, right) = if removes_on_left {
                (&removed.revisions, &users)
            } else {
                (&users, &removed.revisions)
            };
            self.add(OverlapKind::DropInUse, key, object, left, right);
        }
    }
}

/// How an overlap names an object both sides name: by its more precise kind, whichever side
/// says it (a relation a query reads from is [`ObjectKind::Table`] whatever it is).
fn named<'a>(left: Option<&'a Object>, right: Option<&'a Object>) -> Option<&'a Object> {
    match (left, right) {
        (Some(l), Some(r)) if l.kind == ObjectKind::Table && r.kind != ObjectKind::Table => Some(r),
        (l, r) => l.or(r),
    }
}

fn extend(into: &mut Vec<usize>, more: &[usize]) {
    for &revision in more {
        if !into.contains(&revision) {
            into.push(revision);
        }
    }
}

/// Where the effects of two sides of a merge meet. Each side is its revisions (ids, in graph
/// order) and their effects on one dialect; the sides are compared, never a side with itself.
/// Conflicts come first, then by kind and object.
pub fn overlaps(left: &[(String, Effects)], right: &[(String, Effects)]) -> Vec<Overlap> {
    let (l, r) = (SideRoles::of(left), SideRoles::of(right));
    let mut found = Found::default();
    found.both(&l.creates, &r.creates, |object| {
        if object.kind.is_part_of_a_table() {
            OverlapKind::BothAdd
        } else {
            OverlapKind::BothCreate
        }
    });
    found.both(&l.changes, &r.changes, |_| OverlapKind::BothChangeColumn);
    found.removed(&l.removes, &r.touches, true);
    found.removed(&r.removes, &l.touches, false);
    found.both(&l.alters, &r.alters, |_| OverlapKind::BothAlterTable);
    let ids = |side: &[(String, Effects)], mut positions: Vec<usize>| -> Vec<String> {
        positions.sort_unstable();
        positions
            .into_iter()
            .filter_map(|i| side.get(i).map(|(id, _)| id.clone()))
            .collect()
    };
    let mut out: Vec<Overlap> = found
        .conflicts
        .into_values()
        .chain(found.harmless.into_values())
        .map(|p| Overlap {
            conflicting: p.kind.conflicting(),
            kind: p.kind,
            object: p.object,
            left: ids(left, p.left),
            right: ids(right, p.right),
        })
        .collect();
    out.sort_by(order);
    out
}

/// The overlaps of one pair of sides found on several dialects, as one list: one overlap per
/// kind and object, with the revisions of every dialect that found it.
pub fn combine(lists: impl IntoIterator<Item = Vec<Overlap>>) -> Vec<Overlap> {
    let mut out: Vec<Overlap> = Vec::new();
    for overlap in lists.into_iter().flatten() {
        let same = out
            .iter_mut()
            .find(|o| o.kind == overlap.kind && o.object == overlap.object);
        match same {
            Some(o) => {
                union(&mut o.left, overlap.left);
                union(&mut o.right, overlap.right);
                o.conflicting |= overlap.conflicting;
            }
            None => out.push(overlap),
        }
    }
    out.sort_by(order);
    out
}

fn union(into: &mut Vec<String>, more: Vec<String>) {
    for id in more {
        if !into.contains(&id) {
            into.push(id);
        }
    }
}

/// Conflicts first, then by kind, then by object.
fn order(a: &Overlap, b: &Overlap) -> Ordering {
    (!a.conflicting, a.kind, &a.object).cmp(&(!b.conflicting, b.kind, &b.object))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The overlaps of two sides of one revision each.
    fn between(dialect: Dialect, left: &str, right: &str) -> Vec<Overlap> {
        overlaps(
            &[("l1".to_string(), effects(left, dialect))],
            &[("r1".to_string(), effects(right, dialect))],
        )
    }

    fn kinds(found: &[Overlap]) -> Vec<(OverlapKind, &str)> {
        found.iter().map(|o| (o.kind, o.object.as_str())).collect()
    }

    /// Asserts `kind` on `object` is found between `left` and `right` on `dialect`, conflicting.
    fn fires(dialect: Dialect, left: &str, right: &str, kind: OverlapKind, object: &str) {
        let found = between(dialect, left, right);
        let hit = found.iter().find(|o| o.kind == kind && o.object == object);
        let Some(hit) = hit else {
            panic!("{kind:?} on {object} on {dialect} for {left:?} / {right:?}: {found:#?}");
        };
        assert!(hit.conflicting, "{hit:?}");
        assert_eq!(
            (hit.left.as_slice(), hit.right.as_slice()),
            (&["l1".to_string()][..], &["r1".to_string()][..])
        );
        // The rule is symmetric.
        let swapped = between(dialect, right, left);
        assert!(
            swapped.iter().any(|o| o.kind == kind && o.object == object),
            "{kind:?} swapped on {dialect}: {swapped:#?}"
        );
    }

    #[test]
    fn effects_name_what_each_statement_does() {
        let got = effects(
            "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));\n\
             ALTER TABLE users ADD COLUMN email text;\n\
             CREATE INDEX ix_users_email ON users (lower(email));\n\
             CREATE VIEW active AS SELECT u.name FROM users u WHERE u.active;\n\
             DROP TABLE legacy;",
            Dialect::Postgres,
        );
        let has = |kind: ObjectKind, table: Option<&str>, name: &str, action: Action| {
            let effect = Effect {
                object: Object::on(kind, table, name.to_string()),
                action,
            };
            assert!(
                got.effects.contains(&effect),
                "{effect:?} in {:#?}",
                got.effects
            );
        };
        has(ObjectKind::Table, None, "orders", Action::Create);
        has(ObjectKind::Table, None, "users", Action::Use);
        has(ObjectKind::Column, Some("users"), "id", Action::Use);
        has(ObjectKind::Table, None, "users", Action::Alter);
        has(ObjectKind::Column, Some("users"), "email", Action::Create);
        has(ObjectKind::Index, None, "ix_users_email", Action::Create);
        has(ObjectKind::Column, Some("users"), "email", Action::Use);
        has(ObjectKind::View, None, "active", Action::Create);
        has(ObjectKind::Column, Some("users"), "name", Action::Use);
        has(ObjectKind::Column, Some("users"), "active", Action::Use);
        has(ObjectKind::Table, None, "legacy", Action::Drop);
        assert!(got.not_analysed.is_empty());
        let json = serde_json::to_value(&got.effects[0]).unwrap();
        assert_eq!(json["object"]["kind"], "table");
        assert_eq!(json["action"]["action"], "create");
    }

    /// What `statement`'s dependencies of `dependent` read, as `kind name` strings.
    fn read_by(statement: &StatementEffects, dependent: &str) -> Vec<String> {
        statement
            .dependencies
            .iter()
            .filter(|d| d.dependent.to_string() == dependent)
            .map(|d| match &d.reads {
                Reads::Object(object) => object.to_string(),
                Reads::Word(word) => format!("word {word}"),
            })
            .collect()
    }

    #[test]
    fn persistent_objects_record_what_they_read_and_data_statements_do_not() {
        let sqlite = statements(
            "CREATE TRIGGER tg AFTER INSERT ON plans BEGIN\n  \
             UPDATE plans SET minor = NEW.cents WHERE id = NEW.id;\nEND;\n\
             UPDATE plans SET minor = cents;",
            Dialect::Sqlite,
        );
        assert_eq!(sqlite.len(), 2);
        let trigger = read_by(&sqlite[0], "trigger tg");
        for read in [
            "column plans.cents",
            "column plans.minor",
            "column plans.id",
        ] {
            assert!(trigger.contains(&read.to_string()), "{read} in {trigger:?}");
        }
        assert_eq!(sqlite[0].dependencies[0].on.as_deref(), Some("plans"));
        // The trigger's statements are effects too: a branch dropping `cents` meets them.
        assert!(sqlite[0].effects.contains(&Effect {
            object: Object::column("plans", "cents".into()),
            action: Action::Use,
        }));
        assert!(sqlite[1].dependencies.is_empty());
        assert_eq!(sqlite[1].line, 4);

        let mysql = statements(
            "CREATE TRIGGER tg BEFORE INSERT ON plans FOR EACH ROW SET NEW.minor = NEW.cents;",
            Dialect::Mysql,
        );
        assert!(mysql[0].unread.is_none(), "{:?}", mysql[0].unread);
        assert!(read_by(&mysql[0], "trigger tg").contains(&"column plans.cents".to_string()));

        let postgres = statements(
            "CREATE FUNCTION sync() RETURNS trigger AS $$ BEGIN NEW.minor := NEW.cents; \
             RETURN NEW; END $$ LANGUAGE plpgsql;\n\
             CREATE TRIGGER tg BEFORE UPDATE OF cents ON plans FOR EACH ROW \
             WHEN (OLD.cents IS DISTINCT FROM NEW.cents) EXECUTE FUNCTION sync();\n\
             CREATE VIEW v AS SELECT id, cents FROM plans;\n\
             CREATE INDEX ix ON plans (lower(name)) WHERE cents > 0;",
            Dialect::Postgres,
        );
        let routine = read_by(&postgres[0], "routine sync");
        assert!(routine.contains(&"word cents".to_string()), "{routine:?}");
        let trigger = read_by(&postgres[1], "trigger plans.tg");
        assert!(trigger.contains(&"routine sync".to_string()), "{trigger:?}");
        assert!(
            trigger.contains(&"column plans.cents".to_string()),
            "{trigger:?}"
        );
        assert!(read_by(&postgres[2], "view v").contains(&"column plans.cents".to_string()));
        let index = read_by(&postgres[3], "index ix");
        assert!(
            index.contains(&"column plans.name".to_string()),
            "{index:?}"
        );
        assert!(
            index.contains(&"column plans.cents".to_string()),
            "{index:?}"
        );
        assert_eq!(postgres[3].dependencies[0].on.as_deref(), Some("plans"));
    }

    #[test]
    fn scratch_tables_meet_nothing() {
        for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let scratch = "CREATE TEMPORARY TABLE tmp (id int);\n\
                           INSERT INTO tmp SELECT id FROM users;\n\
                           DROP TABLE tmp;";
            let found = between(dialect, scratch, scratch);
            assert!(
                found.iter().all(|o| !o.object.contains("tmp")),
                "{dialect}: {found:#?}"
            );
            // What a scratch table reads still counts.
            let dropped = between(dialect, scratch, "DROP TABLE users;");
            assert!(
                dropped.iter().any(|o| o.kind == OverlapKind::DropInUse),
                "{dialect}: {dropped:#?}"
            );
        }
    }

    #[test]
    fn names_compare_in_any_case_and_schema() {
        fires(
            Dialect::Postgres,
            "ALTER TABLE public.\"Users\" ADD COLUMN Email text;",
            "ALTER TABLE users ADD COLUMN email text;",
            OverlapKind::BothAdd,
            "column users.email",
        );
    }

    #[test]
    fn both_add_the_same_column_index_or_constraint() {
        for d in Dialect::ALL {
            fires(
                d,
                "ALTER TABLE users ADD COLUMN email varchar(100);",
                "ALTER TABLE users ADD COLUMN email varchar(200);",
                OverlapKind::BothAdd,
                "column users.email",
            );
        }
        fires(
            Dialect::Postgres,
            "CREATE INDEX ix_email ON users (email);",
            "CREATE UNIQUE INDEX ix_email ON accounts (email);",
            OverlapKind::BothAdd,
            "index ix_email",
        );
        fires(
            Dialect::Mysql,
            "ALTER TABLE users ADD INDEX ix_email (email);",
            "CREATE INDEX ix_email ON users (email, name);",
            OverlapKind::BothAdd,
            "index users.ix_email",
        );
        fires(
            Dialect::Postgres,
            "ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE (email);",
            "ALTER TABLE users ADD CONSTRAINT uq_email CHECK (email <> '');",
            OverlapKind::BothAdd,
            "constraint users.uq_email",
        );
    }

    #[test]
    fn index_names_are_per_table_on_mysql_only() {
        let left = "CREATE INDEX ix_created ON orders (created);";
        let right = "CREATE INDEX ix_created ON invoices (created);";
        assert!(between(Dialect::Mysql, left, right).is_empty());
        assert_eq!(
            kinds(&between(Dialect::Sqlite, left, right)),
            [(OverlapKind::BothAdd, "index ix_created")]
        );
    }

    #[test]
    fn both_create_the_same_relation_routine_or_trigger() {
        for d in Dialect::ALL {
            fires(
                d,
                "CREATE TABLE audit (id int);",
                "CREATE TABLE IF NOT EXISTS audit (id int, at text);",
                OverlapKind::BothCreate,
                "table audit",
            );
        }
        // A view and a table share a namespace.
        fires(
            Dialect::Postgres,
            "CREATE VIEW report AS SELECT 1 AS one;",
            "CREATE TABLE report (id int);",
            OverlapKind::BothCreate,
            "view report",
        );
        fires(
            Dialect::Postgres,
            "CREATE SEQUENCE invoice_no;",
            "CREATE SEQUENCE invoice_no START 100;",
            OverlapKind::BothCreate,
            "sequence invoice_no",
        );
        fires(
            Dialect::Postgres,
            "CREATE FUNCTION touch() RETURNS trigger AS 'BEGIN RETURN NEW; END' LANGUAGE plpgsql;",
            "CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS 'SELECT 1' LANGUAGE plpgsql;",
            OverlapKind::BothCreate,
            "routine touch",
        );
        fires(
            Dialect::Postgres,
            "CREATE TRIGGER tg_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION a();",
            "CREATE TRIGGER tg_touch BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION b();",
            OverlapKind::BothCreate,
            "trigger users.tg_touch",
        );
        // A rename's new name is created.
        fires(
            Dialect::Mysql,
            "RENAME TABLE users_new TO accounts;",
            "CREATE TABLE accounts (id int);",
            OverlapKind::BothCreate,
            "table accounts",
        );
    }

    #[test]
    fn both_change_the_same_column_in_each_dialect() {
        fires(
            Dialect::Postgres,
            "ALTER TABLE users ALTER COLUMN name TYPE text;",
            "ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
            OverlapKind::BothChangeColumn,
            "column users.name",
        );
        fires(
            Dialect::Postgres,
            "ALTER TABLE users RENAME COLUMN name TO full_name;",
            "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x';",
            OverlapKind::BothChangeColumn,
            "column users.name",
        );
        fires(
            Dialect::Mysql,
            "ALTER TABLE users MODIFY name varchar(200) NOT NULL;",
            "ALTER TABLE users CHANGE name full_name varchar(100);",
            OverlapKind::BothChangeColumn,
            "column users.name",
        );
        fires(
            Dialect::Mysql,
            "ALTER TABLE users CHANGE COLUMN name name varchar(300);",
            "ALTER TABLE users DROP COLUMN name;",
            OverlapKind::BothChangeColumn,
            "column users.name",
        );
        fires(
            Dialect::Sqlite,
            "ALTER TABLE users RENAME COLUMN name TO full_name;",
            "ALTER TABLE users DROP COLUMN name;",
            OverlapKind::BothChangeColumn,
            "column users.name",
        );
    }

    #[test]
    fn a_drop_or_rename_conflicts_with_what_depends_on_it() {
        // An index on a renamed column.
        fires(
            Dialect::Postgres,
            "ALTER TABLE users RENAME COLUMN name TO full_name;",
            "CREATE INDEX ix_users_name ON users (name);",
            OverlapKind::DropInUse,
            "column users.name",
        );
        fires(
            Dialect::Sqlite,
            "ALTER TABLE users RENAME TO accounts;",
            "ALTER TABLE users ADD COLUMN phone text;",
            OverlapKind::DropInUse,
            "table users",
        );
        // A foreign key to a dropped table.
        fires(
            Dialect::Mysql,
            "DROP TABLE users;",
            "CREATE TABLE orders (id int, user_id int, FOREIGN KEY (user_id) REFERENCES users (id));",
            OverlapKind::DropInUse,
            "table users",
        );
        // A view reading a dropped column, by name or by `*`.
        fires(
            Dialect::Postgres,
            "ALTER TABLE users DROP COLUMN email;",
            "CREATE VIEW contacts AS SELECT id, email FROM users;",
            OverlapKind::DropInUse,
            "column users.email",
        );
        fires(
            Dialect::Postgres,
            "ALTER TABLE users DROP COLUMN email;",
            "CREATE VIEW everyone AS SELECT * FROM users;",
            OverlapKind::DropInUse,
            "column users.email",
        );
        // Rows written to a renamed column; a dropped view read from.
        fires(
            Dialect::Mysql,
            "ALTER TABLE users CHANGE name full_name varchar(100);",
            "UPDATE users SET name = 'x' WHERE id = 1;",
            OverlapKind::DropInUse,
            "column users.name",
        );
        fires(
            Dialect::Sqlite,
            "DROP VIEW report;",
            "INSERT INTO totals (n) SELECT count(*) FROM report;",
            OverlapKind::DropInUse,
            "view report",
        );
        // A routine a trigger executes.
        fires(
            Dialect::Postgres,
            "DROP FUNCTION touch();",
            "CREATE TRIGGER tg BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();",
            OverlapKind::DropInUse,
            "routine touch",
        );
    }

    #[test]
    fn near_misses_are_not_conflicts() {
        for d in Dialect::ALL {
            // Two new columns on one table: reported, harmless.
            let found = between(
                d,
                "ALTER TABLE users ADD COLUMN phone text;",
                "ALTER TABLE users ADD COLUMN nickname text;",
            );
            assert_eq!(
                kinds(&found),
                [(OverlapKind::BothAlterTable, "table users")],
                "{d}"
            );
            assert!(!found[0].conflicting);
            assert_eq!(
                found[0].to_string(),
                "overlap: both sides alter table users (left: l1; right: r1)"
            );
            // One column name on two tables.
            let found = between(
                d,
                "ALTER TABLE users ADD COLUMN note text;",
                "ALTER TABLE orders ADD COLUMN note text;",
            );
            assert!(found.is_empty(), "{d}: {found:#?}");
            // A drop, and an unrelated table.
            let found = between(
                d,
                "DROP TABLE legacy;",
                "CREATE TABLE audit (id int);\nINSERT INTO audit (id) VALUES (1);",
            );
            assert!(found.is_empty(), "{d}: {found:#?}");
        }
        // A column dropped from one table, read from another by a qualified name.
        let found = between(
            Dialect::Postgres,
            "ALTER TABLE users DROP COLUMN email;",
            "CREATE VIEW v AS SELECT o.email FROM orders o JOIN users u ON u.id = o.user_id;",
        );
        assert!(
            found
                .iter()
                .all(|o| o.kind != OverlapKind::DropInUse || o.object != "column users.email"),
            "{found:#?}"
        );
    }

    #[test]
    fn a_conflict_on_a_part_leaves_the_table_overlap_harmless() {
        let found = between(
            Dialect::Postgres,
            "ALTER TABLE users ADD COLUMN email text;",
            "ALTER TABLE users ADD COLUMN email varchar(10);",
        );
        assert_eq!(
            kinds(&found),
            [
                (OverlapKind::BothAdd, "column users.email"),
                (OverlapKind::BothAlterTable, "table users")
            ]
        );
        assert_eq!(
            found[0].to_string(),
            "conflict: both sides add column users.email (left: l1; right: r1)"
        );
        let json = serde_json::to_value(&found[0]).unwrap();
        assert_eq!(json["kind"], "both_add");
        assert_eq!(json["conflicting"], true);
        assert_eq!(json["left"], serde_json::json!(["l1"]));
    }

    #[test]
    fn revisions_are_listed_per_side_in_order() {
        let d = Dialect::Sqlite;
        let left = [
            (
                "a1".to_string(),
                effects("ALTER TABLE users ADD COLUMN x int;", d),
            ),
            ("a2".to_string(), effects("SELECT 1;", d)),
            (
                "a3".to_string(),
                effects("ALTER TABLE users DROP COLUMN name;", d),
            ),
        ];
        let right = [(
            "b1".to_string(),
            effects("CREATE INDEX ix_name ON users (name);", d),
        )];
        let found = overlaps(&left, &right);
        let drop = found
            .iter()
            .find(|o| o.kind == OverlapKind::DropInUse)
            .unwrap();
        assert_eq!(
            (drop.left.clone(), drop.right.clone()),
            (vec!["a3".to_string()], vec!["b1".to_string()])
        );
        let table = found
            .iter()
            .find(|o| o.kind == OverlapKind::BothAlterTable)
            .unwrap();
        assert_eq!(table.left, ["a1", "a3"]);
        assert!(overlaps(&left, &[]).is_empty());
    }

    #[test]
    fn dialects_combine_into_one_overlap_per_object() {
        let on = |d| {
            between(
                d,
                "ALTER TABLE users ADD COLUMN email text;",
                "ALTER TABLE users ADD COLUMN email text;",
            )
        };
        let combined = combine(Dialect::ALL.map(on));
        assert_eq!(combined, on(Dialect::Postgres));
    }

    #[test]
    fn unreadable_statements_are_listed_and_never_conflict() {
        for d in Dialect::ALL {
            let got = effects("THIS IS NOT SQL;\nDROP TABLE legacy;", d);
            assert_eq!(got.not_analysed.len(), 1, "{d}");
            assert_eq!(got.not_analysed[0].line, 1);
            assert_eq!(got.not_analysed[0].statement, "THIS IS NOT SQL");
            assert!(got.effects.iter().any(|e| e.action == Action::Drop), "{d}");
        }
        let called = effects("CALL backfill();", Dialect::Mysql);
        assert_eq!(called.not_analysed.len(), 1);
        assert!(
            effects("PRAGMA foreign_keys = OFF;", Dialect::Sqlite)
                .not_analysed
                .is_empty()
        );
    }

    #[test]
    fn garbage_never_panics() {
        let nasty = [
            "",
            ";;;",
            "'",
            "$$",
            "ALTER TABLE",
            "ALTER TABLE t RENAME",
            "DROP INDEX",
            "CREATE VIEW v AS SELECT * FROM (SELECT * FROM (SELECT 1) a) b, c JOIN d USING (x)",
            "WITH RECURSIVE r AS (SELECT 1 UNION SELECT n FROM r) SELECT * FROM r",
            "UPDATE t SET (a, b) = (1, 2) FROM u WHERE t.id = u.id",
            "DELETE FROM t USING u WHERE t.id = u.id",
            "SELECT ((((((((((((((((((((((((((((((((((((((((((((((((((((((1",
            "\u{feff}DROP TABLE t",
        ];
        for text in nasty {
            for d in Dialect::ALL {
                let got = effects(text, d);
                let _ = overlaps(&[("a".into(), got.clone())], &[("b".into(), got)]);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn sql_like_text_is_read_without_panicking(
            words in prop::collection::vec(
                prop::sample::select(vec![
                    "ALTER", "TABLE", "t", "u", "ADD", "DROP", "COLUMN", "RENAME", "TO", "CREATE",
                    "VIEW", "INDEX", "ON", "AS", "SELECT", "*", "FROM", "JOIN", "WHERE", "(", ")",
                    ",", ";", ".", "a", "b", "INT", "UPDATE", "SET", "=", "INSERT", "INTO",
                    "VALUES", "1", "CHANGE", "MODIFY", "REFERENCES", "TRIGGER", "FUNCTION",
                    "EXECUTE", "WITH", "IN", "EXISTS", "CONSTRAINT", "UNIQUE", "\n",
                ]),
                0..40,
            )
        ) {
            let text = words.join(" ");
            for d in Dialect::ALL {
                let got = effects(&text, d);
                let _ = overlaps(&[("a".into(), got.clone())], &[("b".into(), got)]);
            }
        }
    }
}
