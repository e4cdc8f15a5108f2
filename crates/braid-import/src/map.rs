//! [`MAP_FILE`]: which source key each imported revision answers to.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Tool;

/// The file, at the top of the migrations directory, that records an import: the source tool
/// and, per revision, the key its version table records. Plain files at the top of a
/// migrations directory are not revisions, so it sits beside them unread by everything but
/// `adopt`.
pub const MAP_FILE: &str = "imported.toml";

/// The contents of [`MAP_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportMap {
    pub tool: Tool,
    #[serde(rename = "revision", default)]
    pub revisions: Vec<MapEntry>,
}

/// One imported revision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapEntry {
    /// What the source's version table records.
    pub key: String,
    /// The Braid revision id.
    pub id: String,
    /// The source's name for it, where its checksum covers the name (refinery) or its table
    /// shows it (Flyway's description).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Its body was not translated (Python Alembic could not render, a refinery Rust
    /// migration): the checksum the tool kept covers SQL that code produced, which no file here
    /// holds, so `adopt` cannot check it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untranslated: bool,
}

impl ImportMap {
    /// Reads `dir/`[`MAP_FILE`]; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<ImportMap>, crate::ImportError> {
        let path = dir.join(MAP_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(crate::ImportError::io(&path, e)),
        };
        toml::from_str(&text)
            .map(Some)
            .map_err(|e| crate::ImportError::Parse {
                path,
                line: None,
                problem: e.to_string(),
            })
    }

    /// The entry the source's version table calls `key`.
    pub fn by_key(&self, key: &str) -> Option<&MapEntry> {
        self.revisions.iter().find(|e| e.key == key)
    }

    /// The text of [`MAP_FILE`].
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# Written by `braid import`: the key {}'s version table records for each imported\n\
             # revision. `braid adopt` reads it; keep it while any database still has that table.\n{body}",
            self.tool
        )
    }
}
