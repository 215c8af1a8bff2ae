//! `requirements.md` (Kiro: `### Requirement 1`, `**User Story:**`,
//! `#### Acceptance Criteria`) and `spec.md` (spec-kit: `### User Story 1 -
//! Title (Priority: P1)`, `**Acceptance Scenarios**:`). A story's number is
//! its id (`R1`); its n-th criterion is `R1.n` unless the item says another
//! (`3. [R1.4] WHEN …`). Open questions are the `## Open Questions` list and
//! spec-kit's `[NEEDS CLARIFICATION: …]` markers.

use super::super::SpecLayout;
use super::super::document::{Criterion, Requirement, RequirementsDocument, Section, is_criterion_id};
use super::lines::{Block, blocks, bullet, clarifications, heading_key, numbered_item, push_section, text_of};

const SPEC_KIT_TITLE: &str = "Feature Specification:";
const SPEC_KIT_STORIES: &str = "User Scenarios & Testing";
const KIRO_STORIES: &str = "Requirements";
const OPEN_QUESTIONS: &str = "Open Questions";

/// The heading the stories are listed under.
fn stories_heading(layout: SpecLayout) -> &'static str {
    match layout {
        SpecLayout::SpecKit => SPEC_KIT_STORIES,
        SpecLayout::Kiro => KIRO_STORIES,
    }
}

/// `Requirement 3: Title`, `User Story 3 - Title (Priority: P1)` → number, title, priority.
fn story_heading(heading: &str) -> Option<(u32, String, Option<String>)> {
    let rest = heading.strip_prefix("Requirement ").or_else(|| heading.strip_prefix("User Story "))?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let number: u32 = rest[..digits].parse().ok()?;
    let mut title = rest[digits..].trim_start_matches([':', '-', '–', '—', ' ']).trim().to_string();
    let mut priority = None;
    if let Some(start) = title.rfind("(Priority:")
        && title.ends_with(')')
    {
        priority = Some(title[start + "(Priority:".len()..title.len() - 1].trim().to_string());
        title = title[..start].trim().to_string();
    }
    if title.is_empty() {
        title = format!("Requirement {number}");
    }
    Some((number, title, priority))
}

