//! Memory on PostgreSQL: reads, full text through GIN indexes on
//! `to_tsvector('english', …)` ranked by `ts_rank`, and the trait;
//! ingestion's write is `postgres/ingest.rs`. Lists of ids are arrays
//! (`= ANY($n)`).

mod ingest;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use steward_domain::memory::context::Neighbour;
use steward_domain::memory::text::normalize_name;
use steward_domain::memory::{
    CoreBlock, Entity, Episode, Fact, FactKind, ItemKey, ItemKind, NewEpisode, check_core_block, check_episode, vector,
};
use steward_domain::{AgentId, EntityId, EpisodeId, FactId, NewEvent, UserId};

use super::{
    EntityMerge, EpisodeFilter, IngestionPlan, IngestionReport, MemoryStore, StoredEmbedding, TextEntry, decide,
};
use crate::postgres::PostgresStore;
use crate::postgres::rows::{decode_error, parsed};
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::{Entity as StoredEntity, Result, StoreError};

macro_rules! episode_columns {
    () => {
        "id, user_id, agent_id, source, source_ref, content, reference_at, created_at, ingested_at, thread"
    };
}

macro_rules! entity_columns {
    () => {
        "id, user_id, name, normalized_name, labels, summary, created_at"
    };
}

macro_rules! fact_columns {
    () => {
        "id, user_id, agent_id, kind, subject_id, object_id, relation, statement, valid_at, invalid_at, created_at, \
         expired_at"
    };
}

fn episode(row: &PgRow) -> Result<Episode, sqlx::Error> {
    Ok(Episode {
        id: EpisodeId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        agent_id: row.try_get::<Option<i64>, _>(2)?.map(AgentId),
        source: parsed(row, 3)?,
        source_ref: row.try_get(4)?,
        content: row.try_get(5)?,
        reference_time: row.try_get(6)?,
        created_at: row.try_get(7)?,
        ingested_at: row.try_get(8)?,
        thread: row.try_get(9)?,
    })
}

fn entity(row: &PgRow) -> Result<Entity, sqlx::Error> {
    let labels: serde_json::Value = row.try_get(4)?;
    Ok(Entity {
        id: EntityId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        name: row.try_get(2)?,
        normalized_name: row.try_get(3)?,
        labels: serde_json::from_value(labels).map_err(|error| decode_error(4, error))?,
        summary: row.try_get(5)?,
        created_at: row.try_get(6)?,
    })
}

fn fact(row: &PgRow) -> Result<Fact, sqlx::Error> {
    Ok(Fact {
        id: FactId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        agent_id: row.try_get::<Option<i64>, _>(2)?.map(AgentId),
        kind: parsed(row, 3)?,
        subject: EntityId(row.try_get(4)?),
        object: row.try_get::<Option<i64>, _>(5)?.map(EntityId),
        relation: row.try_get(6)?,
        statement: row.try_get(7)?,
        valid_at: row.try_get(8)?,
        invalid_at: row.try_get(9)?,
        created_at: row.try_get(10)?,
        expired_at: row.try_get(11)?,
        episodes: Vec::new(),
    })
}

pub(super) async fn load_episode(connection: &mut PgConnection, user: UserId, id: EpisodeId) -> Result<Episode> {
    let row =
        sqlx::query(concat!("SELECT ", episode_columns!(), " FROM memory_episodes WHERE id = $1 AND user_id = $2"))
            .bind(id.get())
            .bind(user.get())
            .fetch_optional(connection)
            .await?;
    Ok(episode(&row.ok_or_else(|| StoreError::not_found(StoredEntity::Episode, id))?)?)
}

async fn with_episodes(connection: &mut PgConnection, mut facts: Vec<Fact>) -> Result<Vec<Fact>> {
    let ids: Vec<i64> = facts.iter().map(|fact| fact.id.get()).collect();
    let links: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT fact_id, episode_id FROM memory_fact_episodes WHERE fact_id = ANY($1) ORDER BY episode_id",
    )
    .bind(&ids)
    .fetch_all(connection)
    .await?;
    for fact in &mut facts {
        fact.episodes = links.iter().filter(|(id, _)| *id == fact.id.get()).map(|(_, e)| EpisodeId(*e)).collect();
    }
    Ok(facts)
}

/// `query` selects `fact_columns!()` for user `$1` and ids `$2`.
async fn facts_where(
    connection: &mut PgConnection,
    query: &'static str,
    user: UserId,
    ids: Vec<i64>,
) -> Result<Vec<Fact>> {
    let rows = sqlx::query(query).bind(user.get()).bind(&ids).fetch_all(&mut *connection).await?;
    let facts = rows.iter().map(fact).collect::<Result<Vec<_>, _>>()?;
    with_episodes(connection, facts).await
}

