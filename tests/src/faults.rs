//! A fault-injecting [`Driver`] wrapper, for testing what the runner does when a database call
//! fails at exactly the wrong moment.
//!
//! Real servers fail rarely and never on cue, yet every failure branch of the runner decides what
//! a user is told about their database ("rolled back", "partially applied", "unknown — check
//! before running again"). [`FaultDriver`] wraps any real driver and, by a plan of [`Fault`]s,
//! makes one chosen call fail in a chosen way while every other call reaches the real database.
//! The tests then read the database back over a fresh connection and compare what the runner
//! *said* with what really *is*.
//!
//! ```ignore
//! let (mut driver, faults) = FaultDriver::new(db.connect().await);
//! // Fail b's BEGIN: the first BEGIN after a's body ran.
//! faults.add(
//!     Fault::on(CallKind::Begin)
//!         .after(CallKind::ExecuteScript, "t_a")
//!         .then(Action::error(ErrorKind::Sql, "no more transactions")),
//! );
//! let result = runner.upgrade(&mut driver, "heads", &no_events).await;
//! assert!(faults.unfired().is_empty(), "the fault fired");
//! ```
//!
//! The handle ([`FaultHandle`]) is shared with the driver: a test inspects the log of calls the
//! runner made (kind, SQL, whether it reached the database, what it answered) and may change the
//! plan while the driver is in use.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

// The `Driver` trait is written with `async_trait`; the tests crate reaches the macro through
// sea-orm-migration's prelude (a dependency it already has) rather than a dependency of its own.
use braid_seaorm::prelude::async_trait;

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, Rows, Schema, Value};

/// Which [`Driver`] method a call is. Calls of every kind are logged; faults can target any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    ServerVersion,
    ExecuteScript,
    Execute,
    Query,
    Begin,
    Commit,
    Rollback,
    Lock,
    Unlock,
    LockHeld,
    SessionId,
    SessionActivity,
    Uncommitted,
    Introspect,
    Close,
}

/// What an injected fault does to the call it fires on.
#[derive(Debug, Clone)]
pub enum Action {
    /// Answers with this error; the call never reaches the database (a server that refused it
    /// before doing anything).
    Fail(DriverError),
    /// The call reaches the database and takes effect, but is answered with this error (work
    /// done, failure reported: the runner must not believe the answer blindly).
    FailAfter(DriverError),
    /// The connection drops, for good, like a closed socket: this call and every later one fail
    /// with [`ErrorKind::Connect`]. With `reached`, the call took effect on the database before
    /// the connection died (for `commit`: a COMMIT that committed but whose answer was lost);
    /// without it, it never arrived. Either way the server then aborts whatever transaction is
    /// still open on the session (the wrapper rolls the inner connection back), as a real server
    /// does when a client disappears.
    Disconnect { reached: bool },
    /// The connection drops during this call and the driver reconnects: this call fails with
    /// [`ErrorKind::Connect`] and the open transaction is aborted (as for [`Action::Disconnect`]),
    /// but later calls work again on the new session. This is how a runner can learn, by reading
    /// the store again, whether a COMMIT whose answer was lost took effect (`reached`) or not.
    Reconnect { reached: bool },
    /// The migration lock is lost (its session ended: an idle timeout, a failover). From this
    /// call on, `lock_held` answers `Ok(false)` and `unlock` fails with [`ErrorKind::LockLost`].
    /// The real lock is released too (as the call starts), so another run really could take it.
    /// The triggering call itself otherwise proceeds normally: a `commit` still commits.
    LoseLock,
}

impl Action {
    /// [`Action::Fail`] with an error of `kind` and `message`.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Self {
        Action::Fail(DriverError::new(kind, message))
    }

    /// [`Action::FailAfter`] with an error of `kind` and `message`.
    pub fn error_after(kind: ErrorKind, message: impl Into<String>) -> Self {
        Action::FailAfter(DriverError::new(kind, message))
    }
}

/// One planned fault: which call it fires on and what it does.
///
/// It fires on the `nth` (1-based) call of `kind` whose SQL (or lock key) contains every
/// [`Fault::containing`] text and none of the [`Fault::excluding`] ones, counted from when the
/// fault is armed: at once, or — with [`Fault::after`] — once a
/// given call has been seen. Arming on an earlier call names a step without counting the
/// runner's bookkeeping calls, which change as the runner does ("the first BEGIN after `a`'s
/// body" rather than "the third BEGIN"). A fault fires once, unless [`Fault::every`].
#[derive(Debug, Clone)]
pub struct Fault {
    kind: CallKind,
    contains: Vec<String>,
    excludes: Vec<String>,
    nth: usize,
    every: bool,
    armed_by: Option<(CallKind, String)>,
    action: Action,
    // Progress, kept in the plan.
    armed: bool,
    seen: usize,
    fired: usize,
}

