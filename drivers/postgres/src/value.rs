//! Moving [`Value`]s in and out of Postgres.
//!
//! # Parameters
//!
//! Postgres infers each `$n`'s type when the statement is prepared, and tokio-postgres checks
//! the Rust value against it, so [`Param`] adapts a [`Value`] to the inferred type:
//!
//! * `Int` binds to `int2`/`int4`/`int8`/`oid` (range-checked, never truncated), to
//!   `float4`/`float8` when exactly representable, to `bool` when 0 or 1, and to `numeric`
//!   (sent as text).
//! * `Float` binds to `float8`, to `float4` when exactly representable, and to `numeric`.
//! * `Text` is sent in the *text* format, so the server parses it into whatever the parameter
//!   is: `text`, `varchar`, but also `uuid`, `date`, `timestamptz`, `json`, enums, arrays….
//! * `Bytes` binds to `bytea`.
//! * `Null` binds to anything.
//!
//! Anything else is an [`ErrorKind::Sql`](braid_driver::ErrorKind) error naming the parameter's
//! type, e.g. an `Int` for `SELECT $1` (which Postgres infers as `text`): cast it, `$1::bigint`.
//!
//! # Results
//!
//! Results arrive in Postgres's binary format and are decoded per column type: integers,
//! `oid`s and the `reg*` types as `Int`; `bool` as `Int` 0/1; floats as `Float`; `bytea` as
//! `Bytes`; and as `Text` the text types, enums, `json`/`jsonb`/`xml`, `uuid`, `numeric`
//! (exact decimal), `date`, `time`, `timestamp` and `timestamptz` (formatted as Postgres does,
//! `timestamptz` in UTC with `+00`). Any other type (intervals, arrays, ranges, geometric, …) is
//! an [`ErrorKind::Unsupported`](braid_driver::ErrorKind) error that says to cast the column
//! to text.

use std::error::Error;
use std::fmt::Write as _;

use braid_driver::{DriverError, ErrorKind, Value};
use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{Format, FromSql, IsNull, Kind, ToSql, Type};

type BoxError = Box<dyn Error + Sync + Send>;

/// A [`Value`] bound to a statement parameter (see the module docs for the mapping).
#[derive(Debug)]
pub(crate) struct Param<'a>(pub &'a Value);

/// The type a domain is built on (parameters may be inferred as a domain type).
fn base(ty: &Type) -> &Type {
    match ty.kind() {
        Kind::Domain(inner) => base(inner),
        _ => ty,
    }
}

/// The error for a value that cannot fit the inferred type, with the cast that fixes it.
fn mismatch(what: &str, cast: &str, ty: &Type) -> BoxError {
    format!(
        "cannot bind {what} to a parameter of type {}; cast the parameter in the SQL, e.g. \
         $1::{cast}",
        ty.name()
    )
    .into()
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let b = base(ty);
        match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Int(i) => {
                let i = *i;
                let range = || -> BoxError {
                    format!(
                        "integer {i} is out of range for a parameter of type {}",
                        b.name()
                    )
                    .into()
                };
                match *b {
                    Type::INT8 => out.put_i64(i),
                    Type::INT4 => out.put_i32(i32::try_from(i).map_err(|_| range())?),
                    Type::INT2 => out.put_i16(i16::try_from(i).map_err(|_| range())?),
                    Type::OID => out.put_u32(u32::try_from(i).map_err(|_| range())?),
                    Type::BOOL if i == 0 || i == 1 => out.put_u8(i as u8),
                    Type::FLOAT8
                        if (i as f64) as i128 == i as i128 && i.unsigned_abs() <= 1 << 53 =>
                    {
                        out.put_f64(i as f64)
                    }
                    Type::FLOAT4 if i.unsigned_abs() <= 1 << 24 => out.put_f32(i as f32),
                    Type::NUMERIC => out.put_slice(i.to_string().as_bytes()),
                    Type::BOOL | Type::FLOAT8 | Type::FLOAT4 => return Err(range()),
                    _ => return Err(mismatch("an integer", "bigint", ty)),
                }
            }
            Value::Float(f) => {
                let f = *f;
                match *b {
                    Type::FLOAT8 => out.put_f64(f),
                    Type::FLOAT4 if f.is_nan() || (f as f32) as f64 == f => out.put_f32(f as f32),
                    Type::FLOAT4 => {
                        return Err(
                            format!("float {f} does not fit a float4 parameter exactly").into()
                        );
                    }
                    Type::NUMERIC => out.put_slice(numeric_text(f).as_bytes()),
                    _ => return Err(mismatch("a float", "float8", ty)),
                }
            }
            // Text format: the server's input function parses it for the parameter's type.
            Value::Text(s) => out.put_slice(s.as_bytes()),
            Value::Bytes(bytes) => match *b {
                Type::BYTEA => out.put_slice(bytes),
                _ => return Err(mismatch("bytes", "bytea", ty)),
            },
        }
        Ok(IsNull::No)
    }

    /// Every type: whether the *value* fits is decided in [`ToSql::to_sql`], which gives a
    /// better message than tokio-postgres's generic "cannot convert" error.
    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.to_sql(ty, out)
    }

    fn encode_format(&self, ty: &Type) -> Format {
        match (self.0, base(ty)) {
            (Value::Text(_), _) => Format::Text,
            (Value::Int(_) | Value::Float(_), &Type::NUMERIC) => Format::Text,
            _ => Format::Binary,
        }
    }
}

