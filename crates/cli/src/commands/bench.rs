//! `steward bench queue`: measures the durable queue end to end in this
//! process — enqueue rates (one job per call, and in batches), drain rate
//! with a worker pool, enqueue→start latency at a steady moderate rate, and
//! peak memory — and prints a table (or one JSON object).
//!
//! Run it built with `--release`; numbers from a debug build mean little.

use crate::output::say;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::{JobState, NewJob};
use steward_runtime::{HandlerRegistry, JobContext, JobError, JobHandler, WorkerPool, WorkerPoolConfig};
use steward_store::{DatabaseKind, JobFilter, Store, StoreOptions};
use tokio::sync::Notify;

use crate::options::GlobalOptions;

use super::bench_support::{
    Scratch, USER, describe, local_postgres_cpu_seconds, peak_rss_mb, process_cpu_seconds, thread_cpu_seconds,
};

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Enqueue, drain and latency of no-op jobs.
    Queue(QueueBenchArgs),
    /// CPU cost of reading streamed model replies: our client vs the official Python SDKs.
    Llm(super::bench_llm::LlmBenchArgs),
    /// Agent runs end to end against the fake provider in a child process:
    /// steps per second, CPU per step, and many runs in flight at once.
    Agents(super::bench_agents::AgentsBenchArgs),
    /// The schedule firing loop: fire delay of many schedules due at once,
    /// and memory and idle CPU with many registered.
    Schedules(super::bench_schedules::SchedulesBenchArgs),
}

#[derive(Debug, clap::Args)]
pub struct QueueBenchArgs {
    /// Jobs enqueued one per call, and again in batches (so 2 × N are drained).
    #[arg(long, default_value_t = 100_000)]
    pub jobs: usize,

    /// Worker concurrency while draining (of each node).
    #[arg(long, default_value_t = 64)]
    pub workers: usize,

    /// Jobs claimed ahead of free places and held until one frees, as
    /// `workers.local_queue` sets for `steward serve` [default: as `serve`
    /// chooses: as many as --workers on PostgreSQL, at least 512 on SQLite].
    #[arg(long, value_name = "JOBS")]
    pub local_queue: Option<usize>,

    /// Most jobs taken by one claim, as `workers.claim_batch` sets.
    #[arg(long, default_value_t = 1024)]
    pub claim_batch: usize,

    /// Nodes draining at once, each with its own store (connection pool,
    /// listener, worker pool), as separate `steward serve` processes on one
    /// PostgreSQL would be; PostgreSQL only.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,

    /// Concurrent callers while enqueueing one job per call.
    #[arg(long, default_value_t = 16)]
    pub callers: usize,

    /// Jobs per batch when enqueueing in batches.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,

    /// Jobs per second in the latency phase.
    #[arg(long, default_value_t = 500)]
    pub latency_rate: u32,

    /// Jobs in the latency phase.
    #[arg(long, default_value_t = 2000)]
    pub latency_jobs: usize,

    /// Database: a SQLite file is created in a temporary directory unless a
    /// URL is given; a PostgreSQL URL gets a fresh schema that is dropped after.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

pub async fn run(command: BenchCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    crate::logging::init(global.log.as_deref(), "warn", global.log_format.unwrap_or(crate::config::LogFormat::Text));
    match command {
        BenchCommand::Queue(args) => queue(args, global.json).await,
        BenchCommand::Llm(args) => super::bench_llm::run(args, global.json).await,
        BenchCommand::Agents(args) => super::bench_agents::run(args, global.json).await,
        BenchCommand::Schedules(args) => super::bench_schedules::run(args, global.json).await,
    }
}

/// Counts executions and wakes the waiter when a target is reached.
#[derive(Default)]
struct Counter {
    done: AtomicUsize,
    target: AtomicUsize,
    reached: Notify,
}

struct CountHandler(Arc<Counter>);

#[async_trait]
impl JobHandler for CountHandler {
    async fn run(&self, _context: JobContext) -> Result<Value, JobError> {
        let done = self.0.done.fetch_add(1, Ordering::Relaxed) + 1;
        if done >= self.0.target.load(Ordering::Relaxed) {
            self.0.reached.notify_one();
        }
        Ok(Value::Null)
    }
}

/// Records how long each job waited between its enqueue call and its start.
struct LatencyProbe {
    origin: Instant,
    samples: std::sync::Mutex<Vec<u64>>,
}

struct ProbeHandler(Arc<LatencyProbe>);

#[async_trait]
impl JobHandler for ProbeHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let started = self.0.origin.elapsed().as_micros() as u64;
        let enqueued = context.job.payload["enqueued_us"].as_u64().unwrap_or(started);
        if let Ok(mut samples) = self.0.samples.lock() {
            samples.push(started.saturating_sub(enqueued));
        }
        Ok(Value::Null)
    }
}

