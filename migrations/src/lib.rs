//! The workspace's migrations directory as a crate.
//!
//! Every revision directory whose `revision.toml` names a Rust body (`rust = "migration.rs"`) is
//! compiled in by `build.rs` as its own module (the file itself, through `#[path]`), and
//! [`registry`] maps each revision id to its `Migration`. SQL revisions are not compiled: the
//! runner reads their files. Adding or editing a revision directory makes Cargo rerun the build
//! script (it emits `rerun-if-changed` for the directory and every revision in it), so
//! `cargo xtask …` — a `cargo run` — always runs the migrations on disk.
//!
//! ```ignore
//! let registry = braid_migrations::registry();
//! let bodies = braid_seaorm::RustBodies::new(&registry);
//! runner.with_bodies(&bodies) …
//! ```

include!(concat!(env!("OUT_DIR"), "/registry.rs"));

/// The migrations directory this crate was built from.
pub const MIGRATIONS_DIR: &str = env!("CARGO_MANIFEST_DIR");
