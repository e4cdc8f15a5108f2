//! Reading an Alembic project as Braid revisions.
//!
//! # The graph
//!
//! The revision files are found the way Alembic finds them: `alembic.ini`'s `script_location`
//! (with `%(here)s`) and `version_locations` when set, else `<script_location>/versions`.
//! Braid can also be pointed at the ini file itself, or at a script directory (one holding
//! `env.py` or `versions/`) when there is no ini. Each `*.py` file there (but `__init__.py`) is
//! read without running it: its module-level `revision`, `down_revision`, `branch_labels` and
//! `depends_on` (annotated or not, a string, `None`, or a tuple or list of strings) and its
//! docstring, whose first line is the message and whose `Create Date:` is the creation time.
//! The revisions come out parents first (dependencies too), ties kept in file-name order.
//! Alembic's ids are valid Braid ids; a branch label that is not (`feature-x`) is mapped as ids
//! are ([`braid_id`]: `feature_x`), in `depends_on` too, unless that name is taken.
//!
//! # The bodies
//!
//! An Alembic body is Python, and Braid runs SQL. Alembic itself renders the SQL, in its
//! offline mode (`--sql`), once per dialect in [`AlembicOptions::dialects`]: each run gets a
//! copy of the ini (in a private temporary directory, with `%(here)s` spelled out so its paths
//! still resolve) whose `sqlalchemy.url` names that dialect, which the standard `env.py`
//! hands to `context.configure` in offline mode. Offline mode only needs the dialect's name:
//! no server, and no Python database driver.
//!
//! One run renders a whole history: `alembic -c <ini> upgrade base:heads --sql` prints every
//! revision's statements, each revision's preceded by a `-- Running upgrade FROM -> TO`
//! comment, branches and merges included; `alembic -c <ini> downgrade H:base --sql` does the
//! same going down from a head `H` (one run per head: Alembic will not start a downgrade from
//! several). The output is cut at those comments, and Alembic's own statements (`BEGIN;`,
//! `COMMIT;`, and everything on its version table: `alembic_version`, or the one `env.py`
//! names, as the upgrade's `CREATE TABLE` shows) are dropped; the user's statements are kept
//! byte for byte. A revision inside which Alembic commits (an `autocommit_block()`, for
//! `CREATE INDEX CONCURRENTLY` say) runs outside a transaction. So a project costs two runs
//! per dialect (plus one per extra head), run at the same time. Only when a revision fails to render (a body that reads the database, which
//! offline mode cannot do) are further runs made to render the rest; see `render`.
//!
//! A revision any of whose SQL could not be rendered (or every revision, when Alembic could
//! not run at all) becomes [`Body::Untranslated`]: its Python file, and why. A downgrade that
//! raises `NotImplementedError` (Alembic's idiom for an irreversible revision) is read as no
//! down migration.

mod ini;
mod layout;
mod output;
mod python;
mod render;
mod run;
mod script;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::path::Path;

use braid_driver::Dialect;

use crate::{Body, History, ImportError, Imported, Sql, Tool, braid_id};
use braid_graph::validate_id;
use output::Direction;
use render::{Node, Outcome, Outcomes};
use script::Script;

/// How to get Alembic revisions' SQL.
#[derive(Debug, Clone, Default)]
pub struct AlembicOptions {
    /// The command that runs Alembic: a program and the arguments before Alembic's own
    /// (`["python3", "-m", "alembic"]`, `["poetry", "run", "alembic"]`). `None` (or empty):
    /// `alembic` when it is on `PATH`, else `python3 -m alembic`.
    pub command: Option<Vec<String>>,
    /// The dialects to render SQL for; empty means every dialect Braid has.
    pub dialects: Vec<Dialect>,
}

impl AlembicOptions {
    /// The dialects to render, each once, in Braid's order.
    fn dialects(&self) -> Vec<Dialect> {
        Dialect::ALL
            .into_iter()
            .filter(|d| self.dialects.is_empty() || self.dialects.contains(d))
            .collect()
    }
}

