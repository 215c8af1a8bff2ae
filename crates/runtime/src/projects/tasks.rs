//! `project.task`: one task of a project, from its first run to done. Each
//! attempt of the job reads the task and moves it one step: a pending task
//! whose dependencies are done and that fits the parallel limit gets its
//! workspace ([`super::workspace`]) and a run of the project's agent; a
//! running task whose run finished goes to the validator; the verdict makes
//! it done (its work committed on its branch), sends it back for another
//! run with the feedback, or — after `max_rounds` — leaves it `failed` for a
//! person. Between steps the job asks to be tried again after a short,
//! growing wait, so no worker slot waits for a model. A done task's job
//! completes, which lets its dependents' jobs start; a task a person must
//! look at ends its job dead, which holds its dependents back.
//!
//! Every move is made for the task as this step read it: when an edit of
//! the spec re-planned the task in between (its run stopped, pending again
//! with the new text), the store refuses the move as stale and the step
//! reads the task again, so a superseded run's answer never makes the
//! re-planned task done.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::project::work::{TaskJob, Verdict, verdict, wait_before_looking_again};
use steward_domain::project::{Phase, ProjectTask, TaskState, tasks_to_start};
use steward_domain::{JobId, RunOutcome, RunStatus, UserId};
use steward_store::{ConflictKind, ProjectRecord, Store, StoreError, TaskUpdate};

use super::workspace::{self, TaskWorkspace};
use super::{store_error, validation};
use crate::agent::runtime::AgentRuntime;
use crate::handlers::{JobContext, JobError, JobHandler};
use crate::tools::ShellToolConfig;
use crate::usecases::{StartRun, UseCases};

/// Works tasks through their runs and validation.
pub struct TaskHandler {
    usecases: UseCases,
    runtime: Arc<AgentRuntime>,
    store: Arc<dyn Store>,
    /// The sandbox the project's check commands run in.
    shell: ShellToolConfig,
}

impl TaskHandler {
    pub fn new(usecases: UseCases, runtime: Arc<AgentRuntime>) -> Self {
        let store = runtime.store().clone();
        TaskHandler { usecases, runtime, store, shell: ShellToolConfig::default() }
    }

    /// Runs the projects' check commands in `shell`'s sandbox (`[tools.shell]`).
    pub fn with_shell(mut self, shell: ShellToolConfig) -> Self {
        self.shell = shell;
        self
    }
}

/// How long a task's run waits before it may start: its workspace is
/// linked to the task's folder in that time.
const RUN_START_DELAY_MS: u64 = 250;

/// Whether a move was made, or refused because an edit re-planned the task
/// since the step read it.
#[derive(PartialEq)]
enum Moved {
    Made,
    Superseded,
}

fn superseded(error: &StoreError) -> bool {
    matches!(error, StoreError::Conflict { kind: ConflictKind::Stale, .. })
}

/// What one step left to do.
enum Step {
    /// Look again later.
    Wait(String),
    /// The task is done.
    Done(Value),
    /// Read the task again and take the next step now.
    Again,
}

fn wait(attempt: u32, message: String) -> JobError {
    JobError::Retryable { message, retry_after: Some(wait_before_looking_again(attempt)) }
}

fn find_task<'a>(record: &'a ProjectRecord, key: &str) -> Result<&'a ProjectTask, JobError> {
    record
        .tasks
        .iter()
        .find(|task| task.spec.id == key)
        .ok_or_else(|| JobError::permanent(format!("project {} has no task {key} (re-planned?)", record.project.id)))
}

/// Runs git and file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, workspace::WorkspaceError> + Send + 'static,
) -> Result<T, JobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| JobError::retryable(format!("the workspace work stopped: {error}")))?
        .map_err(|error| JobError::permanent(error.to_string()))
}

impl TaskHandler {
    async fn prepare(&self, record: &ProjectRecord, task: &ProjectTask) -> Result<TaskWorkspace, JobError> {
        let home = self.runtime.settings.home.clone();
        let repository = record.project.repository.clone().map(PathBuf::from);
        let (project, key, after) = (record.project.id, task.spec.id.clone(), task.spec.depends_on.clone());
        blocking(move || workspace::prepare(&home, repository.as_deref(), project, &key, &after)).await
    }

