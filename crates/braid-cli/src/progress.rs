//! Progress bars on a terminal: one per database (or `verify` backend), keyed by its name. The
//! commands translate their library's events into these calls; drawing lives here once.

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

pub(crate) struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

/// See [`Bars::spinner`].
pub(crate) struct Spinner(ProgressBar);

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl Bars {
    pub(crate) fn new() -> Self {
        Bars {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// A spinner showing `message` while a call that reports nothing on the way blocks (on a
    /// terminal only: hidden when `allowed` is false). Cleared when dropped.
    pub(crate) fn spinner(allowed: bool, message: &str) -> Spinner {
        let bar = if allowed {
            let bar = ProgressBar::new_spinner();
            bar.set_message(message.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(100));
            bar
        } else {
            ProgressBar::hidden()
        };
        Spinner(bar)
    }

    /// A bar of `len` steps for `name`, showing `message`.
    pub(crate) fn start(&self, name: &str, len: usize, message: String) {
        let bar = self.multi.add(ProgressBar::new(len as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(name.to_string());
        bar.set_message(message);
        self.with(|bars| {
            bars.insert(name.to_string(), bar);
        });
    }

    /// One bar for a whole run over `len` databases: done of all, the message (failures), the
    /// rate and the time left.
    pub(crate) fn start_run(&self, name: &str, len: usize) {
        let bar = self.multi.add(ProgressBar::new(len as u64));
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {pos}/{len} databases, {msg}, {per_sec}, {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message("0 failed");
        self.with(|bars| {
            bars.insert(name.to_string(), bar);
        });
    }

    /// `len` more steps on `name`'s bar.
    pub(crate) fn grow(&self, name: &str, len: usize) {
        self.with(|bars| {
            if let Some(bar) = bars.get(name) {
                bar.inc_length(len as u64);
            }
        });
    }

    pub(crate) fn message(&self, name: &str, message: String) {
        self.with(|bars| {
            if let Some(bar) = bars.get(name) {
                bar.set_message(message);
            }
        });
    }

    pub(crate) fn inc(&self, name: &str) {
        self.with(|bars| {
            if let Some(bar) = bars.get(name) {
                bar.inc(1);
            }
        });
    }

    /// Clears `name`'s bar: the summary that follows says how it ended.
    pub(crate) fn finish(&self, name: &str) {
        self.with(|bars| {
            if let Some(bar) = bars.remove(name) {
                bar.finish_and_clear();
            }
        });
    }

    /// A poisoned lock (a panic while drawing) only stops the drawing.
    fn with(&self, f: impl FnOnce(&mut HashMap<String, ProgressBar>)) {
        if let Ok(mut bars) = self.bars.lock() {
            f(&mut bars);
        }
    }
}
