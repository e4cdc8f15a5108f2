//! `rebase`: prints what moved.

use std::process::ExitCode;

use braid::{Project, RebaseRequest, RunSettings};

use super::Outcome;
use crate::cli::RebaseArgs;
use crate::output::Output;

pub fn rebase(
    project: &Project,
    settings: &RunSettings,
    args: &RebaseArgs,
    out: Output<'_>,
) -> Outcome {
    let request = RebaseRequest {
        branch: args.branch.clone(),
        onto: args.onto.clone(),
        offline: args.offline,
    };
    let rebased = project.rebase(settings, &request)?;
    for warning in &rebased.warnings {
        eprintln!("warning: {}", out.say(warning));
    }
    out.emit(&rebased, || {
        let mut text = format!("moved {} onto {}", rebased.branch.join(", "), rebased.onto);
        match rebased.checked.len() {
            0 => text.push('\n'),
            n => text.push_str(&format!(" (applied on none of {n} database(s))\n")),
        }
        for moved in &rebased.moved {
            match moved.parents_before == moved.parents_after {
                true => text.push_str(&format!("  {}: created later\n", moved.revision)),
                false => text.push_str(&format!(
                    "  {}: parents {} -> {}\n",
                    moved.revision,
                    moved.parents_before.join(", "),
                    moved.parents_after.join(", ")
                )),
            }
        }
        text
    })?;
    Ok(ExitCode::SUCCESS)
}
