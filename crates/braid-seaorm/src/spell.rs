//! Column definitions spelled as Rust source, for the migrations `generate --autogenerate` writes.
//!
//! A generated migration is sea-orm-migration code (`use braid::prelude::*;`), one body for
//! every backend, so each column is written as a sea-query builder chain:
//! `ColumnDef::new("email").string_len(255).not_null().unique_key()`. Two sources are spelled:
//!
//! * [`column_def`]: a sea-query `ColumnDef` as sea-orm's `Schema::create_table_from_entity`
//!   builds it from an entity (the schema the entities want: the `up` of a change);
//! * [`snapshot_column`]: a [`Column`] as a Braid driver's introspection reports it (the schema
//!   the migrations produce: the `down` of a change, and a dropped column or table recreated).
//!
//! Both go through one spelling of sea-query's [`ColumnType`]s, so a column created from
//! `ColumnDef::new("c").<type>()` comes back from its snapshot as the same text wherever the
//! catalogue keeps the type apart (what does not is listed on [`snapshot_column`]). What the
//! text cannot say portably (a type only one backend has, a default that is raw SQL, a check)
//! is not guessed at: it is written as close as sea-query allows and said in
//! [`Spelled::notes`], one sentence each, for the generated file's comments.
//!
//! Identifiers and strings are Rust literals (`{:?}`), so any name or default survives.

use braid_driver::{Column, Dialect};
use sea_orm::sea_query::{
    self, Alias, ColumnDef, ColumnType, Expr, Keyword, PostgresQueryBuilder, Query, RcOrArc,
    SqliteQueryBuilder, StringLen, Table, Value,
};

/// Rust source text for a generated migration, and what could not be said in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spelled {
    /// A builder expression, e.g. `ColumnDef::new("email").string_len(255).not_null().unique_key()`.
    pub rust: String,
    /// Each thing the text cannot express portably (a type with no portable spelling, a
    /// backend-only feature), one sentence each, naming the column.
    pub notes: Vec<String>,
}

/// A sea-query column definition (as sea-orm's `Schema::create_table_from_entity` builds it) as
/// builder text: `ColumnDef::new("<name>")` then the type method, then `.not_null()` / `.null()`
/// (as the spec says; nullable None → nothing), `.auto_increment()`, `.unique_key()`,
/// `.primary_key()`, `.default(...)` in that order.
///
/// A type sea-query has no builder method for (`StringLen::Max`, a `VarBinary` without length,
/// `Vector`) is given whole: `ColumnDef::new_with_type("<name>", ColumnType::…)`. An enum is
/// written as `.string()` with a note (sea-orm creates the Postgres type, or spells MySQL's
/// `ENUM(…)` as a custom type, itself). A check, a generated expression, `extra` SQL, a comment
/// and `using` are not written, only noted.
pub fn column_def(def: &sea_query::ColumnDef) -> Spelled {
    let name = def.get_column_name();
    let spec = def.get_column_spec();
    let mut notes = Vec::new();
    let ty = match def.get_column_type() {
        Some(ct) => spell_type(ct, &name, Origin::Entity, &mut notes),
        None => TypeText::Absent,
    };
    let default = spec
        .default
        .as_ref()
        .map(|e| default_expr(e, &name, &mut notes));
    if let Some(check) = &spec.check {
        let sql = postgres_after_name(ColumnDef::new(Alias::new("c")).check(check.clone()));
        notes.push(format!(
            "column `{name}`: its check `{sql}` is not written (add it with `.check(...)`)."
        ));
    }
    if let Some(generated) = &spec.generated {
        let sql = postgres_after_name(
            ColumnDef::new(Alias::new("c")).generated(generated.expr.clone(), generated.stored),
        );
        notes.push(format!(
            "column `{name}`: it is generated (`{sql}`), which is not written (add it with \
             `.generated(...)`)."
        ));
    }
    if let Some(extra) = &spec.extra {
        notes.push(format!(
            "column `{name}`: its extra SQL `{extra}` is backend-specific and not written."
        ));
    }
    if let Some(comment) = &spec.comment {
        notes.push(format!(
            "column `{name}`: its comment {comment:?} (written by sea-query on MySQL only) is \
             not written."
        ));
    }
    if let Some(using) = &spec.using {
        notes.push(format!(
            "column `{name}`: its `USING {}` (for a Postgres type change) is not written.",
            postgres_sql(using)
        ));
    }
    let parts = Parts {
        name,
        ty,
        nullable: spec.nullable,
        auto_increment: spec.auto_increment,
        unique: spec.unique,
        primary_key: spec.primary_key,
        default,
    };
    Spelled {
        rust: parts.rust(),
        notes,
    }
}

/// A column as introspection reports it on `dialect`, as builder text that recreates it (for
/// the down of a change and for recreating a dropped column or table): type from the catalogue
/// spelling, nullability, default, identity/auto-increment. `primary_key` of the column is NOT
/// rendered (the caller writes the table's primary key).
///
/// The type is read back into the sea-query type that writes it (`character varying(255)`,
/// MySQL's `varchar(255)` and SQLite's `varchar(255)` are all `.string_len(255)`); a spelling
/// none writes is `.custom(Alias::new("<as printed>"))`, with a note. Nullability is always
/// explicit. Where a catalogue does not tell types apart, the spelling is the one sea-orm
/// entities use most, and the others do not round-trip:
///
/// * Postgres: `smallint` is `.small_integer()` (not `.tiny_integer()` nor `.tiny_unsigned()`),
///   `integer` is `.integer()` (not `.small_unsigned()`), `bigint` is `.big_integer()` (not
///   `.unsigned()` nor `.big_unsigned()`), `timestamp without time zone` is `.date_time()` (not
///   `.timestamp()`), `bytea` is `.blob()` (not `.binary_len(n)` nor `.var_binary(n)`),
///   `character(1)` is `.char()` and `bit(1)` `.bit(None)`, the same type on every backend.
/// * MySQL/MariaDB: `varchar(255)` is `.string_len(255)` (`.string()` is unbounded on
///   Postgres), `decimal(10,0)` is `.decimal_len(10, 0)`, `binary(16)` is `.binary_len(16)`
///   (not `.uuid()`), `timestamp` is `.timestamp()` (not `.timestamp_with_time_zone()`), `json`
///   is `.json()` (not `.json_binary()`; MariaDB reports JSON as `longtext`), `tinyint(1)` is
///   `.boolean()`, `int` `.integer()`, and `decimal` is `.decimal_len(…)` where `.money()` was
///   written.
/// * SQLite: `integer` is `.integer()` (sea-query writes `.big_integer()`, `.unsigned()` and
///   `.big_unsigned()` as `integer` too), `tinyint` / `smallint` are the signed types,
///   `enum_text` is `.string()`. A declared type read as a sea-query type whose SQLite spelling
///   has another affinity ([`braid_driver::sqlite_affinity`]: `decimal(10, 2)` is written `real(10, 2)`) is
///   noted.
///
/// Defaults: numbers, quoted strings (`'x'::character varying`, `'x'`, MySQL 8's unquoted
/// literal of a character or date column), booleans and `CURRENT_TIMESTAMP` / `now()` /
/// `current_timestamp()` (and `CURRENT_DATE`, `CURRENT_TIME`) are spelled as values or
/// keywords; anything else is `Expr::cust("<as printed>")`, noted. A Postgres `serial`'s
/// `nextval(…)` and every identity / `AUTO_INCREMENT` / `AUTOINCREMENT` are
/// `.auto_increment()`. Generated expressions, MySQL's `ON UPDATE` and declared collations are
/// noted, not written.
pub fn snapshot_column(dialect: Dialect, column: &Column) -> Spelled {
    let name = column.name.clone();
    let mut notes = Vec::new();
    let declared = column.data_type.trim();
    let ct = catalogue_type(dialect, declared);
    let ty = match &ct {
        Some(ct) => spell_type(ct, &name, Origin::Catalogue(dialect), &mut notes),
        None => {
            notes.push(format!(
                "column `{name}` has no declared type, which only SQLite accepts."
            ));
            TypeText::Absent
        }
    };
    if dialect == Dialect::Sqlite {
        if declared.eq_ignore_ascii_case("enum_text") {
            notes.push(format!(
                "column `{name}`: `enum_text` is how sea-query declares an enum on SQLite, which \
                 keeps no variants; written as string."
            ));
        }
        if let Some(ct) = &ct {
            let written = sqlite_spelling(ct);
            let (was, now) = (
                braid_driver::sqlite_affinity(declared),
                braid_driver::sqlite_affinity(&written),
            );
            if was != now {
                notes.push(format!(
                    "column `{name}`: declared `{declared}` ({was} affinity), it is recreated on \
                     SQLite as `{written}` ({now} affinity)."
                ));
            }
        }
    }
    let mut auto_increment = false;
    if let Some(identity) = &column.identity {
        auto_increment = true;
        if identity.to_ascii_uppercase().contains("ALWAYS") {
            notes.push(format!(
                "column `{name}`: `{identity}` is written as `.auto_increment()`, which sea-query \
                 makes `GENERATED BY DEFAULT AS IDENTITY` on Postgres."
            ));
        }
    }
    let default = match &column.default {
        None => None,
        Some(text) => match catalogue_default(dialect, text, ct.as_ref(), declared) {
            DefaultText::Serial => {
                auto_increment = true;
                notes.push(format!(
                    "column `{name}`: its default `{text}` (a serial's sequence) is written as \
                     `.auto_increment()`, an identity column on Postgres."
                ));
                None
            }
            DefaultText::Rust(rust) => Some(rust),
            DefaultText::Cust(sql) => {
                notes.push(format!(
                    "column `{name}`: its default `{sql}` is {} SQL, written verbatim with \
                     `Expr::cust`.",
                    dialect_name(dialect)
                ));
                Some(format!("Expr::cust({sql:?})"))
            }
        },
    };
    if let Some(generated) = &column.generated {
        let kind = if generated.stored {
            "STORED"
        } else {
            "VIRTUAL"
        };
        notes.push(format!(
            "column `{name}`: it is generated as `{}` ({kind}), which is not written (add it \
             with `.generated(...)`).",
            generated.expression
        ));
    }
    if let Some(on_update) = &column.on_update {
        notes.push(format!(
            "column `{name}`: its MySQL `ON UPDATE {on_update}` is not written."
        ));
    }
    // MySQL/MariaDB report the collation in force on every text column, declared or not.
    if let (Some(collation), false) = (&column.collation, dialect == Dialect::Mysql) {
        notes.push(format!(
            "column `{name}`: its collation `{collation}` is not written."
        ));
    }
    let parts = Parts {
        name,
        ty,
        nullable: Some(column.nullable),
        auto_increment,
        unique: false,
        primary_key: false,
        default,
    };
    Spelled {
        rust: parts.rust(),
        notes,
    }
}

