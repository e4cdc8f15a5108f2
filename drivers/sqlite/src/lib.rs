//! SQLite driver.
