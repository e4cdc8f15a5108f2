//! `lint`, `verify` and `check --merges`: proving migrations before they ship. The rules and
//! the checks live in the library ([`braid::Project::lint`], [`braid::Project::verify`],
//! [`braid::Project::check_merges`]); this prints them.

use std::process::ExitCode;

use braid::lint::{Finding, LintReport, LintRequest, Severity};
use braid::verify::{
    BackendReport, Cleanup, MergeReport, MergesReport, MergesRequest, OrderReport, RevisionOutcome,
    RevisionReport, VerifyEvent, VerifyRange, VerifyReport, VerifyRequest,
};
use braid::{Project, RunSettings};
use serde::Serialize;

use super::{Failure, Outcome};
use crate::cli::{Format, VerifyArgs};
use crate::exit_codes;
use crate::output::Output;
use crate::progress::Bars;

/// `lint`: every finding, then a count; exit code 8 when an error is not suppressed.
pub fn lint(
    project: &Project,
    databases: &[String],
    range: Option<&str>,
    out: Output<'_>,
) -> Outcome {
    let report = lint_report(project, databases, range)?;
    print_lint(&report, out)?;
    lint_outcome(&report)
}

/// The lint report of the selected databases' sets (`check --lint` uses it too).
pub(crate) fn lint_report(
    project: &Project,
    databases: &[String],
    range: Option<&str>,
) -> Result<LintReport, Failure> {
    Ok(project.lint(&LintRequest {
        databases: databases.to_vec(),
        range: range.map(str::to_string),
    })?)
}

fn lint_outcome(report: &LintReport) -> Outcome {
    match report.errors() {
        0 => Ok(ExitCode::SUCCESS),
        n => Err(Failure::Exit {
            code: exit_codes::LINT_ERRORS,
            message: format!("{n} lint error(s)"),
        }),
    }
}

fn print_lint(report: &LintReport, out: Output<'_>) -> std::io::Result<()> {
    if out.format == Format::Github {
        print!("{}", github_annotations(&report.findings));
        return Ok(());
    }
    out.emit(report, || lint_text(report))
}

/// Human text: each finding with why it is a risk and what to do instead, then a count.
pub(crate) fn lint_text(report: &LintReport) -> String {
    let mut text = String::new();
    for f in &report.findings {
        text.push_str(&format!("{f}\n"));
        if let Some(statement) = &f.statement {
            text.push_str(&format!("    {statement}\n"));
        }
        if f.is_active() && f.severity != Severity::Info {
            text.push_str(&format!(
                "    why: {}\n    instead: {}\n",
                f.code.why(),
                f.code.instead()
            ));
        }
    }
    text.push_str(&format!(
        "{} revision(s) linted: {} error(s), {} warning(s), {} allowed\n",
        report.revisions,
        report.errors(),
        report.warnings(),
        report.suppressed()
    ));
    text
}

/// GitHub Actions workflow commands: one annotation per finding that counts, on its file and
/// line (suppressed findings are not annotated: they were reviewed).
fn github_annotations(findings: &[Finding]) -> String {
    findings
        .iter()
        .filter(|f| f.is_active())
        .map(|f| {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let line = f.line.map(|l| format!(",line={l}")).unwrap_or_default();
            let message = format!(
                "{} [{}]: {} — {} Instead: {}",
                f.code,
                f.dialect,
                f.message,
                f.code.why(),
                f.code.instead()
            );
            format!(
                "::{level} file={}{line},title={}::{}\n",
                escape_property(&f.file),
                escape_property(&format!("{} {}", f.code, f.code.title())),
                escape_data(&message)
            )
        })
        .collect()
}

