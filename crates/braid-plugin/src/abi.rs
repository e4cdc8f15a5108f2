//! The C ABI between Braid (the host) and a driver plugin. Everything here is `#[repr(C)]` and
//! made of integers, raw pointers and `Option<extern "C" fn>`, so it means the same thing to any
//! compiler (and to a plugin written in C).
//!
//! # Rules
//!
//! * **Entry point.** A plugin exports one symbol, [`ENTRY_SYMBOL`] (`braid_plugin_entry`), of
//!   type [`EntryFn`]. Its name carries no version on purpose: a plugin built for a newer ABI
//!   must fail with "built for ABI v2", not with "symbol not found". The host passes its own
//!   ABI version so a future plugin can adapt or refuse. The descriptor it returns is `'static`.
//! * **Header first.** The host reads only [`PluginHeader`] (the first 8 bytes) before it has
//!   checked `abi_version` and `struct_size`.
//! * **Strings** are UTF-8, pointer + length, not NUL-terminated — except the descriptor's
//!   `name` and `version`, which are static NUL-terminated C strings.
//! * **Ownership: whoever allocates, frees.** Anything the host passes in (SQL, parameters,
//!   keys) is borrowed for the duration of the call. Anything the plugin hands out
//!   ([`FfiRows`], [`FfiString`], [`FfiError`]) is copied by the host and then given back to the
//!   plugin's `free_rows` / `free_string` / `free_error`, so it is freed by the allocator that
//!   made it (a cdylib has its own copy of std, allocator included).
//! * **Status.** Every fallible call returns a `u32` status. On anything but [`STATUS_OK`] the
//!   plugin has filled the `err` out-parameter, which the host must release with `free_error`.
//! * **Threads.** A connection handle may be used from any thread, but never by two threads at
//!   once. Calls block until done.
//! * **Tags are integers, never Rust enums**: a value the host does not know is reported as an
//!   error instead of being undefined behaviour.
//! * **Limits.** The host distrusts what a plugin returns: it checks every count and length
//!   against the `MAX_*` limits below, and every (pointer, count) pair for null, alignment and
//!   address-space overflow, *before* it allocates anything or forms a slice; a violation fails
//!   that call with an `Internal` error naming the plugin, never the process. (What it cannot
//!   check is that a non-null pointer really points at as much memory as claimed: a plugin that
//!   lies within the limits is still undefined behaviour, which is why plugins must be trusted.)
//!
//! # Versioning
//!
//! Slots are only ever appended to [`PluginDescriptor`]; `struct_size` tells the host how much of
//! it the plugin knows, and a missing tail slot counts as absent. Changing, removing or
//! reordering anything, or changing the meaning of a tag, status, kind or flag bit, bumps
//! [`BRAID_PLUGIN_ABI_VERSION`]. `flags` bits are hints the host may ignore, so a new hint is a
//! new bit.
//! The host refuses plugins built for a newer ABI than its own.

use std::ffi::{c_char, c_void};

/// The ABI version this crate speaks. See the module docs for what bumps it.
pub const BRAID_PLUGIN_ABI_VERSION: u32 = 1;

/// The oldest plugin ABI this host still loads.
pub const MIN_SUPPORTED_ABI_VERSION: u32 = 1;

/// The name of the one symbol a plugin exports.
pub const ENTRY_SYMBOL: &str = "braid_plugin_entry";

/// The entry point: given the host's ABI version, returns the plugin's static descriptor (or
/// null if the plugin cannot describe itself).
pub type EntryFn = unsafe extern "C" fn(host_abi_version: u32) -> *const PluginDescriptor;

/// An opaque connection, created by `open` and destroyed by `close`.
pub type ConnHandle = *mut c_void;

