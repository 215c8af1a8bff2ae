//! The guardian's records on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::BTreeMap;

use steward_domain::oversight::duplicates::{Duplicate, DuplicateStatus, NewDuplicate};
use steward_domain::oversight::{
    Assessment, AssessmentStatus, Intervention, LivenessFacts, NewAssessment, Progress, WorkingRun,
};
use steward_domain::{AgentId, AssessmentId, DuplicateId, ProjectId, RunId, RunOutcome, Spend, UserId};

use crate::events::sqlite::append;
use crate::oversight::{
    DeliveredInterventions, GuardianCandidate, NewOversightCall, OversightCallPurpose, OversightStore, decide,
};
use crate::runs::sqlite::load_for_worker;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::rows::parsed;
use crate::sqlite::runtime_rows::{self, RUN_COLUMNS};
use crate::{Entity, Result, StoreError};

const COLUMNS: &str = "id, user_id, run_id, agent_id, steps_seen, tokens_seen, alignment, drift_reason, recommended, \
     intervention, status, message, needs_person, model, input_tokens, output_tokens, cost_usd, \
     delivered_before_step, created_at";

fn count(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, i64>(index)?).unwrap_or(0))
}

fn assessment(row: &Row<'_>) -> rusqlite::Result<Assessment> {
    Ok(Assessment {
        id: AssessmentId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        run_id: RunId(row.get(2)?),
        agent_id: AgentId(row.get(3)?),
        progress: Progress { steps: u32::try_from(count(row, 4)?).unwrap_or(u32::MAX), tokens: count(row, 5)? },
        alignment: row.get(6)?,
        drift_reason: row.get(7)?,
        recommended: parsed(row, 8)?,
        intervention: parsed(row, 9)?,
        status: parsed(row, 10)?,
        message: row.get(11)?,
        needs_person: row.get(12)?,
        model: row.get(13)?,
        input_tokens: count(row, 14)?,
        output_tokens: count(row, 15)?,
        cost_usd: row.get(16)?,
        delivered_before_step: row.get::<_, Option<i64>>(17)?.map(|step| u32::try_from(step).unwrap_or(u32::MAX)),
        created_at: from_micros(row.get(18)?),
    })
}

fn of_run(connection: &Connection, run: RunId) -> Result<Vec<Assessment>> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {COLUMNS} FROM run_assessments WHERE run_id = ?1 ORDER BY id"))?;
    let rows = statement.query_map(params![run.get()], assessment)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn candidates(connection: &Connection, started_before: DateTime<Utc>) -> Result<Vec<GuardianCandidate>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM runs WHERE status IN ('running', 'awaiting_approval') \
           AND started_at IS NOT NULL AND started_at <= ?1 ORDER BY id"
    ))?;
    let runs = statement
        .query_map(params![to_micros(started_before)], runtime_rows::run)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut last = connection.prepare_cached(
        "SELECT created_at, steps_seen, tokens_seen FROM run_assessments WHERE run_id = ?1 ORDER BY id DESC LIMIT 1",
    )?;
    let mut spent = connection.prepare_cached(
        "SELECT coalesce(sum(cost_usd), 0.0), count(*) FILTER (WHERE cost_usd IS NULL) FROM run_assessments \
         WHERE run_id = ?1",
    )?;
    let mut found = Vec::with_capacity(runs.len());
    for run in runs {
        let seen = last
            .query_row(params![run.id.get()], |row| {
                Ok((
                    from_micros(row.get(0)?),
                    Progress {
                        steps: u32::try_from(row.get::<_, i64>(1)?).unwrap_or(u32::MAX),
                        tokens: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
                    },
                ))
            })
            .optional()?;
        let spent = spent.query_row(params![run.id.get()], |row| {
            Ok(Spend { cost_usd: row.get(0)?, unknown_cost_calls: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0) })
        })?;
        found.push(GuardianCandidate { run, last: seen, spent });
    }
    Ok(found)
}