/// Where a column definition comes from, for the wording of a note.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// An entity's `ColumnDef`.
    Entity,
    /// A driver's snapshot on this dialect.
    Catalogue(Dialect),
}

/// How the type appears in the builder text.
#[derive(Debug)]
enum TypeText {
    /// No type: `ColumnDef::new("c")` alone.
    Absent,
    /// A builder method call, e.g. `.string_len(255)`.
    Method(String),
    /// A `ColumnType` expression for `ColumnDef::new_with_type`, for a type no method sets.
    WithType(String),
}

/// The pieces of a builder chain, in the order they are written.
struct Parts {
    name: String,
    ty: TypeText,
    nullable: Option<bool>,
    auto_increment: bool,
    unique: bool,
    primary_key: bool,
    /// The argument of `.default(…)`.
    default: Option<String>,
}

impl Parts {
    fn rust(&self) -> String {
        let name = &self.name;
        let mut s = match &self.ty {
            TypeText::Absent => format!("ColumnDef::new({name:?})"),
            TypeText::Method(m) => format!("ColumnDef::new({name:?}){m}"),
            TypeText::WithType(t) => format!("ColumnDef::new_with_type({name:?}, {t})"),
        };
        match self.nullable {
            Some(false) => s.push_str(".not_null()"),
            Some(true) => s.push_str(".null()"),
            None => {}
        }
        if self.auto_increment {
            s.push_str(".auto_increment()");
        }
        if self.unique {
            s.push_str(".unique_key()");
        }
        if self.primary_key {
            s.push_str(".primary_key()");
        }
        if let Some(d) = &self.default {
            s.push_str(&format!(".default({d})"));
        }
        s
    }
}

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "Postgres",
        Dialect::Mysql => "MySQL/MariaDB",
        Dialect::Sqlite => "SQLite",
    }
}

/// The builder text of `ct`, noting a type that is not portable.
fn spell_type(ct: &ColumnType, column: &str, origin: Origin, notes: &mut Vec<String>) -> TypeText {
    use ColumnType as T;
    let method = |m: &str| TypeText::Method(m.to_string());
    match ct {
        T::Char(Some(n)) => TypeText::Method(format!(".char_len({n})")),
        T::Char(None) => method(".char()"),
        T::String(StringLen::N(n)) => TypeText::Method(format!(".string_len({n})")),
        T::String(StringLen::None) => method(".string()"),
        T::Text => method(".text()"),
        T::Blob => method(".blob()"),
        T::TinyInteger => method(".tiny_integer()"),
        T::SmallInteger => method(".small_integer()"),
        T::Integer => method(".integer()"),
        T::BigInteger => method(".big_integer()"),
        T::TinyUnsigned => method(".tiny_unsigned()"),
        T::SmallUnsigned => method(".small_unsigned()"),
        T::Unsigned => method(".unsigned()"),
        T::BigUnsigned => method(".big_unsigned()"),
        T::Float => method(".float()"),
        T::Double => method(".double()"),
        T::Decimal(Some((p, s))) => TypeText::Method(format!(".decimal_len({p}, {s})")),
        T::Decimal(None) => method(".decimal()"),
        T::DateTime => method(".date_time()"),
        T::Timestamp => method(".timestamp()"),
        T::TimestampWithTimeZone => method(".timestamp_with_time_zone()"),
        T::Time => method(".time()"),
        T::Date => method(".date()"),
        T::Year => {
            only_on(column, "year", "MySQL/MariaDB", notes);
            method(".year()")
        }
        T::Interval(fields, precision) => {
            only_on(column, "interval", "Postgres", notes);
            TypeText::Method(format!(
                ".interval({}, {})",
                interval_fields(fields.as_ref()),
                option(precision.as_ref())
            ))
        }
        T::Binary(n) => TypeText::Method(format!(".binary_len({n})")),
        T::VarBinary(StringLen::N(n)) => TypeText::Method(format!(".var_binary({n})")),
        T::Bit(length) => {
            only_on(column, "bit", "Postgres and MySQL/MariaDB", notes);
            TypeText::Method(format!(".bit({})", option(length.as_ref())))
        }
        T::VarBit(n) => {
            only_on(column, "varbit", "Postgres", notes);
            TypeText::Method(format!(".varbit({n})"))
        }
        T::Boolean => method(".boolean()"),
        T::Money(Some((p, s))) => TypeText::Method(format!(".money_len({p}, {s})")),
        T::Money(None) => method(".money()"),
        T::Json => method(".json()"),
        T::JsonBinary => method(".json_binary()"),
        T::Uuid => method(".uuid()"),
        T::Custom(iden) => {
            let spelled = iden.to_string();
            custom_note(column, &spelled, origin, notes);
            TypeText::Method(format!(".custom(Alias::new({spelled:?}))"))
        }
        T::Enum { name, variants } => {
            enum_note(column, &name.to_string(), variants, notes);
            method(".string()")
        }
        T::Array(element) => {
            only_on(column, "an array", "Postgres", notes);
            TypeText::Method(format!(
                ".array({})",
                type_expr(element, column, origin, notes)
            ))
        }
        T::Cidr => {
            only_on(column, "cidr", "Postgres", notes);
            method(".cidr()")
        }
        T::Inet => {
            only_on(column, "inet", "Postgres", notes);
            method(".inet()")
        }
        T::MacAddr => {
            only_on(column, "macaddr", "Postgres", notes);
            method(".mac_address()")
        }
        T::LTree => {
            only_on(column, "ltree", "Postgres (extension `ltree`)", notes);
            method(".ltree()")
        }
        T::Vector(_) => {
            // `.vector()` needs sea-query's `postgres-vector` feature, which Braid does not enable.
            only_on(column, "vector", "Postgres (extension `pgvector`)", notes);
            TypeText::WithType(type_expr(ct, column, origin, notes))
        }
        T::String(StringLen::Max) | T::VarBinary(_) => {
            TypeText::WithType(type_expr(ct, column, origin, notes))
        }
        other => {
            let spelled = postgres_type_sql(other);
            notes.push(format!(
                "column `{column}`: type {other:?} has no builder spelling here; written as \
                 Postgres's `{spelled}`."
            ));
            TypeText::Method(format!(".custom(Alias::new({spelled:?}))"))
        }
    }
}

/// `ct` as a `ColumnType` expression (an array's element, or a type no builder method sets).
fn type_expr(ct: &ColumnType, column: &str, origin: Origin, notes: &mut Vec<String>) -> String {
    use ColumnType as T;
    let unit = |v: &str| format!("ColumnType::{v}");
    match ct {
        T::Char(n) => format!("ColumnType::Char({})", option(n.as_ref())),
        T::String(len) => format!("ColumnType::String({})", string_len(len)),
        T::Text => unit("Text"),
        T::Blob => unit("Blob"),
        T::TinyInteger => unit("TinyInteger"),
        T::SmallInteger => unit("SmallInteger"),
        T::Integer => unit("Integer"),
        T::BigInteger => unit("BigInteger"),
        T::TinyUnsigned => unit("TinyUnsigned"),
        T::SmallUnsigned => unit("SmallUnsigned"),
        T::Unsigned => unit("Unsigned"),
        T::BigUnsigned => unit("BigUnsigned"),
        T::Float => unit("Float"),
        T::Double => unit("Double"),
        T::Decimal(ps) => format!("ColumnType::Decimal({})", precision_scale(ps.as_ref())),
        T::DateTime => unit("DateTime"),
        T::Timestamp => unit("Timestamp"),
        T::TimestampWithTimeZone => unit("TimestampWithTimeZone"),
        T::Time => unit("Time"),
        T::Date => unit("Date"),
        T::Year => unit("Year"),
        T::Interval(fields, precision) => format!(
            "ColumnType::Interval({}, {})",
            interval_fields(fields.as_ref()),
            option(precision.as_ref())
        ),
        T::Binary(n) => format!("ColumnType::Binary({n})"),
        T::VarBinary(len) => format!("ColumnType::VarBinary({})", string_len(len)),
        T::Bit(n) => format!("ColumnType::Bit({})", option(n.as_ref())),
        T::VarBit(n) => format!("ColumnType::VarBit({n})"),
        T::Boolean => unit("Boolean"),
        T::Money(ps) => format!("ColumnType::Money({})", precision_scale(ps.as_ref())),
        T::Json => unit("Json"),
        T::JsonBinary => unit("JsonBinary"),
        T::Uuid => unit("Uuid"),
        T::Custom(iden) => {
            let spelled = iden.to_string();
            custom_note(column, &spelled, origin, notes);
            format!("ColumnType::custom(Alias::new({spelled:?}))")
        }
        T::Enum { name, variants } => {
            enum_note(column, &name.to_string(), variants, notes);
            "ColumnType::String(StringLen::None)".to_string()
        }
        T::Array(element) => format!(
            "ColumnType::Array(RcOrArc::new({}))",
            type_expr(element, column, origin, notes)
        ),
        T::Vector(n) => format!("ColumnType::Vector({})", option(n.as_ref())),
        T::Cidr => unit("Cidr"),
        T::Inet => unit("Inet"),
        T::MacAddr => unit("MacAddr"),
        T::LTree => unit("LTree"),
        other => {
            let spelled = postgres_type_sql(other);
            notes.push(format!(
                "column `{column}`: type {other:?} has no builder spelling here; written as \
                 Postgres's `{spelled}`."
            ));
            format!("ColumnType::custom(Alias::new({spelled:?}))")
        }
    }
}

