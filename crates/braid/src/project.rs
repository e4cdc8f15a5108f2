//! A project: its root, its config, its migration sets and the Rust revisions compiled into
//! the binary. Graph commands read one set; database commands drive every selected database
//! along its own set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use braid_config::{Config, Database};
use braid_graph::Graph;
use serde::Serialize;

use crate::{Error, RustRevisions};

/// Each migration set's graph, or why it did not load, by directory.
pub(crate) type Sets = BTreeMap<PathBuf, Result<Graph, Error>>;

/// How to find a project. Every field is optional: by default the root is the Cargo workspace
/// around the current directory (or `$BRAID_ROOT`), the config `config/braid.toml` under it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectOptions {
    /// The project root; relative paths are taken against the current directory.
    pub root: Option<PathBuf>,
    /// The config file; relative paths are taken against the root. A file named here must
    /// exist; the default one may be absent (graph commands then need no config).
    pub config: Option<PathBuf>,
    /// The profile layered over `[default]`; else `$BRAID_PROFILE`, else `default`.
    pub profile: Option<String>,
    /// A migrations directory that replaces every database's (and the default) set, relative
    /// to the root.
    pub migrations: Option<PathBuf>,
}

/// One migration set: a migrations directory (its own graph) and the databases that use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetInfo {
    pub dir: PathBuf,
    pub databases: Vec<String>,
}

/// A project opened from a root directory. Cheap: nothing is read but the config; graphs are
/// loaded by the commands that need them.
#[derive(Debug)]
pub struct Project {
    root: PathBuf,
    config_file: PathBuf,
    config: Option<Config>,
    migrations: Option<PathBuf>,
    rust: RustRevisions,
}

impl Project {
    /// Finds the root, reads the config (when the file exists or was named) and resolves every
    /// relative path in it against the root. `rust` is what the binary compiled in
    /// ([`rust_revisions!`](crate::rust_revisions), or [`RustRevisions::new`] for none).
    pub fn open(options: ProjectOptions, rust: RustRevisions) -> Result<Project, Error> {
        let root =
            crate::root::resolve_root(options.root.as_deref()).map_err(|source| Error::Io {
                path: PathBuf::from("."),
                source,
            })?;
        let named = options.config.is_some();
        let config_file = root.join(
            options
                .config
                .unwrap_or_else(|| PathBuf::from(braid_config::DEFAULT_CONFIG_FILE)),
        );
        let config = if named || config_file.exists() {
            let mut config = Config::load(&config_file, options.profile.as_deref())?;
            config.resolve_paths(&root);
            Some(config)
        } else {
            None
        };
        Ok(Project {
            migrations: options.migrations.map(|m| root.join(m)),
            root,
            config_file,
            config,
            rust,
        })
    }

    /// The root every relative path in the config is relative to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The config; an error naming the file when the project has none.
    pub fn config(&self) -> Result<&Config, Error> {
        self.config.as_ref().ok_or_else(|| Error::NoConfig {
            file: self.config_file.clone(),
        })
    }

