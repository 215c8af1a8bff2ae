//! Memory on SQLite: reads, full text through the FTS5 table `memory_text`
//! (BM25), and the trait; ingestion's write is `sqlite/ingest.rs`.
//! Lists of ids are bound as one JSON array read with `json_each`, so every
//! statement is prepared once; `+user_id` (no index on it) where the id
//! lookup must drive the plan, or SQLite may read every row of the user.

mod ingest;

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use steward_domain::memory::context::Neighbour;
use steward_domain::memory::text::normalize_name;
use steward_domain::memory::{
    CoreBlock, Entity, Episode, Fact, FactKind, ItemKey, ItemKind, NewEpisode, check_core_block, check_episode, vector,
};
use steward_domain::{AgentId, EntityId, EpisodeId, FactId, NewEvent, UserId};

use super::{
    EntityMerge, EpisodeFilter, IngestionPlan, IngestionReport, MemoryStore, StoredEmbedding, TextEntry, decide,
};
use crate::events::sqlite::append;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::rows::{conversion_error, optional, parsed};
use crate::{Entity as StoredEntity, Result, StoreError};

const EPISODE_COLUMNS: &str =
    "id, user_id, agent_id, source, source_ref, content, reference_at, created_at, ingested_at, thread";
const ENTITY_COLUMNS: &str = "id, user_id, name, normalized_name, labels, summary, created_at";
const FACT_COLUMNS: &str = "id, user_id, agent_id, kind, subject_id, object_id, relation, statement, valid_at, \
                            invalid_at, created_at, expired_at";

fn micros(row: &Row<'_>, index: usize) -> rusqlite::Result<chrono::DateTime<chrono::Utc>> {
    Ok(from_micros(row.get(index)?))
}

fn optional_micros(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(row.get::<_, Option<i64>>(index)?.map(from_micros))
}

fn episode(row: &Row<'_>) -> rusqlite::Result<Episode> {
    Ok(Episode {
        id: EpisodeId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        agent_id: row.get::<_, Option<i64>>(2)?.map(AgentId),
        source: parsed(row, 3)?,
        source_ref: row.get(4)?,
        content: row.get(5)?,
        reference_time: micros(row, 6)?,
        created_at: micros(row, 7)?,
        ingested_at: optional_micros(row, 8)?,
        thread: row.get(9)?,
    })
}

fn entity(row: &Row<'_>) -> rusqlite::Result<Entity> {
    let labels: String = row.get(4)?;
    Ok(Entity {
        id: EntityId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        name: row.get(2)?,
        normalized_name: row.get(3)?,
        labels: serde_json::from_str(&labels).map_err(|error| conversion_error(4, error))?,
        summary: row.get(5)?,
        created_at: micros(row, 6)?,
    })
}

fn fact(row: &Row<'_>) -> rusqlite::Result<Fact> {
    Ok(Fact {
        id: FactId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        agent_id: row.get::<_, Option<i64>>(2)?.map(AgentId),
        kind: parsed(row, 3)?,
        subject: EntityId(row.get(4)?),
        object: row.get::<_, Option<i64>>(5)?.map(EntityId),
        relation: row.get(6)?,
        statement: row.get(7)?,
        valid_at: micros(row, 8)?,
        invalid_at: optional_micros(row, 9)?,
        created_at: micros(row, 10)?,
        expired_at: optional_micros(row, 11)?,
        episodes: Vec::new(),
    })
}

fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    serde_json::to_string(&ids.into_iter().collect::<Vec<i64>>()).unwrap_or_else(|_| "[]".into())
}

pub(super) fn load_episode(connection: &Connection, user: UserId, id: EpisodeId) -> Result<Episode> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {EPISODE_COLUMNS} FROM memory_episodes WHERE id = ?1 AND user_id = ?2"))?;
    optional(statement.query_row(params![id.get(), user.get()], episode))?
        .ok_or_else(|| StoreError::not_found(StoredEntity::Episode, id))
}