fn record(
    connection: &Connection,
    effects: &mut crate::sqlite::writer::Effects,
    new: NewAssessment,
    now: DateTime<Utc>,
) -> Result<Assessment> {
    let run = load_for_worker(connection, new.run_id)?;
    let last_seen = connection
        .query_row(
            "SELECT steps_seen, tokens_seen FROM run_assessments WHERE run_id = ?1 ORDER BY id DESC LIMIT 1",
            params![run.id.get()],
            |row| {
                Ok(Progress {
                    steps: u32::try_from(row.get::<_, i64>(0)?).unwrap_or(u32::MAX),
                    tokens: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
                })
            },
        )
        .optional()?;
    decide::check_new(&run, &new, last_seen)?;
    let id: i64 = connection.query_row(
        "INSERT INTO run_assessments (user_id, run_id, agent_id, steps_seen, tokens_seen, alignment, drift_reason, \
             recommended, intervention, status, message, needs_person, model, input_tokens, output_tokens, cost_usd, \
             created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) RETURNING id",
        params![
            run.user_id.get(),
            run.id.get(),
            run.agent_id.get(),
            i64::from(new.progress.steps),
            i64::try_from(new.progress.tokens).unwrap_or(i64::MAX),
            new.verdict.alignment,
            new.verdict.drift_reason,
            new.verdict.intervention.as_str(),
            new.decision.intervention.as_str(),
            new.decision.status.as_str(),
            new.decision.message,
            new.decision.needs_person,
            new.model,
            i64::try_from(new.input_tokens).unwrap_or(i64::MAX),
            i64::try_from(new.output_tokens).unwrap_or(i64::MAX),
            new.cost_usd,
            to_micros(now),
        ],
        |row| row.get(0),
    )?;
    let stored = connection.query_row(
        &format!("SELECT {COLUMNS} FROM run_assessments WHERE id = ?1"),
        params![id],
        assessment,
    )?;
    append(connection, effects, run.user_id, now, decide::assessed_event(&stored))?;
    Ok(stored)
}

fn apply(
    connection: &Connection,
    effects: &mut crate::sqlite::writer::Effects,
    user: UserId,
    run: RunId,
    chosen: Option<AssessmentId>,
    intervention: Intervention,
    now: DateTime<Utc>,
) -> Result<Assessment> {
    let current = crate::runs::sqlite::load(connection, user, run)?;
    let (id, intervention, status) = decide::person_applies(&current, &of_run(connection, run)?, chosen, intervention)?;
    connection.execute(
        "UPDATE run_assessments SET intervention = ?1, status = ?2 WHERE id = ?3",
        params![intervention.as_str(), status.as_str(), id.get()],
    )?;
    let stored = connection.query_row(
        &format!("SELECT {COLUMNS} FROM run_assessments WHERE id = ?1"),
        params![id.get()],
        assessment,
    )?;
    append(connection, effects, user, now, decide::assessed_event(&stored))?;
    if status == AssessmentStatus::Applied {
        crate::runs::sqlite::cancel(connection, effects, user, run, now)?;
    }
    Ok(stored)
}

fn deliver(connection: &Connection, run: RunId, before_step: u32) -> Result<DeliveredInterventions> {
    let all = of_run(connection, run)?;
    let mut delivered = DeliveredInterventions::default();
    for mut assessment in all {
        if decide::deliverable(&assessment) {
            connection.execute(
                "UPDATE run_assessments SET status = 'delivered', delivered_before_step = ?1 WHERE id = ?2",
                params![i64::from(before_step), assessment.id.get()],
            )?;
            assessment.status = AssessmentStatus::Delivered;
            assessment.delivered_before_step = Some(before_step);
            delivered.now.push(assessment);
        } else if decide::delivered(&assessment) {
            delivered.earlier.push(assessment);
        }
    }
    Ok(delivered)
}