fn only_on(column: &str, what: &str, backends: &str, notes: &mut Vec<String>) {
    notes.push(format!(
        "column `{column}`: {what} exists on {backends} only (sea-query cannot write it elsewhere)."
    ));
}

fn custom_note(column: &str, spelled: &str, origin: Origin, notes: &mut Vec<String>) {
    notes.push(match origin {
        Origin::Entity => format!(
            "column `{column}`: custom type `{spelled}` has no portable spelling; it is written \
             verbatim for every backend."
        ),
        Origin::Catalogue(dialect) => {
            let mariadb_json = if dialect == Dialect::Mysql && spelled == "longtext" {
                " (MariaDB reports a JSON column as `longtext` with a `json_valid` check)"
            } else {
                ""
            };
            format!(
                "column `{column}`: type `{spelled}` is {}'s spelling only, written verbatim{}.",
                dialect_name(dialect),
                mariadb_json
            )
        }
    });
}

fn enum_note(column: &str, name: &str, variants: &[sea_query::DynIden], notes: &mut Vec<String>) {
    let variants: Vec<String> = variants.iter().map(ToString::to_string).collect();
    notes.push(format!(
        "column `{column}`: enum `{name}` ({}) has no portable spelling; written as string.",
        variants.join(", ")
    ));
}

fn option(n: Option<&u32>) -> String {
    match n {
        Some(n) => format!("Some({n})"),
        None => "None".to_string(),
    }
}

fn precision_scale(ps: Option<&(u32, u32)>) -> String {
    match ps {
        Some((p, s)) => format!("Some(({p}, {s}))"),
        None => "None".to_string(),
    }
}

fn string_len(len: &StringLen) -> String {
    match len {
        StringLen::N(n) => format!("StringLen::N({n})"),
        StringLen::Max => "StringLen::Max".to_string(),
        StringLen::None => "StringLen::None".to_string(),
    }
}

/// `Some(PgInterval::DayToSecond)` / `None` (the variants' `Debug` is their name).
fn interval_fields(fields: Option<&sea_query::PgInterval>) -> String {
    match fields {
        Some(f) => format!("Some(PgInterval::{f:?})"),
        None => "None".to_string(),
    }
}

/// `.default(…)`'s argument for `expr`: a Rust literal for a value, a keyword's constructor,
/// else `Expr::cust` of the SQL Postgres renders, noted.
fn default_expr(expr: &Expr, column: &str, notes: &mut Vec<String>) -> String {
    let keyword = |k: &str| format!("Expr::{k}()");
    match expr {
        Expr::Value(v) | Expr::Constant(v) => default_value(v, column, notes),
        Expr::Keyword(Keyword::Null) => keyword("null"),
        Expr::Keyword(Keyword::CurrentDate) => keyword("current_date"),
        Expr::Keyword(Keyword::CurrentTime) => keyword("current_time"),
        Expr::Keyword(Keyword::CurrentTimestamp) => keyword("current_timestamp"),
        Expr::Keyword(Keyword::Default) => keyword("keyword_default"),
        Expr::Keyword(Keyword::Custom(iden)) => {
            let word = iden.to_string();
            notes.push(format!(
                "column `{column}`: its default is the keyword `{word}`, written verbatim for \
                 every backend."
            ));
            format!("Expr::custom_keyword(Alias::new({word:?}))")
        }
        other => {
            let sql = postgres_sql(other);
            notes.push(format!(
                "column `{column}`: its default `{sql}` is an SQL expression, written as \
                 Postgres renders it."
            ));
            format!("Expr::cust({sql:?})")
        }
    }
}

fn default_value(v: &Value, column: &str, notes: &mut Vec<String>) -> String {
    let int = |n: i128| int_literal(n).unwrap_or_else(|| n.to_string());
    match v {
        Value::Bool(Some(b)) => b.to_string(),
        Value::TinyInt(Some(n)) => int(i128::from(*n)),
        Value::SmallInt(Some(n)) => int(i128::from(*n)),
        Value::Int(Some(n)) => int(i128::from(*n)),
        Value::BigInt(Some(n)) => int(i128::from(*n)),
        Value::TinyUnsigned(Some(n)) => int(i128::from(*n)),
        Value::SmallUnsigned(Some(n)) => int(i128::from(*n)),
        Value::Unsigned(Some(n)) => int(i128::from(*n)),
        Value::BigUnsigned(Some(n)) => int(i128::from(*n)),
        Value::Float(Some(f)) if f.is_finite() => format!("{f:?}"),
        Value::Double(Some(f)) if f.is_finite() => format!("{f:?}"),
        Value::String(Some(s)) => format!("{s:?}"),
        Value::Char(Some(c)) => format!("{:?}", c.to_string()),
        Value::Bytes(Some(_)) => {
            let sql = postgres_sql(&Expr::Value(v.clone()));
            notes.push(format!(
                "column `{column}`: its bytes default is written as Postgres's literal `{sql}`, \
                 which other backends read as text."
            ));
            format!("Expr::cust({sql:?})")
        }
        // NULLs, dates, decimals, UUIDs, JSON, enums…: as Postgres writes them, read back like
        // a Postgres catalogue's default (a quoted literal becomes a string).
        _ => {
            let sql = postgres_sql(&Expr::Value(v.clone()));
            match catalogue_default(Dialect::Postgres, &sql, None, "") {
                DefaultText::Rust(rust) => rust,
                DefaultText::Serial | DefaultText::Cust(_) => {
                    notes.push(format!(
                        "column `{column}`: its default `{sql}` has no portable spelling; \
                         written as Postgres renders it."
                    ));
                    format!("Expr::cust({sql:?})")
                }
            }
        }
    }
}

/// An integer as a Rust literal `.default(…)` takes: unsuffixed in `i32`'s range (an unsuffixed
/// literal is an `i32`), else `i64` / `u64`; `None` beyond them.
fn int_literal(n: i128) -> Option<String> {
    if i32::try_from(n).is_ok() {
        Some(n.to_string())
    } else if i64::try_from(n).is_ok() {
        Some(format!("{n}i64"))
    } else if u64::try_from(n).is_ok() {
        Some(format!("{n}u64"))
    } else {
        None
    }
}

/// `text` as a Rust number literal, when it is a plain SQL number kept exactly: an integer up
/// to `u64`, or a decimal of at most 15 significant digits (which an `f64` keeps).
fn number_literal(text: &str) -> Option<String> {
    let t = text.strip_prefix('+').unwrap_or(text);
    let unsigned = t.strip_prefix('-').unwrap_or(t);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole)
        || !fraction.is_none_or(digits)
        || whole.len() + fraction.map_or(0, str::len) == 0
    {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !digits(e) {
            return None;
        }
    }
    if fraction.is_none() && exponent.is_none() {
        return int_literal(t.parse().ok()?);
    }
    let all = format!("{whole}{}", fraction.unwrap_or(""));
    let significant = all.trim_start_matches('0').trim_end_matches('0').len();
    let f: f64 = t.parse().ok()?;
    (significant <= 15 && f.is_finite()).then(|| format!("{f:?}"))
}

/// A catalogue's default, read.
enum DefaultText {
    /// The argument of `.default(…)`.
    Rust(String),
    /// A Postgres serial's `nextval(…)`: the column numbers itself.
    Serial,
    /// SQL with no Rust spelling, as printed (one outer pair of parentheses dropped).
    Cust(String),
}

