//! Projects and ideas on PostgreSQL: the same behaviour as on SQLite, each
//! operation one transaction (run again on a transient failure), the
//! project row locked first so two decisions on one gate serialise. JSON
//! columns are read as text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use std::collections::BTreeMap;
use steward_domain::oversight::GuardianOverride;
use steward_domain::project::idea::IdeaPatch;
use steward_domain::project::work::PlannedTaskJob;
use steward_domain::project::{
    DiscoveredTask, DocumentStatus, GateDecision, Idea, IdeaState, NewIdea, NewProject, Phase, PhaseDocument, Project,
    ProjectPatch, ProjectTask, QuickDocuments, StoredDocument, TaskState,
};

use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::{AgentId, DuplicateId, IdeaId, JobId, JobState, NewEvent, ProjectId, RunId, UserId};

use crate::jobs::postgres::enqueue;
use crate::postgres::PostgresStore;
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::projects::decide::{self, DocumentRow, IdeaRow, PlannedTask, ProjectRow, TaskRow};
use crate::projects::{ProjectRecord, ProjectStore, TaskUpdate};
use crate::{Entity, Result, StoreError};

mod edit;
mod failures;
pub(crate) mod gate;
mod quick;
mod settings;

macro_rules! ideas {
    ($filter:literal) => {
        concat!("SELECT id, user_id, title, notes, state, project_id, created_at, updated_at FROM ideas ", $filter)
    };
}

macro_rules! projects {
    ($filter:literal) => {
        concat!(
            "SELECT id, user_id, title, brief, repository, phase, gates::text, parallel_limit, layout, idea_id, ",
            "agent_id, validator_id, max_rounds, failure, created_at, updated_at, discovered_tasks, checks::text, quick, ",
            "guardian::text FROM projects ",
            $filter
        )
    };
}

fn idea_row(row: &PgRow) -> Result<Idea> {
    IdeaRow {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        title: row.try_get(2)?,
        notes: row.try_get(3)?,
        state: row.try_get(4)?,
        project_id: row.try_get(5)?,
        created_at: row.try_get(6)?,
        updated_at: row.try_get(7)?,
    }
    .into_idea()
}

fn project_row(row: &PgRow) -> Result<Project> {
    ProjectRow {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        title: row.try_get(2)?,
        brief: row.try_get(3)?,
        repository: row.try_get(4)?,
        phase: row.try_get(5)?,
        gates: row.try_get(6)?,
        parallel_limit: row.try_get(7)?,
        layout: row.try_get(8)?,
        idea_id: row.try_get(9)?,
        agent_id: row.try_get(10)?,
        validator_id: row.try_get(11)?,
        max_rounds: row.try_get(12)?,
        failure: row.try_get(13)?,
        created_at: row.try_get(14)?,
        updated_at: row.try_get(15)?,
        discovered_tasks: row.try_get(16)?,
        checks: row.try_get(17)?,
        quick: row.try_get(18)?,
        guardian: row.try_get(19)?,
    }
    .into_project()
}

async fn load_idea(connection: &mut PgConnection, user: UserId, id: IdeaId) -> Result<Idea> {
    let found = sqlx::query(ideas!("WHERE user_id = $1 AND id = $2"))
        .bind(user.get())
        .bind(id.get())
        .fetch_optional(connection)
        .await?;
    idea_row(&found.ok_or_else(|| StoreError::not_found(Entity::Idea, id))?)
}

/// The project, its row locked when `lock` (writers take the lock first).
async fn load_project(connection: &mut PgConnection, user: UserId, id: ProjectId, lock: bool) -> Result<Project> {
    let statement = if lock {
        projects!("WHERE user_id = $1 AND id = $2 FOR UPDATE")
    } else {
        projects!("WHERE user_id = $1 AND id = $2")
    };
    let found = sqlx::query(statement).bind(user.get()).bind(id.get()).fetch_optional(connection).await?;
    project_row(&found.ok_or_else(|| StoreError::not_found(Entity::Project, id))?)
}