/// How Postgres's `numeric` input spells a float (Rust's `Display` is exact and never uses an
/// exponent; `numeric` accepts `NaN` and, since Postgres 14, infinities).
fn numeric_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        f.to_string()
    }
}

/// A column value exactly as received: decoded later by [`decode`], which knows every type.
pub(crate) struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Decodes one binary value of column `column`; the error names the column and its type when
/// Braid cannot read it.
pub(crate) fn decode(column: &str, ty: &Type, raw: Option<&[u8]>) -> Result<Value, DriverError> {
    decode_value(ty, raw)
        .map_err(|(kind, message)| DriverError::new(kind, format!("column '{column}': {message}")))
}

fn decode_value(ty: &Type, raw: Option<&[u8]>) -> Result<Value, (ErrorKind, String)> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    let ty = base(ty);
    let bad = || {
        let message = format!("malformed binary {} value from the server", ty.name());
        (ErrorKind::Internal, message)
    };
    let fixed = |n: usize| -> Result<&[u8], (ErrorKind, String)> {
        if raw.len() == n { Ok(raw) } else { Err(bad()) }
    };
    let text = |bytes: &[u8]| -> Result<Value, (ErrorKind, String)> {
        String::from_utf8(bytes.to_vec())
            .map(Value::Text)
            .map_err(|_| bad())
    };
    if let Kind::Enum(_) = ty.kind() {
        return text(raw);
    }
    Ok(match *ty {
        Type::BOOL => Value::Int(i64::from(fixed(1)?[0] != 0)),
        Type::INT2 => Value::Int(i16::from_be_bytes(arr(fixed(2)?)).into()),
        Type::INT4 => Value::Int(i32::from_be_bytes(arr(fixed(4)?)).into()),
        Type::INT8 => Value::Int(i64::from_be_bytes(arr(fixed(8)?))),
        Type::OID
        | Type::XID
        | Type::CID
        | Type::REGPROC
        | Type::REGPROCEDURE
        | Type::REGOPER
        | Type::REGOPERATOR
        | Type::REGCLASS
        | Type::REGTYPE
        | Type::REGCONFIG
        | Type::REGDICTIONARY
        | Type::REGNAMESPACE
        | Type::REGROLE => Value::Int(u32::from_be_bytes(arr(fixed(4)?)).into()),
        Type::FLOAT4 => Value::Float(f32::from_be_bytes(arr(fixed(4)?)).into()),
        Type::FLOAT8 => Value::Float(f64::from_be_bytes(arr(fixed(8)?))),
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::UNKNOWN
        | Type::CHAR
        | Type::JSON
        | Type::XML => text(raw)?,
        Type::JSONB => match raw.split_first() {
            Some((1, rest)) => text(rest)?,
            _ => return Err(bad()),
        },
        Type::BYTEA => Value::Bytes(raw.to_vec()),
        Type::UUID => Value::Text(uuid(fixed(16)?)),
        Type::NUMERIC => Value::Text(numeric(raw).ok_or_else(bad)?),
        Type::DATE => Value::Text(date(i32::from_be_bytes(arr(fixed(4)?)))),
        Type::TIME => Value::Text(time_of_day(i64::from_be_bytes(arr(fixed(8)?)))),
        Type::TIMESTAMP => Value::Text(timestamp(i64::from_be_bytes(arr(fixed(8)?)), "")),
        Type::TIMESTAMPTZ => Value::Text(timestamp(i64::from_be_bytes(arr(fixed(8)?)), "+00")),
        // Extension types whose binary form is their text (citext is the common one).
        _ if ty.name() == "citext" => text(raw)?,
        _ => {
            return Err((
                ErrorKind::Unsupported,
                format!(
                    "Braid cannot read values of type {}; cast the column to text (e.g. col::text)",
                    ty.name()
                ),
            ));
        }
    })
}

