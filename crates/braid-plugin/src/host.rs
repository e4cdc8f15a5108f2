//! The host side: load a plugin with libloading, validate its descriptor, and adapt its
//! blocking C calls to the async [`Driver`] trait.
//!
//! Each call runs on `tokio::task::spawn_blocking`, so a slow plugin call (a network round trip,
//! a lock wait) never stalls the host's executor. A plugin that declares
//! [`FLAG_INLINE_CALLS`] (an embedded database, whose calls take microseconds) is called directly
//! on the async thread instead, exactly as the static SQLite driver runs: the thread hand-off
//! would otherwise cost more than the statement. Each connection's handle sits behind its own
//! mutex: the ABI allows a handle to move between threads but never to be used by two at once,
//! and the mutex also makes a call issued after a cancelled one wait for it to finish.
//!
//! Libraries are never unloaded: unloading a Rust cdylib is unsound in practice (thread-locals
//! and their destructors, threads of the plugin's runtime still running its code).
//!
//! The host distrusts what a plugin hands back: the descriptor is copied out with unaligned
//! reads, its C strings are scanned for their NUL within a bound, and every count, length and
//! pointer of rows, strings and errors is checked against the ABI's `MAX_*` limits before
//! anything is allocated or read ([`crate::convert`]). A violation fails that one call with an
//! `Internal` error naming the plugin and what was wrong. Whatever a plugin hands out is handed
//! back to its `free_*` (or `close`) on every path, failures included.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, Rows, Schema, Value};

use crate::abi::{
    BRAID_PLUGIN_ABI_VERSION, CloseFn, ConnHandle, DESCRIPTOR_SIZE, ENTRY_SYMBOL, EntryFn,
    ExecuteFn, FLAG_INLINE_CALLS, FfiError, FfiRows, FfiStr, FfiString, FfiValue, FreeErrorFn,
    FreeRowsFn, FreeStringFn, IntrospectFn, LockFn, MAX_DESCRIPTOR_STRING_LEN,
    MIN_SUPPORTED_ABI_VERSION, OpenFn, PluginDescriptor, PluginHeader, QueryFn, STATUS_OK,
    STATUS_PANIC, STATUS_POISONED, ScriptFn, SplitFn, StringFn, UnitFn, UnlockFn, dialect_from_id,
};
use crate::convert::{checked_error_from_ffi, rows_from_ffi, string_from_ffi, value_to_ffi};

/// Why a plugin could not be loaded. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("driver plugin not found: {} ({reason})", path.display())]
    NotFound { path: PathBuf, reason: String },
    #[error(
        "driver plugin path {} has no directory component: the system would search its library \
         paths for it instead of opening that file; give a path, e.g. ./{}",
        path.display(),
        path.display()
    )]
    NoDirectory { path: PathBuf },
    #[error("cannot load driver plugin {}: {reason}", path.display())]
    Load { path: PathBuf, reason: String },
    #[error(
        "{} is not a Braid driver plugin: it does not export `{ENTRY_SYMBOL}` ({reason})",
        path.display()
    )]
    NotAPlugin { path: PathBuf, reason: String },
    #[error(
        "driver plugin {} was built for plugin ABI v{plugin}, which is newer than this Braid's \
         v{host}; upgrade Braid, or rebuild the plugin against a braid-plugin release with ABI v{host}",
        path.display()
    )]
    AbiTooNew {
        path: PathBuf,
        plugin: u32,
        host: u32,
    },
    #[error(
        "driver plugin {} was built for plugin ABI v{plugin}, but this Braid supports v{min} to \
         v{host}; rebuild the plugin against a current braid-plugin",
        path.display()
    )]
    AbiTooOld {
        path: PathBuf,
        plugin: u32,
        min: u32,
        host: u32,
    },
    #[error(
        "driver plugin {} is missing the required `{slot}` function (its descriptor slot is null)",
        path.display()
    )]
    MissingSlot { path: PathBuf, slot: &'static str },
    #[error("driver plugin {} has an invalid descriptor: {reason}", path.display())]
    InvalidDescriptor { path: PathBuf, reason: String },
}

/// The file name of plugin crate `crate_name` on this platform (`libbraid_sqlite_plugin.so`,
/// `.dylib`, or `braid_sqlite_plugin.dll`) inside `dir`. Dashes become underscores, as cargo
/// does for library file names.
pub fn library_path(dir: &Path, crate_name: &str) -> PathBuf {
    dir.join(libloading::library_filename(crate_name.replace('-', "_")))
}

/// The validated function table of a loaded plugin.
struct VTable {
    /// For messages: `name version (path)`.
    label: String,
    open: OpenFn,
    close: CloseFn,
    execute_script: ScriptFn,
    execute: ExecuteFn,
    query: QueryFn,
    begin: UnitFn,
    commit: UnitFn,
    rollback: UnitFn,
    lock: LockFn,
    unlock: UnlockFn,
    server_version: StringFn,
    introspect: Option<IntrospectFn>,
    split_script: Option<SplitFn>,
    free_rows: FreeRowsFn,
    free_error: FreeErrorFn,
    free_string: FreeStringFn,
}

/// A loaded, validated driver plugin. Cheap to clone; the library stays loaded for the life of
/// the process.
#[derive(Clone)]
pub struct Plugin {
    /// The plugin's name, as it declares it (by default its package name).
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The plugin ABI version it was built for.
    pub abi_version: u32,
    /// The dialect Braid renders its SQL in for this plugin's connections.
    pub dialect: Dialect,
    /// The file it was loaded from.
    pub path: PathBuf,
    /// Whether calls run directly on the async thread ([`FLAG_INLINE_CALLS`]) rather than on
    /// tokio's blocking pool. Declared by the plugin; may be overridden before `open`.
    pub inline_calls: bool,
    vtable: Arc<VTable>,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("abi_version", &self.abi_version)
            .field("dialect", &self.dialect)
            .field("path", &self.path)
            .field("inline_calls", &self.inline_calls)
            .finish_non_exhaustive()
    }
}

