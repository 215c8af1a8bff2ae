//! Memory's writes on SQLite: an episode, and one episode's ingestion in
//! the writer's transaction (entities, facts, closings, embeddings, the
//! episode marked ingested, the event). The FTS5 row of an item has rowid
//! `id * 3 + kind`, so an item's text is replaced without a scan.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::memory::text::{normalize_name, normalize_statement};
use steward_domain::memory::{Episode, ItemKind, NewEpisode, vector};
use steward_domain::{EntityId, FactId, NewEvent, UserId};

use super::{facts_by_id, facts_touching, load_episode};
use crate::Result;
use crate::events::sqlite::append;
use crate::memory::decide::{self, EntityWrite, FactWrite};
use crate::memory::{EmbeddingTarget, IngestionPlan, IngestionReport};
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::optional;
use crate::sqlite::writer::Effects;

fn text_rowid(kind: ItemKind, id: i64) -> i64 {
    let code = match kind {
        ItemKind::Episode => 0,
        ItemKind::Entity => 1,
        ItemKind::Fact => 2,
    };
    id * 3 + code
}

/// Indexes (or re-indexes) an item's text; the caller logs it (`log_texts`).
fn index_text(connection: &Connection, user: UserId, kind: ItemKind, id: i64, body: &str) -> Result<()> {
    let rowid = text_rowid(kind, id);
    connection.prepare_cached("DELETE FROM memory_text WHERE rowid = ?1")?.execute([rowid])?;
    connection
        .prepare_cached(
            "INSERT INTO memory_text (rowid, body, item_kind, item_id, user_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![rowid, body, kind.as_str(), id, user.get()])?;
    Ok(())
}

/// Logs the items a transaction wrote (`memory_text_log`), numbered in
/// order after the user's last number, with one update of the user's head
/// at the transaction's end, so every process's in-process index picks
/// them up.
fn log_texts(connection: &Connection, user: UserId, items: &[(ItemKind, i64)]) -> Result<()> {
    let Ok(count) = i64::try_from(items.len()) else { return Ok(()) };
    if count == 0 {
        return Ok(());
    }
    let last: i64 = connection
        .prepare_cached(
            "INSERT INTO memory_text_heads (user_id, seq) VALUES (?1, ?2) \
             ON CONFLICT (user_id) DO UPDATE SET seq = seq + ?2 RETURNING seq",
        )?
        .query_row(params![user.get(), count], |row| row.get(0))?;
    let mut log = connection
        .prepare_cached("INSERT INTO memory_text_log (user_id, seq, item_kind, item_id) VALUES (?1, ?2, ?3, ?4)")?;
    for (seq, (kind, id)) in (last - count + 1..).zip(items) {
        log.execute(params![user.get(), seq, kind.as_str(), id])?;
    }
    Ok(())
}

pub(super) fn add_episode(connection: &Connection, new: &NewEpisode, now: DateTime<Utc>) -> Result<(Episode, bool)> {
    let user = new.user_id;
    if let Some(agent) = new.agent_id {
        crate::agents::sqlite::load(connection, user, agent)?;
    }
    if let Some(reference) = &new.source_ref {
        let existing: Option<i64> = optional(connection.query_row(
            "SELECT id FROM memory_episodes WHERE user_id = ?1 AND source = ?2 AND source_ref = ?3",
            params![user.get(), new.source.as_str(), reference],
            |row| row.get(0),
        ))?;
        if let Some(id) = existing {
            return Ok((load_episode(connection, user, id.into())?, false));
        }
    }
    connection.execute(
        "INSERT INTO memory_episodes (user_id, agent_id, source, source_ref, content, reference_at, created_at, thread) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            user.get(),
            new.agent_id.map(|agent| agent.get()),
            new.source.as_str(),
            new.source_ref,
            new.content,
            to_micros(new.reference_time.unwrap_or(now)),
            to_micros(now),
            new.thread,
        ],
    )?;
    let id = connection.last_insert_rowid();
    index_text(connection, user, ItemKind::Episode, id, &new.content)?;
    log_texts(connection, user, &[(ItemKind::Episode, id)])?;
    Ok((load_episode(connection, user, id.into())?, true))
}

fn entity_is_users(connection: &Connection, user: UserId, id: EntityId) -> Result<bool> {
    let found: Option<i64> = optional(connection.query_row(
        "SELECT id FROM memory_entities WHERE id = ?1 AND user_id = ?2",
        params![id.get(), user.get()],
        |row| row.get(0),
    ))?;
    Ok(found.is_some())
}

