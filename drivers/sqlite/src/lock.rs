//! The migration lock: an OS advisory lock on a sidecar file next to the database.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use braid_driver::{DriverError, ErrorKind};

/// How often a waiting [`Driver::lock`](braid_driver::Driver::lock) retries. Short enough that a waiter notices
/// a released lock quickly, long enough to cost nothing measurable.
pub const LOCK_POLL_INTERVAL: Duration = Duration::from_millis(25);

/// The locks one driver holds, by key.
#[derive(Debug, Default)]
pub(crate) struct Locks {
    held: HashMap<String, Option<File>>,
}

/// The sidecar file for `key`: `<db file>.<key>.lock`, with anything but ASCII letters, digits,
/// `-` and `_` in the key replaced by `_` so a key can never name another directory.
pub fn lock_path(db: &Path, key: &str) -> PathBuf {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut name = db.as_os_str().to_owned();
    name.push(format!(".{safe}.lock"));
    PathBuf::from(name)
}

impl Locks {
    /// Takes the lock on the file for `db`, or — for an in-memory database (`db` is `None`),
    /// which no other connection can reach — simply records it.
    pub(crate) fn lock(
        &mut self,
        db: Option<&Path>,
        key: &str,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        if self.held.contains_key(key) {
            // Already ours: taking it again must not deadlock against ourselves.
            return Ok(());
        }
        let Some(db) = db else {
            self.held.insert(key.to_string(), None);
            return Ok(());
        };
        let path = lock_path(db, key);
        let io = |what: &str, e: std::io::Error| {
            DriverError::new(
                ErrorKind::Io,
                format!("cannot {what} lock file '{}': {e}", path.display()),
            )
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("open", e))?;
        let started = Instant::now();
        let deadline = started + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(timeout_error(&path, key, started.elapsed()));
                    }
                    // Blocking sleep, not a runtime timer: every call of this driver runs inline
                    // (see the crate docs), and this keeps it usable outside a tokio runtime,
                    // e.g. behind the plugin C ABI.
                    std::thread::sleep(LOCK_POLL_INTERVAL.min(deadline - now));
                }
                Err(TryLockError::Error(e)) => return Err(io("lock", e)),
            }
        }
        // Best effort: tell a waiter who holds the lock. The lock itself is what matters.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "pid {}", std::process::id()))
            .and_then(|()| file.flush());
        self.held.insert(key.to_string(), Some(file));
        Ok(())
    }

    /// Releases `key` if held. The lock file stays: deleting it would let a waiter that already
    /// opened it lock an unlinked file while a newcomer locks a fresh one.
    pub(crate) fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
        if let Some(Some(file)) = self.held.remove(key) {
            let _ = file.set_len(0);
            file.unlock().map_err(|e| {
                DriverError::new(ErrorKind::Io, format!("cannot release lock '{key}': {e}"))
            })?;
        }
        Ok(())
    }

    pub(crate) fn release_all(&mut self) {
        for (_, file) in self.held.drain() {
            if let Some(file) = file {
                let _ = file.set_len(0);
                let _ = file.unlock();
            }
        }
    }
}

fn timeout_error(path: &Path, key: &str, waited: Duration) -> DriverError {
    let holder = std::fs::read_to_string(path).ok().and_then(|s| {
        s.trim()
            .strip_prefix("pid ")
            .and_then(|p| p.trim().parse::<u32>().ok())
    });
    let who = match holder {
        Some(pid) if pid == std::process::id() => {
            format!("another connection in this process (pid {pid}) holds it")
        }
        Some(pid) => format!("another braid process (pid {pid}) is migrating this database"),
        None => "another braid process is migrating this database".to_string(),
    };
    DriverError::new(
        ErrorKind::LockTimeout,
        format!(
            "timed out after {} ms waiting for migration lock '{key}' (lock file '{}'): {who}",
            waited.as_millis(),
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_path_is_a_sibling() {
        assert_eq!(
            lock_path(Path::new("/d/app.db"), "braid"),
            PathBuf::from("/d/app.db.braid.lock")
        );
        assert_eq!(
            lock_path(Path::new("/d/app.db"), "../x y"),
            PathBuf::from("/d/app.db.___x_y.lock")
        );
    }
}
