//! Conversions between Braid's values/errors and their ABI forms, used by both sides.
//!
//! Owned ABI data (rows, strings, errors) is always produced by the plugin side
//! ([`OwnedRows`], [`OwnedError`], [`owned_string`]) and read by the host side ([`rows_from_ffi`],
//! [`error_from_ffi`], [`string_from_ffi`]); values are borrowed in both directions.

use std::ffi::c_void;

use braid_driver::{DriverError, ErrorKind, Rows, ScriptPosition, Value};

use crate::abi::{
    FfiError, FfiRows, FfiStr, FfiString, FfiValue, TAG_BYTES, TAG_FLOAT, TAG_INT, TAG_NULL,
    TAG_TEXT, kind_from_id, kind_id,
};

/// Borrows `v` as an ABI value (valid while `v` lives).
pub fn value_to_ffi(v: &Value) -> FfiValue {
    let mut out = FfiValue {
        tag: TAG_NULL,
        int_val: 0,
        float_val: 0.0,
        ptr: std::ptr::null(),
        len: 0,
    };
    match v {
        Value::Null => {}
        Value::Int(i) => {
            out.tag = TAG_INT;
            out.int_val = *i;
        }
        Value::Float(f) => {
            out.tag = TAG_FLOAT;
            out.float_val = *f;
        }
        Value::Text(s) => {
            out.tag = TAG_TEXT;
            out.ptr = s.as_ptr();
            out.len = s.len();
        }
        Value::Bytes(b) => {
            out.tag = TAG_BYTES;
            out.ptr = b.as_ptr();
            out.len = b.len();
        }
    }
    out
}

/// Copies an ABI value into a [`Value`], checking the tag and the text's UTF-8.
///
/// # Safety
/// For [`TAG_TEXT`] and [`TAG_BYTES`], `ptr`/`len` must describe readable memory (as for
/// [`FfiStr::as_bytes`]).
pub unsafe fn value_from_ffi(v: &FfiValue) -> Result<Value, String> {
    let bytes = || {
        // SAFETY: the caller guarantees `ptr`/`len` describe readable memory.
        unsafe {
            FfiStr {
                ptr: v.ptr,
                len: v.len,
            }
            .as_bytes()
        }
    };
    Ok(match v.tag {
        TAG_NULL => Value::Null,
        TAG_INT => Value::Int(v.int_val),
        TAG_FLOAT => Value::Float(v.float_val),
        TAG_TEXT => Value::Text(
            std::str::from_utf8(bytes())
                .map_err(|e| format!("text value is not UTF-8: {e}"))?
                .to_string(),
        ),
        TAG_BYTES => Value::Bytes(bytes().to_vec()),
        other => return Err(format!("unknown value tag {other}")),
    })
}

/// Copies `n` ABI values starting at `ptr`.
///
/// # Safety
/// `ptr` must be null with `n == 0`, or point at `n` valid [`FfiValue`]s.
pub unsafe fn values_from_ffi(ptr: *const FfiValue, n: usize) -> Result<Vec<Value>, String> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        return Err(format!("{n} values at a null pointer"));
    }
    // SAFETY: the caller guarantees `n` valid values at `ptr`.
    let values = unsafe { std::slice::from_raw_parts(ptr, n) };
    values
        .iter()
        // SAFETY: each value's pointers are valid per the caller's guarantee.
        .map(|v| unsafe { value_from_ffi(v) })
        .collect()
}

/// Reads a borrowed string as `&str`.
///
/// # Safety
/// As [`FfiStr::as_bytes`].
pub unsafe fn str_from_ffi<'a>(s: FfiStr, what: &str) -> Result<&'a str, String> {
    // SAFETY: forwarded to the caller.
    let bytes = unsafe { s.as_bytes() };
    std::str::from_utf8(bytes).map_err(|e| format!("{what} is not UTF-8: {e}"))
}

/// A result set in plugin-owned memory, laid out for [`FfiRows`].
struct OwnedRows {
    rows: Rows,
    columns: Vec<FfiStr>,
    values: Vec<FfiValue>,
}

/// Moves `rows` into plugin-owned memory and describes it as [`FfiRows`]; release with
/// [`free_owned_rows`].
pub fn rows_to_ffi(rows: Rows) -> FfiRows {
    let mut owned = Box::new(OwnedRows {
        rows,
        columns: Vec::new(),
        values: Vec::new(),
    });
    // The strings' and byte vectors' heap buffers do not move when the box is built, so the
    // pointers stay valid until the box is dropped.
    owned.columns = owned
        .rows
        .columns
        .iter()
        .map(|c| FfiStr::borrow(c))
        .collect();
    let width = owned.columns.len();
    owned.values = owned
        .rows
        .rows
        .iter()
        .flat_map(|r| {
            // A ragged row would break the row-major layout: pad or cut it to the width.
            (0..width).map(move |i| {
                r.get(i)
                    .map_or_else(|| value_to_ffi(&Value::Null), value_to_ffi)
            })
        })
        .collect();
    FfiRows {
        column_count: width,
        columns: owned.columns.as_ptr(),
        row_count: owned.rows.rows.len(),
        values: owned.values.as_ptr(),
        owner: Box::into_raw(owned).cast::<c_void>(),
    }
}