async fn documents(connection: &mut PgConnection, project: ProjectId) -> Result<Vec<StoredDocument>> {
    let rows = sqlx::query(
        "SELECT project_id, phase, version, status, document::text, comment, created_at, decided_at \
         FROM project_documents WHERE project_id = $1 ORDER BY id",
    )
    .bind(project.get())
    .fetch_all(connection)
    .await?;
    rows.iter()
        .map(|row| {
            DocumentRow {
                project_id: row.try_get(0)?,
                phase: row.try_get(1)?,
                version: row.try_get(2)?,
                status: row.try_get(3)?,
                document: row.try_get(4)?,
                comment: row.try_get(5)?,
                created_at: row.try_get(6)?,
                decided_at: row.try_get(7)?,
            }
            .into_document()
        })
        .collect()
}

async fn tasks(connection: &mut PgConnection, project: ProjectId) -> Result<Vec<ProjectTask>> {
    let rows = sqlx::query(
        "SELECT project_id, spec::text, state, rounds, feedback, job_id, run_id, updated_at, replans FROM \
         project_tasks WHERE project_id = $1 ORDER BY position",
    )
    .bind(project.get())
    .fetch_all(connection)
    .await?;
    rows.iter()
        .map(|row| {
            TaskRow {
                project_id: row.try_get(0)?,
                spec: row.try_get(1)?,
                state: row.try_get(2)?,
                rounds: row.try_get(3)?,
                feedback: row.try_get(4)?,
                job_id: row.try_get(5)?,
                run_id: row.try_get(6)?,
                updated_at: row.try_get(7)?,
                replans: row.try_get(8)?,
            }
            .into_task()
        })
        .collect()
}

async fn record(connection: &mut PgConnection, user: UserId, id: ProjectId) -> Result<ProjectRecord> {
    Ok(ProjectRecord {
        project: load_project(connection, user, id, false).await?,
        documents: documents(connection, id).await?,
        tasks: tasks(connection, id).await?,
    })
}

async fn set_idea(
    connection: &mut PgConnection,
    idea: &Idea,
    notes: &str,
    state: IdeaState,
    project: Option<ProjectId>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE ideas SET notes = $2, state = $3, project_id = $4, updated_at = $5 WHERE id = $1")
        .bind(idea.id.get())
        .bind(notes)
        .bind(state.as_str())
        .bind(project.or(idea.project_id).map(ProjectId::get))
        .bind(now)
        .execute(connection)
        .await?;
    Ok(())
}

async fn enter_phase(transaction: &mut Transaction, project: &Project, to: Phase, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE projects SET phase = $2, updated_at = $3 WHERE id = $1")
        .bind(project.id.get())
        .bind(to.as_str())
        .bind(now)
        .execute(transaction.connection())
        .await?;
    transaction.record(
        project.user_id,
        now,
        NewEvent::ProjectPhaseEntered { project: project.id, from: project.phase, to },
    );
    Ok(())
}

