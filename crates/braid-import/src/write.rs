//! Writing an imported [`History`] as Braid revisions, and [`MAP_FILE`] beside them.

use std::path::{Path, PathBuf};

use braid_driver::Dialect;
use braid_graph::{Graph, Revision};
use braid_source::{NewBody, NewRevision, SourceError, UNWRITTEN_MARK};

use crate::{Body, History, ImportMap, Imported, MAP_FILE, MapEntry, Sql, Tool};

/// What [`write()`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub tool: Tool,
    /// One per imported revision, in the source's order.
    pub revisions: Vec<WrittenRevision>,
    /// The [`MAP_FILE`] written.
    pub map: PathBuf,
}

/// One revision written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenRevision {
    pub id: String,
    /// The source's key (its version table's value).
    pub key: String,
    /// The revision directory.
    pub dir: PathBuf,
    /// What the user must do before it can run; empty when nothing.
    pub needs: Vec<Need>,
}

/// Something an imported revision needs from the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Its body could not be translated; the original is beside the refusing SQL files.
    Untranslated { file: PathBuf, reason: String },
    /// The source had no down migration; `down.sql` refuses until written.
    NoDown,
    /// The source's SQL was not rendered for these dialects; their files refuse until written.
    NotRendered(Vec<Dialect>),
    /// The source's key is not a valid Braid id; the revision has another id (see the map).
    IdMapped,
}

