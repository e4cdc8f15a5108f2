//! The shop's library: its sea-orm entities, which the application queries with and from which
//! `cargo xtask migrate generate --autogenerate` writes the migrations.

pub mod entities;
