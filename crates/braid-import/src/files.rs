//! Reading source directories: one listing, one walk, one way to read a file, one reading of a
//! timestamp version, for every tool that needs them.

use std::path::{Path, PathBuf};

use crate::ImportError;

/// Every regular, non-hidden file under `dir` (recursively) whose name `keep` accepts, in path
/// order: how Flyway and refinery scan their locations. Linked directories are not descended
/// into (neither tool's scan follows them), which also keeps a link to an ancestor from
/// looping; a linked file counts.
pub(crate) fn walk(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, ImportError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(|e| ImportError::io(&current, e))? {
            let entry = entry.map_err(|e| ImportError::io(&current, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type().map_err(|e| ImportError::io(&path, e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if keep(&name) && is_file(&path)? {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// An entry directly in a directory.
pub(crate) struct Entry {
    /// Read lossily, as the tools read names.
    pub name: String,
    pub path: PathBuf,
    /// A regular file, following a symbolic link.
    pub is_file: bool,
}

/// The non-hidden entries directly in `dir`, in no particular order: how sqlx lists its files
/// and diesel its migration directories.
pub(crate) fn entries(dir: &Path) -> Result<Vec<Entry>, ImportError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| ImportError::io(dir, e))? {
        let entry = entry.map_err(|e| ImportError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let is_file = is_file(&path)?;
        found.push(Entry {
            name,
            path,
            is_file,
        });
    }
    Ok(found)
}

/// Whether `path` is a regular file, following a symbolic link.
fn is_file(path: &Path) -> Result<bool, ImportError> {
    let metadata = std::fs::metadata(path).map_err(|e| ImportError::io(path, e))?;
    Ok(metadata.is_file())
}

/// A migration file's text, exactly as on disk.
pub(crate) fn read_text(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))
}

/// The timestamp a 14-digit `YYYYMMDDHHMMSS` version stands for, read as UTC (sqlx-cli and
/// diesel's CLI both write UTC); `None` for anything else, `00000000000000` included.
pub(crate) fn timestamp_from_digits(digits: &str) -> Option<jiff::Timestamp> {
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let part = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i16>().ok();
    let datetime = jiff::civil::DateTime::new(
        part(0..4)?,
        i8::try_from(part(4..6)?).ok()?,
        i8::try_from(part(6..8)?).ok()?,
        i8::try_from(part(8..10)?).ok()?,
        i8::try_from(part(10..12)?).ok()?,
        i8::try_from(part(12..14)?).ok()?,
        0,
    )
    .ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(datetime).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_come_from_fourteen_digit_versions_only() {
        let t = timestamp_from_digits("20240131235959").map(|t| t.to_string());
        assert_eq!(t.as_deref(), Some("2024-01-31T23:59:59Z"));
        assert_eq!(timestamp_from_digits("00000000000000"), None);
        assert_eq!(timestamp_from_digits("20241331000000"), None);
        assert_eq!(timestamp_from_digits("2024013123595"), None);
        assert_eq!(timestamp_from_digits("2024013123595x"), None);
    }
}
