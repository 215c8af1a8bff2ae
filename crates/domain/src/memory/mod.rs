//! Memory's pure core: episodes, entities, facts with world and system
//! time, core blocks, and the rules around them (supersession and
//! point-in-time validity in `temporal`, reciprocal-rank fusion in
//! `fusion`, a conversation's context around a matching turn in `context`,
//! the optional rerankers in `rerank`, name and query handling in `text`,
//! full-text ranking in `bm25`,
//! cosine search in `vector`).
//!
//! Times: a fact is true in the world from `valid_at` until `invalid_at`
//! (world time, what the episodes say), and was believed by Steward from
//! `created_at` until `expired_at` (system time, when we learned it and when
//! we learned otherwise). Nothing is deleted: a contradicted fact is closed.

pub mod bm25;
pub mod context;
pub mod fusion;
pub mod rerank;
pub mod temporal;
pub mod text;
pub mod vector;

use chrono::{DateTime, Utc};

use crate::ids::{AgentId, EntityId, EpisodeId, FactId, UserId};
use crate::text_enum::text_enum;

text_enum!(
    /// Where an episode came from.
    EpisodeSource, "source", {
        /// A chat message.
        Message => "message",
        /// A run's output.
        RunOutput => "run_output",
        /// A person's feedback on an action or deliverable.
        Feedback => "feedback",
        /// A correction in an action's refinement thread.
        Correction => "correction",
        /// A document or imported conversation turn.
        Document => "document",
        /// Something a person or an agent asked memory to remember.
        Note => "note",
    }
);

text_enum!(
    /// What a fact records. Preferences and decisions are first-class: the
    /// context of a run pulls them in before plain relations.
    FactKind, "kind", {
        Relation => "relation",
        Preference => "preference",
        Decision => "decision",
    }
);

text_enum!(
    /// The three things memory stores and finds.
    ItemKind, "kind", {
        Episode => "episode",
        Entity => "entity",
        Fact => "fact",
    }
);

/// One stored item: what search results, fusion and embeddings refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub kind: ItemKind,
    pub id: i64,
}

/// Something memory ingests, with its source and the time it speaks of.
#[derive(Clone, Debug, PartialEq)]
pub struct Episode {
    pub id: EpisodeId,
    pub user_id: UserId,
    /// `None`: shared by all the user's agents.
    pub agent_id: Option<AgentId>,
    pub source: EpisodeSource,
    /// The source's own id (a message id, a dataset's `dia_id`); unique per
    /// user and source, so adding the same thing twice adds it once.
    pub source_ref: Option<String>,
    /// The conversation (or session) it belongs to, if any: search reads a
    /// matching turn's neighbours in its thread as its context.
    pub thread: Option<String>,
    pub content: String,
    /// When it happened in the world (a message's time, a session's date).
    pub reference_time: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// When ingestion finished; `None` while entities and facts are pending.
    pub ingested_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewEpisode {
    pub user_id: UserId,
    pub agent_id: Option<AgentId>,
    pub source: EpisodeSource,
    pub source_ref: Option<String>,
    /// The conversation or session it is a turn of (see [`Episode::thread`]).
    pub thread: Option<String>,
    pub content: String,
    /// Defaults to now.
    pub reference_time: Option<DateTime<Utc>>,
}

/// A node of the graph: a person, organisation, product, idea.
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub id: EntityId,
    pub user_id: UserId,
    pub name: String,
    /// `text::normalize_name(name)`: what exact resolution compares.
    pub normalized_name: String,
    pub labels: Vec<String>,
    pub summary: String,
    pub created_at: DateTime<Utc>,
}

/// An edge of the graph: a relation between two entities (or a statement
/// about one), with its provenance and its two time lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub id: FactId,
    pub user_id: UserId,
    pub agent_id: Option<AgentId>,
    pub kind: FactKind,
    pub subject: EntityId,
    pub object: Option<EntityId>,
    /// `snake_case` relation name (`prefers`, `works_at`).
    pub relation: String,
    /// The fact as one sentence ("The brand voice is plain.").
    pub statement: String,
    pub valid_at: DateTime<Utc>,
    pub invalid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub expired_at: Option<DateTime<Utc>>,
    /// The episodes it was extracted from, oldest first.
    pub episodes: Vec<EpisodeId>,
}

impl Fact {
    /// The fact's world-time interval, for the temporal rules.
    pub fn interval(&self) -> temporal::Interval {
        temporal::Interval { valid_at: self.valid_at, invalid_at: self.invalid_at }
    }
}

/// A small always-in-context block of an agent's memory (as in Letta): the
/// user's standing preferences, the agent's notes on its goal.
#[derive(Clone, Debug, PartialEq)]
pub struct CoreBlock {
    pub user_id: UserId,
    pub agent_id: AgentId,
    /// `[a-z0-9_]`, e.g. `preferences`, `goal_notes`.
    pub label: String,
    pub value: String,
    pub updated_at: DateTime<Utc>,
}

/// A core block's value is kept small: it is in every prompt.
pub const CORE_BLOCK_MAX_CHARS: usize = 2_000;

/// Checks a core block's label and value.
pub fn check_core_block(label: &str, value: &str) -> Result<(), crate::ValidationError> {
    if label.is_empty()
        || label.len() > 40
        || !label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(crate::ValidationError::new("label", "must be 1 to 40 characters of a-z, 0-9 and _"));
    }
    if value.chars().count() > CORE_BLOCK_MAX_CHARS {
        return Err(crate::ValidationError::new(
            "value",
            format!("is longer than {CORE_BLOCK_MAX_CHARS} characters; a core block is in every prompt"),
        ));
    }
    Ok(())
}

/// Checks an episode before it is stored.
pub fn check_episode(episode: &NewEpisode) -> Result<(), crate::ValidationError> {
    if episode.content.trim().is_empty() {
        return Err(crate::ValidationError::new("content", "must not be empty"));
    }
    if episode.content.len() > 100_000 {
        return Err(crate::ValidationError::new("content", "is longer than 100,000 bytes"));
    }
    if episode.source_ref.as_ref().is_some_and(|reference| reference.is_empty() || reference.len() > 200) {
        return Err(crate::ValidationError::new("source_ref", "must be 1 to 200 characters"));
    }
    if episode.thread.as_ref().is_some_and(|thread| thread.trim().is_empty() || thread.len() > 200) {
        return Err(crate::ValidationError::new("thread", "must be 1 to 200 characters, not only spaces"));
    }
    Ok(())
}

/// Reads an `as of` time: RFC 3339, or a date `YYYY-MM-DD`, meaning the end
/// of that day in UTC (what was valid on that date).
pub fn parse_as_of(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_micro_opt(23, 59, 59, 999_999))
        .map(|at| at.and_utc())
        .ok_or_else(|| format!("must be a date (2026-03-01) or an RFC 3339 time, not {text:?}"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn as_of_reads_dates_as_their_end() {
        assert_eq!(
            parse_as_of("2026-03-01").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 23, 59, 59).unwrap() + chrono::Duration::microseconds(999_999)
        );
        assert_eq!(
            parse_as_of("2026-03-01T10:00:00+02:00").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap()
        );
        assert!(parse_as_of("March").unwrap_err().contains("RFC 3339"));
    }
}