pub(super) async fn facts_by_id(connection: &mut PgConnection, user: UserId, ids: &[FactId]) -> Result<Vec<Fact>> {
    let query =
        concat!("SELECT ", fact_columns!(), " FROM memory_facts WHERE user_id = $1 AND id = ANY($2) ORDER BY id");
    facts_where(connection, query, user, ids.iter().map(|id| id.get()).collect()).await
}

pub(super) async fn facts_touching(
    connection: &mut PgConnection,
    user: UserId,
    entities: &[EntityId],
) -> Result<Vec<Fact>> {
    let ids = entities.iter().map(|id| id.get()).collect();
    let query = concat!(
        "SELECT ",
        fact_columns!(),
        " FROM memory_facts WHERE user_id = $1 AND (subject_id = ANY($2) OR object_id = ANY($2)) ORDER BY id"
    );
    facts_where(connection, query, user, ids).await
}

/// The text each kind is searched by (the expression its GIN index is on).
fn text_query(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Episode => {
            "SELECT id, ts_rank(to_tsvector('english', content), query) AS rank FROM memory_episodes, \
             to_tsquery('english', $2) AS query WHERE user_id = $1 AND to_tsvector('english', content) @@ query \
             ORDER BY rank DESC, id LIMIT $3"
        }
        ItemKind::Entity => {
            "SELECT id, ts_rank(to_tsvector('english', name || ' ' || summary), query) AS rank FROM memory_entities, \
             to_tsquery('english', $2) AS query WHERE user_id = $1 \
             AND to_tsvector('english', name || ' ' || summary) @@ query ORDER BY rank DESC, id LIMIT $3"
        }
        ItemKind::Fact => {
            "SELECT id, ts_rank(to_tsvector('english', statement), query) AS rank FROM memory_facts, \
             to_tsquery('english', $2) AS query WHERE user_id = $1 AND to_tsvector('english', statement) @@ query \
             ORDER BY rank DESC, id LIMIT $3"
        }
    }
}

async fn invalidate(
    transaction: &mut Transaction,
    user: UserId,
    id: FactId,
    reason: &str,
    now: DateTime<Utc>,
) -> TransactionResult<Fact> {
    sqlx::query("SELECT id FROM memory_facts WHERE id = $1 AND user_id = $2 FOR UPDATE")
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(transaction.connection())
        .await?;
    let found = facts_by_id(transaction.connection(), user, &[id]).await?;
    let current = found.first().ok_or_else(|| StoreError::not_found(StoredEntity::Fact, id))?;
    if let Some((invalid_at, expired_at)) = decide::invalidation(current, now) {
        sqlx::query("UPDATE memory_facts SET invalid_at = $1, expired_at = $2 WHERE id = $3")
            .bind(invalid_at)
            .bind(expired_at)
            .bind(id.get())
            .execute(transaction.connection())
            .await?;
        transaction.record(user, now, NewEvent::MemoryFactInvalidated { fact: id, reason: reason.to_string() });
    }
    let mut found = facts_by_id(transaction.connection(), user, &[id]).await?;
    Ok(found.pop().ok_or_else(|| StoreError::not_found(StoredEntity::Fact, id))?)
}

