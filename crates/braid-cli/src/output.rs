//! Human or JSON output. JSON is one object on stdout per command; human text goes to stdout
//! too, progress and errors to stderr. Messages from the library (errors, notes, findings) pass
//! through [`Output::say`], which names this front end's own invocation in suggested commands;
//! the user's own text (revision messages, SQL) is printed as it is.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cli::Format;

#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    pub format: Format,
    /// How this front end is invoked: `braid`, `cargo xtask migrate`.
    pub invocation: &'a str,
}

impl Output<'_> {
    pub fn is_json(self) -> bool {
        self.format == Format::Json
    }

    /// Prints `value` as JSON in JSON mode, or `human()` otherwise.
    pub fn emit<T: Serialize>(
        self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> std::io::Result<()> {
        let mut stdout = std::io::stdout().lock();
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut stdout, value)?;
                writeln!(stdout)?;
            }
            // Annotations are `lint`'s own output; elsewhere `github` prints human text.
            Format::Human | Format::Github => {
                let text = human();
                stdout.write_all(text.as_bytes())?;
                if !text.is_empty() && !text.ends_with('\n') {
                    writeln!(stdout)?;
                }
            }
        }
        Ok(())
    }

    /// `text` with every suggested `` `braid <command>` `` written as this front end's
    /// invocation (`` `cargo xtask migrate <command>` ``).
    pub fn say(self, text: &str) -> String {
        localise(text, self.invocation)
    }

    /// Whether progress may be drawn: human output on a terminal.
    pub fn progress_allowed(self) -> bool {
        self.format != Format::Json && std::io::stderr().is_terminal()
    }
}

/// Replaces the library's [`braid::COMMAND`] at the start of a quoted command with
/// `invocation`.
pub fn localise(text: &str, invocation: &str) -> String {
    let from = format!("`{} ", braid::COMMAND);
    if invocation == braid::COMMAND || !text.contains(&from) {
        return text.to_string();
    }
    text.replace(&from, &format!("`{invocation} "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggested_commands_name_the_invocation() {
        let text = "run `braid upgrade` again; table `braid_version`";
        assert_eq!(
            super::localise(text, "cargo xtask migrate"),
            "run `cargo xtask migrate upgrade` again; table `braid_version`"
        );
        assert_eq!(super::localise(text, "braid"), text);
    }
}
