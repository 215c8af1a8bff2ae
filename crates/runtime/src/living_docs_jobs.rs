//! A sync as queue jobs, for the server (the CLI's `sync run` drives the
//! same steps from outside). `living_docs.sync` prepares each document,
//! starts the agent's run through the use cases, and enqueues a
//! `living_docs.fold` job ([`crate::living_docs::fold`]) that depends on
//! the run's job; the fold reads the finished run's answer and applies or
//! keeps the proposal. No worker slot waits for a model.
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
use steward_domain::AgentId;
use steward_domain::living_docs::DEFAULT_DOCUMENTS;
use steward_store::Store;

use crate::handlers::{JobContext, JobError, JobHandler};
use crate::living_docs::Repo;
pub use crate::living_docs::fold::{FOLD_ATTEMPTS, FOLD_JOB_KIND, FOLD_RETRY, FoldHandler, FoldPayload};
use crate::living_docs::fold::{blocking, fold_job};
use crate::living_docs::sync;
use crate::usecases::{StartRun, UseCases};

pub const SYNC_JOB_KIND: &str = "living_docs.sync";

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
            let fold = FoldPayload { prepared, run_id: run.id, apply: payload.apply };
            self.store
                .enqueue(user, vec![fold_job(&fold, run.job_id)])
                .await
                .map_err(|error| JobError::retryable(format!("enqueueing the fold: {error}")))?;
            reports.push(json!({"document": fold.prepared.document, "status": "asked", "run_id": run.id,
                                "commits": fold.prepared.total_commits}));
        }
        Ok(json!({"documents": reports}))
    }
}