/// Reads a default as `dialect`'s catalogue prints it, for a column of type `ct` declared
/// `declared` (what MySQL 8's unquoted literals need: their column's type).
fn catalogue_default(
    dialect: Dialect,
    text: &str,
    ct: Option<&ColumnType>,
    declared: &str,
) -> DefaultText {
    let t = unparenthesize(text.trim());
    let lower = t.to_ascii_lowercase();
    let boolean = matches!(ct, Some(ColumnType::Boolean));
    if dialect == Dialect::Postgres && lower.starts_with("nextval(") {
        return DefaultText::Serial;
    }
    if lower == "null" || lower.starts_with("null::") {
        return DefaultText::Rust("Expr::null()".into());
    }
    match lower.as_str() {
        "current_timestamp" | "current_timestamp()" | "now()" => {
            return DefaultText::Rust("Expr::current_timestamp()".into());
        }
        "current_date" | "current_date()" | "curdate()" => {
            return DefaultText::Rust("Expr::current_date()".into());
        }
        "current_time" | "current_time()" | "curtime()" => {
            return DefaultText::Rust("Expr::current_time()".into());
        }
        _ => {}
    }
    if let Some((content, cast)) = quoted(dialect, t) {
        let numeric_cast = cast.is_some_and(|c| {
            let c = c.to_ascii_lowercase();
            ["integer", "bigint", "smallint", "real", "double precision"].contains(&c.as_str())
                || c.starts_with("numeric")
        });
        if numeric_cast && let Some(n) = number_literal(&content) {
            return DefaultText::Rust(n);
        }
        // MySQL/MariaDB may escape with backslashes, which would need unescaping by rules of
        // the server's SQL mode: not guessed.
        if !(dialect == Dialect::Mysql && content.contains('\\')) {
            return DefaultText::Rust(format!("{content:?}"));
        }
    }
    // MySQL 8 prints a literal default of a character or date column unquoted; an expression
    // default (`DEFAULT_GENERATED`) is a call or in parentheses.
    if dialect == Dialect::Mysql && mysql_textual(declared) && !text.contains(['(', '\'']) {
        return DefaultText::Rust(format!("{text:?}"));
    }
    if lower == "true" || lower == "false" {
        return DefaultText::Rust(lower);
    }
    if let Some(n) = number_literal(t) {
        return DefaultText::Rust(match (boolean, n.as_str()) {
            (true, "0") => "false".into(),
            (true, "1") => "true".into(),
            _ => n,
        });
    }
    DefaultText::Cust(t.to_string())
}

/// `text` without parentheses that enclose all of it (SQLite keeps `DEFAULT (1 + 2)` as
/// `(1 + 2)`; sea-query writes an expression default in parentheses).
fn unparenthesize(mut text: &str) -> &str {
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        // The opening parenthesis must close at the very end, outside quotes.
        let mut depth = 0usize;
        let mut in_quote = false;
        let mut closes_early = false;
        for (i, c) in text.char_indices() {
            match c {
                '\'' => in_quote = !in_quote,
                '(' if !in_quote => depth += 1,
                ')' if !in_quote => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 && i + 1 < text.len() {
                        closes_early = true;
                        break;
                    }
                }
                _ => {}
            }
        }
        if closes_early {
            break;
        }
        text = inner.trim();
    }
    text
}

/// A single-quoted literal (`''` for a quote), whole or (Postgres) followed by `::type`:
/// the content and the cast.
fn quoted(dialect: Dialect, text: &str) -> Option<(String, Option<&str>)> {
    let rest = text.strip_prefix('\'')?;
    let mut content = String::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            content.push(c);
            continue;
        }
        if chars.peek().is_some_and(|&(_, n)| n == '\'') {
            chars.next();
            content.push('\'');
            continue;
        }
        let after = &rest[i + 1..];
        if after.is_empty() {
            return Some((content, None));
        }
        return match after.strip_prefix("::") {
            Some(cast) if dialect == Dialect::Postgres => Some((content, Some(cast))),
            _ => None,
        };
    }
    None
}

/// A MySQL column type whose literal defaults MySQL 8 prints unquoted as text.
fn mysql_textual(declared: &str) -> bool {
    let lower = declared.to_ascii_lowercase();
    let name = lower.split(['(', ' ']).next().unwrap_or("");
    [
        "char",
        "varchar",
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "enum",
        "set",
        "date",
        "datetime",
        "time",
        "timestamp",
    ]
    .contains(&name)
}

/// The sea-query type `declared` reads as on `dialect` (`Custom` for a spelling sea-query does
/// not write); `None` for no declared type.
fn catalogue_type(dialect: Dialect, declared: &str) -> Option<ColumnType> {
    if declared.is_empty() {
        return None;
    }
    let lower = declared
        .to_ascii_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let known = match dialect {
        Dialect::Postgres => postgres_type(&lower),
        Dialect::Mysql => mysql_type(&lower),
        Dialect::Sqlite => sqlite_type(&lower),
    };
    Some(known.unwrap_or_else(|| ColumnType::custom(Alias::new(declared))))
}

