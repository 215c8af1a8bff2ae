//! One document's sync, in three steps a caller drives around the agent's
//! run: [`prepare`] reads the document and the commits since its
//! `last_commit` and writes the run's instruction; [`propose`] reads the
//! agent's reply into the new text (front matter updated) and its unified
//! diff; [`apply`] writes it, atomically, unless the document changed
//! while the agent worked. A proposal not applied at once is kept in the
//! repository's git folder ([`save`]) until `steward sync apply`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use steward_domain::ValidationError;
use steward_domain::living_docs::{CommitSummary, LivingDocument, SyncState, document_from_reply, sync_instruction};
use steward_domain::run::limits::INSTRUCTION_CHARS;

use super::LivingDocsError;
use super::files::{inside, read_optional, write_atomically};
use super::git::Repo;

/// What a sync of one document needs from the agent.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PreparedSync {
    /// The document's path in the repository (`ARCHITECTURE.md`).
    pub document: String,
    pub path: PathBuf,
    /// The file as read; `None` when it does not exist yet.
    pub original: Option<String>,
    pub commits: Vec<CommitSummary>,
    /// All commits since the last sync (more than `commits` past the cap).
    pub total_commits: usize,
    /// The commit the document will say it is synced to.
    pub head: Option<String>,
    /// False when the recorded `last_commit` is not in HEAD's history.
    pub base_found: bool,
    /// The run's instruction; empty when there is nothing to fold in.
    pub instruction: String,
}

impl PreparedSync {
    /// No commits since the last sync: nothing to ask.
    pub fn up_to_date(&self) -> bool {
        self.total_commits == 0
    }
}

/// A new text for a document, with its diff.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Proposal {
    pub document: String,
    pub path: PathBuf,
    /// The file as it was when the sync began (`None`: it did not exist).
    pub original: Option<String>,
    pub proposed: String,
    /// A unified diff from the original to the proposed text.
    pub diff: String,
    pub sync: SyncState,
}

/// Reads `document` and the commits since it was last synced.
pub fn prepare(repo: &Repo, document: &str) -> Result<PreparedSync, LivingDocsError> {
    let path = inside(repo.root(), document, "document")?;
    let original = read_optional(&path)?;
    let parsed = LivingDocument::parse(original.as_deref().unwrap_or_default())
        .map_err(|error| ValidationError::new(format!("{document}: {}", error.field), error.message))?;
    let since = repo.commits_since(parsed.sync.last_commit.as_deref())?;
    let instruction =
        if since.total == 0 { String::new() } else { sync_instruction(document, &parsed.body, &since.commits) };
    if instruction.chars().count() > INSTRUCTION_CHARS {
        return Err(ValidationError::new(
            "document",
            format!(
                "{document} is too long to send whole with its commits ({} characters; a run's instruction holds \
                 {INSTRUCTION_CHARS}); split it into smaller documents",
                instruction.chars().count()
            ),
        )
        .into());
    }
    Ok(PreparedSync {
        document: document.to_string(),
        path,
        original,
        commits: since.commits,
        total_commits: since.total,
        head: since.head,
        base_found: since.base_found,
        instruction,
    })
}

/// The new text from the agent's `reply` (or, with `None`, the old text
/// with only its front matter moved on: nothing to fold in).
pub fn propose(prepared: &PreparedSync, reply: Option<&str>, now: DateTime<Utc>) -> Result<Proposal, LivingDocsError> {
    let original = prepared.original.as_deref().unwrap_or_default();
    let parsed = LivingDocument::parse(original)?;
    let body = match reply {
        Some(reply) => {
            let body = document_from_reply(reply)?;
            // Keep the blank line that sets the body off from the front matter.
            if parsed.body.starts_with('\n') { format!("\n{body}") } else { body }
        }
        None => parsed.body.clone(),
    };
    let sync = SyncState {
        last_sync: Some(now),
        last_commit: prepared.head.clone(),
        commits_since_sync: Some(u32::try_from(prepared.total_commits).unwrap_or(u32::MAX)),
    };
    let proposed = parsed.render(&sync, &body);
    let diff = unified_diff(&prepared.document, prepared.original.as_deref(), &proposed)?;
    Ok(Proposal {
        document: prepared.document.clone(),
        path: prepared.path.clone(),
        original: prepared.original.clone(),
        proposed,
        diff,
        sync,
    })
}

/// Writes the proposal, refusing when the document is no longer what the
/// sync read (a person edited it meanwhile).
pub fn apply(proposal: &Proposal) -> Result<(), LivingDocsError> {
    let current = read_optional(&proposal.path)?;
    if current != proposal.original {
        return Err(LivingDocsError::Changed { document: proposal.document.clone() });
    }
    write_atomically(&proposal.path, proposal.proposed.as_bytes())
}

/// A unified diff between two texts, as `git diff` prints it.
pub fn unified_diff(name: &str, old: Option<&str>, new: &str) -> Result<String, LivingDocsError> {
    let old_path = old.map(|_| std::path::Path::new(name));
    let mut patch = git2::Patch::from_buffers(
        old.unwrap_or_default().as_bytes(),
        old_path,
        new.as_bytes(),
        Some(std::path::Path::new(name)),
        None,
    )?;
    let text = patch.to_buf()?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Where a document's pending proposal is kept.
fn proposal_path(repo: &Repo, document: &str) -> PathBuf {
    let name: String = document.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    repo.steward_dir().join("proposals").join(format!("{name}.json"))
}

/// Keeps a proposal until it is applied (one per document; a newer one
/// replaces it).
pub fn save(repo: &Repo, proposal: &Proposal) -> Result<PathBuf, LivingDocsError> {
    let path = proposal_path(repo, &proposal.document);
    let json = serde_json::to_vec_pretty(proposal)
        .map_err(|error| LivingDocsError::Io { path: path.clone(), source: std::io::Error::other(error) })?;
    write_atomically(&path, &json)?;
    Ok(path)
}

/// The pending proposal of `document`, if any.
pub fn pending(repo: &Repo, document: &str) -> Result<Option<Proposal>, LivingDocsError> {
    let path = proposal_path(repo, document);
    let Some(text) = read_optional(&path)? else { return Ok(None) };
    let proposal = serde_json::from_str(&text).map_err(|error| LivingDocsError::Io {
        path: path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, error),
    })?;
    Ok(Some(proposal))
}

/// Applies `document`'s pending proposal and forgets it. `Ok(None)` when
/// there is none.
pub fn apply_pending(repo: &Repo, document: &str) -> Result<Option<Proposal>, LivingDocsError> {
    let Some(proposal) = pending(repo, document)? else { return Ok(None) };
    apply(&proposal)?;
    discard(repo, document)?;
    Ok(Some(proposal))
}

/// Forgets `document`'s pending proposal (applied, or replaced by a sync
/// that applied directly).
pub fn discard(repo: &Repo, document: &str) -> Result<(), LivingDocsError> {
    let path = proposal_path(repo, document);
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(LivingDocsError::Io { path, source: error }),
        _ => Ok(()),
    }
}