async fn queue(args: QueueBenchArgs, json_output: bool) -> anyhow::Result<()> {
    if args.nodes == 0 {
        anyhow::bail!("--nodes: must be at least 1");
    }
    if args.claim_batch == 0 {
        anyhow::bail!("--claim-batch: must be at least 1");
    }
    let scratch = Scratch::create(args.database.as_deref()).await?;
    if args.nodes > 1 && matches!(scratch.url, steward_store::DatabaseUrl::Sqlite(_)) {
        anyhow::bail!("--nodes: a SQLite file is used by one process only; several nodes need --database postgres://…");
    }
    let store = steward_store::open(&scratch.url, StoreOptions::default()).await?;
    store.migrate().await?;
    let database = describe(&scratch.url);
    let kind = store.kind();

    // 1. One job per call, from several concurrent callers.
    let started = Instant::now();
    let per_caller = args.jobs.div_ceil(args.callers.max(1));
    let mut callers = Vec::new();
    for caller in 0..args.callers.max(1) {
        let store = store.clone();
        let count = per_caller.min(args.jobs.saturating_sub(caller * per_caller));
        callers.push(tokio::spawn(async move {
            for _ in 0..count {
                store.enqueue(USER, vec![NewJob::new("count", json!({}))]).await?;
            }
            anyhow::Ok(())
        }));
    }
    for caller in callers {
        caller.await??;
    }
    let enqueue_seconds = started.elapsed().as_secs_f64();

    // 2. In batches.
    let started = Instant::now();
    let mut remaining = args.jobs;
    while remaining > 0 {
        let size = remaining.min(args.batch.max(1));
        store.enqueue(USER, (0..size).map(|_| NewJob::new("count", json!({}))).collect()).await?;
        remaining -= size;
    }
    let enqueue_batch_seconds = started.elapsed().as_secs_f64();

    // 3. Drain both sets with the worker pool of each node.
    let total = 2 * args.jobs;
    let counter = Arc::new(Counter::default());
    counter.target.store(total, Ordering::Relaxed);
    let mut nodes = vec![store.clone()];
    for _ in 1..args.nodes {
        let node = steward_store::open(&scratch.url, StoreOptions::default()).await?;
        nodes.push(node);
    }
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    let writer_cpu_before = thread_cpu_seconds(steward_store::sqlite::WRITER_THREAD_NAME);
    let database_cpu_before = local_postgres_cpu_seconds();
    let mut pools = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let mut handlers = HandlerRegistry::default();
        handlers.register("count", CountHandler(counter.clone()));
        let mut config = pool_config(&args, kind);
        config.worker_id = format!("bench-{index}");
        pools.push(WorkerPool::start(node.clone(), handlers, config));
    }
    while counter.done.load(Ordering::Relaxed) < total {
        let _ = tokio::time::timeout(Duration::from_millis(50), counter.reached.notified()).await;
    }
    wait_until_settled(store.as_ref()).await?;
    let drain_seconds = started.elapsed().as_secs_f64();
    let drain_cpu_seconds = process_cpu_seconds() - cpu_before;
    let drain_writer_cpu_seconds = writer_cpu_before
        .zip(thread_cpu_seconds(steward_store::sqlite::WRITER_THREAD_NAME))
        .map(|(before, after)| after - before);
    let drain_database_cpu_seconds = match (database_cpu_before, local_postgres_cpu_seconds()) {
        (Some(before), Some(after)) if matches!(scratch.url, steward_store::DatabaseUrl::Postgres(_)) => {
            Some(after - before)
        }
        _ => None,
    };
    for pool in pools {
        pool.shutdown().await;
    }
    for node in nodes.iter().skip(1) {
        node.close().await;
    }

    // 4. Latency at a steady, moderate rate on an otherwise idle queue.
    let probe = Arc::new(LatencyProbe {
        origin: Instant::now(),
        samples: std::sync::Mutex::new(Vec::with_capacity(args.latency_jobs)),
    });
    let mut handlers = HandlerRegistry::default();
    handlers.register("probe", ProbeHandler(probe.clone()));
    let pool = WorkerPool::start(store.clone(), handlers, pool_config(&args, kind));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.latency_rate.max(1))));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for _ in 0..args.latency_jobs {
        ticker.tick().await;
        let enqueued_us = probe.origin.elapsed().as_micros() as u64;
        store.enqueue(USER, vec![NewJob::new("probe", json!({ "enqueued_us": enqueued_us }))]).await?;
    }
    wait_until_settled(store.as_ref()).await?;
    // Read before the check below, which counts over the whole table: the
    // peak is the queue's, not that of one scan filling a reader's cache.
    let peak_rss_mb = peak_rss_mb(None);
    let expected = (total + args.latency_jobs) as u64;
    let completed = store.count_jobs(USER.into(), JobFilter::default()).await?[&JobState::Completed];
    anyhow::ensure!(completed == expected, "{completed} jobs completed, {expected} expected");
    pool.shutdown().await;
    let mut samples = probe.samples.lock().map(|samples| samples.clone()).unwrap_or_default();
    samples.sort_unstable();
    store.close().await;
    scratch.remove().await;

    let report = Report {
        database,
        jobs: args.jobs,
        workers: args.workers,
        local_queue: pool_config(&args, kind).local_queue,
        claim_batch: args.claim_batch,
        callers: args.callers,
        batch: args.batch,
        enqueue_per_sec: args.jobs as f64 / enqueue_seconds,
        enqueue_batch_per_sec: args.jobs as f64 / enqueue_batch_seconds,
        drain_per_sec: total as f64 / drain_seconds,
        drain_cpu_us_per_job: drain_cpu_seconds * 1e6 / total as f64,
        drain_database_cpu_us_per_job: drain_database_cpu_seconds.map(|seconds| seconds * 1e6 / total as f64),
        drain_writer_cpu_us_per_job: drain_writer_cpu_seconds.map(|seconds| seconds * 1e6 / total as f64),
        drain_cores_busy: (drain_cpu_seconds + drain_database_cpu_seconds.unwrap_or(0.0)) / drain_seconds,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        nodes: args.nodes,
        latency_rate: args.latency_rate,
        latency_p50_ms: percentile(&samples, 0.50),
        latency_p99_ms: percentile(&samples, 0.99),
        latency_max_ms: percentile(&samples, 1.0),
        peak_rss_mb,
    };
    report.print(json_output);
    Ok(())
}