impl Fault {
    /// A fault on the first call of `kind`, failing it with an [`ErrorKind::Sql`] error until
    /// [`Fault::then`] says otherwise.
    pub fn on(kind: CallKind) -> Self {
        Fault {
            kind,
            contains: Vec::new(),
            excludes: Vec::new(),
            nth: 1,
            every: false,
            armed_by: None,
            action: Action::error(ErrorKind::Sql, "injected failure"),
            armed: true,
            seen: 0,
            fired: 0,
        }
    }

    /// Only calls whose SQL (or, for the lock calls, key) contains `text` count (all of them,
    /// when called more than once). Substrings, not whole statements, so that a fault survives
    /// the runner rendering a statement differently (a schema-qualified table, a new column).
    pub fn containing(mut self, text: impl Into<String>) -> Self {
        self.contains.push(text.into());
        self
    }

    /// Calls whose SQL contains `text` do not count (e.g. the `_log` table when aiming at the
    /// version table).
    pub fn excluding(mut self, text: impl Into<String>) -> Self {
        self.excludes.push(text.into());
        self
    }

    fn matches(&self, kind: CallKind, sql: &str) -> bool {
        self.kind == kind
            && self.contains.iter().all(|c| sql.contains(c.as_str()))
            && !self.excludes.iter().any(|c| sql.contains(c.as_str()))
    }

    /// Fires on the `n`th matching call (1-based), not the first.
    pub fn nth(mut self, n: usize) -> Self {
        assert!(n >= 1, "calls are counted from 1");
        self.nth = n;
        self
    }

    /// Fires on the `n`th matching call and on every one after it.
    pub fn every(mut self) -> Self {
        self.every = true;
        self
    }

    /// Counts only calls made after a call of `kind` whose SQL contains `text` (the arming call
    /// itself does not count).
    pub fn after(mut self, kind: CallKind, text: impl Into<String>) -> Self {
        self.armed_by = Some((kind, text.into()));
        self.armed = false;
        self
    }

    /// What the fault does.
    pub fn then(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// How many times it fired.
    pub fn fired(&self) -> usize {
        self.fired
    }

    /// What it is, for assertion messages.
    pub fn describe(&self) -> String {
        let mut s = format!("call #{} of {:?}", self.nth, self.kind);
        if !self.contains.is_empty() {
            s.push_str(&format!(" containing {:?}", self.contains));
        }
        if !self.excludes.is_empty() {
            s.push_str(&format!(" excluding {:?}", self.excludes));
        }
        if let Some((k, t)) = &self.armed_by {
            s.push_str(&format!(" after {k:?} containing {t:?}"));
        }
        s.push_str(&format!(" -> {:?}", self.action));
        s
    }
}

/// One call the wrapper saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub kind: CallKind,
    /// The SQL (`execute_script`, `execute`, `query`), the lock key (`lock`, `unlock`,
    /// `lock_held`) or the session id (`session_activity`); empty for the others.
    pub sql: String,
    /// Whether the call reached the wrapped driver.
    pub reached: bool,
    /// Whether a planned fault fired on it.
    pub injected: bool,
    /// What the caller was answered: `Ok` or the error's kind; `None` while in flight.
    pub outcome: Option<Result<(), ErrorKind>>,
}

#[derive(Debug, Default)]
struct State {
    plan: Vec<Fault>,
    calls: Vec<Call>,
    /// Index (into `calls`) of the call during which the connection dropped for good.
    disconnected_at: Option<usize>,
    /// Index of the call during which the lock was lost; cleared by a successful `lock`.
    lock_lost_at: Option<usize>,
    /// The key of the lock the inner driver holds, to release it when the lock is "lost".
    locked_key: Option<String>,
}

/// The test's side of a [`FaultDriver`]: the plan and the call log. Clones share both.
#[derive(Debug, Clone, Default)]
pub struct FaultHandle(Arc<Mutex<State>>);

impl FaultHandle {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test must not turn every later look at the log into a second panic.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a fault to the plan. Every fault counts the calls it matches; at most one fires per
    /// call: if two are due on the same call, the first added fires and the other never does
    /// (it stays in [`FaultHandle::unfired`]).
    pub fn add(&self, fault: Fault) {
        self.state().plan.push(fault);
    }

