//! Spec-kit and Kiro spec folders, read and written without a model.
//!
//! Import parses the three Markdown files into the phase documents: user
//! stories and their acceptance criteria with ids (`R1`, `R1.2`), the
//! design's known sections, and the task list — ids (`T001`, Kiro's `1.2`),
//! `[P]` markers, checkboxes, requirement ids, and the dependency prose
//! spec-kit writes ("T001 before T002-T006", "T005 blocks T006") as graph
//! edges. Sections it does not model are kept verbatim; a line it cannot
//! read is reported with its line number (and kept), never dropped.
//! Export writes the same layout back, checkboxes reflecting task state, so
//! a spec round-trips through Git.

mod design;
mod lines;
mod requirements;
mod tasks;

use std::collections::BTreeSet;
use std::fmt;

use super::SpecLayout;
use super::document::{DesignDocument, RequirementsDocument, TasksDocument};

/// The three files of a spec folder, as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecFiles {
    pub requirements: String,
    pub design: String,
    pub tasks: String,
}

/// A line import could not read, kept where it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `tasks.md`, `spec.md`, …
    pub file: &'static str,
    /// 1-based.
    pub line: usize,
    pub text: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {} ({:?})", self.file, self.line, self.reason, self.text.trim())
    }
}

/// What an import read.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedSpec {
    pub layout: SpecLayout,
    pub requirements: RequirementsDocument,
    pub design: DesignDocument,
    pub tasks: TasksDocument,
    /// Ids of tasks whose box was checked.
    pub done_tasks: Vec<String>,
    pub problems: Vec<Problem>,
}

/// The layout a folder holding `names` is in: Kiro when it has
/// `requirements.md`, spec-kit when it has `spec.md`.
pub fn detect_layout<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<SpecLayout> {
    let names: BTreeSet<&str> = names.into_iter().collect();
    if names.contains("requirements.md") {
        Some(SpecLayout::Kiro)
    } else if names.contains("spec.md") {
        Some(SpecLayout::SpecKit)
    } else {
        None
    }
}

/// Reads a spec folder's files.
pub fn import(layout: SpecLayout, files: &SpecFiles) -> ImportedSpec {
    let [requirements_file, design_file, tasks_file] = layout.file_names();
    let mut problems = Vec::new();
    let requirements = requirements::parse(layout, &files.requirements);
    let design = design::parse(layout, &files.design);
    let known = requirements.ids().into_iter().map(str::to_string).collect();
    let parsed = tasks::parse(layout, &files.tasks, &known);
    for problem in parsed.problems {
        problems.push(Problem { file: tasks_file, ..problem });
    }
    let _ = (requirements_file, design_file);
    ImportedSpec { layout, requirements, design, tasks: parsed.document, done_tasks: parsed.done, problems }
}

/// Writes the three documents in `layout`, a task's box checked when `is_done` says so.
pub fn export(
    layout: SpecLayout,
    requirements: &RequirementsDocument,
    design: &DesignDocument,
    tasks: &TasksDocument,
    is_done: &dyn Fn(&str) -> bool,
) -> SpecFiles {
    SpecFiles {
        requirements: requirements::render(layout, requirements),
        design: design::render(layout, design),
        tasks: tasks::render(layout, tasks, is_done),
    }
}

#[cfg(test)]
mod tests;
