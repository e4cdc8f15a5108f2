//! Moving to Braid from another tool: `import` and `adopt`.

use std::path::Path;
use std::process::ExitCode;

use braid::import::{Need, shown};
use braid::{
    AdoptOutcome, AdoptRequest, Adoption, ImportReport, ImportRequest, Project, RunSettings,
};
use serde::Serialize;

use super::{Failure, Outcome};
use crate::cli::{AdoptArgs, ImportArgs};
use crate::exit_codes;
use crate::output::Output;

pub fn import(
    project: &Project,
    databases: &[String],
    args: &ImportArgs,
    out: Output<'_>,
) -> Outcome {
    let usage = |message: String| Failure::Exit {
        code: exit_codes::USAGE,
        message,
    };
    let tool: braid::import::Tool = args
        .tool
        .parse()
        .map_err(|e: String| usage(format!("--from: {e}")))?;
    let mut options = braid::import::ReadOptions::default();
    if tool == braid::import::Tool::Alembic {
        options.alembic = alembic_options(args).map_err(usage)?;
    }
    let request = ImportRequest {
        tool,
        source: std::path::absolute(&args.source)?,
        options,
    };
    let report = project.import(&request, databases)?;
    for warning in &report.warnings {
        eprintln!("warning: {}", out.say(warning));
    }
    out.emit(&ImportJson::of(&report), || {
        human_import(&report, project.root(), out)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `--alembic` and `--dialects` (the project picks the dialects when none are named).
fn alembic_options(args: &ImportArgs) -> Result<braid::import::AlembicOptions, String> {
    let mut options = braid::import::AlembicOptions::default();
    if let Some(command) = &args.alembic {
        options.command = Some(command.split_whitespace().map(str::to_string).collect());
    }
    for name in &args.dialects {
        let dialect = name.parse().map_err(|e| format!("--dialects: {e}"))?;
        options.dialects.push(dialect);
    }
    Ok(options)
}

#[derive(Serialize)]
struct ImportJson<'a> {
    tool: String,
    dir: &'a Path,
    map: &'a Path,
    revisions: Vec<RevisionJson<'a>>,
    skipped: Vec<SkippedJson<'a>>,
}

#[derive(Serialize)]
struct RevisionJson<'a> {
    id: &'a str,
    key: &'a str,
    dir: &'a Path,
    needs: Vec<String>,
}

#[derive(Serialize)]
struct SkippedJson<'a> {
    path: &'a Path,
    reason: &'a str,
}

impl<'a> ImportJson<'a> {
    fn of(report: &'a ImportReport) -> Self {
        ImportJson {
            tool: report.written.tool.to_string(),
            dir: &report.dir,
            map: &report.written.map,
            revisions: report
                .written
                .revisions
                .iter()
                .map(|r| RevisionJson {
                    id: &r.id,
                    key: &r.key,
                    dir: &r.dir,
                    needs: r.needs.iter().map(need_text).collect(),
                })
                .collect(),
            skipped: report
                .skipped
                .iter()
                .map(|s| SkippedJson {
                    path: &s.path,
                    reason: &s.reason,
                })
                .collect(),
        }
    }
}

fn need_text(need: &Need) -> String {
    match need {
        Need::Untranslated { file, reason } => format!(
            "its body was not translated ({reason}): write up.sql and down.sql from {}",
            file.display()
        ),
        Need::NoDown => "the source had no down migration: write down.sql".to_string(),
        Need::NotRendered(dialects) => {
            let names: Vec<String> = dialects.iter().map(|d| d.to_string()).collect();
            format!(
                "no SQL was rendered for {}: import with `--dialects` naming them, or write \
                 their files",
                names.join(", ")
            )
        }
        Need::IdMapped => "the source's id is not a valid Braid id: it was mapped".to_string(),
    }
}