/// `name(a, b)` as `("name", [a, b])`; `name` as `("name", [])`. `None` for arguments that are
/// not numbers.
fn with_args(t: &str) -> Option<(&str, Vec<u32>)> {
    match t.strip_suffix(')').and_then(|t| t.split_once('(')) {
        Some((name, args)) => {
            let args = args
                .split(',')
                .map(|a| a.trim().parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((name.trim(), args))
        }
        None => Some((t, Vec::new())),
    }
}

/// `format_type`'s spellings of the types sea-query writes on Postgres.
fn postgres_type(t: &str) -> Option<ColumnType> {
    use ColumnType as T;
    if let Some(element) = t.strip_suffix("[]") {
        let element =
            postgres_type(element).unwrap_or_else(|| ColumnType::custom(Alias::new(element)));
        return Some(T::Array(RcOrArc::new(element)));
    }
    if let Some(rest) = t.strip_prefix("interval") {
        return postgres_interval(rest);
    }
    let (name, args) = with_args(t)?;
    Some(match (name, args.as_slice()) {
        ("character varying", []) => T::String(StringLen::None),
        ("character varying", [n]) => T::String(StringLen::N(*n)),
        // `char` is `character(1)`, on every backend.
        ("character", [1]) => T::Char(None),
        ("character", [n]) => T::Char(Some(*n)),
        ("text", []) => T::Text,
        ("smallint", []) => T::SmallInteger,
        ("integer", []) => T::Integer,
        ("bigint", []) => T::BigInteger,
        ("real", []) => T::Float,
        ("double precision", []) => T::Double,
        ("numeric", []) => T::Decimal(None),
        ("numeric", [p, s]) => T::Decimal(Some((*p, *s))),
        ("timestamp without time zone", []) => T::DateTime,
        ("timestamp with time zone", []) => T::TimestampWithTimeZone,
        ("time without time zone", []) => T::Time,
        ("date", []) => T::Date,
        ("bytea", []) => T::Blob,
        ("bit", [1]) => T::Bit(None),
        ("bit", [n]) => T::Bit(Some(*n)),
        ("bit varying", [n]) => T::VarBit(*n),
        ("boolean", []) => T::Boolean,
        ("money", []) => T::Money(None),
        ("json", []) => T::Json,
        ("jsonb", []) => T::JsonBinary,
        ("uuid", []) => T::Uuid,
        ("cidr", []) => T::Cidr,
        ("inet", []) => T::Inet,
        ("macaddr", []) => T::MacAddr,
        ("ltree", []) => T::LTree,
        ("vector", []) => T::Vector(None),
        ("vector", [n]) => T::Vector(Some(*n)),
        _ => return None,
    })
}

/// `interval`, then optional fields (`year to month`), then an optional precision `(6)`.
fn postgres_interval(rest: &str) -> Option<ColumnType> {
    use sea_query::PgInterval as I;
    let (fields, args) = with_args(rest.trim())?;
    let precision = match args.as_slice() {
        [] => None,
        [p] => Some(*p),
        _ => return None,
    };
    let fields = match fields {
        "" => None,
        "year" => Some(I::Year),
        "month" => Some(I::Month),
        "day" => Some(I::Day),
        "hour" => Some(I::Hour),
        "minute" => Some(I::Minute),
        "second" => Some(I::Second),
        "year to month" => Some(I::YearToMonth),
        "day to hour" => Some(I::DayToHour),
        "day to minute" => Some(I::DayToMinute),
        "day to second" => Some(I::DayToSecond),
        "hour to minute" => Some(I::HourToMinute),
        "hour to second" => Some(I::HourToSecond),
        "minute to second" => Some(I::MinuteToSecond),
        _ => return None,
    };
    Some(ColumnType::Interval(fields, precision))
}

/// `COLUMN_TYPE`'s spellings (with or without display widths: MySQL 8.0.19+ drops them but for
/// `tinyint(1)`, MariaDB keeps them) of the types sea-query writes on MySQL.
fn mysql_type(t: &str) -> Option<ColumnType> {
    use ColumnType as T;
    let (base, unsigned) = match t.strip_suffix(" unsigned") {
        Some(base) => (base, true),
        None => (t, false),
    };
    if base.contains(' ') {
        return None; // zerofill, or a spelling not sea-query's
    }
    let (name, args) = with_args(base)?;
    let int = |signed: T, unsigned_type: T| if unsigned { unsigned_type } else { signed };
    Some(match (name, args.as_slice(), unsigned) {
        ("tinyint", [1], false) => T::Boolean,
        ("tinyint", [] | [_], _) => int(T::TinyInteger, T::TinyUnsigned),
        ("smallint", [] | [_], _) => int(T::SmallInteger, T::SmallUnsigned),
        ("int", [] | [_], _) => int(T::Integer, T::Unsigned),
        ("bigint", [] | [_], _) => int(T::BigInteger, T::BigUnsigned),
        ("float", [], false) => T::Float,
        ("double", [], false) => T::Double,
        ("decimal", [p, s], false) => T::Decimal(Some((*p, *s))),
        ("char", [1], false) => T::Char(None),
        ("char", [n], false) => T::Char(Some(*n)),
        ("varchar", [n], false) => T::String(StringLen::N(*n)),
        ("text", [], false) => T::Text,
        ("datetime", [], false) => T::DateTime,
        ("timestamp", [], false) => T::Timestamp,
        ("time", [], false) => T::Time,
        ("date", [], false) => T::Date,
        ("year", [] | [4], false) => T::Year,
        ("binary", [n], false) => T::Binary(*n),
        ("varbinary", [n], false) => T::VarBinary(StringLen::N(*n)),
        ("blob", [], false) => T::Blob,
        ("bit", [1], false) => T::Bit(None),
        ("bit", [n], false) => T::Bit(Some(*n)),
        ("json", [], false) => T::Json,
        _ => return None,
    })
}

/// SQLite's declared types: sea-query's spellings (`src/backend/sqlite/table.rs`), and the
/// usual hand-written ones, read as the sea-query type closest in meaning. Only types sea-query
/// can write on SQLite.
fn sqlite_type(t: &str) -> Option<ColumnType> {
    use ColumnType as T;
    let (name, args) = with_args(t)?;
    Some(match (name, args.as_slice()) {
        ("char" | "character" | "nchar" | "native character", []) => T::Char(None),
        ("char" | "character" | "nchar" | "native character", [n]) => T::Char(Some(*n)),
        ("varchar" | "character varying" | "varying character" | "nvarchar", []) => {
            T::String(StringLen::None)
        }
        ("varchar" | "character varying" | "varying character" | "nvarchar", [n]) => {
            T::String(StringLen::N(*n))
        }
        ("text" | "clob", []) => T::Text,
        ("tinyint", []) => T::TinyInteger,
        ("smallint" | "int2", []) => T::SmallInteger,
        ("integer" | "int" | "mediumint" | "int4", []) => T::Integer,
        ("bigint" | "int8", []) => T::BigInteger,
        ("float", []) => T::Float,
        // SQLite's REAL is an 8-byte float.
        ("double" | "double precision" | "real", []) => T::Double,
        ("real", [p, s]) | ("decimal" | "numeric", [p, s]) => T::Decimal(Some((*p, *s))),
        ("real_decimal" | "decimal" | "numeric", []) => T::Decimal(None),
        ("datetime_text" | "datetime", []) => T::DateTime,
        ("timestamp_text" | "timestamp", []) => T::Timestamp,
        ("timestamp_with_timezone_text", []) => T::TimestampWithTimeZone,
        ("time_text" | "time", []) => T::Time,
        ("date_text" | "date", []) => T::Date,
        ("blob", [n]) => T::Binary(*n),
        ("blob", []) => T::Blob,
        ("varbinary_blob", [n]) => T::VarBinary(StringLen::N(*n)),
        ("varbinary_blob", []) => T::VarBinary(StringLen::None),
        ("boolean" | "bool", []) => T::Boolean,
        ("real_money", [p, s]) => T::Money(Some((*p, *s))),
        ("real_money", []) => T::Money(None),
        ("json_text" | "json", []) => T::Json,
        ("jsonb_text" | "jsonb", []) => T::JsonBinary,
        ("uuid_text" | "uuid", []) => T::Uuid,
        ("enum_text", []) => T::String(StringLen::None),
        _ => return None,
    })
}

/// How sea-query declares `ct` on SQLite (only for types it can write there).
fn sqlite_spelling(ct: &ColumnType) -> String {
    let def = ColumnDef::new_with_type(Alias::new("c"), ct.clone());
    let sql = Table::create()
        .table(Alias::new("t"))
        .col(def)
        .to_string(SqliteQueryBuilder);
    sql.strip_prefix("CREATE TABLE \"t\" ( \"c\" ")
        .and_then(|s| s.strip_suffix(" )"))
        .unwrap_or(&sql)
        .to_string()
}

/// How sea-query declares `ct` on Postgres.
fn postgres_type_sql(ct: &ColumnType) -> String {
    postgres_after_name(&mut ColumnDef::new_with_type(Alias::new("c"), ct.clone()))
}

/// What Postgres's `CREATE TABLE` writes after the name of column `c` defined by `def`.
fn postgres_after_name(def: &mut ColumnDef) -> String {
    let sql = postgres_column_sql(def);
    sql.strip_prefix("\"c\" ").unwrap_or(&sql).to_string()
}

/// A column definition as Postgres's `CREATE TABLE` writes it.
fn postgres_column_sql(def: &mut ColumnDef) -> String {
    let sql = Table::create()
        .table(Alias::new("t"))
        .col(def)
        .to_string(PostgresQueryBuilder);
    sql.strip_prefix("CREATE TABLE \"t\" ( ")
        .and_then(|s| s.strip_suffix(" )"))
        .unwrap_or(&sql)
        .to_string()
}

/// An expression as Postgres renders it.
fn postgres_sql(expr: &Expr) -> String {
    let sql = Query::select()
        .expr(expr.clone())
        .to_string(PostgresQueryBuilder);
    sql.strip_prefix("SELECT ").unwrap_or(&sql).to_string()
}

#[cfg(test)]
mod tests {
    // Only what a migration imports, and the functions under test: the source text the tests
    // compile (`def!`) must compile with `use braid::prelude::*;` alone.
    use super::{column_def, number_literal, quoted, snapshot_column, unparenthesize};
    use crate::prelude::*;
    use braid_driver::{Column, Dialect, Driver};

    /// A column definition and the source text that built it, which must be what
    /// [`column_def`] spells (compared without whitespace: `stringify!` spaces tokens its way).
    macro_rules! def {
        ($e:expr) => {{
            let def: sea_query::ColumnDef = ($e).to_owned();
            (def, stringify!($e))
        }};
    }

    fn squeeze(s: &str) -> String {
        s.split_whitespace().collect()
    }

    fn assert_spelled(cases: &[(sea_query::ColumnDef, &str)]) {
        for (def, source) in cases {
            let spelled = column_def(def);
            assert_eq!(squeeze(&spelled.rust), squeeze(source), "{def:?}");
        }
    }

    #[test]
    fn column_def_spells_every_type() {
        assert_spelled(&[
            def!(ColumnDef::new("c").char_len(3).not_null()),
            def!(ColumnDef::new("c").char().null()),
            def!(ColumnDef::new("c").string_len(255).not_null()),
            def!(ColumnDef::new("c").string()),
            def!(ColumnDef::new("c").text()),
            def!(ColumnDef::new("c").blob()),
            def!(ColumnDef::new("c").tiny_integer()),
            def!(ColumnDef::new("c").small_integer()),
            def!(ColumnDef::new("c").integer()),
            def!(ColumnDef::new("c").big_integer()),
            def!(ColumnDef::new("c").tiny_unsigned()),
            def!(ColumnDef::new("c").small_unsigned()),
            def!(ColumnDef::new("c").unsigned()),
            def!(ColumnDef::new("c").big_unsigned()),
            def!(ColumnDef::new("c").float()),
            def!(ColumnDef::new("c").double()),
            def!(ColumnDef::new("c").decimal_len(10, 2)),
            def!(ColumnDef::new("c").decimal()),
            def!(ColumnDef::new("c").date_time()),
            def!(ColumnDef::new("c").timestamp()),
            def!(ColumnDef::new("c").timestamp_with_time_zone()),
            def!(ColumnDef::new("c").time()),
            def!(ColumnDef::new("c").date()),
            def!(ColumnDef::new("c").year()),
            def!(ColumnDef::new("c").interval(None, None)),
            def!(ColumnDef::new("c").interval(Some(PgInterval::DayToSecond), Some(3))),
            def!(ColumnDef::new("c").binary_len(16)),
            def!(ColumnDef::new("c").var_binary(100)),
            def!(ColumnDef::new("c").bit(None)),
            def!(ColumnDef::new("c").bit(Some(8))),
            def!(ColumnDef::new("c").varbit(8)),
            def!(ColumnDef::new("c").boolean()),
            def!(ColumnDef::new("c").money_len(19, 4)),
            def!(ColumnDef::new("c").money()),
            def!(ColumnDef::new("c").json()),
            def!(ColumnDef::new("c").json_binary()),
            def!(ColumnDef::new("c").uuid()),
            def!(ColumnDef::new("c").custom(Alias::new("citext"))),
            def!(ColumnDef::new("c").array(ColumnType::String(StringLen::N(20)))),
            def!(ColumnDef::new("c").array(ColumnType::Array(RcOrArc::new(ColumnType::Integer)))),
            def!(ColumnDef::new("c").cidr()),
            def!(ColumnDef::new("c").inet()),
            def!(ColumnDef::new("c").mac_address()),
            def!(ColumnDef::new("c").ltree()),
            def!(ColumnDef::new_with_type(
                "c",
                ColumnType::String(StringLen::Max)
            )),
            def!(ColumnDef::new_with_type("c", ColumnType::VarBinary(StringLen::None)).not_null()),
            def!(ColumnDef::new_with_type("c", ColumnType::Vector(Some(3)))),
            def!(ColumnDef::new("c")),
        ]);
    }

    #[test]
    fn column_def_spells_defaults_and_constraints() {
        assert_spelled(&[
            def!(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key()
            ),
            def!(
                ColumnDef::new("email")
                    .string_len(255)
                    .not_null()
                    .unique_key()
            ),
            def!(ColumnDef::new("n").integer().not_null().default(0)),
            def!(ColumnDef::new("n").integer().not_null().default(-7)),
            def!(ColumnDef::new("n").big_integer().default(5000000000i64)),
            def!(
                ColumnDef::new("n")
                    .big_unsigned()
                    .default(18446744073709551615u64)
            ),
            def!(ColumnDef::new("x").double().default(1.5)),
            def!(ColumnDef::new("x").float().default(0.25)),
            def!(ColumnDef::new("s").string().default("it's \"quoted\"\n")),
            def!(ColumnDef::new("b").boolean().not_null().default(true)),
            def!(ColumnDef::new("b").boolean().default(false)),
            def!(
                ColumnDef::new("t")
                    .timestamp_with_time_zone()
                    .not_null()
                    .default(Expr::current_timestamp())
            ),
            def!(ColumnDef::new("d").date().default(Expr::current_date())),
            def!(ColumnDef::new("d").time().default(Expr::current_time())),
            def!(ColumnDef::new("n").integer().null().default(Expr::null())),
            def!(ColumnDef::new("we\"ird\\").text()),
        ]);
        // Defaults not written as they were, but as what renders the same SQL.
        let cases = [
            (
                ColumnDef::new("n").integer().default(7i64).to_owned(),
                r#"ColumnDef::new("n").integer().default(7)"#,
            ),
            (
                ColumnDef::new("c").char_len(1).default('x').to_owned(),
                r#"ColumnDef::new("c").char_len(1).default("x")"#,
            ),
            (
                ColumnDef::new("n")
                    .integer()
                    .default(Value::Int(None))
                    .to_owned(),
                r#"ColumnDef::new("n").integer().default(Expr::null())"#,
            ),
        ];
        for (def, rust) in cases {
            let spelled = column_def(&def);
            assert_eq!(spelled.rust, rust);
            assert!(spelled.notes.is_empty(), "{spelled:?}");
        }
    }

    #[test]
    fn column_def_notes_what_it_cannot_say() {
        let spelled = column_def(&ColumnDef::new("c").custom(Alias::new("citext")).to_owned());
        assert_eq!(
            spelled.rust,
            r#"ColumnDef::new("c").custom(Alias::new("citext"))"#
        );
        assert_eq!(
            spelled.notes,
            [
                "column `c`: custom type `citext` has no portable spelling; it is written verbatim \
              for every backend."
            ]
        );

        let spelled = column_def(
            &ColumnDef::new("mood")
                .enumeration(Alias::new("mood"), [Alias::new("happy"), Alias::new("sad")])
                .not_null()
                .to_owned(),
        );
        assert_eq!(
            spelled.rust,
            r#"ColumnDef::new("mood").string().not_null()"#
        );
        assert_eq!(
            spelled.notes,
            [
                "column `mood`: enum `mood` (happy, sad) has no portable spelling; written as \
              string."
            ]
        );

        let spelled = column_def(
            &ColumnDef::new("id")
                .uuid()
                .not_null()
                .default(Expr::cust("gen_random_uuid()"))
                .to_owned(),
        );
        assert_eq!(
            spelled.rust,
            r#"ColumnDef::new("id").uuid().not_null().default(Expr::cust("gen_random_uuid()"))"#
        );
        assert_eq!(spelled.notes.len(), 1);
        assert!(
            spelled.notes[0].contains("`gen_random_uuid()`"),
            "{spelled:?}"
        );

        let spelled = column_def(
            &ColumnDef::new("n")
                .integer()
                .default(Expr::val(1).add(2))
                .check(Expr::col("n").gt(0))
                .generated(Expr::col("m").mul(2), true)
                .extra("COLLATE x")
                .comment("a comment")
                .to_owned(),
        );
        assert_eq!(
            spelled.rust,
            r#"ColumnDef::new("n").integer().default(Expr::cust("1 + 2"))"#
        );
        assert_eq!(spelled.notes.len(), 5, "{spelled:?}");
        assert_eq!(
            spelled.notes[1],
            r#"column `n`: its check `CHECK ("n" > 0)` is not written (add it with `.check(...)`)."#
        );
        assert!(spelled.notes[2].contains(r#"GENERATED ALWAYS AS ("m" * 2) STORED"#));
        assert!(spelled.notes[3].contains("`COLLATE x`"));
        assert!(spelled.notes[4].contains("\"a comment\""));

        let spelled = column_def(
            &ColumnDef::new("b")
                .blob()
                .default(vec![1u8, 255])
                .to_owned(),
        );
        assert_eq!(
            spelled.rust,
            r#"ColumnDef::new("b").blob().default(Expr::cust("'\\x01FF'"))"#
        );
        assert_eq!(spelled.notes.len(), 1);

        // Types one backend has.
        for def in [
            ColumnDef::new("c").interval(None, None).to_owned(),
            ColumnDef::new("c").year().to_owned(),
            ColumnDef::new("c").inet().to_owned(),
            ColumnDef::new("c").array(ColumnType::Text).to_owned(),
        ] {
            assert_eq!(column_def(&def).notes.len(), 1, "{def:?}");
        }
    }

    fn column(data_type: &str, nullable: bool) -> Column {
        Column {
            name: "c".into(),
            data_type: data_type.into(),
            nullable,
            ..Column::default()
        }
    }

    fn with_default(data_type: &str, default: &str) -> Column {
        Column {
            default: Some(default.into()),
            ..column(data_type, false)
        }
    }

    /// Each catalogue column's spelling; the source text is compiled too (`def!`).
    fn assert_snapshots(dialect: Dialect, cases: &[(Column, (sea_query::ColumnDef, &str))]) {
        for (column, (_, source)) in cases {
            let spelled = snapshot_column(dialect, column);
            assert_eq!(squeeze(&spelled.rust), squeeze(source), "{column:?}");
        }
    }

    #[test]
    fn postgres_spellings() {
        assert_snapshots(
            Dialect::Postgres,
            &[
                (
                    column("character varying(255)", false),
                    def!(ColumnDef::new("c").string_len(255).not_null()),
                ),
                (
                    column("character varying", true),
                    def!(ColumnDef::new("c").string().null()),
                ),
                (
                    column("character(3)", false),
                    def!(ColumnDef::new("c").char_len(3).not_null()),
                ),
                (
                    column("character(1)", false),
                    def!(ColumnDef::new("c").char().not_null()),
                ),
                (
                    column("text", true),
                    def!(ColumnDef::new("c").text().null()),
                ),
                (
                    column("smallint", true),
                    def!(ColumnDef::new("c").small_integer().null()),
                ),
                (
                    column("integer", true),
                    def!(ColumnDef::new("c").integer().null()),
                ),
                (
                    column("bigint", true),
                    def!(ColumnDef::new("c").big_integer().null()),
                ),
                (
                    column("real", true),
                    def!(ColumnDef::new("c").float().null()),
                ),
                (
                    column("double precision", true),
                    def!(ColumnDef::new("c").double().null()),
                ),
                (
                    column("numeric(10,2)", true),
                    def!(ColumnDef::new("c").decimal_len(10, 2).null()),
                ),
                (
                    column("numeric", true),
                    def!(ColumnDef::new("c").decimal().null()),
                ),
                (
                    column("timestamp without time zone", true),
                    def!(ColumnDef::new("c").date_time().null()),
                ),
                (
                    column("timestamp with time zone", true),
                    def!(ColumnDef::new("c").timestamp_with_time_zone().null()),
                ),
                (
                    column("time without time zone", true),
                    def!(ColumnDef::new("c").time().null()),
                ),
                (
                    column("date", true),
                    def!(ColumnDef::new("c").date().null()),
                ),
                (
                    column("interval", true),
                    def!(ColumnDef::new("c").interval(None, None).null()),
                ),
                (
                    column("interval day to second(3)", true),
                    def!(
                        ColumnDef::new("c")
                            .interval(Some(PgInterval::DayToSecond), Some(3))
                            .null()
                    ),
                ),
                (
                    column("bytea", true),
                    def!(ColumnDef::new("c").blob().null()),
                ),
                (
                    column("bit(1)", true),
                    def!(ColumnDef::new("c").bit(None).null()),
                ),
                (
                    column("bit varying(8)", true),
                    def!(ColumnDef::new("c").varbit(8).null()),
                ),
                (
                    column("boolean", true),
                    def!(ColumnDef::new("c").boolean().null()),
                ),
                (
                    column("money", true),
                    def!(ColumnDef::new("c").money().null()),
                ),
                (
                    column("json", true),
                    def!(ColumnDef::new("c").json().null()),
                ),
                (
                    column("jsonb", true),
                    def!(ColumnDef::new("c").json_binary().null()),
                ),
                (
                    column("uuid", true),
                    def!(ColumnDef::new("c").uuid().null()),
                ),
                (
                    column("inet", true),
                    def!(ColumnDef::new("c").inet().null()),
                ),
                (
                    column("macaddr", true),
                    def!(ColumnDef::new("c").mac_address().null()),
                ),
                (
                    column("integer[]", true),
                    def!(ColumnDef::new("c").array(ColumnType::Integer).null()),
                ),
                (
                    column("character varying(20)[]", true),
                    def!(
                        ColumnDef::new("c")
                            .array(ColumnType::String(StringLen::N(20)))
                            .null()
                    ),
                ),
                (
                    column("vector(3)", true),
                    def!(ColumnDef::new_with_type("c", ColumnType::Vector(Some(3))).null()),
                ),
                (
                    column("timestamp(3) without time zone", true),
                    def!(
                        ColumnDef::new("c")
                            .custom(Alias::new("timestamp(3) without time zone"))
                            .null()
                    ),
                ),
                (
                    column("mood", false),
                    def!(ColumnDef::new("c").custom(Alias::new("mood")).not_null()),
                ),
                (
                    Column {
                        identity: Some("GENERATED BY DEFAULT AS IDENTITY".into()),
                        ..column("bigint", false)
                    },
                    def!(
                        ColumnDef::new("c")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                    ),
                ),
                (
                    with_default("integer", "nextval('t_c_seq'::regclass)"),
                    def!(ColumnDef::new("c").integer().not_null().auto_increment()),
                ),
                (
                    with_default("integer", "0"),
                    def!(ColumnDef::new("c").integer().not_null().default(0)),
                ),
                (
                    with_default("integer", "'-1'::integer"),
                    def!(ColumnDef::new("c").integer().not_null().default(-1)),
                ),
                (
                    with_default("bigint", "5000000000"),
                    def!(
                        ColumnDef::new("c")
                            .big_integer()
                            .not_null()
                            .default(5000000000i64)
                    ),
                ),
                (
                    with_default("numeric(10,2)", "1.50"),
                    def!(
                        ColumnDef::new("c")
                            .decimal_len(10, 2)
                            .not_null()
                            .default(1.5)
                    ),
                ),
                (
                    with_default("character varying(20)", "'it''s'::character varying"),
                    def!(
                        ColumnDef::new("c")
                            .string_len(20)
                            .not_null()
                            .default("it's")
                    ),
                ),
                (
                    with_default("jsonb", "'{}'::jsonb"),
                    def!(ColumnDef::new("c").json_binary().not_null().default("{}")),
                ),
                (
                    with_default("boolean", "true"),
                    def!(ColumnDef::new("c").boolean().not_null().default(true)),
                ),
                (
                    with_default("timestamp with time zone", "CURRENT_TIMESTAMP"),
                    def!(
                        ColumnDef::new("c")
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp())
                    ),
                ),
                (
                    with_default("timestamp with time zone", "now()"),
                    def!(
                        ColumnDef::new("c")
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp())
                    ),
                ),
                (
                    with_default("character varying", "NULL::character varying"),
                    def!(
                        ColumnDef::new("c")
                            .string()
                            .not_null()
                            .default(Expr::null())
                    ),
                ),
                (
                    with_default("uuid", "gen_random_uuid()"),
                    def!(
                        ColumnDef::new("c")
                            .uuid()
                            .not_null()
                            .default(Expr::cust("gen_random_uuid()"))
                    ),
                ),
            ],
        );
        let always = snapshot_column(
            Dialect::Postgres,
            &Column {
                identity: Some("GENERATED ALWAYS AS IDENTITY".into()),
                primary_key: true,
                ..column("integer", false)
            },
        );
        assert_eq!(
            always.rust,
            r#"ColumnDef::new("c").integer().not_null().auto_increment()"#
        );
        assert_eq!(always.notes.len(), 1, "{always:?}");
        let custom = snapshot_column(Dialect::Postgres, &column("tsvector", true));
        assert_eq!(
            custom.notes,
            ["column `c`: type `tsvector` is Postgres's spelling only, written verbatim."]
        );
        let defaulted = snapshot_column(
            Dialect::Postgres,
            &with_default("uuid", "gen_random_uuid()"),
        );
        assert_eq!(
            defaulted.notes,
            [
                "column `c`: its default `gen_random_uuid()` is Postgres SQL, written verbatim with \
              `Expr::cust`."
            ]
        );
        assert!(
            snapshot_column(Dialect::Postgres, &column("text", false))
                .notes
                .is_empty()
        );
    }

    #[test]
    fn mysql_spellings() {
        assert_snapshots(
            Dialect::Mysql,
            &[
                (
                    column("bigint(20)", false),
                    def!(ColumnDef::new("c").big_integer().not_null()),
                ),
                (
                    column("bigint", false),
                    def!(ColumnDef::new("c").big_integer().not_null()),
                ),
                (
                    column("bigint(20) unsigned", false),
                    def!(ColumnDef::new("c").big_unsigned().not_null()),
                ),
                (
                    column("int(11)", true),
                    def!(ColumnDef::new("c").integer().null()),
                ),
                (
                    column("int unsigned", true),
                    def!(ColumnDef::new("c").unsigned().null()),
                ),
                (
                    column("smallint(6)", true),
                    def!(ColumnDef::new("c").small_integer().null()),
                ),
                (
                    column("smallint unsigned", true),
                    def!(ColumnDef::new("c").small_unsigned().null()),
                ),
                (
                    column("tinyint(4)", true),
                    def!(ColumnDef::new("c").tiny_integer().null()),
                ),
                (
                    column("tinyint unsigned", true),
                    def!(ColumnDef::new("c").tiny_unsigned().null()),
                ),
                (
                    column("tinyint(1)", true),
                    def!(ColumnDef::new("c").boolean().null()),
                ),
                (
                    column("varchar(255)", false),
                    def!(ColumnDef::new("c").string_len(255).not_null()),
                ),
                (
                    column("char(3)", false),
                    def!(ColumnDef::new("c").char_len(3).not_null()),
                ),
                (
                    column("char(1)", false),
                    def!(ColumnDef::new("c").char().not_null()),
                ),
                (
                    column("text", true),
                    def!(ColumnDef::new("c").text().null()),
                ),
                (
                    column("decimal(10,2)", true),
                    def!(ColumnDef::new("c").decimal_len(10, 2).null()),
                ),
                (
                    column("float", true),
                    def!(ColumnDef::new("c").float().null()),
                ),
                (
                    column("double", true),
                    def!(ColumnDef::new("c").double().null()),
                ),
                (
                    column("datetime", true),
                    def!(ColumnDef::new("c").date_time().null()),
                ),
                (
                    column("timestamp", true),
                    def!(ColumnDef::new("c").timestamp().null()),
                ),
                (
                    column("time", true),
                    def!(ColumnDef::new("c").time().null()),
                ),
                (
                    column("date", true),
                    def!(ColumnDef::new("c").date().null()),
                ),
                (
                    column("year", true),
                    def!(ColumnDef::new("c").year().null()),
                ),
                (
                    column("binary(16)", true),
                    def!(ColumnDef::new("c").binary_len(16).null()),
                ),
                (
                    column("varbinary(100)", true),
                    def!(ColumnDef::new("c").var_binary(100).null()),
                ),
                (
                    column("blob", true),
                    def!(ColumnDef::new("c").blob().null()),
                ),
                (
                    column("bit(8)", true),
                    def!(ColumnDef::new("c").bit(Some(8)).null()),
                ),
                (
                    column("json", true),
                    def!(ColumnDef::new("c").json().null()),
                ),
                (
                    column("longtext", true),
                    def!(ColumnDef::new("c").custom(Alias::new("longtext")).null()),
                ),
                (
                    column("enum('a','b')", true),
                    def!(
                        ColumnDef::new("c")
                            .custom(Alias::new("enum('a','b')"))
                            .null()
                    ),
                ),
                (
                    column("int(10) unsigned zerofill", true),
                    def!(
                        ColumnDef::new("c")
                            .custom(Alias::new("int(10) unsigned zerofill"))
                            .null()
                    ),
                ),
                (
                    Column {
                        identity: Some("AUTO_INCREMENT".into()),
                        ..column("bigint(20)", false)
                    },
                    def!(
                        ColumnDef::new("c")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                    ),
                ),
                (
                    with_default("int(11)", "0"),
                    def!(ColumnDef::new("c").integer().not_null().default(0)),
                ),
                (
                    with_default("tinyint(1)", "1"),
                    def!(ColumnDef::new("c").boolean().not_null().default(true)),
                ),
                (
                    with_default("decimal(10,2)", "0.00"),
                    def!(
                        ColumnDef::new("c")
                            .decimal_len(10, 2)
                            .not_null()
                            .default(0.0)
                    ),
                ),
                // MariaDB quotes string literals, MySQL 8 does not.
                (
                    with_default("varchar(20)", "'new'"),
                    def!(ColumnDef::new("c").string_len(20).not_null().default("new")),
                ),
                (
                    with_default("varchar(20)", "new"),
                    def!(ColumnDef::new("c").string_len(20).not_null().default("new")),
                ),
                (
                    with_default("varchar(20)", "true"),
                    def!(
                        ColumnDef::new("c")
                            .string_len(20)
                            .not_null()
                            .default("true")
                    ),
                ),
                (
                    with_default("varchar(20)", "0"),
                    def!(ColumnDef::new("c").string_len(20).not_null().default("0")),
                ),
                (
                    with_default("datetime", "2020-01-01 00:00:00"),
                    def!(
                        ColumnDef::new("c")
                            .date_time()
                            .not_null()
                            .default("2020-01-01 00:00:00")
                    ),
                ),
                (
                    with_default("timestamp", "CURRENT_TIMESTAMP"),
                    def!(
                        ColumnDef::new("c")
                            .timestamp()
                            .not_null()
                            .default(Expr::current_timestamp())
                    ),
                ),
                (
                    with_default("timestamp", "current_timestamp()"),
                    def!(
                        ColumnDef::new("c")
                            .timestamp()
                            .not_null()
                            .default(Expr::current_timestamp())
                    ),
                ),
                (
                    with_default("varchar(36)", "uuid()"),
                    def!(
                        ColumnDef::new("c")
                            .string_len(36)
                            .not_null()
                            .default(Expr::cust("uuid()"))
                    ),
                ),
            ],
        );
        let on_update = snapshot_column(
            Dialect::Mysql,
            &Column {
                on_update: Some("current_timestamp()".into()),
                collation: None,
                ..with_default("timestamp", "current_timestamp()")
            },
        );
        assert_eq!(on_update.notes.len(), 1, "{on_update:?}");
        let collated = snapshot_column(
            Dialect::Mysql,
            &Column {
                collation: Some("utf8mb4_general_ci".into()),
                ..column("text", false)
            },
        );
        assert!(collated.notes.is_empty(), "{collated:?}");
        let longtext = snapshot_column(Dialect::Mysql, &column("longtext", false));
        assert!(longtext.notes[0].contains("MariaDB"), "{longtext:?}");
    }

    #[test]
    fn sqlite_spellings_written_by_hand() {
        assert_snapshots(
            Dialect::Sqlite,
            &[
                (
                    column("INTEGER", false),
                    def!(ColumnDef::new("c").integer().not_null()),
                ),
                (
                    column("bigint", false),
                    def!(ColumnDef::new("c").big_integer().not_null()),
                ),
                (
                    column("TEXT", true),
                    def!(ColumnDef::new("c").text().null()),
                ),
                (
                    column("REAL", true),
                    def!(ColumnDef::new("c").double().null()),
                ),
                (
                    column("decimal(10, 2)", true),
                    def!(ColumnDef::new("c").decimal_len(10, 2).null()),
                ),
                (
                    column("VARCHAR(40)", true),
                    def!(ColumnDef::new("c").string_len(40).null()),
                ),
                (column("", true), def!(ColumnDef::new("c").null())),
                (
                    column("geometry", true),
                    def!(ColumnDef::new("c").custom(Alias::new("geometry")).null()),
                ),
                (
                    with_default("text", "(lower('X'))"),
                    def!(
                        ColumnDef::new("c")
                            .text()
                            .not_null()
                            .default(Expr::cust("lower('X')"))
                    ),
                ),
                (
                    with_default("boolean", "1"),
                    def!(ColumnDef::new("c").boolean().not_null().default(true)),
                ),
            ],
        );
        // decimal(10, 2) has NUMERIC affinity; sea-query writes real(10, 2), REAL.
        let decimal = snapshot_column(Dialect::Sqlite, &column("decimal(10, 2)", true));
        assert_eq!(
            decimal.notes,
            [
                "column `c`: declared `decimal(10, 2)` (NUMERIC affinity), it is recreated on \
              SQLite as `real(10, 2)` (REAL affinity)."
            ]
        );
        assert!(
            snapshot_column(Dialect::Sqlite, &column("INTEGER", true))
                .notes
                .is_empty()
        );
        assert!(
            snapshot_column(Dialect::Sqlite, &column("varchar(9)", true))
                .notes
                .is_empty()
        );
    }

    #[test]
    fn numbers_and_quotes() {
        assert_eq!(number_literal("42").as_deref(), Some("42"));
        assert_eq!(number_literal("+42").as_deref(), Some("42"));
        assert_eq!(
            number_literal("-2147483648").as_deref(),
            Some("-2147483648")
        );
        assert_eq!(
            number_literal("2147483648").as_deref(),
            Some("2147483648i64")
        );
        assert_eq!(
            number_literal("18446744073709551615").as_deref(),
            Some("18446744073709551615u64")
        );
        assert_eq!(number_literal("18446744073709551616"), None);
        assert_eq!(number_literal("1.50").as_deref(), Some("1.5"));
        assert_eq!(number_literal(".5").as_deref(), Some("0.5"));
        assert_eq!(number_literal("1e3").as_deref(), Some("1000.0"));
        assert_eq!(number_literal("1234567890.1234567"), None);
        for not in [
            "", "-", ".", "1e", "abc", "1.2.3", "0x10", "inf", "NaN", "1 2",
        ] {
            assert_eq!(number_literal(not), None, "{not}");
        }
        assert_eq!(unparenthesize("((1 + 2))"), "1 + 2");
        assert_eq!(unparenthesize("(a) + (b)"), "(a) + (b)");
        assert_eq!(unparenthesize("(')(')"), "')('");
        assert_eq!(
            quoted(Dialect::Postgres, "'a''b'::text"),
            Some(("a'b".into(), Some("text")))
        );
        assert_eq!(quoted(Dialect::Sqlite, "'a'::text"), None);
        assert_eq!(quoted(Dialect::Sqlite, "'a' || 'b'"), None);
    }

    /// Definitions as sea-query creates them on SQLite, read back by braid-sqlite's
    /// introspection, spell as they were written (but for `.primary_key()`).
    #[tokio::test]
    async fn sqlite_round_trip() {
        let defs: Vec<sea_query::ColumnDef> = vec![
            ColumnDef::new("c").char_len(3).to_owned(),
            ColumnDef::new("c").char().to_owned(),
            ColumnDef::new("c").string_len(255).to_owned(),
            ColumnDef::new("c").string().to_owned(),
            ColumnDef::new("c").text().to_owned(),
            ColumnDef::new("c").tiny_integer().to_owned(),
            ColumnDef::new("c").small_integer().to_owned(),
            ColumnDef::new("c").integer().to_owned(),
            ColumnDef::new("c").float().to_owned(),
            ColumnDef::new("c").double().to_owned(),
            ColumnDef::new("c").decimal_len(10, 2).to_owned(),
            ColumnDef::new("c").decimal().to_owned(),
            ColumnDef::new("c").date_time().to_owned(),
            ColumnDef::new("c").timestamp().to_owned(),
            ColumnDef::new("c").timestamp_with_time_zone().to_owned(),
            ColumnDef::new("c").time().to_owned(),
            ColumnDef::new("c").date().to_owned(),
            ColumnDef::new("c").binary_len(16).to_owned(),
            ColumnDef::new("c").var_binary(100).to_owned(),
            ColumnDef::new_with_type("c", ColumnType::VarBinary(StringLen::None)),
            ColumnDef::new("c").blob().to_owned(),
            ColumnDef::new("c").boolean().to_owned(),
            ColumnDef::new("c").money_len(19, 4).to_owned(),
            ColumnDef::new("c").money().to_owned(),
            ColumnDef::new("c").json().to_owned(),
            ColumnDef::new("c").json_binary().to_owned(),
            ColumnDef::new("c").uuid().to_owned(),
            ColumnDef::new("c").custom(Alias::new("citext")).to_owned(),
            ColumnDef::new("c").integer().default(0).to_owned(),
            ColumnDef::new("c").integer().default(-7).to_owned(),
            ColumnDef::new("c").double().default(1.5).to_owned(),
            ColumnDef::new("c").string().default("it's").to_owned(),
            ColumnDef::new("c").boolean().default(true).to_owned(),
            ColumnDef::new("c").boolean().default(false).to_owned(),
            ColumnDef::new("c")
                .timestamp()
                .default(Expr::current_timestamp())
                .to_owned(),
            ColumnDef::new("c")
                .date()
                .default(Expr::current_date())
                .to_owned(),
            ColumnDef::new("c")
                .integer()
                .default(Expr::cust("1 + 2"))
                .to_owned(),
        ];
        // Each not null, then nullable; and the numbered primary key alone in its table.
        let mut cases: Vec<sea_query::ColumnDef> = Vec::new();
        for def in defs {
            cases.push(def.clone().not_null().to_owned());
            cases.push(def.clone().null().to_owned());
        }
        cases.push(
            ColumnDef::new("c")
                .integer()
                .not_null()
                .auto_increment()
                .primary_key()
                .to_owned(),
        );
        cases.push(
            ColumnDef::new("c")
                .text()
                .not_null()
                .primary_key()
                .to_owned(),
        );

        let dir = tempfile::tempdir().unwrap();
        let mut driver = braid_sqlite::SqliteDriver::open_path(&dir.path().join("db.sqlite"))
            .expect("open SQLite");
        let script: Vec<String> = cases
            .iter()
            .enumerate()
            .map(|(i, def)| {
                Table::create()
                    .table(Alias::new(format!("t{i:02}")))
                    .col(def.clone())
                    .to_string(SqliteQueryBuilder)
            })
            .collect();
        driver
            .execute_script(&(script.join(";\n") + ";"))
            .await
            .expect("create tables");
        let schema = driver.introspect().await.expect("introspect");
        assert_eq!(schema.tables.len(), cases.len());
        for ((def, table), sql) in cases.iter().zip(&schema.tables).zip(&script) {
            let column = &table.columns[0];
            let spelled = snapshot_column(Dialect::Sqlite, column);
            let want = column_def(def).rust.replace(".primary_key()", "");
            assert_eq!(spelled.rust, want, "{sql}\n{column:?}");
        }
    }
}
