//! Conversions between Braid's values/errors and their ABI forms, used by both sides.
//!
//! Owned ABI data (rows, strings, errors) is always produced by the plugin side
//! (`OwnedRows`, `OwnedError`, [`owned_string`]) and read by the host side ([`rows_from_ffi`],
//! [`error_from_ffi`], [`string_from_ffi`]); values are borrowed in both directions.
//!
//! Every (pointer, count) pair from the other side goes through one check before a slice is
//! formed over it ([`foreign_slice`]): a non-zero count at a null pointer, a misaligned pointer,
//! a range past the end of the address space or over `isize::MAX` bytes are errors, as is a count
//! over a limit. The host side reads with [`Limits::HOST`] (the `MAX_*` limits of [`crate::abi`]);
//! the plugin side reads the host's own data (SQL, parameters) with [`Limits::UNBOUNDED`], which
//! keeps only the memory-safety checks. Counts are checked before anything is allocated, and
//! nothing is reserved up front on a count's word alone: buffers grow as values are copied.

use std::ffi::c_void;
use std::fmt;

use braid_driver::{DriverError, ErrorKind, Rows, ScriptPosition, Value};

use crate::abi::{
    FfiError, FfiRows, FfiStr, FfiString, FfiValue, MAX_COLUMNS, MAX_RESULT_LEN, MAX_ROWS,
    MAX_VALUE_LEN, MAX_VALUES, TAG_BYTES, TAG_FLOAT, TAG_INT, TAG_NULL, TAG_TEXT, kind_from_id,
    kind_id,
};

/// What a reader of the other side's data accepts, beyond what memory safety requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Columns of one result set.
    pub columns: usize,
    /// Rows of one result set.
    pub rows: usize,
    /// Values (`rows * columns`) of one result set.
    pub values: usize,
    /// Bytes of one string or byte value.
    pub value_len: usize,
    /// Bytes of text and binary data in one result set (names and values).
    pub total_len: usize,
}

impl Limits {
    /// What the host accepts from a plugin: [`MAX_COLUMNS`], [`MAX_ROWS`], [`MAX_VALUES`],
    /// [`MAX_VALUE_LEN`] and [`MAX_RESULT_LEN`].
    pub const HOST: Limits = Limits {
        columns: MAX_COLUMNS,
        rows: MAX_ROWS,
        values: MAX_VALUES,
        value_len: MAX_VALUE_LEN,
        total_len: MAX_RESULT_LEN,
    };

    /// No limit beyond memory safety: how a plugin reads the host's own data.
    pub const UNBOUNDED: Limits = Limits {
        columns: usize::MAX,
        rows: usize::MAX,
        values: usize::MAX,
        value_len: usize::MAX,
        total_len: usize::MAX,
    };
}

/// Forms a slice over a (pointer, count) pair that came from the other side, after checking
/// everything that can be checked without reading: `len` at most `max`, no non-zero `len` at a
/// null pointer, `ptr` aligned for `T`, and `len` elements neither over `isize::MAX` bytes nor
/// past the end of the address space. `what` names the pair in the error (`"row_count"`,
/// `"text value"`, …). A zero `len` gives an empty slice whatever `ptr` is.
///
/// # Safety
/// When the checks pass, `ptr` must point at `len` initialised `T`s that stay valid and
/// unmodified for `'a`. (No check can establish that: a wrong pointer with a plausible count is
/// still undefined behaviour.)
pub unsafe fn foreign_slice<'a, T>(
    ptr: *const T,
    len: usize,
    max: usize,
    what: impl fmt::Display,
) -> Result<&'a [T], String> {
    if len == 0 {
        return Ok(&[]);
    }
    if len > max {
        return Err(format!("{what} is {len}, over the limit of {max}"));
    }
    if ptr.is_null() {
        return Err(format!("{what} is {len} at a null pointer"));
    }
    if !ptr.is_aligned() {
        return Err(format!(
            "{what}: pointer {ptr:p} is not aligned to {} bytes",
            std::mem::align_of::<T>()
        ));
    }
    let bytes = len
        .checked_mul(std::mem::size_of::<T>())
        .filter(|&b| b <= isize::MAX as usize)
        .ok_or_else(|| format!("{what} is {len}: too large to address"))?;
    if ptr.addr().checked_add(bytes).is_none() {
        return Err(format!(
            "{what} is {len} at {ptr:p}: past the end of the address space"
        ));
    }
    // SAFETY: non-null, aligned, at most isize::MAX bytes that do not wrap (checked above); that
    // they are `len` initialised `T`s live for `'a` is the caller's guarantee.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// The bytes of a (pointer, length) pair from the other side, checked as by [`foreign_slice`]
