//! `steward bench agents`: the agent runtime end to end. N runs execute
//! through the same store, worker pool, runtime, tools and Anthropic client
//! that `steward serve` uses, against the fake provider in a child process
//! (`steward dev fake-llm`), which answers every run with S − 1 tool calls
//! (`actions.list`) and then a final answer, holding each reply for a set
//! time. Reported: wall time, steps per second, CPU time of this process per
//! step, peak memory, and how many runs were in flight at once.
//!
//! The fake is a separate process so that its CPU time and memory are not
//! counted as ours, and so that each process holds one end of every
//! connection within its own open-file limit.
//!
//! Run it built with `--release`; numbers from a debug build mean little.

use crate::output::say;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use steward_domain::{AgentId, NewAgent, NewRun, Run, RunLimits, RunOutcome};
use steward_llm::{LlmConfig, ModelRegistry};
use steward_runtime::agent::redact::Redactor;
use steward_runtime::agent::{AgentRunHandler, AgentRuntime, HomeToolsAndSkills, RuntimeSettings};
use steward_runtime::tools::{BuiltinTools, ToolsConfig};
use steward_runtime::{HandlerRegistry, JobContext, JobError, JobHandler, WorkerPool, WorkerPoolConfig};
use steward_store::{RunFilter, Store, StoreOptions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use super::bench_support::{Scratch, USER, describe, peak_rss_mb, process_cpu_seconds};
use crate::open_files::{OpenFilesLimit, raise_open_files_limit};

/// The tool every reply but the last asks for: a real built-in whose work is
/// one indexed read of the store, so a step measures orchestration rather
/// than a tool (the workspace tools would also create a folder per run).
const BENCH_TOOL_WIRE_NAME: &str = "actions__list";
/// Callers creating agents and runs at once before the measurement.
const SETUP_CALLERS: usize = 16;
/// Descriptors used besides one connection per run in flight: the database,
/// its WAL, the runtime, logs, the child's pipes.
const OTHER_OPEN_FILES: u64 = 200;
/// How long the fake may take to start listening.
const FAKE_START_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, clap::Args)]
pub struct AgentsBenchArgs {
    /// Runs to execute; all are created before the clock starts.
    #[arg(long, default_value_t = 200)]
    pub runs: usize,

    /// Model calls per run: every reply but the last asks for one tool call,
    /// so a run stores 2 × S steps (its instruction, S model calls, S − 1 tool calls).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub steps: u32,

    /// How long the fake holds each reply before answering, like a slow model.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub hold_ms: u64,

    /// Runs executed at once (the worker pool's concurrency); default: all of them.
    #[arg(long)]
    pub workers: Option<usize>,

    /// Agents the runs are spread over; default: one agent per run.
    #[arg(long)]
    pub agents: Option<usize>,

    /// Database: a SQLite file is created in a temporary directory unless a
    /// URL is given; a PostgreSQL URL gets a fresh schema that is dropped after.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

/// Counts runs as the worker pool executes them: how many are inside the
/// handler at once, and when the last one is done.
#[derive(Default)]
struct Tally {
    target: usize,
    finished: AtomicUsize,
    running: AtomicUsize,
    peak_running: AtomicUsize,
    all_finished: Notify,
}

struct CountingRunHandler {
    inner: AgentRunHandler,
    tally: Arc<Tally>,
}

#[async_trait]
impl JobHandler for CountingRunHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let running = self.tally.running.fetch_add(1, Ordering::Relaxed) + 1;
        self.tally.peak_running.fetch_max(running, Ordering::Relaxed);
        let result = self.inner.run(context).await;
        self.tally.running.fetch_sub(1, Ordering::Relaxed);
        if self.tally.finished.fetch_add(1, Ordering::Relaxed) + 1 >= self.tally.target {
            self.tally.all_finished.notify_one();
        }
        result
    }
}

