//! The agent's Markdown read as blocks (headings, paragraphs, lists, code,
//! rules), and its inline marks rewritten for Slack's `mrkdwn` or removed
//! for plain text. Only what agents write is read; anything else passes
//! through as text, never dropped.

/// One block of a Markdown document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MdBlock {
    Heading(String),
    Paragraph(String),
    /// Items with their marker (`•` or `3.`).
    List(Vec<(String, String)>),
    Code(String),
    Rule,
}

/// Splits a document into blocks.
pub fn blocks(markdown: &str) -> Vec<MdBlock> {
    let mut out = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Vec<(String, String)> = Vec::new();
    let mut lines = markdown.lines();
    let flush = |out: &mut Vec<MdBlock>, paragraph: &mut Vec<&str>, list: &mut Vec<(String, String)>| {
        if !paragraph.is_empty() {
            out.push(MdBlock::Paragraph(paragraph.join("\n")));
            paragraph.clear();
        }
        if !list.is_empty() {
            out.push(MdBlock::List(std::mem::take(list)));
        }
    };
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            flush(&mut out, &mut paragraph, &mut list);
            let mut code = Vec::new();
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    break;
                }
                code.push(inner);
            }
            out.push(MdBlock::Code(code.join("\n")));
        } else if trimmed.is_empty() {
            flush(&mut out, &mut paragraph, &mut list);
        } else if let Some(heading) = heading(trimmed) {
            flush(&mut out, &mut paragraph, &mut list);
            out.push(MdBlock::Heading(heading.to_string()));
        } else if matches!(trimmed, "---" | "***" | "___") {
            flush(&mut out, &mut paragraph, &mut list);
            out.push(MdBlock::Rule);
        } else if let Some((marker, item)) = list_item(line) {
            if !paragraph.is_empty() {
                flush(&mut out, &mut paragraph, &mut list);
            }
            list.push((marker, item.to_string()));
        } else if !list.is_empty() && line.starts_with([' ', '\t']) {
            if let Some(last) = list.last_mut() {
                last.1.push(' ');
                last.1.push_str(trimmed);
            }
        } else {
            if !list.is_empty() {
                flush(&mut out, &mut paragraph, &mut list);
            }
            paragraph.push(trimmed);
        }
    }
    flush(&mut out, &mut paragraph, &mut list);
    out
}

fn heading(line: &str) -> Option<&str> {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
        Some(line[hashes..].trim().trim_end_matches('#').trim_end())
    } else {
        None
    }
}

fn list_item(line: &str) -> Option<(String, &str)> {
    let indent = line.len() - line.trim_start().len();
    let line = line.trim_start();
    let nested = if indent >= 2 { "    " } else { "" };
    for bullet in ["- ", "* ", "+ "] {
        if let Some(item) = line.strip_prefix(bullet) {
            return Some((format!("{nested}•"), item.trim()));
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0
        && digits < 4
        && let Some(item) = line[digits..].strip_prefix(". ").or_else(|| line[digits..].strip_prefix(") "))
    {
        return Some((format!("{nested}{}.", &line[..digits]), item.trim()));
    }
    None
}

/// Inline Markdown as Slack `mrkdwn`: `**b**` → `*b*`, `*i*` → `_i_`,
/// `~~s~~` → `~s~`, `[t](u)` → `<u|t>`; `&`, `<`, `>` escaped; code spans kept.
pub fn to_mrkdwn(text: &str) -> String {
    inline(text, true)
}

/// Inline Markdown without its marks (`[t](u)` → `t (u)`).
pub fn to_plain(text: &str) -> String {
    inline(text, false)
}

fn escape(out: &mut String, c: char, slack: bool) {
    match c {
        '&' if slack => out.push_str("&amp;"),
        '<' if slack => out.push_str("&lt;"),
        '>' if slack => out.push_str("&gt;"),
        c => out.push(c),
    }
}

fn inline(text: &str, slack: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '`'
            && let Some(end) = chars[i + 1..].iter().position(|&d| d == '`')
        {
            let code: String = chars[i + 1..i + 1 + end].iter().collect();
            if slack {
                out.push('`');
            }
            code.chars().for_each(|c| escape(&mut out, c, slack));
            if slack {
                out.push('`');
            }
            i += end + 2;
            continue;
        }
        if c == '['
            && let Some((label, url, used)) = link(&chars[i..])
        {
            if slack {
                out.push('<');
                out.push_str(&url);
                out.push('|');
                label.chars().for_each(|c| escape(&mut out, c, slack));
                out.push('>');
            } else {
                out.push_str(&format!("{label} ({url})"));
            }
            i += used;
            continue;
        }
        let mark = match (c, next) {
            ('*', Some('*')) | ('_', Some('_')) => Some(("*", 2)),
            ('~', Some('~')) => Some(("~", 2)),
            ('*', Some(n)) if !n.is_whitespace() || closes(&chars, i) => Some(("_", 1)),
            ('*', None) if closes(&chars, i) => Some(("_", 1)),
            _ => None,
        };
        match mark {
            Some((slack_mark, used)) => {
                if slack {
                    out.push_str(slack_mark);
                }
                i += used;
            }
            None => {
                escape(&mut out, c, slack);
                i += 1;
            }
        }
    }
    out
}

/// A `*` that closes an italic span: text before it, not whitespace.
fn closes(chars: &[char], at: usize) -> bool {
    at > 0 && !chars[at - 1].is_whitespace()
}

fn link(chars: &[char]) -> Option<(String, String, usize)> {
    let close = chars.iter().position(|&c| c == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = chars[close + 2..].iter().position(|&c| c == ')')? + close + 2;
    let url: String = chars[close + 2..end].iter().collect();
    if url.is_empty() || url.contains(char::is_whitespace) {
        return None;
    }
    Some((chars[1..close].iter().collect(), url, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_as_headings_paragraphs_lists_and_code() {
        let doc = "# Plan for Monday\n\nA *busy* day.\nTwo lines.\n\n- Standup at 09:00\n- Review **PR 12**\n  with Ana\n1. First\n2) Second\n\n---\n```\nlet x = 1;\n```\n## Risks ##";
        assert_eq!(
            blocks(doc),
            vec![
                MdBlock::Heading("Plan for Monday".into()),
                MdBlock::Paragraph("A *busy* day.\nTwo lines.".into()),
                MdBlock::List(vec![
                    ("•".into(), "Standup at 09:00".into()),
                    ("•".into(), "Review **PR 12** with Ana".into()),
                    ("1.".into(), "First".into()),
                    ("2.".into(), "Second".into()),
                ]),
                MdBlock::Rule,
                MdBlock::Code("let x = 1;".into()),
                MdBlock::Heading("Risks".into()),
            ]
        );
    }

    #[test]
    fn inline_marks_become_mrkdwn_or_disappear() {
        let text = "**Ship** the *draft* ~~today~~ see [the doc](https://x.example/d) & `a<b` 2 * 3";
        assert_eq!(
            to_mrkdwn(text),
            "*Ship* the _draft_ ~today~ see <https://x.example/d|the doc> &amp; `a&lt;b` 2 * 3"
        );
        assert_eq!(to_plain(text), "Ship the draft today see the doc (https://x.example/d) & a<b 2 * 3");
    }
}
