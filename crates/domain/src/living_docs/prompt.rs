//! What the agent is asked when a document is synced, and how its answer
//! is read: the whole updated document between a `<document>` line and a
//! `</document>` line. Anything else (no markers, an empty document, a
//! reply cut before the closing line) is refused, so a bad reply never
//! replaces a document.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::changelog::short_id;
use crate::ValidationError;

/// The most characters of commits an instruction carries; older commits
/// are then named only by their count.
pub const COMMITS_BUDGET_CHARS: usize = 30_000;

/// Files listed per commit; the rest are counted.
const FILES_PER_COMMIT: usize = 20;

/// Characters of a commit message's body kept.
const BODY_CHARS: usize = 1_500;

/// One file a commit touched.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileChange {
    pub path: String,
    /// `added`, `deleted`, `modified`, `renamed`, …
    pub status: String,
    pub additions: usize,
    pub deletions: usize,
}

/// A commit as the agent is shown it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitSummary {
    pub id: String,
    pub committed_at: DateTime<Utc>,
    pub author: String,
    pub summary: String,
    /// The message after its first line, trimmed.
    pub body: String,
    pub files: Vec<FileChange>,
}

/// The run's instruction: fold `commits` (oldest first) into the document
/// `name`, whose current text (without front matter) is `body`.
pub fn sync_instruction(name: &str, body: &str, commits: &[CommitSummary]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "You keep the document {name} of a git repository true to the code. Below are the commits made since it \
         was last updated (oldest first) and its current text.\n\nUpdate the document so it describes the code as \
         it is after these commits: add what is new, change what changed, remove what was removed. Keep its \
         structure, tone and everything the commits do not touch; do not describe the commits themselves or add \
         a change log. If nothing needs to change, return the document as it is.\n\nReply with the complete \
         updated document between a line `<document>` and a line `</document>`, and nothing else between them \
         (no front matter, no code fence around it)."
    );
    let _ = writeln!(text, "\n## Commits since the last sync ({})\n", commits.len());
    let mut listed = String::new();
    let mut left_out = 0;
    for (index, commit) in commits.iter().enumerate().rev() {
        let entry = describe(commit);
        if listed.len() + entry.len() > COMMITS_BUDGET_CHARS {
            left_out = index + 1;
            break;
        }
        listed.insert_str(0, &entry);
    }
    if left_out > 0 {
        let _ = writeln!(text, "({left_out} older commits are left out for length.)\n");
    }
    text.push_str(&listed);
    let _ = writeln!(text, "## Current text of {name}\n");
    if body.trim().is_empty() {
        text.push_str("(The document does not exist yet: write it from the repository's commits.)\n");
    } else {
        text.push_str("<document>\n");
        text.push_str(body.trim_matches('\n'));
        text.push_str("\n</document>\n");
    }
    text
}

fn describe(commit: &CommitSummary) -> String {
    let mut entry = format!(
        "### {} {} ({}, {})\n",
        short_id(&commit.id),
        commit.summary.trim(),
        commit.author,
        commit.committed_at.format("%Y-%m-%d %H:%M UTC")
    );
    let body = commit.body.trim();
    if !body.is_empty() {
        let kept: String = body.chars().take(BODY_CHARS).collect();
        entry.push_str(&kept);
        entry.push_str(if kept.len() < body.len() { " …\n" } else { "\n" });
    }
    for file in commit.files.iter().take(FILES_PER_COMMIT) {
        let _ = writeln!(entry, "- {} {} (+{} −{})", file.status, file.path, file.additions, file.deletions);
    }
    if commit.files.len() > FILES_PER_COMMIT {
        let _ = writeln!(entry, "- and {} more files", commit.files.len() - FILES_PER_COMMIT);
    }
    entry.push('\n');
    entry
}

/// The document in the agent's reply, ending with one newline.
pub fn document_from_reply(reply: &str) -> Result<String, ValidationError> {
    let lines: Vec<&str> = reply.lines().collect();
    let start = lines.iter().position(|line| line.trim() == "<document>");
    let end = lines.iter().rposition(|line| line.trim() == "</document>");
    let (Some(start), Some(end)) = (start, end) else {
        return Err(ValidationError::new(
            "reply",
            "the agent's reply has no document between a `<document>` line and a `</document>` line (a reply \
             cut short by the output limit ends without the closing line); the document is left as it was",
        ));
    };
    let document = lines.get(start + 1..end).unwrap_or_default().join("\n");
    let document = document.trim_matches('\n');
    if document.trim().is_empty() {
        return Err(ValidationError::new(
            "reply",
            "the agent returned an empty document; the document is left as it was",
        ));
    }
    Ok(format!("{document}\n"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn commit(number: usize, body: &str) -> CommitSummary {
        CommitSummary {
            id: format!("{number:040x}"),
            committed_at: Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap(),
            author: "Ada".into(),
            summary: format!("Change {number}"),
            body: body.into(),
            files: vec![FileChange {
                path: "src/lib.rs".into(),
                status: "modified".into(),
                additions: 3,
                deletions: 1,
            }],
        }
    }

    #[test]
    fn the_instruction_lists_commits_oldest_first_then_the_document() {
        let text = sync_instruction("ARCHITECTURE.md", "# Arch\n\nOld.\n", &[commit(1, "Why."), commit(2, "")]);
        let first = text.find("### 0000000 Change 1 (Ada, 2030-01-02 03:04 UTC)\nWhy.\n- modified src/lib.rs (+3 −1)");
        let second = text.find("### 0000000 Change 2");
        let document = text.find("<document>\n# Arch\n\nOld.\n</document>\n");
        assert!(first.is_some() && second > first && document > second, "{text}");
        assert!(text.contains("Commits since the last sync (2)"));
    }

    #[test]
    fn older_commits_are_left_out_past_the_budget_and_counted() {
        let long = "x".repeat(BODY_CHARS);
        let commits: Vec<CommitSummary> = (0..100).map(|number| commit(number, &long)).collect();
        let text = sync_instruction("DESIGN.md", "", &commits);
        assert!(text.len() < COMMITS_BUDGET_CHARS + 3_000, "{}", text.len());
        assert!(text.contains("older commits are left out for length"));
        assert!(text.contains("Change 99") && !text.contains("Change 1 "), "the newest are kept");
        assert!(text.contains("does not exist yet"));
    }

    #[test]
    fn the_document_is_read_between_the_markers_and_nothing_else_is_accepted() {
        let reply = "Here it is:\n<document>\n# Arch\n\n```\n</document> in code\n```\n</document>\nDone.";
        assert_eq!(document_from_reply(reply).unwrap(), "# Arch\n\n```\n</document> in code\n```\n");
        for bad in ["# Arch only", "<document>\n# Cut short", "<document>\n\n</document>"] {
            assert_eq!(document_from_reply(bad).unwrap_err().field, "reply", "{bad}");
        }
    }
}