/// The call succeeded; out-parameters are filled.
pub const STATUS_OK: u32 = 0;
/// The call failed; `err` is filled.
pub const STATUS_ERROR: u32 = 1;
/// The plugin panicked during the call; `err` is filled (kind `Internal`) and the connection
/// is poisoned: every later call on it fails with [`STATUS_POISONED`].
pub const STATUS_PANIC: u32 = 2;
/// The connection was poisoned by an earlier panic; `err` is filled.
pub const STATUS_POISONED: u32 = 3;
/// The host passed something invalid (null pointer, invalid UTF-8, unknown tag); `err` is filled.
pub const STATUS_INVALID_ARGUMENT: u32 = 4;

/// Dialect ids in [`PluginDescriptor::dialect`].
pub const DIALECT_POSTGRES: u32 = 0;
pub const DIALECT_MYSQL: u32 = 1;
pub const DIALECT_SQLITE: u32 = 2;

/// Bit in [`PluginDescriptor::flags`]: every call completes quickly without waiting on the
/// network (an embedded database such as SQLite), so the host may call it directly on its async
/// thread instead of handing it to a blocking thread. Saves a thread hand-off per call (~10 µs),
/// which dominates the cost of small statements; a plugin that talks to a server must not set it.
pub const FLAG_INLINE_CALLS: u32 = 1;

/// Value tags in [`FfiValue::tag`].
pub const TAG_NULL: u32 = 0;
pub const TAG_INT: u32 = 1;
pub const TAG_FLOAT: u32 = 2;
pub const TAG_TEXT: u32 = 3;
pub const TAG_BYTES: u32 = 4;

/// Error kinds in [`FfiError::kind`], one per [`braid_driver::ErrorKind`].
pub const KIND_URL: u32 = 0;
pub const KIND_CONNECT: u32 = 1;
pub const KIND_AUTH: u32 = 2;
pub const KIND_NO_DATABASE: u32 = 3;
pub const KIND_SQL: u32 = 4;
pub const KIND_LOCK_TIMEOUT: u32 = 5;
pub const KIND_UNSUPPORTED: u32 = 6;
pub const KIND_IO: u32 = 7;
pub const KIND_INTERNAL: u32 = 8;
/// Appended: a host of an older minor version reads it as [`KIND_INTERNAL`].
pub const KIND_LOCK_LOST: u32 = 9;

/// The most columns the host accepts in one result set. No SQL engine returns more (PostgreSQL
/// stops at 1 664 result columns, MySQL at 4 096 per table, SQLite at 32 767).
pub const MAX_COLUMNS: usize = 1 << 16;

/// The most rows the host accepts in one result set (16 Mi). What a migration tool reads is
/// small — version-store rows (one per applied revision), introspection (one per table, column,
/// index and key: about a million for a schema of 100 000 columns), a script's statements — so
/// this only bounds a data migration that queries through the driver, which should page.
pub const MAX_ROWS: usize = 1 << 24;

/// The most values (`row_count * column_count`) the host accepts in one result set (16 Mi):
/// 512 MiB once copied into Braid's values. The product is computed with overflow checking.
pub const MAX_VALUES: usize = 1 << 24;

/// The longest single string or byte value the host accepts from a plugin (256 MiB): a text or
/// bytes value, a column name, a driver name, a server version, an error's message, code or
/// statement. Above MySQL's default `max_allowed_packet` (64 MiB); PostgreSQL's 1 GB field
/// limit is not reachable through a plugin.
pub const MAX_VALUE_LEN: usize = 256 << 20;

/// The most bytes of text and binary data (values and column names together) the host accepts
/// in one result set (1 GiB). Never allocated up front: it only bounds what is copied, value by
/// value, each one checked against [`MAX_VALUE_LEN`] first.
pub const MAX_RESULT_LEN: usize = 1 << 30;

/// The longest descriptor `name` or `version` (static C strings, which carry no length): the host
/// looks for the terminating NUL in at most this many bytes.
pub const MAX_DESCRIPTOR_STRING_LEN: usize = 1024;

/// The frozen first two fields of every descriptor, whatever its version.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginHeader {
    /// The ABI the plugin was built for.
    pub abi_version: u32,
    /// `size_of::<PluginDescriptor>()` as the plugin knows it (grows as slots are appended).
    pub struct_size: u32,
}

