//! Consolidation, the `memory.consolidate` job kind (run periodically by a
//! schedule): the episodes that arrived since the last consolidation are
//! folded into standing preferences and decisions (episodic → semantic),
//! one structured call per agent scope, shown the preferences and decisions
//! believed now by id so it can repeat or contradict them.
//!
//! It costs nothing when there is nothing new: the watermark is the newest
//! consolidation note (`source_ref` `consolidation:<last episode id>:…`),
//! and no model is called unless an episode came after it. Each fold is
//! written as a note episode whose facts also cite the folded episodes; a
//! retried job finds the note ingested and asks nothing again.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::memory::temporal::visible;
use steward_domain::memory::{Episode, EpisodeSource, Fact, FactKind, NewEpisode};
use steward_domain::{AgentId, EpisodeId, FactId, UserId};
use steward_llm::{ChatRequest, Message, StructuredOptions, complete_typed};
use steward_store::memory::{EpisodeFilter, IngestionPlan, PlannedFact, Resolution};

use super::Memory;
use super::extraction::ExtractedFacts;
use super::ingest::{entity_index, model_failure, resolve_by_name, store_failure};
use crate::handlers::{JobContext, JobError, JobHandler};

pub const CONSOLIDATE_JOB_KIND: &str = "memory.consolidate";

/// What a consolidation note's `source_ref` starts with.
const NOTE_PREFIX: &str = "consolidation:";
/// Episodes folded by one job at most; the rest wait for the next.
const MAX_EPISODES: usize = 200;
/// Characters of one episode shown to the model.
const EPISODE_CHARS: usize = 1_000;

const SYSTEM: &str = "You consolidate a user's recent episodes (feedback, corrections, messages, notes) into \
standing preferences (kind \"preference\": likes, dislikes, style rules) and decisions (kind \"decision\": choices \
made). Only what the episodes support; the subject is an entity name (the user themself is \"the user\"). If one \
repeats an existing item, set duplicate_of to its id; if it makes existing items untrue, list their ids in \
contradicts. No preference or decision: an empty list. Reply with JSON only.";

/// What a consolidation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsolidationReport {
    /// New episodes seen since the last consolidation.
    pub episodes: usize,
    /// Model calls made (one per agent scope with new episodes).
    pub model_calls: usize,
    pub facts_created: usize,
    pub facts_merged: usize,
    pub facts_closed: usize,
}

impl Memory {
    /// Folds the episodes since the last consolidation; see the module
    /// documentation. Without an extraction model it does nothing.
    pub async fn consolidate(&self, user: UserId) -> Result<ConsolidationReport, JobError> {
        let mut report = ConsolidationReport::default();
        let Some(model) = self.extractor.clone() else { return Ok(report) };
        let after = self.watermark(user).await?;
        let filter = EpisodeFilter { after: Some(after), limit: MAX_EPISODES, ..EpisodeFilter::default() };
        let mut new = self.store.list_episodes(user, filter).await.map_err(store_failure)?;
        new.retain(|episode| !is_note(episode));
        let Some(last) = new.last().map(|episode| episode.id) else { return Ok(report) };
        report.episodes = new.len();
        let mut scopes: BTreeMap<Option<AgentId>, Vec<Episode>> = BTreeMap::new();
        for episode in new {
            scopes.entry(episode.agent_id).or_default().push(episode);
        }
        for (agent, episodes) in scopes {
            let scope = agent.map_or_else(|| "shared".to_string(), |agent| format!("agent-{agent}"));
            let note = NewEpisode {
                user_id: user,
                agent_id: agent,
                source: EpisodeSource::Note,
                source_ref: Some(format!("{NOTE_PREFIX}{last}:{scope}")),
                thread: None,
                content: format!(
                    "Consolidated {} episodes ({}) into preferences and decisions.",
                    episodes.len(),
                    episodes.iter().map(|episode| format!("#{}", episode.id)).collect::<Vec<_>>().join(", ")
                ),
                reference_time: episodes.last().map(|episode| episode.reference_time),
            };
            let (note, _) = self.store.add_episode(note).await.map_err(store_failure)?;
            if note.ingested_at.is_some() {
                continue; // a retried job: this scope was folded already
            }
            let existing = self.standing(user, agent).await?;
            let request = request(&episodes, &existing);
            let folded = complete_typed::<ExtractedFacts>(model.as_ref(), request, StructuredOptions::default())
                .await
                .map_err(model_failure)?
                .value;
            report.model_calls += 1;
            let plan = self.plan(user, folded, &episodes, &existing).await?;
            let written = self.store.apply_ingestion(user, note.id, plan).await.map_err(store_failure)?;
            report.facts_created += written.facts_created;
            report.facts_merged += written.facts_merged;
            report.facts_closed += written.facts_closed;
        }
        Ok(report)
    }

