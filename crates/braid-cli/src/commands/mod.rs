//! Dispatch: open the project, call the library, print.

mod db;
mod graph;
mod models;
mod moving;
mod prove;
mod rebase;
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;

use braid::{OfflineCommand, Project, ProjectOptions, RunSettings};

use crate::FrontEnd;
use crate::cli::{Args, Command, RunOptions, TransactionMode};
use crate::exit_codes;
use crate::output::Output;

pub use db::check_codes;

/// How a command ended when it did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command printed its result already (a summary, `check`'s findings); exit with
    /// `code`, saying `message` if there is one.
    Exit { code: u8, message: String },
    /// The library refused before anything was printed. (Boxed: the error is large, the
    /// success path small.)
    Error(Box<braid::Error>),
    /// Printing failed.
    Io(std::io::Error),
}

impl From<braid::Error> for Failure {
    fn from(e: braid::Error) -> Self {
        Failure::Error(Box::new(e))
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

pub(crate) type Outcome = Result<ExitCode, Failure>;

impl Failure {
    /// Says why on stderr (and in JSON mode as the one object on stdout) and gives the exit
    /// code.
    pub(crate) fn report(self, out: Output<'_>) -> ExitCode {
        let (code, message, printed) = match self {
            Failure::Exit { code, message } => (code, message, true),
            Failure::Error(e) => (exit_code(&e), error_chain(&e), false),
            Failure::Io(e) => (
                exit_codes::ERROR,
                format!("cannot write the output: {e}"),
                false,
            ),
        };
        let message = out.say(&message);
        if !message.is_empty() {
            eprintln!("error: {message}");
        }
        if out.is_json() && !printed {
            println!(
                "{}",
                serde_json::json!({ "error": message, "exit_code": code })
            );
        }
        ExitCode::from(code)
    }
}

/// 2 for what is a misuse of the command line, a database's failure its own code
/// ([`exit_codes::for_failure`]), 1 for everything else.
fn exit_code(e: &braid::Error) -> u8 {
    use braid::OfflineError::{DowngradeNeedsRange, Purge};
    match e {
        braid::Error::Offline(Purge | DowngradeNeedsRange { .. }) => exit_codes::USAGE,
        braid::Error::Run(run) => exit_codes::for_failure(run.kind()),
        _ => exit_codes::ERROR,
    }
}

/// The message and each cause not already part of it (thiserror messages often embed their
/// source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(&format!("\n  caused by: {cause_text}"));
        }
        source = cause.source();
    }
    message
}