pub async fn run(args: AgentsBenchArgs, json_output: bool) -> anyhow::Result<()> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let workers = args.workers.unwrap_or(args.runs).max(1);
    let agents = args.agents.unwrap_or(args.runs).clamp(1, args.runs);
    let open_files = raise_open_files_limit();
    let in_flight = workers.min(args.runs) as u64;
    let open_files_warning = (!open_files.allows(in_flight + OTHER_OPEN_FILES)).then(|| {
        format!(
            "the open-file limit {} is below the {} connections this benchmark holds at once (plus about \
             {OTHER_OPEN_FILES}); runs will fail to connect. Raise the hard limit (ulimit -Hn, or LimitNOFILE \
             in systemd) or use fewer --workers.",
            open_files.describe(),
            in_flight
        )
    });
    if let Some(warning) = &open_files_warning {
        eprintln!("warning: {warning}");
    }

    let fake = FakeProcess::start(args.steps - 1, args.hold_ms).await?;
    let scratch = Scratch::create(args.database.as_deref()).await?;
    let store = steward_store::open(&scratch.url, StoreOptions::default()).await?;
    store.migrate().await?;
    let home = tempfile::tempdir().context("cannot create a temporary home")?;
    let runtime = agent_runtime(store.clone(), &fake.base_url, home.path())?;

    let runs = create_runs(store.clone(), args.runs, agents, args.steps).await?;
    let tally = Arc::new(Tally { target: runs.len(), ..Tally::default() });
    let mut handlers = HandlerRegistry::default();
    let handler = CountingRunHandler { inner: AgentRunHandler::new(runtime), tally: tally.clone() };
    handlers.register(steward_domain::run::execution::JOB_KIND, handler);

    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    let cpu_split_before = cpu_split_seconds(None);
    let fake_cpu_before = fake.cpu_seconds();
    let pool = WorkerPool::start(store.clone(), handlers, pool_config(workers));
    while tally.finished.load(Ordering::Relaxed) < tally.target {
        let _ = tokio::time::timeout(Duration::from_millis(100), tally.all_finished.notified()).await;
    }
    let wall_seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = process_cpu_seconds() - cpu_before;
    let cpu_split = cpu_split_seconds(None);
    let fake_cpu_seconds = fake.cpu_seconds() - fake_cpu_before;
    pool.shutdown().await;

    let database = describe(&scratch.url);
    let counts = count_runs(store.as_ref(), &runs).await?;
    let fake_stats = fake.stats().await.unwrap_or(Value::Null);
    let fake_peak_rss_mb = fake.peak_rss_mb();
    store.close().await;
    scratch.remove().await;

    let steps = counts.model_calls;
    let report = Report {
        database,
        runs: args.runs,
        agents,
        steps_per_run: args.steps,
        hold_ms: args.hold_ms,
        workers,
        counts,
        wall_seconds,
        steps_per_sec: steps as f64 / wall_seconds,
        cpu_us_per_step: cpu_seconds * 1e6 / steps.max(1) as f64,
        cpu_user_seconds: cpu_split.0 - cpu_split_before.0,
        cpu_system_seconds: cpu_split.1 - cpu_split_before.1,
        peak_running: tally.peak_running.load(Ordering::Relaxed),
        fake_peak_in_flight: fake_stats["peak_in_flight"].as_u64(),
        peak_rss_mb: peak_rss_mb(None),
        fake_peak_rss_mb,
        fake_cpu_seconds,
        open_files,
        open_files_warning,
    };
    report.print(json_output);
    report.check()
}

/// The runtime as `steward serve` builds it — production model client,
/// built-in tools, skills from the home — with the Anthropic provider
/// pointed at the fake.
fn agent_runtime(store: Arc<dyn Store>, fake_url: &str, home: &std::path::Path) -> anyhow::Result<Arc<AgentRuntime>> {
    let config = LlmConfig { default_model: Some("anthropic/claude-sonnet-4-5".into()), ..LlmConfig::default() };
    let base_url = fake_url.to_string();
    let environment = move |name: &str| match name {
        "ANTHROPIC_API_KEY" => Some("sk-ant-bench".to_string()),
        "ANTHROPIC_BASE_URL" => Some(base_url.clone()),
        _ => None,
    };
    let models = ModelRegistry::new(&config, &environment)?;
    let builtins = BuiltinTools::new(&ToolsConfig::default())?;
    let tools_and_skills = Arc::new(HomeToolsAndSkills::new(builtins, home.to_path_buf()));
    Ok(Arc::new(AgentRuntime::new(
        store,
        Arc::new(models),
        tools_and_skills.clone(),
        tools_and_skills,
        RuntimeSettings::new(home.to_path_buf()),
        Redactor::new(["sk-ant-bench".to_string()]),
    )))
}

/// Creates the agents and the runs (each run enqueues its job), from a few
/// concurrent callers as API clients would.
async fn create_runs(store: Arc<dyn Store>, runs: usize, agents: usize, steps: u32) -> anyhow::Result<Vec<Run>> {
    let agent_ids: Vec<AgentId> = futures::stream::iter(0..agents)
        .map(|index| {
            let store = store.clone();
            async move {
                let agent = NewAgent {
                    name: format!("bench-{index}"),
                    goal: "Answer benchmark instructions".into(),
                    ..NewAgent::default()
                };
                anyhow::Ok(store.create_agent(USER, agent).await?.id)
            }
        })
        .buffered(SETUP_CALLERS)
        .try_collect()
        .await?;
    futures::stream::iter(0..runs)
        .map(|index| {
            let store = store.clone();
            let run = NewRun {
                agent_id: agent_ids[index % agent_ids.len()],
                action_id: None,
                instruction: format!("Benchmark run {index}: list your actions, then answer."),
                limits: RunLimits { max_steps: Some(steps), ..RunLimits::default() },
                run_at: None,
            };
            async move { anyhow::Ok(store.start_run(USER, run).await?) }
        })
        .buffered(SETUP_CALLERS)
        .try_collect()
        .await
}

