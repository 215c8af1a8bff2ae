//! Projects and ideas on SQLite: each operation one transaction on the
//! writer thread, the rules from `decide.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
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

use crate::events::sqlite::append;
use crate::jobs::sqlite::enqueue;
use crate::projects::decide::{self, DocumentRow, IdeaRow, PlannedTask, ProjectRow, TaskRow};
use crate::projects::{ProjectRecord, ProjectStore, TaskUpdate};
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

mod edit;
mod failures;
pub(crate) mod gate;
mod quick;

const IDEA_COLUMNS: &str = "id, user_id, title, notes, state, project_id, created_at, updated_at";
const PROJECT_COLUMNS: &str = "id, user_id, title, brief, repository, phase, gates, parallel_limit, layout, idea_id, \
     agent_id, validator_id, max_rounds, failure, created_at, updated_at, discovered_tasks, checks, quick, \
     guardian";

fn idea_row(row: &Row<'_>) -> rusqlite::Result<IdeaRow> {
    Ok(IdeaRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        title: row.get(2)?,
        notes: row.get(3)?,
        state: row.get(4)?,
        project_id: row.get(5)?,
        created_at: from_micros(row.get(6)?),
        updated_at: from_micros(row.get(7)?),
    })
}

fn project_row(row: &Row<'_>) -> rusqlite::Result<ProjectRow> {
    Ok(ProjectRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        title: row.get(2)?,
        brief: row.get(3)?,
        repository: row.get(4)?,
        phase: row.get(5)?,
        gates: row.get(6)?,
        parallel_limit: row.get(7)?,
        layout: row.get(8)?,
        idea_id: row.get(9)?,
        agent_id: row.get(10)?,
        validator_id: row.get(11)?,
        max_rounds: row.get(12)?,
        failure: row.get(13)?,
        created_at: from_micros(row.get(14)?),
        updated_at: from_micros(row.get(15)?),
        discovered_tasks: row.get(16)?,
        checks: row.get(17)?,
        quick: row.get(18)?,
        guardian: row.get(19)?,
    })
}

fn load_idea(connection: &Connection, user: UserId, id: IdeaId) -> Result<Idea> {
    connection
        .prepare_cached(&format!("SELECT {IDEA_COLUMNS} FROM ideas WHERE user_id = ?1 AND id = ?2"))?
        .query_row(params![user.get(), id.get()], idea_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found(Entity::Idea, id))?
        .into_idea()
}

