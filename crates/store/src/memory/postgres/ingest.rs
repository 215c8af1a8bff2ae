//! Memory's writes on PostgreSQL: an episode, and one episode's ingestion
//! in one transaction. The episode's row is locked first, so two workers
//! ingesting the same episode at once take turns and the second finds it
//! ingested; two episodes naming the same new entity at once collide on
//! `memory_entities_name`, and the loser's transaction runs again and finds
//! the winner's entity.

use chrono::{DateTime, Utc};
use steward_domain::memory::text::{normalize_name, normalize_statement};
use steward_domain::memory::{Episode, ItemKind, NewEpisode, vector};
use steward_domain::{EntityId, EpisodeId, FactId, NewEvent, UserId};

use super::{facts_by_id, facts_touching, load_episode};
use crate::memory::decide::{self, EntityWrite, FactWrite};
use crate::memory::{EmbeddingTarget, IngestionPlan, IngestionReport, Resolution};
use crate::postgres::transaction::{Transaction, TransactionResult};

pub(super) async fn add_episode(
    transaction: &mut Transaction,
    new: &NewEpisode,
    now: DateTime<Utc>,
) -> TransactionResult<(Episode, bool)> {
    let user = new.user_id;
    if let Some(agent) = new.agent_id {
        crate::agents::postgres::load(transaction.connection(), user, agent).await?;
    }
    if let Some(reference) = &new.source_ref {
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM memory_episodes WHERE user_id = $1 AND source = $2 AND source_ref = $3")
                .bind(user.get())
                .bind(new.source.as_str())
                .bind(reference)
                .fetch_optional(transaction.connection())
                .await?;
        if let Some(id) = existing {
            return Ok((load_episode(transaction.connection(), user, EpisodeId(id)).await?, false));
        }
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO memory_episodes (user_id, agent_id, source, source_ref, content, reference_at, created_at, thread) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(user.get())
    .bind(new.agent_id.map(|agent| agent.get()))
    .bind(new.source.as_str())
    .bind(&new.source_ref)
    .bind(&new.content)
    .bind(new.reference_time.unwrap_or(now))
    .bind(now)
    .bind(&new.thread)
    .fetch_one(transaction.connection())
    .await?;
    log_texts(transaction, user, &[(ItemKind::Episode, id)]).await?;
    Ok((load_episode(transaction.connection(), user, EpisodeId(id)).await?, true))
}

/// Logs the items a transaction wrote (`memory_text_log`), numbered in
/// order after the user's last number, so every process's in-process index
/// picks them up. Called last in the transaction: the head row stays
/// locked from here to commit, so the user's numbers follow commit order,
/// and the lock is held briefly.
async fn log_texts(transaction: &mut Transaction, user: UserId, items: &[(ItemKind, i64)]) -> TransactionResult<()> {
    if items.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let (kinds, ids): (Vec<&str>, Vec<i64>) = items.iter().map(|(kind, id)| (kind.as_str(), *id)).unzip();
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO memory_text_heads (user_id, seq) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET seq = memory_text_heads.seq + $2 RETURNING seq",
    )
    .bind(user.get())
    .bind(count)
    .fetch_one(transaction.connection())
    .await?;
    sqlx::query(
        "INSERT INTO memory_text_log (user_id, seq, item_kind, item_id) \
         SELECT $1, $2 + position, kind, id FROM unnest($3::text[], $4::bigint[]) WITH ORDINALITY AS item (kind, id, position)",
    )
    .bind(user.get())
    .bind(last - count)
    .bind(&kinds)
    .bind(&ids)
    .execute(transaction.connection())
    .await?;
    Ok(())
}

async fn entity_is_users(transaction: &mut Transaction, user: UserId, id: EntityId) -> TransactionResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM memory_entities WHERE id = $1 AND user_id = $2")
        .bind(id.get())
        .bind(user.get())
        .fetch_optional(transaction.connection())
        .await?;
    Ok(found.is_some())
}