/// Reads the Alembic project at `dir` (see the module docs for what it may be).
pub(crate) fn read(dir: &Path, options: &AlembicOptions) -> Result<History, ImportError> {
    let layout = layout::find(dir)?;
    let files = layout::revision_files(&layout)?;
    let scripts = files
        .iter()
        .map(|f| script::read(f))
        .collect::<Result<Vec<_>, _>>()?;
    if scripts.is_empty() {
        return Err(ImportError::Empty {
            tool: Tool::Alembic,
            dir: layout
                .versions
                .first()
                .cloned()
                .unwrap_or_else(|| dir.to_path_buf()),
            hint: "Alembic keeps its revisions in <script_location>/versions (or \
                   version_locations): is this the right project?"
                .to_string(),
        });
    }
    let ids = ids(&scripts)?;
    let scripts = in_order(scripts, &ids);
    let bodies = bodies(&layout, &scripts, &ids, options)?;
    let revisions = scripts
        .into_iter()
        .zip(bodies)
        .map(|(script, (body, transactional))| imported(script, body, transactional, &ids))
        .collect();
    Ok(History {
        tool: Tool::Alembic,
        source: dir.to_path_buf(),
        revisions,
        skipped: Vec::new(),
    })
}

/// How the Alembic ids and labels of a project map to Braid's.
struct Ids {
    /// Alembic revision id → Braid id.
    by_key: HashMap<String, String>,
    /// Every branch label declared → the Alembic id of the revision declaring it.
    labels: HashMap<String, String>,
    /// Every branch label declared → its Braid form (itself when valid, else mapped).
    label_ids: HashMap<String, String>,
}

impl Ids {
    /// A parent's Braid id. An unknown one is mapped all the same; building the graph reports
    /// it with the file that names it.
    fn parent(&self, key: &str) -> String {
        self.by_key
            .get(key)
            .cloned()
            .unwrap_or_else(|| braid_id(key))
    }

    /// A branch label's Braid form.
    fn label(&self, label: &str) -> String {
        self.label_ids
            .get(label)
            .cloned()
            .unwrap_or_else(|| label.to_string())
    }

    /// A `depends_on` entry's Braid form: the Braid id of the revision it names, or a branch
    /// label's Braid form (Braid resolves labels the same way). Anything else is kept for the
    /// graph to report.
    fn dependency(&self, value: &str) -> String {
        match self.resolve(value) {
            Dependency::Revision(key) => self.parent(&key),
            Dependency::Label(label) => self.label(&label),
            Dependency::Unknown(value) => value,
        }
    }

    /// A `depends_on` entry as Alembic resolves it: a revision id, a branch label, or a unique
    /// prefix of a revision id (four characters at least).
    fn resolve(&self, value: &str) -> Dependency {
        if self.by_key.contains_key(value) {
            return Dependency::Revision(value.to_string());
        }
        if self.labels.contains_key(value) {
            return Dependency::Label(value.to_string());
        }
        match self.by_prefix(value) {
            Some(key) => Dependency::Revision(key),
            None => Dependency::Unknown(value.to_string()),
        }
    }

    /// The Alembic id of the revision a `depends_on` entry makes this one wait for (for a
    /// label, the revision declaring it).
    fn dependency_key(&self, value: &str) -> Option<String> {
        match self.resolve(value) {
            Dependency::Revision(key) => Some(key),
            Dependency::Label(label) => self.labels.get(&label).cloned(),
            Dependency::Unknown(_) => None,
        }
    }

    fn by_prefix(&self, prefix: &str) -> Option<String> {
        if prefix.len() < 4 {
            return None;
        }
        let mut matching = self.by_key.keys().filter(|k| k.starts_with(prefix));
        match (matching.next(), matching.next()) {
            (Some(key), None) => Some(key.clone()),
            _ => None,
        }
    }
}

/// What a `depends_on` entry names.
enum Dependency {
    /// A revision, by its Alembic id.
    Revision(String),
    Label(String),
    Unknown(String),
}

