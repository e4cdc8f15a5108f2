//! The command line, as clap derive types. Nothing here does work; [`crate::run`] dispatches.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// The standalone `braid` binary: the same commands as `cargo xtask migrate`.
#[derive(Debug, Parser)]
#[command(
    name = "braid",
    about = "Database migrations over a version graph (Alembic's model), for every configured database",
    version
)]
pub struct Standalone {
    #[command(flatten)]
    pub args: Args,
}

/// `cargo xtask migrate …` in a workspace whose xtask is only Braid's.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
pub struct Xtask {
    #[command(subcommand)]
    pub task: XtaskTask,
}

#[derive(Debug, Subcommand)]
pub enum XtaskTask {
    /// Database migrations over a version graph (Alembic's model), for every configured database.
    Migrate(Args),
}

/// The whole command line: global options and one command. Embed it in your own clap parser
/// (`Migrate(braid_cli::Args)`) and hand it to [`crate::run`].
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every `migrate` command takes.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// The project root [default: $BRAID_ROOT, else the Cargo workspace around the current
    /// directory, else the current directory]. Relative paths in the config are relative to it.
    #[arg(long, value_name = "DIR", global = true)]
    pub root: Option<PathBuf>,
    /// Output format: human-readable text, or one JSON object on stdout for scripts and CI.
    #[arg(long, value_enum, default_value_t = Format::Human, global = true)]
    pub format: Format,
    /// The migrations directory [default: the config's `migrations`, else migrations/].
    #[arg(long, value_name = "DIR", global = true)]
    pub migrations: Option<PathBuf>,
    /// The config file [default: config/braid.toml under the project root].
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    /// The config profile [default: $BRAID_PROFILE, else `default`].
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,
    /// Act on this database only (repeatable) [default: every configured database]. Graph
    /// commands use its migration set.
    #[arg(long = "db", value_name = "NAME", global = true)]
    pub databases: Vec<String>,
    /// How many databases to migrate at once [default: the config's `jobs`].
    #[arg(long, value_name = "N", global = true)]
    pub jobs: Option<usize>,
    /// Stop starting new databases after the first one fails.
    #[arg(long, global = true)]
    pub fail_fast: bool,
    /// Stop starting new databases once K have failed.
    #[arg(long, value_name = "K", global = true)]
    pub max_failures: Option<usize>,
    /// Migrate the first N selected databases first, stopping on any failure; then the rest.
    #[arg(long, value_name = "N", global = true)]
    pub canary: Option<usize>,
    /// Only the databases whose stable hash falls in shard I of N (I from 0), e.g. a
    /// Kubernetes indexed Job's `--shard $JOB_COMPLETION_INDEX/8`.
    #[arg(long, value_name = "I/N", global = true)]
    pub shard: Option<braid::Shard>,
    /// The most connections to one server at once [default: the config's `max_connections`].
    #[arg(long, value_name = "N", global = true)]
    pub max_connections: Option<usize>,
    /// Write the run's record (per database: from, to, status, error) to PATH [default: a run
    /// over a tenant set writes .braid/last-run.json].
    #[arg(long, value_name = "PATH", global = true)]
    pub report: Option<PathBuf>,
    /// Run only the databases a run's record says did not finish (failed or not started).
    #[arg(
        long,
        value_name = "RECORD",
        global = true,
        conflicts_with = "databases"
    )]
    pub only_failed: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// GitHub Actions annotations (`::error file=…,line=…::…`) for `lint`; other commands
    /// print human text.
    Github,
}

/// A step of an expand/contract deploy, as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PhaseArg {
    /// Additive revisions: safe while the release before is still running.
    Expand,
    /// Destructive revisions: after the release that stops using what they remove.
    Contract,
}

