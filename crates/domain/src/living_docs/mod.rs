//! The pure core of living documentation (C18): the front matter a synced
//! document carries ([`front_matter`]), the recent-changes log the
//! post-commit hook writes ([`changelog`]), and what the agent is asked
//! and how its answer is read ([`prompt`]), and the documents in an
//! agent's context ([`context`]). Reading git and writing files
//! is the runtime's `living_docs` module.

pub mod changelog;
pub mod context;
pub mod front_matter;
pub mod prompt;

pub use changelog::{CHANGELOG_FILE, ChangelogEntry};
pub use context::{AttachedDocument, DEFAULT_BUDGET_TOKENS, context_section};
pub use front_matter::{LivingDocument, SyncState, is_commit_id};
pub use prompt::{CommitSummary, FileChange, document_from_reply, sync_instruction};

/// The documents synced when none are named.
pub const DEFAULT_DOCUMENTS: [&str; 2] = ["ARCHITECTURE.md", "DESIGN.md"];
