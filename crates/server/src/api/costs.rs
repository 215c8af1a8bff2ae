//! The costs report on the wire (`GET /api/v1/costs`): what model calls cost
//! per UTC day, agent and model, and the newest event id
//! (`GET /api/v1/events/latest`), where a reader of the log can start.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use steward_domain::{AgentId, EventId};
use utoipa::{IntoParams, ToSchema};

/// The model calls of one agent with one model on one UTC day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CostEntryBody {
    /// The UTC day (budgets count per UTC day too), `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    #[schema(value_type = i64)]
    pub agent_id: AgentId,
    /// `provider/model` of a run's calls; null for chat replies, whose model is not recorded.
    pub model: Option<String>,
    pub model_calls: u64,
    /// US dollars of the calls whose price is known.
    pub cost_usd: f64,
    /// Calls whose price is unknown: not in `cost_usd`, which is then too low.
    pub unknown_cost_calls: u64,
    /// Tokens of runs' calls (chat replies do not record theirs).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `work` (runs and chat replies) or `oversight` (the guardian's looks
    /// at runs), so watching agents shows apart from their work.
    pub purpose: String,
}

impl From<steward_store::CostEntry> for CostEntryBody {
    fn from(entry: steward_store::CostEntry) -> Self {
        CostEntryBody {
            day: entry.day,
            agent_id: entry.agent_id,
            model: entry.model,
            model_calls: entry.model_calls,
            cost_usd: entry.cost_usd,
            unknown_cost_calls: entry.unknown_cost_calls,
            input_tokens: entry.input_tokens,
            output_tokens: entry.output_tokens,
            purpose: entry.purpose.as_str().to_string(),
        }
    }
}

/// Spending over the last `days` UTC days, today included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CostReportResponse {
    /// The first day counted (UTC).
    #[schema(value_type = String, format = Date)]
    pub since: NaiveDate,
    pub days: u32,
    /// By day, then agent, then model; days without calls have no entry.
    pub entries: Vec<CostEntryBody>,
}

/// The span of `GET /costs`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostReportQuery {
    /// 1…366 UTC days back from today (today included); default 30.
    pub days: Option<u32>,
}

/// Where the event log ends now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LatestEventResponse {
    /// The newest event's id; null while the log is empty.
    #[schema(value_type = Option<i64>)]
    pub id: Option<EventId>,
}