    /// The last episode id the newest consolidation covered (0: none yet).
    async fn watermark(&self, user: UserId) -> Result<EpisodeId, JobError> {
        // The newest notes are the last fold's (one per scope), so they
        // carry the highest watermark.
        let filter =
            EpisodeFilter { source_ref_prefix: Some(NOTE_PREFIX.to_string()), limit: 20, ..EpisodeFilter::default() };
        let notes = self.store.list_episodes(user, filter).await.map_err(store_failure)?;
        let covered = notes
            .iter()
            .filter(|note| note.source == EpisodeSource::Note)
            .filter_map(|note| note.source_ref.as_deref()?.strip_prefix(NOTE_PREFIX)?.split(':').next()?.parse().ok())
            .max()
            .unwrap_or(0);
        Ok(EpisodeId(covered))
    }

    /// Preferences and decisions believed now, of the scope and shared.
    async fn standing(&self, user: UserId, agent: Option<AgentId>) -> Result<Vec<Fact>, JobError> {
        let kinds = [FactKind::Preference, FactKind::Decision];
        let now = self.clock.now();
        let mut facts = self.store.list_facts(user, &kinds, 100).await.map_err(store_failure)?;
        facts.retain(|fact| visible(fact, None, now) && (fact.agent_id.is_none() || fact.agent_id == agent));
        Ok(facts)
    }

    async fn plan(
        &self,
        user: UserId,
        folded: ExtractedFacts,
        episodes: &[Episode],
        existing: &[Fact],
    ) -> Result<IngestionPlan, JobError> {
        let known = self.store.entity_names(user).await.map_err(store_failure)?;
        let known_id = |id: i64| existing.iter().any(|fact| fact.id.get() == id);
        let sources: Vec<EpisodeId> = episodes.iter().map(|episode| episode.id).collect();
        let mut plan = IngestionPlan::default();
        for fact in folded.facts {
            let Ok(kind @ (FactKind::Preference | FactKind::Decision)) = fact.kind.parse::<FactKind>() else {
                continue; // consolidation makes preferences and decisions only
            };
            let Some(subject) = entity_index(&mut plan, &fact.subject) else { continue };
            let object = fact.object.as_deref().and_then(|name| entity_index(&mut plan, name));
            plan.facts.push(PlannedFact {
                kind,
                subject,
                object,
                relation: fact.relation,
                statement: fact.fact,
                valid_at: fact.valid_at,
                invalid_at: fact.invalid_at,
                duplicate_of: fact.duplicate_of.filter(|id| known_id(*id)).map(FactId),
                contradicts: fact.contradicts.into_iter().filter(|id| known_id(*id)).map(FactId).collect(),
                also_from: sources.clone(),
            });
        }
        for entity in &mut plan.entities {
            if entity.resolution == Resolution::New {
                entity.resolution = resolve_by_name(&entity.name, &known);
            }
        }
        Ok(plan)
    }
}

fn is_note(episode: &Episode) -> bool {
    episode.source == EpisodeSource::Note
        && episode.source_ref.as_deref().is_some_and(|reference| reference.starts_with(NOTE_PREFIX))
}

fn request(episodes: &[Episode], existing: &[Fact]) -> ChatRequest {
    let mut prompt = String::from("Recent episodes, oldest first:\n");
    for episode in episodes {
        let content: String = episode.content.chars().take(EPISODE_CHARS).collect();
        let _ = writeln!(
            prompt,
            "- ({}, {}) {}",
            episode.source,
            episode.reference_time.format("%Y-%m-%d %H:%M UTC"),
            content.replace('\n', " ")
        );
    }
    if !existing.is_empty() {
        prompt.push_str("\nPreferences and decisions held now:\n");
        for fact in existing {
            let _ = writeln!(prompt, "- id {}: [{}] {}", fact.id, fact.kind, fact.statement);
        }
    }
    ChatRequest::new(vec![Message::user(prompt)]).with_system(SYSTEM)
}

/// The `memory.consolidate` job kind, for the job's user (payload ignored).
pub struct ConsolidateHandler {
    memory: std::sync::Arc<Memory>,
}

impl ConsolidateHandler {
    pub fn new(memory: std::sync::Arc<Memory>) -> Self {
        ConsolidateHandler { memory }
    }
}

#[async_trait]
impl JobHandler for ConsolidateHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let report = self.memory.consolidate(context.job.user_id).await?;
        Ok(json!({
            "episodes": report.episodes,
            "model_calls": report.model_calls,
            "facts_created": report.facts_created,
            "facts_merged": report.facts_merged,
            "facts_closed": report.facts_closed,
        }))
    }
}