/// Stores one episode's entities and facts; see `MemoryStore::apply_ingestion`.
pub(super) fn apply(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    episode_id: steward_domain::EpisodeId,
    plan: &IngestionPlan,
    now: DateTime<Utc>,
) -> Result<IngestionReport> {
    let episode = load_episode(connection, user, episode_id)?;
    if episode.ingested_at.is_some() {
        return Ok(IngestionReport { already_ingested: true, ..Default::default() });
    }
    let mut report = IngestionReport::default();
    let mut written = Vec::new();
    let mut entity_ids = Vec::with_capacity(plan.entities.len());
    for (index, planned) in plan.entities.iter().enumerate() {
        let same_name: Option<i64> = optional(connection.query_row(
            "SELECT id FROM memory_entities WHERE user_id = ?1 AND normalized_name = ?2",
            params![user.get(), normalize_name(&planned.name)],
            |row| row.get(0),
        ))?;
        let resolved = match &planned.resolution {
            crate::memory::Resolution::New => None,
            crate::memory::Resolution::Existing(id) | crate::memory::Resolution::Merge { entity: id, .. } => Some(*id),
        };
        let known = match resolved {
            Some(id) => entity_is_users(connection, user, id)?,
            None => false,
        };
        let id = match decide::entity_write(index, planned, same_name.map(EntityId), known)? {
            EntityWrite::Use(id) => id,
            EntityWrite::Insert { normalized_name } => {
                connection.execute(
                    "INSERT INTO memory_entities (user_id, name, normalized_name, labels, summary, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        user.get(),
                        planned.name.trim(),
                        normalized_name,
                        serde_json::to_string(&planned.labels).unwrap_or_else(|_| "[]".into()),
                        planned.summary,
                        to_micros(now)
                    ],
                )?;
                let id = connection.last_insert_rowid();
                index_text(connection, user, ItemKind::Entity, id, &format!("{} {}", planned.name, planned.summary))?;
                written.push((ItemKind::Entity, id));
                report.entities_created += 1;
                EntityId(id)
            }
            EntityWrite::Merge { entity, method, similarity } => {
                connection.execute(
                    "INSERT INTO memory_entity_merges (entity_id, alias, method, similarity, episode_id, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![entity.get(), planned.name, method.as_str(), similarity, episode.id.get(), to_micros(now)],
                )?;
                report.entities_merged += 1;
                entity
            }
        };
        entity_ids.push(id);
    }

    let mut fact_ids = Vec::with_capacity(plan.facts.len());
    for (index, planned) in plan.facts.iter().enumerate() {
        let subject = entity_ids[planned.subject];
        let object = planned.object.map(|object| entity_ids[object]);
        let subject_facts: Vec<_> =
            facts_touching(connection, user, &[subject])?.into_iter().filter(|fact| fact.subject == subject).collect();
        let named_ids: Vec<FactId> = planned.duplicate_of.iter().chain(&planned.contradicts).copied().collect();
        let named = facts_by_id(connection, user, &named_ids)?;
        let id = match decide::fact_write(index, planned, object, &episode, &subject_facts, &named)? {
            FactWrite::MergeProvenance(id) => {
                report.facts_merged += 1;
                id
            }
            FactWrite::Insert { valid_at, invalid_at, close } => {
                for closing in &close {
                    connection.execute(
                        "UPDATE memory_facts SET invalid_at = ?1, expired_at = coalesce(expired_at, ?2) WHERE id = ?3",
                        params![to_micros(closing.invalid_at), to_micros(now), closing.fact.get()],
                    )?;
                }
                report.facts_closed += close.len();
                connection.execute(
                    "INSERT INTO memory_facts (user_id, agent_id, kind, subject_id, object_id, relation, statement, \
                     normalized_statement, valid_at, invalid_at, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        user.get(),
                        episode.agent_id.map(|agent| agent.get()),
                        planned.kind.as_str(),
                        subject.get(),
                        object.map(EntityId::get),
                        planned.relation.trim(),
                        planned.statement.trim(),
                        normalize_statement(&planned.statement),
                        to_micros(valid_at),
                        invalid_at.map(to_micros),
                        to_micros(now)
                    ],
                )?;
                let id = connection.last_insert_rowid();
                index_text(connection, user, ItemKind::Fact, id, &planned.statement)?;
                written.push((ItemKind::Fact, id));
                report.facts_created += 1;
                FactId(id)
            }
        };
        for from in std::iter::once(episode.id).chain(planned.also_from.iter().copied()) {
            connection.execute(
                "INSERT OR IGNORE INTO memory_fact_episodes (fact_id, episode_id) VALUES (?1, ?2)",
                params![id.get(), from.get()],
            )?;
        }
        fact_ids.push(id);
    }

    if let Some(model) = &plan.embedding_model {
        for embedding in &plan.embeddings {
            let (kind, id) = match embedding.target {
                EmbeddingTarget::Episode => (ItemKind::Episode, episode.id.get()),
                EmbeddingTarget::Entity(index) => (ItemKind::Entity, entity_ids[index].get()),
                EmbeddingTarget::Fact(index) => (ItemKind::Fact, fact_ids[index].get()),
            };
            connection
                .prepare_cached(
                    "INSERT OR IGNORE INTO memory_embeddings (user_id, item_kind, item_id, model, vector, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    user.get(),
                    kind.as_str(),
                    id,
                    model,
                    vector::to_bytes(&embedding.vector),
                    to_micros(now)
                ])?;
        }
    }

    connection.execute(
        "UPDATE memory_episodes SET ingested_at = ?1 WHERE id = ?2",
        params![to_micros(now), episode.id.get()],
    )?;
    append(
        connection,
        effects,
        user,
        now,
        NewEvent::MemoryEpisodeIngested {
            episode: episode.id,
            entities_created: report.entities_created,
            facts_created: report.facts_created,
            facts_merged: report.facts_merged,
            facts_closed: report.facts_closed,
        },
    )?;
    log_texts(connection, user, &written)?;
    Ok(report)
}
