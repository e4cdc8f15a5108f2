//! Running Alembic: which command, the scratch ini files that point it at each dialect, and
//! running many invocations at once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use braid_driver::Dialect;

use super::ini;
use super::layout::Layout;
use super::output::Direction;
use crate::ImportError;

/// How Alembic is started: a program and the arguments before Alembic's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Alembic {
    program: String,
    args: Vec<String>,
}

impl Alembic {
    /// The configured command, else `alembic` when it is on `PATH`, else `python3 -m alembic`.
    pub fn resolve(command: Option<&[String]>) -> Alembic {
        if let Some((program, args)) = command.and_then(<[String]>::split_first) {
            return Alembic {
                program: program.clone(),
                args: args.to_vec(),
            };
        }
        if on_path("alembic") {
            return Alembic {
                program: "alembic".to_string(),
                args: Vec::new(),
            };
        }
        Alembic {
            program: "python3".to_string(),
            args: vec!["-m".to_string(), "alembic".to_string()],
        }
    }

    /// The command as a user would type it, for messages.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whether an executable named `name` is in one of `PATH`'s directories.
fn on_path(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        let candidate = dir.join(name);
        candidate.is_file() || (cfg!(windows) && candidate.with_extension("exe").is_file())
    })
}

/// A placeholder URL per dialect: offline mode only needs the dialect's name, never a server
/// (nor its Python driver).
fn url(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "postgresql://",
        Dialect::Mysql => "mysql://",
        Dialect::Sqlite => "sqlite://",
    }
}

/// A private temporary directory holding one ini file per dialect; removed when dropped.
///
/// The copies live outside the project, so that reading a project never writes into it; every
/// `%(here)s` in them is replaced by the original's directory, so paths resolve as they did.
#[derive(Debug)]
pub(super) struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    pub fn new(layout: &Layout, dialects: &[Dialect]) -> Result<Scratch, ImportError> {
        let scratch = Scratch { dir: fresh_dir()? };
        for &dialect in dialects {
            let text = match &layout.ini {
                Some((_, text)) => ini::rewrite(text, &layout.source_dir, url(dialect)),
                None => ini::synthesize(&layout.script_dir, url(dialect)),
            };
            let path = scratch.ini(dialect);
            std::fs::write(&path, text).map_err(|e| ImportError::io(&path, e))?;
        }
        Ok(scratch)
    }

    /// The ini file for `dialect`.
    pub fn ini(&self, dialect: Dialect) -> PathBuf {
        self.dir.join(format!("{dialect}.ini"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new directory under the system's temporary directory, named for this process; on Unix
/// only its owner may enter it (mode 0700: the ini copies carry the project's settings).
fn fresh_dir() -> Result<PathBuf, ImportError> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "braid-alembic-{}-{nanos}-{attempt}",
            std::process::id()
        ));
        match private_dir_builder().create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(ImportError::io(&dir, e)),
        }
    }
    let error = last.unwrap_or_else(|| std::io::Error::other("no free name"));
    Err(ImportError::io(&base, error))
}

#[cfg(unix)]
fn private_dir_builder() -> std::fs::DirBuilder {
    use std::os::unix::fs::DirBuilderExt;
    let mut builder = std::fs::DirBuilder::new();
    builder.mode(0o700);
    builder
}

#[cfg(not(unix))]
fn private_dir_builder() -> std::fs::DirBuilder {
    std::fs::DirBuilder::new()
}

/// One Alembic invocation: `alembic -c <dialect ini> <upgrade|downgrade> <range> --sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Job {
    pub dialect: Dialect,
    pub direction: Direction,
    /// `start:end` in Alembic's terms (`base:heads`, `1a2b:3c4d`).
    pub range: String,
}

impl Job {
    /// The command line, for messages.
    pub fn display(&self, alembic: &Alembic) -> String {
        format!(
            "{} {} {} --sql",
            alembic.display(),
            self.direction.command(),
            self.range
        )
    }

