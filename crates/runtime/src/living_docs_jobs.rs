//! A sync as queue jobs, for the server and routines (the CLI's `sync run`
//! drives the same steps from outside). `living_docs.sync` prepares each
//! document, starts the agent's run through the use cases, and enqueues a
//! `living_docs.fold` job that depends on the run's job; the fold reads
//! the finished run's answer and applies or keeps the proposal. No worker
//! slot waits for a model. A run paused for approval completes its job
//! unfinished; the fold then tries again every [`FOLD_RETRY`], up to
//! [`FOLD_ATTEMPTS`] times (about 50 minutes for a person to decide).
//!
//! A sync job that dies between starting a run and enqueueing its fold
//! starts another run when retried (runs have no idempotency key yet);
//! enqueue it with `max_attempts` 1 where that matters.
//!
//! A module of its own beside `living_docs` because it starts runs through
//! the use cases, which reach the agent runtime, whose prompts read
//! `living_docs`: imports point one way.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::living_docs::DEFAULT_DOCUMENTS;
use steward_domain::{AgentId, JobRef, NewJob, RunId, RunOutcome, RunStatus, UserId};
use steward_store::Store;

use crate::clock::SharedClock;
use crate::handlers::{JobContext, JobError, JobHandler};
use crate::living_docs::sync::{self, PreparedSync};
use crate::living_docs::{LivingDocsError, Repo};
use crate::usecases::{StartRun, UseCases};

pub const SYNC_JOB_KIND: &str = "living_docs.sync";
pub const FOLD_JOB_KIND: &str = "living_docs.fold";

/// How long a fold waits before looking at an unfinished run again.
pub const FOLD_RETRY: std::time::Duration = std::time::Duration::from_secs(30);
/// How often it looks.
pub const FOLD_ATTEMPTS: u32 = 100;

/// `living_docs.sync`'s payload.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncPayload {
    pub repo: PathBuf,
    pub agent_id: AgentId,
    /// Default: those of ARCHITECTURE.md and DESIGN.md that exist, else ARCHITECTURE.md.
    #[serde(default)]
    pub documents: Vec<String>,
    /// Write at once instead of keeping a proposal.
    #[serde(default)]
    pub apply: bool,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct FoldPayload {
    prepared: PreparedSync,
    run_id: RunId,
    apply: bool,
}

/// Starts the agent's runs of a sync.
pub struct SyncHandler {
    usecases: UseCases,
    store: Arc<dyn Store>,
}

impl SyncHandler {
    pub fn new(usecases: UseCases, store: Arc<dyn Store>) -> Self {
        SyncHandler { usecases, store }
    }
}

/// Reads the finished run into the document.
pub struct FoldHandler {
    store: Arc<dyn Store>,
    clock: SharedClock,
}

impl FoldHandler {
    pub fn new(store: Arc<dyn Store>, clock: SharedClock) -> Self {
        FoldHandler { store, clock }
    }
}

fn permanent(error: LivingDocsError) -> JobError {
    JobError::permanent(error.to_string())
}

/// Runs git and file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, LivingDocsError> + Send + 'static,
) -> Result<T, JobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| JobError::retryable(format!("the git reader stopped: {error}")))?
        .map_err(permanent)
}

#[async_trait]
impl JobHandler for SyncHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: SyncPayload = serde_json::from_value(context.job.payload.clone()).map_err(|error| {
            JobError::permanent(format!("payload: {error} (expected {{\"repo\": \"/path\", \"agent_id\": 1}})"))
        })?;
        let user = context.job.user_id;
        let prepared = blocking(move || {
            let repo = Repo::open(&payload.repo)?;
            let documents = if payload.documents.is_empty() {
                let existing: Vec<String> = DEFAULT_DOCUMENTS
                    .iter()
                    .filter(|name| repo.root().join(name).is_file())
                    .map(ToString::to_string)
                    .collect();
                if existing.is_empty() { vec![DEFAULT_DOCUMENTS[0].to_string()] } else { existing }
            } else {
                payload.documents
            };
            documents.iter().map(|document| sync::prepare(&repo, document)).collect::<Result<Vec<_>, _>>()
        })
        .await?;
        let mut reports = Vec::new();
        for prepared in prepared {
            if prepared.up_to_date() {
                reports.push(json!({"document": prepared.document, "status": "up_to_date"}));
                continue;
            }
            let request = StartRun { instruction: prepared.instruction.clone(), ..StartRun::default() };
            let run = self
                .usecases
                .start_run(user, payload.agent_id, request)
                .await
                .map_err(|error| JobError::permanent(format!("starting the agent's run: {error}")))?;
            let fold = enqueue_fold(
                &*self.store,
                user,
                FoldPayload { prepared, run_id: run.id, apply: payload.apply },
                run.job_id,
            )
            .await?;
            reports.push(json!({"document": fold.prepared.document, "status": "asked", "run_id": run.id,
                                "commits": fold.prepared.total_commits}));
        }
        Ok(json!({"documents": reports}))
    }
}

/// A fold job after `after` (the run's current job), once per run and job.
async fn enqueue_fold(
    store: &dyn Store,
    user: UserId,
    payload: FoldPayload,
    after: Option<steward_domain::JobId>,
) -> Result<FoldPayload, JobError> {
    let key = format!("living-docs:fold:run:{}:{}", payload.run_id, after.map_or(0, |id| id.0));
    let mut job = NewJob::new(FOLD_JOB_KIND, serde_json::to_value(&payload).unwrap_or_default());
    job.idempotency_key = Some(key);
    job.depends_on = after.map(JobRef::Id).into_iter().collect();
    job.max_attempts = FOLD_ATTEMPTS;
    store
        .enqueue(user, vec![job])
        .await
        .map_err(|error| JobError::retryable(format!("enqueueing the fold: {error}")))?;
    Ok(payload)
}

#[async_trait]
impl JobHandler for FoldHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: FoldPayload = serde_json::from_value(context.job.payload.clone())
            .map_err(|error| JobError::permanent(format!("payload: {error}")))?;
        let user = context.job.user_id;
        let run = self
            .store
            .get_run(user, payload.run_id)
            .await
            .map_err(|error| JobError::retryable(format!("reading run {}: {error}", payload.run_id)))?;
        if run.status != RunStatus::Finished {
            // Paused for approval (its job completed): look again later.
            return Err(JobError::Retryable {
                message: format!("run {} is {}; the fold waits for it to finish", run.id, run.status),
                retry_after: Some(FOLD_RETRY),
            });
        }
        let (Some(RunOutcome::Completed), Some(output)) = (run.outcome, run.output.clone()) else {
            return Err(JobError::permanent(format!(
                "{}: run {} did not complete ({}); the document is left as it was",
                payload.prepared.document,
                run.id,
                run.error.as_deref().unwrap_or("no answer")
            )));
        };
        let now = self.clock.now();
        let apply = payload.apply;
        let prepared = payload.prepared;
        blocking(move || {
            let proposal = sync::propose(&prepared, Some(&output), now)?;
            let repo = Repo::open(&prepared.path.parent().map(PathBuf::from).unwrap_or_default())?;
            let status = if apply {
                sync::apply(&proposal)?;
                sync::discard(&repo, &proposal.document)?;
                "applied"
            } else {
                sync::save(&repo, &proposal)?;
                "proposed"
            };
            Ok(json!({"document": proposal.document, "status": status, "run_id": run.id, "diff": proposal.diff,
                      "front_matter": proposal.sync}))
        })
        .await
    }
}