async fn write_entities(
    transaction: &mut Transaction,
    user: UserId,
    episode: &Episode,
    plan: &IngestionPlan,
    report: &mut IngestionReport,
    written: &mut Vec<(ItemKind, i64)>,
    now: DateTime<Utc>,
) -> TransactionResult<Vec<EntityId>> {
    let mut entity_ids = Vec::with_capacity(plan.entities.len());
    for (index, planned) in plan.entities.iter().enumerate() {
        let same_name: Option<i64> =
            sqlx::query_scalar("SELECT id FROM memory_entities WHERE user_id = $1 AND normalized_name = $2")
                .bind(user.get())
                .bind(normalize_name(&planned.name))
                .fetch_optional(transaction.connection())
                .await?;
        let known = match &planned.resolution {
            Resolution::New => false,
            Resolution::Existing(id) | Resolution::Merge { entity: id, .. } => {
                entity_is_users(transaction, user, *id).await?
            }
        };
        let id = match decide::entity_write(index, planned, same_name.map(EntityId), known)? {
            EntityWrite::Use(id) => id,
            EntityWrite::Insert { normalized_name } => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO memory_entities (user_id, name, normalized_name, labels, summary, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(user.get())
                .bind(planned.name.trim())
                .bind(normalized_name)
                .bind(serde_json::to_value(&planned.labels)?)
                .bind(&planned.summary)
                .bind(now)
                .fetch_one(transaction.connection())
                .await?;
                written.push((ItemKind::Entity, id));
                report.entities_created += 1;
                EntityId(id)
            }
            EntityWrite::Merge { entity, method, similarity } => {
                sqlx::query(
                    "INSERT INTO memory_entity_merges (entity_id, alias, method, similarity, episode_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(entity.get())
                .bind(&planned.name)
                .bind(method.as_str())
                .bind(similarity)
                .bind(episode.id.get())
                .bind(now)
                .execute(transaction.connection())
                .await?;
                report.entities_merged += 1;
                entity
            }
        };
        entity_ids.push(id);
    }
    Ok(entity_ids)
}

/// Stores one episode's entities and facts; see `MemoryStore::apply_ingestion`.
pub(super) async fn apply(
    transaction: &mut Transaction,
    user: UserId,
    episode_id: EpisodeId,
    plan: &IngestionPlan,
    now: DateTime<Utc>,
) -> TransactionResult<IngestionReport> {
    sqlx::query("SELECT id FROM memory_episodes WHERE id = $1 AND user_id = $2 FOR UPDATE")
        .bind(episode_id.get())
        .bind(user.get())
        .fetch_optional(transaction.connection())
        .await?;
    let episode = load_episode(transaction.connection(), user, episode_id).await?;
    if episode.ingested_at.is_some() {
        return Ok(IngestionReport { already_ingested: true, ..Default::default() });
    }
    let mut report = IngestionReport::default();
    let mut written = Vec::new();
    let entity_ids = write_entities(transaction, user, &episode, plan, &mut report, &mut written, now).await?;

    let mut fact_ids = Vec::with_capacity(plan.facts.len());
    for (index, planned) in plan.facts.iter().enumerate() {
        let subject = entity_ids[planned.subject];
        let object = planned.object.map(|object| entity_ids[object]);
        let subject_facts: Vec<_> = facts_touching(transaction.connection(), user, &[subject])
            .await?
            .into_iter()
            .filter(|fact| fact.subject == subject)
            .collect();
        let named_ids: Vec<FactId> = planned.duplicate_of.iter().chain(&planned.contradicts).copied().collect();
        let named = facts_by_id(transaction.connection(), user, &named_ids).await?;
        let id = match decide::fact_write(index, planned, object, &episode, &subject_facts, &named)? {
            FactWrite::MergeProvenance(id) => {
                report.facts_merged += 1;
                id
            }
            FactWrite::Insert { valid_at, invalid_at, close } => {
                for closing in &close {
                    sqlx::query(
                        "UPDATE memory_facts SET invalid_at = $1, expired_at = coalesce(expired_at, $2) WHERE id = $3",
                    )
                    .bind(closing.invalid_at)
                    .bind(now)
                    .bind(closing.fact.get())
                    .execute(transaction.connection())
                    .await?;
                }
                report.facts_closed += close.len();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO memory_facts (user_id, agent_id, kind, subject_id, object_id, relation, statement, \
                     normalized_statement, valid_at, invalid_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                )
                .bind(user.get())
                .bind(episode.agent_id.map(|agent| agent.get()))
                .bind(planned.kind.as_str())
                .bind(subject.get())
                .bind(object.map(EntityId::get))
                .bind(planned.relation.trim())
                .bind(planned.statement.trim())
                .bind(normalize_statement(&planned.statement))
                .bind(valid_at)
                .bind(invalid_at)
                .bind(now)
                .fetch_one(transaction.connection())
                .await?;
                written.push((ItemKind::Fact, id));
                report.facts_created += 1;
                FactId(id)
            }
        };
        for from in std::iter::once(episode.id).chain(planned.also_from.iter().copied()) {
            sqlx::query(
                "INSERT INTO memory_fact_episodes (fact_id, episode_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id.get())
            .bind(from.get())
            .execute(transaction.connection())
            .await?;
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
            sqlx::query(
                "INSERT INTO memory_embeddings (user_id, item_kind, item_id, model, vector, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(user.get())
            .bind(kind.as_str())
            .bind(id)
            .bind(model)
            .bind(vector::to_bytes(&embedding.vector))
            .bind(now)
            .execute(transaction.connection())
            .await?;
        }
    }

    sqlx::query("UPDATE memory_episodes SET ingested_at = $1 WHERE id = $2")
        .bind(now)
        .bind(episode.id.get())
        .execute(transaction.connection())
        .await?;
    transaction.record(
        user,
        now,
        NewEvent::MemoryEpisodeIngested {
            episode: episode.id,
            entities_created: report.entities_created,
            facts_created: report.facts_created,
            facts_merged: report.facts_merged,
            facts_closed: report.facts_closed,
        },
    );
    log_texts(transaction, user, &written).await?;
    Ok(report)
}