/// Maps every revision id, refusing one defined twice and two that map to the same Braid id.
fn ids(scripts: &[Script]) -> Result<Ids, ImportError> {
    let mut by_key: HashMap<String, String> = HashMap::new();
    let mut owner_of_id: HashMap<String, &Script> = HashMap::new();
    let mut owner_of_key: HashMap<&str, &Script> = HashMap::new();
    for script in scripts {
        if let Some(first) = owner_of_key.insert(&script.revision, script) {
            return Err(ImportError::Duplicate {
                tool: Tool::Alembic,
                key: script.revision.clone(),
                first: first.path.clone(),
                second: script.path.clone(),
            });
        }
        let id = braid_id(&script.revision);
        if let Some(first) = owner_of_id.insert(id.clone(), script) {
            return Err(ImportError::Parse {
                path: script.path.clone(),
                line: None,
                problem: format!(
                    "revision '{}' would become Braid id '{id}', as revision '{}' ({}) does; \
                     give one of them another revision id",
                    script.revision,
                    first.revision,
                    first.path.display()
                ),
            });
        }
        by_key.insert(script.revision.clone(), id);
    }
    let labels = scripts
        .iter()
        .flat_map(|s| {
            s.branch_labels
                .iter()
                .map(|l| (l.clone(), s.revision.clone()))
        })
        .collect();
    let label_ids = label_ids(scripts, &owner_of_id)?;
    Ok(Ids {
        by_key,
        labels,
        label_ids,
    })
}

/// Every branch label's Braid form: itself when it is a valid Braid label (labels follow the
/// rules of ids), else mapped as ids are. A mapped label that is still invalid, or that is
/// taken by a revision id or another label, is refused with a name to rename it to (Alembic keeps labels in the files only, so renaming one changes no database).
fn label_ids(
    scripts: &[Script],
    revision_ids: &HashMap<String, &Script>,
) -> Result<HashMap<String, String>, ImportError> {
    let declared: HashMap<&str, &Script> = scripts
        .iter()
        .flat_map(|s| s.branch_labels.iter().map(move |l| (l.as_str(), s)))
        .collect();
    let mut label_ids: HashMap<String, String> = HashMap::new();
    let mut owner_of_label: HashMap<String, (&str, &Script)> = HashMap::new();
    for script in scripts {
        for label in &script.branch_labels {
            if validate_id(label).is_ok() {
                label_ids.insert(label.clone(), label.clone());
                continue;
            }
            let mapped = braid_id(label);
            let refuse = |why: String| ImportError::Parse {
                path: script.path.clone(),
                line: None,
                problem: format!(
                    "branch label '{label}' {why}; rename it in this file (to '{}', say) and \
                     in the depends_on that name it, then import again",
                    free_label(&mapped, revision_ids, &declared)
                ),
            };
            if let Err(reason) = validate_id(&mapped) {
                return Err(refuse(format!("cannot be a Braid label: {reason}")));
            }
            let taken = if let Some(owner) = revision_ids.get(&mapped) {
                Some(format!(
                    "revision '{}' ({})",
                    owner.revision,
                    owner.path.display()
                ))
            } else if let Some(owner) = declared.get(mapped.as_str()) {
                Some(format!("a label of {}", owner.path.display()))
            } else {
                owner_of_label
                    .get(&mapped)
                    .filter(|(other, _)| other != label)
                    .map(|(other, owner)| {
                        format!("what label '{other}' ({}) becomes", owner.path.display())
                    })
            };
            if let Some(taken) = taken {
                return Err(refuse(format!(
                    "is not a valid Braid label (labels follow the rules of ids) and would \
                     become '{mapped}', which is already {taken}"
                )));
            }
            owner_of_label.insert(mapped.clone(), (label.as_str(), script));
            label_ids.insert(label.clone(), mapped);
        }
    }
    Ok(label_ids)
}

/// A valid Braid label based on `mapped` that no revision or label has: `<mapped>_branch`,
/// numbered if need be.
fn free_label(
    mapped: &str,
    revision_ids: &HashMap<String, &Script>,
    declared: &HashMap<&str, &Script>,
) -> String {
    let base: String = mapped
        .chars()
        .take(braid_graph::MAX_ID_LEN - "_branch_99".len())
        .collect();
    (1..100)
        .map(|n| match n {
            1 => format!("{base}_branch"),
            n => format!("{base}_branch_{n}"),
        })
        .find(|c| !revision_ids.contains_key(c) && !declared.contains_key(c.as_str()))
        .unwrap_or_else(|| format!("{base}_branch"))
}

