//! Placeholder.

use std::path::Path;

use crate::{History, ImportError};

pub(crate) fn read(dir: &Path) -> Result<History, ImportError> {
    let _ = dir;
    todo!()
}