/// against `max` bytes; `what` names the string (`"text value"` gives "text value length is
/// …").
///
/// # Safety
/// As [`foreign_slice`].
unsafe fn foreign_bytes<'a>(
    ptr: *const u8,
    len: usize,
    max: usize,
    what: impl fmt::Display,
) -> Result<&'a [u8], String> {
    if len > max {
        return Err(format!(
            "{what} length is {len} bytes, over the limit of {max} bytes"
        ));
    }
    // SAFETY: forwarded to the caller.
    unsafe { foreign_slice(ptr, len, max, format_args!("{what} length")) }
}

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

/// Copies an ABI value into a [`Value`], checking the tag, the text's UTF-8 and its pointer and
/// length (only as memory safety requires: see [`Limits::UNBOUNDED`]).
///
/// # Safety
/// For [`TAG_TEXT`] and [`TAG_BYTES`], `ptr`/`len` must describe readable memory (as for
/// [`foreign_slice`]).
pub unsafe fn value_from_ffi(v: &FfiValue) -> Result<Value, String> {
    // SAFETY: forwarded to the caller.
    unsafe { value_from_ffi_limited(v, usize::MAX) }
}

/// [`value_from_ffi`] with text and bytes of at most `max_len` bytes.
///
/// # Safety
/// As [`value_from_ffi`].
unsafe fn value_from_ffi_limited(v: &FfiValue, max_len: usize) -> Result<Value, String> {
    // SAFETY: the caller guarantees `ptr`/`len` describe readable memory.
    let bytes = |what: &str| unsafe { foreign_bytes(v.ptr, v.len, max_len, what) };
    Ok(match v.tag {
        TAG_NULL => Value::Null,
        TAG_INT => Value::Int(v.int_val),
        TAG_FLOAT => Value::Float(v.float_val),
        // Validated on the borrowed bytes, so nothing is allocated for text that is refused.
        TAG_TEXT => Value::Text(
            std::str::from_utf8(bytes("text value")?)
                .map_err(|e| format!("text value is not UTF-8: {e}"))?
                .to_string(),
        ),
        TAG_BYTES => Value::Bytes(bytes("bytes value")?.to_vec()),
        other => return Err(format!("unknown value tag {other}")),
    })
}

/// Copies `n` ABI values starting at `ptr` (only memory-safety checks: the plugin side reads the
/// host's parameters with this).
///
/// # Safety
/// `ptr` must be null with `n == 0`, or point at `n` valid [`FfiValue`]s.
pub unsafe fn values_from_ffi(ptr: *const FfiValue, n: usize) -> Result<Vec<Value>, String> {
    // SAFETY: the caller guarantees `n` valid values at `ptr`.
    let values = unsafe { foreign_slice(ptr, n, usize::MAX, "value count") }?;
    values
        .iter()
        // SAFETY: each value's pointers are valid per the caller's guarantee.
        .map(|v| unsafe { value_from_ffi(v) })
        .collect()
}