/// Loads the driver plugin at `path` and validates it: the file exists, it exports
/// [`ENTRY_SYMBOL`], its ABI version is one this host speaks, its descriptor is complete and
/// every required function is present. Loading the same file twice is fine (the OS loads it
/// once).
///
/// `path` must have a directory component (`./libfoo.so`, not `libfoo.so`): given a bare file
/// name, the system's loader would search its library paths (`LD_LIBRARY_PATH`, the system
/// directories, …) rather than open the file the caller means, so a bare name is refused with
/// [`PluginError::NoDirectory`]. (A config's relative plugin paths are made absolute against
/// the project root, so they always have one.)
///
/// Loading a library runs its initialisers: only load plugins you trust.
pub fn load(path: &Path) -> Result<Plugin, PluginError> {
    if path.parent().is_none_or(|dir| dir.as_os_str().is_empty()) {
        return Err(PluginError::NoDirectory { path: path.into() });
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(PluginError::NotFound {
                path: path.into(),
                reason: "not a file".into(),
            });
        }
        Err(e) => {
            return Err(PluginError::NotFound {
                path: path.into(),
                reason: e.to_string(),
            });
        }
    }
    // SAFETY: loading a library runs its initialisers; that a configured plugin is trusted code
    // is the documented premise of plugins. libloading uses RTLD_LAZY | RTLD_LOCAL, so the
    // plugin's own symbols (its copy of SQLite, tokio, …) do not clash with the host's.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| PluginError::Load {
        path: path.into(),
        reason: e.to_string(),
    })?;
    // SAFETY: the symbol is declared by the ABI with exactly the `EntryFn` signature.
    let entry: EntryFn = match unsafe { library.get::<EntryFn>(ENTRY_SYMBOL.as_bytes()) } {
        Ok(symbol) => *symbol,
        Err(e) => {
            // libloading's message does not name the symbol; ours does.
            return Err(PluginError::NotAPlugin {
                path: path.into(),
                reason: e.to_string(),
            });
        }
    };
    // Never unloaded (see the module docs), so `entry` and every pointer the plugin hands out
    // stay valid for the life of the process.
    std::mem::forget(library);

    // SAFETY: `entry` has the ABI's signature; it returns null or a pointer to a static
    // descriptor.
    let ptr = unsafe { entry(BRAID_PLUGIN_ABI_VERSION) };
    // SAFETY: `ptr` is null or points at a static descriptor starting with the frozen header.
    let descriptor = unsafe { validate(path, ptr) }?;
    plugin_from(path, &descriptor)
}

/// Reads the header, checks version and size, then reads the (v1 part of the) descriptor. Both
/// reads are unaligned: the ABI promises nothing about the descriptor's alignment, and a
/// reference to it is never formed (the descriptor is copied out).
///
/// # Safety
/// `ptr` must be null or point at a readable descriptor header, followed by `struct_size - 8`
/// readable bytes.
unsafe fn validate(
    path: &Path,
    ptr: *const PluginDescriptor,
) -> Result<PluginDescriptor, PluginError> {
    if ptr.is_null() {
        return Err(PluginError::InvalidDescriptor {
            path: path.into(),
            reason: format!("`{ENTRY_SYMBOL}` returned a null descriptor"),
        });
    }
    // SAFETY: the header is the frozen first 8 bytes of every descriptor version.
    let header = unsafe { ptr.cast::<PluginHeader>().read_unaligned() };
    if header.abi_version > BRAID_PLUGIN_ABI_VERSION {
        return Err(PluginError::AbiTooNew {
            path: path.into(),
            plugin: header.abi_version,
            host: BRAID_PLUGIN_ABI_VERSION,
        });
    }
    if header.abi_version < MIN_SUPPORTED_ABI_VERSION {
        return Err(PluginError::AbiTooOld {
            path: path.into(),
            plugin: header.abi_version,
            min: MIN_SUPPORTED_ABI_VERSION,
            host: BRAID_PLUGIN_ABI_VERSION,
        });
    }
    if header.struct_size < DESCRIPTOR_SIZE {
        return Err(PluginError::InvalidDescriptor {
            path: path.into(),
            reason: format!(
                "its size is {} bytes, but ABI v{} needs at least {DESCRIPTOR_SIZE}",
                header.struct_size, header.abi_version
            ),
        });
    }
    // SAFETY: the plugin declares at least `DESCRIPTOR_SIZE` bytes, i.e. a whole v1
    // descriptor; a longer one has extra tail slots this host ignores. Read unaligned, as the
    // header was: nothing says the plugin's descriptor is aligned.
    Ok(unsafe { ptr.read_unaligned() })
}

