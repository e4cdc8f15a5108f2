//! The plugin side: turns any `async fn open(url) -> Result<impl Driver, DriverError>` into the
//! C ABI. Used through [`crate::export_driver!`]; only a plugin that bends its own descriptor
//! (like the loader tests' fixture) calls [`descriptor`] and [`entry`] by hand.
//!
//! * **Runtime.** The plugin owns a private tokio runtime (multi-thread, one worker) and
//!   `block_on`s each call on the calling thread. A cdylib has its own copy of tokio, so the
//!   host's runtime is invisible to it; and a multi-thread runtime keeps driving tasks the driver
//!   spawned (tokio-postgres and mysql_async run their connections as tasks) between calls,
//!   which a current-thread runtime driven only by `block_on` would not.
//! * **Panics.** Every entry point runs inside `catch_unwind`: since Rust 1.81 an unwind that
//!   reaches an `extern "C"` boundary aborts the process. A panic inside the driver becomes an
//!   `Internal` error with [`STATUS_PANIC`] and poisons that connection only: later calls on it
//!   fail with [`STATUS_POISONED`], other connections keep working. A panic hook installed in
//!   the plugin's own copy of std records where the panic happened (for the message) instead of
//!   printing it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Once, OnceLock};
use std::time::Duration;

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, Rows, Value};
use tokio::runtime::Runtime;

use crate::abi::{
    BRAID_PLUGIN_ABI_VERSION, ConnHandle, DESCRIPTOR_SIZE, FfiError, FfiRows, FfiStr, FfiString,
    FfiValue, PluginDescriptor, PluginHeader, STATUS_ERROR, STATUS_INVALID_ARGUMENT, STATUS_OK,
    STATUS_PANIC, STATUS_POISONED, StaticDescriptor, dialect_id,
};
use crate::convert::{
    error_to_ffi, free_owned_error, free_owned_rows, free_owned_string, owned_string, rows_to_ffi,
    str_from_ffi, values_from_ffi,
};

/// What [`Export::open`] returns.
pub type OpenFuture = Pin<Box<dyn Future<Output = Result<Box<dyn Driver>, DriverError>> + Send>>;

/// The one thing a plugin provides: how to open a connection. Implemented by
/// [`crate::export_driver!`] for the `open` function it is given.
pub trait Export: 'static {
    fn open(url: String) -> OpenFuture;
}

/// A `&'static CStr` from a NUL-terminated literal, usable in a `static` initialiser.
pub const fn cstr(s: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("plugin name and version must end in one NUL and contain no other"),
    }
}

/// The full v1 descriptor for `E`.
pub const fn descriptor<E: Export>(
    name: &'static CStr,
    version: &'static CStr,
    dialect: Dialect,
    flags: u32,
) -> PluginDescriptor {
    PluginDescriptor {
        header: PluginHeader {
            abi_version: BRAID_PLUGIN_ABI_VERSION,
            struct_size: DESCRIPTOR_SIZE,
        },
        name: name.as_ptr(),
        version: version.as_ptr(),
        dialect: dialect_id(dialect),
        flags,
        open: Some(open::<E>),
        close: Some(close),
        execute_script: Some(execute_script),
        execute: Some(execute),
        query: Some(query),
        begin: Some(begin),
        commit: Some(commit),
        rollback: Some(rollback),
        lock: Some(lock),
        unlock: Some(unlock),
        server_version: Some(server_version),
        introspect: Some(introspect),
        split_script: Some(split_script),
        free_rows: Some(free_rows),
        free_error: Some(free_error),
        free_string: Some(free_string),
    }
}

/// The body of the exported entry point: installs the panic hook and returns the descriptor.
/// The descriptor is returned whatever the host's version; the host decides whether it can
/// use it (it refuses newer plugins, and a future plugin could serve older hosts).
pub fn entry(
    _host_abi_version: u32,
    descriptor: &'static StaticDescriptor,
) -> *const PluginDescriptor {
    let _ = catch_unwind(install_panic_hook);
    &descriptor.0
}

// ---------------------------------------------------------------------------------------------
// Runtime and panics

