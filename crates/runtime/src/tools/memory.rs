//! `memory.search`, `memory.remember`, `memory.forget`, `memory.core_update`:
//! an agent searches what it and its user's other agents remember (full text
//! and the graph; vectors are the server's search), writes a note that is
//! ingested like any episode, forgets a fact (closed, never deleted, the
//! reason recorded in an event), and edits its always-in-context core blocks.

use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::FactId;
use steward_domain::memory::{EpisodeSource, NewEpisode, parse_as_of};

use super::{Tool, ToolContext, ToolError, ToolOutput, parse_input, refusal, schema_of};
use crate::memory::{Item, Memory, SearchQuery, record_episode};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchArguments {
    query: String,
    /// What was valid then: a date (2026-03-01) or an RFC 3339 time.
    #[serde(default)]
    as_of: Option<String>,
    /// At most this many results (default 8, at most 25).
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RememberArguments {
    /// What to remember, in a sentence or two.
    content: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ForgetArguments {
    /// The fact's id, from memory.search.
    fact_id: i64,
    /// Why it no longer holds.
    reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CoreUpdateArguments {
    /// The block: a-z, 0-9 and _ (`preferences`, `goal_notes`).
    label: String,
    /// Its whole new value (at most 2,000 characters; empty removes it).
    value: String,
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ToolError {
    ToolError::InvalidInput(format!("{field}: {message}"))
}

/// Searches memory.
#[derive(Debug, Default)]
pub struct MemorySearch;

#[async_trait]
impl Tool for MemorySearch {
    fn name(&self) -> &str {
        "memory.search"
    }

    fn description(&self) -> &str {
        "Search what you remember (episodes, entities and facts, with their dates and sources); as_of asks what \
         was true then."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<SearchArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: SearchArguments = parse_input(input)?;
        let mut query = SearchQuery::new(context.user_id, arguments.query);
        query.agent = Some(context.agent_id);
        query.as_of =
            arguments.as_of.as_deref().map(parse_as_of).transpose().map_err(|error| invalid("as_of", error))?;
        query.limit = arguments.limit.unwrap_or(8).clamp(1, 25);
        let memory = Memory::new(context.store.clone(), context.clock.clone(), None, None);
        let outcome = memory.search(&query).await.map_err(refusal)?;
        let results: Vec<Value> = outcome
            .results
            .into_iter()
            .map(|result| {
                let (text, valid) = match &result.item {
                    Item::Fact(fact) => {
                        (fact.statement.clone(), json!({"from": fact.valid_at, "until": fact.invalid_at}))
                    }
                    Item::Episode(episode) => (episode.content.clone(), json!({"at": episode.reference_time})),
                    Item::Entity(entity) => (format!("{}: {}", entity.name, entity.summary), Value::Null),
                };
                json!({ "kind": result.key.kind.as_str(), "id": result.key.id, "text": text, "valid": valid,
                        "why": result.why,
                        "from_episodes": result.provenance.iter().map(|p| p.episode.id).collect::<Vec<_>>() })
            })
            .collect();
        Ok(ToolOutput::text(json!({ "results": results }).to_string()))
    }
}

/// Writes a note to memory, ingested like any episode.
#[derive(Debug, Default)]
pub struct MemoryRemember;

#[async_trait]
impl Tool for MemoryRemember {
    fn name(&self) -> &str {
        "memory.remember"
    }

    fn description(&self) -> &str {
        "Remember something for later runs: a preference, a decision, a fact about your user's work."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<RememberArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: RememberArguments = parse_input(input)?;
        let episode = NewEpisode {
            user_id: context.user_id,
            agent_id: Some(context.agent_id),
            source: EpisodeSource::Note,
            // The call's key: a call executed again remembers once.
            source_ref: Some(context.idempotency_key.clone()),
            thread: None,
            content: arguments.content,
            reference_time: None,
        };
        let stored = record_episode(context.store.as_ref(), episode).await.map_err(refusal)?;
        Ok(ToolOutput::text(json!({ "episode_id": stored.id, "remembered": true }).to_string()))
    }
}

/// Closes a fact.
#[derive(Debug, Default)]
pub struct MemoryForget;

#[async_trait]
impl Tool for MemoryForget {
    fn name(&self) -> &str {
        "memory.forget"
    }

    fn description(&self) -> &str {
        "Forget a fact that no longer holds: it is closed now (kept for history), with your reason recorded."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<ForgetArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: ForgetArguments = parse_input(input)?;
        let reason = format!("agent {}: {}", context.agent_id, arguments.reason);
        let fact =
            context.store.invalidate_fact(context.user_id, FactId(arguments.fact_id), reason).await.map_err(refusal)?;
        Ok(ToolOutput::text(json!({ "fact_id": fact.id, "closed_at": fact.expired_at }).to_string()))
    }
}

/// Sets one of the agent's core blocks.
#[derive(Debug, Default)]
pub struct MemoryCoreUpdate;

#[async_trait]
impl Tool for MemoryCoreUpdate {
    fn name(&self) -> &str {
        "memory.core_update"
    }

    fn description(&self) -> &str {
        "Replace one of your core memory blocks, which are in every prompt you get (keep them short)."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<CoreUpdateArguments>()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: CoreUpdateArguments = parse_input(input)?;
        context
            .store
            .set_core_block(context.user_id, context.agent_id, arguments.label.clone(), arguments.value)
            .await
            .map_err(refusal)?;
        Ok(ToolOutput::text(json!({ "label": arguments.label, "updated": true }).to_string()))
    }
}