impl From<PhaseArg> for braid::Phase {
    fn from(p: PhaseArg) -> Self {
        match p {
            PhaseArg::Expand => braid::Phase::Expand,
            PhaseArg::Contract => braid::Phase::Contract,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new revision (SQL, or Rust with --rust) whose parent is the single head.
    Generate(GenerateArgs),
    /// Write a merge revision joining several heads.
    Merge(MergeArgs),
    /// Move the unapplied revisions of one branch onto another head: a linear history instead
    /// of a merge revision. Refuses if any of them is applied on a configured database.
    Rebase(RebaseArgs),
    /// List the heads of the graph.
    Heads(HeadsArgs),
    /// List the branch points and their children.
    Branches,
    /// Show one revision.
    Show(ShowArgs),
    /// List revisions, newest first.
    History(HistoryArgs),
    /// Apply migrations up to TARGET on every database.
    Upgrade(UpgradeArgs),
    /// Undo migrations down to TARGET on every database.
    Downgrade(DowngradeArgs),
    /// Show the applied heads of every database.
    Current(CurrentArgs),
    /// Record revisions as applied (or not) without running them.
    Stamp(StampArgs),
    /// Accept an intended edit of an applied migration: store its new checksum.
    Accept(AcceptArgs),
    /// CI gate: fail on several heads, pending, edited, unknown or part-applied migrations
    /// (exit codes 3-7); with --lint, on lint errors too (8).
    Check(CheckArgs),
    /// Lint migrations: backward-compatibility rules and each backend's lock hazards, per
    /// dialect of the configured databases (exit code 8 on errors).
    Lint(LintArgs),
    /// Prove migrations up, down, up again on scratch databases of every configured backend,
    /// comparing schemas (exit code 9 when a revision fails).
    Verify(VerifyArgs),
    /// Write another tool's migrations (Alembic, diesel, sqlx, sea-orm-migration, Flyway,
    /// refinery) as Braid revisions, keeping ids, order and graph, into an empty migration set.
    Import(ImportArgs),
    /// Record in each database's Braid version store what the source tool already ran there
    /// (read from its version table, checksums verified); its table is left as it is.
    Adopt(AdoptArgs),
    /// List the built-in drivers and the plugin drivers the config names, with their versions.
    Drivers,
    /// Wire Braid into a Cargo workspace: an xtask with `migrate`, the `cargo xtask` alias, a
    /// config with an embedded SQLite database, a migrations directory. Never overwrites a file.
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, …) on stdout.
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The gate of one step of an expand/contract deploy: pending means what `upgrade --phase
    /// PHASE` would apply (the rest is listed as left for later); with `expand`, a revision of
    /// that step that declares `expand` but drops, renames or changes something fails the gate
    /// with exit code 19.
    #[arg(long, value_enum, value_name = "PHASE")]
    pub phase: Option<PhaseArg>,
    /// Lint the migrations too: lint errors fail the gate with exit code 8.
    #[arg(long)]
    pub lint: bool,
    /// Compare the sea-orm entities compiled into this binary with the schema the migrations
    /// produce, on a scratch database of every configured backend: a difference fails the gate
    /// with exit code 16.
    #[arg(long)]
    pub models: bool,
    /// Apply the branches of each merge revision in each order (and in production's) on
    /// scratch databases of every configured backend and compare the schemas: different
    /// schemas fail the gate with exit code 18.
    #[arg(long)]
    pub merges: bool,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Only the revisions `upgrade FROM:TO` would apply (`:TO` from base, `FROM:` to the heads)
    /// [default: every revision].
    pub range: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Only the revisions `upgrade FROM:TO` would apply (`:TO` from base, `FROM:` to the
    /// heads); those before are upgraded without checks [default: every revision].
    #[arg(conflicts_with = "since")]
    pub range: Option<String>,
    /// Only the revisions above REV (to the heads).
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Only the revisions applied on none of the configured databases (their version stores
    /// are read, without the lock; nothing is written to them).
    #[arg(long)]
    pub changed: bool,
    /// Make the scratch databases on this server instead of each database's own (its
    /// database name is only used to connect).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The tool the migrations come from: alembic, diesel, sqlx, sea-orm, flyway, refinery.
    #[arg(long = "from", value_name = "TOOL")]
    pub tool: String,
    /// Its migrations directory (Alembic: the directory of alembic.ini; sea-orm: the migration
    /// crate).
    pub source: PathBuf,
    /// Alembic: the command that runs Alembic, to render each revision's SQL offline
    /// [default: `alembic`, else `python3 -m alembic`].
    #[arg(long, value_name = "COMMAND")]
    pub alembic: Option<String>,
    /// Alembic: the dialects to render [default: those of the configured databases, else all
    /// three].
    #[arg(long, value_delimiter = ',', value_name = "DIALECT,…")]
    pub dialects: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct AdoptArgs {
    /// Show what would be recorded; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The tool's version table, SCHEMA.TABLE for one outside the connection's default schema
    /// [default: the tool's own name, e.g. flyway_schema_history].
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// A directory in the workspace [default: the current directory].
    pub dir: Option<PathBuf>,
    /// The built-in drivers to compile in (sqlite is the default database's).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "sqlite",
        value_name = "BACKEND,…"
    )]
    pub backends: Vec<String>,
    /// Rust revisions (sea-orm-migration's `SchemaManager`): the `rust` feature and a build
    /// script that compiles them in.
    #[arg(long)]
    pub rust: bool,
    /// Depend on the Braid checkout at PATH [default: the one this braid was built from, if
    /// it still exists].
    #[arg(long, value_name = "PATH", conflicts_with = "braid_version")]
    pub braid_path: Option<PathBuf>,
    /// Depend on Braid VERSION from crates.io.
    #[arg(long, value_name = "VERSION")]
    pub braid_version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What the revision does; also names its directory.
    #[arg(short, long)]
    pub message: String,
    /// The new revision's id [default: 12 random hex digits].
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
    /// The parent revision (any target naming one revision); `base` starts a new root.
    #[arg(long, value_name = "REV", conflicts_with = "parents")]
    pub head: Option<String>,
    /// A parent revision (repeatable, for a revision with several parents).
    #[arg(long = "parent", value_name = "REV")]
    pub parents: Vec<String>,
    /// Allow a parent that is not a head (starts a new branch from it).
    #[arg(long)]
    pub splice: bool,
    /// A branch label for the new revision (repeatable).
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,
    /// A revision or branch label that must be applied first (repeatable).
    #[arg(long = "depends-on", value_name = "REV")]
    pub depends_on: Vec<String>,
    /// Run this migration outside a transaction (for statements that cannot run in one).
    #[arg(long)]
    pub no_transaction: bool,
    /// Declare the revision's deploy phase [default: inferred from its statements].
    #[arg(long, value_enum, value_name = "PHASE")]
    pub phase: Option<PhaseArg>,
    /// Write a Rust migration (sea-orm-migration's `SchemaManager`, one body for every backend)
    /// instead of SQL files; it is compiled into the next `cargo xtask` run (the standalone
    /// binary writes it but cannot run it).
    #[arg(long)]
    pub rust: bool,
    /// Write a Rust migration from the sea-orm entities compiled into this binary: what the
    /// schema the migrations produce (replayed on scratch databases of every configured
    /// backend; with --db NAME, that database's schema) needs to become theirs.
    #[arg(long, conflicts_with_all = ["rust", "no_transaction"])]
    pub autogenerate: bool,
    /// With --autogenerate: write drops of the tables and columns the entities no longer have
    /// (never written otherwise: a rename looks the same).
    #[arg(long, requires = "autogenerate")]
    pub allow_drop: bool,
    /// With --autogenerate: OLD=NEW renames table OLD, TABLE.OLD=NEW a column (repeatable).
    #[arg(
        long = "rename",
        value_name = "OLD=NEW",
        requires = "autogenerate",
        value_parser = parse_rename
    )]
    pub renames: Vec<braid::Rename>,
    /// With --autogenerate: make the scratch databases on this server instead of each
    /// database's own.
    #[arg(long, value_name = "URL", requires = "autogenerate")]
    pub url: Option<String>,
}

