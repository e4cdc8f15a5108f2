//! Braid's SQLite driver as a driver plugin (`libbraid_sqlite_plugin.so`): the static driver,
//! exported through the plugin C ABI. Mostly useful to test the plugin machinery against a real
//! driver, and as the template for third-party plugins.
//!
//! It declares inline calls: like the static driver (see `braid_sqlite`'s docs), an SQLite call
//! on a local file takes microseconds, and handing each one to a blocking thread would cost
//! more than the statement itself (1.8–2.3× the static driver on a 1 000-revision upgrade,
//! against 1.02–1.12× inline; see `docs/plugins.md`).

braid_plugin::export_driver!(dialect: Sqlite, open: braid_sqlite::open, inline_calls: true);