/// A workflow command's message: `%`, CR and LF escaped, as GitHub's toolkit does.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `verify`: a line per revision and backend, the differences of a failure, the scratch
/// database's fate; exit code 9 when anything failed.
pub fn verify(
    project: &Project,
    settings: &RunSettings,
    args: &VerifyArgs,
    out: Output<'_>,
) -> Outcome {
    let range = match (&args.range, &args.since) {
        (Some(range), _) => Some(range.parse::<VerifyRange>().map_err(braid::Error::from)?),
        (None, Some(revision)) => Some(VerifyRange::Since {
            revision: revision.clone(),
        }),
        (None, None) => None,
    };
    let request = VerifyRequest {
        databases: settings.databases.clone(),
        range,
        changed: args.changed,
        url: args.url.clone(),
        jobs: settings.jobs,
    };
    let progress = out.progress_allowed().then(VerifyProgress::new);
    let sink = |event: &VerifyEvent| {
        if let Some(progress) = &progress {
            progress.on_event(event);
        }
    };
    let report = project.verify(&request, &sink)?;
    drop(progress);
    out.emit(&VerifyJson::of(&report), || verify_text(&report, out))?;
    if report.passed() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::Exit {
            code: exit_codes::VERIFY_FAILED,
            message: String::new(),
        })
    }
}

/// The report with `passed` at the top, for scripts.
#[derive(Serialize)]
struct VerifyJson<'a> {
    passed: bool,
    #[serde(flatten)]
    report: &'a VerifyReport,
}

impl<'a> VerifyJson<'a> {
    fn of(report: &'a VerifyReport) -> Self {
        VerifyJson {
            passed: report.passed(),
            report,
        }
    }
}

fn verify_text(report: &VerifyReport, out: Output<'_>) -> String {
    let mut text = String::new();
    for note in &report.notes {
        text.push_str(&format!("note: {}\n", out.say(note)));
    }
    for backend in &report.backends {
        text.push_str(&backend_text(backend, out));
    }
    let failed = report.backends.iter().filter(|b| !b.passed()).count();
    text.push_str(&match failed {
        0 => format!("ok: verified on {} backend(s)\n", report.backends.len()),
        n => format!("FAILED on {n} of {} backend(s)\n", report.backends.len()),
    });
    text
}

fn backend_text(b: &BackendReport, out: Output<'_>) -> String {
    let passed = b
        .revisions
        .iter()
        .filter(|r| matches!(r.outcome, RevisionOutcome::Passed))
        .count();
    let mut text = format!(
        "{} ({}, {}): {passed}/{} revision(s) verified in {} ms\n",
        b.name,
        b.dialect,
        b.server,
        b.revisions.len(),
        b.ms
    );
    let mut not_verified = Vec::new();
    for r in &b.revisions {
        match &r.outcome {
            RevisionOutcome::Passed => text.push_str(&passed_text(r)),
            RevisionOutcome::Failed { step, failure } => {
                text.push_str(&format!("  FAILED  {}: {step}\n", r.revision));
                match (failure, &r.merge) {
                    (braid::verify::Failure::Schema { differences }, _) => {
                        for d in differences {
                            text.push_str(&format!("          {d}\n"));
                        }
                    }
                    (braid::verify::Failure::Merge { .. }, Some(merge)) => {
                        text.push_str(&format!("          {}\n", out.say(&merge.verdict())));
                        text.push_str(&orders_text(merge, out));
                    }
                    (other, _) => {
                        text.push_str(&format!("          {}\n", out.say(&other.to_string())))
                    }
                }
            }
            RevisionOutcome::NotVerified => not_verified.push(r.revision.as_str()),
        }
    }
    if !not_verified.is_empty() {
        text.push_str(&format!(
            "  not verified (after the failure): {}\n",
            not_verified.join(", ")
        ));
    }
    if let Some(error) = &b.error {
        text.push_str(&format!("  error: {}\n", out.say(&error.to_string())));
    }
    match (&b.cleanup, &b.scratch) {
        (Cleanup::Failed { error }, Some(scratch)) => text.push_str(&format!(
            "  the scratch database {scratch} could not be dropped: {error}\n"
        )),
        (Cleanup::Failed { error }, None) => text.push_str(&format!(
            "  the scratch database could not be dropped: {error}\n"
        )),
        _ => {}
    }
    text
}

/// A revision that passed; a merge revision with its branches' verdict and production's order.
fn passed_text(r: &RevisionReport) -> String {
    match &r.merge {
        None => format!("  ok      {}\n", r.revision),
        Some(merge) => format!(
            "  ok      {}: {}\n          {}\n",
            r.revision,
            merge.verdict(),
            merge.production_sentence()
        ),
    }
}