/// `scripts` (sorted by file name) reordered so that every revision comes after its parents
/// and dependencies; among those ready, the first by file name goes first. Revisions caught in
/// a cycle keep file order at the end (building the graph reports the cycle).
fn in_order(scripts: Vec<Script>, ids: &Ids) -> Vec<Script> {
    let index: HashMap<&str, usize> = scripts
        .iter()
        .enumerate()
        .map(|(i, s)| (s.revision.as_str(), i))
        .collect();
    let before: Vec<BTreeSet<usize>> = scripts
        .iter()
        .map(|s| {
            let deps = s
                .depends_on
                .iter()
                .filter_map(|d| index.get(ids.dependency_key(d)?.as_str()).copied());
            s.down_revisions
                .iter()
                .filter_map(|p| index.get(p.as_str()).copied())
                .chain(deps)
                .collect()
        })
        .collect();
    let order = topological(&before);
    let mut slots: Vec<Option<Script>> = scripts.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Indices in an order where each comes after everything in its `before` set (Kahn's
/// algorithm, the lowest ready index first); whatever a cycle holds back, at the end in index
/// order.
fn topological(before: &[BTreeSet<usize>]) -> Vec<usize> {
    let mut waiting: Vec<usize> = before
        .iter()
        .enumerate()
        .map(|(i, b)| b.iter().filter(|&&j| j != i && j < before.len()).count())
        .collect();
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); before.len()];
    for (i, b) in before.iter().enumerate() {
        for &j in b.iter().filter(|&&j| j != i && j < before.len()) {
            after[j].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..before.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut placed = vec![false; before.len()];
    let mut order = Vec::with_capacity(before.len());
    while let Some(Reverse(i)) = ready.pop() {
        placed[i] = true;
        order.push(i);
        for &next in &after[i] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    order.extend((0..before.len()).filter(|&i| !placed[i]));
    order
}

/// Each script's body, in order (its SQL rendered by Alembic, or its Python when that fails),
/// and whether it runs in a transaction.
fn bodies(
    layout: &layout::Layout,
    scripts: &[Script],
    ids: &Ids,
    options: &AlembicOptions,
) -> Result<Vec<(Body, bool)>, ImportError> {
    let dialects = options.dialects();
    if !layout.has_env() {
        let reason = format!(
            "there is no env.py in {}, and Alembic needs one to render SQL; import from the \
             directory holding alembic.ini",
            layout.script_dir.display()
        );
        return Ok(scripts
            .iter()
            .map(|s| (untranslated(s, &reason), true))
            .collect());
    }
    let alembic = run::Alembic::resolve(options.command.as_deref());
    let scratch = run::Scratch::new(layout, &dialects)?;
    let nodes: Vec<Node> = scripts
        .iter()
        .map(|s| Node {
            key: s.revision.clone(),
            parents: s.down_revisions.clone(),
            dependencies: s
                .depends_on
                .iter()
                .filter_map(|d| ids.dependency_key(d))
                .collect(),
        })
        .collect();
    let outcomes = render::render(&nodes, &dialects, &alembic, &scratch, &layout.source_dir);
    Ok(scripts
        .iter()
        .map(|s| body(s, &dialects, &outcomes))
        .collect())
}

/// One revision's body from its outcomes: SQL when every dialect rendered both ways (no down
/// when the downgrade is irreversible), else its Python with the first failure. With it,
/// whether the revision runs in a transaction: not when Alembic committed inside it, either
/// way, for any dialect.
fn body(script: &Script, dialects: &[Dialect], outcomes: &Outcomes) -> (Body, bool) {
    let up = sql(script, dialects, outcomes, Direction::Up);
    let down = sql(script, dialects, outcomes, Direction::Down);
    match (up, down) {
        (Ok(Some(up)), Ok(down)) => {
            let transactional = up.transactional
                && down.as_ref().is_none_or(|d| d.transactional)
                && !calls_autocommit_block(script);
            let body = Body::Sql {
                up: up.sql,
                down: down.map(|d| d.sql),
            };
            (body, transactional)
        }
        (Ok(None), _) => (
            untranslated(script, "its upgrade raised NotImplementedError"),
            true,
        ),
        (Err(reason), _) | (_, Err(reason)) => (untranslated(script, &reason), true),
    }
}

/// One direction's SQL, and whether every dialect's may run in a transaction.
struct Rendered {
    sql: Sql,
    transactional: bool,
}

/// The SQL of one direction: `Ok(None)` when the downgrade is irreversible, `Err` with why when
/// a dialect failed. One text for every dialect when all of Braid's dialects rendered alike, or
/// when the function does nothing.
fn sql(
    script: &Script,
    dialects: &[Dialect],
    outcomes: &Outcomes,
    direction: Direction,
) -> Result<Option<Rendered>, String> {
    let mut texts: Vec<(Dialect, String)> = Vec::new();
    let mut all_transactional = true;
    for &dialect in dialects {
        match outcomes.get(dialect, direction, &script.revision) {
            Some(Outcome::Sql {
                text,
                transactional,
            }) => {
                texts.push((dialect, text.clone()));
                all_transactional &= transactional;
            }
            Some(Outcome::Irreversible) => return Ok(None),
            Some(Outcome::Unreached(_)) if does_nothing(script, direction) => {
                texts.push((dialect, String::new()));
            }
            Some(Outcome::Failed(why) | Outcome::Unreached(why)) => {
                return Err(format!("{} for {dialect}: {why}", direction.command()));
            }
            None => {
                return Err(format!(
                    "{} for {dialect}: Alembic rendered nothing for it",
                    direction.command()
                ));
            }
        }
    }
    let all_alike = texts.windows(2).all(|w| w[0].1 == w[1].1);
    // A function that is only `pass` (a merge's) is empty on every dialect, rendered or not.
    let empty_everywhere =
        does_nothing(script, direction) && texts.iter().all(|(_, t)| t.trim().is_empty());
    let sql = if empty_everywhere {
        Sql::Every(String::new())
    } else if texts.len() == Dialect::ALL.len() && all_alike {
        let text = texts.into_iter().next().map(|(_, t)| t).unwrap_or_default();
        Sql::Every(text)
    } else {
        Sql::PerDialect(texts)
    };
    Ok(Some(Rendered {
        sql,
        transactional: all_transactional,
    }))
}

/// Whether the script commits inside itself. Alembic prints the `COMMIT;`/`BEGIN;` around an
/// `autocommit_block()` only for dialects with transactional DDL (Postgres), so a project
/// rendered for MySQL or SQLite alone shows it only in its source.
fn calls_autocommit_block(script: &Script) -> bool {
    script.source.contains("autocommit_block(")
}

/// Whether the script's function for `direction` is empty (`pass`), so its SQL is empty.
fn does_nothing(script: &Script, direction: Direction) -> bool {
    match direction {
        Direction::Up => script.upgrade_does_nothing,
        Direction::Down => script.downgrade_does_nothing,
    }
}

/// The Python file as it is, with why it was not translated (on one line: it is written into a
/// SQL comment).
fn untranslated(script: &Script, reason: &str) -> Body {
    let file_name = script
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{}.py", script.revision));
    Body::Untranslated {
        file_name,
        text: script.source.clone(),
        reason: reason.replace(['\n', '\r'], " "),
    }
}

fn imported(script: Script, body: Body, transactional: bool, ids: &Ids) -> Imported {
    Imported {
        id: ids.parent(&script.revision),
        // Alembic's version table records the id alone; there is no name to keep.
        name: String::new(),
        parents: script
            .down_revisions
            .iter()
            .map(|p| ids.parent(p))
            .collect(),
        depends_on: script
            .depends_on
            .iter()
            .map(|d| ids.dependency(d))
            .collect(),
        branch_labels: script.branch_labels.iter().map(|l| ids.label(l)).collect(),
        message: script.message,
        created: script.created,
        transactional,
        body,
        origin: script.path,
        key: script.revision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topological_keeps_file_order_among_ready() {
        let before = vec![
            BTreeSet::from([2]),
            BTreeSet::new(),
            BTreeSet::from([1]),
            BTreeSet::from([3]),
        ];
        assert_eq!(topological(&before), vec![1, 2, 0, 3]);
    }

    #[test]
    fn an_autocommit_block_is_seen_in_the_source() {
        let source = "revision = 'a1'\ndown_revision = None\n\ndef upgrade():\n    \
                      with op.get_context().autocommit_block():\n        \
                      op.execute('VACUUM')\n\ndef downgrade():\n    pass\n";
        let script = script::parse(Path::new("a1_vacuum.py"), source.to_string()).unwrap();
        assert!(calls_autocommit_block(&script));
        let plain = source.replace("with op.get_context().autocommit_block():", "if True:");
        let script = script::parse(Path::new("a1_vacuum.py"), plain).unwrap();
        assert!(!calls_autocommit_block(&script));
    }

    #[test]
    fn fixture_files_are_found() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/alembic");
        let files = layout::revision_files(&layout::find(&dir).unwrap()).unwrap();
        assert_eq!(files.len(), 6);
    }
}