/// A problem writing an import.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{} already holds {count} revision(s); import into a new, empty migrations directory \
         (`--migrations DIR`)",
        dir.display()
    )]
    NotEmpty { dir: PathBuf, count: usize },
    #[error("the imported {tool} history is not a valid graph: {source}")]
    Graph {
        tool: Tool,
        #[source]
        source: braid_graph::GraphError,
    },
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes `history` as revision directories under `dir` (created if missing, and required to
/// hold no revisions yet), then [`MAP_FILE`]. The graph is checked first, so a broken source
/// history writes nothing.
pub fn write(history: &History, dir: &Path, now: jiff::Timestamp) -> Result<Written, WriteError> {
    check_graph(history)?;
    check_empty(dir)?;
    let mut revisions = Vec::with_capacity(history.revisions.len());
    for rev in &history.revisions {
        revisions.push(write_one(history.tool, rev, dir, now)?);
    }
    let map = ImportMap {
        tool: history.tool,
        revisions: history
            .revisions
            .iter()
            .map(|r| MapEntry {
                key: r.key.clone(),
                id: r.id.clone(),
                name: r.name.clone(),
                untranslated: matches!(r.body, Body::Untranslated { .. }),
            })
            .collect(),
    };
    let path = dir.join(MAP_FILE);
    std::fs::write(&path, map.to_toml()).map_err(|source| WriteError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Written {
        tool: history.tool,
        revisions,
        map: path,
    })
}

fn check_graph(history: &History) -> Result<(), WriteError> {
    let revisions = history
        .revisions
        .iter()
        .map(|r| {
            let mut rev = Revision::new(r.id.clone(), &[]);
            rev.parents = r.parents.clone();
            rev.depends_on = r.depends_on.clone();
            rev.branch_labels = r.branch_labels.clone();
            rev.origin = Some(r.origin.clone());
            rev
        })
        .collect();
    Graph::build(revisions).map_err(|source| WriteError::Graph {
        tool: history.tool,
        source,
    })?;
    Ok(())
}

fn check_empty(dir: &Path) -> Result<(), WriteError> {
    let count = match braid_source::load_revisions(dir) {
        Ok(revisions) => revisions.len(),
        // A missing directory is created; an empty one is what we want.
        Err(SourceError::MissingDir { .. } | SourceError::Empty { .. }) => 0,
        Err(e) => return Err(e.into()),
    };
    if count > 0 {
        return Err(WriteError::NotEmpty {
            dir: dir.to_path_buf(),
            count,
        });
    }
    Ok(())
}

fn write_one(
    tool: Tool,
    rev: &Imported,
    dir: &Path,
    now: jiff::Timestamp,
) -> Result<WrittenRevision, WriteError> {
    let new = NewRevision {
        id: rev.id.clone(),
        parents: rev.parents.clone(),
        depends_on: rev.depends_on.clone(),
        branch_labels: rev.branch_labels.clone(),
        message: rev.message.clone(),
        created: rev.created.unwrap_or(now),
        transactional: rev.transactional,
        allow_overlap: None,
        phase: None,
    };
    let mut needs = Vec::new();
    if rev.id != rev.key {
        needs.push(Need::IdMapped);
    }
    let body = match &rev.body {
        Body::Sql { up, down } => {
            let missing = not_rendered_dialects([Some(up), down.as_ref()]);
            if !missing.is_empty() {
                needs.push(Need::NotRendered(missing));
            }
            let mut files = sql_files(tool, "up", up);
            match down {
                Some(down) => files.extend(sql_files(tool, "down", down)),
                None => {
                    needs.push(Need::NoDown);
                    files.push(("down.sql".to_string(), no_down(tool, rev)));
                }
            }
            NewBody::Sql(files)
        }
        Body::Rust { source } => NewBody::Rust {
            source: source.clone(),
            beside: Vec::new(),
        },
        Body::Untranslated {
            file_name,
            text,
            reason,
        } => {
            let refusal = untranslated(tool, file_name, reason);
            NewBody::Sql(vec![
                ("up.sql".to_string(), refusal.clone()),
                ("down.sql".to_string(), refusal),
                (file_name.clone(), text.clone()),
            ])
        }
    };
    let written = braid_source::write_revision_with(dir, &new, &body)?;
    if let Body::Untranslated {
        file_name, reason, ..
    } = &rev.body
    {
        needs.push(Need::Untranslated {
            file: written.dir.join(file_name),
            reason: reason.clone(),
        });
    }
    Ok(WrittenRevision {
        id: rev.id.clone(),
        key: rev.key.clone(),
        dir: written.dir,
        needs,
    })
}

/// `up.sql`, or `up.<dialect>.sql` per dialect. A revision without a generic file needs one
/// per dialect: a dialect the source's SQL was not rendered for gets a file that refuses to run
/// and says how to render it.
fn sql_files(tool: Tool, direction: &str, sql: &Sql) -> Vec<(String, String)> {
    match sql {
        Sql::Every(text) => vec![(format!("{direction}.sql"), text.clone())],
        Sql::PerDialect(texts) => Dialect::ALL
            .iter()
            .map(|dialect| {
                let text = texts
                    .iter()
                    .find(|(d, _)| d == dialect)
                    .map(|(_, text)| text.clone())
                    .unwrap_or_else(|| not_rendered(tool, *dialect));
                (format!("{direction}.{dialect}.sql"), text)
            })
            .collect(),
    }
}

/// The dialects that per-dialect SQL (of either direction) has no text for.
fn not_rendered_dialects(sql: [Option<&Sql>; 2]) -> Vec<Dialect> {
    Dialect::ALL
        .into_iter()
        .filter(|dialect| {
            sql.iter().flatten().any(|sql| match sql {
                Sql::Every(_) => false,
                Sql::PerDialect(texts) => !texts.iter().any(|(d, _)| d == dialect),
            })
        })
        .collect()
}

/// The file of a dialect the source's SQL was not rendered for.
fn not_rendered(tool: Tool, dialect: Dialect) -> String {
    format!(
        "{UNWRITTEN_MARK}: the {tool} SQL was not rendered for {dialect}; import again with \
         `--dialects` naming {dialect}, or write this file, then delete this line.\n"
    )
}

/// The down migration of a revision whose source had none: it refuses to run.
fn no_down(tool: Tool, rev: &Imported) -> String {
    format!(
        "{UNWRITTEN_MARK}: {tool} had no down migration for {key}; write the SQL that undoes \
         up.sql here, then delete this line.\n",
        key = rev.key,
    )
}

/// Both SQL files of a revision whose body could not be translated: they refuse to run.
fn untranslated(tool: Tool, file_name: &str, reason: &str) -> String {
    format!(
        "{UNWRITTEN_MARK}: the {tool} body ({file_name}, beside this file) was not translated \
         to SQL ({reason}); write this file from it, then delete this line.\n"
    )
}
