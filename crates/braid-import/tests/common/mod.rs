//! What the reader tests share: fixtures, temporary directories, reading a body.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use braid_import::{Body, History, ImportError, ReadOptions, Sql, Tool};

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read(tool: Tool, dir: &Path) -> Result<History, ImportError> {
    braid_import::read(tool, dir, &ReadOptions::default())
}

/// A directory holding `files` (relative path, contents).
pub fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// The text of SQL for every dialect.
pub fn sql(sql: &Sql) -> &str {
    match sql {
        Sql::Every(text) => text,
        other => panic!("per-dialect SQL: {other:?}"),
    }
}

/// The up and down SQL of a plain SQL body.
pub fn up_down(body: &Body) -> (&str, Option<&str>) {
    match body {
        Body::Sql { up, down } => (sql(up), down.as_ref().map(sql)),
        other => panic!("not a plain SQL body: {other:?}"),
    }
}

/// The problem of a layout error about `file`, which must be what `result` is.
pub fn layout_error(result: Result<History, ImportError>, file: &str) -> String {
    match result {
        Err(ImportError::Layout {
            path,
            problem,
            hint,
        }) => {
            assert!(path.ends_with(file), "{path:?}");
            assert!(!hint.is_empty());
            problem
        }
        other => panic!("expected a layout error for {file}, got {other:?}"),
    }
}
