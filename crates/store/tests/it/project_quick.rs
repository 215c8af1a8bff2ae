//! The light path in the store: a quick project's three documents proposed
//! together wait at one gate; a part refused (a cycle, a task serving a
//! requirement that does not exist) stores none of them; sent back, all
//! three are rejected with the comment and one job asks for the three
//! again; approved, the project passes each gate to execution with its
//! task graph, the events those of the normal path. Through automatic
//! gates the three pass at once; otherwise they wait in the approvals
//! inbox as one approval.

use steward_domain::EventSubject;
use steward_domain::project::work::{DOCUMENT_JOB_KIND, DocumentJob, TASK_JOB_KIND};
use steward_domain::project::{
    Criterion, DesignDocument, DocumentStatus, Gate, GateDecision, NewProject, Phase, PhaseDocument, PhaseGates,
    QuickDocuments, Requirement, RequirementsDocument, TaskSpec, TaskState, TasksDocument,
};
use steward_store::{Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, event_kinds};

fn task(id: &str, depends_on: &[&str], serves: &str) -> TaskSpec {
    TaskSpec {
        id: id.into(),
        title: format!("Task {id}"),
        requirements: vec![serves.into()],
        done_when: format!("{id} is done"),
        parallel: depends_on.is_empty(),
        depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
        ..TaskSpec::default()
    }
}

fn documents(tasks: Vec<TaskSpec>) -> QuickDocuments {
    QuickDocuments {
        requirements: RequirementsDocument {
            title: "Dark mode".into(),
            requirements: vec![Requirement {
                id: "R1".into(),
                title: "Switch".into(),
                story: "As a reader, I want a dark page, so that my eyes rest".into(),
                priority: None,
                criteria: vec![Criterion {
                    id: "R1.1".into(),
                    text: "WHEN the switch is on THE SYSTEM SHALL show the dark theme".into(),
                }],
            }],
            ..RequirementsDocument::default()
        },
        design: DesignDocument {
            title: "Dark mode".into(),
            architecture: "A CSS class".into(),
            ..DesignDocument::default()
        },
        tasks: TasksDocument { title: "Dark mode".into(), tasks, ..TasksDocument::default() },
    }
}

fn good() -> QuickDocuments {
    documents(vec![task("T001", &[], "R1.1"), task("T002", &["T001"], "R1")])
}

async fn document_jobs(store: &dyn Store) -> Vec<DocumentJob> {
    let filter = steward_store::JobFilter {
        kind: Some(DOCUMENT_JOB_KIND.into()),
        limit: 100,
        ..steward_store::JobFilter::default()
    };
    let mut jobs = store.list_jobs(USER.into(), filter).await.unwrap();
    jobs.reverse();
    jobs.into_iter().map(|job| serde_json::from_value(job.payload).unwrap()).collect()
}

fn statuses(record: &steward_store::ProjectRecord) -> Vec<(Phase, u32, DocumentStatus)> {
    record.documents.iter().map(|d| (d.phase, d.version, d.status)).collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|seen| *seen == kind).count()
}

