//! Import of real-shaped spec-kit and Kiro folders (the fixtures in
//! `crates/domain/tests/fixtures`), the problems reported by line, and the
//! round trip: export → import gives the same documents and states, and
//! exporting again gives the same Markdown (snapshotted).

use super::*;
use crate::project::{NewProject, PhaseDocument, PhaseGates};

fn spec_kit() -> SpecFiles {
    SpecFiles {
        requirements: include_str!("../../../tests/fixtures/spec-kit/spec.md").into(),
        design: include_str!("../../../tests/fixtures/spec-kit/plan.md").into(),
        tasks: include_str!("../../../tests/fixtures/spec-kit/tasks.md").into(),
    }
}

fn kiro() -> SpecFiles {
    SpecFiles {
        requirements: include_str!("../../../tests/fixtures/kiro/requirements.md").into(),
        design: include_str!("../../../tests/fixtures/kiro/design.md").into(),
        tasks: include_str!("../../../tests/fixtures/kiro/tasks.md").into(),
    }
}

fn task<'a>(spec: &'a ImportedSpec, id: &str) -> &'a crate::project::TaskSpec {
    spec.tasks.tasks.iter().find(|task| task.id == id).unwrap_or_else(|| panic!("no task {id}"))
}

fn as_project(spec: &ImportedSpec) -> NewProject {
    NewProject {
        gates: PhaseGates::AUTOMATIC,
        layout: spec.layout,
        documents: vec![
            PhaseDocument::Requirements(spec.requirements.clone()),
            PhaseDocument::Design(spec.design.clone()),
            PhaseDocument::Tasks(spec.tasks.clone()),
        ],
        done_tasks: spec.done_tasks.clone(),
        ..NewProject::from_brief(&spec.requirements.title, &spec.requirements.introduction)
    }
}

fn round_trip(spec: &ImportedSpec) -> (SpecFiles, ImportedSpec) {
    let done = |id: &str| spec.done_tasks.iter().any(|done| done == id);
    let files = export(spec.layout, &spec.requirements, &spec.design, &spec.tasks, &done);
    (files.clone(), import(spec.layout, &files))
}

#[test]
fn a_spec_kit_folder_becomes_documents_and_a_task_graph() {
    let spec = import(SpecLayout::SpecKit, &spec_kit());
    assert_eq!(spec.requirements.title, "Photo albums");
    let ids: Vec<&str> = spec.requirements.ids().into_iter().collect();
    assert_eq!(ids, ["R1", "R1.1", "R1.2", "R2", "R2.1"]);
    assert_eq!(spec.requirements.requirements[0].priority.as_deref(), Some("P1"));
    assert_eq!(spec.requirements.open_questions, ["auth method not specified"]);
    let kept: Vec<&str> = spec.requirements.sections.iter().map(|section| section.heading.as_str()).collect();
    assert_eq!(kept, ["Edge Cases", "Requirements *(mandatory)*"]);
    assert!(spec.requirements.sections[1].body.contains("**FR-001**"), "unmodelled sections are kept");

    assert_eq!(spec.design.title, "Photo albums");
    assert!(spec.design.overview.contains("SQLite library"));
    assert!(spec.design.data_model.contains("erDiagram"));
    assert_eq!(spec.design.sections.len(), 2, "Technical Context and Project Structure kept");

    assert_eq!(spec.tasks.tasks.len(), 7);
    assert_eq!(spec.done_tasks, ["T001"]);
    assert!(task(&spec, "T002").parallel && !task(&spec, "T006").parallel);
    assert_eq!(task(&spec, "T002").depends_on, ["T001"]);
    assert_eq!(task(&spec, "T006").depends_on, ["T001", "T005"]);
    assert_eq!(task(&spec, "T007").depends_on, ["T006"]);
    assert_eq!(task(&spec, "T004").requirements, ["R1"]);
    assert_eq!(task(&spec, "T007").requirements, ["R2", "R2.1"]);
    assert_eq!(task(&spec, "T005").done_when, "a photo belongs to exactly one album");
    assert_eq!(task(&spec, "T004").group.as_deref(), Some("Phase 2: User Story 1 - Organise photos (Priority: P1)"));

    let problems: Vec<(usize, &str)> = spec.problems.iter().map(|p| (p.line, p.text.as_str())).collect();
    assert_eq!(problems, [(21, "- [ ] TBD work out hosting"), (29, "- T004 and T009 go together")]);
    assert_eq!(
        spec.problems[0].to_string(),
        "tasks.md:21: a checkbox without a task id and title (like T001 or 1.2) (\"- [ ] TBD work out hosting\")"
    );
    assert_eq!(as_project(&spec).validate(), Ok(()));
}