    fn command(&self, alembic: &Alembic, scratch: &Scratch, cwd: &Path) -> Command {
        let mut command = Command::new(&alembic.program);
        command
            .args(&alembic.args)
            .arg("-c")
            .arg(scratch.ini(self.dialect))
            .arg(self.direction.command())
            .arg(&self.range)
            .arg("--sql")
            .current_dir(cwd)
            // Importing the revision files must not leave __pycache__ in the project.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

/// Runs every job, several at once (each is mostly Python starting up), and returns their
/// outputs in the jobs' order.
pub(super) fn run_all(
    jobs: &[Job],
    alembic: &Alembic,
    scratch: &Scratch,
    cwd: &Path,
) -> Vec<std::io::Result<Output>> {
    let workers = std::thread::available_parallelism()
        .map_or(4, usize::from)
        .clamp(1, 8)
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<std::io::Result<Output>>>> =
        std::sync::Mutex::new(jobs.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let output = job.command(alembic, scratch, cwd).output();
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(output);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(std::io::Error::other("the job was not run"))))
        .collect()
}

/// The line of Alembic's error output that says what went wrong: the last one that is not a
/// log line (`FAILED: …` for Alembic's own errors, the exception for a Python traceback),
/// shortened to fit in one line of a message.
pub(super) fn error_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| !l.is_empty() && !l.starts_with("INFO "))
        .unwrap_or("it exited with an error and printed nothing");
    let line = line.strip_prefix("FAILED:").map_or(line, str::trim);
    shorten(line, 300)
}

/// Whether Alembic's log shows it rendered for another dialect than `dialect` asked for: an
/// `env.py` that takes its URL from somewhere else than `sqlalchemy.url` (an environment
/// variable, say) renders every dialect alike, as its own. `None` when it rendered `dialect`,
/// or its log does not say (logging configured otherwise); else the implementation it used.
pub(super) fn other_dialect(stderr: &[u8], dialect: Dialect) -> Option<String> {
    let expected = match dialect {
        Dialect::Postgres => "PostgresqlImpl",
        Dialect::Mysql => "MySQLImpl",
        Dialect::Sqlite => "SQLiteImpl",
    };
    let text = String::from_utf8_lossy(stderr);
    let used = text
        .lines()
        .find_map(|l| l.split_once("Context impl ").map(|(_, rest)| rest))?
        .trim()
        .trim_end_matches('.');
    (used != expected).then(|| used.to_string())
}

/// `text` cut to `max` characters, with `…` when cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines() {
        let stderr = b"INFO  [alembic] Running upgrade\nTraceback:\n  File x\n\
                       AttributeError: 'NoneType' object has no attribute 'fetchall'\n\n";
        assert_eq!(
            error_line(stderr),
            "AttributeError: 'NoneType' object has no attribute 'fetchall'"
        );
        assert_eq!(
            error_line(b"ERROR [x] boom\n  FAILED: Can't locate revision\n"),
            "Can't locate revision"
        );
        assert!(error_line(b"").contains("printed nothing"));
    }

    #[test]
    fn sees_which_dialect_was_rendered() {
        let log = b"INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n";
        assert_eq!(other_dialect(log, Dialect::Postgres), None);
        assert_eq!(
            other_dialect(log, Dialect::Sqlite).as_deref(),
            Some("PostgresqlImpl")
        );
        assert_eq!(other_dialect(b"", Dialect::Sqlite), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_scratch_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = fresh_dir().unwrap();
        let mode = std::fs::metadata(&dir).map(|m| m.permissions().mode());
        std::fs::remove_dir(&dir).unwrap();
        assert_eq!(mode.unwrap() & 0o777, 0o700);
    }

    #[test]
    fn configured_command_wins() {
        let alembic = Alembic::resolve(Some(&[
            "py".to_string(),
            "-m".to_string(),
            "alembic".to_string(),
        ]));
        assert_eq!(alembic.display(), "py -m alembic");
    }
}
