//! Operational metrics, served at `/metrics` in the Prometheus text
//! exposition (OpenMetrics 1.0, which Prometheus reads natively), through
//! the `prometheus-client` crate. Two kinds:
//! - measured in this process as things happen: claim latency, how long a
//!   job waited from due to start, running jobs, HTTP requests by route and
//!   status with their durations, schedule fire delay, runs' trace spans
//!   exported and lost ([`SpanCounters`]);
//! - read from the database at each scrape ([`MetricsSnapshot`]): jobs by
//!   state and queue, run steps by kind, tokens and cost by agent and model,
//!   tool calls and errors by tool. These count every process's work (on
//!   PostgreSQL, every node's) and survive restarts.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use steward_store::MetricsSnapshot;

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    /// The matched route (`/api/v1/runs/{id}`), never the raw path.
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    state: String,
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    agent_id: String,
    agent: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    agent_id: String,
    agent: String,
    model: String,
    /// `input`, `output`, `cache_read`, `cache_write`.
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SpanOutcomeLabels {
    /// `exported`, `dropped` (the export queue was full) or `failed` (the
    /// receiver refused or could not be reached, retries spent).
    outcome: String,
}

/// What became of runs' trace spans handed to the OpenTelemetry export:
/// shared counters (cloning shares them) that the export bumps and
/// `/metrics` shows as `steward_otel_spans_total{outcome}`.
#[derive(Clone, Debug, Default)]
pub struct SpanCounters {
    pub exported: Counter,
    pub dropped: Counter,
    pub failed: Counter,
}

/// Seconds, from 1 ms to about 65 s.
fn latency_buckets() -> impl Iterator<Item = f64> {
    exponential_buckets(0.001, 2.0, 17)
}

/// What this process measures; cheap to share (`Arc`), every method `&self`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    claim_seconds: Histogram,
    start_delay_seconds: Family<QueueLabels, Histogram>,
    running_jobs: Gauge,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<HttpLabels, Histogram>,
    schedule_fire_delay_seconds: Histogram,
    spans: SpanCounters,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("steward");
        let claim_seconds = Histogram::new(latency_buckets());
        registry.register_with_unit(
            "job_claim",
            "Time one claim of a batch of jobs took (the worker's round trip to the queue)",
            Unit::Seconds,
            claim_seconds.clone(),
        );
        let start_delay_seconds =
            Family::<QueueLabels, Histogram>::new_with_constructor(|| Histogram::new(latency_buckets()));
        registry.register_with_unit(
            "job_start_delay",
            "Time from a job becoming due (enqueued, or its delay over) to a worker starting it",
            Unit::Seconds,
            start_delay_seconds.clone(),
        );
        let running_jobs = Gauge::default();
        registry.register("worker_running_jobs", "Jobs this process's workers are running now", running_jobs.clone());
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by matched route and status",
            http_requests.clone(),
        );
        let http_seconds = Family::<HttpLabels, Histogram>::new_with_constructor(|| Histogram::new(latency_buckets()));
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer HTTP requests (to the response head), by matched route and status",
            Unit::Seconds,
            http_seconds.clone(),
        );
        let schedule_fire_delay_seconds = Histogram::new(latency_buckets());
        registry.register_with_unit(
            "schedule_fire_delay",
            "Time from a schedule's slot (with its jitter) to the commit that fired it",
            Unit::Seconds,
            schedule_fire_delay_seconds.clone(),
        );
        let span_outcomes = Family::<SpanOutcomeLabels, Counter>::default();
        let span_counter =
            |outcome: &str| span_outcomes.get_or_create(&SpanOutcomeLabels { outcome: outcome.into() }).clone();
        let spans = SpanCounters {
            exported: span_counter("exported"),
            dropped: span_counter("dropped"),
            failed: span_counter("failed"),
        };
        registry.register(
            "otel_spans",
            "Runs' trace spans given to the OTLP export, by outcome: exported, dropped (queue full), failed (export \
             refused or unreachable after its retries)",
            span_outcomes,
        );
        Metrics {
            registry,
            claim_seconds,
            start_delay_seconds,
            running_jobs,
            http_requests,
            http_seconds,
            schedule_fire_delay_seconds,
            spans,
        }
    }

    /// The counters the OpenTelemetry export reports its spans to.
    pub fn span_counters(&self) -> SpanCounters {
        self.spans.clone()
    }

    pub fn observe_claim(&self, took: Duration) {
        self.claim_seconds.observe(took.as_secs_f64());
    }

    pub fn observe_job_start(&self, queue: &str, waited: Duration) {
        self.start_delay_seconds.get_or_create(&QueueLabels { queue: queue.to_string() }).observe(waited.as_secs_f64());
    }

    pub fn set_running_jobs(&self, running: usize) {
        self.running_jobs.set(i64::try_from(running).unwrap_or(i64::MAX));
    }

    pub fn observe_http(&self, route: &str, method: &str, status: u16, took: Duration) {
        let labels = HttpLabels { route: route.to_string(), method: method.to_string(), status: status.to_string() };
        self.http_requests.get_or_create(&labels).inc();
        self.http_seconds.get_or_create(&labels).observe(took.as_secs_f64());
    }

    pub fn observe_schedule_fire(&self, late_by: Duration) {
        self.schedule_fire_delay_seconds.observe(late_by.as_secs_f64());
    }

    /// The whole exposition: this process's measurements, then the
    /// database's numbers.
    pub fn encode(&self, snapshot: &MetricsSnapshot) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode_registry(&mut text, &self.registry)?;
        encode_registry(&mut text, &snapshot_registry(snapshot))?;
        encode_eof(&mut text)?;
        Ok(text)
    }
}

