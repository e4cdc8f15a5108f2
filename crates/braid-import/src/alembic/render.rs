//! Every revision's SQL per dialect and direction, from as few Alembic runs as possible.
//!
//! Each (dialect, direction) is a [`Track`] that goes through stages, and every round runs the
//! jobs of all tracks at once:
//!
//! 1. **Whole history**: `upgrade base:heads --sql`, and `downgrade H:base --sql` for each head
//!    `H` (Alembic refuses `heads:base` when there are several). Usually this renders
//!    everything.
//! 2. **Resume** after a failure: the revision Alembic was rendering when it stopped is the one
//!    that failed (its comment was the last printed). Going up, `F:heads` treats `F` as applied
//!    and renders everything else; going down, `M:base` for each revision `M` still to render
//!    that no other such revision has as parent. Repeated while a round renders something new.
//! 3. **One by one**, for what is left: `P:R` up and `R:P` down (`P` its first parent, or
//!    `base`), keeping whatever pieces come back.
//!
//! A run that fails before starting any revision (Alembic missing, an `env.py` that cannot run
//! offline) fails every revision still to render on that track with its message.
//!
//! The version table whose statements are dropped is learned from each dialect's first upgrade
//! (the `CREATE TABLE` it prints before the first revision), before any output of that round is
//! cut: downgrades print no `CREATE TABLE`.

use std::collections::{BTreeSet, HashMap};

use braid_driver::Dialect;

use super::output::{self, Direction, VersionTable};
use super::run::{self, Alembic, Job, Scratch};

/// A revision as rendering needs it: its Alembic id, its parents' and its dependencies'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub key: String,
    pub parents: Vec<String>,
    pub dependencies: Vec<String>,
}

/// What one dialect and direction gave for one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The revision's SQL, and whether it may run in a transaction (false when Alembic
    /// committed inside it: an `autocommit_block()`).
    Sql { text: String, transactional: bool },
    /// Alembic could not render it: why, in one line.
    Failed(String),
    /// Alembic stopped at another revision before it got to this one: why, in one line.
    Unreached(String),
    /// The downgrade raises `NotImplementedError`: the revision has no down migration.
    Irreversible,
}

/// Every outcome, by dialect, direction and Alembic id.
#[derive(Debug, Default)]
pub(super) struct Outcomes {
    map: HashMap<(Dialect, Direction, String), Outcome>,
}

impl Outcomes {
    pub fn get(&self, dialect: Dialect, direction: Direction, key: &str) -> Option<&Outcome> {
        self.map.get(&(dialect, direction, key.to_string()))
    }
}

/// Renders every node for every dialect in both directions.
pub(super) fn render(
    nodes: &[Node],
    dialects: &[Dialect],
    alembic: &Alembic,
    scratch: &Scratch,
    cwd: &std::path::Path,
) -> Outcomes {
    let graph = Graph::new(nodes);
    let mut tracks: Vec<Track> = dialects
        .iter()
        .flat_map(|&d| [Direction::Up, Direction::Down].map(|dir| Track::new(d, dir)))
        .collect();
    if nodes.is_empty() {
        return Outcomes::default();
    }
    let mut tables: HashMap<Dialect, VersionTable> = HashMap::new();
    loop {
        let mut jobs: Vec<(usize, Job, Option<String>)> = Vec::new();
        for (i, track) in tracks.iter_mut().enumerate() {
            for (job, single) in track.jobs(&graph) {
                jobs.push((i, job, single));
            }
        }
        if jobs.is_empty() {
            break;
        }
        let list: Vec<Job> = jobs.iter().map(|(_, j, _)| j.clone()).collect();
        let outputs = run::run_all(&list, alembic, scratch, cwd);
        for (job, output) in list.iter().zip(&outputs) {
            if job.direction == Direction::Up
                && !tables.contains_key(&job.dialect)
                && let Ok(output) = output
                && let Some(table) = VersionTable::learn(&String::from_utf8_lossy(&output.stdout))
            {
                tables.insert(job.dialect, table);
            }
        }
        for ((i, job, single), output) in jobs.into_iter().zip(outputs) {
            let table = version_table(&tables, job.dialect);
            tracks[i].absorb(&graph, &job, single.as_deref(), output, alembic, &table);
        }
        for track in &mut tracks {
            track.advance(&graph);
        }
    }
    let mut outcomes = Outcomes::default();
    for track in tracks {
        for (key, outcome) in track.done {
            outcomes
                .map
                .insert((track.dialect, track.direction, key), outcome);
        }
    }
    outcomes
}

