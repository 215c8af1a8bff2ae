//! The worker pool: runs jobs, wakes at once on enqueue, honours delays,
//! retries, timeouts, cancellation, queue limits, and shuts down gracefully.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::{JobState, NewJob};
use steward_runtime::clock::{Clock, SystemClock};
use steward_runtime::{HandlerRegistry, JobContext, JobError, JobHandler, WorkerPool, WorkerPoolConfig};
use steward_store::{JobFilter, Store};

use crate::support::{USER, eventually, pool_tests, wait_for_state};

fn config(concurrency: usize) -> WorkerPoolConfig {
    let mut config = WorkerPoolConfig::new("test-worker", concurrency).with_lease(Duration::from_secs(3));
    // Polling an hour apart: anything that happens sooner was woken.
    config.poll_interval = Duration::from_secs(3600);
    config.shutdown_grace = Duration::from_secs(5);
    config
}

async fn enqueue(store: &dyn Store, job: NewJob) -> steward_domain::Job {
    store.enqueue(USER, vec![job]).await.unwrap().remove(0).job
}

async fn runs_every_job_to_completion(store: Arc<dyn Store>) {
    let pool = WorkerPool::start(store.clone(), HandlerRegistry::with_builtins(), config(4));
    let jobs: Vec<NewJob> = (0..200).map(|_| NewJob::new("noop", json!({}))).collect();
    store.enqueue(USER, jobs).await.unwrap();
    eventually("all 200 jobs completed", || async {
        store.count_jobs(USER.into(), JobFilter::default()).await.unwrap()[&JobState::Completed] == 200
    })
    .await;
    assert_eq!(pool.shutdown().await.released, 0);
}

async fn an_enqueue_wakes_an_idle_pool(store: Arc<dyn Store>) {
    let pool = WorkerPool::start(store.clone(), HandlerRegistry::with_builtins(), config(2));
    // Let the pool go idle (its first claim finds nothing), then enqueue.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let job = enqueue(store.as_ref(), NewJob::new("noop", json!({}))).await;
    wait_for_state(store.as_ref(), job.id, JobState::Completed).await;
    pool.shutdown().await;
}

async fn a_delayed_job_runs_when_due(store: Arc<dyn Store>) {
    let pool = WorkerPool::start(store.clone(), HandlerRegistry::with_builtins(), config(2));
    // The store in these tests reads the system clock.
    let due = SystemClock.now() + chrono::Duration::milliseconds(300);
    let job = enqueue(store.as_ref(), NewJob::new("noop", json!({})).with_run_at(due)).await;
    let done = wait_for_state(store.as_ref(), job.id, JobState::Completed).await;
    assert!(done.started_at.unwrap() >= due, "started {:?}, due {due}", done.started_at);
    pool.shutdown().await;
}

async fn failures_are_retried_then_the_job_dies(store: Arc<dyn Store>) {
    let pool = WorkerPool::start(store.clone(), HandlerRegistry::with_builtins(), config(2));
    let job =
        enqueue(store.as_ref(), NewJob::new("fail", json!({ "message": "the API said no" })).with_max_attempts(3))
            .await;
    let dead = wait_for_state(store.as_ref(), job.id, JobState::Dead).await;
    assert_eq!(dead.attempts, 3);
    assert_eq!(dead.last_error.as_deref(), Some("the API said no"));
    let permanent =
        enqueue(store.as_ref(), NewJob::new("fail", json!({ "retryable": false })).with_max_attempts(3)).await;
    let dead = wait_for_state(store.as_ref(), permanent.id, JobState::Dead).await;
    assert_eq!(dead.attempts, 1, "a permanent failure is not retried");
    pool.shutdown().await;
}

async fn a_job_past_its_timeout_is_stopped_and_failed(store: Arc<dyn Store>) {
    let pool = WorkerPool::start(store.clone(), HandlerRegistry::with_builtins(), config(2));
    let job = enqueue(
        store.as_ref(),
        NewJob::new("sleep", json!({ "ms": 60_000 })).with_timeout(Duration::from_millis(100)).with_max_attempts(1),
    )
    .await;
    let dead = wait_for_state(store.as_ref(), job.id, JobState::Dead).await;
    assert_eq!(dead.last_error.as_deref(), Some("timed out after 100 ms"));
    pool.shutdown().await;
}