#[async_trait]
impl MemoryStore for PostgresStore {
    async fn add_episode(&self, new: NewEpisode) -> Result<(Episode, bool)> {
        check_episode(&new)?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let new = new.clone();
            Box::pin(async move { ingest::add_episode(transaction, &new, now).await })
        })
        .await
    }

    async fn get_episodes(&self, user: UserId, ids: &[EpisodeId]) -> Result<Vec<Episode>> {
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let rows = sqlx::query(concat!(
            "SELECT ",
            episode_columns!(),
            " FROM memory_episodes WHERE user_id = $1 AND id = ANY($2) ORDER BY id"
        ))
        .bind(user.get())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(episode).collect::<Result<_, _>>()?)
    }

    async fn list_episodes(&self, user: UserId, filter: EpisodeFilter) -> Result<Vec<Episode>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            episode_columns!(),
            " FROM memory_episodes WHERE user_id = $1 AND ($2::bigint IS NULL OR agent_id = $2) \
             AND (NOT $3 OR ingested_at IS NULL) AND ($5::bigint IS NULL OR id > $5) \
             AND ($6::text IS NULL OR starts_with(source_ref, $6)) \
             ORDER BY CASE WHEN $5::bigint IS NULL THEN -id ELSE id END LIMIT $4"
        ))
        .bind(user.get())
        .bind(filter.agent_id.map(AgentId::get))
        .bind(filter.pending)
        .bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
        .bind(filter.after.map(EpisodeId::get))
        .bind(filter.source_ref_prefix)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(episode).collect::<Result<_, _>>()?)
    }

    async fn apply_ingestion(&self, user: UserId, episode: EpisodeId, plan: IngestionPlan) -> Result<IngestionReport> {
        decide::check_plan(&plan)?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let plan = plan.clone();
            Box::pin(async move { ingest::apply(transaction, user, episode, &plan, now).await })
        })
        .await
    }

    async fn entity_names(&self, user: UserId) -> Result<Vec<(EntityId, String)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, normalized_name FROM memory_entities WHERE user_id = $1 ORDER BY id")
                .bind(user.get())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id, name)| (EntityId(id), name)).collect())
    }

    async fn get_entities(&self, user: UserId, ids: &[EntityId]) -> Result<Vec<Entity>> {
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let rows = sqlx::query(concat!(
            "SELECT ",
            entity_columns!(),
            " FROM memory_entities WHERE user_id = $1 AND id = ANY($2) ORDER BY id"
        ))
        .bind(user.get())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entity).collect::<Result<_, _>>()?)
    }

    async fn find_entity(&self, user: UserId, name: &str) -> Result<Option<Entity>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            entity_columns!(),
            " FROM memory_entities WHERE user_id = $1 AND normalized_name = $2"
        ))
        .bind(user.get())
        .bind(normalize_name(name))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(entity).transpose()?)
    }

    async fn entity_merges(&self, user: UserId, id: EntityId) -> Result<Vec<EntityMerge>> {
        let rows = sqlx::query(
            "SELECT merges.entity_id, merges.alias, merges.method, merges.similarity, merges.episode_id, \
             merges.created_at FROM memory_entity_merges AS merges \
             JOIN memory_entities AS entities ON entities.id = merges.entity_id \
             WHERE entities.user_id = $1 AND merges.entity_id = $2 ORDER BY merges.id",
        )
        .bind(user.get())
        .bind(id.get())
        .fetch_all(&self.pool)
        .await?;
        let merge = |row: &PgRow| -> Result<EntityMerge, sqlx::Error> {
            Ok(EntityMerge {
                entity_id: EntityId(row.try_get(0)?),
                alias: row.try_get(1)?,
                method: row.try_get(2)?,
                similarity: row.try_get(3)?,
                episode_id: EpisodeId(row.try_get(4)?),
                created_at: row.try_get(5)?,
            })
        };
        Ok(rows.iter().map(merge).collect::<Result<_, _>>()?)
    }

    async fn get_facts(&self, user: UserId, ids: &[FactId]) -> Result<Vec<Fact>> {
        let mut connection = self.pool.acquire().await?;
        facts_by_id(&mut connection, user, ids).await
    }

    async fn facts_touching(&self, user: UserId, entities: &[EntityId]) -> Result<Vec<Fact>> {
        let mut connection = self.pool.acquire().await?;
        facts_touching(&mut connection, user, entities).await
    }

    async fn list_facts(&self, user: UserId, kinds: &[FactKind], limit: usize) -> Result<Vec<Fact>> {
        let kinds: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
        let mut connection = self.pool.acquire().await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            fact_columns!(),
            " FROM memory_facts WHERE user_id = $1 \
             AND (cardinality($2::text[]) = 0 OR kind = ANY($2)) ORDER BY id DESC LIMIT $3"
        ))
        .bind(user.get())
        .bind(&kinds)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *connection)
        .await?;
        let facts = rows.iter().map(fact).collect::<Result<Vec<_>, _>>()?;
        with_episodes(&mut connection, facts).await
    }

    async fn invalidate_fact(&self, user: UserId, id: FactId, reason: String) -> Result<Fact> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let reason = reason.clone();
            Box::pin(async move { invalidate(transaction, user, id, &reason, now).await })
        })
        .await
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
        // Terms are letters and digits only (`query_terms`), so joining
        // them with `|` is a well-formed tsquery.
        let query = terms.join(" | ");
        let mut found = Vec::new();
        for kind in kinds {
            let rows: Vec<(i64, f32)> = sqlx::query_as(text_query(*kind))
                .bind(user.get())
                .bind(&query)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await?;
            found.extend(rows.into_iter().map(|(id, rank)| (ItemKey { kind: *kind, id }, f64::from(rank))));
        }
        Ok(found)
    }

    async fn text_watermark(&self, user: UserId) -> Result<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM memory_text_heads WHERE user_id = $1")
            .bind(user.get())
            .fetch_optional(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn text_since(&self, user: UserId, after: i64) -> Result<Vec<TextEntry>> {
        let rows: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT log.seq, log.item_kind, log.item_id, CASE log.item_kind \
               WHEN 'episode' THEN (SELECT content FROM memory_episodes WHERE id = log.item_id) \
               WHEN 'entity' THEN (SELECT name || ' ' || summary FROM memory_entities WHERE id = log.item_id) \
               ELSE (SELECT statement FROM memory_facts WHERE id = log.item_id) END \
             FROM memory_text_log AS log WHERE log.user_id = $1 AND log.seq > $2 \
             ORDER BY log.seq, log.item_kind, log.item_id",
        )
        .bind(user.get())
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, kind, id, text)| {
                Ok(TextEntry { seq, key: ItemKey { kind: kind.parse()?, id }, text: text.unwrap_or_default() })
            })
            .collect()
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
        // Two index range reads per episode (`memory_episodes_by_thread`),
        // numbered nearest first on each side, in one round trip.
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT anchor.id, near.id, near.distance FROM memory_episodes AS anchor CROSS JOIN LATERAL ( \
                 SELECT id, row_number() OVER (ORDER BY reference_at DESC, id DESC) AS distance FROM ( \
                     SELECT id, reference_at FROM memory_episodes AS other \
                     WHERE other.user_id = anchor.user_id AND other.thread = anchor.thread \
                       AND (other.reference_at, other.id) < (anchor.reference_at, anchor.id) \
                     ORDER BY reference_at DESC, id DESC LIMIT $3) AS earlier \
                 UNION ALL \
                 SELECT id, row_number() OVER (ORDER BY reference_at, id) AS distance FROM ( \
                     SELECT id, reference_at FROM memory_episodes AS other \
                     WHERE other.user_id = anchor.user_id AND other.thread = anchor.thread \
                       AND (other.reference_at, other.id) > (anchor.reference_at, anchor.id) \
                     ORDER BY reference_at, id LIMIT $3) AS later \
             ) AS near \
             WHERE anchor.user_id = $1 AND anchor.id = ANY($2) AND anchor.thread IS NOT NULL",
        )
        .bind(user.get())
        .bind(episodes.iter().map(|episode| episode.get()).collect::<Vec<_>>())
        .bind(i64::try_from(turns).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(of, neighbour, distance)| Neighbour {
                of: EpisodeId(of),
                neighbour: EpisodeId(neighbour),
                distance: usize::try_from(distance).unwrap_or(usize::MAX),
            })
            .collect())
    }

    async fn embedding_watermark(&self, user: UserId) -> Result<(i64, i64)> {
        Ok(sqlx::query_as("SELECT count(*), coalesce(max(id), 0) FROM memory_embeddings WHERE user_id = $1")
            .bind(user.get())
            .fetch_one(&self.pool)
            .await?)
    }

    async fn embeddings(&self, user: UserId) -> Result<Vec<StoredEmbedding>> {
        let rows: Vec<(i64, String, i64, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, item_kind, item_id, model, vector FROM memory_embeddings WHERE user_id = $1 ORDER BY id",
        )
        .bind(user.get())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, kind, item, model, bytes)| {
                Ok(StoredEmbedding {
                    id,
                    key: ItemKey { kind: kind.parse()?, id: item },
                    model,
                    vector: vector::from_bytes(&bytes)
                        .ok_or_else(|| StoreError::Database(format!("embedding {id} is not a list of f32s")))?,
                })
            })
            .collect()
    }

    async fn core_blocks(&self, user: UserId, agent: AgentId) -> Result<Vec<CoreBlock>> {
        let rows: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT label, value, updated_at FROM memory_core_blocks WHERE user_id = $1 AND agent_id = $2 ORDER BY label",
        )
        .bind(user.get())
        .bind(agent.get())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(label, value, updated_at)| CoreBlock { user_id: user, agent_id: agent, label, value, updated_at })
            .collect())
    }

    async fn set_core_block(&self, user: UserId, agent: AgentId, label: String, value: String) -> Result<()> {
        check_core_block(&label, &value)?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let (label, value) = (label.clone(), value.clone());
            Box::pin(async move {
                crate::agents::postgres::load(transaction.connection(), user, agent).await?;
                if value.is_empty() {
                    sqlx::query("DELETE FROM memory_core_blocks WHERE agent_id = $1 AND label = $2")
                        .bind(agent.get())
                        .bind(&label)
                        .execute(transaction.connection())
                        .await?;
                } else {
                    sqlx::query(
                        "INSERT INTO memory_core_blocks (user_id, agent_id, label, value, updated_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id, label) \
                         DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    )
                    .bind(user.get())
                    .bind(agent.get())
                    .bind(&label)
                    .bind(&value)
                    .bind(now)
                    .execute(transaction.connection())
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }
}