async fn write_tasks(
    transaction: &mut Transaction,
    project: &Project,
    planned: &[PlannedTask],
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("DELETE FROM project_tasks WHERE project_id = $1")
        .bind(project.id.get())
        .execute(transaction.connection())
        .await?;
    for (position, task) in planned.iter().enumerate() {
        sqlx::query(
            "INSERT INTO project_tasks (user_id, project_id, task_key, position, spec, state, rounds, feedback, \
             job_id, run_id, updated_at, replans) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(project.user_id.get())
        .bind(project.id.get())
        .bind(&task.spec.id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(decide::spec_text(&task.spec)?)
        .bind(task.state.as_str())
        .bind(i64::from(task.rounds))
        .bind(&task.feedback)
        .bind(task.job_id.map(JobId::get))
        .bind(task.run_id.map(RunId::get))
        .bind(now)
        .bind(i64::from(task.replans))
        .execute(transaction.connection())
        .await?;
        if let Some(event) = decide::task_event(project.id, task) {
            transaction.record(project.user_id, now, event);
        }
    }
    Ok(())
}

async fn insert_document(
    transaction: &mut Transaction,
    project: &Project,
    document: &PhaseDocument,
    version: u32,
    status: DocumentStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO project_documents (user_id, project_id, phase, version, status, document, created_at, \
         decided_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)",
    )
    .bind(project.user_id.get())
    .bind(project.id.get())
    .bind(document.phase().as_str())
    .bind(i64::from(version))
    .bind(status.as_str())
    .bind(decide::document_text(document)?)
    .bind(now)
    .bind((status != DocumentStatus::Proposed).then_some(now))
    .execute(transaction.connection())
    .await?;
    Ok(())
}

async fn approved(
    transaction: &mut Transaction,
    project: &Project,
    document: &PhaseDocument,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    if let PhaseDocument::Tasks(list) = document {
        let planned = decide::plan_tasks(&tasks(transaction.connection(), project.id).await?, &list.tasks, &[]);
        write_tasks(transaction, project, &planned, now).await?;
    }
    let next = project.phase.next();
    enter_phase(transaction, project, next, now).await?;
    ask_agent(transaction, project, next, now).await
}

/// Queues the job asking the project's agent for `phase`'s next document, if it has an agent.
async fn ask_agent(
    transaction: &mut Transaction,
    project: &Project,
    phase: Phase,
    now: DateTime<Utc>,
) -> TransactionResult<()> {
    let documents = documents(transaction.connection(), project.id).await?;
    if let Some(job) = decide::document_job(project, &documents, phase) {
        enqueue::enqueue(transaction, project.user_id, vec![job], now).await?;
    }
    Ok(())
}

async fn create_project(
    transaction: &mut Transaction,
    user: UserId,
    new: &NewProject,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectRecord> {
    new.validate()?;
    let idea = match new.idea_id {
        Some(id) => Some(load_idea(transaction.connection(), user, id).await?),
        None => None,
    };
    decide::check_promotion(idea.as_ref())?;
    for (field, agent) in [("agent_id", new.agent_id), ("validator_id", new.validator_id)] {
        let Some(agent) = agent else { continue };
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM agents WHERE user_id = $1 AND id = $2")
            .bind(user.get())
            .bind(agent.get())
            .fetch_optional(transaction.connection())
            .await?;
        decide::check_agent(field, agent, found.is_some())?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (user_id, title, brief, repository, phase, gates, parallel_limit, layout, idea_id, \
         agent_id, validator_id, max_rounds, created_at, updated_at, discovered_tasks, checks, quick, guardian) \
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15::jsonb, $16, $17::jsonb) \
         RETURNING id",
    )
    .bind(user.get())
    .bind(new.title.trim())
    .bind(&new.brief)
    .bind(&new.repository)
    .bind(new.starting_phase().as_str())
    .bind(decide::gates_text(&new.gates)?)
    .bind(i64::from(new.parallel_limit))
    .bind(new.layout.as_str())
    .bind(new.idea_id.map(IdeaId::get))
    .bind(new.agent_id.map(AgentId::get))
    .bind(new.validator_id.map(AgentId::get))
    .bind(i64::from(new.max_rounds))
    .bind(now)
    .bind(new.discovered_tasks.as_str())
    .bind(serde_json::to_string(&new.checks)?)
    .bind(new.quick)
    .bind(serde_json::to_string(&new.guardian)?)
    .fetch_one(transaction.connection())
    .await?;
    let project = load_project(transaction.connection(), user, ProjectId(id), false).await?;
    transaction.record(user, now, decide::created_event(&project, new));
    for document in &new.documents {
        insert_document(transaction, &project, document, 1, DocumentStatus::Approved, now).await?;
        if let PhaseDocument::Tasks(list) = document {
            let planned = decide::plan_tasks(&[], &list.tasks, &new.done_tasks);
            write_tasks(transaction, &project, &planned, now).await?;
        }
    }
    if let Some(idea) = idea {
        set_idea(transaction.connection(), &idea, &idea.notes, IdeaState::Promoted, Some(project.id), now).await?;
        transaction.record(user, now, decide::idea_event(&idea, IdeaState::Promoted, Some(project.id)));
    }
    ask_agent(transaction, &project, project.phase, now).await?;
    Ok(record(transaction.connection(), user, project.id).await?)
}

async fn propose(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    document: &PhaseDocument,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectRecord> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    let proposal = decide::proposal(&project, &documents(transaction.connection(), id).await?, document)?;
    insert_document(transaction, &project, document, proposal.version, proposal.status, now).await?;
    sqlx::query("UPDATE projects SET failure = NULL WHERE id = $1")
        .bind(id.get())
        .execute(transaction.connection())
        .await?;
    let (phase, version) = (project.phase, proposal.version);
    transaction.record(user, now, NewEvent::ProjectDocumentProposed { project: id, phase, version });
    if proposal.status == DocumentStatus::Approved {
        let status = proposal.status;
        transaction.record(
            user,
            now,
            NewEvent::ProjectDocumentDecided { project: id, phase, version, status, comment: None },
        );
        approved(transaction, &project, document, now).await?;
    } else {
        let request = crate::projects::gate::request(&project, phase, version, false);
        gate::request(transaction, &project, &request, now).await?;
    }
    Ok(record(transaction.connection(), user, id).await?)
}

async fn update_task(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    key: &str,
    update: &TaskUpdate,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectTask> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    let all = tasks(transaction.connection(), id).await?;
    let task = all
        .iter()
        .find(|task| task.spec.id == key)
        .ok_or_else(|| StoreError::not_found(Entity::ProjectTask, format!("{id}/{key}")))?;
    decide::check_replans(task, update.replans)?;
    decide::check_task_move(task, update.state)?;
    if task.state == TaskState::Pending && update.state == TaskState::Running {
        decide::check_may_start(&project, &all, key)?;
    }
    let rounds = task.rounds + u32::from(update.sent_back);
    sqlx::query(
        "UPDATE project_tasks SET state = $3, rounds = $4, feedback = coalesce($5, feedback), \
         job_id = coalesce($6, job_id), run_id = coalesce($8, run_id), updated_at = $7 \
         WHERE project_id = $1 AND task_key = $2",
    )
    .bind(id.get())
    .bind(key)
    .bind(update.state.as_str())
    .bind(i64::from(rounds))
    .bind(&update.feedback)
    .bind(update.job_id.map(JobId::get))
    .bind(now)
    .bind(update.run_id.map(RunId::get))
    .execute(transaction.connection())
    .await?;
    let (from, to) = (Some(task.state), update.state);
    transaction.record(
        user,
        now,
        NewEvent::ProjectTaskChanged { project: id, task: key.to_string(), from, to, rounds },
    );
    let all_done = all
        .iter()
        .all(|other| if other.spec.id == key { to == TaskState::Done } else { other.state == TaskState::Done });
    if all_done && project.phase == Phase::Execution {
        enter_phase(transaction, &project, Phase::Done, now).await?;
    }
    let after = tasks(transaction.connection(), id).await?;
    Ok(after
        .into_iter()
        .find(|task| task.spec.id == key)
        .ok_or_else(|| StoreError::not_found(Entity::ProjectTask, key))?)
}

/// The state of each task's job that still exists.
async fn job_states(connection: &mut PgConnection, all: &[ProjectTask]) -> Result<BTreeMap<JobId, JobState>> {
    let ids: Vec<i64> = all.iter().filter_map(|task| task.job_id.map(JobId::get)).collect();
    let rows =
        sqlx::query("SELECT id, state::text FROM jobs WHERE id = ANY($1)").bind(&ids).fetch_all(connection).await?;
    let mut job_states = BTreeMap::new();
    for row in &rows {
        let state: String = row.try_get(1)?;
        let state = state.parse::<JobState>().map_err(|error| decide::damaged("job state", error))?;
        job_states.insert(JobId(row.try_get(0)?), state);
    }
    Ok(job_states)
}

/// Queues the jobs of `planned` tasks and records each on its task.
async fn queue_task_jobs(
    transaction: &mut Transaction,
    project: &Project,
    planned: Vec<PlannedTaskJob>,
    now: DateTime<Utc>,
) -> TransactionResult<Vec<String>> {
    let names: Vec<String> = planned.iter().map(|planned| planned.task.clone()).collect();
    let jobs = planned.into_iter().map(|planned| planned.job).collect();
    let outcomes = enqueue::enqueue(transaction, project.user_id, jobs, now).await?;
    for (task, outcome) in names.iter().zip(&outcomes) {
        sqlx::query("UPDATE project_tasks SET job_id = $3, updated_at = $4 WHERE project_id = $1 AND task_key = $2")
            .bind(project.id.get())
            .bind(task)
            .bind(outcome.job.id.get())
            .bind(now)
            .execute(transaction.connection())
            .await?;
    }
    Ok(names)
}

async fn add_task(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    discovered: &DiscoveredTask,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectRecord> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    let all_documents = documents(transaction.connection(), id).await?;
    let decide::Discovery::Added { document, version, spec } = decide::discovery(&project, &all_documents, discovered)?
    else {
        return Ok(record(transaction.connection(), user, id).await?);
    };
    let document = PhaseDocument::Tasks(*document);
    insert_document(transaction, &project, &document, version, DocumentStatus::Approved, now).await?;
    let existing = tasks(transaction.connection(), id).await?;
    write_tasks(transaction, &project, &decide::rows_with_added(&existing, &spec), now).await?;
    let event = NewEvent::ProjectTaskDiscovered {
        project: id,
        task: spec.id.clone(),
        from_task: discovered.from_task.clone(),
        reason: discovered.reason.trim().to_string(),
    };
    transaction.record(user, now, event);
    if project.phase == Phase::Done {
        enter_phase(transaction, &project, Phase::Execution, now).await?;
    }
    if project.agent_id.is_some() {
        let all = tasks(transaction.connection(), id).await?;
        let states = job_states(transaction.connection(), &all).await?;
        let mut planned = decide::execution_jobs(id, &all, &states);
        planned.retain(|planned| planned.task == spec.id);
        queue_task_jobs(transaction, &project, planned, now).await?;
    }
    Ok(record(transaction.connection(), user, id).await?)
}

async fn task_of_run(connection: &mut PgConnection, user: UserId, run: RunId) -> Result<Option<(Project, String)>> {
    let found: Option<(i64, String)> =
        sqlx::query_as("SELECT project_id, task_key FROM project_tasks WHERE user_id = $1 AND run_id = $2")
            .bind(user.get())
            .bind(run.get())
            .fetch_optional(&mut *connection)
            .await?;
    let Some((project, task)) = found else { return Ok(None) };
    Ok(Some((load_project(connection, user, ProjectId(project), false).await?, task)))
}

async fn start_execution(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    now: DateTime<Utc>,
) -> TransactionResult<ProjectRecord> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    decide::check_execution(&project)?;
    let all = tasks(transaction.connection(), id).await?;
    let states = job_states(transaction.connection(), &all).await?;
    let planned = decide::execution_jobs(id, &all, &states);
    if planned.is_empty() {
        return Ok(record(transaction.connection(), user, id).await?);
    }
    let names = queue_task_jobs(transaction, &project, planned, now).await?;
    transaction.record(user, now, NewEvent::ProjectExecutionStarted { project: id, tasks: names });
    Ok(record(transaction.connection(), user, id).await?)
}

