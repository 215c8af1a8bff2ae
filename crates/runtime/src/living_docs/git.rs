//! Reading a repository with git2 (libgit2): the commits since a document's
//! `last_commit`, a commit as the recent-changes log records it, and where
//! the repository keeps its hooks and Steward's own files.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::{Delta, DiffOptions, Oid, Repository, Sort};
use steward_domain::living_docs::{ChangelogEntry, CommitSummary, FileChange};

use super::LivingDocsError;

/// The most commits one sync shows the agent (the newest); the rest are
/// counted.
pub const MAX_COMMITS: usize = 200;

/// An opened repository with a working tree.
pub struct Repo {
    repo: Repository,
    root: PathBuf,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("root", &self.root).finish_non_exhaustive()
    }
}

/// The commits after a document's `last_commit` up to HEAD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitsSince {
    /// HEAD's full id; `None` in a repository without commits.
    pub head: Option<String>,
    /// Oldest first, at most [`MAX_COMMITS`] (the newest).
    pub commits: Vec<CommitSummary>,
    /// How many there are in all.
    pub total: usize,
    /// False when `last_commit` is not in HEAD's history (rewritten or
    /// unknown): then the newest commits are shown, as for a first sync.
    pub base_found: bool,
}

impl Repo {
    /// Opens the repository whose working tree holds `path`.
    pub fn open(path: &Path) -> Result<Repo, LivingDocsError> {
        let not_a_repository = |message: String| LivingDocsError::NotARepository { path: path.to_path_buf(), message };
        let repo = Repository::discover(path).map_err(|error| not_a_repository(error.message().to_string()))?;
        let root = repo.workdir().map(Path::to_path_buf).ok_or_else(|| not_a_repository("it is bare".into()))?;
        let root = root.canonicalize().unwrap_or(root);
        Ok(Repo { repo, root })
    }

    /// The top of the working tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where git looks for hooks: `core.hooksPath` (relative to the
    /// working tree) or the repository's `hooks/`.
    pub fn hooks_dir(&self) -> PathBuf {
        let configured = self.repo.config().ok().and_then(|config| config.get_path("core.hooksPath").ok());
        match configured {
            Some(path) if path.is_absolute() => path,
            Some(path) => self.root.join(path),
            None => self.repo.commondir().join("hooks"),
        }
    }

    /// Steward's files inside the repository's git folder (never in the
    /// working tree): pending proposals.
    pub fn steward_dir(&self) -> PathBuf {
        self.repo.commondir().join("steward")
    }

    /// HEAD's id, or `None` before the first commit.
    pub fn head(&self) -> Result<Option<Oid>, LivingDocsError> {
        match self.repo.head() {
            Ok(head) => Ok(Some(head.peel_to_commit()?.id())),
            Err(error) if matches!(error.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// The commits after `last_commit` (all of HEAD's history when `None`).
    pub fn commits_since(&self, last_commit: Option<&str>) -> Result<CommitsSince, LivingDocsError> {
        let Some(head) = self.head()? else {
            return Ok(CommitsSince { head: None, commits: Vec::new(), total: 0, base_found: last_commit.is_none() });
        };
        let mut walk = self.repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
        walk.push(head)?;
        let base = last_commit.and_then(|id| Oid::from_str(id).ok()).filter(|id| self.is_ancestor(*id, head));
        if let Some(base) = base {
            walk.hide(base)?;
        }
        let mut newest_first = Vec::new();
        let mut total = 0;
        for id in walk {
            let id = id?;
            total += 1;
            if newest_first.len() < MAX_COMMITS {
                newest_first.push(self.summary(id)?);
            }
        }
        newest_first.reverse();
        Ok(CommitsSince {
            head: Some(head.to_string()),
            commits: newest_first,
            total,
            base_found: last_commit.is_none() || base.is_some(),
        })
    }

    /// How many commits HEAD has after `last_commit` (all, when it is
    /// unknown), without reading them.
    pub fn count_since(&self, last_commit: Option<&str>) -> Result<usize, LivingDocsError> {
        let Some(head) = self.head()? else { return Ok(0) };
        let mut walk = self.repo.revwalk()?;
        walk.push(head)?;
        if let Some(base) = last_commit.and_then(|id| Oid::from_str(id).ok()).filter(|id| self.is_ancestor(*id, head)) {
            walk.hide(base)?;
        }
        Ok(walk.count())
    }

    fn is_ancestor(&self, ancestor: Oid, of: Oid) -> bool {
        ancestor == of || self.repo.graph_descendant_of(of, ancestor).unwrap_or(false)
    }

    /// A commit as the recent-changes log records it (HEAD when `None`).
    pub fn changelog_entry(&self, commit: Option<&str>) -> Result<ChangelogEntry, LivingDocsError> {
        let id = match commit {
            Some(text) => self.repo.revparse_single(text)?.peel_to_commit()?.id(),
            None => self.head()?.ok_or_else(|| git2::Error::from_str("the repository has no commits yet"))?,
        };
        let summary = self.summary(id)?;
        Ok(ChangelogEntry {
            commit: summary.id,
            committed_at: summary.committed_at,
            author: summary.author,
            summary: summary.summary,
            files_changed: summary.files.len(),
        })
    }

    /// A commit with the files it changed against its first parent.
    fn summary(&self, id: Oid) -> Result<CommitSummary, LivingDocsError> {
        let commit = self.repo.find_commit(id)?;
        let tree = commit.tree()?;
        let parent_tree = match commit.parents().next() {
            Some(parent) => Some(parent.tree()?),
            None => None,
        };
        let mut options = DiffOptions::new();
        options.ignore_submodules(true);
        let mut diff = self.repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))?;
        diff.find_similar(None)?;
        let mut files = Vec::new();
        for (index, delta) in diff.deltas().enumerate() {
            let (additions, deletions) = match git2::Patch::from_diff(&diff, index)? {
                Some(patch) => {
                    let (_, additions, deletions) = patch.line_stats()?;
                    (additions, deletions)
                }
                None => (0, 0),
            };
            let file = delta.new_file().path().or_else(|| delta.old_file().path());
            files.push(FileChange {
                path: file.map(|path| path.to_string_lossy().into_owned()).unwrap_or_default(),
                status: status_word(delta.status()).to_string(),
                additions,
                deletions,
            });
        }
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let (summary, body) = message.split_once('\n').unwrap_or((message.as_str(), ""));
        let time = commit.time();
        Ok(CommitSummary {
            id: id.to_string(),
            committed_at: DateTime::<Utc>::from_timestamp(time.seconds(), 0).unwrap_or_default(),
            author: String::from_utf8_lossy(commit.author().name_bytes()).into_owned(),
            summary: summary.trim().to_string(),
            body: body.trim().to_string(),
            files,
        })
    }
}

fn status_word(delta: Delta) -> &'static str {
    match delta {
        Delta::Added => "added",
        Delta::Deleted => "deleted",
        Delta::Renamed => "renamed",
        Delta::Copied => "copied",
        Delta::Typechange => "type changed",
        _ => "modified",
    }
}