fn arr<const N: usize>(raw: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&raw[..N]);
    out
}

fn uuid(b: &[u8]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// `numeric`'s binary form: digit count, weight (of the first base-10000 digit), sign, display
/// scale, then the base-10000 digits.
fn numeric(raw: &[u8]) -> Option<String> {
    let word = |i: usize| raw.get(i..i + 2).map(|b| i16::from_be_bytes([b[0], b[1]]));
    let ndigits = usize::try_from(word(0)?).ok()?;
    let weight = word(2)?;
    let sign = word(4)? as u16;
    let dscale = usize::try_from(word(6)?).ok()?;
    let digits: Vec<i16> = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Option<_>>()?;
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let digit = |k: i32| -> i16 {
        usize::try_from(k)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for k in 0..=i32::from(weight) {
            if k == 0 {
                let _ = write!(s, "{}", digit(k));
            } else {
                let _ = write!(s, "{:04}", digit(k));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        // Base-10000 digit k holds 10^(4*(weight-k)); the first fractional one is weight+1.
        let mut k = i32::from(weight) + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(k));
            k += 1;
        }
        frac.truncate(dscale);
        s.push('.');
        s.push_str(&frac);
    }
    Some(s)
}

/// Days since 2000-01-01 (Postgres's epoch) → year, month, day (proleptic Gregorian; year 0 is
/// 1 BC).
fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse, from 1970-01-01.
    let z = days + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD`, and whether it is BC (Postgres writes `0044-03-15 BC`).
fn ymd(days: i64) -> (String, bool) {
    let (y, m, d) = civil(days);
    let (y, bc) = if y <= 0 { (1 - y, true) } else { (y, false) };
    (format!("{y:04}-{m:02}-{d:02}"), bc)
}

fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => {
            let (s, bc) = ymd(days.into());
            if bc { format!("{s} BC") } else { s }
        }
    }
}

/// `HH:MM:SS[.ffffff]` with trailing zeros of the fraction dropped, as Postgres prints it.
fn time_of_day(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let mut s = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

fn timestamp(micros: i64, zone: &str) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        _ => {
            let day = 86_400_000_000;
            let (d, bc) = ymd(micros.div_euclid(day));
            let t = time_of_day(micros.rem_euclid(day));
            format!("{d} {t}{zone}{}", if bc { " BC" } else { "" })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times() {
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(date(9_191), "2025-03-01");
        assert_eq!(date(-730_119 - 366), "0001-01-01 BC");
        assert_eq!(time_of_day(3_723_500_000), "01:02:03.5");
        assert_eq!(
            timestamp(86_400_000_000 + 1, "+00"),
            "2000-01-02 00:00:00.000001+00"
        );
        assert_eq!(timestamp(i64::MAX, ""), "infinity");
    }

    #[test]
    fn numerics() {
        // 12345.678: digits [1, 2345, 6780], weight 1, dscale 3.
        let mut raw = vec![];
        for w in [3i16, 1, 0, 3, 1, 2345, 6780] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(numeric(&raw).as_deref(), Some("12345.678"));
        // -0.0001: digits [1], weight -1, dscale 4.
        let mut raw = vec![];
        for w in [1i16, -1, 0x4000, 4, 1] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(numeric(&raw).as_deref(), Some("-0.0001"));
        assert_eq!(numeric(&[0, 1]), None);
    }
}
