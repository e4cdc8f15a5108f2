//! Work on several databases at once: [`run_all`](crate::run_all) runs an
//! [`Operation`](crate::Operation) on each through it, and callers whose work per database is
//! something else use it directly (`verify` creates a scratch database, walks a history in it
//! and drops it).
//!
//! Each item runs on a worker thread of its own with a current-thread tokio runtime, at most
//! `jobs` at once. The
//! SQLite driver and inline plugins run their calls on the calling thread, so futures polled
//! together in one task would run the databases one after the other. Scoped threads let the
//! work borrow what the caller holds; every connection lives and dies on its worker's runtime.
//! [`on_workers`] therefore blocks: call it from outside async code.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

/// A worker thread's runtime, handed to the work of each item it takes.
pub struct Worker {
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Worker {
    /// Runs `future` to completion on this worker's runtime. A panic inside it (a driver's, a
    /// migration's) comes back as [`Panicked`] instead of unwinding through the caller, so work
    /// made of phases can still run its clean-up phase (dropping a scratch database) after one
    /// of them panicked.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, Panicked> {
        std::panic::catch_unwind(AssertUnwindSafe(|| self.runtime.block_on(future)))
            .map_err(|panic| Panicked::from_payload(panic.as_ref()))
    }
}

/// A panic caught while working on one item: the panic's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("internal error (a panic in a driver or a migration): {message}")]
pub struct Panicked {
    pub message: String,
}

impl Panicked {
    fn from_payload(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Panicked { message }
    }
}

/// Why an item's work did not return.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WorkerError {
    /// The worker's runtime could not be built (every item of that worker fails with it).
    #[error("cannot start an async runtime: {0}")]
    Runtime(#[source] Arc<std::io::Error>),
    /// The work panicked outside [`Worker::block_on`].
    #[error(transparent)]
    Panicked(#[from] Panicked),
}

/// Runs `work` on every item, at most `jobs` at a time, each on a worker thread with its own
/// current-thread runtime, and blocks until all are done. Results come back in input order; a
/// panic fails its own item only.
pub fn on_workers<T, R, F>(items: Vec<T>, jobs: usize, work: F) -> Vec<Result<R, WorkerError>>
where
    T: Send,
    R: Send,
    F: Fn(T, &Worker) -> R + Sync,
{
    on_workers_then(items, jobs, work, |_: &Worker| {})
}

/// [`on_workers`], then `finish` on each worker once the queue is empty, on that worker's
/// thread and runtime (closing what its items left open for the next one).
pub fn on_workers_then<T, R, F, G>(
    items: Vec<T>,
    jobs: usize,
    work: F,
    finish: G,
) -> Vec<Result<R, WorkerError>>
where
    T: Send,
    R: Send,
    F: Fn(T, &Worker) -> R + Sync,
    G: Fn(&Worker) + Sync,
{
    let count = items.len();
    let queue: Mutex<VecDeque<(usize, T)>> = Mutex::new(items.into_iter().enumerate().collect());
    let results: Mutex<Vec<Option<Result<R, WorkerError>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, count.max(1)) {
            scope.spawn(|| {
                let worker = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| Worker { runtime })
                    .map_err(Arc::new);
                while let Some((index, item)) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    let result = match &worker {
                        Ok(worker) => {
                            std::panic::catch_unwind(AssertUnwindSafe(|| work(item, worker)))
                                .map_err(|panic| Panicked::from_payload(panic.as_ref()).into())
                        }
                        Err(e) => Err(WorkerError::Runtime(Arc::clone(e))),
                    };
                    if let Ok(mut slots) = results.lock() {
                        slots[index] = Some(result);
                    }
                }
                if let Ok(worker) = &worker {
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| finish(worker)));
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Runs one future to completion on a worker thread of its own ([`on_workers`] with one item):
/// for a facade call that opens a connection of its own from synchronous code.
pub fn on_a_worker<T: Send>(work: impl Future<Output = T> + Send) -> Result<T, WorkerError> {
    let mut results = on_workers(vec![work], 1, |work, worker| worker.block_on(work));
    match results.pop() {
        Some(result) => Ok(result??),
        None => Err(WorkerError::Panicked(Panicked {
            message: "the worker returned nothing".to_string(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_in_order_and_a_panic_fails_its_own() {
        let results = on_workers(vec![1, 2, 3, 4], 2, |n: i32, worker: &Worker| {
            worker.block_on(async move {
                if n == 3 {
                    panic!("three");
                }
                n * 10
            })
        });
        let values: Vec<Option<i32>> = results
            .into_iter()
            .map(|r| r.ok().and_then(Result::ok))
            .collect();
        assert_eq!(values, [Some(10), Some(20), None, Some(40)]);
    }

    #[test]
    fn work_goes_on_after_a_panicking_phase() {
        let results = on_workers(vec![()], 1, |(), worker: &Worker| {
            let first: Result<(), Panicked> = worker.block_on(async { panic!("phase one") });
            let cleanup = worker.block_on(async { "cleaned up" });
            (first, cleanup)
        });
        let Ok((Err(panicked), Ok(cleanup))) = &results[0] else {
            panic!("{results:?}");
        };
        assert_eq!(panicked.message, "phase one");
        assert_eq!(*cleanup, "cleaned up");
    }
}
