//! Where the project is: the workspace root, the config, the migrations directory.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::Global;

/// The workspace this xtask belongs to. Commands run from there, so relative paths in the
/// config (the migrations directory, SQLite files) mean the same thing from any subdirectory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Makes the paths given on the command line absolute (against the directory the user typed
/// them in), then moves into the workspace root.
pub fn enter_root(global: &mut Global) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    for path in [&mut global.migrations, &mut global.config]
        .into_iter()
        .flatten()
    {
        if path.is_relative() {
            *path = cwd.join(&*path);
        }
    }
    let root = workspace_root();
    std::env::set_current_dir(&root)
        .with_context(|| format!("cannot enter the workspace root {}", root.display()))?;
    Ok(())
}
