//! The seam between the runner and where migration bodies come from.
//!
//! The runner never opens SQL files itself: it asks a [`Bodies`] for the script of a revision in
//! a direction for a dialect. The default, [`SourceBodies`], reads the SQL files of
//! `Body::Sql` through braid-source. Rust migrations plug in through [`CodeBody`]: a [`Script`]
//! whose `code` is set is run by calling [`CodeBody::run`] on the runner's driver (inside the
//! same transaction, with the same bookkeeping) instead of executing `text`, and rendered for
//! offline SQL by [`CodeBody::render`]. `text` stays what is checksummed (for a Rust migration,
//! its source file). The runner knows nothing about sea-orm: `braid-seaorm` implements
//! `CodeBody` and a [`Bodies`] for Rust revisions.
//!
//! An SQL script may also be a batched backfill (the `-- braid:backfill` directive): that is
//! decided where the runner prepares a step ([`crate::backfill::from_script`]), not here, so a
//! script is read the same way whatever runs it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use braid_driver::{Dialect, Driver, DriverError};
use braid_graph::{Body, Direction, Revision};

use crate::backfill::BackfillContext;

/// A boxed, sendable future (no futures crate needed).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A migration body that is code rather than SQL text (a Rust migration).
pub trait CodeBody: Send + Sync + std::fmt::Debug {
    /// Runs the body in `direction` through `driver`. The runner has already opened the step's
    /// transaction (when the revision is transactional) and commits or rolls it back afterwards:
    /// the body must not begin, commit or roll back itself. A failure is reported like a failing
    /// SQL script (put the failing statement in [`DriverError::position`] when known).
    ///
    /// `cx` is what a batched backfill run by the body needs ([`crate::backfill::run`]): the
    /// database and revision, the event sink, the cursor table and the lock. A backfill is the
    /// one exception to "the body must not commit": it commits each batch itself, and is
    /// refused when the step runs inside a transaction.
    fn run<'a>(
        &'a self,
        driver: &'a mut dyn Driver,
        direction: Direction,
        cx: &'a BackfillContext<'a>,
    ) -> BoxFuture<'a, Result<(), DriverError>>;

    /// The SQL the body would run in `direction` on `dialect`, for offline scripts, without a
    /// database. A body that needs answers from the database cannot be rendered and says so.
    fn render(&self, dialect: Dialect, direction: Direction) -> Result<String, BodyError>;
}

/// A migration body ready to run: its text and where it came from (for error messages).
#[derive(Clone)]
pub struct Script {
    /// The file, or a description such as `revision abc (no body)`.
    pub origin: String,
    /// The SQL to run; for a code body, the source that is checksummed (never executed).
    pub text: String,
    /// Set for a code body (a Rust migration): the runner calls it instead of running `text`.
    pub code: Option<Arc<dyn CodeBody>>,
}

impl Script {
    /// An SQL script.
    pub fn sql(origin: impl Into<String>, text: impl Into<String>) -> Self {
        Script {
            origin: origin.into(),
            text: text.into(),
            code: None,
        }
    }

    /// A code body; `source` is what is checksummed.
    pub fn code(
        origin: impl Into<String>,
        source: impl Into<String>,
        code: Arc<dyn CodeBody>,
    ) -> Self {
        Script {
            origin: origin.into(),
            text: source.into(),
            code: Some(code),
        }
    }

    /// The SQL an offline script shows for this body: the text itself, or the code body
    /// rendered for `dialect`.
    pub fn offline_sql(&self, dialect: Dialect, direction: Direction) -> Result<String, BodyError> {
        match &self.code {
            Some(code) => code.render(dialect, direction),
            None => Ok(self.text.clone()),
        }
    }
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script")
            .field("origin", &self.origin)
            .field("text", &self.text)
            .field("code", &self.code)
            .finish()
    }
}

impl PartialEq for Script {
    fn eq(&self, other: &Self) -> bool {
        self.origin == other.origin
            && self.text == other.text
            && match (&self.code, &other.code) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

impl Eq for Script {}

/// Refuses a script marked [`braid_source::UNWRITTEN_MARK`] (an imported body not translated
/// yet, a down migration the source tool never had). Checked where a plan is prepared and where
/// offline SQL is rendered, not in [`Bodies::script`]: checksums and `stamp` still read such a
/// file, since a migration that ran under another tool is recorded without running.
pub(crate) fn refuse_unwritten(script: &Script, direction: Direction) -> Result<(), BodyError> {
    if script.code.is_some() {
        return Ok(());
    }
    match braid_source::unwritten(&script.text) {
        Some(reason) => Err(BodyError {
            message: format!(
                "its {} script ({}) is not written yet: {reason}",
                match direction {
                    Direction::Up => "upgrade",
                    Direction::Down => "downgrade",
                },
                script.origin
            ),
        }),
        None => Ok(()),
    }
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
            Body::None => Ok(Script::sql(
                format!("revision {} (no body)", rev.id),
                String::new(),
            )),
            Body::Rust { name, source } => Err(BodyError {
                message: format!(
                    "revision `{}` is a Rust migration (`{name}`, {}); this build cannot run Rust \
                     migrations (a binary runs them when it compiles them in: see braid-build)",
                    rev.id,
                    source.display()
                ),
            }),
            Body::Sql { .. } => {
                let s = braid_source::sql(rev, direction, dialect).map_err(|e| BodyError {
                    message: e.to_string(),
                })?;
                Ok(Script::sql(s.path.display().to_string(), s.text))
            }
        }
    }

    fn checksum(&self, _rev: &Revision, script: &Script) -> String {
        braid_source::checksum(&script.text)
    }

    /// For a Rust revision, the checksum of its source file on disk — no need to have it
    /// compiled in: `check`, `status`, `accept` and `stamp` compare files, and an edited
    /// applied migration is reported as edited (not as "rebuild") by any binary.
    fn current_checksum(
        &self,
        rev: &Revision,
        dialect: Dialect,
    ) -> Result<(String, String), BodyError> {
        if let Body::Rust { .. } = &rev.body {
            let on_disk = braid_source::rust_source(rev).map_err(|e| BodyError {
                message: e.to_string(),
            })?;
            return Ok((
                braid_source::checksum(&on_disk.text),
                on_disk.path.display().to_string(),
            ));
        }
        let script = self.script(rev, Direction::Up, dialect)?;
        Ok((self.checksum(rev, &script), script.origin))
    }
}
