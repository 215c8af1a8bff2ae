//! Merging a flag's two duplicate tasks is one store operation: the flag's
//! decision, the tasks document's new version, the re-planned task rows
//! and the dropped task's cancelled job, with their events, all together;
//! a merge refused partway (the flag decided already, a task gone from the
//! graph) leaves nothing written.

use steward_domain::oversight::duplicates::{Duplicate, DuplicateKind, DuplicateStatus, NewDuplicate};
use steward_domain::project::merge::merged_note;
use steward_domain::project::{
    Criterion, DesignDocument, NewProject, Phase, PhaseDocument, PhaseGates, Requirement, RequirementsDocument,
    TaskSpec, TaskState, TasksDocument,
};
use steward_domain::{Clock, JobState, ProjectId};
use steward_store::{EventQuery, ProjectRecord, Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::USER;

fn requirements() -> RequirementsDocument {
    let requirement = |id: &str| Requirement {
        id: id.into(),
        title: format!("Need {id}"),
        criteria: vec![Criterion { id: format!("{id}.1"), text: "WHEN asked THE SYSTEM SHALL answer".into() }],
        ..Requirement::default()
    };
    RequirementsDocument {
        title: "Shop".into(),
        requirements: vec![requirement("R1"), requirement("R2")],
        ..RequirementsDocument::default()
    }
}

fn task(id: &str, serves: &str, depends_on: &[&str]) -> TaskSpec {
    TaskSpec {
        id: id.into(),
        title: format!("Task {id}"),
        requirements: vec![serves.into()],
        done_when: "the page lists every item".into(),
        parallel: true,
        depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
        ..TaskSpec::default()
    }
}

/// T002 and T003 are the same work; T004 waits for both.
fn graph() -> TasksDocument {
    TasksDocument {
        title: "Shop".into(),
        tasks: vec![
            task("T001", "R1.1", &[]),
            task("T002", "R1.1", &["T001"]),
            task("T003", "R2.1", &["T001"]),
            task("T004", "R1.1", &["T002", "T003"]),
        ],
        ..TasksDocument::default()
    }
}

fn flag(project: ProjectId, first: &str, second: &str) -> NewDuplicate {
    NewDuplicate {
        kind: DuplicateKind::Task,
        project_id: Some(project),
        first: format!("{project}/{first}"),
        second: format!("{project}/{second}"),
        first_title: format!("Task {first}"),
        second_title: format!("Task {second}"),
        similarity: 1.0,
        method: "text".into(),
        text_similarity: 1.0,
        embedding_similarity: None,
    }
}

/// Every event's kind, oldest first.
async fn event_kinds(store: &dyn Store) -> Vec<String> {
    let events = store.list_events(USER, EventQuery { limit: 1000, ..EventQuery::default() }).await.unwrap();
    events.into_iter().map(|event| event.kind).collect()
}

/// What a merge may change, to compare before and after a refused one.
async fn snapshot(store: &dyn Store, project: ProjectId) -> (ProjectRecord, Vec<Duplicate>, Vec<String>) {
    let record = store.get_project(USER, project).await.unwrap();
    let flags = store.list_duplicates(USER, None).await.unwrap();
    (record, flags, event_kinds(store).await)
}

/// A project executing `graph()`, with its task jobs queued, and two open flags: T002~T003 and T003~T004.
async fn flagged_project(store: &dyn Store) -> (ProjectId, Vec<Duplicate>) {
    let agent = crate::helpers::agent_named(store, "Builder").await;
    let design = DesignDocument { title: "Shop".into(), architecture: "one service".into(), ..Default::default() };
    let new = NewProject {
        gates: PhaseGates::AUTOMATIC,
        agent_id: Some(agent),
        documents: vec![
            PhaseDocument::Requirements(requirements()),
            PhaseDocument::Design(design),
            PhaseDocument::Tasks(graph()),
        ],
        ..NewProject::from_brief("Shop", "")
    };
    let id = store.create_project(USER, new).await.unwrap().project.id;
    store.start_execution(USER, id).await.unwrap();
    let flags = store.flag_duplicates(USER, vec![flag(id, "T002", "T003"), flag(id, "T003", "T004")]).await.unwrap();
    assert_eq!(flags.len(), 2);
    (id, flags)
}

async fn a_merge_decides_the_flag_and_edits_the_graph_together(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let (id, flags) = flagged_project(store).await;
    let before = store.get_project(USER, id).await.unwrap();
    let job_of =
        |record: &ProjectRecord, key: &str| record.tasks.iter().find(|task| task.spec.id == key).unwrap().job_id;
    let dropped_job = job_of(&before, "T003").expect("T003 was queued");
    let events_before = event_kinds(store).await.len();

    let kept = format!("{id}/T002");
    let decided = store.merge_duplicate_tasks(USER, flags[0].id, &kept).await.unwrap();
    assert_eq!(
        (decided.status, decided.kept.as_deref(), decided.decided_at),
        (DuplicateStatus::Merged, Some(kept.as_str()), Some(t.clock.now()))
    );
    assert_eq!(store.get_duplicate(USER, flags[0].id).await.unwrap(), decided);
    assert_eq!(store.get_duplicate(USER, flags[1].id).await.unwrap().status, DuplicateStatus::Open);

    // The tasks document's next version, approved: T003 merged into T002.
    let after = store.get_project(USER, id).await.unwrap();
    let tasks_versions: Vec<u32> =
        after.documents.iter().filter(|stored| stored.phase == Phase::Tasks).map(|stored| stored.version).collect();
    assert_eq!(tasks_versions, [1, 2]);
    let latest = after.documents.iter().rfind(|stored| stored.phase == Phase::Tasks).unwrap();
    let PhaseDocument::Tasks(document) = &latest.document else { panic!("a tasks document: {latest:?}") };
    let ids: Vec<&str> = document.tasks.iter().map(|task| task.id.as_str()).collect();
    assert_eq!(ids, ["T001", "T002", "T004"]);
    assert_eq!(document.tasks[1].requirements, ["R1.1", "R2.1"], "the kept task serves both requirements");
    assert_eq!(document.tasks[1].details, [merged_note("T003", "Task T003")]);
    assert_eq!(document.tasks[2].depends_on, ["T002"], "T004 waits for the kept task alone");

    // The task rows follow: T003 is gone and its job cancelled; T001 keeps
    // its live job. T004's job waited for T003's, so the queue cancelled it
    // with it; T004 stays pending, and running the project again queues it
    // anew (after T002's job alone), nothing else.
    let rows: Vec<(&str, TaskState)> = after.tasks.iter().map(|task| (task.spec.id.as_str(), task.state)).collect();
    assert_eq!(rows, [("T001", TaskState::Pending), ("T002", TaskState::Pending), ("T004", TaskState::Pending)]);
    assert_eq!(store.get_job(USER, dropped_job).await.unwrap().state, JobState::Cancelled);
    for key in ["T001", "T002"] {
        let job = job_of(&after, key).unwrap();
        assert_eq!(Some(job), job_of(&before, key), "{key} keeps its job");
        assert!(!store.get_job(USER, job).await.unwrap().state.is_finished(), "{key}'s job is still live");
    }
    let t004_job = job_of(&after, "T004").unwrap();
    assert_eq!(store.get_job(USER, t004_job).await.unwrap().state, JobState::Cancelled);
    let resumed = store.start_execution(USER, id).await.unwrap();
    let requeued = job_of(&resumed, "T004").unwrap();
    assert_ne!(requeued, t004_job);
    assert_eq!(store.get_job(USER, requeued).await.unwrap().depends_on, [job_of(&after, "T002").unwrap()]);
    for key in ["T001", "T002"] {
        assert_eq!(job_of(&resumed, key), job_of(&after, key), "{key} is not queued twice");
    }
    let events = event_kinds(store).await;
    let new_events = &events[events_before..];
    for kind in ["duplicate.decided", "project.document_edited", "project.task_replanned", "job.cancelled"] {
        assert!(new_events.iter().any(|event| event == kind), "{kind} in {new_events:?}");
    }
}

async fn a_merge_refused_partway_leaves_nothing_written(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let (id, flags) = flagged_project(store).await;
    store.merge_duplicate_tasks(USER, flags[0].id, &format!("{id}/T002")).await.unwrap();
    let before = snapshot(store, id).await;

    // The second flag is open, so its decision is written first; then T003
    // is found gone from the graph (merged by the first flag), and the whole
    // merge is refused: the flag stays open and no document, row or event is added.
    let gone = store.merge_duplicate_tasks(USER, flags[1].id, &format!("{id}/T004")).await.unwrap_err();
    assert!(
        matches!(&gone, StoreError::Invalid(error) if error.message.contains("no task T003")),
        "refused for the missing task: {gone:?}"
    );
    assert_eq!(snapshot(store, id).await, before, "nothing of the refused merge is written");
    assert_eq!(store.get_duplicate(USER, flags[1].id).await.unwrap().status, DuplicateStatus::Open);

    // The first flag is merged already: refused before anything changes.
    let twice = store.merge_duplicate_tasks(USER, flags[0].id, &format!("{id}/T002")).await.unwrap_err();
    assert!(matches!(twice, StoreError::Conflict { .. }), "{twice:?}");
    assert_eq!(snapshot(store, id).await, before);

    // A ref that is neither of the flag's, and a flag of actions, are refused too.
    let neither = store.merge_duplicate_tasks(USER, flags[1].id, &format!("{id}/T001")).await.unwrap_err();
    assert!(matches!(&neither, StoreError::Invalid(error) if error.field == "keep"), "{neither:?}");
    let actions = NewDuplicate { kind: DuplicateKind::Action, project_id: None, ..flag(id, "T008", "T009") };
    let action_flag = store.flag_duplicates(USER, vec![actions]).await.unwrap().remove(0);
    let before = snapshot(store, id).await;
    let refused = store.merge_duplicate_tasks(USER, action_flag.id, &action_flag.first).await.unwrap_err();
    assert!(refused.to_string().contains("a flag of actions"), "{refused}");
    assert_eq!(snapshot(store, id).await, before);
    let foreign = store.merge_duplicate_tasks(steward_domain::UserId(999), flags[1].id, &format!("{id}/T004")).await;
    assert!(matches!(foreign, Err(StoreError::NotFound { .. })), "{foreign:?}");
}

store_tests!(a_merge_decides_the_flag_and_edits_the_graph_together, a_merge_refused_partway_leaves_nothing_written);