/// A borrowed UTF-8 string (pointer + length). `ptr` may be null only when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FfiStr {
    pub ptr: *const u8,
    pub len: usize,
}

/// A string the plugin allocated; the host releases it with `free_string`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FfiString {
    pub ptr: *mut u8,
    pub len: usize,
}

/// A tagged value. Which field is meaningful depends on `tag`: `int_val` for [`TAG_INT`],
/// `float_val` for [`TAG_FLOAT`], `ptr` + `len` for [`TAG_TEXT`] (UTF-8) and [`TAG_BYTES`].
/// Exact for 64-bit integers and binary data (no JSON, no text round trip).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FfiValue {
    pub tag: u32,
    pub int_val: i64,
    pub float_val: f64,
    pub ptr: *const u8,
    pub len: usize,
}

/// A fully materialised result set: `column_count` names and `row_count * column_count`
/// values, row-major. Everything points into memory owned by `owner` (plugin-private), released
/// by `free_rows`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FfiRows {
    pub column_count: usize,
    pub columns: *const FfiStr,
    pub row_count: usize,
    pub values: *const FfiValue,
    pub owner: *mut c_void,
}

/// An error. Strings point into memory owned by `owner` (plugin-private), released by
/// `free_error`. `code.ptr` null means "no code"; `statement_index` 0 means "no position"
/// (otherwise 1-based), `statement_total` 0 means "unknown".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FfiError {
    pub kind: u32,
    pub code: FfiStr,
    pub message: FfiStr,
    pub statement_index: u64,
    pub statement_total: u64,
    pub statement_text: FfiStr,
    pub owner: *mut c_void,
}

impl FfiStr {
    pub const EMPTY: FfiStr = FfiStr {
        ptr: std::ptr::null(),
        len: 0,
    };

