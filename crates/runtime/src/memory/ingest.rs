//! Ingestion, the `memory.ingest` job kind: extract an episode's entities
//! (one structured call), resolve them (exact normalised name, then fuzzy
//! name similarity, then embedding similarity), extract facts (one
//! structured call, shown the existing facts among those entities), embed
//! what is new, and write it all in one store transaction.
//!
//! A retried or resumed job never duplicates: the write is refused as a
//! whole once the episode is marked ingested, and nothing is written before
//! it. The model calls of a retried job are made again (they are not
//! stored); their replies only matter through that one write.

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::memory::temporal::visible;
use steward_domain::memory::text::{NameMatch, match_name, normalize_name};
use steward_domain::memory::{Episode, FactKind, ItemKind};
use steward_domain::{EntityId, EpisodeId, FactId, UserId};
use steward_llm::{LlmError, StructuredOptions, complete_typed};
use steward_store::memory::{
    EmbeddingTarget, IngestionPlan, IngestionReport, MergeMethod, PlannedEmbedding, PlannedEntity, PlannedFact,
    Resolution,
};

use super::Memory;
use super::extraction::{ExtractedEntities, ExtractedFacts, entity_request, fact_request};
use crate::handlers::{JobContext, JobError, JobHandler};

pub const INGEST_JOB_KIND: &str = "memory.ingest";

/// An entity name resolves to an existing entity by embedding at this
/// cosine similarity or above.
const EMBEDDING_MERGE_THRESHOLD: f32 = 0.92;

pub(super) fn model_failure(error: LlmError) -> JobError {
    if error.is_retryable() { JobError::retryable(error.to_string()) } else { JobError::permanent(error.to_string()) }
}

pub(super) fn store_failure(error: impl std::fmt::Display) -> JobError {
    JobError::retryable(error.to_string())
}

impl Memory {
    /// Ingests episode `id`; see the module documentation.
    pub async fn ingest(&self, user: UserId, id: EpisodeId) -> Result<IngestionReport, JobError> {
        let episode = self.store.get_episodes(user, &[id]).await.map_err(store_failure)?.pop();
        let Some(episode) = episode else {
            return Err(JobError::permanent(format!("episode {id} not found")));
        };
        if episode.ingested_at.is_some() {
            return Ok(IngestionReport { already_ingested: true, ..IngestionReport::default() });
        }
        let mut plan = match &self.extractor {
            Some(_) => self.extract(user, &episode).await?,
            None => IngestionPlan::default(),
        };
        self.embed_plan(&episode, &mut plan).await?;
        self.store.apply_ingestion(user, id, plan).await.map_err(|error| match error {
            steward_store::StoreError::Invalid(invalid) => {
                JobError::permanent(format!("the extraction was refused: {invalid}"))
            }
            other => store_failure(other),
        })
    }

    async fn extract(&self, user: UserId, episode: &Episode) -> Result<IngestionPlan, JobError> {
        let Some(model) = &self.extractor else { return Ok(IngestionPlan::default()) };
        let options = StructuredOptions::default();
        let entities = complete_typed::<ExtractedEntities>(model.as_ref(), entity_request(episode), options)
            .await
            .map_err(model_failure)?
            .value;
        let mut plan = IngestionPlan::default();
        let known = self.store.entity_names(user).await.map_err(store_failure)?;
        for extracted in entities.entities {
            if normalize_name(&extracted.name).is_empty()
                || plan.entities.iter().any(|planned| normalize_name(&planned.name) == normalize_name(&extracted.name))
            {
                continue;
            }
            let resolution = resolve_by_name(&extracted.name, &known);
            plan.entities.push(PlannedEntity {
                name: extracted.name,
                labels: extracted.labels,
                summary: extracted.summary,
                resolution,
            });
        }
        self.resolve_by_embedding(user, &mut plan).await?;

        let resolved: Vec<EntityId> = plan.entities.iter().filter_map(resolved_entity).collect();
        let now = self.clock.now();
        let mut existing = self.store.facts_touching(user, &resolved).await.map_err(store_failure)?;
        existing.retain(|fact| visible(fact, None, now));
        let names: Vec<String> = plan.entities.iter().map(|entity| entity.name.clone()).collect();
        let facts = complete_typed::<ExtractedFacts>(model.as_ref(), fact_request(episode, &names, &existing), options)
            .await
            .map_err(model_failure)?
            .value;
        for extracted in facts.facts {
            let subject = entity_index(&mut plan, &extracted.subject);
            let object = extracted.object.as_deref().map(|name| entity_index(&mut plan, name));
            let (Some(subject), object) = (subject, object.flatten()) else { continue };
            let known_id = |id: i64| existing.iter().any(|fact| fact.id.get() == id);
            plan.facts.push(PlannedFact {
                kind: extracted.kind.parse().unwrap_or(FactKind::Relation),
                subject,
                object,
                relation: extracted.relation,
                statement: extracted.fact,
                valid_at: extracted.valid_at,
                invalid_at: extracted.invalid_at,
                // Only ids the model was shown count; anything else is noise.
                duplicate_of: extracted.duplicate_of.filter(|id| known_id(*id)).map(FactId),
                contradicts: extracted.contradicts.into_iter().filter(|id| known_id(*id)).map(FactId).collect(),
                also_from: Vec::new(),
            });
        }
        Ok(plan)
    }