/// Waits until no job is left waiting or running, so every completion the
/// handlers saw is committed. Reads only the indexes of those states.
async fn wait_until_settled(store: &dyn Store) -> anyhow::Result<()> {
    let unsettled = JobFilter {
        states: vec![JobState::Blocked, JobState::Queued, JobState::Running],
        limit: 1,
        ..JobFilter::default()
    };
    while !store.list_jobs(USER.into(), unsettled.clone()).await?.is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

fn pool_config(args: &QueueBenchArgs, database: DatabaseKind) -> WorkerPoolConfig {
    let mut config = WorkerPoolConfig::new("bench", args.workers);
    config.shutdown_grace = Duration::from_secs(5);
    config.claim_batch = args.claim_batch;
    config.local_queue =
        args.local_queue.unwrap_or_else(|| WorkerPoolConfig::default_local_queue(database, args.workers));
    config
}

fn percentile(sorted_micros: &[u64], quantile: f64) -> f64 {
    if sorted_micros.is_empty() {
        return 0.0;
    }
    let index = ((sorted_micros.len() as f64 * quantile).ceil() as usize).clamp(1, sorted_micros.len()) - 1;
    sorted_micros[index] as f64 / 1000.0
}

struct Report {
    database: String,
    jobs: usize,
    workers: usize,
    local_queue: usize,
    claim_batch: usize,
    callers: usize,
    batch: usize,
    enqueue_per_sec: f64,
    enqueue_batch_per_sec: f64,
    drain_per_sec: f64,
    /// CPU time of the whole process per drained job: unlike the rate, it
    /// barely moves when other programs load the machine.
    drain_cpu_us_per_job: f64,
    /// CPU time of the PostgreSQL server's processes per drained job, when
    /// the server runs on this machine.
    drain_database_cpu_us_per_job: Option<f64>,
    /// CPU time of SQLite's writer thread per drained job: the part of the
    /// drain that one core must carry alone.
    drain_writer_cpu_us_per_job: Option<f64>,
    /// Cores kept busy by this process and the local database while
    /// draining: near `cores`, the drain is bound by the machine's CPU.
    drain_cores_busy: f64,
    cores: usize,
    nodes: usize,
    latency_rate: u32,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
    peak_rss_mb: f64,
}

impl Report {
    fn print(&self, json_output: bool) {
        if json_output {
            let object = json!({
                "database": self.database,
                "jobs": self.jobs,
                "workers": self.workers,
                "local_queue": self.local_queue,
                "claim_batch": self.claim_batch,
                "enqueue_per_sec": self.enqueue_per_sec.round(),
                "enqueue_batch_per_sec": self.enqueue_batch_per_sec.round(),
                "drain_per_sec": self.drain_per_sec.round(),
                "drain_cpu_us_per_job": (self.drain_cpu_us_per_job * 10.0).round() / 10.0,
                "drain_database_cpu_us_per_job":
                    self.drain_database_cpu_us_per_job.map(|us| (us * 10.0).round() / 10.0),
                "drain_writer_cpu_us_per_job":
                    self.drain_writer_cpu_us_per_job.map(|us| (us * 10.0).round() / 10.0),
                "drain_cores_busy": (self.drain_cores_busy * 100.0).round() / 100.0,
                "nodes": self.nodes,
                "latency_ms": { "p50": self.latency_p50_ms, "p99": self.latency_p99_ms, "max": self.latency_max_ms },
                "peak_rss_mb": (self.peak_rss_mb * 10.0).round() / 10.0,
            });
            say!("{object}");
            return;
        }
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_header(["measure", "value"]);
        table.add_row([format!("enqueue, 1 job per call ({} callers)", self.callers), rate(self.enqueue_per_sec)]);
        table.add_row([format!("enqueue, batches of {}", self.batch), rate(self.enqueue_batch_per_sec)]);
        let drainers = match self.nodes {
            1 => format!("{} workers", self.workers),
            nodes => format!("{nodes} nodes × {} workers", self.workers),
        };
        let drainers = format!("{drainers}, {} held ahead, claims ≤ {}", self.local_queue, self.claim_batch);
        table.add_row([format!("drain, {drainers} ({} jobs)", 2 * self.jobs), rate(self.drain_per_sec)]);
        table.add_row(["drain CPU per job (all threads)".to_string(), format!("{:.1} µs", self.drain_cpu_us_per_job)]);
        if let Some(writer_us) = self.drain_writer_cpu_us_per_job {
            table.add_row(["drain CPU per job, SQLite writer thread".to_string(), format!("{writer_us:.1} µs")]);
        }
        if let Some(database_us) = self.drain_database_cpu_us_per_job {
            table.add_row(["drain CPU per job, local PostgreSQL".to_string(), format!("{database_us:.1} µs")]);
        }
        table.add_row([
            "cores busy while draining".to_string(),
            format!("{:.2} of {}", self.drain_cores_busy, self.cores),
        ]);
        table.add_row([
            format!("enqueue→start latency at {} jobs/s", self.latency_rate),
            format!(
                "p50 {:.2} ms · p99 {:.2} ms · max {:.2} ms",
                self.latency_p50_ms, self.latency_p99_ms, self.latency_max_ms
            ),
        ]);
        table.add_row(["peak RSS".to_string(), format!("{:.1} MiB", self.peak_rss_mb)]);
        say!("Steward queue benchmark — {} — {} jobs", self.database, self.jobs);
        say!("{table}");
    }
}

fn rate(per_second: f64) -> String {
    format!("{:.0} jobs/s", per_second)
}
