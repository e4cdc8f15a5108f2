//! Converting values between Braid's [`Value`] and mysql_async's.

use braid_driver::Value;
use mysql_async::consts::ColumnType;
use mysql_async::{Column, Value as My};

/// MySQL's `binary` character set: a string column with it holds bytes, not text.
const BINARY_CHARSET: u16 = 63;

/// Braid → MySQL, exactly: the binary protocol sends 64-bit integers, doubles and byte strings
/// unchanged.
pub(crate) fn to_mysql(v: &Value) -> My {
    match v {
        Value::Null => My::NULL,
        Value::Int(i) => My::Int(*i),
        Value::Float(f) => My::Double(*f),
        Value::Text(s) => My::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => My::Bytes(b.clone()),
    }
}

/// MySQL → Braid, for a value of `column`. See the crate docs for the mapping.
pub(crate) fn from_mysql(v: My, column: &Column) -> Value {
    match v {
        My::NULL => Value::Null,
        My::Int(i) => Value::Int(i),
        My::UInt(u) => match i64::try_from(u) {
            Ok(i) => Value::Int(i),
            // A `BIGINT UNSIGNED` above i64::MAX has no exact `Int`; its decimal text is exact.
            Err(_) => Value::Text(u.to_string()),
        },
        My::Float(f) => Value::Float(f64::from(f)),
        My::Double(f) => Value::Float(f),
        My::Date(y, mo, d, h, mi, s, us) => {
            Value::Text(format_date(column, y, mo, d, h, mi, s, us))
        }
        My::Time(neg, days, h, mi, s, us) => Value::Text(format_time(neg, days, h, mi, s, us)),
        My::Bytes(b) => from_bytes(b, column),
    }
}

/// Bytes as the text protocol (and the binary protocol, for strings and decimals) sends them,
/// interpreted by the column's type.
fn from_bytes(b: Vec<u8>, column: &Column) -> Value {
    use ColumnType::*;
    let ty = column.column_type();
    match ty {
        // The text protocol sends numbers as decimal text; parse them back to numbers so both
        // protocols give the same values.
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => {
            let s = String::from_utf8_lossy(&b);
            if let Ok(i) = s.parse::<i64>() {
                Value::Int(i)
            } else {
                Value::Text(s.into_owned())
            }
        }
        MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => {
            let s = String::from_utf8_lossy(&b);
            match s.parse::<f64>() {
                Ok(f) => Value::Float(f),
                Err(_) => Value::Text(s.into_owned()),
            }
        }
        // Bit strings and geometry (WKB) are binary whatever the character set says.
        MYSQL_TYPE_BIT | MYSQL_TYPE_GEOMETRY | MYSQL_TYPE_VECTOR => Value::Bytes(b),
        // Text-like types: bytes only when the column's character set is `binary`
        // (BINARY, VARBINARY, BLOB). Decimals, dates (text protocol) and JSON are text although
        // the server labels some of them `binary`.
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_ENUM
        | MYSQL_TYPE_SET
            if column.character_set() == BINARY_CHARSET =>
        {
            Value::Bytes(b)
        }
        _ => match String::from_utf8(b) {
            Ok(s) => Value::Text(s),
            // The connection asks for utf8mb4, so this only happens for data stored invalid:
            // hand back the exact bytes rather than a lossy string.
            Err(e) => Value::Bytes(e.into_bytes()),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn format_date(column: &Column, y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, us: u32) -> String {
    let date = format!("{y:04}-{mo:02}-{d:02}");
    if column.column_type() == ColumnType::MYSQL_TYPE_DATE {
        return date;
    }
    // As the server prints it in the text protocol: fractional digits only when there are some
    // (the column's declared precision is in `decimals`).
    let decimals = usize::from(column.decimals()).min(6);
    let mut out = format!("{date} {h:02}:{mi:02}:{s:02}");
    if decimals > 0 {
        let frac = format!("{us:06}");
        out.push('.');
        out.push_str(&frac[..decimals]);
    }
    out
}

fn format_time(neg: bool, days: u32, h: u8, mi: u8, s: u8, us: u32) -> String {
    let hours = u64::from(days) * 24 + u64::from(h);
    let sign = if neg { "-" } else { "" };
    if us == 0 {
        format!("{sign}{hours:02}:{mi:02}:{s:02}")
    } else {
        format!("{sign}{hours:02}:{mi:02}:{s:02}.{us:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_like_the_server() {
        assert_eq!(format_time(false, 0, 1, 2, 3, 0), "01:02:03");
        assert_eq!(format_time(true, 1, 1, 0, 0, 500), "-25:00:00.000500");
    }

    #[test]
    fn text_protocol_bytes_follow_the_column_type() {
        use ColumnType::*;
        let col = |ty| Column::new(ty).with_character_set(45);
        let b = |s: &str| My::Bytes(s.as_bytes().to_vec());
        assert_eq!(
            from_mysql(b("-42"), &col(MYSQL_TYPE_LONGLONG)),
            Value::Int(-42)
        );
        assert_eq!(
            from_mysql(b("18446744073709551615"), &col(MYSQL_TYPE_LONGLONG)),
            Value::Text("18446744073709551615".into())
        );
        assert_eq!(
            from_mysql(b("0.1"), &col(MYSQL_TYPE_DOUBLE)),
            Value::Float(0.1)
        );
        assert_eq!(
            from_mysql(
                b("1.50"),
                &col(MYSQL_TYPE_NEWDECIMAL).with_character_set(63)
            ),
            Value::Text("1.50".into())
        );
        assert_eq!(
            from_mysql(b("é"), &col(MYSQL_TYPE_VAR_STRING)),
            Value::Text("é".into())
        );
        assert_eq!(
            from_mysql(
                My::Bytes(vec![0, 255]),
                &col(MYSQL_TYPE_BLOB).with_character_set(63)
            ),
            Value::Bytes(vec![0, 255])
        );
        assert_eq!(
            from_mysql(My::Bytes(vec![0xff]), &col(MYSQL_TYPE_VAR_STRING)),
            Value::Bytes(vec![0xff])
        );
        assert_eq!(
            from_mysql(
                b("2024-01-31"),
                &col(MYSQL_TYPE_DATE).with_character_set(63)
            ),
            Value::Text("2024-01-31".into())
        );
        assert_eq!(
            from_mysql(My::UInt(7), &col(MYSQL_TYPE_LONGLONG)),
            Value::Int(7)
        );
        assert_eq!(
            from_mysql(My::Date(2024, 1, 31, 0, 0, 0, 0), &col(MYSQL_TYPE_DATE)),
            Value::Text("2024-01-31".into())
        );
        assert_eq!(
            from_mysql(
                My::Date(2024, 1, 31, 1, 2, 3, 450_000),
                &col(MYSQL_TYPE_DATETIME).with_decimals(2)
            ),
            Value::Text("2024-01-31 01:02:03.45".into())
        );
    }

    #[test]
    fn to_mysql_is_exact() {
        assert_eq!(to_mysql(&Value::Int(i64::MIN)), My::Int(i64::MIN));
        assert_eq!(to_mysql(&Value::Float(0.1)), My::Double(0.1));
        assert_eq!(
            to_mysql(&Value::from("é")),
            My::Bytes("é".as_bytes().to_vec())
        );
        assert_eq!(
            to_mysql(&Value::Bytes(vec![0, 255])),
            My::Bytes(vec![0, 255])
        );
        assert_eq!(to_mysql(&Value::Null), My::NULL);
    }
}
