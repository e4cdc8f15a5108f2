//! Placeholder.

use std::path::Path;

use crate::{History, ImportError};

/// How to get Alembic revisions' SQL.
#[derive(Debug, Clone, Default)]
pub struct AlembicOptions {}

pub(crate) fn read(dir: &Path, options: &AlembicOptions) -> Result<History, ImportError> {
    let _ = (dir, options);
    todo!()
}
