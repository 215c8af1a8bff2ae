//! What model calls cost, grouped by UTC day, agent and model: the data of
//! the dashboard's costs page. Its `work` entries count what
//! [`RunStore::agent_spend`] counts — runs' model-call steps by the time they
//! finished, and the replies in agents' conversations by the time they were
//! stored — only split finer; its `oversight` entries are the guardian's
//! looks at the agent's runs and the duplicate checks of its work
//! (`oversight_calls`, which `agent_spend` counts too, so budgets stop
//! them), kept apart.
//!
//! [`RunStore::agent_spend`]: crate::RunStore::agent_spend

pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use steward_domain::{AgentId, UserId};

use crate::Result;

/// The model calls of one agent with one model on one UTC day.
#[derive(Clone, Debug, PartialEq)]
pub struct CostEntry {
    pub day: NaiveDate,
    pub agent_id: AgentId,
    /// `provider/model` for a run's calls; `None` for chat replies, whose
    /// messages do not record the model.
    pub model: Option<String>,
    pub model_calls: u64,
    /// US dollars of the calls whose price is known.
    pub cost_usd: f64,
    /// Calls whose price is unknown, not in `cost_usd`.
    pub unknown_cost_calls: u64,
    /// Tokens of the runs' calls (chat replies do not record theirs).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// What the calls were for.
    pub purpose: CostPurpose,
}

/// What model calls were for: the agents' own work, or watching it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CostPurpose {
    /// Runs' model calls and chat replies.
    Work,
    /// The guardian's assessments of runs, and duplicate checks.
    Oversight,
}

impl CostPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CostPurpose::Work => "work",
            CostPurpose::Oversight => "oversight",
        }
    }

    /// The purpose stored in a report row's `purpose` column.
    pub(crate) fn from_column(text: &str) -> CostPurpose {
        if text == "oversight" { CostPurpose::Oversight } else { CostPurpose::Work }
    }
}

#[async_trait]
pub trait CostStore {
    /// The user's spending since `since`, by UTC day, agent, model and
    /// purpose; ordered by day, then agent, then model (chat replies
    /// first), work before oversight.
    async fn cost_entries(&self, user: UserId, since: DateTime<Utc>) -> Result<Vec<CostEntry>>;
}

/// A count read from SQL, where it is a signed integer.
pub(crate) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