fn runtime() -> Result<&'static Runtime, DriverError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("braid-plugin-rt")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| {
            DriverError::new(
                ErrorKind::Internal,
                format!("the plugin cannot start its tokio runtime: {e}"),
            )
        })
}

thread_local! {
    /// Whether this thread is inside a guarded call (the hook stays quiet there).
    static IN_GUARD: Cell<bool> = const { Cell::new(false) };
    /// Where the last guarded panic on this thread happened.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_GUARD.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                PANIC_LOCATION.with(|p| *p.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-string payload".to_string());
    match PANIC_LOCATION.with(|p| p.borrow_mut().take()) {
        Some(at) => format!("{msg} (at {at})"),
        None => msg,
    }
}

/// Runs `f`, turning a panic into its message.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = IN_GUARD.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    IN_GUARD.with(|g| g.set(was));
    result.map_err(|p| panic_message(p.as_ref()))
}

/// Writes `e` to the out-parameter (if the host gave one).
fn write_error(err: *mut FfiError, e: DriverError) {
    if err.is_null() {
        return;
    }
    let ffi = error_to_ffi(e);
    // SAFETY: `err` is non-null and, per the ABI, points at writable FfiError storage owned by
    // the host; any previous content is not ours to free.
    unsafe { err.write(ffi) };
}

/// The outermost layer of every entry point: contains a panic outside the driver (e.g. in a
/// conversion), which does not poison the connection.
fn boundary(err: *mut FfiError, op: &str, f: impl FnOnce() -> u32) -> u32 {
    match guarded(f) {
        Ok(status) => status,
        Err(msg) => {
            let _ = guarded(|| {
                write_error(
                    err,
                    DriverError::new(
                        ErrorKind::Internal,
                        format!("the plugin panicked in `{op}`: {msg}"),
                    ),
                )
            });
            STATUS_PANIC
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

struct Conn {
    driver: Option<Box<dyn Driver>>,
    /// Why the connection is poisoned: set by a panic inside the driver.
    poisoned: Option<String>,
}

fn invalid(err: *mut FfiError, msg: String) -> u32 {
    write_error(err, DriverError::new(ErrorKind::Internal, msg));
    STATUS_INVALID_ARGUMENT
}

/// Runs `f` on the connection's driver with the plugin runtime, handling poisoning.
///
/// # Safety
/// `conn` must be null or a live handle from `open`, not used concurrently.
unsafe fn with_conn(
    conn: ConnHandle,
    err: *mut FfiError,
    op: &'static str,
    f: impl FnOnce(&mut dyn Driver, &'static Runtime) -> Result<(), DriverError>,
) -> u32 {
    if conn.is_null() {
        return invalid(err, format!("`{op}` called with a null connection"));
    }
    // SAFETY: the caller guarantees a live, exclusively used handle made by `open`.
    let conn = unsafe { &mut *conn.cast::<Conn>() };
    if let Some(why) = &conn.poisoned {
        write_error(
            err,
            DriverError::new(
                ErrorKind::Internal,
                format!(
                    "connection poisoned: the driver panicked during an earlier call ({why}); open a new connection"
                ),
            ),
        );
        return STATUS_POISONED;
    }
    let Some(driver) = conn.driver.as_mut() else {
        return invalid(err, format!("`{op}` called on a closed connection"));
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            write_error(err, e);
            return STATUS_ERROR;
        }
    };
    match guarded(|| f(driver.as_mut(), rt)) {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(e)) => {
            write_error(err, e);
            STATUS_ERROR
        }
        Err(msg) => {
            write_error(
                err,
                DriverError::new(
                    ErrorKind::Internal,
                    format!("the driver panicked in `{op}`: {msg}; the connection is poisoned"),
                ),
            );
            conn.poisoned = Some(format!("in `{op}`: {msg}"));
            STATUS_PANIC
        }
    }
}

/// Writes `value` through `out`, or fails the call if the host passed null.
fn put<T>(out: *mut T, value: T) -> Result<(), DriverError> {
    if out.is_null() {
        return Err(DriverError::new(
            ErrorKind::Internal,
            "the host passed a null out-parameter",
        ));
    }
    // SAFETY: non-null, and per the ABI `out` points at writable storage for a `T`.
    unsafe { out.write(value) };
    Ok(())
}

unsafe extern "C" fn open<E: Export>(
    url: FfiStr,
    out_conn: *mut ConnHandle,
    out_name: *mut FfiString,
    err: *mut FfiError,
) -> u32 {
    boundary(err, "open", || {
        if out_conn.is_null() || out_name.is_null() {
            return invalid(err, "`open` called with a null out-parameter".into());
        }
        // SAFETY: per the ABI `url` is borrowed, valid for this call.
        let url = match unsafe { str_from_ffi(url, "url") } {
            Ok(u) => u.to_string(),
            Err(e) => return invalid(err, e),
        };
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => {
                write_error(err, e);
                return STATUS_ERROR;
            }
        };
        match guarded(|| rt.block_on(E::open(url))) {
            Ok(Ok(driver)) => {
                let name = owned_string(driver.name().to_string());
                let conn = Box::new(Conn {
                    driver: Some(driver),
                    poisoned: None,
                });
                // SAFETY: both checked non-null above; per the ABI they are writable.
                unsafe {
                    out_name.write(name);
                    out_conn.write(Box::into_raw(conn).cast());
                }
                STATUS_OK
            }
            Ok(Err(e)) => {
                write_error(err, e);
                STATUS_ERROR
            }
            Err(msg) => {
                write_error(
                    err,
                    DriverError::new(
                        ErrorKind::Internal,
                        format!("the driver panicked in `open`: {msg}"),
                    ),
                );
                STATUS_PANIC
            }
        }
    })
}

unsafe extern "C" fn close(conn: ConnHandle, err: *mut FfiError) -> u32 {
    boundary(err, "close", || {
        if conn.is_null() {
            return invalid(err, "`close` called with a null connection".into());
        }
        // SAFETY: per the ABI `conn` is a live handle from `open`, given up by the host here;
        // it was made by `Box::into_raw` in `open`.
        let mut conn = unsafe { Box::from_raw(conn.cast::<Conn>()) };
        let Some(driver) = conn.driver.take() else {
            return STATUS_OK;
        };
        if conn.poisoned.is_some() {
            // The driver's state after a panic is unknown, but dropping it is still the best way
            // to release what it holds (files, sockets, locks); a second panic is contained.
            let _ = guarded(move || drop(driver));
            return STATUS_OK;
        }
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => {
                write_error(err, e);
                return STATUS_ERROR;
            }
        };
        match guarded(|| rt.block_on(driver.close())) {
            Ok(Ok(())) => STATUS_OK,
            Ok(Err(e)) => {
                write_error(err, e);
                STATUS_ERROR
            }
            Err(msg) => {
                write_error(
                    err,
                    DriverError::new(
                        ErrorKind::Internal,
                        format!("the driver panicked in `close`: {msg}"),
                    ),
                );
                STATUS_PANIC
            }
        }
    })
}