/// Reads a borrowed string as `&str` (only memory-safety checks).
///
/// # Safety
/// As [`foreign_slice`] for its bytes.
pub unsafe fn str_from_ffi<'a>(s: FfiStr, what: &str) -> Result<&'a str, String> {
    // SAFETY: forwarded to the caller.
    unsafe { str_from_ffi_limited(s, usize::MAX, what) }
}

/// [`str_from_ffi`] with at most `max` bytes.
///
/// # Safety
/// As [`str_from_ffi`].
unsafe fn str_from_ffi_limited<'a>(s: FfiStr, max: usize, what: &str) -> Result<&'a str, String> {
    // SAFETY: forwarded to the caller.
    let bytes = unsafe { foreign_bytes(s.ptr, s.len, max, what) }?;
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

/// Copies an ABI result set into [`Rows`], validating every value, within [`Limits::HOST`].
///
/// # Safety
/// `rows` must describe memory as documented on [`FfiRows`] (which the checks cannot verify,
/// but they refuse counts, lengths and pointers that cannot be right before reading any).
pub unsafe fn rows_from_ffi(rows: &FfiRows) -> Result<Rows, String> {
    // SAFETY: forwarded to the caller.
    unsafe { rows_from_ffi_limited(rows, &Limits::HOST) }
}

/// [`rows_from_ffi`] within `limits`. An error names the count, row, column or value at fault.
///
/// # Safety
/// As [`rows_from_ffi`].
pub unsafe fn rows_from_ffi_limited(rows: &FfiRows, limits: &Limits) -> Result<Rows, String> {
    // Every count first, before anything is read or allocated.
    if rows.column_count > limits.columns {
        return Err(format!(
            "column_count is {}, over the limit of {} columns",
            rows.column_count, limits.columns
        ));
    }
    if rows.row_count > limits.rows {
        return Err(format!(
            "row_count is {}, over the limit of {} rows",
            rows.row_count, limits.rows
        ));
    }
    let total = rows
        .row_count
        .checked_mul(rows.column_count)
        .ok_or_else(|| {
            format!(
                "row_count {} times column_count {} overflows",
                rows.row_count, rows.column_count
            )
        })?;
    if total > limits.values {
        return Err(format!(
            "{} rows of {} columns are {total} values, over the limit of {}",
            rows.row_count, rows.column_count, limits.values
        ));
    }
    // SAFETY: the caller guarantees `column_count` names at `columns`; the pair is checked.
    let names = unsafe {
        foreign_slice(
            rows.columns,
            rows.column_count,
            limits.columns,
            "column_count",
        )
    }?;
    // SAFETY: the caller guarantees `row_count * column_count` values at `values`; checked.
    let values = unsafe { foreign_slice(rows.values, total, limits.values, "value count") }?;

    // Text and bytes copied so far may not exceed `total_len`; checked before each copy.
    let mut budget = limits.total_len;
    let mut spend = |len: usize, what: &dyn Fn() -> String| -> Result<(), String> {
        match budget.checked_sub(len) {
            Some(left) => {
                budget = left;
                Ok(())
            }
            None => Err(format!(
                "{}: {len} bytes take the result set over the limit of {} bytes",
                what(),
                limits.total_len
            )),
        }
    };
    let mut columns = Vec::with_capacity(names.len());
    for (i, c) in names.iter().enumerate() {
        let at = || format!("column {i}'s name");
        // SAFETY: each name points at valid bytes per the caller's guarantee; checked.
        let name = unsafe { str_from_ffi_limited(*c, limits.value_len, "name") }
            .map_err(|e| format!("column {i}: {e}"))?;
        spend(name.len(), &at)?;
        columns.push(name.to_string());
    }
    let width = columns.len();
    // Grows as rows are copied: nothing reserved up front on the plugin's word alone.
    let mut out = Vec::with_capacity(rows.row_count.min(1024));
    for r in 0..rows.row_count {
        let mut row = Vec::with_capacity(width);
        for (c, v) in values[r * width..(r + 1) * width].iter().enumerate() {
            let at = || format!("row {r}, column {c} (`{}`)", columns[c]);
            if matches!(v.tag, TAG_TEXT | TAG_BYTES) && v.len <= limits.value_len {
                spend(v.len, &at)?;
            }
            // SAFETY: each value's pointers are valid per the caller's guarantee; checked.
            let value = unsafe { value_from_ffi_limited(v, limits.value_len) }
                .map_err(|e| format!("{}: {e}", at()))?;
            row.push(value);
        }
        out.push(row);
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

/// Copies a plugin string, of at most [`MAX_VALUE_LEN`] bytes.
///
/// # Safety
/// `s` must describe `len` readable bytes (which the checks cannot verify, but they refuse a
/// length or pointer that cannot be right before reading).
pub unsafe fn string_from_ffi(s: &FfiString, what: &str) -> Result<String, String> {
    let borrowed = FfiStr {
        ptr: s.ptr,
        len: s.len,
    };
    // SAFETY: forwarded to the caller.
    unsafe { str_from_ffi_limited(borrowed, MAX_VALUE_LEN, what) }.map(String::from)
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
/// in the message instead (see [`checked_error_from_ffi`] to tell).
///
/// # Safety
/// `e`'s strings must describe readable memory (as for [`string_from_ffi`]).
pub unsafe fn error_from_ffi(e: &FfiError) -> DriverError {
    // SAFETY: forwarded to the caller.
    let (mut out, problems) = unsafe { checked_error_from_ffi(e) };
    if !problems.is_empty() {
        out.message = format!("{} [{}]", out.message, problems.join("; "));
    }
    out
}

/// Copies an ABI error, and lists what in it breaks the ABI: a string that cannot be read (over
/// [`MAX_VALUE_LEN`], a non-zero length at a null pointer, …; left out, or lossily decoded when
/// it is only not UTF-8), an unknown kind (reported as `Internal`).
///
/// # Safety
/// As [`error_from_ffi`].
pub unsafe fn checked_error_from_ffi(e: &FfiError) -> (DriverError, Vec<String>) {
    let mut problems = Vec::new();
    let mut text = |s: FfiStr, what: &str| -> Option<String> {
        // SAFETY: forwarded to the caller; the pair is checked first.
        match unsafe { foreign_bytes(s.ptr, s.len, MAX_VALUE_LEN, what) } {
            Ok(bytes) => Some(match std::str::from_utf8(bytes) {
                Ok(s) => s.to_string(),
                Err(why) => {
                    problems.push(format!("{what} is not UTF-8: {why}"));
                    String::from_utf8_lossy(bytes).into_owned()
                }
            }),
            Err(why) => {
                problems.push(why);
                None
            }
        }
    };
    let message = match text(e.message, "error message") {
        Some(m) if m.is_empty() => "the plugin reported an error without a message".to_string(),
        Some(m) => m,
        None => "[its message could not be read]".to_string(),
    };
    let code = if e.code.ptr.is_null() {
        None
    } else {
        text(e.code, "error code")
    };
    let statement = if e.statement_index > 0 {
        Some(text(e.statement_text, "statement text").unwrap_or_default())
    } else {
        None
    };
    let kind = kind_from_id(e.kind).unwrap_or_else(|| {
        problems.push(format!("unknown error kind {}", e.kind));
        ErrorKind::Internal
    });
    let mut out = DriverError::new(kind, message);
    if let Some(code) = code {
        out = out.with_code(code);
    }
    if let Some(statement) = statement {
        out = out.with_position(ScriptPosition {
            index: usize::try_from(e.statement_index).unwrap_or(usize::MAX),
            total: (e.statement_total > 0)
                .then(|| usize::try_from(e.statement_total).unwrap_or(usize::MAX)),
            statement,
        });
    }
    (out, problems)
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

    /// One text column `x`: one row of `values[0]`.
    fn one_text(values: &[FfiValue], columns: &[FfiStr]) -> FfiRows {
        FfiRows {
            column_count: columns.len(),
            columns: columns.as_ptr(),
            row_count: 1,
            values: values.as_ptr(),
            owner: std::ptr::null_mut(),
        }
    }

    fn refused(rows: &FfiRows, limits: &Limits) -> String {
        // SAFETY: every pointer in the tests' rows is valid for what it claims, or refused by
        // the checks before it is read (which is what is tested).
        match unsafe { rows_from_ffi_limited(rows, limits) } {
            Ok(r) => panic!("accepted {r:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn garbage_counts_are_refused_before_anything_is_read() {
        let columns = [FfiStr::borrow("x")];
        let abc = Value::Text("abc".into());
        let values = [value_to_ffi(&abc)];
        let good = one_text(&values, &columns);
        // SAFETY: `good` borrows live arrays.
        let rows = unsafe { rows_from_ffi(&good) }.unwrap();
        assert_eq!(rows.rows, [[Value::Text("abc".into())]]);

        // A huge row count with no columns would reserve terabytes; with one, read past the end.
        let e = refused(
            &FfiRows {
                column_count: 0,
                row_count: 1 << 40,
                ..good
            },
            &Limits::HOST,
        );
        assert_eq!(
            e,
            "row_count is 1099511627776, over the limit of 16777216 rows"
        );
        let e = refused(
            &FfiRows {
                column_count: usize::MAX,
                ..good
            },
            &Limits::HOST,
        );
        assert!(
            e.starts_with("column_count is 18446744073709551615, over"),
            "{e}"
        );
        let e = refused(
            &FfiRows {
                column_count: 4096,
                row_count: 8192,
                ..good
            },
            &Limits::HOST,
        );
        assert!(
            e.contains("are 33554432 values, over the limit of 16777216"),
            "{e}"
        );
        // Without limits, the product still may not overflow…
        let e = refused(
            &FfiRows {
                column_count: 1 << 33,
                row_count: 1 << 33,
                ..good
            },
            &Limits::UNBOUNDED,
        );
        assert!(e.contains("overflows"), "{e}");
        // … nor the slice exceed the address space.
        let e = refused(
            &FfiRows {
                row_count: usize::MAX / 8,
                ..good
            },
            &Limits::UNBOUNDED,
        );
        assert!(e.contains("too large to address"), "{e}");
        let e = refused(
            &FfiRows {
                values: std::ptr::without_provenance(usize::MAX - 15),
                ..good
            },
            &Limits::HOST,
        );
        assert!(e.contains("past the end of the address space"), "{e}");
    }

    #[test]
    fn null_and_misaligned_pointers_are_refused() {
        let columns = [FfiStr::borrow("x")];
        let abc = Value::Text("abc".into());
        let values = [value_to_ffi(&abc)];
        let good = one_text(&values, &columns);
        let e = refused(
            &FfiRows {
                columns: std::ptr::null(),
                ..good
            },
            &Limits::HOST,
        );
        assert_eq!(e, "column_count is 1 at a null pointer");
        let e = refused(
            &FfiRows {
                values: std::ptr::null(),
                ..good
            },
            &Limits::HOST,
        );
        assert_eq!(e, "value count is 1 at a null pointer");
        let e = refused(
            &FfiRows {
                values: values.as_ptr().cast::<u8>().wrapping_add(1).cast(),
                ..good
            },
            &Limits::HOST,
        );
        assert!(e.contains("is not aligned to 8 bytes"), "{e}");

        // A null pointer with a length is refused, not read as empty.
        let mut null_text = values;
        null_text[0].ptr = std::ptr::null();
        let e = refused(&one_text(&null_text, &columns), &Limits::HOST);
        assert_eq!(
            e,
            "row 0, column 0 (`x`): text value length is 3 at a null pointer"
        );
        let null_name = [FfiStr {
            ptr: std::ptr::null(),
            len: 2,
        }];
        let e = refused(&one_text(&values, &null_name), &Limits::HOST);
        assert_eq!(e, "column 0: name length is 2 at a null pointer");
        // A null pointer with no length is an empty value, as before.
        null_text[0].len = 0;
        // SAFETY: nothing is read.
        let rows = unsafe { rows_from_ffi(&one_text(&null_text, &columns)) }.unwrap();
        assert_eq!(rows.rows, [[Value::Text(String::new())]]);
    }

    #[test]
    fn lengths_are_bounded_per_value_and_per_result_set() {
        let columns = [FfiStr::borrow("x")];
        let bytes = Value::Bytes(vec![1, 2, 3]);
        let mut long = [value_to_ffi(&bytes)];
        long[0].len = MAX_VALUE_LEN + 1;
        let e = refused(&one_text(&long, &columns), &Limits::HOST);
        assert_eq!(
            e,
            "row 0, column 0 (`x`): bytes value length is 268435457 bytes, over the limit of \
             268435456 bytes"
        );

        let cells = [
            Value::Text("0123456789".into()),
            Value::Bytes(vec![7; 10]),
            Value::Int(3),
        ];
        let values: Vec<FfiValue> = cells.iter().map(value_to_ffi).collect();
        let columns = [FfiStr::borrow("a")];
        let rows = FfiRows {
            column_count: 1,
            columns: columns.as_ptr(),
            row_count: 3,
            values: values.as_ptr(),
            owner: std::ptr::null_mut(),
        };
        let small = |total_len| Limits {
            total_len,
            ..Limits::HOST
        };
        // The name (1 byte) and both values (10 bytes each) fit in 21 bytes, not in 20.
        // SAFETY: `rows` borrows live arrays.
        assert_eq!(
            unsafe { rows_from_ffi_limited(&rows, &small(21)) }
                .unwrap()
                .rows
                .len(),
            3
        );
        let e = refused(&rows, &small(20));
        assert_eq!(
            e,
            "row 1, column 0 (`a`): 10 bytes take the result set over the limit of 20 bytes"
        );
    }

    #[test]
    fn garbage_strings_and_errors_are_reported_not_read() {
        let bytes = b"abc";
        let long = FfiString {
            ptr: bytes.as_ptr().cast_mut(),
            len: 1 << 40,
        };
        // SAFETY: refused before reading.
        let e = unsafe { string_from_ffi(&long, "the string") }.unwrap_err();
        assert_eq!(
            e,
            "the string length is 1099511627776 bytes, over the limit of 268435456 bytes"
        );
        let null = FfiString {
            ptr: std::ptr::null_mut(),
            len: 7,
        };
        // SAFETY: refused before reading.
        let e = unsafe { string_from_ffi(&null, "the string") }.unwrap_err();
        assert_eq!(e, "the string length is 7 at a null pointer");

        let e = FfiError {
            kind: 99,
            message: FfiStr {
                ptr: bytes.as_ptr(),
                len: 1 << 40,
            },
            code: FfiStr {
                ptr: bytes.as_ptr(),
                len: 3,
            },
            statement_index: 2,
            statement_text: FfiStr {
                ptr: std::ptr::null(),
                len: 5,
            },
            ..FfiError::EMPTY
        };
        // SAFETY: the long and null strings are refused before reading; the code is valid.
        let (got, problems) = unsafe { checked_error_from_ffi(&e) };
        assert_eq!(got.kind, ErrorKind::Internal);
        assert_eq!(got.message, "[its message could not be read]");
        assert_eq!(got.code.as_deref(), Some("abc"));
        assert_eq!(got.position.unwrap().statement, "");
        assert_eq!(
            problems,
            [
                "error message length is 1099511627776 bytes, over the limit of 268435456 bytes",
                "statement text length is 5 at a null pointer",
                "unknown error kind 99",
            ]
        );
        // SAFETY: as above.
        let flat = unsafe { error_from_ffi(&e) };
        assert!(flat.message.contains("[error message length is"), "{flat}");
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
