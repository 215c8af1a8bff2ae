//! Conversation files: the LoCoMo JSON format (a list of samples, or one,
//! each with a `conversation` of `session_N` turns `{speaker, dia_id, text,
//! blip_caption?}` and their `session_N_date_time`; `qa` items for the
//! benchmark), and JSON Lines of turns `{"speaker", "text", "time"?, "id"?,
//! "thread"?}`. Read by `steward memory import` (as turns to store) and
//! `steward memory bench`. Each LoCoMo session is a thread; a shared
//! photo's caption is part of its turn's text.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

/// One turn to store as an episode.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FileTurn {
    /// Unique within the file: `sample:dia_id`, or the line's id or number.
    pub reference: String,
    pub content: String,
    /// `None`: when it is stored.
    pub time: Option<DateTime<Utc>>,
    /// The conversation it is a turn of: `sample:session_N`, or the line's
    /// `thread`; `None`: the importer decides.
    pub thread: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    speaker: Option<String>,
    text: String,
    #[serde(default)]
    time: Option<DateTime<Utc>>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    thread: Option<String>,
}

/// The turns of a conversation file, in order; errors name the file and,
/// for JSON Lines, the line.
pub(crate) fn read_turns(path: &Path) -> anyhow::Result<Vec<FileTurn>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let whole = serde_json::from_str::<Value>(&text).ok();
    let locomo =
        text.trim_start().starts_with('[') || whole.as_ref().is_some_and(|value| value.get("conversation").is_some());
    if locomo {
        let value: Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
        let samples: Vec<Sample> = match value {
            Value::Array(_) => serde_json::from_value(value),
            _ => serde_json::from_value(value).map(|sample| vec![sample]),
        }
        .with_context(|| format!("{} is not a LoCoMo conversation (samples with a `conversation`)", path.display()))?;
        let mut turns = Vec::new();
        for (index, sample) in samples.iter().enumerate() {
            let sample_id = sample.sample_id.clone().unwrap_or_else(|| format!("sample-{index}"));
            for (number, date, session) in sessions(&sample.conversation)? {
                for (position, turn) in session.into_iter().enumerate() {
                    turns.push(FileTurn {
                        reference: format!("{sample_id}:{}", turn.dia_id),
                        content: turn.content(),
                        // Turns a minute apart, so their order survives.
                        time: Some(date + Duration::minutes(position as i64)),
                        thread: Some(session_thread(&sample_id, number)),
                    });
                }
            }
        }
        return Ok(turns);
    }
    let mut turns = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(index, line)| (index + 1, line)) {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(line).with_context(|| {
            format!("{} line {number}: not a turn {{\"speaker\", \"text\", \"time\"?, \"id\"?}}", path.display())
        })?;
        anyhow::ensure!(!parsed.text.trim().is_empty(), "{} line {number}: `text` is empty", path.display());
        turns.push(FileTurn {
            reference: parsed.id.unwrap_or_else(|| format!("line-{number}")),
            content: speaking(parsed.speaker.as_deref().unwrap_or_default(), &parsed.text),
            time: parsed.time,
            thread: parsed.thread,
        });
    }
    Ok(turns)
}

fn speaking(speaker: &str, text: &str) -> String {
    if speaker.is_empty() { text.to_string() } else { format!("{speaker}: {text}") }
}

/// The thread of a LoCoMo session: its turns are one conversation.
pub(crate) fn session_thread(sample_id: &str, session: u32) -> String {
    format!("{sample_id}:session_{session}")
}

