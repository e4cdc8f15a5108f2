//! The keepalive of a lock connection, shared by the server drivers: a task that pings the
//! connection at an interval and whose running is the verdict on it.
//!
//! A lock lives as long as the server session of the connection that took it. The drivers
//! answer [`Driver::lock_held`](crate::Driver::lock_held) from this verdict without a round
//! trip, so it must never vouch for a connection wrongly: the flag is true only while the task
//! runs, and the task stops at the first ping that fails or is too slow (the ping closure
//! decides both), when the connection is gone, and however else it ends (a panic, an abort).
//! The task holds only a [`Weak`] reference, so it never keeps the connection open, and it is
//! aborted when the keepalive is dropped or stopped, so it never outlives its driver.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;

/// A running keepalive task and its verdict.
pub struct Keepalive {
    alive: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// Clears the flag when dropped: the task owns one, so the flag goes false however it ends.
struct ClearOnDrop(Arc<AtomicBool>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Keepalive {
    /// Spawns the task calling `ping` on `target` every `every`, the first call one interval
    /// from now; `ping` answers whether the connection answered in time (its own timeout: a
    /// MySQL connection behind a mutex must not count the wait for the mutex). Needs a tokio
    /// runtime with timers, as every Braid runtime is.
    pub fn spawn<T, F, Fut>(target: Weak<T>, every: Duration, ping: F) -> Keepalive
    where
        T: Send + Sync + 'static,
        F: Fn(Arc<T>) -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send,
    {
        let alive = Arc::new(AtomicBool::new(true));
        let clear = ClearOnDrop(Arc::clone(&alive));
        let task = tokio::spawn(async move {
            let _clear = clear;
            let start = tokio::time::Instant::now() + every;
            let mut ticks = tokio::time::interval_at(start, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(target) = target.upgrade() else {
                    return;
                };
                if !ping(target).await {
                    return;
                }
            }
        });
        Keepalive { alive, task }
    }

    /// Whether the task is still running, i.e. every ping so far succeeded in time.
    pub fn alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Stops the task and waits until it is gone (so it no longer holds the connection).
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for Keepalive {
    fn drop(&mut self) {
        self.task.abort();
    }
}
