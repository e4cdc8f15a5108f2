//! What the unit tests of the facade's modules write to disk (one revision directory), and
//! the project they open over it.

use std::path::Path;

use crate::{Project, ProjectOptions, RustRevisions};

/// The project rooted at `root`, without Rust revisions.
pub(crate) fn project(root: &Path) -> Project {
    Project::open(
        ProjectOptions {
            root: Some(root.to_path_buf()),
            ..ProjectOptions::default()
        },
        RustRevisions::new(),
    )
    .unwrap()
}

/// Writes revision `id` under `dir`: its `revision.toml` (with `extra` lines) and `files`.
pub(crate) fn revision(
    dir: &Path,
    id: &str,
    parents: &[&str],
    extra: &str,
    files: &[(&str, &str)],
) {
    let rev = dir.join(id);
    std::fs::create_dir_all(&rev).unwrap();
    std::fs::write(
        rev.join("revision.toml"),
        format!(
            "id = {id:?}\nparents = {parents:?}\nmessage = {id:?}\n\
             created = 2026-11-20T10:00:00Z\n{extra}"
        ),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(rev.join(name), text).unwrap();
    }
}
