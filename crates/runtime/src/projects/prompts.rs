//! What the project's agents are told: for a phase's document, the brief,
//! the documents approved before it and the reviewer's comment on the
//! version sent back; for the light path, the brief and all three asks at
//! once (with the comment on the three sent back); for a task, the spec and the task with its
//! done-when and the validator's feedback; for the validator, the task,
//! the criteria it serves, the agent's answer and the files it left.

use std::fmt::Write as _;

use steward_domain::Agent;
use steward_domain::project::markdown;
use steward_domain::project::{
    DesignDocument, DocumentStatus, Phase, PhaseDocument, ProjectTask, RequirementsDocument, StoredDocument, TaskState,
    TasksDocument,
};
use steward_store::ProjectRecord;

/// The latest approved document of `phase`.
pub(crate) fn approved(documents: &[StoredDocument], phase: Phase) -> Option<&PhaseDocument> {
    documents
        .iter()
        .filter(|d| d.phase == phase && d.status == DocumentStatus::Approved)
        .max_by_key(|d| d.version)
        .map(|d| &d.document)
}

/// The approved documents as Markdown (Kiro's layout), those not written yet left out.
pub(crate) fn spec_text(record: &ProjectRecord) -> String {
    let title = record.project.title.clone();
    let requirements = match approved(&record.documents, Phase::Requirements) {
        Some(PhaseDocument::Requirements(document)) => Some(document.clone()),
        _ => None,
    };
    let design = match approved(&record.documents, Phase::Design) {
        Some(PhaseDocument::Design(document)) => Some(document.clone()),
        _ => None,
    };
    let tasks = match approved(&record.documents, Phase::Tasks) {
        Some(PhaseDocument::Tasks(document)) => Some(document.clone()),
        _ => None,
    };
    let done = |id: &str| record.tasks.iter().any(|task| task.spec.id == id && task.state == TaskState::Done);
    let files = markdown::export(
        record.project.layout,
        &requirements.clone().unwrap_or(RequirementsDocument { title: title.clone(), ..Default::default() }),
        &design.clone().unwrap_or(DesignDocument { title: title.clone(), ..Default::default() }),
        &tasks.clone().unwrap_or(TasksDocument { title, ..Default::default() }),
        &done,
    );
    let mut text = String::new();
    for (present, body) in
        [(requirements.is_some(), files.requirements), (design.is_some(), files.design), (tasks.is_some(), files.tasks)]
    {
        if present {
            let _ = writeln!(text, "{}\n", body.trim_end());
        }
    }
    text
}

fn agent_preamble(agent: &Agent) -> String {
    let mut text = format!("You are {}, whose goal is: {}.", agent.name, agent.goal);
    if !agent.instructions.trim().is_empty() {
        let _ = write!(text, "\n\n{}", agent.instructions.trim());
    }
    text
}

fn phase_asks(phase: Phase) -> &'static str {
    match phase {
        Phase::Requirements => {
            "Write the requirements document: user stories, each with a stable id (R1, R2, …) and acceptance \
             criteria in EARS form (\"WHEN … THE SYSTEM SHALL …\", ids R1.1, R1.2, …). Mark at most a few open \
             questions instead of guessing."
        }
        Phase::Design => {
            "Write the design document: architecture, data model, sequence diagrams as Mermaid, error handling, \
             and correctness properties, each tied to the requirement ids it checks."
        }
        _ => {
            "Write the tasks document: a dependency graph of tasks (ids T001, T002, …), each with the requirement \
             ids it serves, a done-when a reviewer can check, the tasks it depends on, and whether it can run in \
             parallel with others. No cycles."
        }
    }
}

/// The system prompt and the request for `phase`'s document.
pub(crate) fn document_prompt(agent: &Agent, record: &ProjectRecord, phase: Phase) -> (String, String) {
    let system = format!(
        "{}\n\nYou write one document of a spec-driven project at a time; a person reviews each before the next. \
         Reply with JSON only, matching the schema given.",
        agent_preamble(agent)
    );
    let project = &record.project;
    let mut text = format!("Project: {}\n\nBrief:\n{}\n", project.title, project.brief.trim());
    let spec = spec_text(record);
    if !spec.is_empty() {
        let _ = write!(text, "\nApproved so far:\n\n{spec}");
    }
    let sent_back = record
        .documents
        .iter()
        .filter(|d| d.phase == phase && d.status == DocumentStatus::Rejected)
        .max_by_key(|d| d.version);
    if let Some(rejected) = sent_back {
        let _ = write!(
            text,
            "\nVersion {} of this document was sent back. The reviewer's comment, which the new version must \
             address:\n{}\n\nThe version sent back:\n{}\n",
            rejected.version,
            rejected.comment.as_deref().unwrap_or("(no comment)"),
            rejected.document.to_json()
        );
    }
    let _ = write!(text, "\n{}", phase_asks(phase));
    (system, text)
}

