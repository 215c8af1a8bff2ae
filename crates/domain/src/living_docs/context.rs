//! The section of an agent's system prompt that carries its living
//! documents, within a budget of tokens: each document whole while it
//! fits, the one that does not fit cut at a line with a note saying where
//! the full text is, and those after it named only.

use std::fmt::Write;

use crate::memory::text::estimate_tokens;

use super::changelog::short_id;
use super::front_matter::SyncState;

/// Tokens the documents may take in a system prompt when nothing else is set.
pub const DEFAULT_BUDGET_TOKENS: usize = 8_000;

/// One document attached to an agent, as read from disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachedDocument {
    /// Where it is (shown to the agent, so it can ask for the rest).
    pub path: String,
    pub sync: SyncState,
    /// The text without front matter.
    pub body: String,
}

/// The section, or an empty string when there are no documents.
pub fn context_section(documents: &[AttachedDocument], budget_tokens: usize) -> String {
    if documents.is_empty() {
        return String::new();
    }
    let mut section = String::from(
        "\nLiving documents of the repositories you work on (kept current from their git history; treat them as \
         the description of the code as of the commit shown):\n",
    );
    let mut used = 0;
    for document in documents {
        let synced = match (&document.sync.last_commit, document.sync.last_sync) {
            (Some(commit), Some(time)) => {
                format!("synced {} at commit {}", time.format("%Y-%m-%d %H:%M UTC"), short_id(commit))
            }
            _ => "not synced yet".to_string(),
        };
        let heading = format!("\n### {} ({synced})\n", document.path);
        let left = budget_tokens.saturating_sub(used + estimate_tokens(&heading));
        if left < 50 {
            let _ = write!(section, "\n### {} (left out for length; read it there)\n", document.path);
            continue;
        }
        section.push_str(&heading);
        used += estimate_tokens(&heading);
        let body = document.body.trim_matches('\n');
        if estimate_tokens(body) <= left {
            section.push_str(body);
            section.push('\n');
            used += estimate_tokens(body);
            continue;
        }
        let mut kept = 0;
        for line in body.split_inclusive('\n') {
            if (kept + line.len()).div_ceil(4) + 30 > left {
                break;
            }
            kept += line.len();
        }
        section.push_str(&body[..kept]);
        let _ = writeln!(section, "\n… (cut for length; the whole document is {})", document.path);
        used = budget_tokens;
    }
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(path: &str, body: &str) -> AttachedDocument {
        AttachedDocument { path: path.into(), sync: SyncState::default(), body: body.into() }
    }

    #[test]
    fn documents_that_fit_are_whole_and_the_rest_cut_at_a_line_or_named() {
        let small = document("/repo/DESIGN.md", "# Design\n\nSmall.\n");
        let large = document("/repo/ARCHITECTURE.md", &"A line of architecture.\n".repeat(400));
        let last = document("/repo/NOTES.md", "Never shown.\n");
        let section = context_section(&[small, large, last], 500);
        assert!(section.contains("### /repo/DESIGN.md (not synced yet)\n# Design\n\nSmall.\n"), "{section}");
        assert!(
            section
                .contains("A line of architecture.\n\n… (cut for length; the whole document is /repo/ARCHITECTURE.md)")
        );
        assert!(section.contains("### /repo/NOTES.md (left out for length; read it there)"));
        assert!(!section.contains("Never shown."));
        assert!(estimate_tokens(&section) <= 500 + 60, "{}", estimate_tokens(&section));
        assert_eq!(context_section(&[], 500), "");
    }
}
