//! The checksums source tools keep, computed again from the imported files.

use crate::{MapEntry, Tool};

/// The checksum `tool` would have recorded for a migration whose SQL is `up_sql`, written as
/// [`crate::SourceRow::checksum`] holds a stored one; `None` for tools that keep none
/// (Alembic, diesel, sea-orm-migration).
pub fn expected_checksum(tool: Tool, entry: &MapEntry, up_sql: &str) -> Option<String> {
    let _ = (tool, entry, up_sql);
    todo!()
}
