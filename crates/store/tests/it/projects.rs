//! Projects and ideas: an idea promoted by the project made from it; a
//! project walked through its gates (a rejection with a comment, then a
//! revision approved), a task graph with a cycle refused and named, tasks
//! moved to done and the project with them; an import that brings its
//! documents and checked boxes; and the events of every change.

use steward_domain::project::idea::IdeaPatch;
use steward_domain::project::{
    DocumentStatus, Gate, GateDecision, IdeaState, NewIdea, NewProject, Phase, PhaseDocument, PhaseGates, TaskSpec,
    TaskState, TasksDocument,
};
use steward_domain::{Clock, EventSubject};
use steward_store::{Store, StoreError, TaskUpdate};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, event_kinds};
use crate::project_documents::{design, requirements};

fn task(id: &str, depends_on: &[&str], parallel: bool) -> TaskSpec {
    TaskSpec {
        id: id.into(),
        title: format!("Task {id}"),
        requirements: vec!["R1.1".into()],
        done_when: "the tests pass".into(),
        parallel,
        depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
        ..TaskSpec::default()
    }
}

fn tasks(list: Vec<TaskSpec>) -> PhaseDocument {
    PhaseDocument::Tasks(TasksDocument { title: "Todo".into(), tasks: list, ..TasksDocument::default() })
}

fn update(state: TaskState) -> TaskUpdate {
    TaskUpdate::to(state)
}