    /// Moves `task` as this step read it (see the module's notes).
    async fn update(
        &self,
        user: UserId,
        record: &ProjectRecord,
        task: &ProjectTask,
        update: TaskUpdate,
    ) -> Result<Moved, JobError> {
        let key = &task.spec.id;
        match self.store.update_task(user, record.project.id, key, update.decided_on(task)).await {
            Ok(_) => Ok(Moved::Made),
            Err(error) if superseded(&error) => {
                let project = record.project.id;
                tracing::info!(%project, task = %key, "the task was re-planned meanwhile; reading it again");
                Ok(Moved::Superseded)
            }
            Err(error) => Err(store_error(&format!("moving task {key}"), error)),
        }
    }

    /// Takes a place for a pending task, if it may start now (the store
    /// checks again in the move's transaction), then starts its run.
    async fn start(
        &self,
        user: UserId,
        job: JobId,
        record: &ProjectRecord,
        task: &ProjectTask,
    ) -> Result<Step, JobError> {
        let may_start = tasks_to_start(&record.tasks, record.project.parallel_limit)
            .iter()
            .any(|ready| ready.spec.id == task.spec.id);
        let waits = || Step::Wait(format!("task {} waits for its dependencies or a free place", task.spec.id));
        if !may_start {
            return Ok(waits());
        }
        let reserve = TaskUpdate { job_id: Some(job), ..TaskUpdate::to(TaskState::Running) }.decided_on(task);
        match self.store.update_task(user, record.project.id, &task.spec.id, reserve).await {
            Ok(_) => {}
            // Read before an edit re-planned it: read its new text.
            Err(error) if superseded(&error) => return Ok(Step::Again),
            // Another task took the last place first.
            Err(StoreError::Conflict { .. }) => return Ok(waits()),
            Err(error) => return Err(store_error(&format!("starting task {}", task.spec.id), error)),
        }
        self.launch(user, record, task).await
    }

    /// Starts the agent's run on a task holding a place, in the task's workspace.
    async fn launch(&self, user: UserId, record: &ProjectRecord, task: &ProjectTask) -> Result<Step, JobError> {
        let agent = record.project.agent_id.ok_or_else(|| {
            JobError::permanent(format!("project {} has no agent to work on its tasks", record.project.id))
        })?;
        let task_workspace = self.prepare(record, task).await?;
        let instruction = super::prompts::task_instruction(record, task, task_workspace.branch.as_deref());
        // The run may start only after a moment, by which its workspace is
        // the task's folder (linked just below).
        let request = StartRun { instruction, delay_ms: Some(RUN_START_DELAY_MS), ..StartRun::default() };
        let run =
            self.usecases.start_run(user, agent, request).await.map_err(|error| {
                JobError::permanent(format!("starting the agent's run on {}: {error}", task.spec.id))
            })?;
        let (run_workspace, folder) = (self.runtime.workspace_of(run.id), task_workspace.folder);
        if let Err(error) = blocking(move || workspace::link_run(&run_workspace, &folder)).await {
            // It wrote into a folder of its own first: its work would be
            // lost. Cancel it; the next look starts another.
            let _ = self.usecases.cancel_run(user, run.id).await;
            return Ok(Step::Wait(format!("run {} of task {} started too early ({error})", run.id, task.spec.id)));
        }
        let attach = TaskUpdate { run_id: Some(run.id), ..TaskUpdate::to(TaskState::Running) };
        if self.update(user, record, task, attach).await? == Moved::Superseded {
            // Started on the text an edit replaced: stop it, start on the new one.
            let _ = self.usecases.cancel_run(user, run.id).await;
            return Ok(Step::Again);
        }
        Ok(Step::Wait(format!("task {} runs as run {}", task.spec.id, run.id)))
    }

    /// Looks at a running task's run; a finished one goes to the validator.
    async fn follow(&self, user: UserId, record: &ProjectRecord, task: &ProjectTask) -> Result<Step, JobError> {
        let Some(run_id) = task.run_id else {
            // Its place was taken but no run started (a crash between the two).
            return self.launch(user, record, task).await;
        };
        let run = self.store.get_run(user, run_id).await.map_err(|error| store_error("reading the run", error))?;
        let earlier_round = run.finished_at.is_some_and(|finished| finished < task.updated_at);
        if task.state == TaskState::Running && earlier_round {
            // The run of a round before this place was taken: start this round's.
            return self.launch(user, record, task).await;
        }
        if run.status != RunStatus::Finished {
            return Ok(Step::Wait(format!("run {} of task {} is {}", run.id, task.spec.id, run.status)));
        }
        let (Some(RunOutcome::Completed), Some(answer)) = (run.outcome, run.output.clone()) else {
            let reason = format!(
                "task {}: run {} did not complete ({}); a person decides",
                task.spec.id,
                run.id,
                run.error.as_deref().unwrap_or("no answer")
            );
            let update = TaskUpdate { feedback: Some(reason.clone()), ..TaskUpdate::to(TaskState::Failed) };
            if self.update(user, record, task, update).await? == Moved::Superseded {
                // The run was stopped by an edit that restarted the task.
                return Ok(Step::Again);
            }
            let _ = self.store.record_agent_failure(user, record.project.id, Phase::Execution, &reason).await;
            return Err(JobError::permanent(reason));
        };
        if task.state == TaskState::Running
            && self.update(user, record, task, TaskUpdate::to(TaskState::Validating)).await? == Moved::Superseded
        {
            return Ok(Step::Again);
        }
        self.validate(user, record, task, &answer).await
    }