fn episodes_by_id(connection: &Connection, user: UserId, ids: &[EpisodeId]) -> Result<Vec<Episode>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {EPISODE_COLUMNS} FROM memory_episodes WHERE user_id = ?1 \
         AND id IN (SELECT value FROM json_each(?2)) ORDER BY id"
    ))?;
    let ids = id_list(ids.iter().map(|id| id.get()));
    Ok(statement.query_map(params![user.get(), ids], episode)?.collect::<rusqlite::Result<_>>()?)
}

/// Fills each fact's provenance: one indexed lookup per fact (a
/// `json_each` list here let SQLite scan the whole table).
fn with_episodes(connection: &Connection, mut facts: Vec<Fact>) -> Result<Vec<Fact>> {
    let mut statement = connection
        .prepare_cached("SELECT episode_id FROM memory_fact_episodes WHERE fact_id = ?1 ORDER BY episode_id")?;
    for fact in &mut facts {
        fact.episodes =
            statement.query_map([fact.id.get()], |row| Ok(EpisodeId(row.get(0)?)))?.collect::<rusqlite::Result<_>>()?;
    }
    Ok(facts)
}

pub(super) fn facts_by_id(connection: &Connection, user: UserId, ids: &[FactId]) -> Result<Vec<Fact>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {FACT_COLUMNS} FROM memory_facts WHERE +user_id = ?1 \
         AND id IN (SELECT value FROM json_each(?2)) ORDER BY id"
    ))?;
    let ids = id_list(ids.iter().map(|id| id.get()));
    let facts = statement.query_map(params![user.get(), ids], fact)?.collect::<rusqlite::Result<_>>()?;
    with_episodes(connection, facts)
}

/// Every fact whose subject or object is one of `entities`, oldest first:
/// one lookup per entity in the subject and object indexes. (`+user_id`
/// keeps SQLite off the `(user_id, kind, id)` index, which reads every fact
/// of the user: ingesting 100,000 facts took quadratic time that way.)
pub(super) fn facts_touching(connection: &Connection, user: UserId, entities: &[EntityId]) -> Result<Vec<Fact>> {
    let mut by_subject = connection
        .prepare_cached(&format!("SELECT {FACT_COLUMNS} FROM memory_facts WHERE subject_id = ?1 AND +user_id = ?2"))?;
    let mut by_object = connection
        .prepare_cached(&format!("SELECT {FACT_COLUMNS} FROM memory_facts WHERE object_id = ?1 AND +user_id = ?2"))?;
    let mut facts: Vec<Fact> = Vec::new();
    for entity in entities {
        for statement in [&mut by_subject, &mut by_object] {
            let found = statement.query_map(params![entity.get(), user.get()], fact)?;
            facts.extend(found.collect::<rusqlite::Result<Vec<_>>>()?);
        }
    }
    facts.sort_by_key(|fact| fact.id);
    facts.dedup_by_key(|fact| fact.id);
    with_episodes(connection, facts)
}

/// The best `limit` items of each kind in `kinds`, in one pass over the
/// matches: `item_kind` is not indexed by FTS5, so a query per kind would
/// rank every match once per kind. FTS5 sorts by its `rank` (BM25) itself.
fn text_search(
    connection: &Connection,
    user: UserId,
    terms: &[String],
    kinds: &[ItemKind],
    limit: usize,
) -> Result<Vec<(ItemKey, f64)>> {
    // Terms are letters and digits only (`query_terms`); quoting each keeps
    // FTS5 from reading one as an operator.
    let query = terms.iter().map(|term| format!("\"{term}\"")).collect::<Vec<_>>().join(" OR ");
    let mut statement = connection.prepare_cached(
        "SELECT item_kind, item_id, rank FROM memory_text WHERE memory_text MATCH ?1 AND user_id = ?2 ORDER BY rank",
    )?;
    let mut rows = statement.query(params![query, user.get()])?;
    let mut taken = vec![0usize; kinds.len()];
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let kind: ItemKind = parsed(row, 0)?;
        let Some(slot) = kinds.iter().position(|wanted| *wanted == kind) else { continue };
        if taken[slot] < limit {
            taken[slot] += 1;
            found.push((ItemKey { kind, id: row.get(1)? }, -row.get::<_, f64>(2)?));
            if taken.iter().all(|count| *count >= limit) {
                break;
            }
        }
    }
    // Kind by kind in the order asked, best first within each (as PostgreSQL).
    found.sort_by_key(|(key, _)| kinds.iter().position(|kind| *kind == key.kind));
    Ok(found)
}