    /// Removes every planned fault (a lost connection or lock stays lost).
    pub fn clear(&self) {
        self.state().plan.clear();
    }

    /// The planned faults that have not fired, described: a test asserts this is empty so that
    /// a fault that never fired cannot make a test pass vacuously.
    pub fn unfired(&self) -> Vec<String> {
        self.state()
            .plan
            .iter()
            .filter(|f| f.fired == 0)
            .map(Fault::describe)
            .collect()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// How many calls of `kind` whose SQL contains `text` were made so far ("" for any).
    pub fn count(&self, kind: CallKind, text: &str) -> usize {
        self.state()
            .calls
            .iter()
            .filter(|c| c.kind == kind && c.sql.contains(text))
            .count()
    }

    /// Calls of `kind` whose SQL contains `text` that reached the database at or after call
    /// index `from` — e.g. migration bodies run after the lock was lost.
    pub fn reached_since(&self, from: usize, kind: CallKind, text: &str) -> Vec<Call> {
        self.state()
            .calls
            .iter()
            .skip(from)
            .filter(|c| c.kind == kind && c.reached && c.sql.contains(text))
            .cloned()
            .collect()
    }

    /// The index of the call during which the lock was lost, if it was.
    pub fn lock_lost_at(&self) -> Option<usize> {
        self.state().lock_lost_at
    }

    /// The index of the call during which the connection dropped for good, if it did.
    pub fn disconnected_at(&self) -> Option<usize> {
        self.state().disconnected_at
    }

    /// Drops the connection now: every later call fails with [`ErrorKind::Connect`]. (The
    /// inner transaction is aborted on the next call, which is when the wrapper can await.)
    pub fn disconnect(&self) {
        let mut s = self.state();
        let at = s.calls.len();
        s.disconnected_at.get_or_insert(at);
    }

    /// Loses the lock now: `lock_held` answers `false` and `unlock` fails from the next call on.
    /// (The real lock is released on that next call.)
    pub fn lose_lock(&self) {
        let mut s = self.state();
        let at = s.calls.len();
        s.lock_lost_at.get_or_insert(at);
    }

    /// Logs a call and decides its fate: the fault that fires on it, if any.
    fn begin_call(&self, kind: CallKind, sql: &str) -> (usize, Option<Action>) {
        let mut s = self.state();
        let index = s.calls.len();
        s.calls.push(Call {
            kind,
            sql: sql.to_string(),
            reached: false,
            injected: false,
            outcome: None,
        });
        let mut fire = None;
        for f in &mut s.plan {
            let arming = !f.armed
                && f.armed_by
                    .as_ref()
                    .is_some_and(|(k, t)| *k == kind && sql.contains(t.as_str()));
            if arming {
                f.armed = true;
                continue;
            }
            if !f.armed || !f.matches(kind, sql) {
                continue;
            }
            f.seen += 1;
            let due = f.seen == f.nth || (f.every && f.seen > f.nth);
            if due && fire.is_none() {
                f.fired += 1;
                fire = Some(f.action.clone());
            }
        }
        if fire.is_some() {
            s.calls[index].injected = true;
        }
        (index, fire)
    }

    fn reached(&self, index: usize) {
        self.state().calls[index].reached = true;
    }

    fn end_call<T>(&self, index: usize, result: &Result<T, DriverError>) {
        self.state().calls[index].outcome = Some(result.as_ref().map(|_| ()).map_err(|e| e.kind));
    }
}

/// A [`Driver`] that passes every call to the driver it wraps, except those its plan makes fail.
/// See the [module documentation](self).
///
/// Every trait method is forwarded explicitly, the defaulted ones too (`lock_held`,
/// `session_id`, `session_activity`, `split_script`): a wrapper that let a default answer
/// instead would silently change the backend under test (a lock that can never be lost, no
/// sessions). A method added to the trait must be added here.
pub struct FaultDriver {
    inner: Box<dyn Driver>,
    handle: FaultHandle,
    name: String,
    /// The inner transaction was already aborted for a lost connection (done once).
    aborted: bool,
}

/// What [`FaultDriver::pre`] decided about a call.
enum Gate {
    /// Answer this error without reaching the inner driver (already logged).
    Answer(DriverError),
    /// Run the call on the inner driver, then [`FaultDriver::post`].
    Run(Ticket),
}

/// A call let through, and what happens after the inner driver answered.
struct Ticket {
    index: usize,
    kind: CallKind,
    sql: String,
    /// [`Action::FailAfter`], or a `Disconnect`/`Reconnect` that reached the database.
    after: Option<Action>,
}

impl FaultDriver {
    /// Wraps `inner`, with an empty plan; the handle plans faults and reads the log.
    pub fn new(inner: Box<dyn Driver>) -> (Self, FaultHandle) {
        let handle = FaultHandle::default();
        let name = format!("faults over {}", inner.name());
        let driver = FaultDriver {
            inner,
            handle: handle.clone(),
            name,
            aborted: false,
        };
        (driver, handle)
    }