    async fn validate(
        &self,
        user: UserId,
        record: &ProjectRecord,
        task: &ProjectTask,
        answer: &str,
    ) -> Result<Step, JobError> {
        let task_workspace = self.prepare(record, task).await?;
        let folder = task_workspace.folder.clone();
        let files = blocking(move || Ok(workspace::describe_files(&folder, 20_000))).await?;
        let mut assessment = validation::assess(&self.runtime, &self.store, user, record, task, answer, &files).await?;
        if assessment.pass
            && let Some(failure) =
                super::checks::run_checks(&self.shell, &task_workspace.folder, &record.project.checks).await
        {
            assessment = validation::Assessment { pass: false, feedback: failure };
        }
        let key = task.spec.id.clone();
        match verdict(assessment.pass, task.rounds, record.project.max_rounds) {
            Verdict::Done => {
                let message = format!("{key}: {}\n\n{}", task.spec.title, assessment.feedback);
                let commit = blocking(move || workspace::commit(&task_workspace, &message)).await?;
                let update = TaskUpdate { feedback: Some(assessment.feedback), ..TaskUpdate::to(TaskState::Done) };
                if self.update(user, record, task, update).await? == Moved::Superseded {
                    // Work on the text an edit replaced: the task starts again.
                    return Ok(Step::Again);
                }
                Ok(Step::Done(json!({"task": key, "state": "done", "rounds": task.rounds, "commit": commit})))
            }
            Verdict::SendBack => {
                let update = TaskUpdate {
                    feedback: Some(assessment.feedback),
                    sent_back: true,
                    ..TaskUpdate::to(TaskState::Pending)
                };
                self.update(user, record, task, update).await?;
                Ok(Step::Again)
            }
            Verdict::ToPerson => {
                let reason = format!(
                    "task {key} was sent back {} times and failed validation again; a person decides: {}",
                    task.rounds, assessment.feedback
                );
                let update = TaskUpdate { feedback: Some(assessment.feedback), ..TaskUpdate::to(TaskState::Failed) };
                if self.update(user, record, task, update).await? == Moved::Superseded {
                    return Ok(Step::Again);
                }
                let _ = self.store.record_agent_failure(user, record.project.id, Phase::Execution, &reason).await;
                Err(JobError::permanent(reason))
            }
        }
    }

    async fn step(&self, user: UserId, job: JobId, payload: &TaskJob) -> Result<Step, JobError> {
        let record = self
            .store
            .get_project(user, payload.project_id)
            .await
            .map_err(|error| store_error("reading the project", error))?;
        let task = find_task(&record, &payload.task)?;
        match task.state {
            TaskState::Done => Ok(Step::Done(json!({"task": task.spec.id, "state": "done", "rounds": task.rounds}))),
            TaskState::Failed => {
                // Queued again by `project run` after a person looked: one more try.
                self.update(user, &record, task, TaskUpdate::to(TaskState::Pending)).await?;
                Ok(Step::Again)
            }
            TaskState::Pending => self.start(user, job, &record, task).await,
            TaskState::Running | TaskState::Validating => self.follow(user, &record, task).await,
        }
    }
}

#[async_trait]
impl JobHandler for TaskHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: TaskJob = serde_json::from_value(context.job.payload.clone()).map_err(|error| {
            JobError::permanent(format!("payload: {error} (expected {{\"project_id\": 1, \"task\": \"T001\"}})"))
        })?;
        let (user, job, attempt) = (context.job.user_id, context.job.id, context.job.attempt);
        // A send-back starts the next run at once; a bound keeps a confused loop finite.
        for _ in 0..4 {
            match self.step(user, job, &payload).await? {
                Step::Done(report) => return Ok(report),
                Step::Wait(message) => return Err(wait(attempt, message)),
                Step::Again => continue,
            }
        }
        Err(wait(attempt, format!("task {} is still moving", payload.task)))
    }
}
