//! `tasks.md` in both layouts. A task is a checkbox line with an id
//! (`- [x] T003 [P] [US1] Title`, Kiro's `- [ ] 2.1 Title`); its indented
//! lines carry requirements (`_Requirements: 1.1, R2_`), dependencies
//! (`_Depends on: 1, 2.1_`), a done-when (`Done when: …`) and details.
//! The `Dependencies` section's prose becomes edges: "A before B", "A blocks
//! B", "B depends on A", "B after A", with lists and ranges (`T002-T006`).
//! Headings group tasks; the prose under them is kept as a section of the
//! same name.

use std::collections::{BTreeMap, BTreeSet};

use super::super::SpecLayout;
use super::super::document::{Section, TaskSpec, TasksDocument, is_criterion_id, is_requirement_id, is_task_id};
use super::Problem;
use super::lines::{blocks, heading_key, push_section, text_of};

const SPEC_KIT_TITLE: &str = "Tasks:";
const DEPENDENCIES: &str = "Dependencies";

pub(super) struct ParsedTasks {
    pub document: TasksDocument,
    pub done: Vec<String>,
    pub problems: Vec<Problem>,
}

fn problem(line: usize, text: &str, reason: impl Into<String>) -> Problem {
    Problem { file: "tasks.md", line, text: text.to_string(), reason: reason.into() }
}

/// `- [x] rest` → (checked, rest), also Kiro's optional `- [ ]* rest`.
fn checkbox(line: &str) -> Option<(bool, &str)> {
    let rest = line.trim_start().strip_prefix("- [")?;
    let (mark, rest) = rest.split_at_checked(1)?;
    let rest = rest.strip_prefix(']')?;
    let rest = rest.strip_prefix('*').unwrap_or(rest);
    let checked = match mark {
        "x" | "X" => true,
        " " => false,
        _ => return None,
    };
    Some((checked, rest.trim()))
}

/// A requirement reference as written: `R1.2` as is, Kiro's `1.2` as `R1.2`, `US3` as `R3`.
fn requirement_reference(text: &str) -> Option<String> {
    let text = text.trim().trim_matches(['[', ']', '_', '*']);
    let id = match text.strip_prefix("US") {
        Some(number) => format!("R{number}"),
        None if text.starts_with('R') => text.to_string(),
        None => format!("R{text}"),
    };
    (is_requirement_id(&id) || is_criterion_id(&id)).then_some(id)
}

/// The text after a `label:` in `_Label: text_`, `- Label: text`.
fn labelled<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let trimmed = line.trim().trim_start_matches("- ").trim_matches('_').trim();
    let (head, rest) = trimmed.split_once(':')?;
    head.trim().eq_ignore_ascii_case(label).then(|| rest.trim())
}

/// The task line after its checkbox: id, markers, title.
fn task_line(layout: SpecLayout, rest: &str, task: &mut TaskSpec, references: &mut Vec<String>) -> bool {
    let (id, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let id = id.trim_end_matches('.');
    if !is_task_id(id) {
        return false;
    }
    task.id = id.to_string();
    loop {
        rest = rest.trim_start();
        let Some(inner) = rest.strip_prefix('[') else { break };
        let Some((marker, after)) = inner.split_once(']') else { break };
        match marker {
            "P" => task.parallel = true,
            story if story.starts_with("US") => references.push(story.to_string()),
            _ => break,
        }
        rest = after;
    }
    let _ = layout;
    task.title = rest.trim().to_string();
    !task.title.is_empty()
}

/// Ids named in `text`, ranges (`T002-T006`, `T002–T006`) expanded.
fn ids_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let cleaned: String = text.chars().map(|c| if c == '–' || c == '—' { '-' } else { c }).collect();
    for word in cleaned.split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | ';' | '`' | '*')) {
        let word = word.trim_end_matches(['.', ':']);
        if let Some((from, to)) = word.split_once('-')
            && let Some(range) = range(from, to)
        {
            found.extend(range);
        } else if is_task_id(word) && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            found.push(word.to_string());
        }
    }
    found
}

fn range(from: &str, to: &str) -> Option<Vec<String>> {
    let prefix: String = from.chars().take_while(char::is_ascii_alphabetic).collect();
    let start = &from[prefix.len()..];
    let end = to.strip_prefix(prefix.as_str()).unwrap_or(to);
    let (first, last): (u32, u32) = (start.parse().ok()?, end.parse().ok()?);
    if prefix.is_empty() || first > last || last - first > 500 {
        return None;
    }
    Some((first..=last).map(|n| format!("{prefix}{n:0width$}", width = start.len())).collect())
}