unsafe extern "C" fn execute_script(conn: ConnHandle, sql: FfiStr, err: *mut FfiError) -> u32 {
    boundary(err, "execute_script", || {
        // SAFETY: per the ABI `sql` is borrowed, valid for this call.
        let sql = match unsafe { str_from_ffi(sql, "sql") } {
            Ok(s) => s,
            Err(e) => return invalid(err, e),
        };
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe {
            with_conn(conn, err, "execute_script", |d, rt| {
                rt.block_on(d.execute_script(sql))
            })
        }
    })
}

unsafe extern "C" fn execute(
    conn: ConnHandle,
    sql: FfiStr,
    params: *const FfiValue,
    n_params: usize,
    out_affected: *mut u64,
    err: *mut FfiError,
) -> u32 {
    boundary(err, "execute", || {
        // SAFETY: per the ABI `sql` and `params` are borrowed, valid for this call.
        let (sql, params) = match unsafe {
            str_from_ffi(sql, "sql").and_then(|s| Ok((s, values_from_ffi(params, n_params)?)))
        } {
            Ok(x) => x,
            Err(e) => return invalid(err, e),
        };
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe {
            with_conn(conn, err, "execute", |d, rt| {
                let n = rt.block_on(d.execute(sql, &params))?;
                put(out_affected, n)
            })
        }
    })
}

