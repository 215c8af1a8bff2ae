//! Memory's storage: episodes, entities (with recorded merges), facts with
//! provenance and their two time lines, core blocks, embeddings, and full
//! text (FTS5 on SQLite, `to_tsvector` GIN indexes on PostgreSQL).
//!
//! Ingestion is one write, [`MemoryStore::apply_ingestion`]: the entities,
//! facts, closings and embeddings an episode yields, and the episode marked
//! ingested, in one transaction; an episode already ingested is left alone,
//! which is what makes a retried job add nothing twice. The decisions
//! (which entity a name is, whether a fact is a duplicate, what it closes)
//! are in `decide.rs`, once for both databases.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use steward_domain::memory::context::Neighbour;
use steward_domain::memory::{CoreBlock, Entity, Episode, Fact, FactKind, ItemKey, ItemKind, NewEpisode};
use steward_domain::{AgentId, EntityId, EpisodeId, FactId, UserId};

use crate::Result;

/// How an extracted name was resolved before the write.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolution {
    /// A new entity, unless one with the same normalised name exists by
    /// the time of the write (then that one).
    New,
    /// An existing entity with the same normalised name.
    Existing(EntityId),
    /// An existing entity found by similarity: the merge is recorded.
    Merge { entity: EntityId, method: MergeMethod, similarity: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeMethod {
    Fuzzy,
    Embedding,
}

impl MergeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Fuzzy => "fuzzy",
            MergeMethod::Embedding => "embedding",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlannedEntity {
    pub name: String,
    pub labels: Vec<String>,
    pub summary: String,
    pub resolution: Resolution,
}

/// A fact the extraction found; entities by their index in the plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedFact {
    pub kind: FactKind,
    pub subject: usize,
    pub object: Option<usize>,
    pub relation: String,
    pub statement: String,
    /// As stated in the episode; `None` takes the episode's time.
    pub valid_at: Option<DateTime<Utc>>,
    pub invalid_at: Option<DateTime<Utc>>,
    /// An existing fact saying the same (its provenance gains the episode).
    pub duplicate_of: Option<FactId>,
    /// Existing facts this one contradicts.
    pub contradicts: Vec<FactId>,
    /// Other episodes of the user it was drawn from besides the one
    /// ingested (consolidation folds several into one fact).
    pub also_from: Vec<EpisodeId>,
}

/// What an embedding belongs to, within a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddingTarget {
    Episode,
    Entity(usize),
    Fact(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlannedEmbedding {
    pub target: EmbeddingTarget,
    pub vector: Vec<f32>,
}

/// Everything one episode's ingestion writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IngestionPlan {
    pub entities: Vec<PlannedEntity>,
    pub facts: Vec<PlannedFact>,
    /// The embedding model's name, and the vectors.
    pub embedding_model: Option<String>,
    pub embeddings: Vec<PlannedEmbedding>,
}

/// What an ingestion wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestionReport {
    /// The episode had been ingested before: nothing was written.
    pub already_ingested: bool,
    pub entities_created: usize,
    pub entities_merged: usize,
    pub facts_created: usize,
    /// New facts found to be duplicates: their provenance was merged.
    pub facts_merged: usize,
    pub facts_closed: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpisodeFilter {
    pub agent_id: Option<AgentId>,
    /// Only episodes still waiting for ingestion.
    pub pending: bool,
    /// Only episodes after this one, oldest first (else newest first).
    pub after: Option<EpisodeId>,
    /// Only episodes whose `source_ref` starts with this.
    pub source_ref_prefix: Option<String>,
    pub limit: usize,
}

/// An item's text as logged, for the in-process full-text index.
#[derive(Clone, Debug, PartialEq)]
pub struct TextEntry {
    /// Its number in the user's text log.
    pub seq: i64,
    pub key: ItemKey,
    pub text: String,
}

/// A stored embedding, for the in-process index.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEmbedding {
    pub id: i64,
    pub key: ItemKey,
    pub model: String,
    pub vector: Vec<f32>,
}