    /// The config, when the project has one.
    pub fn config_if_any(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    pub fn rust(&self) -> &RustRevisions {
        &self.rust
    }

    /// The migrations directory of `db`: `--migrations`, else its own, else the config's.
    pub fn dir_of(&self, db: &Database<'_>) -> PathBuf {
        match (&self.migrations, &self.config) {
            (Some(dir), _) => dir.clone(),
            (None, Some(config)) => config.migrations_of(&db.config).to_path_buf(),
            (None, None) => self.root.join("migrations"),
        }
    }

    /// Every migration set the configured databases use, with their databases, in the order of
    /// their first database.
    pub fn sets(&self) -> Vec<SetInfo> {
        let mut sets: Vec<SetInfo> = Vec::new();
        let Some(config) = &self.config else {
            return vec![SetInfo {
                dir: self.default_dir(),
                databases: Vec::new(),
            }];
        };
        // A tenant set is listed by its name: its tenants share its set.
        let names = config.databases.keys().chain(config.tenants.keys());
        for name in names {
            let Ok(dir) = self.dir_of_name(name) else {
                continue;
            };
            match sets.iter_mut().find(|s| s.dir == dir) {
                Some(set) => set.databases.push(name.to_string()),
                None => sets.push(SetInfo {
                    dir,
                    databases: vec![name.to_string()],
                }),
            }
        }
        sets
    }

    pub(crate) fn default_dir(&self) -> PathBuf {
        match (&self.migrations, &self.config) {
            (Some(dir), _) => dir.clone(),
            (None, Some(config)) => config.migrations.clone(),
            (None, None) => self.root.join("migrations"),
        }
    }

    /// The set a graph command works on: the set of the databases named (they must share
    /// one), else the project's only set. Several sets and no database named is an error
    /// listing them.
    pub fn set_dir(&self, databases: &[String]) -> Result<PathBuf, Error> {
        if self.migrations.is_some() || self.config.is_none() {
            return Ok(self.default_dir());
        }
        if !databases.is_empty() {
            let mut dirs: Vec<PathBuf> = databases
                .iter()
                .map(|name| self.dir_of_name(name))
                .collect::<Result<_, _>>()?;
            dirs.sort();
            dirs.dedup();
            return match dirs.as_slice() {
                [one] => Ok(one.clone()),
                _ => Err(Error::MixedSets {
                    databases: databases.to_vec(),
                }),
            };
        }
        let mut sets = self.sets();
        match sets.len() {
            0 => Ok(self.default_dir()),
            1 => Ok(sets.remove(0).dir),
            _ => Err(Error::SeveralSets { sets }),
        }
    }

    /// The graph of the migrations directory `dir`.
    pub fn graph(&self, dir: &Path) -> Result<Graph, Error> {
        Ok(braid_source::load(dir)?)
    }

    /// The graph of `dir`, or an empty one when `dir` holds no revision yet (the first
    /// `generate` of a project).
    pub fn graph_or_empty(&self, dir: &Path) -> Result<Graph, Error> {
        let has_revisions = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.path().join(braid_source::METADATA_FILE).is_file())
            })
            .unwrap_or(false);
        if has_revisions {
            self.graph(dir)
        } else {
            Ok(Graph::build(Vec::new())?)
        }
    }

    /// The graph of every set the `databases` use, each loaded once. A set that does not
    /// load fails its own databases, not the others'.
    pub(crate) fn load_sets(&self, databases: &[Database<'_>]) -> Sets {
        let mut sets = BTreeMap::new();
        for db in databases {
            let dir = self.dir_of(db);
            if let std::collections::btree_map::Entry::Vacant(slot) = sets.entry(dir) {
                let graph = self.graph(slot.key());
                slot.insert(graph);
            }
        }
        sets
    }

    /// Writes a new revision in the set of `databases` (see [`Project::set_dir`]).
    pub fn generate(
        &self,
        databases: &[String],
        request: &crate::GenerateRequest,
    ) -> Result<crate::Written, Error> {
        let dir = self.set_dir(databases)?;
        crate::authoring::generate(&self.graph_or_empty(&dir)?, &dir, request)
    }

    /// Writes a merge revision in the set of `databases`, after reading what the branches it
    /// joins both touch ([`crate::overlap`]): a conflicting overlap refuses the merge unless
    /// `request.allow_overlap` gives a reason. The report comes back with the revision.
    pub fn merge(
        &self,
        databases: &[String],
        request: &crate::MergeRequest,
    ) -> Result<crate::Written, Error> {
        use crate::authoring::AuthoringError;
        if request
            .allow_overlap
            .as_ref()
            .is_some_and(|r| r.trim().is_empty())
        {
            return Err(AuthoringError::EmptyOverlapReason.into());
        }
        let dir = self.set_dir(databases)?;
        let graph = self.graph(&dir)?;
        let report = self.overlaps_in(&dir, &graph, databases, &request.revisions)?;
        if report.conflicting() && request.allow_overlap.is_none() {
            return Err(AuthoringError::Overlapping(Box::new(report)).into());
        }
        let mut written = crate::authoring::merge(&graph, &dir, request)?;
        written.overlaps = Some(report);
        Ok(written)
    }

    /// Rewrites the heads file of the set of `databases` from its graph
    /// ([`crate::heads_file`]), and returns its path.
    pub fn write_heads_file(&self, databases: &[String]) -> Result<PathBuf, Error> {
        let dir = self.set_dir(databases)?;
        crate::heads_file::refresh(&dir)
    }

    /// The built-in drivers of this binary and the plugins the config names.
    pub fn drivers(&self) -> Vec<crate::DriverInfo> {
        crate::drivers::list(self.config.as_ref())
    }
}
