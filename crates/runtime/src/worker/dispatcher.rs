//! The dispatcher: the single task that owns the pool's state (running jobs,
//! results not yet reported) and decides when to claim, report, renew leases
//! and reclaim expired ones.

use std::collections::HashMap;
use std::sync::Arc;

use steward_domain::JobId;
use steward_store::{ClaimRequest, ClaimedJob, LeaseRef, LeaseStatus, SettleOutcome, Settlement, Store};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use super::execution::{Finished, execute};
use super::{ShutdownReport, WorkerPoolConfig};
use crate::handlers::{HandlerRegistry, JobError};

/// The longest a busy pool waits for more places to free before claiming.
const GATHER_WAIT: std::time::Duration = std::time::Duration::from_millis(1);

struct Running {
    lease: LeaseRef,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

pub(super) struct Dispatcher {
    store: Arc<dyn Store>,
    handlers: HandlerRegistry,
    config: WorkerPoolConfig,
    worker_id: Arc<str>,
    running: HashMap<JobId, Running>,
    /// Results waiting to be reported (folded into the next claim).
    pending: Vec<Settlement>,
    finished_sender: mpsc::UnboundedSender<Finished>,
    finished: mpsc::UnboundedReceiver<Finished>,
    jobs_ready: watch::Receiver<u64>,
    /// The last claim filled its batch, so more jobs may be waiting.
    backlog: bool,
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
        Dispatcher {
            worker_id: Arc::from(config.worker_id.as_str()),
            store,
            handlers,
            config,
            running: HashMap::new(),
            pending: Vec::new(),
            finished_sender,
            finished,
            jobs_ready,
            backlog: false,
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
        while !stop.is_cancelled() {
            self.absorb_finished();
            let mut capacity = self.config.concurrency.saturating_sub(self.running.len());
            // Results are reported through a claim whenever there is room: a
            // finished job may have freed a place in a limited queue or
            // unblocked its dependents, and the claim costs no extra round trip.
            if capacity > 0 && (want_claim || !self.pending.is_empty()) {
                capacity = self.gather_capacity(capacity).await;
                want_claim = self.claim(capacity, &mut timers).await;
            } else if !self.pending.is_empty() {
                self.report().await;
            }
            if want_claim && self.running.len() < self.config.concurrency {
                continue;
            }

            let mut deadline = timers.poll.min(timers.reclaim);
            if let Some(due) = timers.next_due {
                deadline = deadline.min(due);
            }
            if !self.running.is_empty() {
                deadline = deadline.min(timers.heartbeat);
            }
            tokio::select! {
                message = self.finished.recv() => {
                    if let Some(message) = message {
                        self.absorb(message);
                    }
                    want_claim |= self.backlog;
                }
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
        }
        self.shut_down().await
    }

    /// On a busy pool, waits a moment for more running jobs to finish before
    /// claiming, so one claim (one transaction) takes and reports many jobs
    /// instead of one: the first finished job would otherwise trigger a claim
    /// of one while its neighbours finish microseconds later. A pool with at
    /// least half its places free claims at once, so an idle pool's latency
    /// is untouched. Returns the capacity after waiting.
    async fn gather_capacity(&mut self, mut capacity: usize) -> usize {
        let enough = (self.config.concurrency / 2).clamp(1, self.config.claim_batch);
        if capacity >= enough {
            return capacity;
        }
        let deadline = Instant::now() + GATHER_WAIT;
        while capacity < enough {
            tokio::select! {
                message = self.finished.recv() => match message {
                    Some(message) => self.absorb(message),
                    None => break,
                },
                () = sleep_until(deadline) => break,
            }
            self.absorb_finished();
            capacity = self.config.concurrency.saturating_sub(self.running.len());
        }
        capacity
    }

    /// Claims up to `capacity` jobs, reporting pending results in the same
    /// call. Returns whether to claim again at once.
    async fn claim(&mut self, capacity: usize, timers: &mut Timers) -> bool {
        let limit = capacity.min(self.config.claim_batch);
        let mut request = ClaimRequest::new(self.worker_id.to_string(), limit, self.config.lease);
        request.queues = self.config.queues.clone();
        request.queue_limits = self.config.queue_limits.clone();
        request.settlements = std::mem::take(&mut self.pending);
        let settlements = request.settlements.clone();
        let claiming = Instant::now();
        match self.store.claim(request).await {
            Ok(response) => {
                self.config.metrics.observe_claim(claiming.elapsed());
                log_lost_leases(&settlements, &response.settled);
                let claimed = response.jobs.len();
                let now = self.config.clock.now();
                for job in response.jobs {
                    let waited = (now - job.ready_at).to_std().unwrap_or_default();
                    self.config.metrics.observe_job_start(&job.queue, waited);
                    self.start(job);
                }
                self.config.metrics.set_running_jobs(self.running.len());
                self.backlog = claimed == limit;
                timers.poll = Instant::now() + self.config.poll_interval;
                timers.next_due = response.next_run_at.map(|at| {
                    let wait = (at - self.config.clock.now()).to_std().unwrap_or_default();
                    Instant::now() + wait
                });
                // A full batch with room left: more may be ready right now.
                self.backlog && claimed < capacity
            }
            Err(error) => {
                tracing::warn!(%error, "claiming jobs failed; will try again");
                self.pending = settlements;
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

    async fn heartbeat(&mut self) {
        if self.running.is_empty() {
            return;
        }
        let leases: Vec<LeaseRef> = self.running.values().map(|running| running.lease).collect();
        match self.store.heartbeat(&self.worker_id, leases.clone(), self.config.lease).await {
            Ok(statuses) => {
                for (lease, status) in leases.iter().zip(statuses) {
                    if matches!(status, LeaseStatus::Cancelled | LeaseStatus::Lost) {
                        tracing::info!(job = %lease.job_id, ?status, "stopping a job this worker no longer owns");
                        if let Some(running) = self.running.get(&lease.job_id) {
                            running.cancel.cancel();
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "renewing leases failed; will try again"),
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
        let running_at_stop = self.running.len();
        tracing::info!(running = running_at_stop, "worker pool stopping; letting running jobs finish");
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
            return ShutdownReport { finished, released: 0 };
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
        let released = match self.store.release(&self.worker_id, leases.clone()).await {
            Ok(released) => released,
            Err(error) => {
                tracing::error!(%error, "releasing unfinished jobs failed; their leases will expire instead");
                0
            }
        };
        tracing::info!(finished, released, "worker pool stopped");
        ShutdownReport { finished: finished + (unfinished - leases.len()), released }
    }
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
