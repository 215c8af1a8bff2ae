//! The guardian's records on PostgreSQL. Recording an assessment and
//! delivering interventions lock the run's row first, as every operation on
//! a run does.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};
use std::collections::BTreeMap;

use steward_domain::oversight::duplicates::{Duplicate, DuplicateStatus, NewDuplicate};
use steward_domain::oversight::{
    Assessment, AssessmentStatus, Intervention, LivenessFacts, NewAssessment, Progress, WorkingRun,
};
use steward_domain::{AgentId, AssessmentId, DuplicateId, ProjectId, RunId, RunOutcome, Spend, UserId};

use crate::oversight::{
    DeliveredInterventions, GuardianCandidate, NewOversightCall, OversightCallPurpose, OversightStore, decide,
};
use crate::postgres::PostgresStore;
use crate::postgres::rows::parsed;
use crate::postgres::runtime_rows::{self, run_columns};
use crate::postgres::transaction::{Begin, TransactionResult};
use crate::runs::postgres::load_for_worker;
use crate::{Entity, Result, StoreError};

macro_rules! assessment_columns {
    () => {
        "id, user_id, run_id, agent_id, steps_seen, tokens_seen, alignment, drift_reason, recommended, \
         intervention, status, message, needs_person, model, input_tokens, output_tokens, cost_usd, \
         delivered_before_step, created_at"
    };
}

fn count(row: &PgRow, index: usize) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(index)?).unwrap_or(0))
}

fn assessment(row: &PgRow) -> Result<Assessment, sqlx::Error> {
    Ok(Assessment {
        id: AssessmentId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        run_id: RunId(row.try_get(2)?),
        agent_id: AgentId(row.try_get(3)?),
        progress: Progress { steps: u32::try_from(count(row, 4)?).unwrap_or(u32::MAX), tokens: count(row, 5)? },
        alignment: row.try_get(6)?,
        drift_reason: row.try_get(7)?,
        recommended: parsed(row, 8)?,
        intervention: parsed(row, 9)?,
        status: parsed(row, 10)?,
        message: row.try_get(11)?,
        needs_person: row.try_get(12)?,
        model: row.try_get(13)?,
        input_tokens: count(row, 14)?,
        output_tokens: count(row, 15)?,
        cost_usd: row.try_get(16)?,
        delivered_before_step: row.try_get::<Option<i64>, _>(17)?.map(|step| u32::try_from(step).unwrap_or(u32::MAX)),
        created_at: row.try_get(18)?,
    })
}

async fn of_run(connection: &mut PgConnection, run: RunId) -> Result<Vec<Assessment>, sqlx::Error> {
    let rows =
        sqlx::query(concat!("SELECT ", assessment_columns!(), " FROM run_assessments WHERE run_id = $1 ORDER BY id"))
            .bind(run.get())
            .fetch_all(connection)
            .await?;
    rows.iter().map(assessment).collect()
}

