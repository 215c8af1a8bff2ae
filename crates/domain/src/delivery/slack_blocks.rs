//! A routine's Markdown output as Slack Block Kit messages, within Slack's
//! limits: a header's text at most 150 characters, a section's 3,000, at
//! most 50 blocks a message. Longer text is split across sections and
//! messages (marked "part 2/3"), never cut; every message carries a
//! plain-text fallback of its own part.

use serde_json::{Value, json};

use super::markdown::{MdBlock, blocks, to_mrkdwn, to_plain};

pub const MAX_BLOCKS: usize = 50;
pub const MAX_SECTION_CHARS: usize = 3000;
pub const MAX_HEADER_CHARS: usize = 150;
/// Most characters of text (blocks and fallback) one message carries; well
/// under Slack's 40,000 for `text`.
pub const MAX_MESSAGE_CHARS: usize = 12_000;

/// One `chat.postMessage` (or incoming-webhook) body, without the channel.
#[derive(Clone, Debug, PartialEq)]
pub struct SlackMessage {
    /// The plain-text fallback (notifications, clients without blocks).
    pub text: String,
    pub blocks: Vec<Value>,
}

/// The context line under the last message: the run's cost and a link to it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Footer {
    pub label: String,
    pub cost_usd: Option<f64>,
    pub run_url: Option<String>,
}

impl Footer {
    fn text(&self) -> String {
        let mut parts = vec![self.label.clone()];
        parts.push(match self.cost_usd {
            Some(cost) => format!("cost ${cost:.4}"),
            None => "cost unknown".to_string(),
        });
        if let Some(url) = &self.run_url {
            parts.push(format!("<{url}|view the run>"));
        }
        parts.join(" · ")
    }
}

/// Block Kit messages for `markdown`, in order.
pub fn slack_messages(markdown: &str, footer: &Footer) -> Vec<SlackMessage> {
    let mut pieces: Vec<(Value, String)> = Vec::new();
    for block in blocks(markdown) {
        match block {
            MdBlock::Heading(text) if text.chars().count() <= MAX_HEADER_CHARS => {
                let plain = to_plain(&text);
                pieces.push((
                    json!({"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": true}}),
                    plain,
                ));
            }
            MdBlock::Heading(text) => sections(&mut pieces, &format!("*{}*", to_mrkdwn(&text)), &to_plain(&text)),
            MdBlock::Paragraph(text) => sections(&mut pieces, &to_mrkdwn(&text), &to_plain(&text)),
            MdBlock::List(items) => {
                let slack: Vec<String> = items.iter().map(|(m, t)| format!("{m} {}", to_mrkdwn(t))).collect();
                let plain: Vec<String> = items.iter().map(|(m, t)| format!("{m} {}", to_plain(t))).collect();
                sections(&mut pieces, &slack.join("\n"), &plain.join("\n"));
            }
            MdBlock::Code(code) => {
                for chunk in split(&code, MAX_SECTION_CHARS - 8) {
                    let escaped = chunk.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                    let text = format!("```{escaped}```");
                    pieces.push((section(&text), chunk));
                }
            }
            MdBlock::Rule => pieces.push((json!({"type": "divider"}), "---".to_string())),
        }
    }
    if pieces.is_empty() {
        pieces.push((section("_(no output)_"), "(no output)".to_string()));
    }
    group(pieces, footer)
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// Sections for one Markdown block, split at lines or words when long. The
/// mrkdwn and the plain text are split apart: escaping lengthens the first.
fn sections(pieces: &mut Vec<(Value, String)>, slack: &str, plain: &str) {
    let slack_parts = split(slack, MAX_SECTION_CHARS);
    let plain_parts = split(plain, MAX_SECTION_CHARS);
    for (index, part) in slack_parts.iter().enumerate() {
        let fallback = if index + 1 == slack_parts.len() {
            plain_parts.get(index..).map(|rest| rest.join("\n")).unwrap_or_default()
        } else {
            plain_parts.get(index).cloned().unwrap_or_default()
        };
        pieces.push((section(part), fallback));
    }
}

/// Cuts `text` into parts of at most `max` characters, at a line break, else
/// at a space, else anywhere; the parts joined with the cut character (or
/// nothing) give `text` back.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(at, _)| at);
        let head = &rest[..limit];
        let cut = head.rfind('\n').or_else(|| head.rfind(' ')).filter(|&at| at > 0);
        match cut {
            Some(at) => {
                parts.push(rest[..at].to_string());
                rest = &rest[at + 1..];
            }
            None => {
                parts.push(head.to_string());
                rest = &rest[limit..];
            }
        }
    }
    parts.push(rest.to_string());
    parts
}