fn pool_config(workers: usize) -> WorkerPoolConfig {
    let mut config = WorkerPoolConfig::new("bench-agents", workers);
    config.shutdown_grace = Duration::from_secs(5);
    config
}

/// What the store says the runs did.
#[derive(Debug, Default)]
struct RunCounts {
    completed: usize,
    /// Runs that ended otherwise, by outcome or status.
    other: std::collections::BTreeMap<String, usize>,
    model_calls: u64,
    tool_calls: u64,
    stored_steps: u64,
}

async fn count_runs(store: &dyn Store, runs: &[Run]) -> anyhow::Result<RunCounts> {
    let mut counts = RunCounts::default();
    let mut before = None;
    let mut seen = 0;
    loop {
        let filter = RunFilter { before, limit: steward_store::runs::MAX_PAGE, ..RunFilter::default() };
        let page = store.list_runs(USER.into(), filter).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        for run in &page {
            seen += 1;
            counts.model_calls += u64::from(run.usage.model_calls);
            counts.tool_calls += u64::from(run.usage.tool_calls);
            counts.stored_steps += u64::from(run.steps);
            match run.outcome {
                Some(RunOutcome::Completed) => counts.completed += 1,
                Some(outcome) => *counts.other.entry(outcome.to_string()).or_default() += 1,
                None => *counts.other.entry(run.status.to_string()).or_default() += 1,
            }
        }
    }
    if seen != runs.len() {
        bail!("the store lists {seen} runs; the benchmark created {}", runs.len());
    }
    Ok(counts)
}

/// User and system CPU seconds of this process (or of process `pid`), from
/// `/proc/…/stat` (clock ticks, 100 per second), to tell computing from
/// system calls.
fn cpu_split_seconds(pid: Option<u32>) -> (f64, f64) {
    let path = pid.map_or_else(|| "/proc/self/stat".to_string(), |pid| format!("/proc/{pid}/stat"));
    std::fs::read_to_string(path)
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user / 100.0, system / 100.0))
        })
        .unwrap_or((0.0, 0.0))
}

/// The fake provider as a child process: `steward dev fake-llm` from this
/// same binary, answering with a tool loop. Killed when dropped.
struct FakeProcess {
    child: Child,
    base_url: String,
}