#[test]
fn a_kiro_folder_becomes_documents_and_a_task_graph() {
    let spec = import(SpecLayout::Kiro, &kiro());
    assert_eq!(spec.requirements.title, "Requirements Document");
    assert_eq!(spec.requirements.introduction, "A command-line todo list that keeps its items in a file.");
    let second = &spec.requirements.requirements[1];
    assert_eq!((second.id.as_str(), second.title.as_str()), ("R2", "Completing items"));
    assert_eq!(second.story, "As a user, I want to mark items done, so that the list stays short");
    assert_eq!(spec.requirements.requirements[0].criteria[1].id, "R1.2");
    assert_eq!(spec.design.architecture, "A parser and a store.");
    assert_eq!(spec.design.data_model, "Item: text, done.");

    let ids: Vec<&str> = spec.tasks.tasks.iter().map(|task| task.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "2.1", "2.2"]);
    assert_eq!(spec.done_tasks, ["1"]);
    assert_eq!(task(&spec, "2.1").requirements, ["R1.1", "R1.2"]);
    assert_eq!(task(&spec, "2.2").depends_on, ["2.1"]);
    assert_eq!(task(&spec, "1").details, ["- Create the crate and the CLI skeleton"]);
    assert!(spec.problems.is_empty(), "{:?}", spec.problems);
    assert_eq!(as_project(&spec).validate(), Ok(()));
}

#[test]
fn an_exported_spec_kit_spec_reads_back_the_same() {
    let spec = import(SpecLayout::SpecKit, &spec_kit());
    let (files, again) = round_trip(&spec);
    assert_eq!(again.requirements, spec.requirements);
    assert_eq!(again.design, spec.design);
    assert_eq!(again.tasks, spec.tasks);
    assert_eq!(again.done_tasks, spec.done_tasks);
    let (files_again, _) = round_trip(&again);
    assert_eq!(files_again, files, "a second export writes the same Markdown");
    insta::assert_snapshot!("spec_kit_spec", files.requirements);
    insta::assert_snapshot!("spec_kit_plan", files.design);
    insta::assert_snapshot!("spec_kit_tasks", files.tasks);
}

#[test]
fn an_exported_kiro_spec_reads_back_the_same() {
    let spec = import(SpecLayout::Kiro, &kiro());
    let (files, again) = round_trip(&spec);
    assert_eq!(again.requirements, spec.requirements);
    assert_eq!(again.design, spec.design);
    assert_eq!(again.tasks, spec.tasks);
    assert_eq!(again.done_tasks, spec.done_tasks);
    insta::assert_snapshot!("kiro_requirements", files.requirements);
    insta::assert_snapshot!("kiro_design", files.design);
    insta::assert_snapshot!("kiro_tasks", files.tasks);
}

#[test]
fn a_cycle_in_the_dependency_prose_is_named_when_the_project_is_checked() {
    let mut files = spec_kit();
    files.tasks.push_str("- T006 before T001\n");
    let spec = import(SpecLayout::SpecKit, &files);
    let error = as_project(&spec).validate().unwrap_err();
    assert_eq!(error.field, "documents[2].tasks");
    assert!(
        error.message.contains("cycle: T001 → T006 → T001") || error.message.contains("T006 → T001 → T006"),
        "{error}"
    );
}

#[test]
fn the_layout_is_told_by_the_file_names() {
    assert_eq!(detect_layout(["tasks.md", "requirements.md", "design.md"]), Some(SpecLayout::Kiro));
    assert_eq!(detect_layout(["spec.md", "plan.md"]), Some(SpecLayout::SpecKit));
    assert_eq!(detect_layout(["README.md"]), None);
}
