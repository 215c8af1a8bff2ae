//! Discovered work: an agent's task joins the graph as the tasks
//! document's next version, pending, with its job queued after its
//! dependency's; the same call again changes nothing; a task that would
//! break the graph or serves no known requirement is refused, named.

use steward_domain::EventSubject;
use steward_domain::project::work::{TASK_JOB_KIND, TaskJob};
use steward_domain::project::{
    Criterion, DesignDocument, DiscoveredTask, DiscoveredTasks, NewProject, Phase, PhaseDocument, PhaseGates,
    Requirement, RequirementsDocument, TaskSpec, TaskState, TasksDocument,
};
use steward_store::{Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, event_kinds};

fn task(id: &str, depends_on: &[&str]) -> TaskSpec {
    TaskSpec {
        id: id.into(),
        title: format!("Task {id}"),
        requirements: vec!["R1.1".into()],
        done_when: "the tests pass".into(),
        depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
        ..TaskSpec::default()
    }
}

fn project(agent: steward_domain::AgentId) -> NewProject {
    let requirements = RequirementsDocument {
        title: "Shop".into(),
        requirements: vec![Requirement {
            id: "R1".into(),
            title: "Cart".into(),
            criteria: vec![Criterion { id: "R1.1".into(), text: "WHEN added THE SYSTEM SHALL keep it".into() }],
            ..Requirement::default()
        }],
        ..RequirementsDocument::default()
    };
    let tasks = TasksDocument { title: "Shop".into(), tasks: vec![task("T001", &[])], ..TasksDocument::default() };
    NewProject {
        gates: PhaseGates::AUTOMATIC,
        agent_id: Some(agent),
        discovered_tasks: DiscoveredTasks::Allow,
        documents: vec![
            PhaseDocument::Requirements(requirements),
            PhaseDocument::Design(DesignDocument { title: "Shop".into(), ..DesignDocument::default() }),
            PhaseDocument::Tasks(tasks),
        ],
        ..NewProject::from_brief("Shop", "")
    }
}

async fn a_discovered_task_joins_the_graph_and_is_queued(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let agent = crate::helpers::agent_named(store, "Builder").await;
    let created = store.create_project(USER, project(agent)).await.unwrap();
    assert_eq!(created.project.discovered_tasks, DiscoveredTasks::Allow);
    let id = created.project.id;
    let started = store.start_execution(USER, id).await.unwrap();
    let t001_job = started.tasks[0].job_id.unwrap();

    let found = DiscoveredTask {
        spec: task("T002", &["T001"]),
        from_task: "T001".into(),
        reason: "the cart needs a fixture".into(),
    };
    let record = store.add_task(USER, id, found.clone()).await.unwrap();
    let states: Vec<(&str, TaskState)> = record.tasks.iter().map(|task| (task.spec.id.as_str(), task.state)).collect();
    assert_eq!(states, [("T001", TaskState::Pending), ("T002", TaskState::Pending)]);
    assert_eq!(record.tasks[0].job_id, Some(t001_job), "the task it came from keeps its job");
    let latest = record.documents.iter().filter(|d| d.phase == Phase::Tasks).max_by_key(|d| d.version).unwrap();
    assert_eq!(latest.version, 2);
    let PhaseDocument::Tasks(document) = &latest.document else { panic!("a tasks document") };
    assert_eq!(document.tasks[1].details, ["Discovered while working on T001: the cart needs a fixture"]);

    let t002_job = store.get_job(USER, record.tasks[1].job_id.unwrap()).await.unwrap();
    assert_eq!(t002_job.kind, TASK_JOB_KIND);
    assert_eq!(serde_json::from_value::<TaskJob>(t002_job.payload.clone()).unwrap().task, "T002");
    assert_eq!(t002_job.depends_on, [t001_job], "T002 waits for T001's job");

    let again = store.add_task(USER, id, found.clone()).await.unwrap();
    assert_eq!(again.tasks.len(), 2, "the same call again adds nothing");
    assert_eq!(again.documents.len(), record.documents.len());

    let cycle = DiscoveredTask { spec: task("T003", &["T003"]), ..found.clone() };
    let refused = store.add_task(USER, id, cycle).await.unwrap_err();
    assert!(refused.to_string().contains("cycle"), "{refused}");
    let unknown = DiscoveredTask { spec: TaskSpec { requirements: vec!["R9".into()], ..task("T003", &[]) }, ..found };
    match store.add_task(USER, id, unknown).await {
        Err(StoreError::Invalid(error)) => assert_eq!(error.field, "task", "{error}"),
        other => panic!("a task serving no known requirement is refused, got {other:?}"),
    }
    let kinds = event_kinds(store, EventSubject::Project, id.get()).await;
    assert_eq!(kinds.iter().filter(|kind| *kind == "project.task_discovered").count(), 1, "{kinds:?}");
}

store_tests!(a_discovered_task_joins_the_graph_and_is_queued);