/// The version table `dialect`'s output records in: the one its upgrade created, else one
/// another dialect's did (the same `env.py` configured both), else Alembic's default.
fn version_table(tables: &HashMap<Dialect, VersionTable>, dialect: Dialect) -> VersionTable {
    tables
        .get(&dialect)
        .or_else(|| Dialect::ALL.iter().find_map(|d| tables.get(d)))
        .cloned()
        .unwrap_or_default()
}

/// The revisions, with the lookups rendering needs.
struct Graph<'a> {
    nodes: &'a [Node],
    by_key: HashMap<&'a str, &'a Node>,
}

impl<'a> Graph<'a> {
    fn new(nodes: &'a [Node]) -> Self {
        let by_key = nodes.iter().map(|n| (n.key.as_str(), n)).collect();
        Graph { nodes, by_key }
    }

    fn knows(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// Where downgrades start: revisions no other revision builds on or depends on (a
    /// downgrade from a revision also undoes what it depends on).
    fn heads(&self) -> Vec<&'a str> {
        let below: BTreeSet<&str> = self
            .nodes
            .iter()
            .flat_map(|n| n.parents.iter().chain(&n.dependencies))
            .map(String::as_str)
            .collect();
        self.nodes
            .iter()
            .map(|n| n.key.as_str())
            .filter(|k| !below.contains(k))
            .collect()
    }

    /// The revisions of `keys` that none of `keys` has as a parent.
    fn tops(&self, keys: &BTreeSet<&'a str>) -> Vec<&'a str> {
        let below: BTreeSet<&str> = keys
            .iter()
            .filter_map(|k| self.by_key.get(k))
            .flat_map(|n| n.parents.iter().map(String::as_str))
            .collect();
        keys.iter()
            .copied()
            .filter(|k| !below.contains(k))
            .collect()
    }

    fn first_parent(&self, key: &str) -> &'a str {
        self.by_key
            .get(key)
            .and_then(|n| n.parents.first())
            .map_or("base", String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Whole,
    Resume,
    OneByOne,
    Finished,
}

/// One dialect and direction: what is rendered so far and what to run next.
struct Track {
    dialect: Dialect,
    direction: Direction,
    stage: Stage,
    done: HashMap<String, Outcome>,
    /// Revisions that failed in the last round (where going up resumes).
    failed_last: Vec<String>,
    /// Whether the last round rendered anything new.
    progressed: bool,
    /// Why a run failed before rendering any revision.
    environment: Option<String>,
    /// Why the one-by-one run of a revision failed, when it did not get to the revision.
    stopped: HashMap<String, String>,
}

impl Track {
    fn new(dialect: Dialect, direction: Direction) -> Self {
        Track {
            dialect,
            direction,
            stage: Stage::Whole,
            done: HashMap::new(),
            failed_last: Vec::new(),
            progressed: false,
            environment: None,
            stopped: HashMap::new(),
        }
    }

    fn remaining<'a>(&self, graph: &Graph<'a>) -> BTreeSet<&'a str> {
        graph
            .nodes
            .iter()
            .map(|n| n.key.as_str())
            .filter(|k| !self.done.contains_key(*k))
            .collect()
    }

    /// This round's jobs, each with the revision it is for when run one by one.
    fn jobs(&mut self, graph: &Graph) -> Vec<(Job, Option<String>)> {
        let ranges = match self.stage {
            Stage::Whole => self.whole_ranges(graph),
            Stage::Resume => self.resume_ranges(graph),
            Stage::OneByOne | Stage::Finished => Vec::new(),
        };
        self.failed_last.clear();
        if !ranges.is_empty() {
            return ranges.into_iter().map(|r| (self.job(r), None)).collect();
        }
        if matches!(self.stage, Stage::Whole | Stage::Resume) {
            self.stage = Stage::OneByOne;
        }
        if self.stage != Stage::OneByOne {
            return Vec::new();
        }
        self.remaining(graph)
            .into_iter()
            .map(|key| {
                let parent = graph.first_parent(key);
                let range = match self.direction {
                    Direction::Up => format!("{parent}:{key}"),
                    Direction::Down => format!("{key}:{parent}"),
                };
                (self.job(range), Some(key.to_string()))
            })
            .collect()
    }

    fn job(&self, range: String) -> Job {
        Job {
            dialect: self.dialect,
            direction: self.direction,
            range,
        }
    }

    fn whole_ranges(&self, graph: &Graph) -> Vec<String> {
        match self.direction {
            Direction::Up => vec!["base:heads".to_string()],
            Direction::Down => graph.heads().iter().map(|h| format!("{h}:base")).collect(),
        }
    }