async fn a_project_passes_its_gates_and_finishes_with_its_tasks(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let idea = store.create_idea(USER, NewIdea { title: "A todo CLI".into(), notes: String::new() }).await.unwrap();
    let idea = store
        .update_idea(
            USER,
            idea.id,
            IdeaPatch { notes: Some("keeps items in a file".into()), state: Some(IdeaState::Refining) },
        )
        .await
        .unwrap();
    assert_eq!(idea.state, IdeaState::Refining);

    let gates = PhaseGates { design: Gate::Automatic, ..PhaseGates::default() };
    let new = NewProject { idea_id: Some(idea.id), gates, ..NewProject::from_brief("Todo", &idea.notes) };
    let created = store.create_project(USER, new.clone()).await.unwrap();
    let project = created.project.id;
    assert_eq!(created.project.phase, Phase::Requirements);
    let promoted = store.get_idea(USER, idea.id).await.unwrap();
    assert_eq!((promoted.state, promoted.project_id), (IdeaState::Promoted, Some(project)));
    let again = store.create_project(USER, new).await.unwrap_err();
    assert!(
        matches!(again, StoreError::Conflict { ref field, .. } if field.as_deref() == Some("idea_id")),
        "{again:?}"
    );

    let early = store.propose_document(USER, project, design()).await.unwrap_err();
    assert!(early.to_string().contains("in the requirements phase"), "{early}");
    let proposed = store.propose_document(USER, project, requirements("the system adds it")).await.unwrap();
    assert_eq!(proposed.documents[0].status, DocumentStatus::Proposed);
    let twice = store.propose_document(USER, project, requirements("again")).await.unwrap_err();
    assert!(twice.to_string().contains("waits at its gate"), "{twice}");
    let comment = GateDecision::Reject { comment: "say WHEN, in EARS".into() };
    let rejected = store.decide_document(USER, project, comment).await.unwrap();
    assert_eq!(rejected.documents[0].status, DocumentStatus::Rejected);
    assert_eq!(rejected.documents[0].comment.as_deref(), Some("say WHEN, in EARS"));
    assert_eq!(rejected.project.phase, Phase::Requirements);

    let revision = requirements("WHEN the user adds an item THE SYSTEM SHALL keep it");
    let revised = store.propose_document(USER, project, revision).await.unwrap();
    assert_eq!(revised.documents[1].version, 2);
    let approved = store.decide_document(USER, project, GateDecision::Approve).await.unwrap();
    assert_eq!(approved.project.phase, Phase::Design);

    let through = store.propose_document(USER, project, design()).await.unwrap();
    assert_eq!(through.project.phase, Phase::Tasks, "the design gate is automatic");
    assert_eq!(through.documents[2].status, DocumentStatus::Approved);

    let cycle = tasks(vec![task("T001", &["T002"], false), task("T002", &["T001"], false)]);
    let refused = store.propose_document(USER, project, cycle).await.unwrap_err();
    assert_eq!(refused.to_string(), "document.tasks: the dependencies make a cycle: T001 → T002 → T001");
    let mut unknown = task("T001", &[], false);
    unknown.requirements = vec!["R7".into()];
    let refused = store.propose_document(USER, project, tasks(vec![unknown])).await.unwrap_err();
    assert!(refused.to_string().contains("document.tasks[0].requirements[0]"), "{refused}");

    let graph = tasks(vec![task("T001", &[], false), task("T002", &["T001"], true), task("T003", &["T001"], true)]);
    store.propose_document(USER, project, graph).await.unwrap();
    let executing = store.decide_document(USER, project, GateDecision::Approve).await.unwrap();
    assert_eq!(executing.project.phase, Phase::Execution);
    assert!(executing.tasks.iter().all(|task| task.state == TaskState::Pending));

    let illegal = store.update_task(USER, project, "T001", update(TaskState::Done)).await.unwrap_err();
    assert!(illegal.to_string().contains("task T001 is pending; it cannot become done"), "{illegal}");
    for key in ["T001", "T002", "T003"] {
        store.update_task(USER, project, key, update(TaskState::Running)).await.unwrap();
        let sent_back = TaskUpdate {
            state: TaskState::Running,
            feedback: Some("no test".into()),
            job_id: None,
            run_id: None,
            sent_back: true,
            replans: None,
        };
        if key == "T002" {
            store.update_task(USER, project, key, update(TaskState::Validating)).await.unwrap();
            let task = store.update_task(USER, project, key, sent_back).await.unwrap();
            assert_eq!((task.rounds, task.feedback.as_deref()), (1, Some("no test")));
        }
        store.update_task(USER, project, key, update(TaskState::Done)).await.unwrap();
    }
    let done = store.get_project(USER, project).await.unwrap();
    assert_eq!(done.project.phase, Phase::Done);

    let kinds = event_kinds(store, EventSubject::Project, project.get()).await;
    assert_eq!(kinds.first().map(String::as_str), Some("project.created"));
    for kind in
        ["project.document_proposed", "project.document_decided", "project.phase_entered", "project.task_changed"]
    {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    let idea_kinds = event_kinds(store, EventSubject::Idea, idea.id.get()).await;
    assert_eq!(idea_kinds, ["idea.captured", "idea.updated", "idea.updated"]);
}

async fn an_import_brings_its_documents_and_checked_boxes(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let graph = tasks(vec![task("1", &[], false), task("2", &["1"], false)]);
    let new = NewProject {
        gates: PhaseGates::AUTOMATIC,
        documents: vec![requirements("WHEN x THE SYSTEM SHALL y"), design(), graph.clone()],
        done_tasks: vec!["1".into()],
        ..NewProject::from_brief("Imported", "")
    };
    let record = store.create_project(USER, new).await.unwrap();
    assert_eq!(record.project.phase, Phase::Execution);
    assert_eq!(record.documents.len(), 3);
    assert!(record.documents.iter().all(|document| document.status == DocumentStatus::Approved));
    let states: Vec<(&str, TaskState)> = record.tasks.iter().map(|task| (task.spec.id.as_str(), task.state)).collect();
    assert_eq!(states, [("1", TaskState::Done), ("2", TaskState::Pending)]);
    assert_eq!(store.list_projects(USER).await.unwrap().len(), 1);
    assert!(matches!(
        store.get_project(steward_domain::UserId(99), record.project.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// The jobs of `kind`, oldest first.
async fn jobs_of(store: &dyn Store, kind: &str) -> Vec<steward_domain::Job> {
    let filter =
        steward_store::JobFilter { kind: Some(kind.into()), limit: 100, ..steward_store::JobFilter::default() };
    let mut jobs = store.list_jobs(USER.into(), filter).await.unwrap();
    jobs.reverse();
    jobs
}

async fn a_project_with_an_agent_asks_it_for_each_document(t: TestStore) {
    use steward_domain::project::work::{DOCUMENT_JOB_KIND, DocumentJob};
    let store: &dyn Store = t.store.as_ref();
    let asked = |job: &steward_domain::Job| serde_json::from_value::<DocumentJob>(job.payload.clone()).unwrap();
    let without = store.create_project(USER, NewProject::from_brief("By hand", "")).await.unwrap();
    assert!(jobs_of(store, DOCUMENT_JOB_KIND).await.is_empty(), "a person proposes: nothing asked");
    assert_eq!(without.project.agent_id, None);

    let agent = crate::helpers::agent_named(store, "Planner").await;
    let refused = NewProject { agent_id: Some(steward_domain::AgentId(999)), ..NewProject::from_brief("Shop", "") };
    match store.create_project(USER, refused).await {
        Err(StoreError::Invalid(error)) => assert_eq!(error.field, "agent_id"),
        other => panic!("another user's or a missing agent is refused, got {other:?}"),
    }
    let new = NewProject { agent_id: Some(agent), max_rounds: 1, ..NewProject::from_brief("Shop", "A small shop") };
    let record = store.create_project(USER, new).await.unwrap();
    let id = record.project.id;
    assert_eq!((record.project.agent_id, record.project.max_rounds), (Some(agent), 1));
    let jobs = jobs_of(store, DOCUMENT_JOB_KIND).await;
    assert_eq!(jobs.len(), 1, "entering requirements asks the agent");
    assert_eq!(asked(&jobs[0]), DocumentJob { project_id: id, phase: Phase::Requirements, version: 1 });

    store.record_agent_failure(USER, id, Phase::Requirements, "at /requirements: not an array").await.unwrap();
    assert_eq!(
        store.get_project(USER, id).await.unwrap().project.failure.as_deref(),
        Some("at /requirements: not an array")
    );
    store.propose_document(USER, id, requirements("WHEN x THE SYSTEM SHALL y")).await.unwrap();
    assert_eq!(store.get_project(USER, id).await.unwrap().project.failure, None, "a proposal clears the failure");

    let comment = GateDecision::Reject { comment: "say what happens offline".into() };
    store.decide_document(USER, id, comment).await.unwrap();
    let jobs = jobs_of(store, DOCUMENT_JOB_KIND).await;
    assert_eq!(asked(&jobs[1]), DocumentJob { project_id: id, phase: Phase::Requirements, version: 2 });
    store.propose_document(USER, id, requirements("WHEN offline THE SYSTEM SHALL queue")).await.unwrap();
    store.decide_document(USER, id, GateDecision::Approve).await.unwrap();
    let jobs = jobs_of(store, DOCUMENT_JOB_KIND).await;
    assert_eq!(jobs.len(), 3);
    assert_eq!(asked(&jobs[2]), DocumentJob { project_id: id, phase: Phase::Design, version: 1 });
    let kinds = event_kinds(store, EventSubject::Project, id.get()).await;
    assert!(kinds.iter().any(|kind| kind == "project.agent_failed"), "{kinds:?}");
}

async fn run_queues_the_tasks_not_done_along_the_graph(t: TestStore) {
    use steward_domain::JobState;
    use steward_domain::project::work::{TASK_JOB_KIND, TaskJob};
    let store: &dyn Store = t.store.as_ref();
    let graph = tasks(vec![
        task("T001", &[], false),
        task("T002", &["T001"], true),
        task("T003", &["T001"], true),
        task("T004", &["T002", "T003"], false),
    ]);
    let by_hand = NewProject {
        gates: PhaseGates::AUTOMATIC,
        documents: vec![requirements("WHEN x THE SYSTEM SHALL y"), design(), graph.clone()],
        ..NewProject::from_brief("No agent", "")
    };
    let by_hand = store.create_project(USER, by_hand).await.unwrap();
    match store.start_execution(USER, by_hand.project.id).await {
        Err(StoreError::Conflict { field, .. }) => assert_eq!(field.as_deref(), Some("agent_id")),
        other => panic!("nothing runs without an agent, got {other:?}"),
    }
    let agent = crate::helpers::agent_named(store, "Builder").await;
    let early = NewProject { agent_id: Some(agent), ..NewProject::from_brief("Early", "") };
    let early = store.create_project(USER, early).await.unwrap();
    assert!(matches!(store.start_execution(USER, early.project.id).await, Err(StoreError::Conflict { .. })));

    let new = NewProject {
        gates: PhaseGates::AUTOMATIC,
        agent_id: Some(agent),
        documents: vec![requirements("WHEN x THE SYSTEM SHALL y"), design(), graph],
        done_tasks: vec!["T001".into()],
        ..NewProject::from_brief("Shop", "")
    };
    let id = store.create_project(USER, new).await.unwrap().project.id;
    let record = store.start_execution(USER, id).await.unwrap();
    let jobs = jobs_of(store, TASK_JOB_KIND).await;
    let queued: Vec<String> =
        jobs.iter().map(|job| serde_json::from_value::<TaskJob>(job.payload.clone()).unwrap().task).collect();
    assert_eq!(queued, ["T002", "T003", "T004"], "the done task is not queued");
    let job_of = |key: &str| record.tasks.iter().find(|task| task.spec.id == key).unwrap().job_id.unwrap();
    assert_eq!(jobs[0].id, job_of("T002"));
    let t004 = store.get_job(USER, job_of("T004")).await.unwrap();
    assert_eq!(t004.state, JobState::Blocked, "T004 waits for T002 and T003");
    assert_eq!(store.get_job(USER, job_of("T002")).await.unwrap().state, JobState::Queued);

    let again = store.start_execution(USER, id).await.unwrap();
    assert_eq!(jobs_of(store, TASK_JOB_KIND).await.len(), 3, "live jobs are kept: running again queues nothing");
    assert_eq!(again.tasks, record.tasks);

    let early = store.update_task(USER, id, "T004", update(TaskState::Running)).await.unwrap_err();
    assert!(early.to_string().contains("task T004 cannot start yet"), "{early}");

    // T002 finishes; a person cancels T003's job, which cancels T004's
    // too; run again queues those two, T004 after the new T003.
    store.update_task(USER, id, "T002", update(TaskState::Running)).await.unwrap();
    store.update_task(USER, id, "T002", update(TaskState::Done)).await.unwrap();
    store.cancel_job(USER, job_of("T003")).await.unwrap();
    assert_eq!(store.get_job(USER, job_of("T004")).await.unwrap().state, JobState::Cancelled);
    let resumed = store.start_execution(USER, id).await.unwrap();
    let jobs = jobs_of(store, TASK_JOB_KIND).await;
    let newest: Vec<String> =
        jobs[3..].iter().map(|job| serde_json::from_value::<TaskJob>(job.payload.clone()).unwrap().task).collect();
    assert_eq!(newest, ["T003", "T004"], "T002 is done: not queued again");
    let t004 = resumed.tasks.iter().find(|task| task.spec.id == "T004").unwrap().job_id.unwrap();
    assert_eq!(store.get_job(USER, t004).await.unwrap().state, JobState::Blocked, "T004 waits for the new T003");
    let kinds = event_kinds(store, EventSubject::Project, id.get()).await;
    assert_eq!(kinds.iter().filter(|kind| *kind == "project.execution_started").count(), 2, "{kinds:?}");
}

async fn a_person_changes_a_projects_settings(t: TestStore) {
    use steward_domain::project::{DiscoveredTasks, ProjectPatch};
    let store = t.store.as_ref();
    let created = store.create_project(USER, NewProject::from_brief("Todo", "A todo list")).await.unwrap();
    let id = created.project.id;
    assert_eq!((created.project.discovered_tasks, created.project.checks.len()), (DiscoveredTasks::Approve, 0));

    t.clock.advance(chrono::Duration::minutes(1));
    let allow = ProjectPatch { discovered_tasks: Some(DiscoveredTasks::Allow), checks: None };
    let changed = store.update_project(USER, id, allow).await.unwrap();
    assert_eq!((changed.discovered_tasks, changed.updated_at), (DiscoveredTasks::Allow, t.clock.now()));
    let checks =
        ProjectPatch { discovered_tasks: None, checks: Some(vec!["cargo test".into(), "cargo clippy".into()]) };
    let changed = store.update_project(USER, id, checks).await.unwrap();
    assert_eq!(changed.discovered_tasks, DiscoveredTasks::Allow, "a field left out stays");
    assert_eq!(changed.checks, ["cargo test", "cargo clippy"]);
    assert_eq!(store.get_project(USER, id).await.unwrap().project, changed);

    let nothing = store.update_project(USER, id, ProjectPatch::default()).await.unwrap_err();
    assert!(matches!(&nothing, StoreError::Invalid(error) if error.field == "project"), "{nothing:?}");
    let blank = ProjectPatch { discovered_tasks: None, checks: Some(vec!["  ".into()]) };
    let refused = store.update_project(USER, id, blank).await.unwrap_err();
    assert!(matches!(&refused, StoreError::Invalid(error) if error.field == "checks[0]"), "{refused:?}");
    let foreign = ProjectPatch { discovered_tasks: Some(DiscoveredTasks::Approve), checks: None };
    let missing = store.update_project(steward_domain::UserId(999), id, foreign).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }), "{missing:?}");
    assert_eq!(store.get_project(USER, id).await.unwrap().project.checks, ["cargo test", "cargo clippy"]);

    let kinds = event_kinds(store, EventSubject::Project, id.get()).await;
    assert_eq!(kinds.iter().filter(|kind| *kind == "project.settings_changed").count(), 2, "{kinds:?}");
}

store_tests!(
    a_person_changes_a_projects_settings,
    a_project_passes_its_gates_and_finishes_with_its_tasks,
    an_import_brings_its_documents_and_checked_boxes,
    a_project_with_an_agent_asks_it_for_each_document,
    run_queues_the_tasks_not_done_along_the_graph,
);