/// Frees what [`rows_to_ffi`] made, and empties `rows`.
///
/// # Safety
/// `rows` must be null or point at an [`FfiRows`] made by [`rows_to_ffi`] in this same library
/// and not yet freed.
pub unsafe fn free_owned_rows(rows: *mut FfiRows) {
    if rows.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `rows` points at a live FfiRows.
    let rows = unsafe { &mut *rows };
    if !rows.owner.is_null() {
        // SAFETY: `owner` came from `Box::into_raw` in `rows_to_ffi` and is freed only here.
        drop(unsafe { Box::from_raw(rows.owner.cast::<OwnedRows>()) });
    }
    *rows = FfiRows::EMPTY;
}

/// Copies an ABI result set into [`Rows`], validating every value.
///
/// # Safety
/// `rows` must describe memory as documented on [`FfiRows`].
pub unsafe fn rows_from_ffi(rows: &FfiRows) -> Result<Rows, String> {
    let columns = if rows.column_count == 0 {
        &[][..]
    } else if rows.columns.is_null() {
        return Err("column names at a null pointer".into());
    } else {
        // SAFETY: the caller guarantees `column_count` names at `columns`.
        unsafe { std::slice::from_raw_parts(rows.columns, rows.column_count) }
    };
    let columns = columns
        .iter()
        .map(|c| {
            // SAFETY: each name points at valid bytes per the caller's guarantee.
            unsafe { str_from_ffi(*c, "column name") }.map(String::from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total = rows
        .row_count
        .checked_mul(rows.column_count)
        .ok_or("row count overflows")?;
    // SAFETY: the caller guarantees `row_count * column_count` values at `values`.
    let values = unsafe { values_from_ffi(rows.values, total) }?;
    let width = columns.len();
    let mut out = Vec::with_capacity(rows.row_count);
    let mut it = values.into_iter();
    for _ in 0..rows.row_count {
        out.push(it.by_ref().take(width).collect());
    }
    Ok(Rows { columns, rows: out })
}

/// Moves `s` into plugin-owned memory; release with [`free_owned_string`].
pub fn owned_string(s: String) -> FfiString {
    let boxed: Box<[u8]> = s.into_bytes().into_boxed_slice();
    let len = boxed.len();
    FfiString {
        ptr: Box::into_raw(boxed).cast::<u8>(),
        len,
    }
}

/// Frees what [`owned_string`] made, and empties `s`.
///
/// # Safety
/// `s` must be null or point at an [`FfiString`] made by [`owned_string`] in this same library
/// and not yet freed.
pub unsafe fn free_owned_string(s: *mut FfiString) {
    if s.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `s` points at a live FfiString.
    let s = unsafe { &mut *s };
    if !s.ptr.is_null() {
        let slice = std::ptr::slice_from_raw_parts_mut(s.ptr, s.len);
        // SAFETY: `ptr`/`len` came from `Box::into_raw` of a `Box<[u8]>` in `owned_string`.
        drop(unsafe { Box::from_raw(slice) });
    }
    *s = FfiString::EMPTY;
}

/// Copies a plugin string.
///
/// # Safety
/// `s` must describe `len` readable bytes.
pub unsafe fn string_from_ffi(s: &FfiString, what: &str) -> Result<String, String> {
    let borrowed = FfiStr {
        ptr: s.ptr,
        len: s.len,
    };
    // SAFETY: forwarded to the caller.
    unsafe { str_from_ffi(borrowed, what) }.map(String::from)
}

/// An error's strings in plugin-owned memory.
struct OwnedError {
    code: Option<String>,
    message: String,
    statement: String,
}

/// Moves `e` into plugin-owned memory as an [`FfiError`]; release with [`free_owned_error`].
pub fn error_to_ffi(e: DriverError) -> FfiError {
    let (index, total, statement) = match e.position {
        Some(p) => (p.index as u64, p.total.map_or(0, |t| t as u64), p.statement),
        None => (0, 0, String::new()),
    };
    let owned = Box::new(OwnedError {
        code: e.code,
        message: e.message,
        statement,
    });
    FfiError {
        kind: kind_id(e.kind),
        code: owned.code.as_deref().map_or(FfiStr::EMPTY, FfiStr::borrow),
        message: FfiStr::borrow(&owned.message),
        statement_index: index,
        statement_total: total,
        statement_text: FfiStr::borrow(&owned.statement),
        owner: Box::into_raw(owned).cast::<c_void>(),
    }
}

/// Frees what [`error_to_ffi`] made, and empties `e`.
///
/// # Safety
/// `e` must be null or point at an [`FfiError`] made by [`error_to_ffi`] in this same library
/// (or empty), not yet freed.
pub unsafe fn free_owned_error(e: *mut FfiError) {
    if e.is_null() {
        return;
    }
    // SAFETY: the caller guarantees `e` points at a live FfiError.
    let e = unsafe { &mut *e };
    if !e.owner.is_null() {
        // SAFETY: `owner` came from `Box::into_raw` in `error_to_ffi` and is freed only here.
        drop(unsafe { Box::from_raw(e.owner.cast::<OwnedError>()) });
    }
    *e = FfiError::EMPTY;
}

/// Copies an ABI error into a [`DriverError`]. Never fails: whatever cannot be read is reported
/// in the message instead.
///
/// # Safety
/// `e`'s strings must describe readable memory.
pub unsafe fn error_from_ffi(e: &FfiError) -> DriverError {
    let text = |s: FfiStr, what: &str| -> String {
        // SAFETY: forwarded to the caller.
        match unsafe { str_from_ffi(s, what) } {
            Ok(s) => s.to_string(),
            Err(why) => {
                // SAFETY: the caller guarantees `s` describes readable memory.
                let bytes = unsafe { s.as_bytes() };
                String::from_utf8_lossy(bytes).into_owned() + &format!(" [{why}]")
            }
        }
    };
    let mut message = text(e.message, "error message");
    let kind = kind_from_id(e.kind).unwrap_or_else(|| {
        message = format!("{message} [unknown error kind {} from plugin]", e.kind);
        ErrorKind::Internal
    });
    if message.is_empty() {
        message = "the plugin reported an error without a message".into();
    }
    let mut out = DriverError::new(kind, message);
    if !e.code.ptr.is_null() {
        out = out.with_code(text(e.code, "error code"));
    }
    if e.statement_index > 0 {
        out = out.with_position(ScriptPosition {
            index: e.statement_index as usize,
            total: (e.statement_total > 0).then_some(e.statement_total as usize),
            statement: text(e.statement_text, "statement text"),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_exactly() {
        let values = vec![
            Value::Null,
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(-0.5),
            Value::Text("héllo\0x".into()),
            Value::Text(String::new()),
            Value::Bytes(vec![0, 255, 1]),
            Value::Bytes(vec![]),
        ];
        let ffi: Vec<FfiValue> = values.iter().map(value_to_ffi).collect();
        // SAFETY: `ffi` borrows `values`, which is alive.
        let back = unsafe { values_from_ffi(ffi.as_ptr(), ffi.len()) }.unwrap();
        assert_eq!(back, values);
    }

    #[test]
    fn bad_tag_and_utf8_are_errors() {
        let bad = [0xffu8, 0xfe];
        let mut v = value_to_ffi(&Value::Bytes(bad.to_vec()));
        v.ptr = bad.as_ptr();
        v.tag = TAG_TEXT;
        // SAFETY: `bad` is alive.
        assert!(unsafe { value_from_ffi(&v) }.unwrap_err().contains("UTF-8"));
        v.tag = 42;
        // SAFETY: `bad` is alive.
        let e = unsafe { value_from_ffi(&v) }.unwrap_err();
        assert!(e.contains("tag 42"));
    }

    #[test]
    fn rows_round_trip() {
        let rows = Rows {
            columns: vec!["a".into(), "b".into()],
            rows: vec![
                vec![Value::Int(1), Value::Text("x".into())],
                vec![Value::Null, Value::Bytes(vec![9])],
            ],
        };
        let mut ffi = rows_to_ffi(rows.clone());
        // SAFETY: `ffi` was just made and is freed below.
        let back = unsafe { rows_from_ffi(&ffi) }.unwrap();
        // SAFETY: made by `rows_to_ffi` above, freed once.
        unsafe { free_owned_rows(&mut ffi) };
        assert_eq!(back, rows);
        assert!(ffi.owner.is_null());
    }

    #[test]
    fn errors_round_trip() {
        let e = DriverError::new(ErrorKind::Sql, "boom")
            .with_code("SQLITE_ERROR")
            .with_position(ScriptPosition {
                index: 2,
                total: Some(3),
                statement: "SELEC 1".into(),
            });
        let mut ffi = error_to_ffi(e.clone());
        // SAFETY: `ffi` was just made and is freed below.
        let back = unsafe { error_from_ffi(&ffi) };
        // SAFETY: made by `error_to_ffi` above, freed once.
        unsafe { free_owned_error(&mut ffi) };
        assert_eq!(back, e);

        let plain = DriverError::new(ErrorKind::LockTimeout, "held");
        let mut ffi = error_to_ffi(plain.clone());
        // SAFETY: as above.
        assert_eq!(unsafe { error_from_ffi(&ffi) }, plain);
        // SAFETY: as above.
        unsafe { free_owned_error(&mut ffi) };
    }

    #[test]
    fn strings_round_trip() {
        let mut s = owned_string("sqlite 3.50".into());
        // SAFETY: `s` was just made and is freed below.
        assert_eq!(unsafe { string_from_ffi(&s, "s") }.unwrap(), "sqlite 3.50");
        // SAFETY: made by `owned_string` above, freed once.
        unsafe { free_owned_string(&mut s) };
        assert!(s.ptr.is_null());
    }
}
