//! Values across the bridge: sea-query parameters to Braid [`Value`]s, and Braid rows to sea-orm
//! [`ProxyRow`]s.
//!
//! Parameters map exactly or not at all: integers (signed, and unsigned up to `i64::MAX`) to
//! `Int`, floats to `Float`, strings and chars to `Text`, bytes to `Bytes`, a `None` of any type
//! to `Null`. `bool` is `Int(0|1)` on MySQL and SQLite, whose booleans are integers; Postgres has
//! a real boolean type that Braid's `Value` cannot carry, so a bool parameter there is an error
//! (write the literal with `Expr::cust("TRUE")`, or compare to an integer). JSON, date/time,
//! UUID and decimal parameters are errors for the same reason: inline them or pass them as text
//! the database casts.
//!
//! Rows come back as `Int → BigInt`, `Float → Double`, `Text → String`, `Bytes → Bytes`,
//! `Null → String(None)`; sea-orm's getters are variant-strict, so read integers as `i64`.

use std::collections::BTreeMap;

use braid_driver::{Dialect, Rows, Value};
use sea_orm::sea_query::Value as SeaValue;
use sea_orm::{DbErr, ProxyRow};

/// Maps the parameters of one statement for `dialect`.
pub(crate) fn params(values: &[SeaValue], dialect: Dialect) -> Result<Vec<Value>, DbErr> {
    values.iter().map(|v| param(v, dialect)).collect()
}

fn param(v: &SeaValue, dialect: Dialect) -> Result<Value, DbErr> {
    fn opt<T>(v: &Option<T>, f: impl FnOnce(&T) -> Value) -> Value {
        v.as_ref().map(f).unwrap_or(Value::Null)
    }
    Ok(match v {
        SeaValue::Bool(b) => match (b, dialect) {
            (None, _) => Value::Null,
            (Some(b), Dialect::Mysql | Dialect::Sqlite) => Value::Int(i64::from(*b)),
            (Some(_), Dialect::Postgres) => {
                return Err(unsupported(
                    v,
                    "Braid's driver values have no boolean, and a Postgres boolean parameter \
                     accepts no integer; write the literal (Expr::cust(\"TRUE\"))",
                ));
            }
        },
        SeaValue::TinyInt(i) => opt(i, |i| Value::Int(i64::from(*i))),
        SeaValue::SmallInt(i) => opt(i, |i| Value::Int(i64::from(*i))),
        SeaValue::Int(i) => opt(i, |i| Value::Int(i64::from(*i))),
        SeaValue::BigInt(i) => opt(i, |i| Value::Int(*i)),
        SeaValue::TinyUnsigned(i) => opt(i, |i| Value::Int(i64::from(*i))),
        SeaValue::SmallUnsigned(i) => opt(i, |i| Value::Int(i64::from(*i))),
        SeaValue::Unsigned(i) => opt(i, |i| Value::Int(i64::from(*i))),
        SeaValue::BigUnsigned(None) => Value::Null,
        SeaValue::BigUnsigned(Some(u)) => match i64::try_from(*u) {
            Ok(i) => Value::Int(i),
            Err(_) => {
                return Err(unsupported(
                    v,
                    "an unsigned 64-bit value above i64::MAX does not fit Braid's integer",
                ));
            }
        },
        SeaValue::Float(f) => opt(f, |f| Value::Float(f64::from(*f))),
        SeaValue::Double(f) => opt(f, |f| Value::Float(*f)),
        SeaValue::String(s) => opt(s, |s| Value::Text(s.clone())),
        SeaValue::Char(c) => opt(c, |c| Value::Text(c.to_string())),
        SeaValue::Bytes(b) => opt(b, |b| Value::Bytes(b.clone())),
        other => {
            return Err(unsupported(
                other,
                "Braid's driver values are null, integer, float, text and bytes only; inline the \
                 value or pass it as text",
            ));
        }
    })
}

fn unsupported(v: &SeaValue, why: &str) -> DbErr {
    DbErr::Custom(format!(
        "cannot pass parameter {v:?} to a Braid driver: {why}"
    ))
}

/// Braid rows as sea-orm proxy rows (name → value; sea-orm sorts columns by name).
pub(crate) fn rows(rows: Rows) -> Vec<ProxyRow> {
    let Rows { columns, rows } = rows;
    rows.into_iter()
        .map(|row| {
            let values: BTreeMap<String, SeaValue> = columns
                .iter()
                .cloned()
                .zip(row.into_iter().map(cell))
                .collect();
            ProxyRow::new(values)
        })
        .collect()
}

fn cell(v: Value) -> SeaValue {
    match v {
        Value::Null => SeaValue::String(None),
        Value::Int(i) => SeaValue::BigInt(Some(i)),
        Value::Float(f) => SeaValue::Double(Some(f)),
        Value::Text(s) => SeaValue::String(Some(s)),
        Value::Bytes(b) => SeaValue::Bytes(Some(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_mapping() {
        let p = params(
            &[
                SeaValue::BigInt(Some(i64::MIN)),
                SeaValue::Unsigned(Some(u32::MAX)),
                SeaValue::String(Some("é'".into())),
                SeaValue::Int(None),
                SeaValue::Bytes(Some(vec![0, 255])),
                SeaValue::Bool(Some(true)),
            ],
            Dialect::Sqlite,
        )
        .unwrap();
        assert_eq!(
            p,
            vec![
                Value::Int(i64::MIN),
                Value::Int(u32::MAX as i64),
                Value::Text("é'".into()),
                Value::Null,
                Value::Bytes(vec![0, 255]),
                Value::Int(1),
            ]
        );
        assert!(params(&[SeaValue::Bool(Some(true))], Dialect::Postgres).is_err());
        assert!(params(&[SeaValue::BigUnsigned(Some(u64::MAX))], Dialect::Mysql).is_err());
        assert_eq!(
            params(&[SeaValue::BigUnsigned(Some(7))], Dialect::Mysql).unwrap(),
            vec![Value::Int(7)]
        );
    }
}