async fn bad_payloads_panics_and_unknown_kinds_fail_with_a_reason(store: Arc<dyn Store>) {
    let mut handlers = HandlerRegistry::with_builtins();
    handlers.register("panics", Panics);
    let pool = WorkerPool::start(store.clone(), handlers, config(2));
    let bad = enqueue(store.as_ref(), NewJob::new("sleep", json!({ "seconds": 1 }))).await;
    let dead = wait_for_state(store.as_ref(), bad.id, JobState::Dead).await;
    assert!(dead.last_error.unwrap().contains("unknown field `seconds`"));
    let panics = enqueue(store.as_ref(), NewJob::new("panics", json!({})).with_max_attempts(1)).await;
    let dead = wait_for_state(store.as_ref(), panics.id, JobState::Dead).await;
    assert_eq!(dead.last_error.as_deref(), Some("the handler panicked: boom"));
    let unknown = enqueue(store.as_ref(), NewJob::new("mystery", json!({}))).await;
    let dead = wait_for_state(store.as_ref(), unknown.id, JobState::Dead).await;
    assert!(dead.last_error.unwrap().contains("no handler for job kind \"mystery\""));
    pool.shutdown().await;
}

struct Panics;

#[async_trait]
impl JobHandler for Panics {
    async fn run(&self, _context: JobContext) -> Result<Value, JobError> {
        panic!("boom")
    }
}

/// Waits until cancelled, recording that it saw the cancellation.
struct WaitForCancel(Arc<AtomicBool>);

#[async_trait]
impl JobHandler for WaitForCancel {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        context.cancel.cancelled().await;
        self.0.store(true, Ordering::SeqCst);
        Err(JobError::retryable("cancelled"))
    }
}

async fn cancelling_a_running_job_stops_its_handler(store: Arc<dyn Store>) {
    let stopped = Arc::new(AtomicBool::new(false));
    let mut handlers = HandlerRegistry::default();
    handlers.register("wait", WaitForCancel(stopped.clone()));
    let pool = WorkerPool::start(store.clone(), handlers, config(2));
    let job = enqueue(store.as_ref(), NewJob::new("wait", json!({}))).await;
    wait_for_state(store.as_ref(), job.id, JobState::Running).await;
    store.cancel_job(USER, job.id).await.unwrap();
    eventually("the handler saw the cancellation at the next heartbeat", || async { stopped.load(Ordering::SeqCst) })
        .await;
    assert_eq!(store.get_job(USER, job.id).await.unwrap().state, JobState::Cancelled);
    assert_eq!(pool.shutdown().await, steward_runtime::ShutdownReport::default());
}

/// Counts how many run at once.
struct Gauge {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

#[async_trait]
impl JobHandler for Gauge {
    async fn run(&self, _context: JobContext) -> Result<Value, JobError> {
        let current = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(current, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok(Value::Null)
    }
}

async fn a_queue_limit_caps_concurrency(store: Arc<dyn Store>) {
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut handlers = HandlerRegistry::default();
    handlers.register("gauge", Gauge { now: now.clone(), peak: peak.clone() });
    let mut config = config(10);
    config.queue_limits = BTreeMap::from([("narrow".to_string(), 2)]);
    let pool = WorkerPool::start(store.clone(), handlers, config);
    let jobs: Vec<NewJob> = (0..12).map(|_| NewJob::new("gauge", json!({})).with_queue("narrow")).collect();
    store.enqueue(USER, jobs).await.unwrap();
    eventually("all 12 jobs completed", || async {
        store.count_jobs(USER.into(), JobFilter::default()).await.unwrap()[&JobState::Completed] == 12
    })
    .await;
    assert_eq!(peak.load(Ordering::SeqCst), 2);
    pool.shutdown().await;
}

async fn shutdown_lets_short_jobs_finish_and_releases_long_ones(store: Arc<dyn Store>) {
    let mut config = config(4);
    config.shutdown_grace = Duration::from_millis(500);
    let pool = WorkerPool::start(store.clone(), HandlerRegistry::with_builtins(), config);
    let short = enqueue(store.as_ref(), NewJob::new("sleep", json!({ "ms": 100 }))).await;
    let long = enqueue(store.as_ref(), NewJob::new("sleep", json!({ "ms": 60_000 }))).await;
    wait_for_state(store.as_ref(), short.id, JobState::Running).await;
    wait_for_state(store.as_ref(), long.id, JobState::Running).await;
    let report = pool.shutdown().await;
    assert_eq!(report, steward_runtime::ShutdownReport { finished: 1, released: 1 });
    assert_eq!(store.get_job(USER, short.id).await.unwrap().state, JobState::Completed);
    let long = store.get_job(USER, long.id).await.unwrap();
    assert_eq!((long.state, long.attempts), (JobState::Queued, 0), "released without counting the attempt");
}

pool_tests!(
    runs_every_job_to_completion,
    an_enqueue_wakes_an_idle_pool,
    a_delayed_job_runs_when_due,
    failures_are_retried_then_the_job_dies,
    a_job_past_its_timeout_is_stopped_and_failed,
    bad_payloads_panics_and_unknown_kinds_fail_with_a_reason,
    cancelling_a_running_job_stops_its_handler,
    a_queue_limit_caps_concurrency,
    shutdown_lets_short_jobs_finish_and_releases_long_ones,
);
