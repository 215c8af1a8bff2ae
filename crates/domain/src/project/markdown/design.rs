//! `design.md` (Kiro) and `plan.md` (spec-kit): the sections the design
//! document models are read by heading (Overview or Summary, Architecture,
//! Data Model, Error Handling, Diagrams, Correctness Properties); every
//! other section is kept as written.

use super::super::SpecLayout;
use super::super::document::{DesignDocument, Diagram, Property, Section};
use super::lines::{blocks, bullet, heading_key, push_section, text_of};

const SPEC_KIT_TITLE: &str = "Implementation Plan:";

/// `**P1**: text _(Validates: R1.1, R2)_` → a property.
fn property(line: &str) -> Option<Property> {
    let rest = bullet(line)?.strip_prefix("**")?;
    let (id, rest) = rest.split_once("**")?;
    let mut text = rest.trim_start_matches(':').trim().to_string();
    let mut requirements = Vec::new();
    if let Some(start) = text.rfind("_(Validates:")
        && text.ends_with(")_")
    {
        requirements = text[start + "_(Validates:".len()..text.len() - 2]
            .split(',')
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .collect();
        text = text[..start].trim().to_string();
    }
    Some(Property { id: id.to_string(), text, requirements })
}

/// `### Title` followed by a ```` ```mermaid ```` fence.
fn diagrams(body: &str) -> Vec<Diagram> {
    let mut found = Vec::new();
    let mut title = String::new();
    let mut inside: Option<Vec<&str>> = None;
    for line in body.lines() {
        match inside.as_mut() {
            Some(lines) if line.trim_start().starts_with("```") => {
                found.push(Diagram { title: std::mem::take(&mut title), mermaid: lines.join("\n") });
                inside = None;
            }
            Some(lines) => lines.push(line),
            None if line.trim_start().starts_with("```mermaid") => inside = Some(Vec::new()),
            None => {
                if let Some(heading) = line.strip_prefix("### ") {
                    title = heading.trim().to_string();
                }
            }
        }
    }
    for (index, diagram) in found.iter_mut().enumerate() {
        if diagram.title.is_empty() {
            diagram.title = format!("Diagram {}", index + 1);
        }
    }
    found
}

pub(super) fn parse(layout: SpecLayout, text: &str) -> DesignDocument {
    let blocks = blocks(text);
    let mut document = DesignDocument::default();
    let mut overview = vec![text_of(&blocks[0].lines)];
    let mut index = 1;
    while index < blocks.len() {
        let block = &blocks[index];
        index += 1;
        if block.level == 1 && document.title.is_empty() {
            document.title = block.heading.trim_start_matches(SPEC_KIT_TITLE).trim().to_string();
            overview.push(text_of(&block.lines));
            continue;
        }
        let end = blocks[index..]
            .iter()
            .position(|next| next.level <= block.level.max(2))
            .map_or(blocks.len(), |at| index + at);
        let mut parts = vec![text_of(&block.lines)];
        for deeper in &blocks[index..end] {
            parts.push(format!("{} {}", "#".repeat(deeper.level), deeper.heading));
            parts.push(text_of(&deeper.lines));
        }
        index = end;
        let body = parts.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("\n\n");
        match heading_key(block.heading).as_str() {
            "overview" | "summary" => overview.push(body),
            "architecture" => document.architecture = body,
            "data model" | "data models" => document.data_model = body,
            "error handling" => document.error_handling = body,
            "diagrams" => document.diagrams = diagrams(&body),
            "correctness properties" => document.properties = body.lines().filter_map(property).collect(),
            _ => document.sections.push(Section { heading: block.heading.to_string(), body }),
        }
    }
    document.overview = overview.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("\n\n");
    if document.title.is_empty() {
        document.title = match layout {
            SpecLayout::Kiro => "Design Document".into(),
            SpecLayout::SpecKit => "Plan".into(),
        };
    }
    document
}

pub(super) fn render(layout: SpecLayout, document: &DesignDocument) -> String {
    let mut out = match layout {
        SpecLayout::SpecKit => format!("# {SPEC_KIT_TITLE} {}\n", document.title),
        SpecLayout::Kiro => format!("# {}\n", document.title),
    };
    let overview = match layout {
        SpecLayout::SpecKit => "Summary",
        SpecLayout::Kiro => "Overview",
    };
    for (heading, body) in [
        (overview, &document.overview),
        ("Architecture", &document.architecture),
        ("Data Model", &document.data_model),
        ("Error Handling", &document.error_handling),
    ] {
        if !body.is_empty() {
            push_section(&mut out, 2, heading, body);
        }
    }
    if !document.diagrams.is_empty() {
        let body: Vec<String> = document
            .diagrams
            .iter()
            .map(|diagram| format!("### {}\n\n```mermaid\n{}\n```", diagram.title, diagram.mermaid.trim_end()))
            .collect();
        push_section(&mut out, 2, "Diagrams", &body.join("\n\n"));
    }
    if !document.properties.is_empty() {
        let body: Vec<String> = document
            .properties
            .iter()
            .map(|property| {
                let validates = if property.requirements.is_empty() {
                    String::new()
                } else {
                    format!(" _(Validates: {})_", property.requirements.join(", "))
                };
                format!("- **{}**: {}{validates}", property.id, property.text)
            })
            .collect();
        push_section(&mut out, 2, "Correctness Properties", &body.join("\n"));
    }
    for section in &document.sections {
        push_section(&mut out, 2, &section.heading, &section.body);
    }
    out
}
