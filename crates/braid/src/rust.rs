//! Rust revisions: what a binary compiled in, and the migration bodies the runner gets from a
//! project.
//!
//! A Rust revision (`rust = "migration.rs"`) is compiled into the binary that runs it: a
//! workspace's `xtask` (`braid_build::rust_revisions` in its build script, then
//! [`rust_revisions!`](crate::rust_revisions)) or an application (`braid_build::embed`). The
//! standalone `braid` binary compiles none, and says where to go when it meets one.

#[cfg(not(feature = "rust"))]
use braid_graph::Body;
use braid_graph::{Direction, Revision};
use braid_runner::{Bodies, BodyError, Script, SourceBodies};

/// The Rust revisions compiled into this binary, by revision id. Empty unless the `rust`
/// feature is on and a build script filled it.
#[derive(Clone, Default)]
pub struct RustRevisions {
    #[cfg(feature = "rust")]
    registry: braid_seaorm::Registry,
}

impl std::fmt::Debug for RustRevisions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("RustRevisions");
        #[cfg(feature = "rust")]
        s.field("registry", &self.registry);
        s.finish()
    }
}

impl RustRevisions {
    /// None yet: what generated code starts from, and what a binary without Rust revisions
    /// passes.
    pub fn new() -> Self {
        RustRevisions::default()
    }

    /// Registers `migration` as the body of revision `id`; `path` and `source` are its file
    /// and text at build time (a file edited since is refused with "rebuild"). Called by the
    /// code `braid-build` generates.
    #[cfg(feature = "rust")]
    pub fn add(
        &mut self,
        id: &str,
        path: &'static str,
        source: &'static str,
        migration: Box<dyn braid_seaorm::MigrationTrait>,
    ) -> &mut Self {
        self.registry.add(id, path, source, migration);
        self
    }

    /// The registry the sea-orm bridge runs from.
    #[cfg(feature = "rust")]
    pub fn registry(&self) -> &braid_seaorm::Registry {
        &self.registry
    }

    /// How many Rust migrations were compiled in.
    pub fn len(&self) -> usize {
        #[cfg(feature = "rust")]
        return self.registry.len();
        #[cfg(not(feature = "rust"))]
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The runner's bodies for a project's migration sets: SQL from disk, Rust from this
    /// registry (or, in a build without Rust support, a clear refusal).
    pub(crate) fn bodies(&self) -> ProjectBodies<'_> {
        ProjectBodies {
            #[cfg(feature = "rust")]
            rust: braid_seaorm::RustBodies::new(&self.registry),
            #[cfg(not(feature = "rust"))]
            _rust: std::marker::PhantomData,
        }
    }
}

/// Migration bodies for the command line: [`braid_seaorm::RustBodies`] when Rust revisions
/// can run; otherwise the SQL files, and for a Rust revision an error that says where it can
/// run.
pub(crate) struct ProjectBodies<'a> {
    #[cfg(feature = "rust")]
    rust: braid_seaorm::RustBodies<'a>,
    #[cfg(not(feature = "rust"))]
    _rust: std::marker::PhantomData<&'a ()>,
}

impl Bodies for ProjectBodies<'_> {
    fn script(
        &self,
        rev: &Revision,
        direction: Direction,
        dialect: braid_driver::Dialect,
    ) -> Result<Script, BodyError> {
        #[cfg(feature = "rust")]
        return self.rust.script(rev, direction, dialect);
        #[cfg(not(feature = "rust"))]
        match &rev.body {
            Body::Rust { source, .. } => Err(no_rust(&rev.id, source)),
            _ => SourceBodies.script(rev, direction, dialect),
        }
    }

    fn checksum(&self, rev: &Revision, script: &Script) -> String {
        SourceBodies.checksum(rev, script)
    }

    fn current_checksum(
        &self,
        rev: &Revision,
        dialect: braid_driver::Dialect,
    ) -> Result<(String, String), BodyError> {
        SourceBodies.current_checksum(rev, dialect)
    }
}

/// Why a binary without Rust support cannot run revision `id`, and where it can run.
#[cfg(not(feature = "rust"))]
fn no_rust(id: &str, source: &std::path::Path) -> BodyError {
    BodyError {
        message: format!(
            "revision `{id}` is a Rust migration ({}); this binary was built without Rust \
             migrations and cannot compile them. Run it through your workspace's xtask \
             (`braid_cli::xtask` with braid's `rust` feature and `braid_build::rust_revisions` \
             in its build script), or embed the migrations in your application \
             (`braid_build::embed` + `braid::Migrator`)",
            source.display()
        ),
    }
}

/// The Rust revisions a build script compiled into this crate with
/// `braid_build::rust_revisions([...])`, as a [`RustRevisions`].
///
/// ```ignore
/// fn main() -> std::process::ExitCode {
///     braid_cli::xtask(braid::rust_revisions!())
/// }
/// ```
#[macro_export]
macro_rules! rust_revisions {
    () => {{
        #[allow(unused_imports)]
        use $crate as __braid;
        include!(concat!(env!("OUT_DIR"), "/braid_rust_revisions.rs"))
    }};
}

/// Fails the build, clearly, when generated code holds Rust revisions but this `braid` was
/// built without the `rust` feature.
#[doc(hidden)]
#[cfg(feature = "rust")]
#[macro_export]
macro_rules! __require_rust_feature {
    () => {};
}

#[doc(hidden)]
#[cfg(not(feature = "rust"))]
#[macro_export]
macro_rules! __require_rust_feature {
    () => {
        compile_error!(
            "these migrations hold Rust revisions: enable braid's `rust` feature \
             (features = [\"rust\"] on the braid dependency)"
        );
    };
}