fn load_project(connection: &Connection, user: UserId, id: ProjectId) -> Result<Project> {
    connection
        .prepare_cached(&format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE user_id = ?1 AND id = ?2"))?
        .query_row(params![user.get(), id.get()], project_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found(Entity::Project, id))?
        .into_project()
}

fn documents(connection: &Connection, project: ProjectId) -> Result<Vec<StoredDocument>> {
    let mut statement = connection.prepare_cached(
        "SELECT project_id, phase, version, status, document, comment, created_at, decided_at \
         FROM project_documents WHERE project_id = ?1 ORDER BY id",
    )?;
    let rows = statement
        .query_map([project.get()], |row| {
            Ok(DocumentRow {
                project_id: row.get(0)?,
                phase: row.get(1)?,
                version: row.get(2)?,
                status: row.get(3)?,
                document: row.get(4)?,
                comment: row.get(5)?,
                created_at: from_micros(row.get(6)?),
                decided_at: row.get::<_, Option<i64>>(7)?.map(from_micros),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(DocumentRow::into_document).collect()
}

fn tasks(connection: &Connection, project: ProjectId) -> Result<Vec<ProjectTask>> {
    let mut statement = connection.prepare_cached(
        "SELECT project_id, spec, state, rounds, feedback, job_id, run_id, updated_at, replans FROM project_tasks \
         WHERE project_id = ?1 ORDER BY position",
    )?;
    let rows = statement
        .query_map([project.get()], |row| {
            Ok(TaskRow {
                project_id: row.get(0)?,
                spec: row.get(1)?,
                state: row.get(2)?,
                rounds: row.get(3)?,
                feedback: row.get(4)?,
                job_id: row.get(5)?,
                run_id: row.get(6)?,
                updated_at: from_micros(row.get(7)?),
                replans: row.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(TaskRow::into_task).collect()
}

fn record(connection: &Connection, user: UserId, id: ProjectId) -> Result<ProjectRecord> {
    Ok(ProjectRecord {
        project: load_project(connection, user, id)?,
        documents: documents(connection, id)?,
        tasks: tasks(connection, id)?,
    })
}

fn set_idea(
    connection: &Connection,
    idea: &Idea,
    notes: &str,
    state: IdeaState,
    project: Option<ProjectId>,
    now: DateTime<Utc>,
) -> Result<()> {
    connection.execute(
        "UPDATE ideas SET notes = ?2, state = ?3, project_id = ?4, updated_at = ?5 WHERE id = ?1",
        params![idea.id.get(), notes, state.as_str(), project.or(idea.project_id).map(ProjectId::get), to_micros(now)],
    )?;
    Ok(())
}

fn enter_phase(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    to: Phase,
    now: DateTime<Utc>,
) -> Result<()> {
    connection.execute(
        "UPDATE projects SET phase = ?2, updated_at = ?3 WHERE id = ?1",
        params![project.id.get(), to.as_str(), to_micros(now)],
    )?;
    append(
        connection,
        effects,
        project.user_id,
        now,
        NewEvent::ProjectPhaseEntered { project: project.id, from: project.phase, to },
    )
}

fn write_tasks(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    planned: &[PlannedTask],
    now: DateTime<Utc>,
) -> Result<()> {
    connection.execute("DELETE FROM project_tasks WHERE project_id = ?1", [project.id.get()])?;
    for (position, task) in planned.iter().enumerate() {
        connection.execute(
            "INSERT INTO project_tasks (user_id, project_id, task_key, position, spec, state, rounds, feedback, job_id, \
             run_id, updated_at, replans) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                project.user_id.get(),
                project.id.get(),
                task.spec.id,
                i64::try_from(position).unwrap_or(i64::MAX),
                decide::spec_text(&task.spec)?,
                task.state.as_str(),
                i64::from(task.rounds),
                task.feedback,
                task.job_id.map(JobId::get),
                task.run_id.map(RunId::get),
                to_micros(now),
                i64::from(task.replans)
            ],
        )?;
        if let Some(event) = decide::task_event(project.id, task) {
            append(connection, effects, project.user_id, now, event)?;
        }
    }
    Ok(())
}

fn insert_document(
    connection: &Connection,
    project: &Project,
    document: &PhaseDocument,
    version: u32,
    status: DocumentStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let decided = (status != DocumentStatus::Proposed).then(|| to_micros(now));
    connection.execute(
        "INSERT INTO project_documents (user_id, project_id, phase, version, status, document, created_at, decided_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            project.user_id.get(),
            project.id.get(),
            document.phase().as_str(),
            i64::from(version),
            status.as_str(),
            decide::document_text(document)?,
            to_micros(now),
            decided
        ],
    )?;
    Ok(())
}

/// After a document is approved: the project enters the next phase, and an
/// approved tasks document re-plans the task rows.
fn approved(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    document: &PhaseDocument,
    done: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    if let PhaseDocument::Tasks(list) = document {
        let planned = decide::plan_tasks(&tasks(connection, project.id)?, &list.tasks, done);
        write_tasks(connection, effects, project, &planned, now)?;
    }
    let next = project.phase.next();
    enter_phase(connection, effects, project, next, now)?;
    ask_agent(connection, effects, project, next, now)
}

/// Queues the job asking the project's agent for `phase`'s next document, if it has an agent.
fn ask_agent(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    phase: Phase,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(job) = decide::document_job(project, &documents(connection, project.id)?, phase) {
        enqueue::enqueue(connection, effects, project.user_id, vec![job], now)?;
    }
    Ok(())
}

fn create_project(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    new: &NewProject,
    now: DateTime<Utc>,
) -> Result<ProjectRecord> {
    new.validate()?;
    let idea = new.idea_id.map(|id| load_idea(connection, user, id)).transpose()?;
    decide::check_promotion(idea.as_ref())?;
    for (field, agent) in [("agent_id", new.agent_id), ("validator_id", new.validator_id)] {
        let Some(agent) = agent else { continue };
        let found: Option<i64> = connection
            .prepare_cached("SELECT id FROM agents WHERE user_id = ?1 AND id = ?2")?
            .query_row(params![user.get(), agent.get()], |row| row.get(0))
            .optional()?;
        decide::check_agent(field, agent, found.is_some())?;
    }
    connection.execute(
        "INSERT INTO projects (user_id, title, brief, repository, phase, gates, parallel_limit, layout, idea_id, \
         agent_id, validator_id, max_rounds, discovered_tasks, checks, quick, guardian, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15, ?16, ?17, ?13, ?13)",
        params![
            user.get(),
            new.title.trim(),
            new.brief,
            new.repository,
            new.starting_phase().as_str(),
            decide::gates_text(&new.gates)?,
            i64::from(new.parallel_limit),
            new.layout.as_str(),
            new.idea_id.map(IdeaId::get),
            new.agent_id.map(AgentId::get),
            new.validator_id.map(AgentId::get),
            i64::from(new.max_rounds),
            to_micros(now),
            new.discovered_tasks.as_str(),
            serde_json::to_string(&new.checks)?,
            new.quick,
            serde_json::to_string(&new.guardian)?
        ],
    )?;
    let project = load_project(connection, user, ProjectId(connection.last_insert_rowid()))?;
    append(connection, effects, user, now, decide::created_event(&project, new))?;
    for document in &new.documents {
        insert_document(connection, &project, document, 1, DocumentStatus::Approved, now)?;
        if let PhaseDocument::Tasks(list) = document {
            write_tasks(connection, effects, &project, &decide::plan_tasks(&[], &list.tasks, &new.done_tasks), now)?;
        }
    }
    if let Some(idea) = idea {
        set_idea(connection, &idea, &idea.notes, IdeaState::Promoted, Some(project.id), now)?;
        append(connection, effects, user, now, decide::idea_event(&idea, IdeaState::Promoted, Some(project.id)))?;
    }
    ask_agent(connection, effects, &project, project.phase, now)?;
    record(connection, user, project.id)
}

fn propose(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    document: &PhaseDocument,
    now: DateTime<Utc>,
) -> Result<ProjectRecord> {
    let project = load_project(connection, user, id)?;
    let proposal = decide::proposal(&project, &documents(connection, id)?, document)?;
    insert_document(connection, &project, document, proposal.version, proposal.status, now)?;
    connection.execute("UPDATE projects SET failure = NULL WHERE id = ?1", [id.get()])?;
    let (phase, version) = (project.phase, proposal.version);
    append(connection, effects, user, now, NewEvent::ProjectDocumentProposed { project: id, phase, version })?;
    if proposal.status == DocumentStatus::Approved {
        let decided =
            NewEvent::ProjectDocumentDecided { project: id, phase, version, status: proposal.status, comment: None };
        append(connection, effects, user, now, decided)?;
        approved(connection, effects, &project, document, &[], now)?;
    } else {
        gate::request(
            connection,
            effects,
            &project,
            &crate::projects::gate::request(&project, phase, version, false),
            now,
        )?;
    }
    record(connection, user, id)
}

fn update_task(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    key: &str,
    update: &TaskUpdate,
    now: DateTime<Utc>,
) -> Result<ProjectTask> {
    let project = load_project(connection, user, id)?;
    let all = tasks(connection, id)?;
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
    connection.execute(
        "UPDATE project_tasks SET state = ?3, rounds = ?4, feedback = coalesce(?5, feedback), \
         job_id = coalesce(?6, job_id), run_id = coalesce(?8, run_id), updated_at = ?7 \
         WHERE project_id = ?1 AND task_key = ?2",
        params![
            id.get(),
            key,
            update.state.as_str(),
            i64::from(rounds),
            update.feedback,
            update.job_id.map(JobId::get),
            to_micros(now),
            update.run_id.map(RunId::get)
        ],
    )?;
    let event = NewEvent::ProjectTaskChanged {
        project: id,
        task: key.to_string(),
        from: Some(task.state),
        to: update.state,
        rounds,
    };
    append(connection, effects, user, now, event)?;
    let all_done = all.iter().all(|other| {
        if other.spec.id == key { update.state == TaskState::Done } else { other.state == TaskState::Done }
    });
    if all_done && project.phase == Phase::Execution {
        enter_phase(connection, effects, &project, Phase::Done, now)?;
    }
    tasks(connection, id)?
        .into_iter()
        .find(|task| task.spec.id == key)
        .ok_or_else(|| StoreError::not_found(Entity::ProjectTask, key))
}

/// The state of each task's job that still exists.
fn job_states(connection: &Connection, all: &[ProjectTask]) -> Result<BTreeMap<JobId, JobState>> {
    let mut job_states = BTreeMap::new();
    for job in all.iter().filter_map(|task| task.job_id) {
        let state: Option<String> = connection
            .prepare_cached("SELECT state FROM jobs WHERE id = ?1")?
            .query_row([job.get()], |row| row.get(0))
            .optional()?;
        if let Some(state) = state {
            job_states.insert(job, state.parse::<JobState>().map_err(|error| decide::damaged("job state", error))?);
        }
    }
    Ok(job_states)
}

/// Queues the jobs of `planned` tasks and records each on its task.
fn queue_task_jobs(
    connection: &Connection,
    effects: &mut Effects,
    project: &Project,
    planned: Vec<PlannedTaskJob>,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let names: Vec<String> = planned.iter().map(|planned| planned.task.clone()).collect();
    let jobs = planned.into_iter().map(|planned| planned.job).collect();
    let outcomes = enqueue::enqueue(connection, effects, project.user_id, jobs, now)?;
    for (task, outcome) in names.iter().zip(&outcomes) {
        connection.execute(
            "UPDATE project_tasks SET job_id = ?3, updated_at = ?4 WHERE project_id = ?1 AND task_key = ?2",
            params![project.id.get(), task, outcome.job.id.get(), to_micros(now)],
        )?;
    }
    Ok(names)
}

fn add_task(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    discovered: &DiscoveredTask,
    now: DateTime<Utc>,
) -> Result<ProjectRecord> {
    let project = load_project(connection, user, id)?;
    let decide::Discovery::Added { document, version, spec } =
        decide::discovery(&project, &documents(connection, id)?, discovered)?
    else {
        return record(connection, user, id);
    };
    insert_document(connection, &project, &PhaseDocument::Tasks(*document), version, DocumentStatus::Approved, now)?;
    let existing = tasks(connection, id)?;
    write_tasks(connection, effects, &project, &decide::rows_with_added(&existing, &spec), now)?;
    let event = NewEvent::ProjectTaskDiscovered {
        project: id,
        task: spec.id.clone(),
        from_task: discovered.from_task.clone(),
        reason: discovered.reason.trim().to_string(),
    };
    append(connection, effects, user, now, event)?;
    if project.phase == Phase::Done {
        enter_phase(connection, effects, &project, Phase::Execution, now)?;
    }
    if project.agent_id.is_some() {
        let all = tasks(connection, id)?;
        let mut planned = decide::execution_jobs(id, &all, &job_states(connection, &all)?);
        planned.retain(|planned| planned.task == spec.id);
        queue_task_jobs(connection, effects, &project, planned, now)?;
    }
    record(connection, user, id)
}

fn task_of_run(connection: &Connection, user: UserId, run: RunId) -> Result<Option<(Project, String)>> {
    let found: Option<(i64, String)> = connection
        .prepare_cached("SELECT project_id, task_key FROM project_tasks WHERE user_id = ?1 AND run_id = ?2")?
        .query_row(params![user.get(), run.get()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((project, task)) = found else { return Ok(None) };
    Ok(Some((load_project(connection, user, ProjectId(project))?, task)))
}

fn set_guardian(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    guardian: GuardianOverride,
    now: DateTime<Utc>,
) -> Result<Project> {
    guardian.validate().map_err(|error| error.within("guardian"))?;
    load_project(connection, user, id)?;
    connection.execute(
        "UPDATE projects SET guardian = ?1, updated_at = ?2 WHERE id = ?3 AND user_id = ?4",
        params![serde_json::to_string(&guardian)?, to_micros(now), id.get(), user.get()],
    )?;
    append(connection, effects, user, now, NewEvent::ProjectGuardianSet { project: id, guardian })?;
    load_project(connection, user, id)
}

fn start_execution(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    id: ProjectId,
    now: DateTime<Utc>,
) -> Result<ProjectRecord> {
    let project = load_project(connection, user, id)?;
    decide::check_execution(&project)?;
    let all = tasks(connection, id)?;
    let planned = decide::execution_jobs(id, &all, &job_states(connection, &all)?);
    if planned.is_empty() {
        return record(connection, user, id);
    }
    let names = queue_task_jobs(connection, effects, &project, planned, now)?;
    append(connection, effects, user, now, NewEvent::ProjectExecutionStarted { project: id, tasks: names })?;
    record(connection, user, id)
}

#[async_trait]
impl ProjectStore for SqliteStore {
    async fn create_idea(&self, user: UserId, idea: NewIdea) -> Result<Idea> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                idea.validate()?;
                connection.execute(
                    "INSERT INTO ideas (user_id, title, notes, state, created_at, updated_at) VALUES (?1, ?2, ?3, 'new', ?4, ?4)",
                    params![user.get(), idea.title.trim(), idea.notes, to_micros(now)],
                )?;
                let created = load_idea(connection, user, IdeaId(connection.last_insert_rowid()))?;
                append(connection, effects, user, now, NewEvent::IdeaCaptured { idea: created.id, title: created.title.clone() })?;
                Ok(created)
            })
            .await
    }

    async fn get_idea(&self, user: UserId, id: IdeaId) -> Result<Idea> {
        self.readers.read(move |connection| load_idea(connection, user, id)).await
    }

    async fn list_ideas(&self, user: UserId) -> Result<Vec<Idea>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection
                    .prepare_cached(&format!("SELECT {IDEA_COLUMNS} FROM ideas WHERE user_id = ?1 ORDER BY id DESC"))?;
                let rows = statement.query_map([user.get()], idea_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
                rows.into_iter().map(IdeaRow::into_idea).collect()
            })
            .await
    }

    async fn update_idea(&self, user: UserId, id: IdeaId, patch: IdeaPatch) -> Result<Idea> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let idea = load_idea(connection, user, id)?;
                decide::check_idea_patch(&idea, &patch)?;
                let state = patch.state.unwrap_or(idea.state);
                set_idea(connection, &idea, patch.notes.as_deref().unwrap_or(&idea.notes), state, None, now)?;
                append(connection, effects, user, now, decide::idea_event(&idea, state, None))?;
                load_idea(connection, user, id)
            })
            .await
    }

    async fn create_project(&self, user: UserId, project: NewProject) -> Result<ProjectRecord> {
        let now = self.now();
        self.writer.write(move |connection, effects| create_project(connection, effects, user, &project, now)).await
    }

    async fn get_project(&self, user: UserId, id: ProjectId) -> Result<ProjectRecord> {
        self.readers.read(move |connection| record(connection, user, id)).await
    }

    async fn list_projects(&self, user: UserId) -> Result<Vec<Project>> {
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT {PROJECT_COLUMNS} FROM projects WHERE user_id = ?1 ORDER BY id DESC"
                ))?;
                let rows = statement.query_map([user.get()], project_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
                rows.into_iter().map(ProjectRow::into_project).collect()
            })
            .await
    }

    async fn update_project(&self, user: UserId, id: ProjectId, patch: ProjectPatch) -> Result<Project> {
        patch.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let project = load_project(connection, user, id)?;
                let discovered = patch.discovered_tasks.unwrap_or(project.discovered_tasks);
                let checks = patch.checks.as_ref().unwrap_or(&project.checks);
                connection.execute(
                    "UPDATE projects SET discovered_tasks = ?2, checks = ?3, updated_at = ?4 WHERE id = ?1",
                    params![id.get(), discovered.as_str(), serde_json::to_string(checks)?, to_micros(now)],
                )?;
                append(connection, effects, user, now, decide::settings_event(id, &patch))?;
                load_project(connection, user, id)
            })
            .await
    }

    async fn propose_document(&self, user: UserId, id: ProjectId, document: PhaseDocument) -> Result<ProjectRecord> {
        let now = self.now();
        self.writer.write(move |connection, effects| propose(connection, effects, user, id, &document, now)).await
    }

    async fn propose_quick(&self, user: UserId, id: ProjectId, documents: QuickDocuments) -> Result<ProjectRecord> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| quick::propose_quick(connection, effects, user, id, documents, now))
            .await
    }

    async fn decide_document(&self, user: UserId, id: ProjectId, decision: GateDecision) -> Result<ProjectRecord> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                gate::decide_document(connection, effects, user, id, &decision, None, now)
            })
            .await
    }

    async fn edit_document(&self, user: UserId, id: ProjectId, document: PhaseDocument) -> Result<ProjectRecord> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| edit::edit_document(connection, effects, user, id, &document, now))
            .await
    }

    async fn merge_duplicate_tasks(&self, user: UserId, duplicate: DuplicateId, kept: &str) -> Result<Duplicate> {
        let (now, kept) = (self.now(), kept.to_string());
        self.writer
            .write(move |connection, effects| {
                edit::merge_duplicate_tasks(connection, effects, user, duplicate, &kept, now)
            })
            .await
    }

    async fn add_task(&self, user: UserId, id: ProjectId, discovered: DiscoveredTask) -> Result<ProjectRecord> {
        let now = self.now();
        self.writer.write(move |connection, effects| add_task(connection, effects, user, id, &discovered, now)).await
    }

    async fn task_of_run(&self, user: UserId, run: RunId) -> Result<Option<(Project, String)>> {
        self.readers.read(move |connection| task_of_run(connection, user, run)).await
    }

    async fn update_task(&self, user: UserId, id: ProjectId, task: &str, update: TaskUpdate) -> Result<ProjectTask> {
        let now = self.now();
        let task = task.to_string();
        self.writer
            .write(move |connection, effects| update_task(connection, effects, user, id, &task, &update, now))
            .await
    }

    async fn record_agent_failure(&self, user: UserId, id: ProjectId, phase: Phase, reason: &str) -> Result<()> {
        let now = self.now();
        let reason = reason.to_string();
        self.writer
            .write(move |connection, effects| {
                failures::record_agent_failure(connection, effects, user, id, phase, &reason, now)
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
        self.writer
            .write(move |connection, effects| {
                failures::record_document_refused(connection, effects, user, id, phase, attempt, &problem, now)
            })
            .await
    }

    async fn start_execution(&self, user: UserId, id: ProjectId) -> Result<ProjectRecord> {
        let now = self.now();
        self.writer.write(move |connection, effects| start_execution(connection, effects, user, id, now)).await
    }

    async fn set_project_guardian(&self, user: UserId, id: ProjectId, guardian: GuardianOverride) -> Result<Project> {
        let now = self.now();
        self.writer.write(move |connection, effects| set_guardian(connection, effects, user, id, guardian, now)).await
    }
}