/// The merge check of the selected databases' sets (`check --merges`).
pub(crate) fn merges_report(
    project: &Project,
    databases: &[String],
    jobs: Option<usize>,
) -> Result<MergesReport, Failure> {
    Ok(project.check_merges(&MergesRequest {
        databases: databases.to_vec(),
        jobs,
        ..MergesRequest::default()
    })?)
}

/// `check --merges` in words: per backend, each merge revision with its verdict, its orders
/// (an order-dependent one's differences) and the order production uses.
pub(crate) fn merges_text(report: &MergesReport, out: Output<'_>) -> String {
    let mut text = String::new();
    for b in &report.backends {
        text.push_str(&format!(
            "{} ({}, {}): {} merge revision(s) checked in {} ms\n",
            b.name,
            b.dialect,
            b.server,
            b.merges.len(),
            b.ms
        ));
        for merge in &b.merges {
            let status = if merge.passed() { "ok    " } else { "FAILED" };
            text.push_str(&format!(
                "  {status}  {}: {}\n",
                merge.revision,
                out.say(&merge.verdict())
            ));
            text.push_str(&orders_text(merge, out));
        }
        if let Some(error) = &b.error {
            text.push_str(&format!("  error: {}\n", out.say(&error.to_string())));
        }
    }
    text
}

/// `check`'s problems: a line per merge revision and backend that did not pass.
pub(crate) fn merges_problems(report: &MergesReport, out: Output<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    for b in &report.backends {
        if let Some(error) = &b.error {
            let error = out.say(&error.to_string());
            problems.push(format!("merges: {}: cannot check: {error}", b.name));
        }
        for m in b.merges.iter().filter(|m| !m.passed()) {
            let summary = out.say(&m.summary());
            problems.push(format!("merges: `{}` on {}: {summary}", m.revision, b.name));
        }
    }
    problems
}

/// A merge's orders, each with what went wrong in it, then the production order.
fn orders_text(merge: &MergeReport, out: Output<'_>) -> String {
    let reference = merge.reference().map(|o| o.name.as_str());
    let mut text = String::new();
    for order in &merge.orders {
        text.push_str(&order_text(order, reference, out));
    }
    text.push_str(&format!("          {}\n", merge.production_sentence()));
    text
}

/// `- a, b then c, d (production)`, and below it its differences from `reference`, its error
/// or the scratch database it left.
fn order_text(order: &OrderReport, reference: Option<&str>, out: Output<'_>) -> String {
    let production = if order.production {
        " (production)"
    } else {
        ""
    };
    let mut text = format!("          - {}{production}", order.name);
    if let Some(error) = &order.error {
        text.push_str(&format!(": {}", out.say(&error.to_string())));
    } else if !order.differences.is_empty() {
        text.push_str(&format!(
            ": a different schema than after `{}` (\"missing\": only there; \"left behind\": \
             only here; \"was\": as there)",
            reference.unwrap_or_default()
        ));
    }
    text.push('\n');
    for d in &order.differences {
        text.push_str(&format!("              {d}\n"));
    }
    if let Cleanup::Failed { error } = &order.cleanup {
        let scratch = order.scratch.as_deref().unwrap_or("");
        text.push_str(&format!(
            "            the scratch database {scratch} could not be dropped: {error}\n"
        ));
    }
    text
}

/// One progress bar per backend on a terminal.
struct VerifyProgress(Bars);

impl VerifyProgress {
    fn new() -> Self {
        VerifyProgress(Bars::new())
    }

    fn on_event(&self, event: &VerifyEvent) {
        match event {
            VerifyEvent::BackendStarted { backend, revisions } => {
                self.0.start(backend, *revisions, "verify".to_string())
            }
            VerifyEvent::RevisionStarted {
                backend, revision, ..
            } => self.0.message(backend, format!("verify {revision}")),
            VerifyEvent::RevisionFinished { backend, .. } => self.0.inc(backend),
            VerifyEvent::BackendFinished { backend, .. } => self.0.finish(backend),
        }
    }
}
