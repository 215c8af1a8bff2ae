//! The worker pool: claims ready jobs in batches under a lease, runs each
//! with its handler (with a timeout), renews leases, and reports results,
//! folding them into the next claim. One dispatcher task owns all of the
//! pool's state; job tasks only send it messages.
//!
//! Wake-ups: an enqueue in this process (or, on PostgreSQL, any process)
//! raises the store's `jobs` signal and the dispatcher claims at once;
//! polling is only the fallback. When the queue holds only delayed jobs, the
//! dispatcher sleeps until the earliest of them is due.

mod dispatcher;
mod execution;
mod local_queue;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use steward_store::{DatabaseKind, Store};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::handlers::HandlerRegistry;
use crate::metrics::Metrics;

#[derive(Clone, Debug)]
pub struct WorkerPoolConfig {
    /// Names this process's leases; unique per process.
    pub worker_id: String,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Most jobs taken by one claim.
    pub claim_batch: usize,
    /// Most jobs claimed ahead of free places and held in the process until
    /// a place frees (`local_queue.rs`); 0 claims only for free places.
    pub local_queue: usize,
    /// A job held longer than this without a free place goes back to the
    /// queue for another node.
    pub hold_limit: Duration,
    pub lease: Duration,
    /// How often leases are renewed (a third of the lease by default).
    pub heartbeat_interval: Duration,
    /// How often to look for work when no wake-up arrives.
    pub poll_interval: Duration,
    /// How often to take back jobs whose worker stopped renewing its lease.
    pub reclaim_interval: Duration,
    /// Only these queues; `None` for all.
    pub queues: Option<Vec<String>>,
    pub queue_limits: BTreeMap<String, u32>,
    /// How long running jobs may take to finish at shutdown.
    pub shutdown_grace: Duration,
    /// What "now" is when waiting for a delayed job: the store's clock, which
    /// decides when a job is due.
    pub clock: SharedClock,
    /// Where claim latency, start delays and running jobs are measured.
    pub metrics: Arc<Metrics>,
}

/// Jobs held ahead by default on SQLite, at the least (see
/// [`WorkerPoolConfig::default_local_queue`]).
pub const SQLITE_LOCAL_QUEUE: usize = 512;

impl WorkerPoolConfig {
    /// How many jobs to hold ahead of free places when the configuration
    /// does not say.
    ///
    /// - PostgreSQL: as many as the concurrency. Several nodes share the
    ///   queue, and a job held on a busy node keeps the others from it for
    ///   up to the hold limit.
    /// - SQLite: at least [`SQLITE_LOCAL_QUEUE`]. One process owns the
    ///   database, so nothing else is kept waiting, and the jobs each claim
    ///   carries are what bounds the single writer's drain (1.3-1.5x from
    ///   64 to 512 held, docs/benchmarks.md).
    ///
    /// Either way the local queue adapts down to one held job for a pool of
    /// long jobs (`local_queue.rs`), and a held job is released at the hold
    /// limit.
    pub fn default_local_queue(database: DatabaseKind, concurrency: usize) -> usize {
        match database {
            DatabaseKind::Postgres => concurrency.max(1),
            DatabaseKind::Sqlite => concurrency.max(SQLITE_LOCAL_QUEUE),
        }
    }

    pub fn new(worker_id: impl Into<String>, concurrency: usize) -> Self {
        let lease = Duration::from_secs(30);
        WorkerPoolConfig {
            worker_id: worker_id.into(),
            concurrency: concurrency.max(1),
            claim_batch: 1024,
            local_queue: concurrency.max(1),
            hold_limit: lease / 10,
            lease,
            heartbeat_interval: lease / 3,
            poll_interval: Duration::from_secs(1),
            reclaim_interval: lease / 2,
            queues: None,
            queue_limits: BTreeMap::new(),
            shutdown_grace: Duration::from_secs(10),
            clock: SharedClock::system(),
            metrics: Arc::new(Metrics::new()),
        }
    }

    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self.heartbeat_interval = lease / 3;
        self.reclaim_interval = lease / 2;
        self.hold_limit = lease / 10;
        self
    }

    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

/// A worker id unique to this process: host, process id, and a random tag.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}:{}:{:04x}", std::process::id(), rand::random::<u16>())
}

/// What happened to the jobs that were running when the pool stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Finished within the grace period.
    pub finished: usize,
    /// Still running at the deadline; given back to the queue.
    pub released: usize,
}

/// A running pool; dropping it does not stop it, [`WorkerPool::shutdown`] does.
pub struct WorkerPool {
    stop: CancellationToken,
    dispatcher: JoinHandle<ShutdownReport>,
}

impl WorkerPool {
    pub fn start(store: Arc<dyn Store>, handlers: HandlerRegistry, config: WorkerPoolConfig) -> WorkerPool {
        let stop = CancellationToken::new();
        let dispatcher = dispatcher::Dispatcher::new(store, handlers, config);
        let dispatcher = tokio::spawn(dispatcher.run(stop.clone()));
        WorkerPool { stop, dispatcher }
    }

    /// Stops claiming, lets running jobs finish within the grace period,
    /// releases the rest, and reports what happened.
    pub async fn shutdown(self) -> ShutdownReport {
        self.stop.cancel();
        match self.dispatcher.await {
            Ok(report) => report,
            Err(error) => {
                tracing::error!(%error, "the worker pool's dispatcher failed");
                ShutdownReport::default()
            }
        }
    }
}
