//! Splitting Markdown into headed blocks with line numbers (headings inside
//! fenced code are text), and the small text helpers the parsers share.

/// A heading and the lines under it up to the next heading of any level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Block<'a> {
    /// 0 for the text before the first heading.
    pub level: usize,
    pub heading: &'a str,
    pub lines: Vec<(usize, &'a str)>,
}

/// The file's blocks, in order; the first is the text before any heading
/// (level 0, maybe empty).
pub(super) fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks = vec![Block { level: 0, heading: "", lines: Vec::new() }];
    let mut fenced = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        match (!fenced).then(|| heading(line)).flatten() {
            Some((level, title)) => blocks.push(Block { level, heading: title, lines: Vec::new() }),
            None => {
                if let Some(block) = blocks.last_mut() {
                    block.lines.push((number, line));
                }
            }
        }
    }
    blocks
}

/// `## Title` → `(2, "Title")`.
pub(super) fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &line[level..];
    (rest.starts_with(' ') || rest.is_empty()).then(|| (level, rest.trim()))
}

/// A heading without spec-kit's `*(mandatory)*` remark, lower-cased.
pub(super) fn heading_key(heading: &str) -> String {
    let cut = heading.find("*(").unwrap_or(heading.len());
    heading[..cut].trim().to_lowercase()
}

/// The lines joined, without blank lines at either end.
pub(super) fn text_of(lines: &[(usize, &str)]) -> String {
    let texts: Vec<&str> = lines.iter().map(|(_, line)| line.trim_end()).collect();
    let start = texts.iter().position(|line| !line.is_empty()).unwrap_or(texts.len());
    let end = texts.iter().rposition(|line| !line.is_empty()).map_or(start, |end| end + 1);
    texts[start..end].join("\n")
}

/// `3. text` → `(3, "text")`.
pub(super) fn numbered_item(line: &str) -> Option<(u32, &str)> {
    let trimmed = line.trim_start();
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    let number = trimmed[..digits].parse().ok()?;
    let rest = trimmed[digits..].strip_prefix(". ")?;
    Some((number, rest.trim()))
}

/// `- text` or `* text` → `"text"`.
pub(super) fn bullet(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")).map(str::trim)
}

/// Appends a block of text under a heading, with the blank lines Markdown wants.
pub(super) fn push_section(out: &mut String, level: usize, heading: &str, body: &str) {
    out.push_str(&format!("\n{} {heading}\n", "#".repeat(level)));
    if !body.trim().is_empty() {
        out.push('\n');
        out.push_str(body.trim_end());
        out.push('\n');
    }
}

/// `[NEEDS CLARIFICATION: …]` markers (spec-kit's open questions) in `text`.
pub(super) fn clarifications(text: &str) -> Vec<String> {
    const MARKER: &str = "[NEEDS CLARIFICATION:";
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(MARKER) {
        let after = &rest[start + MARKER.len()..];
        let Some(end) = after.find(']') else { break };
        found.push(after[..end].trim().to_string());
        rest = &after[end + 1..];
    }
    found
}