    /// New names whose embedding is close to an existing entity's are merged.
    async fn resolve_by_embedding(&self, user: UserId, plan: &mut IngestionPlan) -> Result<(), JobError> {
        let Some(embedder) = &self.embedder else { return Ok(()) };
        let new: Vec<usize> =
            (0..plan.entities.len()).filter(|index| plan.entities[*index].resolution == Resolution::New).collect();
        if new.is_empty() {
            return Ok(());
        }
        let model = embedder.id().to_string();
        let index = self.vectors.index(self.store.as_ref(), user, &model).await.map_err(store_failure)?;
        let names: Vec<String> = new.iter().map(|index| plan.entities[*index].name.clone()).collect();
        let vectors = embedder.embed(&names).await.map_err(model_failure)?.vectors;
        for (position, vector) in new.iter().zip(&vectors) {
            let best = index.top_k(vector, 5).into_iter().find(|(key, _)| key.kind == ItemKind::Entity);
            if let Some((key, similarity)) = best
                && similarity >= EMBEDDING_MERGE_THRESHOLD
            {
                plan.entities[*position].resolution = Resolution::Merge {
                    entity: EntityId(key.id),
                    method: MergeMethod::Embedding,
                    similarity: f64::from(similarity),
                };
            }
        }
        Ok(())
    }

    /// Embeds the episode, new entities and new facts in one call.
    async fn embed_plan(&self, episode: &Episode, plan: &mut IngestionPlan) -> Result<(), JobError> {
        let Some(embedder) = &self.embedder else { return Ok(()) };
        let mut targets = vec![(EmbeddingTarget::Episode, episode.content.clone())];
        for (index, entity) in plan.entities.iter().enumerate() {
            if entity.resolution == Resolution::New {
                targets.push((EmbeddingTarget::Entity(index), entity.name.clone()));
            }
        }
        for (index, fact) in plan.facts.iter().enumerate() {
            targets.push((EmbeddingTarget::Fact(index), fact.statement.clone()));
        }
        let texts: Vec<String> = targets.iter().map(|(_, text)| text.clone()).collect();
        let vectors = embedder.embed(&texts).await.map_err(model_failure)?.vectors;
        plan.embedding_model = Some(embedder.id().to_string());
        plan.embeddings =
            targets.into_iter().zip(vectors).map(|((target, _), vector)| PlannedEmbedding { target, vector }).collect();
        Ok(())
    }
}

/// How `name` resolves against the user's entities by name alone.
pub(super) fn resolve_by_name(name: &str, known: &[(EntityId, String)]) -> Resolution {
    match match_name(name, known) {
        NameMatch::Exact(id) => Resolution::Existing(id),
        NameMatch::Fuzzy(id, similarity) => Resolution::Merge { entity: id, method: MergeMethod::Fuzzy, similarity },
        NameMatch::None => Resolution::New,
    }
}

fn resolved_entity(entity: &PlannedEntity) -> Option<EntityId> {
    match entity.resolution {
        Resolution::Existing(id) | Resolution::Merge { entity: id, .. } => Some(id),
        Resolution::New => None,
    }
}

/// The plan's index of the entity `name`, added as new if the fact names
/// one the entity call missed.
pub(super) fn entity_index(plan: &mut IngestionPlan, name: &str) -> Option<usize> {
    let normalized = normalize_name(name);
    if normalized.is_empty() {
        return None;
    }
    if let Some(index) = plan.entities.iter().position(|entity| normalize_name(&entity.name) == normalized) {
        return Some(index);
    }
    plan.entities.push(PlannedEntity {
        name: name.to_string(),
        labels: Vec::new(),
        summary: String::new(),
        resolution: Resolution::New,
    });
    Some(plan.entities.len() - 1)
}

/// The `memory.ingest` job kind: `{"episode_id": N}`, for the job's user.
pub struct IngestHandler {
    memory: std::sync::Arc<Memory>,
}

impl IngestHandler {
    pub fn new(memory: std::sync::Arc<Memory>) -> Self {
        IngestHandler { memory }
    }
}

#[async_trait]
impl JobHandler for IngestHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let Some(id) = context.job.payload.get("episode_id").and_then(Value::as_i64).map(EpisodeId) else {
            return Err(JobError::permanent("a memory.ingest job needs {\"episode_id\": <id>} as its payload"));
        };
        let report = self.memory.ingest(context.job.user_id, id).await?;
        Ok(json!({
            "episode_id": id,
            "already_ingested": report.already_ingested,
            "entities_created": report.entities_created,
            "entities_merged": report.entities_merged,
            "facts_created": report.facts_created,
            "facts_merged": report.facts_merged,
            "facts_closed": report.facts_closed,
        }))
    }
}