/// The edges a dependency sentence states, as (task, dependency) pairs.
fn edges_in(line: &str) -> Option<Vec<(String, String)>> {
    let lower = line.to_lowercase();
    for (keyword, forward) in
        [(" before ", true), (" blocks ", true), (" depends on ", false), (" after ", false), (" requires ", false)]
    {
        if let Some(at) = lower.find(keyword) {
            let (left, right) = (ids_in(&line[..at]), ids_in(&line[at + keyword.len()..]));
            if left.is_empty() || right.is_empty() {
                return None;
            }
            let (firsts, thens) = if forward { (left, right) } else { (right, left) };
            return Some(
                thens.iter().flat_map(|then| firsts.iter().map(move |first| (then.clone(), first.clone()))).collect(),
            );
        }
    }
    None
}

pub(super) fn parse(layout: SpecLayout, text: &str, requirements: &BTreeSet<String>) -> ParsedTasks {
    let mut document = TasksDocument::default();
    let mut done = Vec::new();
    let mut problems = Vec::new();
    // (task id, dependency, line) from anywhere, checked once every task is known.
    let mut edges: Vec<(String, String, usize, String)> = Vec::new();
    let mut unread = Vec::new();
    let mut group: Option<String> = None;
    let mut introduction = Vec::new();
    for block in blocks(text) {
        // The title's block reads like the text before it (Kiro lists tasks right under it).
        let level = if block.level == 1 && document.title.is_empty() {
            document.title = block.heading.trim_start_matches(SPEC_KIT_TITLE).trim().to_string();
            0
        } else {
            block.level
        };
        let is_dependencies = level > 0 && heading_key(block.heading).starts_with(&DEPENDENCIES.to_lowercase());
        if level > 0 {
            group = Some(block.heading.to_string());
        }
        let mut prose = Vec::new();
        let mut current: Option<usize> = None;
        for &(number, line) in &block.lines {
            if let Some((checked, rest)) = checkbox(line) {
                let mut task = TaskSpec { group: group.clone(), ..TaskSpec::default() };
                let mut references = Vec::new();
                if !task_line(layout, rest, &mut task, &mut references) {
                    problems.push(problem(number, line, "a checkbox without a task id and title (like T001 or 1.2)"));
                    unread.push(line.trim_end().to_string());
                    current = None;
                    continue;
                }
                for reference in references {
                    match requirement_reference(&reference).filter(|id| requirements.contains(id)) {
                        Some(id) => task.requirements.push(id),
                        None => problems.push(problem(
                            number,
                            line,
                            format!("{reference} is not a requirement of the spec"),
                        )),
                    }
                }
                if checked {
                    done.push(task.id.clone());
                }
                document.tasks.push(task);
                current = Some(document.tasks.len() - 1);
                continue;
            }
            let indented = line.starts_with(char::is_whitespace) && !line.trim().is_empty();
            if let (Some(at), true) = (current, indented) {
                let task = &mut document.tasks[at];
                if let Some(list) = labelled(line, "Requirements") {
                    for reference in list.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                        match requirement_reference(reference).filter(|id| requirements.contains(id)) {
                            Some(id) => task.requirements.push(id),
                            None => problems.push(problem(
                                number,
                                line,
                                format!("{reference} is not a requirement of the spec"),
                            )),
                        }
                    }
                } else if let Some(list) = labelled(line, "Depends on") {
                    for dependency in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
                        edges.push((task.id.clone(), dependency.to_string(), number, line.to_string()));
                    }
                } else if let Some(text) = labelled(line, "Done when") {
                    task.done_when = text.to_string();
                } else {
                    task.details.push(line.trim().to_string());
                }
                continue;
            }
            if !line.trim().is_empty() {
                current = None;
            }
            if is_dependencies && !line.trim().is_empty() {
                if let Some(found) = edges_in(line) {
                    edges.extend(
                        found.into_iter().map(|(task, dependency)| (task, dependency, number, line.to_string())),
                    );
                    continue;
                }
                if !ids_in(line).is_empty() && !line.trim_start().starts_with('#') {
                    problems.push(problem(number, line, "names tasks but says no order that can be read"));
                }
            }
            prose.push((number, line));
        }
        if level == 0 {
            introduction.extend(prose);
        } else if block.heading != UNREAD {
            document.sections.push(Section { heading: block.heading.to_string(), body: text_of(&prose) });
        }
    }
    let known: BTreeMap<String, usize> =
        document.tasks.iter().enumerate().map(|(at, task)| (task.id.clone(), at)).collect();
    for (task, dependency, number, line) in edges {
        match (known.get(&task), known.contains_key(&dependency)) {
            (Some(&at), true) if task != dependency => {
                let depends_on = &mut document.tasks[at].depends_on;
                if !depends_on.contains(&dependency) {
                    depends_on.push(dependency);
                }
            }
            (None, _) => problems.push(problem(number, &line, format!("{task} is not a task of this list"))),
            _ => problems.push(problem(number, &line, format!("{dependency} is not another task of this list"))),
        }
    }
    if !unread.is_empty() {
        document.sections.push(Section { heading: UNREAD.to_string(), body: unread.join("\n") });
    }
    document.introduction = text_of(&introduction);
    if document.title.is_empty() {
        document.title = match layout {
            SpecLayout::Kiro => "Implementation Plan".into(),
            SpecLayout::SpecKit => "Tasks".into(),
        };
    }
    ParsedTasks { document, done, problems }
}