/// A merge recorded when a name resolved to an entity by similarity.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityMerge {
    pub entity_id: EntityId,
    pub alias: String,
    pub method: String,
    pub similarity: f64,
    pub episode_id: EpisodeId,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait MemoryStore {
    /// Stores an episode; one with the same `(source, source_ref)` is
    /// returned instead (`false`: it existed). Content must not be empty.
    async fn add_episode(&self, episode: NewEpisode) -> Result<(Episode, bool)>;

    async fn get_episodes(&self, user: UserId, ids: &[EpisodeId]) -> Result<Vec<Episode>>;

    /// Newest first, or oldest first with `filter.after`.
    async fn list_episodes(&self, user: UserId, filter: EpisodeFilter) -> Result<Vec<Episode>>;

    /// Writes an episode's entities, facts and embeddings and marks it
    /// ingested, in one transaction; does nothing if it was ingested.
    async fn apply_ingestion(&self, user: UserId, episode: EpisodeId, plan: IngestionPlan) -> Result<IngestionReport>;

    /// `(id, normalised name)` of every entity of the user, for resolution.
    async fn entity_names(&self, user: UserId) -> Result<Vec<(EntityId, String)>>;

    async fn get_entities(&self, user: UserId, ids: &[EntityId]) -> Result<Vec<Entity>>;

    /// The entity named `name` (normalised), if any.
    async fn find_entity(&self, user: UserId, name: &str) -> Result<Option<Entity>>;

    async fn entity_merges(&self, user: UserId, entity: EntityId) -> Result<Vec<EntityMerge>>;

    async fn get_facts(&self, user: UserId, ids: &[FactId]) -> Result<Vec<Fact>>;

    /// Every fact (closed ones too) whose subject or object is one of
    /// `entities`, oldest first.
    async fn facts_touching(&self, user: UserId, entities: &[EntityId]) -> Result<Vec<Fact>>;

    /// Facts of `kinds` (all when empty), newest first, at most `limit`.
    async fn list_facts(&self, user: UserId, kinds: &[FactKind], limit: usize) -> Result<Vec<Fact>>;

    /// Closes a fact now (`invalid_at` and `expired_at` = now), recording
    /// why (event `memory.fact_invalidated`). A closed fact stays closed.
    async fn invalidate_fact(&self, user: UserId, fact: FactId, reason: String) -> Result<Fact>;

    /// Full-text search: the best `limit` items of each kind in `kinds`,
    /// best first with their text score (higher is better).
    async fn text_search(
        &self,
        user: UserId,
        terms: &[String],
        kinds: &[ItemKind],
        limit: usize,
    ) -> Result<Vec<(ItemKey, f64)>>;

    /// The user's latest text-log number (0 before any item was written):
    /// the in-process full-text index reads what is new when it grows.
    async fn text_watermark(&self, user: UserId) -> Result<i64>;

    /// Every item whose text was logged after number `after`, in log order,
    /// with its text (an entity's is its name and summary).
    async fn text_since(&self, user: UserId, after: i64) -> Result<Vec<TextEntry>>;

    /// The turns around each of `episodes` in its thread: up to `turns`
    /// before and after it in reference time (then id), with how many
    /// turns apart. An episode without a thread has none.
    async fn episode_context(
        &self,
        user: UserId,
        episodes: &[EpisodeId],
        turns: usize,
    ) -> Result<Vec<Neighbour<EpisodeId>>>;

    /// How many embeddings the user has and the highest id: the in-process
    /// index reloads when these change.
    async fn embedding_watermark(&self, user: UserId) -> Result<(i64, i64)>;

    async fn embeddings(&self, user: UserId) -> Result<Vec<StoredEmbedding>>;

    async fn core_blocks(&self, user: UserId, agent: AgentId) -> Result<Vec<CoreBlock>>;

    /// Sets a block's value (an empty value removes it).
    async fn set_core_block(&self, user: UserId, agent: AgentId, label: String, value: String) -> Result<()>;
}