/// The system prompt and the request of the light path: the three
/// documents in one reply, reviewed together.
pub(crate) fn quick_prompt(agent: &Agent, record: &ProjectRecord) -> (String, String) {
    let system = format!(
        "{}\n\nYou write the three documents of a small spec-driven project in one go: requirements, design and \
         tasks; a person reviews them together. Reply with JSON only, matching the schema given: an object with \
         the members requirements, design and tasks.",
        agent_preamble(agent)
    );
    let project = &record.project;
    let mut text = format!("Project: {}\n\nBrief:\n{}\n", project.title, project.brief.trim());
    let sent_back = |phase: Phase| {
        record
            .documents
            .iter()
            .filter(|d| d.phase == phase && d.status == DocumentStatus::Rejected)
            .max_by_key(|d| d.version)
    };
    if let Some(rejected) = sent_back(Phase::Requirements) {
        let _ = write!(
            text,
            "\nThe three documents were sent back. The reviewer's comment, which the new versions must address:\n{}\n\n\
             The versions sent back:\n",
            rejected.comment.as_deref().unwrap_or("(no comment)"),
        );
        for phase in [Phase::Requirements, Phase::Design, Phase::Tasks] {
            if let Some(document) = sent_back(phase) {
                let _ = writeln!(text, "{phase}: {}", document.document.to_json());
            }
        }
    }
    let _ = write!(
        text,
        "\nWrite all three documents; keep them as small as the work is.\n- requirements: {}\n- design: {}\n- tasks: {} \
         Every requirement id a task serves must be in your requirements document.",
        phase_asks(Phase::Requirements),
        phase_asks(Phase::Design),
        phase_asks(Phase::Tasks)
    );
    (system, text)
}

/// The instruction of the agent's run on `task`.
pub(crate) fn task_instruction(record: &ProjectRecord, task: &ProjectTask, branch: Option<&str>) -> String {
    let project = &record.project;
    let mut text = format!(
        "You work on one task of the project \"{}\". Your workspace is the task's own folder{}; do the work \
         there with your workspace tools, then answer with a short account of what you did. Work you find \
         that your task does not cover goes to the graph as a task of its own, with `project.add_task`.\n\n",
        project.title,
        branch
            .map(|branch| format!(", a git worktree of the project's repository on the branch {branch}"))
            .unwrap_or_default()
    );
    let _ = write!(text, "The project's spec:\n\n{}", spec_text(record));
    let spec = &task.spec;
    let _ = write!(text, "\nYour task: {} {}\n", spec.id, spec.title);
    for line in &spec.details {
        let _ = writeln!(text, "{line}");
    }
    let _ = writeln!(text, "It is done when: {}", spec.done_when);
    if !spec.requirements.is_empty() {
        let _ = writeln!(text, "It serves: {}", spec.requirements.join(", "));
    }
    if let Some(feedback) = &task.feedback {
        let _ = write!(
            text,
            "\nA reviewer sent your previous attempt back ({} so far). Fix this:\n{feedback}\n",
            task.rounds
        );
    }
    text
}

/// The validator's system prompt and request.
pub(crate) fn validation_prompt(
    validator: &Agent,
    record: &ProjectRecord,
    task: &ProjectTask,
    answer: &str,
    files: &str,
) -> (String, String) {
    let system = format!(
        "{}\n\nYou are the validator of a spec-driven project: you check one finished task against its done-when \
         and the acceptance criteria it serves. Pass it only when they hold; otherwise say precisely what is \
         missing or wrong, so the agent can fix it. Reply with JSON only: {{\"pass\": true|false, \"feedback\": \
         \"…\"}}.",
        agent_preamble(validator)
    );
    let spec = &task.spec;
    let mut text = format!("Task {} {}\nDone when: {}\n", spec.id, spec.title, spec.done_when);
    if let Some(PhaseDocument::Requirements(requirements)) = approved(&record.documents, Phase::Requirements) {
        for requirement in &requirements.requirements {
            let serves = spec
                .requirements
                .iter()
                .any(|id| id == &requirement.id || id.starts_with(&format!("{}.", requirement.id)));
            if !serves {
                continue;
            }
            for criterion in &requirement.criteria {
                let _ = writeln!(text, "Criterion {}: {}", criterion.id, criterion.text);
            }
        }
    }
    let _ = write!(text, "\nThe agent's account of its work:\n{answer}\n\nThe files in the task's workspace:\n{files}");
    (system, text)
}