unsafe extern "C" fn query(
    conn: ConnHandle,
    sql: FfiStr,
    params: *const FfiValue,
    n_params: usize,
    out_rows: *mut FfiRows,
    err: *mut FfiError,
) -> u32 {
    boundary(err, "query", || {
        // SAFETY: per the ABI `sql` and `params` are borrowed, valid for this call.
        let (sql, params) = match unsafe {
            str_from_ffi(sql, "sql").and_then(|s| Ok((s, values_from_ffi(params, n_params)?)))
        } {
            Ok(x) => x,
            Err(e) => return invalid(err, e),
        };
        if out_rows.is_null() {
            return invalid(err, "`query` called with a null out-parameter".into());
        }
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe {
            with_conn(conn, err, "query", |d, rt| {
                let rows = rt.block_on(d.query(sql, &params))?;
                put(out_rows, rows_to_ffi(rows))
            })
        }
    })
}

macro_rules! unit_call {
    ($name:ident) => {
        unsafe extern "C" fn $name(conn: ConnHandle, err: *mut FfiError) -> u32 {
            boundary(err, stringify!($name), || {
                // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
                unsafe { with_conn(conn, err, stringify!($name), |d, rt| rt.block_on(d.$name())) }
            })
        }
    };
}

unit_call!(begin);
unit_call!(commit);
unit_call!(rollback);

unsafe extern "C" fn lock(
    conn: ConnHandle,
    key: FfiStr,
    timeout_ms: u64,
    err: *mut FfiError,
) -> u32 {
    boundary(err, "lock", || {
        // SAFETY: per the ABI `key` is borrowed, valid for this call.
        let key = match unsafe { str_from_ffi(key, "lock key") } {
            Ok(k) => k,
            Err(e) => return invalid(err, e),
        };
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe {
            with_conn(conn, err, "lock", |d, rt| {
                rt.block_on(d.lock(key, Duration::from_millis(timeout_ms)))
            })
        }
    })
}

unsafe extern "C" fn unlock(conn: ConnHandle, key: FfiStr, err: *mut FfiError) -> u32 {
    boundary(err, "unlock", || {
        // SAFETY: per the ABI `key` is borrowed, valid for this call.
        let key = match unsafe { str_from_ffi(key, "lock key") } {
            Ok(k) => k,
            Err(e) => return invalid(err, e),
        };
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe { with_conn(conn, err, "unlock", |d, rt| rt.block_on(d.unlock(key))) }
    })
}

unsafe extern "C" fn server_version(
    conn: ConnHandle,
    out: *mut FfiString,
    err: *mut FfiError,
) -> u32 {
    boundary(err, "server_version", || {
        if out.is_null() {
            return invalid(
                err,
                "`server_version` called with a null out-parameter".into(),
            );
        }
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe {
            with_conn(conn, err, "server_version", |d, rt| {
                let v = rt.block_on(d.server_version())?;
                put(out, owned_string(v))
            })
        }
    })
}

unsafe extern "C" fn introspect(
    conn: ConnHandle,
    out_rows: *mut FfiRows,
    err: *mut FfiError,
) -> u32 {
    boundary(err, "introspect", || {
        if out_rows.is_null() {
            return invalid(err, "`introspect` called with a null out-parameter".into());
        }
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe {
            with_conn(conn, err, "introspect", |d, rt| {
                let schema = rt.block_on(d.introspect())?;
                put(out_rows, rows_to_ffi(crate::schema_rows::encode(&schema)))
            })
        }
    })
}

unsafe extern "C" fn split_script(
    conn: ConnHandle,
    sql: FfiStr,
    out_rows: *mut FfiRows,
    err: *mut FfiError,
) -> u32 {
    boundary(err, "split_script", || {
        // SAFETY: per the ABI `sql` is borrowed, valid for this call.
        let sql = match unsafe { str_from_ffi(sql, "sql") } {
            Ok(s) => s,
            Err(e) => return invalid(err, e),
        };
        if out_rows.is_null() {
            return invalid(
                err,
                "`split_script` called with a null out-parameter".into(),
            );
        }
        // SAFETY: per the ABI `conn` is a live handle, used by one thread at a time.
        unsafe {
            with_conn(conn, err, "split_script", |d, _| {
                let rows = Rows {
                    columns: vec!["statement".to_string()],
                    rows: d
                        .split_script(sql)
                        .into_iter()
                        .map(|s| vec![Value::Text(s)])
                        .collect(),
                };
                put(out_rows, rows_to_ffi(rows))
            })
        }
    })
}