#[derive(Debug, Deserialize)]
pub(crate) struct Sample {
    #[serde(default)]
    pub sample_id: Option<String>,
    pub conversation: BTreeMap<String, Value>,
    #[serde(default)]
    pub qa: Vec<Question>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Turn {
    #[serde(default)]
    pub speaker: String,
    pub dia_id: String,
    pub text: String,
    /// What a photo shared in this turn shows (LoCoMo's BLIP caption).
    #[serde(default)]
    pub blip_caption: Option<String>,
}

impl Turn {
    /// The turn as stored: `speaker: text`, and the caption of a shared
    /// photo, which is often what a later question asks about.
    pub(crate) fn content(&self) -> String {
        match self.blip_caption.as_deref().map(str::trim).filter(|caption| !caption.is_empty()) {
            Some(caption) => speaking(&self.speaker, &format!("{} [shared a photo: {caption}]", self.text.trim_end())),
            None => speaking(&self.speaker, &self.text),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Question {
    pub question: String,
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default)]
    pub category: Value,
}

/// LoCoMo writes session times like `1:56 pm on 8 May, 2023`.
fn session_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    for format in ["%I:%M %P on %d %B, %Y", "%l:%M %P on %e %B, %Y", "%I:%M %p on %d %B, %Y", "%Y-%m-%d %H:%M"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    DateTime::parse_from_rfc3339(text).ok().map(|time| time.with_timezone(&Utc))
}

/// `(session number, date, turns)`.
pub(crate) type Session = (u32, DateTime<Utc>, Vec<Turn>);

/// The sessions of a conversation, in session order.
pub(crate) fn sessions(conversation: &BTreeMap<String, Value>) -> anyhow::Result<Vec<Session>> {
    let mut sessions = Vec::new();
    for (key, value) in conversation {
        let Some(number) = key.strip_prefix("session_").and_then(|rest| rest.parse::<u32>().ok()) else { continue };
        let turns: Vec<Turn> = serde_json::from_value(value.clone())
            .with_context(|| format!("conversation.{key} is not a list of turns"))?;
        let date = conversation
            .get(&format!("{key}_date_time"))
            .and_then(Value::as_str)
            .and_then(session_time)
            .unwrap_or_else(|| Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap() + Duration::days(i64::from(number)));
        sessions.push((number, date, turns));
    }
    sessions.sort_by_key(|(number, _, _)| *number);
    Ok(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locomo_session_times_parse() {
        assert_eq!(session_time("1:56 pm on 8 May, 2023"), Some(Utc.with_ymd_and_hms(2023, 5, 8, 13, 56, 0).unwrap()));
        assert_eq!(
            session_time("10:37 am on 27 June, 2023"),
            Some(Utc.with_ymd_and_hms(2023, 6, 27, 10, 37, 0).unwrap())
        );
        assert_eq!(session_time("someday"), None);
    }

    #[test]
    fn json_lines_and_locomo_files_read_as_turns() {
        let directory = tempfile::tempdir().unwrap();
        let lines = directory.path().join("chat.jsonl");
        std::fs::write(
            &lines,
            "{\"speaker\": \"Maya\", \"text\": \"Plain voice, please.\", \"time\": \"2026-03-01T09:00:00Z\"}\n\n{\"text\": \"Noted.\", \"id\": \"m2\", \"thread\": \"chat-7\"}\n",
        )
        .unwrap();
        let turns = read_turns(&lines).unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!((turns[0].reference.as_str(), turns[0].content.as_str()), ("line-1", "Maya: Plain voice, please."));
        assert_eq!(turns[0].time, Some(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()));
        assert_eq!((turns[1].reference.as_str(), turns[1].time), ("m2", None));
        assert_eq!((turns[0].thread.as_deref(), turns[1].thread.as_deref()), (None, Some("chat-7")));
        std::fs::write(&lines, "{\"text\": \"ok\"}\n{\"txt\": \"typo\"}\n").unwrap();
        let error = format!("{:#}", read_turns(&lines).unwrap_err());
        assert!(error.contains("line 2"), "{error}");

        let locomo = directory.path().join("conversation.json");
        let sample = r#"{"sample_id": "s1", "conversation": {"speaker_a": "A", "speaker_b": "B",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "Hi"}, {"speaker": "B", "dia_id": "D1:2", "text": "Hello",
                "img_url": ["https://example.com/x.jpg"], "blip_caption": "a photo of a red kayak", "query": "kayak"}]}}"#;
        std::fs::write(&locomo, sample).unwrap();
        let turns = read_turns(&locomo).unwrap();
        assert_eq!(turns.iter().map(|turn| turn.reference.as_str()).collect::<Vec<_>>(), ["s1:D1:1", "s1:D1:2"]);
        assert_eq!(turns[1].time, Some(Utc.with_ymd_and_hms(2023, 5, 8, 13, 57, 0).unwrap()));
        assert_eq!(turns[0].content, "A: Hi");
        assert_eq!(turns[1].content, "B: Hello [shared a photo: a photo of a red kayak]");
        assert_eq!(turns[1].thread.as_deref(), Some("s1:session_1"));
    }
}
