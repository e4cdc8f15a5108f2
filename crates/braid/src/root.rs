//! Where a project is: its root directory, found at run time.
//!
//! The root is what every relative path in the config means (the migrations directories,
//! SQLite files, plugin libraries), so commands behave the same from any subdirectory. It is
//! never a path compiled into a binary: a `cargo xtask` built in one checkout and the
//! standalone `braid` both find the project around the directory they run in.

use std::path::{Path, PathBuf};

/// The environment variable that names the root, when `--root` does not.
pub const ROOT_ENV: &str = "BRAID_ROOT";

/// The project root for `start`: the Cargo workspace that contains it — the nearest ancestor
/// whose `Cargo.toml` has a `[workspace]` table, else the nearest ancestor with a `Cargo.toml`
/// (a single-package project) — else `start` itself (a deploy image with only a config and
/// migrations).
pub fn find_root(start: &Path) -> PathBuf {
    let mut package = None;
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if declares_workspace(&text) {
            return dir.to_path_buf();
        }
        package.get_or_insert_with(|| dir.to_path_buf());
    }
    package.unwrap_or_else(|| start.to_path_buf())
}

/// The root a command uses: `explicit` (`--root`), else `$BRAID_ROOT`, else [`find_root`] of
/// the current directory. Relative paths are taken against the current directory.
pub fn resolve_root(explicit: Option<&Path>) -> std::io::Result<PathBuf> {
    let cwd = std::env::current_dir()?;
    let chosen = explicit.map(Path::to_path_buf).or_else(|| {
        std::env::var_os(ROOT_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    Ok(match chosen {
        Some(root) => cwd.join(root),
        None => find_root(&cwd),
    })
}

/// Whether a manifest has a `[workspace]` table (or a `[workspace.…]` one). A line scan, not a
/// TOML parse: this runs before every command, and a table header is one line.
fn declares_workspace(manifest: &str) -> bool {
    manifest.lines().any(|line| {
        line.trim_start()
            .strip_prefix("[workspace")
            .is_some_and(|rest| rest.starts_with(']') || rest.starts_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_beats_package_and_nothing_means_start() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"app\"]\n",
        )
        .unwrap();
        let app = root.join("app/src");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(root.join("app/Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
        assert_eq!(find_root(&app), root);

        let single = tempfile::tempdir().unwrap();
        std::fs::write(
            single.path().join("Cargo.toml"),
            "[package]\nname = \"x\"\n",
        )
        .unwrap();
        let deep = single.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_root(&deep), single.path());

        let bare = tempfile::tempdir().unwrap();
        assert_eq!(find_root(bare.path()), bare.path());
    }

    #[test]
    fn workspace_tables() {
        assert!(declares_workspace("[workspace]\n"));
        assert!(declares_workspace(
            "[package]\n  [workspace.dependencies]\n"
        ));
        assert!(!declares_workspace(
            "[package]\nworkspace = \"..\"\n# [workspace]x\n"
        ));
    }
}
