//! The front matter a living document carries: when it was last synced
//! (`last_sync`), the commit it was synced up to (`last_commit`) and how
//! many commits that sync folded in (`commits_since_sync`: the commits
//! between the previous `last_commit` and this one).
//!
//! Only these three keys are read and written, line by line; any other
//! front matter a person wrote stays exactly as it was, so no YAML library
//! is needed and nothing is reformatted.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::ValidationError;

/// The keys Steward owns, in the order they are written.
pub const KEYS: [&str; 3] = ["last_sync", "last_commit", "commits_since_sync"];

/// The sync state a document records.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncState {
    pub last_sync: Option<DateTime<Utc>>,
    /// A full commit id (40 hex digits).
    pub last_commit: Option<String>,
    pub commits_since_sync: Option<u32>,
}

/// A document split into its front matter and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivingDocument {
    /// Front matter lines as written (Steward's keys included), without
    /// the `---` fences; `None` when the document has no front matter.
    front_matter: Option<Vec<String>>,
    pub sync: SyncState,
    /// Everything after the closing fence (or the whole text).
    pub body: String,
}

impl LivingDocument {
    /// Reads a document. A front matter is a first line `---` up to the next
    /// line `---`; a value of Steward's keys that does not parse is an error
    /// naming the key.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let Some((front, body)) = split_front_matter(text) else {
            return Ok(LivingDocument { front_matter: None, sync: SyncState::default(), body: text.to_string() });
        };
        let lines: Vec<String> = front.lines().map(str::to_string).collect();
        let mut sync = SyncState::default();
        for line in &lines {
            let Some((key, value)) = owned_key(line) else { continue };
            let field = format!("front matter: {key}");
            let value = unquote(value);
            if value.is_empty() || value == "null" || value == "~" {
                continue;
            }
            match key {
                "last_sync" => {
                    let time = DateTime::parse_from_rfc3339(value)
                        .map_err(|_| ValidationError::new(&field, format!("{value:?} is not an RFC 3339 time")))?;
                    sync.last_sync = Some(time.with_timezone(&Utc));
                }
                "last_commit" => {
                    if !is_commit_id(value) {
                        return Err(ValidationError::new(&field, format!("{value:?} is not a commit id")));
                    }
                    sync.last_commit = Some(value.to_ascii_lowercase());
                }
                _ => {
                    let count = value.parse().map_err(|_| {
                        ValidationError::new(&field, format!("{value:?} is not a whole number of commits"))
                    })?;
                    sync.commits_since_sync = Some(count);
                }
            }
        }
        Ok(LivingDocument { front_matter: Some(lines), sync, body: body.to_string() })
    }

    /// The document with `sync` in its front matter (other keys kept in
    /// place) and `body` after it.
    pub fn render(&self, sync: &SyncState, body: &str) -> String {
        let mut values = [
            sync.last_sync.map(|time| time.to_rfc3339_opts(SecondsFormat::Secs, true)),
            sync.last_commit.clone(),
            sync.commits_since_sync.map(|count| count.to_string()),
        ];
        let mut text = String::from("---\n");
        for line in self.front_matter.iter().flatten() {
            match owned_key(line) {
                Some((key, _)) => {
                    let index = KEYS.iter().position(|known| *known == key).unwrap_or(0);
                    if let Some(value) = values[index].take() {
                        text.push_str(&format!("{key}: {value}\n"));
                    }
                }
                None => {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
        for (key, value) in KEYS.iter().zip(values) {
            if let Some(value) = value {
                text.push_str(&format!("{key}: {value}\n"));
            }
        }
        text.push_str("---\n");
        if self.front_matter.is_none() {
            // A new front matter is set off from the text by a blank line.
            text.push('\n');
        }
        text.push_str(body);
        text
    }
}

/// A commit id as git writes it in full (SHA-1 or SHA-256).
pub fn is_commit_id(text: &str) -> bool {
    (text.len() == 40 || text.len() == 64) && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// `(front matter, body)` when the text opens with a `---` fence that is
/// closed by another.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

/// One of Steward's keys at the top level of the front matter, and its value.
fn owned_key(line: &str) -> Option<(&'static str, &str)> {
    let (key, value) = line.split_once(':')?;
    let key = KEYS.iter().find(|known| **known == key)?;
    Some((key, value.trim()))
}

fn unquote(value: &str) -> &str {
    let value = value.split(" #").next().unwrap_or(value).trim();
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|inner| inner.strip_suffix('\'')))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    fn state() -> SyncState {
        SyncState {
            last_sync: Some(Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()),
            last_commit: Some(COMMIT.into()),
            commits_since_sync: Some(3),
        }
    }

    #[test]
    fn a_document_without_front_matter_gets_one_set_off_by_a_blank_line() {
        let document = LivingDocument::parse("# Architecture\n\nText.\n").unwrap();
        assert_eq!(document.sync, SyncState::default());
        let text = document.render(&state(), &document.body);
        assert_eq!(
            text,
            format!(
                "---\nlast_sync: 2030-01-02T03:04:05Z\nlast_commit: {COMMIT}\ncommits_since_sync: 3\n---\n\n\
                 # Architecture\n\nText.\n"
            )
        );
        let again = LivingDocument::parse(&text).unwrap();
        assert_eq!(again.sync, state());
        assert_eq!(again.body, "\n# Architecture\n\nText.\n");
        assert_eq!(again.render(&state(), &again.body), text, "rendering what was read changes nothing");
    }

    #[test]
    fn other_keys_stay_in_place_and_ours_are_replaced_where_they_are() {
        let text = "---\ntitle: \"Design\"\nlast_commit: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'\ntags: [a, b]\n---\nBody\n";
        let document = LivingDocument::parse(text).unwrap();
        assert_eq!(document.sync.last_commit.as_deref(), Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        assert_eq!(document.body, "Body\n");
        assert_eq!(
            document.render(&state(), "New body\n"),
            format!(
                "---\ntitle: \"Design\"\nlast_commit: {COMMIT}\ntags: [a, b]\nlast_sync: 2030-01-02T03:04:05Z\n\
                 commits_since_sync: 3\n---\nNew body\n"
            )
        );
    }

    #[test]
    fn a_bad_value_is_named_by_its_key() {
        for (line, field) in [
            ("last_sync: yesterday", "front matter: last_sync"),
            ("last_commit: main", "front matter: last_commit"),
            ("commits_since_sync: -1", "front matter: commits_since_sync"),
        ] {
            let error = LivingDocument::parse(&format!("---\n{line}\n---\nx")).unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn an_unclosed_fence_is_body_and_empty_values_are_absent() {
        let document = LivingDocument::parse("---\nnot closed\n").unwrap();
        assert_eq!(document.body, "---\nnot closed\n");
        let document = LivingDocument::parse("---\nlast_sync:\nlast_commit: null\n---\n").unwrap();
        assert_eq!(document.sync, SyncState::default());
    }
}