fn group(pieces: Vec<(Value, String)>, footer: &Footer) -> Vec<SlackMessage> {
    let mut messages: Vec<SlackMessage> = Vec::new();
    let mut current = SlackMessage { text: String::new(), blocks: Vec::new() };
    let mut chars = 0;
    // One place in each message is kept for the context line.
    for (block, plain) in pieces {
        let size = plain.chars().count() + block_chars(&block);
        if !current.blocks.is_empty() && (current.blocks.len() + 1 >= MAX_BLOCKS || chars + size > MAX_MESSAGE_CHARS) {
            messages.push(std::mem::replace(&mut current, SlackMessage { text: String::new(), blocks: Vec::new() }));
            chars = 0;
        }
        if !current.text.is_empty() {
            current.text.push('\n');
        }
        current.text.push_str(&plain);
        current.blocks.push(block);
        chars += size;
    }
    messages.push(current);
    let count = messages.len();
    for (index, message) in messages.iter_mut().enumerate() {
        let mut context = if index + 1 == count { footer.text() } else { footer.label.clone() };
        if count > 1 {
            context = format!("part {}/{count} · {context}", index + 1);
        }
        message.blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}));
    }
    messages
}

fn block_chars(block: &Value) -> usize {
    block.pointer("/text/text").and_then(Value::as_str).map_or(0, |text| text.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn footer() -> Footer {
        Footer { label: "morning-plan".into(), cost_usd: Some(0.0123), run_url: Some("http://s/runs/4".into()) }
    }

    #[test]
    fn a_short_plan_is_one_message_with_header_sections_and_context() {
        let messages = slack_messages("# Today\n\n- **Standup** 09:00\n- Lunch", &footer());
        assert_eq!(messages.len(), 1);
        let blocks = &messages[0].blocks;
        assert_eq!(
            blocks[0],
            json!({"type": "header", "text": {"type": "plain_text", "text": "Today", "emoji": true}})
        );
        assert_eq!(blocks[1]["text"]["text"], "• *Standup* 09:00\n• Lunch");
        assert_eq!(blocks[2]["elements"][0]["text"], "morning-plan · cost $0.0123 · <http://s/runs/4|view the run>");
        assert_eq!(messages[0].text, "Today\n• Standup 09:00\n• Lunch");
    }

    #[test]
    fn long_output_is_split_within_limits_and_nothing_is_lost() {
        let paragraph: String = (0..700).map(|i| format!("word{i} ")).collect();
        let items: String = (0..120).map(|i| format!("- item {i}\n")).collect();
        let doc = format!("# {}\n\n{paragraph}\n\n{items}", "H".repeat(200));
        let messages = slack_messages(&doc, &footer());
        assert!(messages.len() >= 2, "{}", messages.len());
        let mut text = String::new();
        for (index, message) in messages.iter().enumerate() {
            assert!(message.blocks.len() <= MAX_BLOCKS);
            assert!(message.text.chars().count() <= MAX_MESSAGE_CHARS);
            for block in &message.blocks {
                let limit = if block["type"] == "header" { MAX_HEADER_CHARS } else { MAX_SECTION_CHARS };
                assert!(block_chars(block) <= limit);
            }
            let context = message.blocks.last().unwrap()["elements"][0]["text"].as_str().unwrap().to_string();
            assert!(context.starts_with(&format!("part {}/{}", index + 1, messages.len())), "{context}");
            text.push_str(&message.text);
            text.push('\n');
        }
        for i in [0, 350, 699] {
            assert!(text.contains(&format!("word{i} ")) || text.contains(&format!("word{i}\n")), "word{i} lost");
        }
        assert!(text.contains("• item 119"));
        assert!(text.contains(&"H".repeat(200)), "a long heading is kept whole");
    }

    #[test]
    fn split_cuts_at_lines_then_words_then_anywhere() {
        assert_eq!(split("ab\ncd ef", 5), vec!["ab", "cd ef"]);
        assert_eq!(split("abc def", 5), vec!["abc", "def"]);
        assert_eq!(split("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(split("é".repeat(4).as_str(), 3), vec!["ééé", "é"]);
    }

    #[test]
    fn empty_output_still_says_so() {
        let messages = slack_messages("", &Footer::default());
        assert_eq!(messages[0].blocks[0]["text"]["text"], "_(no output)_");
    }
}