/// Reads a descriptor string (static, NUL-terminated), looking for the NUL within
/// [`MAX_DESCRIPTOR_STRING_LEN`] bytes rather than wherever it may be.
fn c_string(path: &Path, field: &str, p: *const std::ffi::c_char) -> Result<String, PluginError> {
    let invalid = |reason: String| PluginError::InvalidDescriptor {
        path: path.into(),
        reason: format!("its {field} {reason}"),
    };
    if p.is_null() {
        return Err(invalid("is null".into()));
    }
    let p = p.cast::<u8>();
    let mut len = 0;
    loop {
        if len == MAX_DESCRIPTOR_STRING_LEN {
            return Err(invalid(format!(
                "has no terminating NUL in its first {MAX_DESCRIPTOR_STRING_LEN} bytes"
            )));
        }
        if p.addr().checked_add(len).is_none() {
            return Err(invalid("runs past the end of the address space".into()));
        }
        // SAFETY: non-null and, per the ABI, a static NUL-terminated string: every byte up to
        // the NUL is readable, and the scan stops at the NUL.
        if unsafe { p.add(len).read() } == 0 {
            break;
        }
        len += 1;
    }
    // SAFETY: the `len` bytes before the NUL were just read; they are static.
    let bytes = unsafe { std::slice::from_raw_parts(p, len) };
    std::str::from_utf8(bytes)
        .map(String::from)
        .map_err(|e| invalid(format!("is not UTF-8: {e}")))
}

fn plugin_from(path: &Path, d: &PluginDescriptor) -> Result<Plugin, PluginError> {
    fn req<T>(path: &Path, slot: &'static str, f: Option<T>) -> Result<T, PluginError> {
        f.ok_or_else(|| PluginError::MissingSlot {
            path: path.into(),
            slot,
        })
    }
    let name = c_string(path, "name", d.name)?;
    let version = c_string(path, "version", d.version)?;
    let dialect = dialect_from_id(d.dialect).ok_or_else(|| PluginError::InvalidDescriptor {
        path: path.into(),
        reason: format!("unknown dialect id {}", d.dialect),
    })?;
    let vtable = VTable {
        label: format!("{name} {version} ({})", path.display()),
        open: req(path, "open", d.open)?,
        close: req(path, "close", d.close)?,
        execute_script: req(path, "execute_script", d.execute_script)?,
        execute: req(path, "execute", d.execute)?,
        query: req(path, "query", d.query)?,
        begin: req(path, "begin", d.begin)?,
        commit: req(path, "commit", d.commit)?,
        rollback: req(path, "rollback", d.rollback)?,
        lock: req(path, "lock", d.lock)?,
        unlock: req(path, "unlock", d.unlock)?,
        server_version: req(path, "server_version", d.server_version)?,
        introspect: d.introspect,
        split_script: d.split_script,
        free_rows: req(path, "free_rows", d.free_rows)?,
        free_error: req(path, "free_error", d.free_error)?,
        free_string: req(path, "free_string", d.free_string)?,
    };
    Ok(Plugin {
        name,
        version,
        abi_version: d.header.abi_version,
        dialect,
        path: path.into(),
        inline_calls: d.flags & FLAG_INLINE_CALLS != 0,
        vtable: Arc::new(vtable),
    })
}

fn internal(msg: String) -> DriverError {
    DriverError::new(ErrorKind::Internal, msg)
}

/// Runs `f` on a blocking thread, or right here for an inline-calls plugin; a failure to run it
/// at all becomes an `Internal` error.
async fn run<T: Send + 'static>(
    inline: bool,
    f: impl FnOnce() -> Result<T, DriverError> + Send + 'static,
) -> Result<T, DriverError> {
    if inline {
        return f();
    }
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(internal(format!("plugin call did not complete: {e}"))))
}

/// Turns a non-OK status into a [`DriverError`], releasing the plugin's error. `None` on OK.
/// An error that breaks the ABI (a string that cannot be read, an unknown kind) becomes an
/// `Internal` error naming the plugin, what it reported and what was wrong.
fn failure(vt: &VTable, status: u32, err: &mut FfiError) -> Option<DriverError> {
    if status == STATUS_OK {
        return None;
    }
    // SAFETY: on a non-OK status the plugin filled `err` (or left it EMPTY, which is valid);
    // its counts and pointers are checked before they are read.
    let (mut e, problems) = unsafe { checked_error_from_ffi(err) };
    // SAFETY: `err` was filled by this plugin and is released exactly once, here.
    unsafe { (vt.free_error)(err) };
    if !problems.is_empty() {
        e.message = format!(
            "plugin {} broke the plugin ABI in the error it returned: {}; the error it reported \
             (kind {:?}): {}",
            vt.label,
            problems.join("; "),
            e.kind,
            e.message
        );
        e.kind = ErrorKind::Internal;
    }
    Some(e)
}

fn invalid_from(vt: &VTable, op: &str, what: &str, why: &str) -> DriverError {
    internal(format!(
        "plugin {} broke the plugin ABI in the {what} it returned from `{op}`: {why}",
        vt.label
    ))
}

impl Plugin {
    /// Opens a connection through the plugin. The driver behaves like any static one; its calls
    /// run on tokio's blocking pool. Must be called within a tokio runtime.
    pub async fn open(&self, url: &str) -> Result<Box<dyn Driver>, DriverError> {
        let vt = Arc::clone(&self.vtable);
        let url = url.to_string();
        let (handle, name) = run(self.inline_calls, move || {
            let mut handle: ConnHandle = std::ptr::null_mut();
            let mut name = FfiString::EMPTY;
            let mut err = FfiError::EMPTY;
            // SAFETY: `url` is borrowed for the call; the out-parameters are valid and writable.
            let status =
                unsafe { (vt.open)(FfiStr::borrow(&url), &mut handle, &mut name, &mut err) };
            // Whatever the plugin wrote to the out-parameters is ours to release, whatever the
            // status (see `abi::OpenFn`): the name, then (on failure) the handle.
            // SAFETY: the plugin filled `name` with a string it owns (or left it empty); its
            // length and pointer are checked before it is read.
            let shown = unsafe { string_from_ffi(&name, "the string") };
            if !name.ptr.is_null() {
                // SAFETY: `name` was filled by this plugin and is released exactly once, here.
                unsafe { (vt.free_string)(&mut name) };
            }
            if let Some(e) = failure(&vt, status, &mut err) {
                if !handle.is_null() {
                    close_handle(&vt, handle);
                }
                return Err(e);
            }
            if handle.is_null() {
                return Err(internal(format!(
                    "plugin {} opened a null connection",
                    vt.label
                )));
            }
            let shown = match shown {
                Ok(shown) => shown,
                Err(e) => {
                    close_handle(&vt, handle);
                    return Err(invalid_from(&vt, "open", "driver name", &e));
                }
            };
            Ok((SendHandle(handle), shown))
        })
        .await?;
        Ok(Box::new(PluginDriver {
            conn: Arc::new(Mutex::new(ConnState {
                handle: handle.0,
                poisoned: None,
                vtable: Arc::clone(&self.vtable),
            })),
            name: format!("{name} (plugin {} {})", self.name, self.version),
            dialect: self.dialect,
            inline: self.inline_calls,
        }))
    }
}

