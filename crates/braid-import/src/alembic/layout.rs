//! Where an Alembic project keeps its revisions: from `alembic.ini` (`script_location`,
//! `version_locations`), or from a script directory given directly.

use std::path::{Path, PathBuf};

use super::ini::{self, Ini};
use crate::ImportError;

/// The file Alembic reads by default.
pub(super) const INI_FILE: &str = "alembic.ini";

/// An Alembic project as found on disk.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// The directory Alembic is run from: the one holding the ini (relative paths in it, and
    /// `prepend_sys_path = .`, are read from there), else the script directory's parent.
    pub source_dir: PathBuf,
    /// The config file and its text, when there is one.
    pub ini: Option<(PathBuf, String)>,
    /// The script directory (`env.py`, `versions/`).
    pub script_dir: PathBuf,
    /// The directories holding revision files.
    pub versions: Vec<PathBuf>,
    /// `recursive_version_locations = true`: revision files in subdirectories count too.
    pub recursive: bool,
}

impl Layout {
    /// Whether Alembic can be run on this project: it needs the script directory's `env.py`.
    pub fn has_env(&self) -> bool {
        self.script_dir.join("env.py").is_file()
    }
}

/// Finds the layout from `path`: an ini file, a directory holding `alembic.ini`, or a script
/// directory (one with `env.py` or `versions/`).
pub(super) fn find(path: &Path) -> Result<Layout, ImportError> {
    if path.is_file() {
        return from_ini(path);
    }
    if !path.is_dir() {
        return Err(ImportError::Layout {
            path: path.to_path_buf(),
            problem: "no such directory".to_string(),
            hint: "point at the directory holding alembic.ini".to_string(),
        });
    }
    let ini = path.join(INI_FILE);
    if ini.is_file() {
        return from_ini(&ini);
    }
    if path.join("env.py").is_file() || path.join("versions").is_dir() {
        return Ok(from_script_dir(path));
    }
    Err(ImportError::Layout {
        path: path.to_path_buf(),
        problem: format!("neither {INI_FILE} nor an Alembic script directory (env.py, versions/)"),
        hint: format!(
            "point at the directory you run `alembic` from (the one holding {INI_FILE}), at the \
             ini file itself, or at the script directory"
        ),
    })
}

/// A script directory given without an ini: its `versions/` holds the revisions.
fn from_script_dir(dir: &Path) -> Layout {
    let dir = absolute(dir);
    Layout {
        source_dir: dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf),
        ini: None,
        versions: vec![dir.join("versions")],
        script_dir: dir,
        recursive: false,
    }
}

fn from_ini(path: &Path) -> Result<Layout, ImportError> {
    let path = absolute(path);
    let text = std::fs::read_to_string(&path).map_err(|e| ImportError::io(&path, e))?;
    let here = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let parsed = Ini::parse(&text);
    let Some(location) = parsed.get(ini::SECTION, "script_location", &here) else {
        return Err(ImportError::Layout {
            path,
            problem: format!("no `script_location` in its [{}] section", ini::SECTION),
            hint: "is this the ini file `alembic -c` reads? Alembic needs script_location to \
                   find its revisions"
                .to_string(),
        });
    };
    let script_dir = script_location(&path, &here, &location)?;
    let versions = match parsed.get(ini::SECTION, "version_locations", &here) {
        Some(value) => {
            let separator = parsed.get(ini::SECTION, "path_separator", &here);
            split_locations(&value, separator.as_deref())
                .into_iter()
                .map(|l| resolve(&here, &l))
                .collect()
        }
        None => vec![script_dir.join("versions")],
    };
    let recursive = parsed
        .get(ini::SECTION, "recursive_version_locations", &here)
        .is_some_and(|v| ini::truthy(&v));
    Ok(Layout {
        source_dir: here,
        ini: Some((path, text)),
        script_dir,
        versions,
        recursive,
    })
}

/// `script_location` as a directory. A package resource (`myapp:migrations`) needs Python to
/// resolve, so it is refused with what to do instead.
fn script_location(ini: &Path, here: &Path, location: &str) -> Result<PathBuf, ImportError> {
    let dir = resolve(here, location);
    if dir.is_dir() {
        return Ok(dir);
    }
    let problem = if is_package_resource(location) {
        format!("script_location `{location}` names a Python package, which Braid cannot resolve")
    } else {
        format!(
            "script_location `{location}` is not a directory ({})",
            dir.display()
        )
    };
    Err(ImportError::Layout {
        path: ini.to_path_buf(),
        problem,
        hint: "point braid at the script directory itself (the one holding env.py and versions/)"
            .to_string(),
    })
}

/// `package.module:dir`, as Alembic writes a script location inside an installed package.
fn is_package_resource(location: &str) -> bool {
    match location.split_once(':') {
        Some((package, _)) => {
            !package.is_empty()
                && package
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        }
        None => false,
    }
}

/// `version_locations` split as Alembic splits it: by `path_separator` when set (`os`,
/// `space`, `newline`, `:`, `;`, `,`), else by spaces and commas (its older behaviour).
fn split_locations(value: &str, separator: Option<&str>) -> Vec<String> {
    let parts: Vec<&str> = match separator.map(str::trim) {
        Some("os") if cfg!(windows) => value.split(';').collect(),
        Some("os") => value.split(':').collect(),
        Some("space") => value.split(' ').collect(),
        Some("newline") => value.split('\n').collect(),
        Some(sep @ (":" | ";" | ",")) => value.split(sep).collect(),
        _ => value.split([' ', ',', '\n']).collect(),
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// A path from the ini, relative ones read from `here` (where Alembic is run from).
fn resolve(here: &Path, value: &str) -> PathBuf {
    let path = Path::new(value);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        here.join(path)
    }
}

/// `path` made absolute against the current directory (left as it is when there is none), so
/// that paths handed to Alembic do not depend on where it runs.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The revision files under `layout`'s version directories, sorted by file name (then path):
/// `*.py` except `__init__.py` and editor lock files (`.#…`), as Alembic loads them.
pub(super) fn revision_files(layout: &Layout) -> Result<Vec<PathBuf>, ImportError> {
    let mut files = Vec::new();
    for dir in &layout.versions {
        if !dir.is_dir() {
            return Err(ImportError::Layout {
                path: dir.clone(),
                problem: "the versions directory does not exist".to_string(),
                hint: "check script_location and version_locations in alembic.ini".to_string(),
            });
        }
        collect(dir, layout.recursive, &mut files)?;
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()).then_with(|| a.cmp(b)));
    files.dedup();
    Ok(files)
}

fn collect(dir: &Path, recursive: bool, files: &mut Vec<PathBuf>) -> Result<(), ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ImportError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ImportError::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if recursive && name != "__pycache__" {
                collect(&path, recursive, files)?;
            }
        } else if is_revision_file(&name) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_revision_file(name: &str) -> bool {
    name.ends_with(".py") && !name.starts_with("__init__") && !name.starts_with(".#")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_version_locations() {
        assert_eq!(split_locations("a b,c", None), ["a", "b", "c"]);
        assert_eq!(split_locations("a b:c", Some("os")), ["a b", "c"]);
        assert_eq!(split_locations("a\nb c", Some("newline")), ["a", "b c"]);
        assert_eq!(split_locations("a;b", Some(";")), ["a", "b"]);
    }

    #[test]
    fn package_resources() {
        assert!(is_package_resource("myapp.db:migrations"));
        assert!(!is_package_resource("/abs/migrations"));
        assert!(!is_package_resource("migrations"));
    }
}
