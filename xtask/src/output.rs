//! Human or JSON output. JSON is one object on stdout per command; human text goes to stdout
//! too, progress and errors to stderr.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cli::Format;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub format: Format,
}

impl Output {
    pub fn is_json(self) -> bool {
        self.format == Format::Json
    }

    /// Prints `value` as JSON in JSON mode, or `human()` otherwise.
    pub fn emit<T: Serialize>(
        self,
        value: &T,
        human: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        match self.format {
            Format::Json => {
                serde_json::to_writer(&mut stdout, value)?;
                writeln!(stdout)?;
            }
            Format::Human => {
                let text = human();
                stdout.write_all(text.as_bytes())?;
                if !text.is_empty() && !text.ends_with('\n') {
                    writeln!(stdout)?;
                }
            }
        }
        Ok(())
    }

    /// Whether progress may be drawn: human output on a terminal.
    pub fn progress_allowed(self) -> bool {
        self.format == Format::Human && std::io::stderr().is_terminal()
    }
}