async fn a_quick_proposal_waits_at_one_gate_and_is_decided_whole(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let without_agent = NewProject { quick: true, ..NewProject::from_brief("Dark mode", "A dark theme") };
    match store.create_project(USER, without_agent).await {
        Err(StoreError::Invalid(error)) => assert_eq!(error.field, "agent_id"),
        other => panic!("the light path needs an agent, got {other:?}"),
    }
    let agent = crate::helpers::agent_named(store, "Writer").await;
    let new = NewProject { quick: true, agent_id: Some(agent), ..NewProject::from_brief("Dark mode", "A dark theme") };
    let record = store.create_project(USER, new).await.unwrap();
    let id = record.project.id;
    assert!(record.project.quick);
    assert!(store.get_project(USER, id).await.unwrap().project.quick, "quick is kept");
    assert_eq!(document_jobs(store).await, [DocumentJob { project_id: id, phase: Phase::Requirements, version: 1 }]);

    // A part refused stores none of the three.
    let cycle = documents(vec![task("T001", &["T002"], "R1"), task("T002", &["T001"], "R1")]);
    match store.propose_quick(USER, id, cycle).await {
        Err(StoreError::Invalid(error)) => {
            assert_eq!(error.field, "documents.tasks.tasks");
            assert!(error.message.contains("T001 → T002 → T001"), "{error}");
        }
        other => panic!("a cycle is refused, got {other:?}"),
    }
    let unknown = documents(vec![task("T001", &[], "R7.1")]);
    match store.propose_quick(USER, id, unknown).await {
        Err(StoreError::Invalid(error)) => assert_eq!(error.field, "documents.tasks.tasks[0].requirements[0]"),
        other => panic!("a task serving a requirement that does not exist is refused, got {other:?}"),
    }
    assert!(store.get_project(USER, id).await.unwrap().documents.is_empty(), "nothing half-written");

    store.record_agent_failure(USER, id, Phase::Requirements, "tasks.tasks: a cycle").await.unwrap();
    let proposed = store.propose_quick(USER, id, good()).await.unwrap();
    assert_eq!(proposed.project.phase, Phase::Requirements);
    assert_eq!(proposed.project.failure, None, "a proposal clears the failure");
    let waiting = [Phase::Requirements, Phase::Design, Phase::Tasks].map(|phase| (phase, 1, DocumentStatus::Proposed));
    assert_eq!(statuses(&proposed), waiting);
    assert!(proposed.tasks.is_empty(), "no task graph before the gate passes");
    assert!(matches!(store.propose_quick(USER, id, good()).await, Err(StoreError::Conflict { .. })));
    let single = PhaseDocument::Requirements(good().requirements);
    assert!(matches!(store.propose_document(USER, id, single).await, Err(StoreError::Conflict { .. })));

    // Sent back: all three rejected with the comment, one job asks again.
    let comment = "Say what happens to images";
    let rejected = store.decide_document(USER, id, GateDecision::Reject { comment: comment.into() }).await.unwrap();
    assert_eq!(rejected.project.phase, Phase::Requirements);
    assert!(rejected.documents.iter().all(|d| d.status == DocumentStatus::Rejected), "{rejected:?}");
    assert!(rejected.documents.iter().all(|d| d.comment.as_deref() == Some(comment)));
    let asked = document_jobs(store).await;
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[1], DocumentJob { project_id: id, phase: Phase::Requirements, version: 2 });

    // The revision, approved: the project passes each gate to execution.
    store.propose_quick(USER, id, good()).await.unwrap();
    let approved = store.decide_document(USER, id, GateDecision::Approve).await.unwrap();
    assert_eq!(approved.project.phase, Phase::Execution);
    let latest: Vec<_> = statuses(&approved).into_iter().filter(|(_, version, _)| *version == 2).collect();
    assert_eq!(latest, [Phase::Requirements, Phase::Design, Phase::Tasks].map(|p| (p, 2, DocumentStatus::Approved)));
    let graph: Vec<(&str, TaskState)> = approved.tasks.iter().map(|t| (t.spec.id.as_str(), t.state)).collect();
    assert_eq!(graph, [("T001", TaskState::Pending), ("T002", TaskState::Pending)]);
    assert_eq!(document_jobs(store).await.len(), 2, "nothing more to write: no design or tasks job");
    assert!(matches!(store.decide_document(USER, id, GateDecision::Approve).await, Err(StoreError::Conflict { .. })));

    // The events are the normal path's, three of each.
    let kinds = event_kinds(store, EventSubject::Project, id.get()).await;
    assert_eq!(count(&kinds, "project.document_proposed"), 6, "{kinds:?}");
    assert_eq!(count(&kinds, "project.document_decided"), 6, "{kinds:?}");
    assert_eq!(count(&kinds, "project.phase_entered"), 3, "requirements → design → tasks → execution: {kinds:?}");
    assert_eq!(count(&kinds, "project.task_changed"), 2, "{kinds:?}");

    // The stored documents work as if written one phase at a time.
    store.start_execution(USER, id).await.unwrap();
    let filter =
        steward_store::JobFilter { kind: Some(TASK_JOB_KIND.into()), limit: 10, ..steward_store::JobFilter::default() };
    assert_eq!(store.list_jobs(USER.into(), filter).await.unwrap().len(), 2);
    let mut edited = good().tasks;
    edited.tasks[1].title = "Task T002, renamed".into();
    let replanned = store.edit_document(USER, id, PhaseDocument::Tasks(edited)).await.unwrap();
    assert_eq!(replanned.tasks[1].spec.title, "Task T002, renamed");
}

async fn through_automatic_gates_the_three_pass_at_once(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let agent = crate::helpers::agent_named(store, "Writer").await;
    let automatic = NewProject {
        quick: true,
        agent_id: Some(agent),
        gates: PhaseGates::AUTOMATIC,
        ..NewProject::from_brief("Dark mode", "A dark theme")
    };
    let id = store.create_project(USER, automatic).await.unwrap().project.id;
    let record = store.propose_quick(USER, id, good()).await.unwrap();
    assert_eq!(record.project.phase, Phase::Execution);
    assert!(record.documents.iter().all(|d| d.status == DocumentStatus::Approved), "{record:?}");
    assert_eq!(record.tasks.len(), 2);
    let kinds = event_kinds(store, EventSubject::Project, id.get()).await;
    assert_eq!(count(&kinds, "project.document_decided"), 3, "{kinds:?}");
    assert_eq!(count(&kinds, "project.phase_entered"), 3, "{kinds:?}");
    assert_eq!(document_jobs(store).await.len(), 1, "only the first ask");

    // One manual gate is enough for the three to wait for a person.
    let gates = PhaseGates { design: Gate::Manual, ..PhaseGates::AUTOMATIC };
    let mixed =
        NewProject { quick: true, agent_id: Some(agent), gates, ..NewProject::from_brief("Light", "A light theme") };
    let id = store.create_project(USER, mixed).await.unwrap().project.id;
    let record = store.propose_quick(USER, id, good()).await.unwrap();
    assert_eq!(record.project.phase, Phase::Requirements);
    assert!(record.documents.iter().all(|d| d.status == DocumentStatus::Proposed), "{record:?}");

    // The three wait in the inbox as one approval (the automatic project's
    // passed without one); approving it there passes the project to execution.
    let filter = steward_store::ApprovalFilter { run_id: None, statuses: Vec::new() };
    let inbox = store.list_approvals(USER.into(), filter).await.unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!((inbox[0].project_id, inbox[0].agent_id), (Some(id), Some(agent)));
    assert_eq!(inbox[0].arguments["phases"], serde_json::json!(["requirements", "design", "tasks"]));
    let decision = steward_domain::Decision { approve: true, reason: None };
    store.decide_approval(USER, inbox[0].id, decision).await.unwrap();
    let passed = store.get_project(USER, id).await.unwrap();
    assert_eq!(passed.project.phase, Phase::Execution);
    assert!(passed.documents.iter().all(|d| d.status == DocumentStatus::Approved), "{passed:?}");
}

store_tests!(a_quick_proposal_waits_at_one_gate_and_is_decided_whole, through_automatic_gates_the_three_pass_at_once,);