    pub fn handle(&self) -> FaultHandle {
        self.handle.clone()
    }

    fn connect_error(kind: CallKind) -> DriverError {
        DriverError::new(
            ErrorKind::Connect,
            format!("connection lost during {kind:?} (injected): server closed the connection"),
        )
    }

    fn lock_lost_error(key: &str) -> DriverError {
        DriverError::new(
            ErrorKind::LockLost,
            format!("the migration lock `{key}` was lost (injected): its session ended"),
        )
    }

    /// The server aborts the open transaction of a session that died: roll the inner connection
    /// back (there may be no transaction; any error is the server's "nothing to roll back").
    async fn abort_session(&mut self) {
        let _ = self.inner.rollback().await;
    }

    /// The connection dropped: abort its transaction; unless the driver reconnects, every later
    /// call fails.
    async fn drop_connection(&mut self, index: usize, reconnects: bool) {
        self.abort_session().await;
        if !reconnects {
            self.aborted = true;
            self.handle.state().disconnected_at.get_or_insert(index);
        }
    }

    /// Makes a lost lock real: the inner driver releases it, so another run could take it.
    async fn release_lost_lock(&mut self) {
        let key = {
            let mut s = self.handle.state();
            if s.lock_lost_at.is_none() {
                return;
            }
            s.locked_key.take()
        };
        if let Some(key) = key {
            let _ = self.inner.unlock(&key).await;
        }
    }

    /// Logs a call and applies the plan before it: a lost connection, a fault that answers
    /// without reaching the database, a lock to lose.
    async fn pre(&mut self, kind: CallKind, sql: &str) -> Gate {
        let (index, fire) = self.handle.begin_call(kind, sql);
        let answer = |this: &Self, e: DriverError| {
            this.handle.end_call::<()>(index, &Err(e.clone()));
            Gate::Answer(e)
        };
        if self.handle.disconnected_at().is_some() {
            if !self.aborted {
                self.aborted = true;
                self.abort_session().await;
            }
            return answer(self, Self::connect_error(kind));
        }
        let after = match fire {
            None => None,
            Some(Action::Fail(e)) => return answer(self, e),
            Some(Action::Disconnect { reached: false }) => {
                self.drop_connection(index, false).await;
                return answer(self, Self::connect_error(kind));
            }
            Some(Action::Reconnect { reached: false }) => {
                self.drop_connection(index, true).await;
                return answer(self, Self::connect_error(kind));
            }
            Some(Action::LoseLock) => {
                self.handle.state().lock_lost_at.get_or_insert(index);
                None
            }
            Some(
                a @ (Action::FailAfter(_)
                | Action::Disconnect { reached: true }
                | Action::Reconnect { reached: true }),
            ) => Some(a),
        };
        self.release_lost_lock().await;
        Gate::Run(Ticket {
            index,
            kind,
            sql: sql.to_string(),
            after,
        })
    }

    /// Applies the plan after the inner driver answered `result` and logs the answer.
    async fn post<T: Send>(
        &mut self,
        t: Ticket,
        result: Result<T, DriverError>,
    ) -> Result<T, DriverError> {
        let result = match t.after {
            None => result,
            Some(Action::FailAfter(e)) => Err(e),
            Some(Action::Reconnect { .. }) => {
                self.drop_connection(t.index, true).await;
                Err(Self::connect_error(t.kind))
            }
            Some(_) => {
                self.drop_connection(t.index, false).await;
                Err(Self::connect_error(t.kind))
            }
        };
        if result.is_ok() {
            let mut s = self.handle.state();
            match t.kind {
                // A lock taken (again) is held: forget an earlier loss.
                CallKind::Lock => {
                    s.lock_lost_at = None;
                    s.locked_key = Some(t.sql.clone());
                }
                CallKind::Unlock => s.locked_key = None,
                _ => {}
            }
        }
        self.handle.end_call(t.index, &result);
        result
    }

