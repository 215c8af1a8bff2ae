//! Memory on the wire: search results with their score, reasons and
//! provenance; episodes added; facts with their two time lines.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::memory::{CoreBlock, Episode, Fact};
use steward_runtime::memory::{Item, SearchOutcome, SearchResult};
use utoipa::{IntoParams, ToSchema};

/// `GET /memory/search`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
pub struct MemorySearchQuery {
    /// What to look for.
    pub q: String,
    /// Only this agent's memory and the user's shared memory.
    pub agent_id: Option<i64>,
    /// What was valid at this time (RFC 3339, or a date `YYYY-MM-DD`).
    pub as_of: Option<String>,
    /// `episode`, `entity`, `fact`; repeat or separate with commas.
    pub kind: Option<Vec<String>>,
    /// `relation`, `preference`, `decision`; repeat or separate with commas.
    pub fact_kind: Option<Vec<String>>,
    /// At most this many results (1–100, default 10).
    pub limit: Option<usize>,
    /// `mmr`, `centre` or `mentions`: reorders the filtered results.
    pub rerank: Option<String>,
    /// An entity's name: nearest to it first (implies `rerank=centre`).
    pub centre: Option<String>,
}

/// Something memory ingested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EpisodeResponse {
    pub id: i64,
    pub agent_id: Option<i64>,
    /// `message`, `run_output`, `feedback`, `correction`, `document`, `note`.
    pub source: String,
    pub source_ref: Option<String>,
    /// The conversation or session it is a turn of.
    pub thread: Option<String>,
    pub content: String,
    pub reference_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// `null` while its entities and facts are being extracted.
    pub ingested_at: Option<DateTime<Utc>>,
}

impl From<Episode> for EpisodeResponse {
    fn from(episode: Episode) -> Self {
        EpisodeResponse {
            id: episode.id.get(),
            agent_id: episode.agent_id.map(|agent| agent.get()),
            source: episode.source.to_string(),
            source_ref: episode.source_ref,
            thread: episode.thread,
            content: episode.content,
            reference_time: episode.reference_time,
            created_at: episode.created_at,
            ingested_at: episode.ingested_at,
        }
    }
}

/// A fact: valid in the world on `[valid_at, invalid_at)`, believed from
/// `created_at` until `expired_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FactResponse {
    pub id: i64,
    /// `relation`, `preference` or `decision`.
    pub kind: String,
    pub relation: String,
    pub fact: String,
    pub subject_id: i64,
    pub object_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub valid_at: DateTime<Utc>,
    pub invalid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub expired_at: Option<DateTime<Utc>>,
    /// The episodes it came from.
    pub episodes: Vec<i64>,
}

impl From<Fact> for FactResponse {
    fn from(fact: Fact) -> Self {
        FactResponse {
            id: fact.id.get(),
            kind: fact.kind.to_string(),
            relation: fact.relation,
            fact: fact.statement,
            subject_id: fact.subject.get(),
            object_id: fact.object.map(|object| object.get()),
            agent_id: fact.agent_id.map(|agent| agent.get()),
            valid_at: fact.valid_at,
            invalid_at: fact.invalid_at,
            created_at: fact.created_at,
            expired_at: fact.expired_at,
            episodes: fact.episodes.iter().map(|episode| episode.get()).collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemoryResultResponse {
    /// `episode`, `entity` or `fact`.
    pub kind: String,
    pub id: i64,
    /// Reciprocal-rank fusion of the signals that found it.
    pub score: f64,
    /// Why it matched: one phrase per signal (`text rank 1`, `graph rank 2 (1 hop)`).
    pub why: Vec<String>,
    /// The episode's content, the entity's name and summary, or the fact.
    pub text: String,
    pub fact: Option<FactResponse>,
    /// The episodes it came from.
    pub provenance: Vec<EpisodeResponse>,
}

impl From<SearchResult> for MemoryResultResponse {
    fn from(result: SearchResult) -> Self {
        let (text, fact) = match result.item {
            Item::Episode(episode) => (episode.content, None),
            Item::Entity(entity) if entity.summary.is_empty() => (entity.name, None),
            Item::Entity(entity) => (format!("{}: {}", entity.name, entity.summary), None),
            Item::Fact(fact) => (fact.statement.clone(), Some(fact.into())),
        };
        MemoryResultResponse {
            kind: result.key.kind.to_string(),
            id: result.key.id,
            score: result.score,
            why: result.why,
            text,
            fact,
            provenance: result.provenance.into_iter().map(|provenance| provenance.episode.into()).collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemorySearchResponse {
    pub results: Vec<MemoryResultResponse>,
    /// `false` when the server has no embedding model: full text and the graph only.
    pub vectors_used: bool,
}

impl From<SearchOutcome> for MemorySearchResponse {
    fn from(outcome: SearchOutcome) -> Self {
        MemorySearchResponse {
            results: outcome.results.into_iter().map(Into::into).collect(),
            vectors_used: outcome.vectors_used,
        }
    }
}

/// `POST /memory/episodes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddEpisodeRequest {
    pub content: String,
    /// Default `note`.
    pub source: Option<String>,
    /// Adding the same `(source, source_ref)` again returns the first.
    pub source_ref: Option<String>,
    /// Only this agent's memory; default: shared by the user's agents.
    pub agent_id: Option<i64>,
    /// When it happened; default now.
    pub reference_time: Option<DateTime<Utc>>,
    /// The conversation or session it is a turn of (1 to 200 characters):
    /// search reads a matching turn's neighbours in its thread.
    #[serde(default)]
    pub thread: Option<String>,
}

/// `GET /memory/facts?entity=NAME`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EntityFactsResponse {
    pub entity_id: i64,
    pub name: String,
    pub summary: String,
    /// Oldest first; closed facts only with `history=true`.
    pub facts: Vec<FactResponse>,
}

/// `POST /memory/facts/{id}/forget`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgetFactRequest {
    /// Recorded in the `memory.fact_invalidated` event.
    pub reason: Option<String>,
}

/// One of an agent's core blocks: small, always in its prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CoreBlockResponse {
    pub agent_id: i64,
    /// `[a-z0-9_]`, e.g. `preferences`, `goal_notes`.
    pub label: String,
    pub value: String,
    pub updated_at: DateTime<Utc>,
}

impl From<CoreBlock> for CoreBlockResponse {
    fn from(block: CoreBlock) -> Self {
        CoreBlockResponse {
            agent_id: block.agent_id.get(),
            label: block.label,
            value: block.value,
            updated_at: block.updated_at,
        }
    }
}

/// `GET /agents/{id}/memory/core-blocks`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CoreBlocksResponse {
    pub blocks: Vec<CoreBlockResponse>,
}

/// `POST /agents/{id}/memory/core-blocks`: sets one block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCoreBlockRequest {
    pub label: String,
    /// At most 2,000 characters; empty removes the block.
    pub value: String,
}