/// Releases a handle the host will not use (from a failed or refused `open`); a failure to close
/// it is dropped, as the open's own error is what the caller needs.
fn close_handle(vt: &VTable, handle: ConnHandle) {
    let mut err = FfiError::EMPTY;
    // SAFETY: the plugin handed out `handle` through `open`; it is given up here, once.
    let status = unsafe { (vt.close)(handle, &mut err) };
    let _ = failure(vt, status, &mut err);
}

/// A connection handle being moved to the thread that uses it.
struct SendHandle(ConnHandle);
// SAFETY: the ABI lets a handle move between threads (never used by two at once).
unsafe impl Send for SendHandle {}

/// One connection: the plugin handle (null once closed) and whether a panic poisoned it.
struct ConnState {
    handle: ConnHandle,
    poisoned: Option<String>,
    vtable: Arc<VTable>,
}

// SAFETY: the ABI lets a handle move between threads; the `Mutex` around `ConnState` ensures it
// is never used by two threads at once.
unsafe impl Send for ConnState {}

impl Drop for ConnState {
    /// A driver dropped without `close` (a test that panicked, a cancelled run) still releases
    /// its connection. This runs once the last in-flight call is done, as that call holds an
    /// `Arc` to the state.
    fn drop(&mut self) {
        if self.handle.is_null() {
            return;
        }
        let mut err = FfiError::EMPTY;
        // SAFETY: the handle is live and nobody else can use it (we are being dropped); it is
        // given up here and nulled.
        let status = unsafe { (self.vtable.close)(self.handle, &mut err) };
        self.handle = std::ptr::null_mut();
        let _ = failure(&self.vtable, status, &mut err);
    }
}

/// A connection of a plugin driver, behind the C ABI.
///
/// The ABI carries no `lock_held`, `session_id` or `session_activity` (extending it would break
/// every plugin built against v1), so this keeps the [`Driver`] trait's defaults: a plugin's
/// migration lock is assumed held while the plugin is loaded and the connection open (losing it
/// still shows as an [`ErrorKind::LockLost`] error from `unlock`), and its sessions are not
/// tracked (no id, so the runner never waits on one).
struct PluginDriver {
    conn: Arc<Mutex<ConnState>>,
    name: String,
    dialect: Dialect,
    /// Call the plugin directly instead of through `spawn_blocking`.
    inline: bool,
}