/// The items logged after `after`, with their text, in log order.
fn text_since(connection: &Connection, user: UserId, after: i64) -> Result<Vec<TextEntry>> {
    let mut statement = connection.prepare_cached(
        "SELECT log.seq, log.item_kind, log.item_id, CASE log.item_kind \
           WHEN 'episode' THEN (SELECT content FROM memory_episodes WHERE id = log.item_id) \
           WHEN 'entity' THEN (SELECT name || ' ' || summary FROM memory_entities WHERE id = log.item_id) \
           ELSE (SELECT statement FROM memory_facts WHERE id = log.item_id) END \
         FROM memory_text_log AS log WHERE log.user_id = ?1 AND log.seq > ?2 \
         ORDER BY log.seq, log.item_kind, log.item_id",
    )?;
    let rows = statement.query_map(params![user.get(), after], |row| {
        Ok(TextEntry {
            seq: row.get(0)?,
            key: ItemKey { kind: parsed(row, 1)?, id: row.get(2)? },
            text: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Each episode's thread neighbours: two index range reads per episode
/// (`memory_episodes_by_thread`), nearest first on each side.
fn episode_context(
    connection: &Connection,
    user: UserId,
    episodes: &[EpisodeId],
    turns: usize,
) -> Result<Vec<Neighbour<EpisodeId>>> {
    let mut anchor = connection.prepare_cached(
        "SELECT thread, reference_at FROM memory_episodes WHERE id = ?1 AND user_id = ?2 AND thread IS NOT NULL",
    )?;
    let mut before = connection.prepare_cached(
        "SELECT id FROM memory_episodes WHERE user_id = ?1 AND thread = ?2 AND (reference_at, id) < (?3, ?4) \
         ORDER BY reference_at DESC, id DESC LIMIT ?5",
    )?;
    let mut after = connection.prepare_cached(
        "SELECT id FROM memory_episodes WHERE user_id = ?1 AND thread = ?2 AND (reference_at, id) > (?3, ?4) \
         ORDER BY reference_at, id LIMIT ?5",
    )?;
    let limit = i64::try_from(turns).unwrap_or(i64::MAX);
    let mut found = Vec::new();
    for &of in episodes {
        let Some((thread, at)) =
            optional(anchor.query_row(params![of.get(), user.get()], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            }))?
        else {
            continue;
        };
        for side in [&mut before, &mut after] {
            let ids = side.query_map(params![user.get(), thread, at, of.get(), limit], |row| row.get::<_, i64>(0))?;
            for (index, id) in ids.enumerate() {
                found.push(Neighbour { of, neighbour: EpisodeId(id?), distance: index + 1 });
            }
        }
    }
    Ok(found)
}

fn invalidate(
    connection: &Connection,
    effects: &mut crate::sqlite::writer::Effects,
    user: UserId,
    id: FactId,
    reason: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Fact> {
    let found = facts_by_id(connection, user, &[id])?;
    let current = found.first().ok_or_else(|| StoreError::not_found(StoredEntity::Fact, id))?;
    if let Some((invalid_at, expired_at)) = decide::invalidation(current, now) {
        connection.execute(
            "UPDATE memory_facts SET invalid_at = ?1, expired_at = ?2 WHERE id = ?3",
            params![to_micros(invalid_at), to_micros(expired_at), id.get()],
        )?;
        append(connection, effects, user, now, NewEvent::MemoryFactInvalidated { fact: id, reason })?;
    }
    facts_by_id(connection, user, &[id])?.pop().ok_or_else(|| StoreError::not_found(StoredEntity::Fact, id))
}

#[async_trait]
impl MemoryStore for SqliteStore {
    async fn add_episode(&self, new: NewEpisode) -> Result<(Episode, bool)> {
        check_episode(&new)?;
        let now = self.now();
        self.writer.write(move |connection, _| ingest::add_episode(connection, &new, now)).await
    }

    async fn get_episodes(&self, user: UserId, ids: &[EpisodeId]) -> Result<Vec<Episode>> {
        let ids = ids.to_vec();
        self.readers.read(move |connection| episodes_by_id(connection, user, &ids)).await
    }

    async fn list_episodes(&self, user: UserId, filter: EpisodeFilter) -> Result<Vec<Episode>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {EPISODE_COLUMNS} FROM memory_episodes WHERE user_id = ?1 \
                     AND (?2 IS NULL OR agent_id = ?2) AND (?3 = 0 OR ingested_at IS NULL) \
                     AND (?5 IS NULL OR id > ?5) AND (?6 IS NULL OR substr(source_ref, 1, length(?6)) = ?6) \
                     ORDER BY CASE WHEN ?5 IS NULL THEN -id ELSE id END LIMIT ?4"
                ))?;
                let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
                let rows = statement.query_map(
                    params![
                        user.get(),
                        filter.agent_id.map(AgentId::get),
                        filter.pending,
                        limit,
                        filter.after.map(EpisodeId::get),
                        filter.source_ref_prefix
                    ],
                    episode,
                )?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn apply_ingestion(&self, user: UserId, episode: EpisodeId, plan: IngestionPlan) -> Result<IngestionReport> {
        decide::check_plan(&plan)?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| ingest::apply(connection, effects, user, episode, &plan, now))
            .await
    }

    async fn entity_names(&self, user: UserId) -> Result<Vec<(EntityId, String)>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection
                    .prepare_cached("SELECT id, normalized_name FROM memory_entities WHERE user_id = ?1 ORDER BY id")?;
                let rows = statement.query_map([user.get()], |row| Ok((EntityId(row.get(0)?), row.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn get_entities(&self, user: UserId, ids: &[EntityId]) -> Result<Vec<Entity>> {
        let ids = id_list(ids.iter().map(|id| id.get()));
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {ENTITY_COLUMNS} FROM memory_entities WHERE +user_id = ?1 \
                     AND id IN (SELECT value FROM json_each(?2)) ORDER BY id"
                ))?;
                Ok(statement.query_map(params![user.get(), ids], entity)?.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn find_entity(&self, user: UserId, name: &str) -> Result<Option<Entity>> {
        let name = normalize_name(name);
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {ENTITY_COLUMNS} FROM memory_entities WHERE user_id = ?1 AND normalized_name = ?2"
                ))?;
                Ok(optional(statement.query_row(params![user.get(), name], entity))?)
            })
            .await
    }

    async fn entity_merges(&self, user: UserId, id: EntityId) -> Result<Vec<EntityMerge>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(
                    "SELECT merges.entity_id, merges.alias, merges.method, merges.similarity, merges.episode_id, \
                     merges.created_at FROM memory_entity_merges AS merges \
                     JOIN memory_entities AS entities ON entities.id = merges.entity_id \
                     WHERE entities.user_id = ?1 AND merges.entity_id = ?2 ORDER BY merges.id",
                )?;
                let rows = statement.query_map(params![user.get(), id.get()], |row| {
                    Ok(EntityMerge {
                        entity_id: EntityId(row.get(0)?),
                        alias: row.get(1)?,
                        method: row.get(2)?,
                        similarity: row.get(3)?,
                        episode_id: EpisodeId(row.get(4)?),
                        created_at: micros(row, 5)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn get_facts(&self, user: UserId, ids: &[FactId]) -> Result<Vec<Fact>> {
        let ids = ids.to_vec();
        self.readers.read(move |connection| facts_by_id(connection, user, &ids)).await
    }

    async fn facts_touching(&self, user: UserId, entities: &[EntityId]) -> Result<Vec<Fact>> {
        let entities = entities.to_vec();
        self.readers.read(move |connection| facts_touching(connection, user, &entities)).await
    }

    async fn list_facts(&self, user: UserId, kinds: &[FactKind], limit: usize) -> Result<Vec<Fact>> {
        let kinds = serde_json::to_string(&kinds.iter().map(|kind| kind.as_str()).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into());
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {FACT_COLUMNS} FROM memory_facts WHERE user_id = ?1 \
                     AND (json_array_length(?2) = 0 OR kind IN (SELECT value FROM json_each(?2))) \
                     ORDER BY id DESC LIMIT ?3"
                ))?;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let facts =
                    statement.query_map(params![user.get(), kinds, limit], fact)?.collect::<rusqlite::Result<_>>()?;
                with_episodes(connection, facts)
            })
            .await
    }

    async fn invalidate_fact(&self, user: UserId, id: FactId, reason: String) -> Result<Fact> {
        let now = self.now();
        self.writer.write(move |connection, effects| invalidate(connection, effects, user, id, reason, now)).await
    }

    async fn text_search(
        &self,
        user: UserId,
        terms: &[String],
        kinds: &[ItemKind],
        limit: usize,
    ) -> Result<Vec<(ItemKey, f64)>> {
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let (terms, kinds) = (terms.to_vec(), kinds.to_vec());
        self.readers.read(move |connection| text_search(connection, user, &terms, &kinds, limit)).await
    }

    async fn text_watermark(&self, user: UserId) -> Result<i64> {
        self.readers
            .read(move |connection| {
                let seq = connection
                    .prepare_cached("SELECT seq FROM memory_text_heads WHERE user_id = ?1")?
                    .query_row([user.get()], |row| row.get(0));
                Ok(optional(seq)?.unwrap_or(0))
            })
            .await
    }

    async fn text_since(&self, user: UserId, after: i64) -> Result<Vec<TextEntry>> {
        self.readers.read(move |connection| text_since(connection, user, after)).await
    }

    async fn episode_context(
        &self,
        user: UserId,
        episodes: &[EpisodeId],
        turns: usize,
    ) -> Result<Vec<Neighbour<EpisodeId>>> {
        if episodes.is_empty() || turns == 0 {
            return Ok(Vec::new());
        }
        let episodes = episodes.to_vec();
        self.readers.read(move |connection| episode_context(connection, user, &episodes, turns)).await
    }

    async fn embedding_watermark(&self, user: UserId) -> Result<(i64, i64)> {
        self.readers
            .read(move |connection| {
                Ok(connection.query_row(
                    "SELECT count(*), coalesce(max(id), 0) FROM memory_embeddings WHERE user_id = ?1",
                    [user.get()],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?)
            })
            .await
    }

    async fn embeddings(&self, user: UserId) -> Result<Vec<StoredEmbedding>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(
                    "SELECT id, item_kind, item_id, model, vector FROM memory_embeddings WHERE user_id = ?1 ORDER BY id",
                )?;
                let rows = statement.query_map([user.get()], |row| {
                    let bytes: Vec<u8> = row.get(4)?;
                    Ok(StoredEmbedding {
                        id: row.get(0)?,
                        key: ItemKey { kind: parsed(row, 1)?, id: row.get(2)? },
                        model: row.get(3)?,
                        vector: vector::from_bytes(&bytes).ok_or_else(|| conversion_error(4, "a vector's length is not a multiple of 4"))?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn core_blocks(&self, user: UserId, agent: AgentId) -> Result<Vec<CoreBlock>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(
                    "SELECT label, value, updated_at FROM memory_core_blocks WHERE user_id = ?1 AND agent_id = ?2 \
                     ORDER BY label",
                )?;
                let rows = statement.query_map(params![user.get(), agent.get()], |row| {
                    Ok(CoreBlock {
                        user_id: user,
                        agent_id: agent,
                        label: row.get(0)?,
                        value: row.get(1)?,
                        updated_at: micros(row, 2)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn set_core_block(&self, user: UserId, agent: AgentId, label: String, value: String) -> Result<()> {
        check_core_block(&label, &value)?;
        let now = self.now();
        self.writer
            .write(move |connection, _| {
                crate::agents::sqlite::load(connection, user, agent)?;
                if value.is_empty() {
                    connection.execute(
                        "DELETE FROM memory_core_blocks WHERE agent_id = ?1 AND label = ?2",
                        params![agent.get(), label],
                    )?;
                } else {
                    connection.execute(
                        "INSERT INTO memory_core_blocks (user_id, agent_id, label, value, updated_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (agent_id, label) \
                         DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                        params![user.get(), agent.get(), label, value, to_micros(now)],
                    )?;
                }
                Ok(())
            })
            .await
    }
}
