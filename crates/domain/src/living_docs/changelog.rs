//! The recent-changes log (`CHANGELOG_RECENT.md`) the post-commit hook
//! writes: one line per commit, oldest first, at most [`MAX_ENTRIES`]
//! kept. An entry is written from the commit alone (its committer time,
//! not the clock), so recording the same commit twice changes nothing.

use chrono::{DateTime, Utc};

/// The file's name at the repository's top.
pub const CHANGELOG_FILE: &str = "CHANGELOG_RECENT.md";

/// Older entries are dropped past this many.
pub const MAX_ENTRIES: usize = 200;

const HEADER: &str = "# Recent changes\n\nOne line per commit, written by Steward's post-commit hook \
                      (`steward sync install-hook`); `steward sync run` folds them into the architecture \
                      documents.\n\n";

/// One commit as the log shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangelogEntry {
    /// The full commit id.
    pub commit: String,
    pub committed_at: DateTime<Utc>,
    pub author: String,
    /// The first line of the message.
    pub summary: String,
    pub files_changed: usize,
}

impl ChangelogEntry {
    /// `- 2030-01-02 03:04 UTC · 0123abc · Subject (Author, 2 files)`.
    pub fn line(&self) -> String {
        let files =
            if self.files_changed == 1 { "1 file".to_string() } else { format!("{} files", self.files_changed) };
        format!(
            "- {} · {} · {} ({}, {files})",
            self.committed_at.format("%Y-%m-%d %H:%M UTC"),
            short_id(&self.commit),
            one_line(&self.summary),
            one_line(&self.author),
        )
    }
}

/// The log with `entry` appended, or `None` when the commit is already in
/// it. `existing` is the file as read (`None` when there is none yet);
/// whatever a person wrote above the first entry is kept, other lines
/// among the entries are not (the log is the hook's).
pub fn append(existing: Option<&str>, entry: &ChangelogEntry) -> Option<String> {
    let text = existing.unwrap_or(HEADER);
    let marker = format!(" · {} · ", short_id(&entry.commit));
    if text.lines().any(|line| line.starts_with("- ") && line.contains(&marker)) {
        return None;
    }
    let mut preamble = String::new();
    let mut entries: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.starts_with("- ") {
            entries.push(line);
        } else if entries.is_empty() {
            preamble.push_str(line);
            preamble.push('\n');
        }
    }
    let new_line = entry.line();
    entries.push(&new_line);
    let dropped = entries.len().saturating_sub(MAX_ENTRIES);
    let mut updated = preamble;
    for line in &entries[dropped..] {
        updated.push_str(line);
        updated.push('\n');
    }
    Some(updated)
}

/// The first 7 digits, as git abbreviates.
pub fn short_id(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// Text on one line, so an entry never spans two.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn entry(number: usize) -> ChangelogEntry {
        ChangelogEntry {
            commit: format!("{number:07x}{}", "0".repeat(33)),
            committed_at: Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap(),
            author: "Ada  Lovelace".into(),
            summary: "Add the\nparser".into(),
            files_changed: number,
        }
    }

    #[test]
    fn entries_are_one_line_each_oldest_first_and_never_twice() {
        let first = append(None, &entry(1)).unwrap();
        assert!(first.starts_with("# Recent changes\n\n"), "{first}");
        assert!(first.ends_with("- 2030-01-02 03:04 UTC · 0000001 · Add the parser (Ada Lovelace, 1 file)\n"));
        let second = append(Some(&first), &entry(2)).unwrap();
        assert!(
            second.ends_with(
                "(Ada Lovelace, 1 file)\n- 2030-01-02 03:04 UTC · 0000002 · Add the parser (Ada Lovelace, 2 files)\n"
            ),
            "{second}"
        );
        assert_eq!(append(Some(&second), &entry(1)), None);
    }

    #[test]
    fn a_person_s_preamble_is_kept_and_old_entries_are_dropped() {
        let mut text = Some("# Log\nMine.\n".to_string());
        for number in 1..=MAX_ENTRIES + 5 {
            text = Some(append(text.as_deref(), &entry(number)).unwrap());
        }
        let text = text.unwrap();
        assert!(text.starts_with("# Log\nMine.\n- "), "{}", &text[..40]);
        assert_eq!(text.lines().filter(|line| line.starts_with("- ")).count(), MAX_ENTRIES);
        assert!(!text.contains(" · 0000005 · ") && text.contains(" · 0000006 · "));
    }
}
