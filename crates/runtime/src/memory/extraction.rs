//! The two structured-output calls of ingestion: the entities an episode
//! names, then the facts between them (with the existing facts among those
//! entities listed by id, so the model can say which one a new fact repeats
//! or contradicts). The shapes here are the JSON Schemas the model fills.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use steward_domain::memory::{Episode, Fact};
use steward_llm::{ChatRequest, Message};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractedEntities {
    pub entities: Vec<ExtractedEntity>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractedEntity {
    /// As the episode names it ("Acme Corp", "the user").
    pub name: String,
    /// Type labels ("Person", "Organization", "Product", "Topic").
    #[serde(default)]
    pub labels: Vec<String>,
    /// One sentence about it, from this episode.
    #[serde(default)]
    pub summary: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractedFacts {
    pub facts: Vec<ExtractedFact>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractedFact {
    /// An entity name from the list.
    pub subject: String,
    /// Another entity name, when the fact relates two.
    #[serde(default)]
    pub object: Option<String>,
    /// snake_case relation ("prefers", "works_at", "decided").
    pub relation: String,
    /// "relation", "preference" or "decision".
    pub kind: String,
    /// The fact as one self-contained sentence.
    pub fact: String,
    /// When it became true, if the episode says (RFC 3339).
    #[serde(default)]
    pub valid_at: Option<DateTime<Utc>>,
    /// When it stopped being true, if the episode says (RFC 3339).
    #[serde(default)]
    pub invalid_at: Option<DateTime<Utc>>,
    /// The id of an existing fact this one says again.
    #[serde(default)]
    pub duplicate_of: Option<i64>,
    /// Ids of existing facts this one makes untrue.
    #[serde(default)]
    pub contradicts: Vec<i64>,
}

const ENTITY_SYSTEM: &str = "You extract the entities an episode of a user's work mentions: people, organisations, \
products, projects, places, topics, and the user themself (name them \"the user\"). Preferences and decisions are \
about an entity (the user, a brand, a project). Reply with JSON only.";

const FACT_SYSTEM: &str = "You extract facts from an episode of a user's work, as edges between the listed \
entities. Mark standing likes, dislikes and style rules as kind \"preference\", choices made as kind \"decision\", \
everything else \"relation\". Give valid_at/invalid_at only when the episode states a date. If a fact repeats an \
existing fact, set duplicate_of to its id; if it makes existing facts untrue, list their ids in contradicts. Reply \
with JSON only.";

fn episode_header(episode: &Episode) -> String {
    format!(
        "Episode ({}, {}):\n{}",
        episode.source,
        episode.reference_time.format("%Y-%m-%d %H:%M UTC"),
        episode.content
    )
}

pub fn entity_request(episode: &Episode) -> ChatRequest {
    ChatRequest::new(vec![Message::user(episode_header(episode))]).with_system(ENTITY_SYSTEM)
}

pub fn fact_request(episode: &Episode, entity_names: &[String], existing: &[Fact]) -> ChatRequest {
    let mut prompt = episode_header(episode);
    prompt.push_str("\n\nEntities:\n");
    for name in entity_names {
        let _ = writeln!(prompt, "- {name}");
    }
    if !existing.is_empty() {
        prompt.push_str("\nExisting facts about these entities:\n");
        for fact in existing {
            let _ = writeln!(prompt, "- id {}: [{}] {}", fact.id, fact.kind, fact.statement);
        }
    }
    ChatRequest::new(vec![Message::user(prompt)]).with_system(FACT_SYSTEM)
}
