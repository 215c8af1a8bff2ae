//! Wire types of `/api/v1/sync`: a repository's living documents and the
//! sync a request starts.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The repository `GET /sync/status` reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncStatusQuery {
    /// A folder inside the repository's working tree, on the server's machine.
    pub repo: String,
    /// Documents inside the repository (repeat or separate with commas; default ARCHITECTURE.md, DESIGN.md).
    pub document: Option<String>,
}

/// A repository's living documents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SyncStatusResponse {
    /// The working tree's top.
    #[schema(value_type = String)]
    pub repo: PathBuf,
    /// HEAD's commit id; null before the first commit.
    pub head: Option<String>,
    pub hook_installed: bool,
    #[schema(value_type = String)]
    pub hook_path: PathBuf,
    /// Lines in CHANGELOG_RECENT.md.
    pub changelog_entries: usize,
    pub documents: Vec<DocumentSyncBody>,
}

/// One document's front matter and what it has not folded in yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DocumentSyncBody {
    pub document: String,
    pub exists: bool,
    pub last_sync: Option<DateTime<Utc>>,
    pub last_commit: Option<String>,
    /// Commits the last sync folded in.
    pub commits_since_sync: Option<u32>,
    /// Commits after `last_commit` (all of them before a first sync).
    pub pending_commits: usize,
    /// A proposal waits to be applied (`steward sync apply`).
    pub proposal_pending: bool,
}

impl From<steward_runtime::living_docs::RepoStatus> for SyncStatusResponse {
    fn from(status: steward_runtime::living_docs::RepoStatus) -> Self {
        SyncStatusResponse {
            repo: status.repo,
            head: status.head,
            hook_installed: status.hook_installed,
            hook_path: status.hook_path,
            changelog_entries: status.changelog_entries,
            documents: status
                .documents
                .into_iter()
                .map(|document| DocumentSyncBody {
                    document: document.document,
                    exists: document.exists,
                    last_sync: document.sync.last_sync,
                    last_commit: document.sync.last_commit,
                    commits_since_sync: document.sync.commits_since_sync,
                    pending_commits: document.pending_commits,
                    proposal_pending: document.proposal_pending,
                })
                .collect(),
        }
    }
}

/// A sync to start: the agent folds the commits since each document's last
/// sync into it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSyncRequest {
    /// A folder inside the repository's working tree, on the server's machine.
    pub repo: String,
    /// The agent that writes the documents.
    pub agent_id: i64,
    /// Documents inside the repository; default those of ARCHITECTURE.md and DESIGN.md that exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    /// Write the new text at once; otherwise it waits as a proposal for `steward sync apply`.
    #[serde(default)]
    pub apply: bool,
}