fn snapshot_registry(snapshot: &MetricsSnapshot) -> Registry {
    let mut registry = Registry::with_prefix("steward");
    let jobs = Family::<JobLabels, Gauge>::default();
    for (state, queue, count) in &snapshot.jobs {
        jobs.get_or_create(&JobLabels { state: state.clone(), queue: queue.clone() }).set(gauge_value(*count));
    }
    registry.register("jobs", "Jobs in the queue, by state and queue", jobs);
    let steps = Family::<KindLabels, Counter>::default();
    for (kind, count) in &snapshot.steps {
        steps.get_or_create(&KindLabels { kind: kind.clone() }).inc_by(*count);
    }
    registry.register("run_steps", "Run steps stored, by kind", steps);
    let calls = Family::<ModelLabels, Counter>::default();
    let estimated = Family::<ModelLabels, Counter>::default();
    let unknown = Family::<ModelLabels, Counter>::default();
    let cost = Family::<ModelLabels, Counter<f64, std::sync::atomic::AtomicU64>>::default();
    let tokens = Family::<TokenLabels, Counter>::default();
    for usage in &snapshot.models {
        let labels = ModelLabels {
            agent_id: usage.agent_id.to_string(),
            agent: usage.agent_name.clone(),
            model: usage.model.clone(),
        };
        calls.get_or_create(&labels).inc_by(usage.calls);
        estimated.get_or_create(&labels).inc_by(usage.estimated_calls);
        unknown.get_or_create(&labels).inc_by(usage.unknown_cost_calls);
        cost.get_or_create(&labels).inc_by(usage.cost_usd);
        let counts = [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_tokens),
            ("cache_write", usage.cache_write_tokens),
        ];
        for (kind, count) in counts {
            let labels = TokenLabels {
                agent_id: labels.agent_id.clone(),
                agent: labels.agent.clone(),
                model: labels.model.clone(),
                kind: kind.to_string(),
            };
            tokens.get_or_create(&labels).inc_by(count);
        }
    }
    registry.register("model_calls", "Runs' model calls, by agent and model", calls);
    registry.register(
        "model_calls_estimated",
        "Model calls cut off by a crash or cancel, counted with estimated usage",
        estimated,
    );
    registry.register("model_calls_unknown_cost", "Model calls whose price is unknown (not in the cost)", unknown);
    registry.register("model_tokens", "Tokens of runs' model calls, by agent, model and kind", tokens);
    registry.register("model_cost_usd", "US dollars of runs' model calls with a known price", cost);
    let tool_calls = Family::<ToolLabels, Counter>::default();
    let tool_errors = Family::<ToolLabels, Counter>::default();
    for (tool, count, errors) in &snapshot.tools {
        tool_calls.get_or_create(&ToolLabels { tool: tool.clone() }).inc_by(*count);
        tool_errors.get_or_create(&ToolLabels { tool: tool.clone() }).inc_by(*errors);
    }
    registry.register("tool_calls", "Tool calls of runs, by tool", tool_calls);
    registry.register("tool_errors", "Tool calls that failed or were refused, by tool", tool_errors);
    registry
}

fn gauge_value(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