impl FakeProcess {
    async fn start(tool_calls: u32, hold_ms: u64) -> anyhow::Result<FakeProcess> {
        let executable = std::env::current_exe().context("cannot find this executable to start the fake")?;
        let mut child = Command::new(executable)
            .args(["dev", "fake-llm", "--port", "0", "--hold-ms", &hold_ms.to_string()])
            .args(["--tool-calls", &tool_calls.to_string(), "--tool", BENCH_TOOL_WIRE_NAME, "--tool-input", "{}"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start the fake provider (steward dev fake-llm)")?;
        let stdout = child.stdout.take().context("the fake's output is not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let first_line = tokio::time::timeout(FAKE_START_TIMEOUT, lines.next_line())
            .await
            .context("the fake provider did not start in time")??
            .context("the fake provider exited before listening")?;
        let base_url = first_line
            .rsplit(' ')
            .next()
            .filter(|url| url.starts_with("http://"))
            .with_context(|| format!("unexpected first line from the fake: {first_line}"))?
            .to_string();
        // Keep reading, so the fake never blocks on (or dies of) a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(FakeProcess { child, base_url })
    }

    /// The fake's counters: requests served, and the most held at once.
    async fn stats(&self) -> anyhow::Result<Value> {
        let response = reqwest::get(format!("{}/_fake/stats", self.base_url)).await?;
        Ok(response.json().await?)
    }

    /// CPU seconds the fake has used so far (user + system).
    fn cpu_seconds(&self) -> f64 {
        self.child.id().map_or(0.0, |pid| {
            let (user, system) = cpu_split_seconds(Some(pid));
            user + system
        })
    }

    fn peak_rss_mb(&self) -> Option<f64> {
        self.child.id().map(|pid| peak_rss_mb(Some(pid)))
    }
}

struct Report {
    database: String,
    runs: usize,
    agents: usize,
    steps_per_run: u32,
    hold_ms: u64,
    workers: usize,
    counts: RunCounts,
    wall_seconds: f64,
    steps_per_sec: f64,
    cpu_us_per_step: f64,
    cpu_user_seconds: f64,
    cpu_system_seconds: f64,
    /// The most runs inside the handler at once.
    peak_running: usize,
    /// The most model calls the fake held at once.
    fake_peak_in_flight: Option<u64>,
    peak_rss_mb: f64,
    fake_peak_rss_mb: Option<f64>,
    /// CPU the fake used while the runs executed: it shares the machine.
    fake_cpu_seconds: f64,
    open_files: OpenFilesLimit,
    open_files_warning: Option<String>,
}

impl Report {
    fn expected_model_calls(&self) -> u64 {
        self.runs as u64 * u64::from(self.steps_per_run)
    }

    /// Fails the command unless every run completed with exactly its steps.
    fn check(&self) -> anyhow::Result<()> {
        let expected_tool_calls = self.runs as u64 * u64::from(self.steps_per_run - 1);
        if self.counts.completed != self.runs
            || self.counts.model_calls != self.expected_model_calls()
            || self.counts.tool_calls != expected_tool_calls
        {
            bail!(
                "not every run completed as scripted: {} of {} completed (others: {:?}); {} model calls (expected {}), {} tool calls (expected {expected_tool_calls})",
                self.counts.completed,
                self.runs,
                self.counts.other,
                self.counts.model_calls,
                self.expected_model_calls(),
                self.counts.tool_calls,
            );
        }
        Ok(())
    }

    fn print(&self, json_output: bool) {
        let round = |value: f64, places: i32| (value * 10f64.powi(places)).round() / 10f64.powi(places);
        if json_output {
            let object = json!({
                "database": self.database,
                "runs": self.runs,
                "agents": self.agents,
                "steps_per_run": self.steps_per_run,
                "hold_ms": self.hold_ms,
                "workers": self.workers,
                "completed": self.counts.completed,
                "not_completed": self.counts.other,
                "steps": self.counts.model_calls,
                "tool_calls": self.counts.tool_calls,
                "stored_steps": self.counts.stored_steps,
                "wall_seconds": round(self.wall_seconds, 3),
                "steps_per_sec": round(self.steps_per_sec, 1),
                "cpu_us_per_step": round(self.cpu_us_per_step, 1),
                "cpu_user_seconds": round(self.cpu_user_seconds, 2),
                "cpu_system_seconds": round(self.cpu_system_seconds, 2),
                "peak_running": self.peak_running,
                "fake_peak_in_flight": self.fake_peak_in_flight,
                "peak_rss_mb": round(self.peak_rss_mb, 1),
                "fake_peak_rss_mb": self.fake_peak_rss_mb.map(|value| round(value, 1)),
                "fake_cpu_seconds": round(self.fake_cpu_seconds, 2),
                "open_files_soft_limit": self.open_files.soft,
                "open_files_hard_limit": self.open_files.hard,
                "warning": self.open_files_warning,
            });
            say!("{object}");
            return;
        }
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_header(["measure", "value"]);
        let other = if self.counts.other.is_empty() { String::new() } else { format!(" ({:?})", self.counts.other) };
        table.add_row(["runs completed".to_string(), format!("{} of {}{other}", self.counts.completed, self.runs)]);
        table.add_row([
            "steps (model calls) · tool calls · stored steps".to_string(),
            format!("{} · {} · {}", self.counts.model_calls, self.counts.tool_calls, self.counts.stored_steps),
        ]);
        table.add_row([
            "wall time, first claim to last run finished".to_string(),
            format!("{:.2} s", self.wall_seconds),
        ]);
        table.add_row(["steps per second".to_string(), format!("{:.0}", self.steps_per_sec)]);
        table.add_row([
            "CPU per step, this process (all threads)".to_string(),
            format!(
                "{:.0} µs (user {:.2} s, system {:.2} s in all)",
                self.cpu_us_per_step, self.cpu_user_seconds, self.cpu_system_seconds
            ),
        ]);
        let fake_in_flight = self.fake_peak_in_flight.map_or_else(|| "?".to_string(), |peak| peak.to_string());
        table.add_row([
            "most runs at once · model calls held at once by the fake".to_string(),
            format!("{} · {fake_in_flight}", self.peak_running),
        ]);
        table.add_row(["peak RSS, this process".to_string(), format!("{:.1} MiB", self.peak_rss_mb)]);
        if let Some(fake_rss) = self.fake_peak_rss_mb {
            table.add_row([
                "the fake, not counted above: peak RSS · CPU".to_string(),
                format!("{fake_rss:.1} MiB · {:.2} s", self.fake_cpu_seconds),
            ]);
        }
        table.add_row(["open-file limit".to_string(), self.open_files.describe()]);
        say!(
            "Steward agent benchmark — {} — {} runs over {} agents, {} model calls each, replies held {} ms, {} workers",
            self.database,
            self.runs,
            self.agents,
            self.steps_per_run,
            self.hold_ms,
            self.workers
        );
        say!("{table}");
        if let Some(warning) = &self.open_files_warning {
            say!("warning: {warning}");
        }
    }
}