fn liveness_facts(connection: &Connection, user: UserId) -> Result<BTreeMap<AgentId, LivenessFacts>> {
    let mut facts: BTreeMap<AgentId, LivenessFacts> = BTreeMap::new();
    let mut running = connection.prepare_cached(
        "SELECT runs.agent_id, jobs.lease_expires_at, runs.updated_at FROM runs \
         LEFT JOIN jobs ON jobs.id = runs.job_id AND jobs.state = 'running' \
         WHERE runs.user_id = ?1 AND runs.status = 'running'",
    )?;
    let rows = running.query_map(params![user.get()], |row| {
        Ok((AgentId(row.get(0)?), row.get::<_, Option<i64>>(1)?, row.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (agent, lease, progress) = row?;
        facts
            .entry(agent)
            .or_default()
            .running
            .push(WorkingRun { lease_expires_at: lease.map(from_micros), last_progress_at: from_micros(progress) });
    }
    let mut finished = connection.prepare_cached(
        "SELECT agent_id, outcome, finished_at FROM runs WHERE id IN \
             (SELECT max(id) FROM runs WHERE user_id = ?1 AND status = 'finished' GROUP BY agent_id)",
    )?;
    let rows = finished.query_map(params![user.get()], |row| {
        Ok((AgentId(row.get(0)?), parsed::<RunOutcome>(row, 1)?, row.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (agent, outcome, at) = row?;
        facts.entry(agent).or_default().last_finished = Some((outcome, from_micros(at)));
    }
    Ok(facts)
}

const DUPLICATE_COLUMNS: &str = "id, user_id, kind, project_id, first_ref, second_ref, first_title, second_title, \
     similarity, method, status, kept_ref, created_at, decided_at, text_similarity, embedding_similarity";

fn duplicate(row: &Row<'_>) -> rusqlite::Result<Duplicate> {
    Ok(Duplicate {
        id: DuplicateId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        kind: parsed(row, 2)?,
        project_id: row.get::<_, Option<i64>>(3)?.map(ProjectId),
        first: row.get(4)?,
        second: row.get(5)?,
        first_title: row.get(6)?,
        second_title: row.get(7)?,
        similarity: row.get(8)?,
        method: row.get(9)?,
        status: parsed(row, 10)?,
        kept: row.get(11)?,
        created_at: from_micros(row.get(12)?),
        decided_at: row.get::<_, Option<i64>>(13)?.map(from_micros),
        text_similarity: row.get(14)?,
        embedding_similarity: row.get(15)?,
    })
}

pub(crate) fn load_duplicate(connection: &Connection, user: UserId, id: DuplicateId) -> Result<Duplicate> {
    connection
        .query_row(
            &format!("SELECT {DUPLICATE_COLUMNS} FROM duplicates WHERE id = ?1 AND user_id = ?2"),
            params![id.get(), user.get()],
            duplicate,
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found(Entity::Duplicate, id))
}

fn flag(
    connection: &Connection,
    effects: &mut crate::sqlite::writer::Effects,
    user: UserId,
    pairs: Vec<NewDuplicate>,
    now: DateTime<Utc>,
) -> Result<Vec<Duplicate>> {
    let mut flagged = Vec::new();
    for pair in pairs {
        let id: Option<i64> = connection
            .query_row(
                "INSERT INTO duplicates (user_id, kind, project_id, first_ref, second_ref, first_title, second_title, \
                     similarity, method, status, created_at, text_similarity, embedding_similarity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10, ?11, ?12) \
                 ON CONFLICT (user_id, kind, first_ref, second_ref) DO NOTHING RETURNING id",
                params![
                    user.get(),
                    pair.kind.as_str(),
                    pair.project_id.map(ProjectId::get),
                    pair.first,
                    pair.second,
                    pair.first_title,
                    pair.second_title,
                    pair.similarity,
                    pair.method,
                    to_micros(now),
                    pair.text_similarity,
                    pair.embedding_similarity,
                ],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(id) = id {
            let stored = load_duplicate(connection, user, DuplicateId(id))?;
            append(connection, effects, user, now, decide::duplicate_event(&stored))?;
            flagged.push(stored);
        }
    }
    Ok(flagged)
}

pub(crate) fn decide_one(
    connection: &Connection,
    effects: &mut crate::sqlite::writer::Effects,
    user: UserId,
    id: DuplicateId,
    kept: Option<String>,
    now: DateTime<Utc>,
) -> Result<Duplicate> {
    let current = load_duplicate(connection, user, id)?;
    let status = decide::decide_duplicate(&current, kept.as_deref())?;
    connection.execute(
        "UPDATE duplicates SET status = ?1, kept_ref = ?2, decided_at = ?3 WHERE id = ?4",
        params![status.as_str(), kept, to_micros(now), id.get()],
    )?;
    let stored = load_duplicate(connection, user, id)?;
    append(connection, effects, user, now, decide::duplicate_event(&stored))?;
    Ok(stored)
}

fn record_call(connection: &Connection, user: UserId, call: &NewOversightCall, now: DateTime<Utc>) -> Result<()> {
    let owned: Option<i64> = connection
        .query_row(
            "SELECT id FROM agents WHERE id = ?1 AND user_id = ?2",
            params![call.agent_id.get(), user.get()],
            |row| row.get(0),
        )
        .optional()?;
    if owned.is_none() {
        return Err(StoreError::not_found(Entity::Agent, call.agent_id));
    }
    connection.execute(
        "INSERT INTO oversight_calls (user_id, agent_id, purpose, subject, outcome, model, input_tokens, \
             output_tokens, cost_usd, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            user.get(),
            call.agent_id.get(),
            call.purpose.as_str(),
            call.subject,
            call.outcome,
            call.model,
            i64::try_from(call.input_tokens).unwrap_or(i64::MAX),
            i64::try_from(call.output_tokens).unwrap_or(i64::MAX),
            call.cost_usd,
            to_micros(now),
        ],
    )?;
    Ok(())
}

#[async_trait]
impl OversightStore for SqliteStore {
    async fn record_oversight_call(&self, user: UserId, call: NewOversightCall) -> Result<()> {
        let now = self.now();
        self.writer.write(move |connection, _effects| record_call(connection, user, &call, now)).await
    }

    async fn oversight_outcomes(
        &self,
        user: UserId,
        purpose: OversightCallPurpose,
    ) -> Result<BTreeMap<String, String>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(
                    "SELECT subject, outcome FROM oversight_calls WHERE user_id = ?1 AND purpose = ?2 ORDER BY id",
                )?;
                let rows = statement.query_map(params![user.get(), purpose.as_str()], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn flag_duplicates(&self, user: UserId, pairs: Vec<NewDuplicate>) -> Result<Vec<Duplicate>> {
        let now = self.now();
        self.writer.write(move |connection, effects| flag(connection, effects, user, pairs, now)).await
    }

    async fn list_duplicates(&self, user: UserId, status: Option<DuplicateStatus>) -> Result<Vec<Duplicate>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {DUPLICATE_COLUMNS} FROM duplicates WHERE user_id = ?1 AND (?2 IS NULL OR status = ?2) \
                     ORDER BY id DESC"
                ))?;
                let rows = statement.query_map(params![user.get(), status.map(DuplicateStatus::as_str)], duplicate)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    async fn get_duplicate(&self, user: UserId, id: DuplicateId) -> Result<Duplicate> {
        self.readers.read(move |connection| load_duplicate(connection, user, id)).await
    }

    async fn decide_duplicate(&self, user: UserId, id: DuplicateId, kept: Option<String>) -> Result<Duplicate> {
        let now = self.now();
        self.writer.write(move |connection, effects| decide_one(connection, effects, user, id, kept, now)).await
    }

    async fn liveness_facts(&self, user: UserId) -> Result<BTreeMap<AgentId, LivenessFacts>> {
        self.readers.read(move |connection| liveness_facts(connection, user)).await
    }

    async fn guardian_candidates(&self, started_before: DateTime<Utc>) -> Result<Vec<GuardianCandidate>> {
        self.readers.read(move |connection| candidates(connection, started_before)).await
    }

    async fn record_assessment(&self, new: NewAssessment) -> Result<Assessment> {
        let now = self.now();
        self.writer.write(move |connection, effects| record(connection, effects, new, now)).await
    }

    async fn list_assessments(&self, user: UserId, run: RunId) -> Result<Vec<Assessment>> {
        self.readers
            .read(move |connection| {
                crate::runs::sqlite::load(connection, user, run)?;
                of_run(connection, run)
            })
            .await
    }

    async fn apply_intervention(
        &self,
        user: UserId,
        run: RunId,
        assessment: Option<AssessmentId>,
        intervention: Intervention,
    ) -> Result<Assessment> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| apply(connection, effects, user, run, assessment, intervention, now))
            .await
    }

    async fn deliver_interventions(&self, run: RunId, before_step: u32) -> Result<DeliveredInterventions> {
        // Most runs are never assessed: a read answers them without a write.
        let assessments = self.readers.read(move |connection| of_run(connection, run)).await?;
        if !assessments.iter().any(decide::deliverable) {
            let earlier = assessments.into_iter().filter(decide::delivered).collect();
            return Ok(DeliveredInterventions { earlier, now: Vec::new() });
        }
        self.writer.write(move |connection, _effects| deliver(connection, run, before_step)).await
    }
}