pub(crate) fn run(args: Args, front: &FrontEnd, out: Output<'_>) -> Outcome {
    let Args {
        mut global,
        command,
    } = args;
    // Paths typed on the command line are relative to where they were typed.
    let cwd = std::env::current_dir()?;
    for path in [
        &mut global.root,
        &mut global.migrations,
        &mut global.config,
        &mut global.report,
        &mut global.only_failed,
    ]
    .into_iter()
    .flatten()
    {
        if path.is_relative() {
            *path = cwd.join(&*path);
        }
    }
    match &command {
        Command::Init(args) => return setup::init(args, out),
        Command::Completions(args) => return setup::completions(args, front),
        _ => {}
    }
    let project = Project::open(
        ProjectOptions {
            root: global.root.clone(),
            config: global.config.clone(),
            profile: global.profile.clone(),
            migrations: global.migrations.clone(),
        },
        front.rust.clone(),
    )?;
    if let Some(record) = &global.only_failed {
        global.databases = braid::RunRecord::read(record)?.unfinished();
        if global.databases.is_empty() {
            let note = format!(
                "every database in {} finished: nothing to run again",
                record.display()
            );
            let json = serde_json::json!({ "databases": [], "note": note });
            out.emit(&json, String::new)?;
            eprintln!("{note}");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let settings = RunSettings {
        databases: global.databases.clone(),
        shard: global.shard,
        jobs: global.jobs,
        fail_fast: global.fail_fast,
        max_failures: global.max_failures,
        canary: global.canary,
        max_connections: global.max_connections,
        ..RunSettings::default()
    };
    let dbs = &global.databases;
    let report = global.report.as_deref();
    match command {
        Command::Generate(args) if args.autogenerate => {
            models::autogenerate(&project, &front.models, dbs, &args, out)
        }
        Command::Generate(args) => graph::generate(&project, dbs, &args, out),
        Command::Merge(args) => graph::merge(&project, dbs, &args, out),
        Command::Rebase(args) => rebase::rebase(&project, &settings, &args, out),
        Command::Heads(args) if args.write => {
            let file = project.write_heads_file(dbs)?;
            out.emit(&serde_json::json!({ "file": file }), || {
                format!("wrote {}\n", file.display())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Heads(args) => graph::heads(&set(&project, dbs)?, &args, out),
        Command::Branches => graph::branches(&set(&project, dbs)?, out),
        Command::Show(args) => graph::show(&project, &set(&project, dbs)?, &args, out),
        Command::History(args) => graph::history(&project, &settings, &args, out),
        Command::Upgrade(args) => {
            let moving = Move {
                target: &args.target,
                run: &args.run,
                up: true,
                phase: args.phase.map(Into::into),
                report,
            };
            move_to(&project, settings, moving, out)
        }
        Command::Downgrade(args) => {
            let moving = Move {
                target: &args.target,
                run: &args.run,
                up: false,
                phase: None,
                report,
            };
            move_to(&project, settings, moving, out)
        }
        Command::Stamp(args) if args.sql => {
            let command = OfflineCommand::Stamp {
                targets: args.targets.clone(),
                purge: args.purge,
            };
            db::offline(&project, &command, args.dialect.as_deref(), dbs, out)
        }
        Command::Stamp(args) => {
            let op = braid::Operation::Stamp {
                targets: args.targets.clone(),
                purge: args.purge,
            };
            db::stamp(&project, &settings, &op, report, out)
        }
        Command::Current(args) => db::current(&project, &settings, &args, report, out),
        Command::Accept(args) => db::accept(&project, &settings, &args.revision, report, out),
        Command::Check(args) => {
            let models = args.models.then_some(&front.models);
            db::check(&project, &settings, &args, models, out)
        }
        Command::Lint(args) => prove::lint(&project, dbs, args.range.as_deref(), out),
        Command::Verify(args) => prove::verify(&project, &settings, &args, out),
        Command::Import(args) => moving::import(&project, dbs, &args, out),
        Command::Adopt(args) => moving::adopt(&project, &settings, &args, out),
        Command::Drivers => db::drivers(&project, out),
        Command::Init(_) | Command::Completions(_) => unreachable!("handled above"),
    }
}

/// An `upgrade` or a `downgrade`, as typed.
struct Move<'a> {
    target: &'a str,
    run: &'a RunOptions,
    up: bool,
    /// `upgrade --phase`.
    phase: Option<braid::Phase>,
    /// `--report`.
    report: Option<&'a std::path::Path>,
}

/// `upgrade` / `downgrade`: on every selected database, or as offline SQL with `--sql`.
fn move_to(
    project: &Project,
    mut settings: RunSettings,
    moving: Move<'_>,
    out: Output<'_>,
) -> Outcome {
    let Move {
        target,
        run,
        up,
        phase,
        report,
    } = moving;
    if run.sql {
        let target = target.to_string();
        let command = if up {
            OfflineCommand::Upgrade { target }
        } else {
            OfflineCommand::Downgrade { target }
        };
        return db::offline(
            project,
            &command,
            run.dialect.as_deref(),
            &settings.databases,
            out,
        );
    }
    settings.transaction = match run.transaction {
        TransactionMode::PerMigration => braid::TransactionMode::PerMigration,
        TransactionMode::All => braid::TransactionMode::All,
    };
    let target = target.to_string();
    let op = match up {
        true => braid::Operation::Upgrade { target, phase },
        false => braid::Operation::Downgrade { target },
    };
    db::move_to(project, &settings, &op, report, out)
}

/// The migration set a graph command reads: its directory and graph.
pub(crate) struct Set {
    pub dir: PathBuf,
    pub graph: braid::Graph,
}

pub(crate) fn set(project: &Project, databases: &[String]) -> Result<Set, Failure> {
    let dir = project.set_dir(databases)?;
    Ok(Set {
        graph: project.graph(&dir)?,
        dir,
    })
}
