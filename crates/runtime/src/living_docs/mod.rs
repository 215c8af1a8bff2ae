//! Living documentation (C18, journey J6): a repository's architecture
//! documents kept current from its git history by an agent.
//!
//! - [`git`]: commits since a document's `last_commit`, read with git2
//!   (libgit2), never by parsing `git` output.
//! - [`sync`]: one document's sync around the agent's run — prepare the
//!   instruction, read the reply into a proposal with its unified diff,
//!   apply it (now, or later from the pending proposal kept in the git
//!   folder), the front matter (`last_sync`, `last_commit`,
//!   `commits_since_sync`) moved on.
//! - [`hook`]: the post-commit hook and the recent-changes log it writes.
//! - [`attachments`]: which agents carry which documents in their context.
//! - [`files`]: writes that leave the old file or the new one, never half.
//! - [`fold`]: the `living_docs.fold` job, reading a finished run into its
//!   document, for sync jobs and `living-docs` routines alike.
//!
//! - `crate::living_docs_jobs`: the same sync as queue jobs (`living_docs.sync` starts the
//!   runs and enqueues their folds), for the server; the CLI's `sync run`
//!   drives the steps itself through the API. A `living-docs` routine reads
//!   its repository as a context source and enqueues the fold itself.
//!
//! [`COMMIT_JOB_KIND`] is the job the hook enqueues to tell a running
//! Steward about a commit.

pub mod attachments;
pub mod files;
pub mod fold;
pub mod git;
pub mod hook;
pub mod status;
pub mod sync;

use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::Value;
use steward_domain::ValidationError;

use crate::handlers::{JobContext, JobError, JobHandler};

pub use attachments::{Attachment, LivingDocsSettings, context_for};
pub use git::Repo;
pub use hook::{HookChange, HookInstall, install_hook, record_commit};
pub use status::{DocumentStatus, RepoStatus, status};
pub use sync::{PreparedSync, Proposal, apply, prepare, propose};

/// The job kind the post-commit hook enqueues (payload `{"repo", "commit"}`).
pub const COMMIT_JOB_KIND: &str = "living_docs.commit";

/// Why a living-documentation step failed.
#[derive(Debug, thiserror::Error)]
pub enum LivingDocsError {
    #[error("{}: not a git repository with a working tree ({message})", path.display())]
    NotARepository { path: PathBuf, message: String },
    #[error("git: {}", .0.message())]
    Git(#[from] git2::Error),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The document changed after the sync read it.
    #[error("{document} changed since the sync read it; run the sync again so the agent sees the new text")]
    Changed { document: String },
}

/// `living_docs.commit`: a commit the hook recorded. It reads the commit
/// and how many commits each document of the repository has not folded
/// in yet, and returns them as the job's result, so the event log and a
/// schedule's precondition see commits as they land.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommitHandler;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitPayload {
    repo: PathBuf,
    commit: String,
    #[serde(default)]
    agent: Option<String>,
}

#[async_trait]
impl JobHandler for CommitHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: CommitPayload = serde_json::from_value(context.job.payload.clone()).map_err(|error| {
            JobError::permanent(format!("payload: {error} (expected {{\"repo\": \"/path\", \"commit\": \"<id>\"}})"))
        })?;
        let result = tokio::task::spawn_blocking(move || -> Result<Value, LivingDocsError> {
            let repo = Repo::open(&payload.repo)?;
            let entry = repo.changelog_entry(Some(&payload.commit))?;
            let report = status(&repo, &[])?;
            Ok(serde_json::json!({
                "repo": repo.root(),
                "agent": payload.agent,
                "commit": entry,
                "documents": report.documents,
            }))
        })
        .await
        .map_err(|error| JobError::retryable(format!("the commit reader stopped: {error}")))?;
        result.map_err(|error| JobError::permanent(error.to_string()))
    }
}