fn parse_rename(s: &str) -> Result<braid::Rename, String> {
    s.parse()
        .map_err(|e: braid::models::ModelsError| e.to_string())
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The revisions to join, or `heads` for every head.
    #[arg(required = true, value_name = "REV")]
    pub revisions: Vec<String>,
    #[arg(short, long)]
    pub message: Option<String>,
    #[arg(long, value_name = "ID")]
    pub rev_id: Option<String>,
    #[arg(long = "branch-label", value_name = "LABEL")]
    pub branch_labels: Vec<String>,
    /// Allow merging revisions that are not heads.
    #[arg(long)]
    pub splice: bool,
    /// Write the merge revision's body as a Rust migration instead of SQL files.
    #[arg(long)]
    pub rust: bool,
    /// Join branches whose changes conflict (the same column added twice, a column one drops
    /// and the other uses, …), for this reason, recorded in the merge revision.
    #[arg(long, value_name = "REASON")]
    pub allow_overlap: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RebaseArgs {
    /// The head of the branch to move (an id, `label@head`, …).
    #[arg(value_name = "BRANCH")]
    pub branch: String,
    /// The head to move it onto [default: the other head, when there are two].
    #[arg(long, value_name = "HEAD")]
    pub onto: Option<String>,
    /// Do not read the databases' version stores first (a warning says so).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, clap::Args)]
pub struct HeadsArgs {
    /// Show each head's message, labels and file.
    #[arg(short, long)]
    pub verbose: bool,
    /// List only real heads: leave out heads that another revision depends on.
    #[arg(long)]
    pub resolve_dependencies: bool,
    /// Rewrite the heads file (HEADS in the migrations directory) from the graph, e.g. after a
    /// git merge whose conflict on it needs no merge revision.
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A revision: id, unique prefix, label or any target naming one revision.
    pub revision: String,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// A range `[start]:[end]` (empty start = base, empty end = heads).
    #[arg(
        short = 'r',
        long = "rev-range",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub range: Option<String>,
    #[arg(short, long)]
    pub verbose: bool,
    /// Draw the graph, as `git log --graph` does.
    #[arg(long)]
    pub graph: bool,
    /// Mark the revisions applied to the database(s).
    #[arg(short = 'i', long)]
    pub indicate_current: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransactionMode {
    /// One transaction per migration, body and bookkeeping together.
    PerMigration,
    /// The whole plan in one transaction, where the dialect has transactional DDL.
    All,
}

#[derive(Debug, clap::Args)]
pub struct RunOptions {
    /// Transactions: one per migration, or the whole plan in one.
    #[arg(long, value_enum, default_value_t = TransactionMode::PerMigration)]
    pub transaction: TransactionMode,
    /// Print the SQL that would run instead of connecting (the target is a range FROM:TO).
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the dialect(s) to render [default: each configured database's].
    #[arg(long, value_name = "DIALECT", requires = "sql")]
    pub dialect: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct UpgradeArgs {
    /// Where to go: head, heads, a revision, label@head, +N, …
    #[arg(default_value = "head", allow_hyphen_values = true)]
    pub target: String,
    /// Apply only this deploy phase's revisions up to TARGET: `expand` before the new release
    /// is deployed, `contract` after it. Revisions of the other phase, and those above them,
    /// are left for later and listed.
    #[arg(long, value_enum, value_name = "PHASE", conflicts_with = "sql")]
    pub phase: Option<PhaseArg>,
    #[command(flatten)]
    pub run: RunOptions,
}

#[derive(Debug, clap::Args)]
pub struct DowngradeArgs {
    /// Where to go: base, a revision, label@base, label@-1, -N, …
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    #[command(flatten)]
    pub run: RunOptions,
}

#[derive(Debug, clap::Args)]
pub struct CurrentArgs {
    /// Also show when and by whom each applied revision ran.
    #[arg(short, long)]
    pub verbose: bool,
    /// Fail unless every database is at the heads of its migration set: exit code 4 when one
    /// has revisions to apply, 6 when one has revisions the migrations directory does not know.
    /// It reads each database's status, which has no rows to show: not with -v.
    #[arg(long, conflicts_with = "verbose")]
    pub check_heads: bool,
}

#[derive(Debug, clap::Args)]
pub struct StampArgs {
    /// The revisions to record (several allowed, e.g. one per branch), or `base`.
    // Negative numbers (`-1`) are targets; anything else with a dash is an option, also after
    // the targets (`stamp heads --sql`).
    #[arg(required = true, allow_negative_numbers = true)]
    pub targets: Vec<String>,
    /// Empty the version store first.
    #[arg(long)]
    pub purge: bool,
    /// Print the SQL instead of connecting (targets as FROM:TO).
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the dialect to render [default: each configured database's].
    #[arg(long, value_name = "DIALECT", requires = "sql")]
    pub dialect: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// The applied revision whose file was edited on purpose.
    pub revision: String,
}