fn human_import(report: &ImportReport, root: &Path, out: Output<'_>) -> String {
    let tool = report.written.tool;
    let mut text = format!(
        "Imported {} {tool} migration(s) into {} (map: {}).\n",
        report.written.revisions.len(),
        shown(&report.dir, root),
        shown(&report.written.map, root),
    );
    let needing: Vec<_> = report.needing_work().collect();
    if !needing.is_empty() {
        text.push_str(&format!(
            "\n{} revision(s) need you before they can run (Braid refuses them until then; \
             `braid lint` lists them as B506):\n",
            needing.len()
        ));
        for rev in needing {
            for need in rev.needs.iter().filter(|n| !matches!(n, Need::IdMapped)) {
                text.push_str(&format!(
                    "  {} ({}): {}\n",
                    rev.id,
                    shown(&rev.dir, root),
                    need_text(need)
                ));
            }
        }
    }
    let mapped: Vec<String> = report
        .written
        .revisions
        .iter()
        .filter(|r| r.needs.contains(&Need::IdMapped))
        .map(|r| format!("{} → {}", r.key, r.id))
        .collect();
    if !mapped.is_empty() {
        text.push_str(&format!(
            "\nIds mapped (not valid Braid ids): {}\n",
            mapped.join(", ")
        ));
    }
    if !report.skipped.is_empty() {
        text.push_str("\nNot imported:\n");
        for s in &report.skipped {
            text.push_str(&format!("  {}: {}\n", shown(&s.path, root), s.reason));
        }
    }
    text.push_str(&out.say(&format!(
        "\nNext: `braid adopt --dry-run` shows what each database's {tool} table says ran; \
         `braid adopt` records it in Braid's version store.\n"
    )));
    text
}

pub fn adopt(
    project: &Project,
    settings: &RunSettings,
    args: &AdoptArgs,
    out: Output<'_>,
) -> Outcome {
    let request = AdoptRequest {
        dry_run: args.dry_run,
        table: args.table.clone(),
    };
    let adoptions = project.adopt(settings, &request, &|_| {})?;
    #[derive(Serialize)]
    struct AdoptJson<'a> {
        databases: &'a [Adoption],
    }
    out.emit(
        &AdoptJson {
            databases: &adoptions,
        },
        || human_adopt(&adoptions, out),
    )?;
    let failed = adoptions
        .iter()
        .filter(|a| matches!(a.outcome, AdoptOutcome::Failed { .. }))
        .count();
    if failed > 0 {
        return Err(Failure::Exit {
            code: exit_codes::ERROR,
            message: format!("{failed} database(s) not adopted (see above)"),
        });
    }
    Ok(ExitCode::SUCCESS)
}

fn human_adopt(adoptions: &[Adoption], out: Output<'_>) -> String {
    let mut text = String::new();
    for a in adoptions {
        let line = match &a.outcome {
            AdoptOutcome::Adopted { plan } if plan.stamp.is_empty() => format!(
                "{}: {} ran none of the imported migrations: nothing to record{}",
                a.database,
                plan.tool,
                pending(&plan.pending)
            ),
            AdoptOutcome::Adopted { plan } => format!(
                "{}: adopted from {}: recorded {} revision(s) as applied (stamped {}){}",
                a.database,
                plan.tool,
                plan.applied.len(),
                plan.stamp.join(", "),
                pending(&plan.pending)
            ),
            AdoptOutcome::Planned { plan } if plan.stamp.is_empty() => format!(
                "{}: {} ran none of the imported migrations: nothing to record{}",
                a.database,
                plan.tool,
                pending(&plan.pending)
            ),
            AdoptOutcome::Planned { plan } => format!(
                "{}: would record {} revision(s) as applied, {} ran them (stamp {}){}",
                a.database,
                plan.applied.len(),
                plan.tool,
                plan.stamp.join(", "),
                pending(&plan.pending)
            ),
            AdoptOutcome::AlreadyAdopted { plan } => format!(
                "{}: already adopted: Braid records the {} revision(s) {} ran{}",
                a.database,
                plan.applied.len(),
                plan.tool,
                pending(&plan.pending)
            ),
            AdoptOutcome::Failed { error } => {
                format!("{}: not adopted: {}", a.database, out.say(error))
            }
        };
        text.push_str(&line);
        text.push('\n');
    }
    if adoptions
        .iter()
        .all(|a| !matches!(a.outcome, AdoptOutcome::Failed { .. }))
    {
        text.push_str(&out.say(
            "\nNext: `braid check` should now report only pending revisions; `braid upgrade` runs them.\n",
        ));
    }
    text
}

fn pending(ids: &[String]) -> String {
    match ids.len() {
        0 => String::new(),
        n => format!("; {n} pending for `upgrade` ({})", ids.join(", ")),
    }
}