impl PluginDriver {
    /// Runs `f` with the connection's handle on a blocking thread. `f` makes the C call and
    /// returns its status plus whatever it read from the out-parameters (only used on OK).
    async fn call<T: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&VTable, ConnHandle, &mut FfiError) -> (u32, Result<T, DriverError>)
        + Send
        + 'static,
    ) -> Result<T, DriverError> {
        let conn = Arc::clone(&self.conn);
        run(self.inline, move || {
            let mut state = conn.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(why) = &state.poisoned {
                return Err(internal(format!(
                    "connection poisoned: the plugin driver panicked during an earlier call ({why}); \
                     `{op}` was not run; open a new connection"
                )));
            }
            if state.handle.is_null() {
                return Err(internal(format!("`{op}` on a closed plugin connection")));
            }
            let vt = Arc::clone(&state.vtable);
            let mut err = FfiError::EMPTY;
            let (status, result) = f(&vt, state.handle, &mut err);
            if let Some(e) = failure(&vt, status, &mut err) {
                if status == STATUS_PANIC || status == STATUS_POISONED {
                    state.poisoned = Some(e.message.clone());
                }
                return Err(e);
            }
            result
        })
        .await
    }

    /// The plugin's own statement splitter, synchronously (it does no I/O); `None` if the plugin
    /// has none, the connection is poisoned or closed, or the call failed.
    fn plugin_split(&self, sql: &str) -> Option<Vec<String>> {
        let mut state = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let split = state.vtable.split_script?;
        if state.poisoned.is_some() || state.handle.is_null() {
            return None;
        }
        let vt = Arc::clone(&state.vtable);
        let mut rows = FfiRows::EMPTY;
        let mut err = FfiError::EMPTY;
        // SAFETY: live handle held under the mutex; `sql` is borrowed for the call; `rows` and
        // `err` are writable.
        let status = unsafe { split(state.handle, FfiStr::borrow(sql), &mut rows, &mut err) };
        if let Some(e) = failure(&vt, status, &mut err) {
            if status == STATUS_PANIC || status == STATUS_POISONED {
                state.poisoned = Some(e.message);
            }
            return None;
        }
        let rows = Self::take_rows(&vt, "split_script", &mut rows).ok()?;
        rows.rows
            .into_iter()
            .map(|r| match r.as_slice() {
                [Value::Text(s)] => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    /// Copies rows the plugin produced (within the ABI's limits) and gives them back to it.
    fn take_rows(vt: &VTable, op: &str, rows: &mut FfiRows) -> Result<Rows, DriverError> {
        // SAFETY: called only after an OK status, when the plugin has filled `rows`; every
        // count and pointer is checked before it is used.
        let copied = unsafe { rows_from_ffi(rows) };
        // SAFETY: `rows` was filled by this plugin and is released exactly once, here.
        unsafe { (vt.free_rows)(rows) };
        copied.map_err(|e| invalid_from(vt, op, "rows", &e))
    }
}

#[async_trait::async_trait]
impl Driver for PluginDriver {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn name(&self) -> &str {
        &self.name
    }

    async fn server_version(&mut self) -> Result<String, DriverError> {
        self.call("server_version", |vt, conn, err| {
            let mut out = FfiString::EMPTY;
            // SAFETY: live handle (held under the mutex); `out` and `err` are writable.
            let status = unsafe { (vt.server_version)(conn, &mut out, err) };
            if status != STATUS_OK {
                return (status, Ok(String::new()));
            }
            // SAFETY: on OK the plugin filled `out` with a string it owns; its length and
            // pointer are checked before it is read.
            let s = unsafe { string_from_ffi(&out, "the string") };
            // SAFETY: released exactly once, here.
            unsafe { (vt.free_string)(&mut out) };
            (
                status,
                s.map_err(|e| invalid_from(vt, "server_version", "server version", &e)),
            )
        })
        .await
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), DriverError> {
        let sql = sql.to_string();
        self.call("execute_script", move |vt, conn, err| {
            // SAFETY: live handle; `sql` is borrowed for the call.
            let status = unsafe { (vt.execute_script)(conn, FfiStr::borrow(&sql), err) };
            (status, Ok(()))
        })
        .await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call("execute", move |vt, conn, err| {
            let ffi: Vec<FfiValue> = params.iter().map(value_to_ffi).collect();
            let mut affected = 0u64;
            // SAFETY: live handle; `sql` and the values (borrowing `params`) live through the
            // call; `affected` is writable.
            let status = unsafe {
                (vt.execute)(
                    conn,
                    FfiStr::borrow(&sql),
                    ffi.as_ptr(),
                    ffi.len(),
                    &mut affected,
                    err,
                )
            };
            (status, Ok(affected))
        })
        .await
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DriverError> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call("query", move |vt, conn, err| {
            let ffi: Vec<FfiValue> = params.iter().map(value_to_ffi).collect();
            let mut rows = FfiRows::EMPTY;
            // SAFETY: live handle; `sql` and the values live through the call; `rows` is
            // writable.
            let status = unsafe {
                (vt.query)(
                    conn,
                    FfiStr::borrow(&sql),
                    ffi.as_ptr(),
                    ffi.len(),
                    &mut rows,
                    err,
                )
            };
            if status != STATUS_OK {
                return (status, Ok(Rows::default()));
            }
            (status, Self::take_rows(vt, "query", &mut rows))
        })
        .await
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        self.call("begin", |vt, conn, err| {
            // SAFETY: live handle held under the mutex; `err` is writable.
            (unsafe { (vt.begin)(conn, err) }, Ok(()))
        })
        .await
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
        self.call("commit", |vt, conn, err| {
            // SAFETY: live handle held under the mutex; `err` is writable.
            (unsafe { (vt.commit)(conn, err) }, Ok(()))
        })
        .await
    }

    async fn rollback(&mut self) -> Result<(), DriverError> {
        self.call("rollback", |vt, conn, err| {
            // SAFETY: live handle held under the mutex; `err` is writable.
            (unsafe { (vt.rollback)(conn, err) }, Ok(()))
        })
        .await
    }

    async fn lock(&mut self, key: &str, timeout: Duration) -> Result<(), DriverError> {
        let key = key.to_string();
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.call("lock", move |vt, conn, err| {
            // SAFETY: live handle; `key` is borrowed for the call.
            (
                unsafe { (vt.lock)(conn, FfiStr::borrow(&key), ms, err) },
                Ok(()),
            )
        })
        .await
    }

    async fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
        let key = key.to_string();
        self.call("unlock", move |vt, conn, err| {
            // SAFETY: live handle; `key` is borrowed for the call.
            (
                unsafe { (vt.unlock)(conn, FfiStr::borrow(&key), err) },
                Ok(()),
            )
        })
        .await
    }

    async fn introspect(&mut self) -> Result<Schema, DriverError> {
        self.call("introspect", |vt, conn, err| {
            let Some(introspect) = vt.introspect else {
                return (
                    STATUS_OK,
                    Err(DriverError::new(
                        ErrorKind::Unsupported,
                        format!("driver plugin {} does not support introspection", vt.label),
                    )),
                );
            };
            let mut rows = FfiRows::EMPTY;
            // SAFETY: live handle; `rows` is writable.
            let status = unsafe { introspect(conn, &mut rows, err) };
            if status != STATUS_OK {
                return (status, Ok(Schema::default()));
            }
            let schema = Self::take_rows(vt, "introspect", &mut rows).and_then(|rows| {
                crate::schema_rows::decode(&rows).map_err(|e| {
                    internal(format!(
                        "plugin {} returned an invalid schema: {e}",
                        vt.label
                    ))
                })
            });
            (status, schema)
        })
        .await
    }

    /// The plugin's own splitter when it has one (the SQLite driver has its own), else the
    /// dialect's lexer, as for a static driver without one.
    fn split_script(&self, sql: &str) -> Vec<String> {
        self.plugin_split(sql).unwrap_or_else(|| {
            braid_driver::split_statements(sql, self.dialect)
                .into_iter()
                .map(|s| s.text)
                .collect()
        })
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        let conn = Arc::clone(&self.conn);
        run(self.inline, move || {
            let mut state = conn.lock().unwrap_or_else(PoisonError::into_inner);
            if state.handle.is_null() {
                return Ok(());
            }
            let handle = std::mem::replace(&mut state.handle, std::ptr::null_mut());
            let vt = Arc::clone(&state.vtable);
            let mut err = FfiError::EMPTY;
            // SAFETY: the handle is live and given up here (nulled above, so never used again).
            let status = unsafe { (vt.close)(handle, &mut err) };
            match failure(&vt, status, &mut err) {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })
        .await
    }
}

/// In-process tests: the descriptor is made by [`crate::export`] in this same binary, so the
/// whole export → C ABI → host path runs without building or loading a library. (Loading real
/// libraries is tested in `tests/tests/plugin.rs`.)
#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::StaticDescriptor;
    use crate::export::{Export, OpenFuture, descriptor, entry};

    /// SQLite, except that `execute("PANIC")` panics.
    struct Panicky(braid_sqlite::SqliteDriver);

    #[async_trait::async_trait]
    impl Driver for Panicky {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }
        fn name(&self) -> &str {
            "panicky"
        }
        async fn server_version(&mut self) -> Result<String, DriverError> {
            self.0.server_version().await
        }
        async fn execute_script(&mut self, sql: &str) -> Result<(), DriverError> {
            self.0.execute_script(sql).await
        }
        async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
            assert_ne!(sql, "PANIC", "asked to panic");
            self.0.execute(sql, params).await
        }
        async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DriverError> {
            self.0.query(sql, params).await
        }
        async fn begin(&mut self) -> Result<(), DriverError> {
            self.0.begin().await
        }
        async fn commit(&mut self) -> Result<(), DriverError> {
            self.0.commit().await
        }
        async fn rollback(&mut self) -> Result<(), DriverError> {
            self.0.rollback().await
        }
        async fn lock(&mut self, key: &str, timeout: Duration) -> Result<(), DriverError> {
            self.0.lock(key, timeout).await
        }
        async fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
            self.0.unlock(key).await
        }
        // Answers the host cannot see: the ABI does not carry them.
        async fn lock_held(&mut self, _key: &str) -> Result<bool, DriverError> {
            Ok(false)
        }
        async fn session_id(&mut self) -> Result<Option<String>, DriverError> {
            Ok(Some("inside the plugin".into()))
        }
        async fn session_activity(&mut self, _id: &str) -> Result<Option<String>, DriverError> {
            Ok(Some("busy inside the plugin".into()))
        }
        async fn introspect(&mut self) -> Result<Schema, DriverError> {
            self.0.introspect().await
        }
        async fn close(self: Box<Self>) -> Result<(), DriverError> {
            Box::new(self.0).close().await
        }
    }

    struct TestExport;
    impl Export for TestExport {
        fn open(url: String) -> OpenFuture {
            Box::pin(async move {
                Ok(Box::new(Panicky(braid_sqlite::open(&url).await?)) as Box<dyn Driver>)
            })
        }
    }

    fn fresh() -> PluginDescriptor {
        descriptor::<TestExport>(c"test-plugin", c"1.2.3", Dialect::Sqlite, 0)
    }

    /// Validates `d` as `load` would, after the entry point returned it.
    fn check(d: PluginDescriptor) -> Result<Plugin, PluginError> {
        let d: &'static StaticDescriptor = Box::leak(Box::new(StaticDescriptor(d)));
        let ptr = entry(BRAID_PLUGIN_ABI_VERSION, d);
        let path = Path::new("/plugins/libtest.so");
        // SAFETY: `ptr` points at a whole, leaked (so 'static) descriptor.
        let d = unsafe { validate(path, ptr) }?;
        plugin_from(path, &d)
    }

    #[test]
    fn descriptor_is_validated() {
        let p = check(fresh()).unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("test-plugin", "1.2.3")
        );
        assert_eq!(
            (p.abi_version, p.dialect, p.inline_calls),
            (1, Dialect::Sqlite, false)
        );

        let mut d = fresh();
        d.header.abi_version = 2;
        let e = check(d).unwrap_err().to_string();
        assert!(
            e.contains("/plugins/libtest.so was built for plugin ABI v2"),
            "{e}"
        );
        assert!(e.contains("this Braid's v1"), "{e}");

        let mut d = fresh();
        d.header.struct_size = 8;
        let e = check(d).unwrap_err().to_string();
        assert!(e.contains("its size is 8 bytes"), "{e}");

        let mut d = fresh();
        d.unlock = None;
        let e = check(d).unwrap_err().to_string();
        assert!(e.contains("missing the required `unlock` function"), "{e}");

        let mut d = fresh();
        d.dialect = 9;
        let e = check(d).unwrap_err().to_string();
        assert!(e.contains("unknown dialect id 9"), "{e}");

        // Optional slots may be absent; a bigger (newer, same-version) descriptor is fine.
        let mut d = fresh();
        d.introspect = None;
        d.split_script = None;
        d.header.struct_size += 64;
        d.flags = FLAG_INLINE_CALLS | 0x8000;
        assert!(check(d).unwrap().inline_calls);
    }

    #[tokio::test]
    async fn calls_cross_and_panics_poison_one_connection() {
        // Through the blocking pool only: in this test the "plugin" shares the host's tokio, so
        // its `block_on` on the host's async thread would be refused. (A real cdylib has its own
        // tokio; inline calls are tested with the SQLite plugin in `tests/tests/plugin.rs`.)
        {
            let plugin = check(fresh()).unwrap();
            let mut a = plugin.open("sqlite://:memory:").await.unwrap();
            assert_eq!(a.name(), "panicky (plugin test-plugin 1.2.3)");
            a.execute_script("CREATE TABLE t (x INTEGER)")
                .await
                .unwrap();
            let n = a
                .execute(
                    "INSERT INTO t VALUES (?), (?)",
                    &[Value::Int(1), Value::Int(2)],
                )
                .await
                .unwrap();
            assert_eq!(n, 2);
            let rows = a.query("SELECT x FROM t ORDER BY x", &[]).await.unwrap();
            assert_eq!(rows.rows, [[Value::Int(1)], [Value::Int(2)]]);
            assert_eq!(a.introspect().await.unwrap().tables[0].name, "t");
            assert_eq!(a.split_script("SELECT 1; SELECT 2").len(), 2);

            let e = a.execute("PANIC", &[]).await.unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal);
            assert!(e.message.contains("asked to panic"), "{e}");
            assert!(e.message.contains("host.rs"), "says where: {e}");
            let e = a.begin().await.unwrap_err();
            assert!(e.message.contains("poisoned"), "{e}");
            // The fallback splitter still answers on a poisoned connection.
            assert_eq!(a.split_script("SELECT 1; SELECT 2").len(), 2);

            let mut b = plugin.open("sqlite://:memory:").await.unwrap();
            assert_eq!(
                b.query("SELECT 1", &[]).await.unwrap().rows,
                [[Value::Int(1)]]
            );
            b.close().await.unwrap();
            a.close().await.unwrap();
        }
    }

    #[tokio::test]
    async fn lock_held_and_sessions_keep_the_trait_defaults() {
        let mut a = check(fresh())
            .unwrap()
            .open("sqlite://:memory:")
            .await
            .unwrap();
        a.lock("k", Duration::ZERO).await.unwrap();
        assert!(a.lock_held("k").await.unwrap(), "assumed held");
        assert_eq!(a.session_id().await.unwrap(), None, "not tracked");
        assert_eq!(a.session_activity("1@2").await.unwrap(), None);
        a.unlock("k").await.unwrap();
        a.close().await.unwrap();
    }

    #[tokio::test]
    async fn missing_introspect_is_unsupported() {
        let mut d = fresh();
        d.introspect = None;
        let mut a = check(d).unwrap().open("sqlite://:memory:").await.unwrap();
        let e = a.introspect().await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
        assert!(e.message.contains("does not support introspection"), "{e}");
        a.close().await.unwrap();
    }

    #[test]
    fn a_misaligned_descriptor_is_read_as_checked() {
        // The header was always read unaligned; the rest must be too: an aligned read of a
        // misaligned pointer is undefined behaviour (which x86 happens to tolerate, so this test
        // shows the descriptor is accepted rather than catching the old read; Miri would).
        let mut words = vec![0u64; std::mem::size_of::<PluginDescriptor>() / 8 + 2];
        // SAFETY: `words` has room for a descriptor at byte offset 1; the write is unaligned.
        let at = unsafe {
            let at = words
                .as_mut_ptr()
                .cast::<u8>()
                .add(1)
                .cast::<PluginDescriptor>();
            at.write_unaligned(fresh());
            at
        };
        assert!(!at.is_aligned());
        let path = Path::new("/plugins/libtest.so");
        // SAFETY: `at` points at a whole descriptor, alive while `words` is.
        let d = unsafe { validate(path, at) }.unwrap();
        assert_eq!(plugin_from(path, &d).unwrap().name, "test-plugin");
    }

    #[test]
    fn descriptor_strings_are_scanned_within_a_bound() {
        static NO_NUL: [u8; 2 * MAX_DESCRIPTOR_STRING_LEN] = [b'a'; 2 * MAX_DESCRIPTOR_STRING_LEN];
        let mut d = fresh();
        d.version = NO_NUL.as_ptr().cast();
        let e = check(d).unwrap_err().to_string();
        assert!(
            e.contains("its version has no terminating NUL in its first 1024 bytes"),
            "{e}"
        );
        let mut d = fresh();
        d.name = c"caf\xe9".as_ptr();
        let e = check(d).unwrap_err().to_string();
        assert!(e.contains("its name is not UTF-8"), "{e}");
    }

    #[test]
    fn a_bare_file_name_is_refused() {
        for bare in ["libfoo.so", "foo.dll"] {
            let e = load(Path::new(bare)).unwrap_err();
            assert!(matches!(e, PluginError::NoDirectory { .. }), "{e:?}");
            let e = e.to_string();
            assert!(e.contains("has no directory component"), "{e}");
            assert!(e.contains(&format!("e.g. ./{bare}")), "{e}");
        }
        let e = load(Path::new("./libfoo.so")).unwrap_err();
        assert!(matches!(e, PluginError::NotFound { .. }), "{e:?}");
    }

    /// Addresses of what the leaky `open`s below handed out and the host has not released.
    static OUTSTANDING: Mutex<Vec<usize>> = Mutex::new(Vec::new());

    fn hand_out(addr: usize) {
        OUTSTANDING.lock().unwrap().push(addr);
    }

    fn released(addr: usize) {
        let mut out = OUTSTANDING.lock().unwrap();
        if let Some(i) = out.iter().position(|&a| a == addr) {
            out.swap_remove(i);
        }
    }

    /// Opens a real connection, then misbehaves: `HOW` 0 fails anyway, handing out the handle,
    /// the name and an error; 1 succeeds with a null handle (closing the real one itself) but a
    /// name; 2 succeeds with a handle but a name that is a length at a null pointer.
    unsafe extern "C" fn leaky_open<const HOW: u8>(
        url: FfiStr,
        out_conn: *mut ConnHandle,
        out_name: *mut FfiString,
        err: *mut FfiError,
    ) -> u32 {
        let real = fresh().open.unwrap();
        // SAFETY: forwarded from the host, which passes valid out-parameters.
        let status = unsafe { real(url, out_conn, out_name, err) };
        if status != STATUS_OK {
            return status;
        }
        // SAFETY: filled by the real open on OK.
        let (conn, name) = unsafe { (*out_conn, &mut *out_name) };
        match HOW {
            0 => {
                hand_out(conn as usize);
                hand_out(name.ptr as usize);
                let e = crate::convert::error_to_ffi(DriverError::new(
                    ErrorKind::Connect,
                    "failed after all",
                ));
                hand_out(e.owner as usize);
                // SAFETY: `err` is writable.
                unsafe { err.write(e) };
                crate::abi::STATUS_ERROR
            }
            1 => {
                hand_out(name.ptr as usize);
                let mut scratch = FfiError::EMPTY;
                // SAFETY: the real handle is closed once, here, and hidden from the host.
                unsafe {
                    (fresh().close.unwrap())(conn, &mut scratch);
                    crate::convert::free_owned_error(&mut scratch);
                    out_conn.write(std::ptr::null_mut());
                }
                STATUS_OK
            }
            _ => {
                hand_out(conn as usize);
                // SAFETY: the real name is freed once, here, and replaced by garbage.
                unsafe { crate::convert::free_owned_string(name) };
                *name = FfiString {
                    ptr: std::ptr::null_mut(),
                    len: 5,
                };
                STATUS_OK
            }
        }
    }

    unsafe extern "C" fn noting_close(conn: ConnHandle, err: *mut FfiError) -> u32 {
        released(conn as usize);
        // SAFETY: forwarded from the host.
        unsafe { (fresh().close.unwrap())(conn, err) }
    }

    unsafe extern "C" fn noting_free_string(s: *mut FfiString) {
        // SAFETY: the host passes a string this "plugin" made.
        released(unsafe { (*s).ptr } as usize);
        // SAFETY: as above.
        unsafe { crate::convert::free_owned_string(s) }
    }

    unsafe extern "C" fn noting_free_error(e: *mut FfiError) {
        // SAFETY: the host passes an error this "plugin" made.
        released(unsafe { (*e).owner } as usize);
        // SAFETY: as above.
        unsafe { crate::convert::free_owned_error(e) }
    }

    #[tokio::test]
    async fn what_a_failed_open_returned_is_released() {
        let leaky = |open: OpenFn| {
            let mut d = fresh();
            d.open = Some(open);
            d.close = Some(noting_close);
            d.free_string = Some(noting_free_string);
            d.free_error = Some(noting_free_error);
            check(d).unwrap()
        };
        let Err(e) = leaky(leaky_open::<0>).open("sqlite://:memory:").await else {
            panic!("opened");
        };
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Connect, "failed after all")
        );
        assert_eq!(
            *OUTSTANDING.lock().unwrap(),
            [0usize; 0],
            "handle, name, error"
        );

        let Err(e) = leaky(leaky_open::<1>).open("sqlite://:memory:").await else {
            panic!("opened");
        };
        assert!(e.message.contains("opened a null connection"), "{e}");
        assert_eq!(*OUTSTANDING.lock().unwrap(), [0usize; 0], "the name");

        let Err(e) = leaky(leaky_open::<2>).open("sqlite://:memory:").await else {
            panic!("opened");
        };
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(
            e.message.contains(
                "broke the plugin ABI in the driver name it returned from `open`: the string \
                 length is 5 at a null pointer"
            ),
            "{e}"
        );
        assert!(
            e.message
                .contains("test-plugin 1.2.3 (/plugins/libtest.so)"),
            "{e}"
        );
        assert_eq!(*OUTSTANDING.lock().unwrap(), [0usize; 0], "the handle");
    }

    unsafe extern "C" fn huge_rows(
        _conn: ConnHandle,
        _sql: FfiStr,
        _params: *const FfiValue,
        _n_params: usize,
        out_rows: *mut FfiRows,
        _err: *mut FfiError,
    ) -> u32 {
        let rows = FfiRows {
            row_count: 1 << 40,
            ..FfiRows::EMPTY
        };
        // SAFETY: `out_rows` is writable.
        unsafe { out_rows.write(rows) };
        STATUS_OK
    }

    #[tokio::test]
    async fn a_garbage_row_count_fails_only_its_call() {
        let mut d = fresh();
        d.query = Some(huge_rows);
        let mut a = check(d).unwrap().open("sqlite://:memory:").await.unwrap();
        // Without the check: 2^40 empty rows reserved up front, an allocation failure, an abort.
        let e = a.query("SELECT 1", &[]).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Internal);
        assert_eq!(
            e.message,
            "plugin test-plugin 1.2.3 (/plugins/libtest.so) broke the plugin ABI in the rows it \
             returned from `query`: row_count is 1099511627776, over the limit of 16777216 rows"
        );
        // The connection is not poisoned: the plugin did nothing the host cannot survive.
        assert_eq!(a.execute("CREATE TABLE t (x INT)", &[]).await.unwrap(), 0);
        a.close().await.unwrap();
    }

    #[tokio::test]
    async fn open_errors_cross_with_their_kind() {
        let plugin = check(fresh()).unwrap();
        let Err(e) = plugin.open("postgres://x/y").await else {
            panic!("opened a postgres URL with SQLite");
        };
        assert_eq!(e.kind, ErrorKind::Url, "{e}");
    }
}