fn requirement(
    number: u32,
    title: String,
    priority: Option<String>,
    block: &Block<'_>,
    tail: &[Block<'_>],
) -> Requirement {
    let id = format!("R{number}");
    let mut story = Vec::new();
    let mut criteria: Vec<Criterion> = Vec::new();
    let mut in_criteria = false;
    let lines = block.lines.iter().chain(tail.iter().flat_map(|block| block.lines.iter()));
    for &(number_of_line, line) in lines {
        let trimmed = line.trim();
        if trimmed.starts_with("**Acceptance Scenarios**") || trimmed.starts_with("**Acceptance Criteria**") {
            in_criteria = true;
            continue;
        }
        if in_criteria {
            if let Some((_, text)) = numbered_item(line) {
                let (own, text) = explicit_id(text);
                let id = own.unwrap_or_else(|| format!("{id}.{}", criteria.len() + 1));
                criteria.push(Criterion { id, text: text.to_string() });
                continue;
            }
            if let Some(last) = criteria.last_mut()
                && !trimmed.is_empty()
                && line.starts_with(char::is_whitespace)
            {
                last.text.push('\n');
                last.text.push_str(trimmed);
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            in_criteria = false;
        }
        let line = trimmed.strip_prefix("**User Story:**").map(str::trim).unwrap_or(line);
        story.push((number_of_line, line));
    }
    Requirement { id, title, story: text_of(&story), priority, criteria }
}

/// `[R1.4] WHEN …` → the id and the rest.
fn explicit_id(text: &str) -> (Option<String>, &str) {
    if let Some(rest) = text.strip_prefix('[')
        && let Some((id, after)) = rest.split_once(']')
        && is_criterion_id(id)
    {
        return (Some(id.to_string()), after.trim_start());
    }
    (None, text)
}

pub(super) fn parse(layout: SpecLayout, text: &str) -> RequirementsDocument {
    let blocks = blocks(text);
    let mut document = RequirementsDocument::default();
    let mut introduction = vec![text_of(&blocks[0].lines)];
    let mut index = 1;
    let mut in_stories = false;
    while index < blocks.len() {
        let block = &blocks[index];
        index += 1;
        let key = heading_key(block.heading);
        match block.level {
            1 if document.title.is_empty() => {
                document.title = block.heading.trim_start_matches(SPEC_KIT_TITLE).trim().to_string();
                introduction.push(text_of(&block.lines));
                continue;
            }
            2 => {
                in_stories = key == stories_heading(layout).to_lowercase();
                if in_stories {
                    let body = text_of(&block.lines);
                    if !body.is_empty() {
                        document.sections.push(Section { heading: block.heading.to_string(), body });
                    }
                    continue;
                }
                if key == "introduction" {
                    introduction.push(text_of(&block.lines));
                    continue;
                }
                if key == OPEN_QUESTIONS.to_lowercase() {
                    document
                        .open_questions
                        .extend(block.lines.iter().filter_map(|(_, line)| bullet(line)).map(|q| q.to_string()));
                    continue;
                }
            }
            3 if in_stories => {
                if let Some((number, title, priority)) = story_heading(block.heading) {
                    // Deeper headings (Kiro's `#### Acceptance Criteria`) belong to the story.
                    let end =
                        blocks[index..].iter().position(|next| next.level <= 3).map_or(blocks.len(), |at| index + at);
                    let tail: Vec<Block<'_>> = blocks[index..end]
                        .iter()
                        .map(|deeper| {
                            let marker = if heading_key(deeper.heading) == "acceptance criteria" {
                                "**Acceptance Criteria**"
                            } else {
                                deeper.heading
                            };
                            let mut lines = vec![(0, marker)];
                            lines.extend(deeper.lines.iter().copied());
                            Block { level: deeper.level, heading: deeper.heading, lines }
                        })
                        .collect();
                    index = end;
                    document.requirements.push(requirement(number, title, priority, block, &tail));
                    continue;
                }
            }
            _ => {}
        }
        // Anything else is kept as written, deeper headings inside its body.
        let end = blocks[index..]
            .iter()
            .position(|next| next.level <= block.level.max(2))
            .map_or(blocks.len(), |at| index + at);
        let mut body = vec![text_of(&block.lines)];
        for deeper in &blocks[index..end] {
            body.push(format!("{} {}", "#".repeat(deeper.level), deeper.heading));
            body.push(text_of(&deeper.lines));
        }
        index = end;
        let body = body.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("\n\n");
        document.sections.push(Section { heading: block.heading.to_string(), body });
    }
    document.introduction = introduction.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("\n\n");
    if document.title.is_empty() {
        document.title = match layout {
            SpecLayout::Kiro => "Requirements Document".into(),
            SpecLayout::SpecKit => "Specification".into(),
        };
    }
    let mut questions = clarifications(text);
    questions.retain(|question| !document.open_questions.contains(question));
    document.open_questions.extend(questions);
    document
}

pub(super) fn render(layout: SpecLayout, document: &RequirementsDocument) -> String {
    let mut out = match layout {
        SpecLayout::SpecKit => format!("# {SPEC_KIT_TITLE} {}\n", document.title),
        SpecLayout::Kiro => format!("# {}\n", document.title),
    };
    match layout {
        SpecLayout::Kiro if !document.introduction.is_empty() => {
            push_section(&mut out, 2, "Introduction", &document.introduction)
        }
        _ if !document.introduction.is_empty() => out.push_str(&format!("\n{}\n", document.introduction.trim_end())),
        _ => {}
    }
    let stories = stories_heading(layout);
    push_section(&mut out, 2, stories, "");
    for requirement in &document.requirements {
        let number = requirement.id.trim_start_matches('R');
        let heading = match layout {
            SpecLayout::SpecKit => {
                let priority = requirement.priority.as_ref().map(|p| format!(" (Priority: {p})")).unwrap_or_default();
                format!("User Story {number} - {}{priority}", requirement.title)
            }
            SpecLayout::Kiro if requirement.title == format!("Requirement {number}") => format!("Requirement {number}"),
            SpecLayout::Kiro => format!("Requirement {number}: {}", requirement.title),
        };
        let story = match layout {
            SpecLayout::Kiro if !requirement.story.is_empty() => format!("**User Story:** {}", requirement.story),
            _ => requirement.story.clone(),
        };
        push_section(&mut out, 3, &heading, &story);
        match layout {
            SpecLayout::SpecKit => out.push_str("\n**Acceptance Scenarios**:\n\n"),
            SpecLayout::Kiro => out.push_str("\n#### Acceptance Criteria\n\n"),
        }
        for (position, criterion) in requirement.criteria.iter().enumerate() {
            let positional = format!("{}.{}", requirement.id, position + 1);
            let own = if criterion.id == positional { String::new() } else { format!("[{}] ", criterion.id) };
            let text = criterion.text.replace('\n', "\n   ");
            out.push_str(&format!("{}. {own}{text}\n", position + 1));
        }
    }
    let sections = document.sections.iter().filter(|section| heading_key(&section.heading) != stories.to_lowercase());
    if !document.open_questions.is_empty() {
        let list: Vec<String> = document.open_questions.iter().map(|q| format!("- {q}")).collect();
        push_section(&mut out, 2, OPEN_QUESTIONS, &list.join("\n"));
    }
    for section in sections {
        push_section(&mut out, 2, &section.heading, &section.body);
    }
    out
}
