//! The firing loop: one task per process that sleeps until the next due
//! slot of any schedule, fires what is due, and goes back to sleep. It never
//! polls by the minute: it wakes at the next fire time (read from the
//! store), or early when events are appended — which every schedule change
//! records, and which on PostgreSQL other processes' commits raise through
//! LISTEN/NOTIFY — or when the longest sleep ends (a guard against a wall
//! clock stepped backwards or forwards while asleep).
//!
//! What fires is decided in the store, in one transaction per batch (see
//! `steward_store::schedules`): the missed-run plan, the overlap policy,
//! the work started, the slot recorded. The loop adds what needs I/O the
//! store does not do — preconditions ([`preconditions`]) — and settles
//! fires whose work ended (outcomes, pause after failures, buffered fires),
//! at most every [`SETTLE_INTERVAL`] while events arrive.
//!
//! "Now" is the injected clock's. A loop sleeping on a `ManualClock` does
//! not see it move; tests call [`Scheduler::tick`] after moving it.

pub mod preconditions;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::schedule::{FireStatus, ScheduleFire};
use steward_store::{FireRequest, Store};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use self::preconditions::PreconditionChecker;
use crate::clock::SharedClock;
use crate::metrics::Metrics;

/// Due schedules are fired in batches of this many, one transaction each.
pub const FIRE_BATCH: usize = 1_000;
/// The longest the loop sleeps without looking again.
pub const LONGEST_SLEEP: Duration = Duration::from_secs(300);
/// Fires are settled at most this often while events keep arriving.
pub const SETTLE_INTERVAL: Duration = Duration::from_millis(200);
/// After a failing store, the loop waits this long before trying again.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// What one tick did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TickReport {
    /// Fires recorded that started work, wait or were skipped.
    pub fires: Vec<ScheduleFire>,
}

/// Fires schedules; cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    store: Arc<dyn Store>,
    clock: SharedClock,
    checker: PreconditionChecker,
    metrics: Option<Arc<Metrics>>,
}

impl Scheduler {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock, checker: PreconditionChecker) -> Self {
        Scheduler { store, clock, checker, metrics: None }
    }

    /// Measures each fire's delay (slot to commit) into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Fires every schedule due now, batch by batch, with their
    /// preconditions checked first.
    pub async fn tick(&self) -> steward_store::Result<TickReport> {
        let mut report = TickReport::default();
        // Bounded: a batch whose schedules another process holds stays due.
        for _ in 0..100 {
            let now = self.clock.now();
            let due = self.store.due_schedules(now, FIRE_BATCH).await?;
            if due.is_empty() {
                break;
            }
            let mut checks = HashMap::new();
            for schedule in &due {
                if let Some(check) = self.checker.check(schedule).await {
                    checks.insert(schedule.id, check);
                }
            }
            let request = FireRequest { schedules: due.iter().map(|schedule| schedule.id).collect(), checks };
            let fired = self.store.fire_schedules(request).await?;
            let done = fired.is_empty() || due.len() < FIRE_BATCH;
            if let Some(metrics) = &self.metrics {
                for fire in fired.iter().filter(|fire| fire.status == FireStatus::Fired) {
                    metrics.observe_schedule_fire((fire.fired_at - fire.slot).to_std().unwrap_or_default());
                }
            }
            report.fires.extend(fired);
            if done {
                break;
            }
        }
        Ok(report)
    }

    /// Records the outcomes of ended work and starts buffered fires.
    pub async fn settle(&self) -> steward_store::Result<steward_store::SettleReport> {
        self.store.settle_schedule_fires().await
    }

    /// How long to sleep before the next due slot (zero if one is due).
    async fn sleep_time(&self) -> steward_store::Result<Duration> {
        let Some(next) = self.store.next_schedule_fire().await? else {
            return Ok(LONGEST_SLEEP);
        };
        let until = (next - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
        Ok(until.min(LONGEST_SLEEP))
    }

    /// Starts the loop; it stops when `stop` is cancelled.
    pub fn start(self, stop: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move { self.run(stop).await })
    }

    async fn run(self, stop: CancellationToken) {
        let mut events = self.store.wakeups().subscribe_events();
        // Fires whose work ended while no process ran are settled first.
        let mut settle_due = true;
        loop {
            if settle_due {
                settle_due = false;
                if let Err(error) = self.settle().await {
                    tracing::warn!(%error, "could not settle schedule fires");
                }
            }
            if let Err(error) = self.tick().await {
                tracing::warn!(%error, "could not fire due schedules; trying again");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(RETRY_DELAY) => continue,
                }
            }
            let sleep = match self.sleep_time().await {
                Ok(sleep) => sleep,
                Err(error) => {
                    tracing::warn!(%error, "could not read the next schedule fire");
                    RETRY_DELAY
                }
            };
            if sleep.is_zero() {
                continue;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(sleep) => {}
                changed = events.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // Events come in bursts: gather them, then look once.
                    settle_due = true;
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(SETTLE_INTERVAL.min(sleep)) => {}
                    }
                    events.borrow_and_update();
                }
            }
        }
    }
}
