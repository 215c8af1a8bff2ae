//! `living_docs.fold`: reads an agent's finished run into its document —
//! the new text proposed (kept in the git folder for `steward sync apply`)
//! or applied at once, the front matter moved on. A sync job
//! (`crate::living_docs_jobs`) and a `living-docs` routine's fire
//! (`crate::routines`) each enqueue one after the run's job ([`fold_job`]).
//! A run paused for approval completes its job unfinished; the fold then
//! tries again every [`FOLD_RETRY`], up to [`FOLD_ATTEMPTS`] times (about
//! 50 minutes for a person to decide).

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::{JobId, JobRef, NewJob, RunId, RunOutcome, RunStatus};
use steward_store::Store;

use super::sync::{self, PreparedSync};
use super::{LivingDocsError, Repo};
use crate::clock::SharedClock;
use crate::handlers::{JobContext, JobError, JobHandler};

pub const FOLD_JOB_KIND: &str = "living_docs.fold";

/// How long a fold waits before looking at an unfinished run again.
pub const FOLD_RETRY: std::time::Duration = std::time::Duration::from_secs(30);
/// How often it looks.
pub const FOLD_ATTEMPTS: u32 = 100;

/// `living_docs.fold`'s payload: what the run was asked and which run.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FoldPayload {
    pub prepared: PreparedSync,
    pub run_id: RunId,
    /// Write at once instead of keeping a proposal.
    pub apply: bool,
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

/// The fold job of `payload`, after `after` (the run's current job), once
/// per run and job.
pub fn fold_job(payload: &FoldPayload, after: Option<JobId>) -> NewJob {
    let key = format!("living-docs:fold:run:{}:{}", payload.run_id, after.map_or(0, |id| id.0));
    let mut job = NewJob::new(FOLD_JOB_KIND, serde_json::to_value(payload).unwrap_or_default());
    job.idempotency_key = Some(key);
    job.depends_on = after.map(JobRef::Id).into_iter().collect();
    job.max_attempts = FOLD_ATTEMPTS;
    job
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

/// Runs git and file work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, LivingDocsError> + Send + 'static,
) -> Result<T, JobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| JobError::retryable(format!("the git reader stopped: {error}")))?
        .map_err(|error| JobError::permanent(error.to_string()))
}
