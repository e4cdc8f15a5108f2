//! Commands that need no project: `init` (which makes one) and `completions`.

use std::process::ExitCode;

use braid::init::{BraidSource, InitOptions};
use clap::CommandFactory;

use super::{Failure, Outcome};
use crate::FrontEnd;
use crate::cli::{CompletionsArgs, InitArgs};
use crate::output::Output;

pub fn init(args: &InitArgs, out: Output<'_>) -> Outcome {
    let mut backends = Vec::new();
    for name in &args.backends {
        let dialect: braid::Dialect = name.parse().map_err(|e: String| Failure::Exit {
            code: 2,
            message: format!("--backends: {e}"),
        })?;
        backends.push(dialect);
    }
    let braid = match (&args.braid_path, &args.braid_version) {
        (Some(path), _) => BraidSource::Path(std::path::absolute(path)?),
        (None, Some(version)) => BraidSource::Version(version.clone()),
        (None, None) => BraidSource::Auto,
    };
    let options = InitOptions {
        dir: args.dir.clone().unwrap_or_else(|| ".".into()),
        backends,
        rust: args.rust,
        braid,
    };
    let report = braid::init::init(&options).map_err(braid::Error::from)?;
    out.emit(&report, || {
        let shown = |p: &std::path::Path| {
            p.strip_prefix(&report.root)
                .unwrap_or(p)
                .display()
                .to_string()
        };
        let mut text = format!("Braid in {}\n", report.root.display());
        for path in &report.created {
            text.push_str(&format!("  created {}\n", shown(path)));
        }
        for (path, what) in &report.changed {
            text.push_str(&format!("  added {what} to {}\n", shown(path)));
        }
        if report.created.is_empty() && report.changed.is_empty() && report.manual.is_empty() {
            text.push_str("  nothing to do: already set up\n");
        }
        if !report.manual.is_empty() {
            text.push_str("\nAn xtask crate exists already and was left as it is. Add:\n");
            for lines in &report.manual {
                text.push_str(&format!("- {lines}\n"));
            }
        }
        text.push_str(
            "\nNext: `cargo xtask migrate generate -m \"create users\"`, write its up.sql and \
             down.sql, then `cargo xtask migrate upgrade`.\n",
        );
        text
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A completion script for the invocation: `braid`'s own, or the xtask's.
pub fn completions(args: &CompletionsArgs, front: &FrontEnd) -> Outcome {
    let mut command = if front.invocation == braid::COMMAND {
        crate::cli::Standalone::command()
    } else {
        crate::cli::Xtask::command()
    };
    let name = command.get_name().to_string();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