#[async_trait]
impl ProjectStore for PostgresStore {
    async fn create_idea(&self, user: UserId, idea: NewIdea) -> Result<Idea> {
        idea.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let idea = idea.clone();
            Box::pin(async move {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO ideas (user_id, title, notes, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'new', $4, $4) RETURNING id",
                )
                .bind(user.get())
                .bind(idea.title.trim())
                .bind(&idea.notes)
                .bind(now)
                .fetch_one(transaction.connection())
                .await?;
                let created = load_idea(transaction.connection(), user, IdeaId(id)).await?;
                transaction.record(
                    user,
                    now,
                    NewEvent::IdeaCaptured { idea: created.id, title: created.title.clone() },
                );
                Ok(created)
            })
        })
        .await
    }

    async fn get_idea(&self, user: UserId, id: IdeaId) -> Result<Idea> {
        load_idea(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn list_ideas(&self, user: UserId) -> Result<Vec<Idea>> {
        let rows =
            sqlx::query(ideas!("WHERE user_id = $1 ORDER BY id DESC")).bind(user.get()).fetch_all(&self.pool).await?;
        rows.iter().map(idea_row).collect()
    }

    async fn update_idea(&self, user: UserId, id: IdeaId, patch: IdeaPatch) -> Result<Idea> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let patch = patch.clone();
            Box::pin(async move {
                let idea = load_idea(transaction.connection(), user, id).await?;
                decide::check_idea_patch(&idea, &patch)?;
                let state = patch.state.unwrap_or(idea.state);
                let notes = patch.notes.as_deref().unwrap_or(&idea.notes);
                set_idea(transaction.connection(), &idea, notes, state, None, now).await?;
                transaction.record(user, now, decide::idea_event(&idea, state, None));
                Ok(load_idea(transaction.connection(), user, id).await?)
            })
        })
        .await
    }

    async fn create_project(&self, user: UserId, project: NewProject) -> Result<ProjectRecord> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let project = project.clone();
            Box::pin(async move { create_project(transaction, user, &project, now).await })
        })
        .await
    }

    async fn get_project(&self, user: UserId, id: ProjectId) -> Result<ProjectRecord> {
        record(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn list_projects(&self, user: UserId) -> Result<Vec<Project>> {
        let rows = sqlx::query(projects!("WHERE user_id = $1 ORDER BY id DESC"))
            .bind(user.get())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(project_row).collect()
    }

    async fn propose_quick(&self, user: UserId, id: ProjectId, documents: QuickDocuments) -> Result<ProjectRecord> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let documents = documents.clone();
            Box::pin(async move { quick::propose_quick(transaction, user, id, documents, now).await })
        })
        .await
    }

    async fn update_project(&self, user: UserId, id: ProjectId, patch: ProjectPatch) -> Result<Project> {
        patch.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let patch = patch.clone();
            Box::pin(async move { settings::update(transaction, user, id, &patch, now).await })
        })
        .await
    }

    async fn propose_document(&self, user: UserId, id: ProjectId, document: PhaseDocument) -> Result<ProjectRecord> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let document = document.clone();
            Box::pin(async move { propose(transaction, user, id, &document, now).await })
        })
        .await
    }

    async fn decide_document(&self, user: UserId, id: ProjectId, decision: GateDecision) -> Result<ProjectRecord> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let decision = decision.clone();
            Box::pin(async move { gate::decide_document(transaction, user, id, &decision, None, now).await })
        })
        .await
    }

    async fn edit_document(&self, user: UserId, id: ProjectId, document: PhaseDocument) -> Result<ProjectRecord> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let document = document.clone();
            Box::pin(async move { edit::edit_document(transaction, user, id, &document, now).await })
        })
        .await
    }

    async fn merge_duplicate_tasks(&self, user: UserId, duplicate: DuplicateId, kept: &str) -> Result<Duplicate> {
        let (now, kept) = (self.now(), kept.to_string());
        self.write(Begin::Plain, |transaction| {
            let kept = kept.clone();
            Box::pin(async move { edit::merge_duplicate_tasks(transaction, user, duplicate, &kept, now).await })
        })
        .await
    }

    async fn add_task(&self, user: UserId, id: ProjectId, discovered: DiscoveredTask) -> Result<ProjectRecord> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let discovered = discovered.clone();
            Box::pin(async move { add_task(transaction, user, id, &discovered, now).await })
        })
        .await
    }

    async fn task_of_run(&self, user: UserId, run: RunId) -> Result<Option<(Project, String)>> {
        task_of_run(&mut *self.pool.acquire().await?, user, run).await
    }

    async fn update_task(&self, user: UserId, id: ProjectId, task: &str, update: TaskUpdate) -> Result<ProjectTask> {
        let now = self.now();
        let task = task.to_string();
        self.write(Begin::Plain, |transaction| {
            let (task, update) = (task.clone(), update.clone());
            Box::pin(async move { update_task(transaction, user, id, &task, &update, now).await })
        })
        .await
    }

    async fn record_agent_failure(&self, user: UserId, id: ProjectId, phase: Phase, reason: &str) -> Result<()> {
        let now = self.now();
        let reason = reason.to_string();
        self.write(Begin::Plain, |transaction| {
            let reason = reason.clone();
            Box::pin(async move { failures::record_agent_failure(transaction, user, id, phase, &reason, now).await })
        })
        .await
    }

    async fn record_document_refused(
        &self,
        user: UserId,
        id: ProjectId,
        phase: Phase,
        attempt: u32,
        problem: &str,
    ) -> Result<()> {
        let now = self.now();
        let problem = problem.to_string();
        self.write(Begin::Plain, |transaction| {
            let problem = problem.clone();
            Box::pin(async move {
                failures::record_document_refused(transaction, user, id, phase, attempt, &problem, now).await
            })
        })
        .await
    }

    async fn start_execution(&self, user: UserId, id: ProjectId) -> Result<ProjectRecord> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move { start_execution(transaction, user, id, now).await })
        })
        .await
    }

    async fn set_project_guardian(&self, user: UserId, id: ProjectId, guardian: GuardianOverride) -> Result<Project> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move { settings::set_guardian(transaction, user, id, guardian, now).await })
        })
        .await
    }
}
