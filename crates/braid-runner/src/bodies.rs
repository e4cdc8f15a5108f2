//! The seam between the runner and where migration bodies come from.
//!
//! The runner never opens SQL files itself: it asks a [`Bodies`] for the script of a revision in
//! a direction for a dialect. The default, [`SourceBodies`], reads the SQL files of
//! `Body::Sql` through braid-source; Rust migrations (a later issue) plug in by implementing the
//! trait (or wrapping `SourceBodies`) without touching the runner.

use braid_driver::Dialect;
use braid_graph::{Body, Direction, Revision};

/// A migration body ready to run: its text and where it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The file, or a description such as `revision abc (no body)`.
    pub origin: String,
    pub text: String,
}

/// Why a body could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BodyError {
    pub message: String,
}

/// Where the runner gets migration bodies and checksums from.
pub trait Bodies: Send + Sync {
    /// The script to run for `rev` in `direction` on `dialect`.
    fn script(
        &self,
        rev: &Revision,
        direction: Direction,
        dialect: Dialect,
    ) -> Result<Script, BodyError>;

    /// The checksum recorded for an applied migration, computed from its up script's text
    /// (`script` is what [`Bodies::script`] returned for `Direction::Up`). Taking the text lets
    /// the runner read each file once and hash what it ran.
    fn checksum(&self, rev: &Revision, script: &Script) -> String;

    /// The current checksum of `rev` on `dialect`, and the file it came from.
    fn current_checksum(
        &self,
        rev: &Revision,
        dialect: Dialect,
    ) -> Result<(String, String), BodyError> {
        let script = self.script(rev, Direction::Up, dialect)?;
        let sum = self.checksum(rev, &script);
        Ok((sum, script.origin))
    }
}

/// The default [`Bodies`]: SQL files through braid-source; a revision without a body (built in
/// memory) runs nothing and has the checksum of the empty script.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceBodies;

impl Bodies for SourceBodies {
    fn script(
        &self,
        rev: &Revision,
        direction: Direction,
        dialect: Dialect,
    ) -> Result<Script, BodyError> {
        match &rev.body {
            Body::None => Ok(Script {
                origin: format!("revision {} (no body)", rev.id),
                text: String::new(),
            }),
            Body::Rust { name, source } => Err(BodyError {
                message: format!(
                    "revision `{}` is a Rust migration (`{name}`, {}); this build cannot run Rust \
                     migrations yet",
                    rev.id,
                    source.display()
                ),
            }),
            Body::Sql { .. } => {
                let s = braid_source::sql(rev, direction, dialect).map_err(|e| BodyError {
                    message: e.to_string(),
                })?;
                Ok(Script {
                    origin: s.path.display().to_string(),
                    text: s.text,
                })
            }
        }
    }

    fn checksum(&self, _rev: &Revision, script: &Script) -> String {
        braid_source::checksum(&script.text)
    }
}
