//! Driver plugins: a Braid [`Driver`](braid_driver::Driver) loaded from a shared library at run
//! time, through a small, versioned C ABI.
//!
//! * [`abi`] — the contract: one entry symbol returning a `#[repr(C)]` descriptor of
//!   `Option<extern "C" fn>` slots, tagged values, status codes plus an error struct.
//! * [`export`] and [`export_driver!`] — the plugin side: one macro line turns a driver's
//!   `async fn open(url)` into the ABI.
//! * `host` (feature `host`) — the loader: [`load`] validates a library and returns a
//!   [`Plugin`], whose [`Plugin::open`] gives a `Box<dyn Driver>` like any static driver.
//!
//! # Why a hand-written C ABI
//!
//! Rust has no stable ABI: struct, enum and vtable layouts may differ between compilers and
//! even builds, so a `Box<dyn Driver>` across a library boundary is unsound (Bevy removed its
//! dynamic plugins for this reason). A cdylib also carries its own std — its own allocator,
//! panic hook and thread-locals — and its own tokio, whose runtime cannot be shared with the
//! host. So the boundary carries only integers, pointers and `Option<extern "C" fn>`, memory is
//! freed by the side that allocated it, calls are synchronous (the plugin `block_on`s on its
//! own runtime; the host runs calls on `spawn_blocking`), and a panic is caught at every entry
//! point (an unwind across `extern "C"` aborts the process) and poisons only its connection.
//! This is the model of ADBC, PostgreSQL's `PG_MODULE_MAGIC` and tree-sitter; abi_stable is
//! unmaintained, and async FFI crates do not carry a runtime context. Libraries are never
//! unloaded: unloading Rust code with thread-locals and live runtime threads is not sound.
//!
//! A plugin runs in-process with full privileges: a crash or `abort` in it takes Braid down,
//! so only trusted plugins should be loaded. What it *returns* is not trusted, though: the host
//! checks every count, length and pointer against the ABI's limits ([`abi::MAX_ROWS`] and the
//! others) before it allocates or reads, so a plugin that returns garbage fails that call with
//! an error instead of aborting the process. See `docs/plugins.md`.

pub mod abi;
pub mod convert;
pub mod export;
pub mod schema_rows;

#[cfg(feature = "host")]
mod host;

#[cfg(feature = "host")]
pub use host::{Plugin, PluginError, library_path, load};

/// Re-exports the macros need, so a plugin crate does not have to name `braid-driver` itself.
#[doc(hidden)]
pub mod __private {
    pub use braid_driver::{Dialect, Driver};
}
