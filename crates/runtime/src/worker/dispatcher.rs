//! The dispatcher: the single task that owns the pool's state (running jobs,
//! jobs held locally, results not yet reported) and decides when to claim,
//! report, renew leases and reclaim expired ones.
//!
//! A claim (carrying the pending results) or a report of results alone is
//! in flight, on a task of its own, while the dispatcher keeps starting held
//! jobs and collecting results. Whatever finishes during a call goes into
//! the next one, so the busier the pool, the more jobs each transaction
//! carries, without waiting on a timer to gather them. On PostgreSQL a
//! report also goes out beside a claim in flight: the two use two
//! connections, so the server settles results on one core while it hands
//! out jobs on another. SQLite has one writer, so there a second call would
//! only split the batches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use steward_domain::JobId;
use steward_store::{
    ClaimRequest, ClaimResponse, ClaimedJob, DatabaseKind, LeaseRef, LeaseStatus, SettleOutcome, Settlement, Store,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::execution::{Finished, execute};
use super::local_queue::LocalQueue;
use super::{ShutdownReport, WorkerPoolConfig};
use crate::handlers::{HandlerRegistry, JobError};

/// How long to wait before the next store call after one failed (the
/// database may be down or restarting).
const PAUSE_AFTER_FAILURE: Duration = Duration::from_millis(200);

struct Running {
    lease: LeaseRef,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// The store call in flight and what it carried.
enum Call {
    Claim {
        limit: usize,
        free: usize,
        settlements: Vec<Settlement>,
        started: Instant,
        result: steward_store::Result<ClaimResponse>,
    },
    Report {
        settlements: Vec<Settlement>,
        result: steward_store::Result<Vec<SettleOutcome>>,
    },
}

pub(super) struct Dispatcher {
    store: Arc<dyn Store>,
    handlers: HandlerRegistry,
    config: WorkerPoolConfig,
    worker_id: Arc<str>,
    running: HashMap<JobId, Running>,
    held: LocalQueue,
    /// Results waiting to be reported (folded into the next claim).
    pending: Vec<Settlement>,
    finished_sender: mpsc::UnboundedSender<Finished>,
    finished: mpsc::UnboundedReceiver<Finished>,
    jobs_ready: watch::Receiver<u64>,
    /// The last claim filled its batch, so more jobs may be waiting.
    backlog: bool,
    /// After a failed call, no other is made before this.
    calls_paused_until: Option<Instant>,
    /// Whether a report may go out while a claim is in flight: when the
    /// database runs writes in parallel (not SQLite's single writer).
    reports_beside_claims: bool,
}

/// When the dispatcher should next act without being woken.
struct Timers {
    poll: Instant,
    next_due: Option<Instant>,
    heartbeat: Instant,
    reclaim: Instant,
}

impl Dispatcher {
    pub fn new(store: Arc<dyn Store>, handlers: HandlerRegistry, config: WorkerPoolConfig) -> Self {
        let (finished_sender, finished) = mpsc::unbounded_channel();
        let jobs_ready = store.wakeups().subscribe_jobs();
        let reports_beside_claims = store.kind() != DatabaseKind::Sqlite;
        Dispatcher {
            reports_beside_claims,
            worker_id: Arc::from(config.worker_id.as_str()),
            held: LocalQueue::new(config.local_queue, config.hold_limit),
            store,
            handlers,
            config,
            running: HashMap::new(),
            pending: Vec::new(),
            finished_sender,
            finished,
            jobs_ready,
            backlog: false,
            calls_paused_until: None,
        }
    }

    pub async fn run(mut self, stop: CancellationToken) -> ShutdownReport {
        tracing::info!(worker = %self.worker_id, concurrency = self.config.concurrency, "worker pool started");
        let now = Instant::now();
        let mut timers = Timers {
            poll: now + self.config.poll_interval,
            next_due: None,
            heartbeat: now + self.config.heartbeat_interval,
            reclaim: now + self.config.reclaim_interval,
        };
        let mut want_claim = true;
        let mut claim_in_flight: Option<JoinHandle<Call>> = None;
        let mut report_in_flight: Option<JoinHandle<Call>> = None;
        while !stop.is_cancelled() {
            self.absorb_finished();
            self.start_held();
            if claim_in_flight.is_none() {
                claim_in_flight = self.next_claim(&mut want_claim);
            }
            if report_in_flight.is_none() && (claim_in_flight.is_none() || self.reports_beside_claims) {
                report_in_flight = self.next_report();
            }

            let mut deadline = timers.poll.min(timers.reclaim);
            if let Some(due) = timers.next_due {
                deadline = deadline.min(due);
            }
            if !self.running.is_empty() || !self.held.is_empty() {
                deadline = deadline.min(timers.heartbeat);
            }
            if let Some(hold_limit) = self.held.deadline() {
                deadline = deadline.min(hold_limit);
            }
            if let Some(paused) = self.calls_paused_until {
                deadline = deadline.min(paused);
            }
            tokio::select! {
                message = self.finished.recv() => {
                    if let Some(message) = message {
                        self.absorb(message);
                    }
                    want_claim |= self.backlog;
                }
                call = finish(&mut claim_in_flight) => want_claim |= self.settle_call(call, &mut timers),
                call = finish(&mut report_in_flight) => want_claim |= self.settle_call(call, &mut timers),
                changed = self.jobs_ready.changed() => want_claim |= changed.is_ok(),
                () = sleep_until(deadline) => {}
                () = stop.cancelled() => {}
            }

            let now = Instant::now();
            if now >= timers.poll {
                want_claim = true;
                timers.poll = now + self.config.poll_interval;
            }
            if timers.next_due.is_some_and(|due| now >= due) {
                want_claim = true;
                timers.next_due = None;
            }
            if now >= timers.heartbeat {
                self.heartbeat().await;
                timers.heartbeat = now + self.config.heartbeat_interval;
            }
            if now >= timers.reclaim {
                want_claim |= self.reclaim().await;
                timers.reclaim = now + self.config.reclaim_interval;
            }
            let expired = self.held.take_expired(now);
            if !expired.is_empty() {
                tracing::debug!(count = expired.len(), "releasing jobs held past the hold limit");
                self.release(expired).await;
            }
        }
        for call in [claim_in_flight.take(), report_in_flight.take()].into_iter().flatten() {
            self.settle_call(call.await, &mut timers);
        }
        self.shut_down().await
    }

    /// Starts held jobs in the free places.
    fn start_held(&mut self) {
        let mut started = false;
        while self.running.len() < self.config.concurrency {
            let Some(job) = self.held.next() else { break };
            let now = self.config.clock.now();
            let waited = (now - job.ready_at).to_std().unwrap_or_default();
            self.config.metrics.observe_job_start(&job.queue, waited);
            self.start(job);
            started = true;
        }
        if started {
            self.config.metrics.set_running_jobs(self.running.len());
        }
    }

    /// Whether calls are paused after a failure.
    fn paused(&mut self) -> bool {
        if let Some(paused) = self.calls_paused_until {
            if Instant::now() < paused {
                return true;
            }
            self.calls_paused_until = None;
        }
        false
    }

    /// The next claim, if one is due: for the free places and the local
    /// queue's room, carrying the pending results.
    fn next_claim(&mut self, want_claim: &mut bool) -> Option<JoinHandle<Call>> {
        if self.paused() {
            return None;
        }
        let free = self.config.concurrency.saturating_sub(self.running.len());
        let limit = (free + self.held.room()).min(self.config.claim_batch);
        let store = self.store.clone();
        // Results go through a claim whenever there is room: a finished job
        // may have freed a place in a limited queue or unblocked its
        // dependents, and the claim costs no extra round trip.
        if (*want_claim || !self.pending.is_empty()) && limit > 0 && self.held.wants_refill() {
            *want_claim = false;
            let mut request = ClaimRequest::new(self.worker_id.to_string(), limit, self.config.lease);
            request.queues = self.config.queues.clone();
            request.queue_limits = self.config.queue_limits.clone();
            request.settlements = std::mem::take(&mut self.pending);
            let settlements = request.settlements.clone();
            return Some(tokio::spawn(async move {
                let started = Instant::now();
                let result = store.claim(request).await;
                Call::Claim { limit, free, settlements, started, result }
            }));
        }
        None
    }

    /// A report of the pending results alone, when there are some that no
    /// claim is taking.
    fn next_report(&mut self) -> Option<JoinHandle<Call>> {
        if self.pending.is_empty() || self.paused() {
            return None;
        }
        let store = self.store.clone();
        let settlements = std::mem::take(&mut self.pending);
        Some(tokio::spawn(async move {
            let result = store.settle(settlements.clone()).await;
            Call::Report { settlements, result }
        }))
    }

    /// Takes in what a store call returned. Returns whether to claim again
    /// at once.
    fn settle_call(&mut self, call: Result<Call, tokio::task::JoinError>, timers: &mut Timers) -> bool {
        let call = match call {
            Ok(call) => call,
            Err(error) => {
                // The call's task panicked or was aborted; its results are
                // reported again by nobody, so their leases expire and the
                // jobs run again.
                tracing::error!(%error, "a queue call of the worker pool failed");
                return true;
            }
        };
        match call {
            Call::Claim { limit, free, settlements, started, result: Ok(response) } => {
                self.config.metrics.observe_claim(started.elapsed());
                log_lost_leases(&settlements, &response.settled);
                let claimed = response.jobs.len();
                self.held.hold(response.jobs, free, Instant::now());
                self.start_held();
                self.backlog = claimed == limit;
                timers.poll = Instant::now() + self.config.poll_interval;
                timers.next_due = response.next_run_at.map(|at| {
                    let wait = (at - self.config.clock.now()).to_std().unwrap_or_default();
                    Instant::now() + wait
                });
                self.backlog
            }
            Call::Claim { settlements, result: Err(error), .. } => {
                tracing::warn!(%error, "claiming jobs failed; will try again");
                self.pending.splice(0..0, settlements);
                self.calls_paused_until = Some(Instant::now() + PAUSE_AFTER_FAILURE);
                true
            }
            Call::Report { settlements, result: Ok(outcomes) } => {
                log_lost_leases(&settlements, &outcomes);
                // Finished jobs may have freed places in a limited queue or
                // released their dependents: look again, as a claim carrying
                // them would have.
                true
            }
            Call::Report { settlements, result: Err(error) } => {
                tracing::warn!(%error, count = settlements.len(), "reporting job results failed; will try again");
                self.pending.splice(0..0, settlements);
                self.calls_paused_until = Some(Instant::now() + PAUSE_AFTER_FAILURE);
                false
            }
        }
    }

    fn start(&mut self, job: ClaimedJob) {
        let cancel = CancellationToken::new();
        let lease = job.lease();
        let job_id = job.id;
        let handler = match self.handlers.get(&job.kind) {
            Some(handler) => handler,
            None => {
                let known = self.handlers.kinds().join(", ");
                let message = format!("no handler for job kind {:?} (this worker knows: {known})", job.kind);
                Arc::new(Unhandled(message))
            }
        };
        let task =
            tokio::spawn(execute(handler, job, cancel.clone(), self.worker_id.clone(), self.finished_sender.clone()));
        self.running.insert(job_id, Running { lease, cancel, task });
    }

    fn absorb(&mut self, message: Finished) {
        self.running.remove(&message.job_id);
        self.config.metrics.set_running_jobs(self.running.len());
        if let Some(settlement) = message.settlement {
            self.pending.push(settlement);
        }
    }

    fn absorb_finished(&mut self) {
        while let Ok(message) = self.finished.try_recv() {
            self.absorb(message);
        }
    }

    async fn report(&mut self) {
        let settlements = std::mem::take(&mut self.pending);
        match self.store.settle(settlements.clone()).await {
            Ok(outcomes) => log_lost_leases(&settlements, &outcomes),
            Err(error) => {
                tracing::warn!(%error, count = settlements.len(), "reporting job results failed; will try again");
                self.pending = settlements;
            }
        }
    }

    /// Renews the leases of running and held jobs; stops the running jobs
    /// and forgets the held ones this worker no longer owns.
    async fn heartbeat(&mut self) {
        let leases: Vec<LeaseRef> =
            self.running.values().map(|running| running.lease).chain(self.held.leases()).collect();
        if leases.is_empty() {
            return;
        }
        match self.store.heartbeat(&self.worker_id, leases.clone(), self.config.lease).await {
            Ok(statuses) => {
                for (lease, status) in leases.iter().zip(statuses) {
                    if matches!(status, LeaseStatus::Cancelled | LeaseStatus::Lost) {
                        if let Some(running) = self.running.get(&lease.job_id) {
                            tracing::info!(job = %lease.job_id, ?status, "stopping a job this worker no longer owns");
                            running.cancel.cancel();
                        } else if self.held.forget(lease.job_id) {
                            tracing::info!(job = %lease.job_id, ?status, "dropping a held job this worker no longer owns");
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "renewing leases failed; will try again"),
        }
    }

    /// Gives jobs back to the queue; returns how many were.
    async fn release(&mut self, leases: Vec<LeaseRef>) -> usize {
        if leases.is_empty() {
            return 0;
        }
        match self.store.release(&self.worker_id, leases).await {
            Ok(released) => released,
            Err(error) => {
                tracing::warn!(%error, "releasing jobs failed; their leases will expire instead");
                0
            }
        }
    }

    async fn reclaim(&mut self) -> bool {
        match self.store.reclaim_expired_leases().await {
            Ok(0) => false,
            Ok(count) => {
                tracing::warn!(count, "took back jobs whose worker stopped renewing its lease");
                true
            }
            Err(error) => {
                tracing::warn!(%error, "reclaiming expired leases failed");
                false
            }
        }
    }

    async fn shut_down(mut self) -> ShutdownReport {
        // Jobs held but not started go back at once, for other nodes.
        let held = self.held.take_all();
        let released_held = self.release(held).await;
        let running_at_stop = self.running.len();
        tracing::info!(running = running_at_stop, released_held, "worker pool stopping; letting running jobs finish");
        let deadline = Instant::now() + self.config.shutdown_grace;
        let mut heartbeat_at = Instant::now() + self.config.heartbeat_interval;
        loop {
            self.absorb_finished();
            if !self.pending.is_empty() {
                self.report().await;
            }
            if self.running.is_empty() {
                break;
            }
            tokio::select! {
                message = self.finished.recv() => match message {
                    Some(message) => self.absorb(message),
                    None => break,
                },
                () = sleep_until(deadline) => break,
                () = sleep_until(heartbeat_at) => {
                    self.heartbeat().await;
                    heartbeat_at = Instant::now() + self.config.heartbeat_interval;
                }
            }
        }
        let unfinished = self.running.len();
        let finished = running_at_stop - unfinished;
        if unfinished == 0 {
            return ShutdownReport { finished, released: released_held };
        }
        // Stop the stragglers and wait until they have, so no handler is
        // still running when their jobs go back to the queue.
        let stragglers: Vec<Running> = self.running.drain().map(|(_, running)| running).collect();
        for running in &stragglers {
            running.cancel.cancel();
        }
        for running in &stragglers {
            running.task.abort();
        }
        let mut leases: Vec<LeaseRef> = Vec::with_capacity(stragglers.len());
        for running in stragglers {
            let _ = running.task.await;
            leases.push(running.lease);
        }
        // One may have finished just before it was stopped: report it instead.
        while let Ok(message) = self.finished.try_recv() {
            if let Some(settlement) = message.settlement {
                leases.retain(|lease| lease.job_id != message.job_id);
                self.pending.push(settlement);
            }
        }
        if !self.pending.is_empty() {
            self.report().await;
        }
        let stopped = leases.len();
        let released = self.release(leases).await;
        tracing::info!(finished, released, "worker pool stopped");
        ShutdownReport { finished: finished + (unfinished - stopped), released: released + released_held }
    }
}

/// Waits for the call in `slot` to end and empties the slot; never ends
/// when the slot is empty.
async fn finish(slot: &mut Option<JoinHandle<Call>>) -> Result<Call, tokio::task::JoinError> {
    let result = match slot.as_mut() {
        Some(call) => call.await,
        None => std::future::pending().await,
    };
    *slot = None;
    result
}

fn log_lost_leases(settlements: &[Settlement], outcomes: &[SettleOutcome]) {
    for (settlement, outcome) in settlements.iter().zip(outcomes) {
        if *outcome == SettleOutcome::LeaseLost {
            tracing::info!(job = %settlement.lease.job_id, "a result arrived after the job was cancelled or reclaimed; dropped");
        }
    }
}

/// Stands in for a missing handler: the job fails permanently with a message
/// naming the kinds this worker knows.
struct Unhandled(String);

#[async_trait::async_trait]
impl crate::handlers::JobHandler for Unhandled {
    async fn run(&self, _context: crate::handlers::JobContext) -> Result<serde_json::Value, JobError> {
        Err(JobError::permanent(self.0.clone()))
    }
}