/// Where checkbox lines without a task id are kept, so export writes them back.
const UNREAD: &str = "Not read on import";

fn render_task(out: &mut String, layout: SpecLayout, task: &TaskSpec, done: bool) {
    let mark = if done { "x" } else { " " };
    let depth = if layout == SpecLayout::Kiro { task.id.matches('.').count() } else { 0 };
    let indent = "  ".repeat(depth);
    let mut markers = String::new();
    let mut other_references = Vec::new();
    if task.parallel {
        markers.push_str("[P] ");
    }
    for reference in &task.requirements {
        match layout {
            SpecLayout::SpecKit if is_requirement_id(reference) => {
                markers.push_str(&format!("[US{}] ", reference.trim_start_matches('R')));
            }
            SpecLayout::Kiro => other_references.push(reference.trim_start_matches('R').to_string()),
            SpecLayout::SpecKit => other_references.push(reference.clone()),
        }
    }
    let id =
        if layout == SpecLayout::Kiro && !task.id.contains('.') { format!("{}.", task.id) } else { task.id.clone() };
    out.push_str(&format!("{indent}- [{mark}] {id} {markers}{}\n", task.title));
    for detail in &task.details {
        out.push_str(&format!("{indent}  {detail}\n"));
    }
    if !task.done_when.is_empty() {
        out.push_str(&format!("{indent}  - Done when: {}\n", task.done_when));
    }
    if !other_references.is_empty() {
        out.push_str(&format!("{indent}  - _Requirements: {}_\n", other_references.join(", ")));
    }
    if layout == SpecLayout::Kiro && !task.depends_on.is_empty() {
        out.push_str(&format!("{indent}  - _Depends on: {}_\n", task.depends_on.join(", ")));
    }
}

/// Spec-kit's dependency lines: one per task others wait for, in task order.
fn dependency_lines(document: &TasksDocument) -> Vec<String> {
    document
        .tasks
        .iter()
        .filter_map(|first| {
            let thens: Vec<&str> = document
                .tasks
                .iter()
                .filter(|task| task.depends_on.contains(&first.id))
                .map(|task| task.id.as_str())
                .collect();
            (!thens.is_empty()).then(|| format!("- {} before {}", first.id, thens.join(", ")))
        })
        .collect()
}

pub(super) fn render(layout: SpecLayout, document: &TasksDocument, is_done: &dyn Fn(&str) -> bool) -> String {
    let mut out = match layout {
        SpecLayout::SpecKit => format!("# {SPEC_KIT_TITLE} {}\n", document.title),
        SpecLayout::Kiro => format!("# {}\n", document.title),
    };
    if !document.introduction.is_empty() {
        out.push_str(&format!("\n{}\n", document.introduction.trim_end()));
    }
    let tasks_of = |out: &mut String, group: Option<&str>| {
        let mut first = true;
        for task in document.tasks.iter().filter(|task| task.group.as_deref() == group) {
            if first {
                out.push('\n');
                first = false;
            }
            render_task(out, layout, task, is_done(&task.id));
        }
    };
    tasks_of(&mut out, None);
    let mut dependencies_written = layout == SpecLayout::Kiro;
    let mut written: BTreeSet<&str> = BTreeSet::new();
    for section in document.sections.iter().filter(|section| section.heading != UNREAD) {
        let is_dependencies = heading_key(&section.heading).starts_with(&DEPENDENCIES.to_lowercase());
        if is_dependencies && !dependencies_written {
            let mut body = dependency_lines(document).join("\n");
            if !section.body.is_empty() {
                body = format!("{body}\n\n{}", section.body);
            }
            push_section(&mut out, 2, &section.heading, &body);
            dependencies_written = true;
        } else {
            push_section(&mut out, 2, &section.heading, &section.body);
        }
        if written.insert(section.heading.as_str()) {
            tasks_of(&mut out, Some(&section.heading));
        }
    }
    let mut groups: Vec<&str> = Vec::new();
    for task in &document.tasks {
        if let Some(group) = task.group.as_deref()
            && !written.contains(group)
            && !groups.contains(&group)
        {
            groups.push(group);
        }
    }
    for group in groups {
        push_section(&mut out, 2, group, "");
        tasks_of(&mut out, Some(group));
    }
    let lines = dependency_lines(document);
    if !dependencies_written && !lines.is_empty() {
        push_section(&mut out, 2, DEPENDENCIES, &lines.join("\n"));
    }
    if let Some(unread) = document.sections.iter().find(|section| section.heading == UNREAD) {
        push_section(&mut out, 2, UNREAD, &unread.body);
    }
    out
}