unsafe extern "C" fn free_rows(rows: *mut FfiRows) {
    // SAFETY: per the ABI the host hands back rows this plugin made, once.
    let _ = guarded(|| unsafe { free_owned_rows(rows) });
}

unsafe extern "C" fn free_error(err: *mut FfiError) {
    // SAFETY: per the ABI the host hands back an error this plugin made, once.
    let _ = guarded(|| unsafe { free_owned_error(err) });
}

unsafe extern "C" fn free_string(s: *mut FfiString) {
    // SAFETY: per the ABI the host hands back a string this plugin made, once.
    let _ = guarded(|| unsafe { free_owned_string(s) });
}

/// Exports a driver as a Braid plugin: generates the `braid_plugin_entry` symbol for the given
/// `open` function (any `async fn(&str) -> Result<D, DriverError>` with `D: Driver`).
///
/// ```ignore
/// braid_plugin::export_driver!(dialect: Postgres, open: braid_postgres::open);
/// // with an explicit plugin name (default: the crate's package name)
/// braid_plugin::export_driver!(name: "pg", dialect: Postgres, open: braid_postgres::open);
/// // an embedded database whose calls never wait on the network may let the host call it
/// // inline (see `abi::FLAG_INLINE_CALLS`)
/// braid_plugin::export_driver!(dialect: Sqlite, open: braid_sqlite::open, inline_calls: true);
/// ```
///
/// The crate must be built as `crate-type = ["cdylib"]` with `panic = "unwind"` (the default).
#[macro_export]
macro_rules! export_driver {
    (dialect: $dialect:ident, open: $open:path $(, inline_calls: $inline:literal)? $(,)?) => {
        $crate::export_driver!(
            @emit concat!(env!("CARGO_PKG_NAME"), "\0"), $dialect, $open,
            0 $(| if $inline { $crate::abi::FLAG_INLINE_CALLS } else { 0 })?
        );
    };
    (name: $name:literal, dialect: $dialect:ident, open: $open:path
     $(, inline_calls: $inline:literal)? $(,)?) => {
        $crate::export_driver!(
            @emit concat!($name, "\0"), $dialect, $open,
            0 $(| if $inline { $crate::abi::FLAG_INLINE_CALLS } else { 0 })?
        );
    };
    (@emit $name:expr, $dialect:ident, $open:path, $flags:expr) => {
        // With `panic = "abort"` a driver panic would kill the host instead of becoming an error.
        #[cfg(panic = "abort")]
        compile_error!("a Braid driver plugin must be built with panic = \"unwind\"");

        const _: () = {
            struct BraidPluginExport;

            impl $crate::export::Export for BraidPluginExport {
                fn open(url: ::std::string::String) -> $crate::export::OpenFuture {
                    ::std::boxed::Box::pin(async move {
                        let driver = $open(&url).await?;
                        ::std::result::Result::Ok(::std::boxed::Box::new(driver)
                            as ::std::boxed::Box<dyn $crate::__private::Driver>)
                    })
                }
            }

            static DESCRIPTOR: $crate::abi::StaticDescriptor =
                $crate::abi::StaticDescriptor($crate::export::descriptor::<BraidPluginExport>(
                    $crate::export::cstr($name),
                    $crate::export::cstr(concat!(env!("CARGO_PKG_VERSION"), "\0")),
                    $crate::__private::Dialect::$dialect,
                    $flags,
                ));

            /// The plugin's entry point (see `braid_plugin::abi`).
            #[unsafe(no_mangle)]
            pub extern "C" fn braid_plugin_entry(
                host_abi_version: u32,
            ) -> *const $crate::abi::PluginDescriptor {
                $crate::export::entry(host_abi_version, &DESCRIPTOR)
            }
        };
    };
}