    /// Borrows `s` for a call.
    pub fn borrow(s: &str) -> FfiStr {
        FfiStr {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The bytes this points at. Trusts `self` (a null pointer reads as empty whatever `len`);
    /// to read what the other side sent, use the checked readers of [`crate::convert`].
    ///
    /// # Safety
    /// `ptr` must be null with `len == 0`, or point at `len` readable bytes that live for `'a`.
    pub unsafe fn as_bytes<'a>(self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            &[]
        } else {
            // SAFETY: the caller guarantees `len` readable bytes at `ptr` for `'a`.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

impl FfiString {
    pub const EMPTY: FfiString = FfiString {
        ptr: std::ptr::null_mut(),
        len: 0,
    };
}

impl FfiRows {
    pub const EMPTY: FfiRows = FfiRows {
        column_count: 0,
        columns: std::ptr::null(),
        row_count: 0,
        values: std::ptr::null(),
        owner: std::ptr::null_mut(),
    };
}

impl FfiError {
    pub const EMPTY: FfiError = FfiError {
        kind: KIND_INTERNAL,
        code: FfiStr::EMPTY,
        message: FfiStr::EMPTY,
        statement_index: 0,
        statement_total: 0,
        statement_text: FfiStr::EMPTY,
        owner: std::ptr::null_mut(),
    };
}

/// `open(url, out_conn, out_name, err)`: connects; on success fills the handle and the driver's
/// display name (released with `free_string`). The host passes a null handle and an empty name;
/// whatever the plugin writes there belongs to the host **whatever the status**: a non-null
/// handle is released with `close` and a non-null name with `free_string`, also when the call
/// failed or returned a null handle. A failing plugin should leave both untouched.
pub type OpenFn = unsafe extern "C" fn(
    url: FfiStr,
    out_conn: *mut ConnHandle,
    out_name: *mut FfiString,
    err: *mut FfiError,
) -> u32;
/// `close(conn, err)`: closes and frees the handle, whatever the status. The handle is invalid
/// afterwards.
pub type CloseFn = unsafe extern "C" fn(conn: ConnHandle, err: *mut FfiError) -> u32;
/// A call with no input and no output (`begin`, `commit`, `rollback`).
pub type UnitFn = unsafe extern "C" fn(conn: ConnHandle, err: *mut FfiError) -> u32;
/// `execute_script(conn, sql, err)`.
pub type ScriptFn = unsafe extern "C" fn(conn: ConnHandle, sql: FfiStr, err: *mut FfiError) -> u32;
/// `execute(conn, sql, params, n_params, out_affected, err)`.
pub type ExecuteFn = unsafe extern "C" fn(
    conn: ConnHandle,
    sql: FfiStr,
    params: *const FfiValue,
    n_params: usize,
    out_affected: *mut u64,
    err: *mut FfiError,
) -> u32;
/// `query(conn, sql, params, n_params, out_rows, err)`; rows released with `free_rows`.
pub type QueryFn = unsafe extern "C" fn(
    conn: ConnHandle,
    sql: FfiStr,
    params: *const FfiValue,
    n_params: usize,
    out_rows: *mut FfiRows,
    err: *mut FfiError,
) -> u32;
/// `lock(conn, key, timeout_ms, err)`.
pub type LockFn =
    unsafe extern "C" fn(conn: ConnHandle, key: FfiStr, timeout_ms: u64, err: *mut FfiError) -> u32;
/// `unlock(conn, key, err)`.
pub type UnlockFn = unsafe extern "C" fn(conn: ConnHandle, key: FfiStr, err: *mut FfiError) -> u32;
/// `server_version(conn, out, err)`; the string is released with `free_string`.
pub type StringFn =
    unsafe extern "C" fn(conn: ConnHandle, out: *mut FfiString, err: *mut FfiError) -> u32;
/// `introspect(conn, out_rows, err)`: the schema as rows of the fixed shape described in
/// [`crate::schema_rows`]; released with `free_rows`.
pub type IntrospectFn =
    unsafe extern "C" fn(conn: ConnHandle, out_rows: *mut FfiRows, err: *mut FfiError) -> u32;
/// `split_script(conn, sql, out_rows, err)`: the statements of a script as the driver would run
/// them, as rows of one text column `statement`; released with `free_rows`. Optional: without it
/// the host splits with the dialect's lexer (`braid_driver::split_statements`).
pub type SplitFn = unsafe extern "C" fn(
    conn: ConnHandle,
    sql: FfiStr,
    out_rows: *mut FfiRows,
    err: *mut FfiError,
) -> u32;
pub type FreeRowsFn = unsafe extern "C" fn(rows: *mut FfiRows);
pub type FreeErrorFn = unsafe extern "C" fn(err: *mut FfiError);
pub type FreeStringFn = unsafe extern "C" fn(s: *mut FfiString);

/// What a plugin's entry point returns. ABI v1. Every slot is an `Option` so a C plugin that
/// leaves one NULL is detected at load time rather than called (the null-pointer optimisation
/// makes `Option<extern "C" fn>` exactly a nullable function pointer). All slots are required
/// except `introspect` (absent: the host reports [`braid_driver::ErrorKind::Unsupported`]) and
/// `split_script` (absent: the host uses the dialect's lexer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginDescriptor {
    /// Frozen forever.
    pub header: PluginHeader,
    /// Static NUL-terminated plugin name, e.g. `braid-sqlite-plugin`.
    pub name: *const c_char,
    /// Static NUL-terminated plugin version, e.g. `0.1.0`.
    pub version: *const c_char,
    /// One of the `DIALECT_*` ids: which of Braid's SQL dialects the host renders for it.
    pub dialect: u32,
    /// `FLAG_*` bits: hints the host may ignore. Unknown bits are ignored.
    pub flags: u32,
    pub open: Option<OpenFn>,
    pub close: Option<CloseFn>,
    pub execute_script: Option<ScriptFn>,
    pub execute: Option<ExecuteFn>,
    pub query: Option<QueryFn>,
    pub begin: Option<UnitFn>,
    pub commit: Option<UnitFn>,
    pub rollback: Option<UnitFn>,
    pub lock: Option<LockFn>,
    pub unlock: Option<UnlockFn>,
    pub server_version: Option<StringFn>,
    pub introspect: Option<IntrospectFn>,
    pub split_script: Option<SplitFn>,
    pub free_rows: Option<FreeRowsFn>,
    pub free_error: Option<FreeErrorFn>,
    pub free_string: Option<FreeStringFn>,
}

/// The descriptor's size as a `u32`, for [`PluginHeader::struct_size`].
pub const DESCRIPTOR_SIZE: u32 = std::mem::size_of::<PluginDescriptor>() as u32;

/// Wraps a descriptor so it can live in a `static` (raw pointers are not `Sync`).
#[repr(transparent)]
pub struct StaticDescriptor(pub PluginDescriptor);

// SAFETY: a descriptor is immutable once built, and its pointers point at static, immutable
// data (C string literals) or are function pointers; sharing it between threads is sound.
unsafe impl Sync for StaticDescriptor {}
// SAFETY: as above; nothing in it is tied to a thread.
unsafe impl Send for StaticDescriptor {}

/// Converts a dialect to its ABI id.
pub const fn dialect_id(dialect: braid_driver::Dialect) -> u32 {
    match dialect {
        braid_driver::Dialect::Postgres => DIALECT_POSTGRES,
        braid_driver::Dialect::Mysql => DIALECT_MYSQL,
        braid_driver::Dialect::Sqlite => DIALECT_SQLITE,
    }
}

/// Converts an ABI dialect id back, `None` for an id this version does not know.
pub fn dialect_from_id(id: u32) -> Option<braid_driver::Dialect> {
    match id {
        DIALECT_POSTGRES => Some(braid_driver::Dialect::Postgres),
        DIALECT_MYSQL => Some(braid_driver::Dialect::Mysql),
        DIALECT_SQLITE => Some(braid_driver::Dialect::Sqlite),
        _ => None,
    }
}

/// Converts an error kind to its ABI id.
pub fn kind_id(kind: braid_driver::ErrorKind) -> u32 {
    use braid_driver::ErrorKind as K;
    match kind {
        K::Url => KIND_URL,
        K::Connect => KIND_CONNECT,
        K::Auth => KIND_AUTH,
        K::NoDatabase => KIND_NO_DATABASE,
        K::Sql => KIND_SQL,
        K::LockTimeout => KIND_LOCK_TIMEOUT,
        K::Unsupported => KIND_UNSUPPORTED,
        K::Io => KIND_IO,
        K::Internal => KIND_INTERNAL,
        K::LockLost => KIND_LOCK_LOST,
    }
}

/// Converts an ABI error kind id back, `None` for an id this version does not know.
pub fn kind_from_id(id: u32) -> Option<braid_driver::ErrorKind> {
    use braid_driver::ErrorKind as K;
    Some(match id {
        KIND_URL => K::Url,
        KIND_CONNECT => K::Connect,
        KIND_AUTH => K::Auth,
        KIND_NO_DATABASE => K::NoDatabase,
        KIND_SQL => K::Sql,
        KIND_LOCK_TIMEOUT => K::LockTimeout,
        KIND_UNSUPPORTED => K::Unsupported,
        KIND_IO => K::Io,
        KIND_INTERNAL => K::Internal,
        KIND_LOCK_LOST => K::LockLost,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_fn_is_a_nullable_pointer() {
        assert_eq!(
            std::mem::size_of::<Option<UnitFn>>(),
            std::mem::size_of::<*const ()>()
        );
    }

    #[test]
    fn header_is_at_the_start() {
        assert_eq!(std::mem::offset_of!(PluginDescriptor, header), 0);
        assert_eq!(std::mem::size_of::<PluginHeader>(), 8);
    }

    #[test]
    fn ids_round_trip() {
        for d in braid_driver::Dialect::ALL {
            assert_eq!(dialect_from_id(dialect_id(d)), Some(d));
        }
        assert_eq!(dialect_from_id(7), None);
        for id in 0..=KIND_INTERNAL {
            assert_eq!(kind_id(kind_from_id(id).unwrap()), id);
        }
        assert_eq!(kind_from_id(99), None);
    }
}
