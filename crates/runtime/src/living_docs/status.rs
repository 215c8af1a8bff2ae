//! What `steward sync status` shows: whether the hook is installed, the
//! recent-changes log's length, and for each document its front matter,
//! how many commits it has not folded in, and whether a proposal waits.

use std::path::PathBuf;

use steward_domain::living_docs::{CHANGELOG_FILE, DEFAULT_DOCUMENTS, LivingDocument, SyncState};

use super::LivingDocsError;
use super::files::{inside, read_optional};
use super::git::Repo;
use super::hook::hook_installed;

/// A repository's sync state.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RepoStatus {
    pub repo: PathBuf,
    pub head: Option<String>,
    pub hook_installed: bool,
    pub hook_path: PathBuf,
    /// Entries in `CHANGELOG_RECENT.md`.
    pub changelog_entries: usize,
    pub documents: Vec<DocumentStatus>,
}

/// One document's sync state.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DocumentStatus {
    pub document: String,
    pub exists: bool,
    #[serde(flatten)]
    pub sync: SyncState,
    /// Commits after `last_commit` (all of them before a first sync).
    pub pending_commits: usize,
    /// A proposal waits for `steward sync apply`.
    pub proposal_pending: bool,
}

/// The state of `documents` (the defaults when empty) in `repo`.
pub fn status(repo: &Repo, documents: &[String]) -> Result<RepoStatus, LivingDocsError> {
    let names: Vec<String> = if documents.is_empty() {
        DEFAULT_DOCUMENTS.iter().map(ToString::to_string).collect()
    } else {
        documents.to_vec()
    };
    let mut statuses = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let path = inside(repo.root(), name, &format!("documents[{index}]"))?;
        let text = read_optional(&path)?;
        let sync = LivingDocument::parse(text.as_deref().unwrap_or_default())
            .map(|document| document.sync)
            .unwrap_or_default();
        statuses.push(DocumentStatus {
            document: name.clone(),
            exists: text.is_some(),
            pending_commits: repo.count_since(sync.last_commit.as_deref())?,
            sync,
            proposal_pending: super::sync::pending(repo, name)?.is_some(),
        });
    }
    let changelog = read_optional(&repo.root().join(CHANGELOG_FILE))?;
    Ok(RepoStatus {
        repo: repo.root().to_path_buf(),
        head: repo.head()?.map(|id| id.to_string()),
        hook_installed: hook_installed(repo)?,
        hook_path: repo.hooks_dir().join("post-commit"),
        changelog_entries: changelog.map_or(0, |text| text.lines().filter(|line| line.starts_with("- ")).count()),
        documents: statuses,
    })
}