    /// Whether the lock is lost (the lock calls then answer for themselves).
    fn lock_lost(&self) -> bool {
        self.handle.lock_lost_at().is_some()
    }
}

/// Runs one call through the plan: `$call` is the inner driver's call, on `$d`.
macro_rules! through {
    ($self:ident, $kind:expr, $sql:expr, |$d:ident| $call:expr) => {
        match $self.pre($kind, $sql).await {
            Gate::Answer(e) => Err(e),
            Gate::Run(ticket) => {
                $self.handle.reached(ticket.index);
                let $d = &mut $self.inner;
                let result = $call.await;
                $self.post(ticket, result).await
            }
        }
    };
}

#[async_trait::async_trait]
impl Driver for FaultDriver {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    fn name(&self) -> &str {
        &self.name
    }

    async fn server_version(&mut self) -> Result<String, DriverError> {
        through!(self, CallKind::ServerVersion, "", |d| d.server_version())
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), DriverError> {
        through!(self, CallKind::ExecuteScript, sql, |d| d
            .execute_script(sql))
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        through!(self, CallKind::Execute, sql, |d| d.execute(sql, params))
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DriverError> {
        through!(self, CallKind::Query, sql, |d| d.query(sql, params))
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        through!(self, CallKind::Begin, "", |d| d.begin())
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
        through!(self, CallKind::Commit, "", |d| d.commit())
    }

    async fn rollback(&mut self) -> Result<(), DriverError> {
        through!(self, CallKind::Rollback, "", |d| d.rollback())
    }

    async fn lock(&mut self, key: &str, timeout: Duration) -> Result<(), DriverError> {
        through!(self, CallKind::Lock, key, |d| d.lock(key, timeout))
    }

    /// A lost lock makes `unlock` fail with [`ErrorKind::LockLost`], as the trait asks of a
    /// driver whose lock session ended (the real lock was already released when it was lost).
    async fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
        match self.pre(CallKind::Unlock, key).await {
            Gate::Answer(e) => Err(e),
            Gate::Run(ticket) if self.lock_lost() => {
                self.post(ticket, Err(Self::lock_lost_error(key))).await
            }
            Gate::Run(ticket) => {
                self.handle.reached(ticket.index);
                let result = self.inner.unlock(key).await;
                self.post(ticket, result).await
            }
        }
    }

    /// A lost lock makes `lock_held` answer `Ok(false)`: not an error — the server answered, and
    /// the answer is "not any more".
    async fn lock_held(&mut self, key: &str) -> Result<bool, DriverError> {
        match self.pre(CallKind::LockHeld, key).await {
            Gate::Answer(e) => Err(e),
            Gate::Run(ticket) if self.lock_lost() => self.post(ticket, Ok(false)).await,
            Gate::Run(ticket) => {
                self.handle.reached(ticket.index);
                let result = self.inner.lock_held(key).await;
                self.post(ticket, result).await
            }
        }
    }

    /// The inner driver's condition, or one never true once the lock is lost (the real lock is
    /// released then too, so the server would say the same).
    fn lock_guard(&self, key: &str) -> Option<String> {
        let guard = self.inner.lock_guard(key)?;
        Some(if self.lock_lost() {
            "1 = 0".into()
        } else {
            guard
        })
    }

    async fn session_id(&mut self) -> Result<Option<String>, DriverError> {
        through!(self, CallKind::SessionId, "", |d| d.session_id())
    }

    async fn session_activity(&mut self, id: &str) -> Result<Option<String>, DriverError> {
        through!(self, CallKind::SessionActivity, id, |d| d
            .session_activity(id))
    }

    async fn uncommitted(&mut self) -> Result<Option<bool>, DriverError> {
        through!(self, CallKind::Uncommitted, "", |d| d.uncommitted())
    }

    async fn introspect(&mut self) -> Result<Schema, DriverError> {
        through!(self, CallKind::Introspect, "", |d| d.introspect())
    }

    fn split_script(&self, sql: &str) -> Vec<String> {
        self.inner.split_script(sql)
    }

    /// Closes the inner driver in every case, so a test never leaks a connection (or the lock
    /// it holds), and answers as planned: an injected failure or a lost connection is still
    /// reported.
    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        let FaultDriver { inner, handle, .. } = *self;
        let (index, fire) = handle.begin_call(CallKind::Close, "");
        handle.reached(index);
        let closed = inner.close().await;
        let result = if handle.disconnected_at().is_some() {
            Err(Self::connect_error(CallKind::Close))
        } else {
            match fire {
                None | Some(Action::LoseLock) => closed,
                Some(Action::Fail(e) | Action::FailAfter(e)) => Err(e),
                Some(Action::Disconnect { .. } | Action::Reconnect { .. }) => {
                    Err(Self::connect_error(CallKind::Close))
                }
            }
        };
        handle.end_call(index, &result);
        result
    }
}
