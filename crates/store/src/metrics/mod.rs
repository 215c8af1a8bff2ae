//! What `/metrics` reads from the database at each scrape, over every user
//! (an operator's view): jobs by state and queue, run steps by kind, model
//! calls' tokens and cost by agent and model, tool calls and their errors
//! by tool. Counts only grow while rows are kept, so the model and tool
//! totals are exposed as counters. Each read is one grouped scan of its
//! table (`jobs`, `run_steps`): cheap at the scale one Steward serves, and
//! a scrape every 15 s costs a few queries.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::AgentId;

use crate::Result;

/// The database's numbers for one scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// (state, queue, jobs).
    pub jobs: Vec<(String, String, u64)>,
    /// (step kind, steps).
    pub steps: Vec<(String, u64)>,
    pub models: Vec<ModelUsage>,
    /// (tool, calls, calls that failed or were refused).
    pub tools: Vec<(String, u64, u64)>,
}

/// The run model calls of one agent with one model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelUsage {
    pub agent_id: AgentId,
    pub agent_name: String,
    /// `provider/model`.
    pub model: String,
    pub calls: u64,
    /// Calls cut off by a crash or cancel, counted with estimated usage.
    pub estimated_calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// US dollars of the calls whose price is known.
    pub cost_usd: f64,
    pub unknown_cost_calls: u64,
}

#[async_trait]
pub trait MetricsStore {
    async fn metrics_snapshot(&self) -> Result<MetricsSnapshot>;
}

/// A count read from SQL, where it is a signed integer.
pub(crate) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