    fn resume_ranges(&self, graph: &Graph) -> Vec<String> {
        match self.direction {
            Direction::Up => self
                .failed_last
                .iter()
                .map(|f| format!("{f}:heads"))
                .collect(),
            Direction::Down => graph
                .tops(&self.remaining(graph))
                .iter()
                .map(|m| format!("{m}:base"))
                .collect(),
        }
    }

    /// Takes in one run's output.
    fn absorb(
        &mut self,
        graph: &Graph,
        job: &Job,
        single: Option<&str>,
        output: std::io::Result<std::process::Output>,
        alembic: &Alembic,
        table: &VersionTable,
    ) {
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                self.environment.get_or_insert(format!(
                    "Alembic could not be started (`{}`: {e}); install it (`pip install \
                     alembic`) or set the command that runs it, then import again",
                    alembic.display()
                ));
                return;
            }
        };
        if let Some(used) = run::other_dialect(&output.stderr, self.dialect) {
            self.environment.get_or_insert(format!(
                "`{}` rendered with {used}, not for {}: env.py does not take its URL from \
                 sqlalchemy.url in alembic.ini, as the standard env.py does in offline mode; \
                 make it do so, or render only the dialect it uses, and import again",
                job.display(alembic),
                self.dialect
            ));
            return;
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut pieces = output::pieces(&text, self.direction, self.dialect, table);
        if !output.status.success() {
            let line = run::error_line(&output.stderr);
            let command = job.display(alembic);
            let failed = pieces.pop();
            if let Some(failed) = &failed {
                let outcome = if self.direction == Direction::Down
                    && line.starts_with("NotImplementedError")
                {
                    Outcome::Irreversible
                } else {
                    Outcome::Failed(format!(
                        "`{command}` failed on it: {line}; offline mode cannot run a body that \
                         reads the database, so write its SQL by hand"
                    ))
                };
                if self.record(graph, &failed.revision, outcome) {
                    self.failed_last.push(failed.revision.clone());
                }
            }
            match (single, &failed) {
                (Some(key), Some(failed)) if failed.revision != key => {
                    self.stopped.insert(
                        key.to_string(),
                        format!(
                            "Alembic never reached it: it stopped at {} first",
                            failed.revision
                        ),
                    );
                }
                (Some(key), None) => {
                    self.stopped
                        .insert(key.to_string(), format!("`{command}` failed: {line}"));
                }
                (None, None) => {
                    self.environment.get_or_insert(format!(
                        "`{command}` failed before rendering any revision: {line}; check that \
                         Alembic is installed (`pip install alembic`) and that env.py runs in \
                         offline mode, then import again"
                    ));
                }
                _ => {}
            }
        }
        for piece in pieces {
            let outcome = Outcome::Sql {
                text: piece.sql,
                transactional: piece.transactional,
            };
            self.record(graph, &piece.revision, outcome);
        }
    }

    /// Keeps the first outcome for a known revision; true when it is new.
    fn record(&mut self, graph: &Graph, key: &str, outcome: Outcome) -> bool {
        if !graph.knows(key) || self.done.contains_key(key) {
            return false;
        }
        self.done.insert(key.to_string(), outcome);
        self.progressed = true;
        true
    }

    /// After a round: the next stage, or failing what cannot be rendered.
    fn advance(&mut self, graph: &Graph) {
        let progressed = std::mem::take(&mut self.progressed);
        if self.stage == Stage::Finished {
            return;
        }
        let remaining: Vec<String> = self
            .remaining(graph)
            .into_iter()
            .map(str::to_string)
            .collect();
        if remaining.is_empty() {
            self.stage = Stage::Finished;
            return;
        }
        if let Some(reason) = self.environment.take() {
            self.finish(remaining, |_| Outcome::Failed(reason.clone()));
            return;
        }
        self.stage = match self.stage {
            Stage::Whole => Stage::Resume,
            Stage::Resume if progressed => Stage::Resume,
            Stage::Resume => Stage::OneByOne,
            Stage::OneByOne | Stage::Finished => {
                let stopped = std::mem::take(&mut self.stopped);
                self.finish(remaining, |key| {
                    Outcome::Unreached(stopped.get(key).cloned().unwrap_or_else(|| {
                        "Alembic never reached it: a revision it builds on failed to render"
                            .to_string()
                    }))
                });
                return;
            }
        };
    }

    /// Gives every revision in `keys` its outcome, and ends the track.
    fn finish(&mut self, keys: Vec<String>, outcome: impl Fn(&str) -> Outcome) {
        for key in keys {
            let outcome = outcome(&key);
            self.done.insert(key, outcome);
        }
        self.stage = Stage::Finished;
    }
}