async fn record(
    transaction: &mut crate::postgres::transaction::Transaction,
    new: &NewAssessment,
    now: DateTime<Utc>,
) -> TransactionResult<Assessment> {
    let run = load_for_worker(transaction.connection(), new.run_id).await?;
    // The run's row is locked: a concurrent look at the same run waits here.
    let last: Option<(i64, i64)> = sqlx::query_as(
        "SELECT steps_seen, tokens_seen FROM run_assessments WHERE run_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(run.id.get())
    .fetch_optional(transaction.connection())
    .await?;
    let last_seen = last.map(|(steps, tokens)| Progress {
        steps: u32::try_from(steps).unwrap_or(u32::MAX),
        tokens: u64::try_from(tokens).unwrap_or(0),
    });
    decide::check_new(&run, new, last_seen)?;
    let row = sqlx::query(concat!(
        "INSERT INTO run_assessments (user_id, run_id, agent_id, steps_seen, tokens_seen, alignment, drift_reason, \
             recommended, intervention, status, message, needs_person, model, input_tokens, output_tokens, cost_usd, \
             created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING ",
        assessment_columns!()
    ))
    .bind(run.user_id.get())
    .bind(run.id.get())
    .bind(run.agent_id.get())
    .bind(i64::from(new.progress.steps))
    .bind(i64::try_from(new.progress.tokens).unwrap_or(i64::MAX))
    .bind(new.verdict.alignment)
    .bind(&new.verdict.drift_reason)
    .bind(new.verdict.intervention.as_str())
    .bind(new.decision.intervention.as_str())
    .bind(new.decision.status.as_str())
    .bind(&new.decision.message)
    .bind(new.decision.needs_person)
    .bind(&new.model)
    .bind(i64::try_from(new.input_tokens).unwrap_or(i64::MAX))
    .bind(i64::try_from(new.output_tokens).unwrap_or(i64::MAX))
    .bind(new.cost_usd)
    .bind(now)
    .fetch_one(transaction.connection())
    .await?;
    let stored = assessment(&row)?;
    transaction.record(run.user_id, now, decide::assessed_event(&stored));
    Ok(stored)
}

async fn apply(
    transaction: &mut crate::postgres::transaction::Transaction,
    user: UserId,
    run: RunId,
    chosen: Option<AssessmentId>,
    intervention: Intervention,
    now: DateTime<Utc>,
) -> TransactionResult<Assessment> {
    let current = crate::runs::postgres::load_for_update(transaction.connection(), user, run).await?;
    let all = of_run(transaction.connection(), run).await?;
    let (id, intervention, status) = decide::person_applies(&current, &all, chosen, intervention)?;
    let row = sqlx::query(concat!(
        "UPDATE run_assessments SET intervention = $1, status = $2 WHERE id = $3 RETURNING ",
        assessment_columns!()
    ))
    .bind(intervention.as_str())
    .bind(status.as_str())
    .bind(id.get())
    .fetch_one(transaction.connection())
    .await?;
    let stored = assessment(&row)?;
    transaction.record(user, now, decide::assessed_event(&stored));
    if status == AssessmentStatus::Applied {
        crate::runs::postgres::cancel(transaction, user, run, now).await?;
    }
    Ok(stored)
}

async fn deliver(
    transaction: &mut crate::postgres::transaction::Transaction,
    run: RunId,
    before_step: u32,
) -> TransactionResult<DeliveredInterventions> {
    load_for_worker(transaction.connection(), run).await?;
    let all = of_run(transaction.connection(), run).await?;
    let mut delivered = DeliveredInterventions::default();
    for mut assessment in all {
        if decide::deliverable(&assessment) {
            sqlx::query("UPDATE run_assessments SET status = 'delivered', delivered_before_step = $1 WHERE id = $2")
                .bind(i64::from(before_step))
                .bind(assessment.id.get())
                .execute(transaction.connection())
                .await?;
            assessment.status = AssessmentStatus::Delivered;
            assessment.delivered_before_step = Some(before_step);
            delivered.now.push(assessment);
        } else if decide::delivered(&assessment) {
            delivered.earlier.push(assessment);
        }
    }
    Ok(delivered)
}

macro_rules! duplicate_columns {
    () => {
        "id, user_id, kind, project_id, first_ref, second_ref, first_title, second_title, similarity, method, \
         status, kept_ref, created_at, decided_at, text_similarity, embedding_similarity"
    };
}

fn duplicate(row: &PgRow) -> Result<Duplicate, sqlx::Error> {
    Ok(Duplicate {
        id: DuplicateId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        kind: parsed(row, 2)?,
        project_id: row.try_get::<Option<i64>, _>(3)?.map(ProjectId),
        first: row.try_get(4)?,
        second: row.try_get(5)?,
        first_title: row.try_get(6)?,
        second_title: row.try_get(7)?,
        similarity: row.try_get(8)?,
        method: row.try_get(9)?,
        status: parsed(row, 10)?,
        kept: row.try_get(11)?,
        created_at: row.try_get(12)?,
        decided_at: row.try_get(13)?,
        text_similarity: row.try_get(14)?,
        embedding_similarity: row.try_get(15)?,
    })
}

pub(crate) async fn load_duplicate(
    connection: &mut PgConnection,
    user: UserId,
    id: DuplicateId,
    lock: bool,
) -> TransactionResult<Duplicate> {
    let query = if lock {
        concat!("SELECT ", duplicate_columns!(), " FROM duplicates WHERE id = $1 AND user_id = $2 FOR UPDATE")
    } else {
        concat!("SELECT ", duplicate_columns!(), " FROM duplicates WHERE id = $1 AND user_id = $2")
    };
    let row = sqlx::query(query).bind(id.get()).bind(user.get()).fetch_optional(connection).await?;
    Ok(duplicate(&row.ok_or_else(|| StoreError::not_found(Entity::Duplicate, id))?)?)
}

async fn flag(
    transaction: &mut crate::postgres::transaction::Transaction,
    user: UserId,
    pairs: &[NewDuplicate],
    now: DateTime<Utc>,
) -> TransactionResult<Vec<Duplicate>> {
    let mut flagged = Vec::new();
    for pair in pairs {
        let row = sqlx::query(concat!(
            "INSERT INTO duplicates (user_id, kind, project_id, first_ref, second_ref, first_title, second_title, \
                 similarity, method, status, created_at, text_similarity, embedding_similarity) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11, $12) \
             ON CONFLICT (user_id, kind, first_ref, second_ref) DO NOTHING RETURNING ",
            duplicate_columns!()
        ))
        .bind(user.get())
        .bind(pair.kind.as_str())
        .bind(pair.project_id.map(ProjectId::get))
        .bind(&pair.first)
        .bind(&pair.second)
        .bind(&pair.first_title)
        .bind(&pair.second_title)
        .bind(pair.similarity)
        .bind(&pair.method)
        .bind(now)
        .bind(pair.text_similarity)
        .bind(pair.embedding_similarity)
        .fetch_optional(transaction.connection())
        .await?;
        if let Some(row) = row {
            let stored = duplicate(&row)?;
            transaction.record(user, now, decide::duplicate_event(&stored));
            flagged.push(stored);
        }
    }
    Ok(flagged)
}

pub(crate) async fn decide_one(
    transaction: &mut crate::postgres::transaction::Transaction,
    user: UserId,
    id: DuplicateId,
    kept: Option<&str>,
    now: DateTime<Utc>,
) -> TransactionResult<Duplicate> {
    let current = load_duplicate(transaction.connection(), user, id, true).await?;
    let status = decide::decide_duplicate(&current, kept)?;
    let row = sqlx::query(concat!(
        "UPDATE duplicates SET status = $1, kept_ref = $2, decided_at = $3 WHERE id = $4 RETURNING ",
        duplicate_columns!()
    ))
    .bind(status.as_str())
    .bind(kept)
    .bind(now)
    .bind(id.get())
    .fetch_one(transaction.connection())
    .await?;
    let stored = duplicate(&row)?;
    transaction.record(user, now, decide::duplicate_event(&stored));
    Ok(stored)
}

#[async_trait]
impl OversightStore for PostgresStore {
    async fn flag_duplicates(&self, user: UserId, pairs: Vec<NewDuplicate>) -> Result<Vec<Duplicate>> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let pairs = pairs.clone();
            Box::pin(async move { flag(transaction, user, &pairs, now).await })
        })
        .await
    }

    async fn record_oversight_call(&self, user: UserId, call: NewOversightCall) -> Result<()> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let call = call.clone();
            Box::pin(async move {
                let owned: Option<i64> = sqlx::query_scalar("SELECT id FROM agents WHERE id = $1 AND user_id = $2")
                    .bind(call.agent_id.get())
                    .bind(user.get())
                    .fetch_optional(transaction.connection())
                    .await?;
                if owned.is_none() {
                    return Err(StoreError::not_found(Entity::Agent, call.agent_id).into());
                }
                sqlx::query(
                    "INSERT INTO oversight_calls (user_id, agent_id, purpose, subject, outcome, model, input_tokens, \
                         output_tokens, cost_usd, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(user.get())
                .bind(call.agent_id.get())
                .bind(call.purpose.as_str())
                .bind(&call.subject)
                .bind(&call.outcome)
                .bind(&call.model)
                .bind(i64::try_from(call.input_tokens).unwrap_or(i64::MAX))
                .bind(i64::try_from(call.output_tokens).unwrap_or(i64::MAX))
                .bind(call.cost_usd)
                .bind(now)
                .execute(transaction.connection())
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn oversight_outcomes(
        &self,
        user: UserId,
        purpose: OversightCallPurpose,
    ) -> Result<BTreeMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT subject, outcome FROM oversight_calls WHERE user_id = $1 AND purpose = $2 ORDER BY id",
        )
        .bind(user.get())
        .bind(purpose.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    async fn list_duplicates(&self, user: UserId, status: Option<DuplicateStatus>) -> Result<Vec<Duplicate>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            duplicate_columns!(),
            " FROM duplicates WHERE user_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY id DESC"
        ))
        .bind(user.get())
        .bind(status.map(DuplicateStatus::as_str))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(duplicate).collect::<Result<_, sqlx::Error>>()?)
    }

    async fn get_duplicate(&self, user: UserId, id: DuplicateId) -> Result<Duplicate> {
        let mut connection = self.pool.acquire().await?;
        load_duplicate(&mut connection, user, id, false).await.map_err(|error| error.into_store_error())
    }

    async fn decide_duplicate(&self, user: UserId, id: DuplicateId, kept: Option<String>) -> Result<Duplicate> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let kept = kept.clone();
            Box::pin(async move { decide_one(transaction, user, id, kept.as_deref(), now).await })
        })
        .await
    }

    async fn liveness_facts(&self, user: UserId) -> Result<BTreeMap<AgentId, LivenessFacts>> {
        let mut facts: BTreeMap<AgentId, LivenessFacts> = BTreeMap::new();
        let running: Vec<(i64, Option<DateTime<Utc>>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT runs.agent_id, jobs.lease_expires_at, runs.updated_at FROM runs \
             LEFT JOIN jobs ON jobs.id = runs.job_id AND jobs.state = 'running' \
             WHERE runs.user_id = $1 AND runs.status = 'running'",
        )
        .bind(user.get())
        .fetch_all(&self.pool)
        .await?;
        for (agent, lease, progress) in running {
            facts
                .entry(AgentId(agent))
                .or_default()
                .running
                .push(WorkingRun { lease_expires_at: lease, last_progress_at: progress });
        }
        let finished: Vec<(i64, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT agent_id, outcome, finished_at FROM runs WHERE id IN \
                 (SELECT max(id) FROM runs WHERE user_id = $1 AND status = 'finished' GROUP BY agent_id)",
        )
        .bind(user.get())
        .fetch_all(&self.pool)
        .await?;
        for (agent, outcome, at) in finished {
            let outcome: RunOutcome = outcome.parse().map_err(|error: steward_domain::ValidationError| {
                StoreError::Database(format!("a run's outcome {outcome:?}: {}", error.message))
            })?;
            facts.entry(AgentId(agent)).or_default().last_finished = Some((outcome, at));
        }
        Ok(facts)
    }

    async fn guardian_candidates(&self, started_before: DateTime<Utc>) -> Result<Vec<GuardianCandidate>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE status IN ('running', 'awaiting_approval') \
               AND started_at IS NOT NULL AND started_at <= $1 ORDER BY id"
        ))
        .bind(started_before)
        .fetch_all(&self.pool)
        .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in &rows {
            let run = runtime_rows::run(row)?;
            let last: Option<(DateTime<Utc>, i64, i64)> = sqlx::query_as(
                "SELECT created_at, steps_seen, tokens_seen FROM run_assessments WHERE run_id = $1 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(run.id.get())
            .fetch_optional(&self.pool)
            .await?;
            let last = last.map(|(at, steps, tokens)| {
                (
                    at,
                    Progress {
                        steps: u32::try_from(steps).unwrap_or(u32::MAX),
                        tokens: u64::try_from(tokens).unwrap_or(0),
                    },
                )
            });
            let (cost_usd, unknown): (f64, i64) = sqlx::query_as(
                "SELECT coalesce(sum(cost_usd), 0)::double precision, count(*) FILTER (WHERE cost_usd IS NULL) \
                 FROM run_assessments WHERE run_id = $1",
            )
            .bind(run.id.get())
            .fetch_one(&self.pool)
            .await?;
            let spent = Spend { cost_usd, unknown_cost_calls: u64::try_from(unknown).unwrap_or(0) };
            found.push(GuardianCandidate { run, last, spent });
        }
        Ok(found)
    }

    async fn record_assessment(&self, new: NewAssessment) -> Result<Assessment> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let new = new.clone();
            Box::pin(async move { record(transaction, &new, now).await })
        })
        .await
    }

    async fn list_assessments(&self, user: UserId, run: RunId) -> Result<Vec<Assessment>> {
        let mut connection = self.pool.acquire().await?;
        crate::runs::postgres::load(&mut connection, user, run).await?;
        Ok(of_run(&mut connection, run).await?)
    }

    async fn apply_intervention(
        &self,
        user: UserId,
        run: RunId,
        assessment: Option<AssessmentId>,
        intervention: Intervention,
    ) -> Result<Assessment> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move { apply(transaction, user, run, assessment, intervention, now).await })
        })
        .await
    }

    async fn deliver_interventions(&self, run: RunId, before_step: u32) -> Result<DeliveredInterventions> {
        // Most runs are never assessed: a read answers them without a write.
        let assessments = {
            let mut connection = self.pool.acquire().await?;
            of_run(&mut connection, run).await?
        };
        if !assessments.iter().any(decide::deliverable) {
            let earlier = assessments.into_iter().filter(decide::delivered).collect();
            return Ok(DeliveredInterventions { earlier, now: Vec::new() });
        }
        self.write(Begin::Plain, |transaction| Box::pin(async move { deliver(transaction, run, before_step).await }))
            .await
    }
}
