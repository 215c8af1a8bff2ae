//! Editing an approved spec re-plans only the tasks it affects: a changed
//! criterion sends its done task back to pending while the other tasks
//! keep their state and their jobs (`project run` queues nothing for
//! them); a tasks edit adds, changes and drops tasks, cancelling a dropped
//! task's live job; each re-planned task has an event with its reason. A
//! task being worked on whose text changes is restarted: its run stopped,
//! pending again with its job kept, and a move its job decided on the old
//! text (the old run's result landing late) refused as stale.

use steward_domain::project::work::{TASK_JOB_KIND, TaskJob};
use steward_domain::project::{
    Criterion, DesignDocument, NewProject, Phase, PhaseDocument, PhaseGates, Requirement, RequirementsDocument,
    TaskSpec, TaskState, TasksDocument,
};
use steward_domain::{AgentId, EventSubject, JobState, ProjectId, RunOutcome, RunStatus};
use steward_store::{ConflictKind, EventQuery, Store, StoreError, TaskUpdate};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::USER;

fn requirements(payment: &str) -> RequirementsDocument {
    let requirement = |id: &str, title: &str, criterion: &str| Requirement {
        id: id.into(),
        title: title.into(),
        criteria: vec![Criterion { id: format!("{id}.1"), text: criterion.into() }],
        ..Requirement::default()
    };
    RequirementsDocument {
        title: "Shop".into(),
        requirements: vec![
            requirement("R1", "Cart", "WHEN an item is added THE SYSTEM SHALL keep it"),
            requirement("R2", "Pay", payment),
        ],
        ..RequirementsDocument::default()
    }
}

fn task(id: &str, serves: &str, depends_on: &[&str]) -> TaskSpec {
    TaskSpec {
        id: id.into(),
        title: format!("Task {id}"),
        requirements: vec![serves.into()],
        done_when: "the tests pass".into(),
        parallel: true,
        depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
        ..TaskSpec::default()
    }
}

fn graph() -> TasksDocument {
    TasksDocument {
        title: "Shop".into(),
        tasks: vec![
            task("T001", "R1.1", &[]),
            task("T002", "R2.1", &[]),
            task("T003", "R1.1", &["T001"]),
            task("T004", "R2.1", &["T002"]),
        ],
        ..TasksDocument::default()
    }
}

async fn task_jobs(store: &dyn Store) -> Vec<String> {
    let filter = steward_store::JobFilter {
        kind: Some(TASK_JOB_KIND.into()),
        limit: 100,
        ..steward_store::JobFilter::default()
    };
    let mut jobs = store.list_jobs(USER.into(), filter).await.unwrap();
    jobs.reverse();
    jobs.iter().map(|job| serde_json::from_value::<TaskJob>(job.payload.clone()).unwrap().task).collect()
}

/// The fields named of each `project.task_replanned` since `after` events.
async fn replanned_fields(store: &dyn Store, project: i64, after: usize, fields: [&str; 3]) -> Vec<[String; 3]> {
    let query =
        EventQuery { subject: Some((EventSubject::Project, Some(project))), limit: 1000, ..EventQuery::default() };
    let events = store.list_events(USER, query).await.unwrap();
    let mut events: Vec<_> = events.into_iter().filter(|event| event.kind == "project.task_replanned").collect();
    events.sort_by_key(|event| event.id);
    let text = |value: &serde_json::Value| value.as_str().unwrap_or("-").to_string();
    events[after..].iter().map(|event| fields.map(|field| text(&event.data[field]))).collect()
}

/// `(task, from, to)` of each `project.task_replanned` since `after` events.
async fn replanned(store: &dyn Store, project: i64, after: usize) -> Vec<(String, String, String)> {
    let found = replanned_fields(store, project, after, ["task", "from", "to"]).await;
    found.into_iter().map(|[task, from, to]| (task, from, to)).collect()
}

/// A project of `agent` executing [`graph`], its documents approved.
async fn executing(store: &dyn Store, agent: AgentId, design: &DesignDocument) -> ProjectId {
    let new = NewProject {
        gates: PhaseGates::AUTOMATIC,
        agent_id: Some(agent),
        documents: vec![
            PhaseDocument::Requirements(requirements("WHEN paying THE SYSTEM SHALL charge the card")),
            PhaseDocument::Design(design.clone()),
            PhaseDocument::Tasks(graph()),
        ],
        ..NewProject::from_brief("Shop", "")
    };
    let id = store.create_project(USER, new).await.unwrap().project.id;
    store.start_execution(USER, id).await.unwrap();
    id
}

async fn editing_an_approved_requirement_replans_only_its_tasks(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let agent = crate::helpers::agent_named(store, "Builder").await;
    let design = DesignDocument { title: "Shop".into(), architecture: "one service".into(), ..Default::default() };
    let id = executing(store, agent, &design).await;
    // T001's and T002's jobs finish; T003's and T004's stay queued.
    let first = crate::helpers::claim(store, 10).await;
    assert_eq!(first.len(), 2);
    for job in &first {
        crate::helpers::complete(store, job).await;
    }
    for (key, states) in [
        ("T001", &[TaskState::Running, TaskState::Done][..]),
        ("T002", &[TaskState::Running, TaskState::Done]),
        ("T003", &[TaskState::Running]),
    ] {
        for state in states {
            store.update_task(USER, id, key, TaskUpdate::to(*state)).await.unwrap();
        }
    }
    let before = store.get_project(USER, id).await.unwrap();
    let jobs_before = task_jobs(store).await;
    assert_eq!(jobs_before, ["T001", "T002", "T003", "T004"]);

    let unchanged = store
        .edit_document(
            USER,
            id,
            PhaseDocument::Requirements(requirements("WHEN paying THE SYSTEM SHALL charge the card")),
        )
        .await
        .unwrap_err();
    assert!(matches!(unchanged, StoreError::Invalid(ref error) if error.field == "document"), "{unchanged:?}");

    // R2.1 changes: T002 (done) goes back to pending, T004 (pending) is
    // re-planned in place; T001 (done) and T003 (running) are untouched.
    let edited = PhaseDocument::Requirements(requirements("WHEN paying THE SYSTEM SHALL charge the card or refuse it"));
    let record = store.edit_document(USER, id, edited).await.unwrap();
    let state_of = |record: &steward_store::ProjectRecord, key: &str| {
        let task = record.tasks.iter().find(|task| task.spec.id == key).unwrap();
        (task.state, task.job_id)
    };
    for untouched in ["T001", "T003"] {
        assert_eq!(state_of(&record, untouched), state_of(&before, untouched), "{untouched} keeps its state and job");
    }
    assert_eq!(state_of(&record, "T002").0, TaskState::Pending);
    assert_eq!(state_of(&record, "T004"), state_of(&before, "T004"));
    let versions: Vec<(Phase, u32)> = record.documents.iter().map(|d| (d.phase, d.version)).collect();
    assert!(versions.contains(&(Phase::Requirements, 2)), "{versions:?}");
    assert_eq!(
        replanned(store, id.get(), 0).await,
        [
            ("T002".to_string(), "done".to_string(), "pending".to_string()),
            ("T004".to_string(), "pending".to_string(), "pending".to_string()),
        ]
    );

    // Running again queues only T002's new job: T001 is done, T003 and
    // T004 still have live jobs.
    store.start_execution(USER, id).await.unwrap();
    assert_eq!(task_jobs(store).await, ["T001", "T002", "T003", "T004", "T002"]);

    // A design edit with no property changes re-plans nothing.
    let design_edit = DesignDocument { architecture: "one service and a queue".into(), ..design };
    let record = store.edit_document(USER, id, PhaseDocument::Design(design_edit)).await.unwrap();
    assert_eq!(state_of(&record, "T002").0, TaskState::Pending);
    assert_eq!(replanned(store, id.get(), 2).await, []);

    // A tasks edit: T001's title changes (it stays done), T004 is removed
    // (its live job cancelled), T005 is added.
    let mut tasks = graph();
    tasks.tasks[0].title = "Task T001, renamed".into();
    tasks.tasks.remove(3);
    tasks.tasks.push(task("T005", "R1.1", &["T003"]));
    let t004_job = state_of(&record, "T004").1.unwrap();
    let record = store.edit_document(USER, id, PhaseDocument::Tasks(tasks)).await.unwrap();
    let states: Vec<(&str, TaskState)> = record.tasks.iter().map(|task| (task.spec.id.as_str(), task.state)).collect();
    assert_eq!(
        states,
        [
            ("T001", TaskState::Done),
            ("T002", TaskState::Pending),
            ("T003", TaskState::Running),
            ("T005", TaskState::Pending)
        ]
    );
    assert_eq!(store.get_job(USER, t004_job).await.unwrap().state, JobState::Cancelled);
    assert_eq!(
        replanned(store, id.get(), 2).await,
        [
            ("T001".to_string(), "done".to_string(), "done".to_string()),
            ("T005".to_string(), "-".to_string(), "pending".to_string()),
            ("T004".to_string(), "pending".to_string(), "-".to_string()),
        ]
    );
    let cyclic =
        TasksDocument { tasks: vec![task("T001", "R1.1", &["T002"]), task("T002", "R1.1", &["T001"])], ..graph() };
    let refused = store.edit_document(USER, id, PhaseDocument::Tasks(cyclic)).await.unwrap_err();
    assert!(refused.to_string().contains("cycle"), "{refused}");

    let fresh = store.create_project(USER, NewProject::from_brief("Fresh", "")).await.unwrap();
    let early =
        store.edit_document(USER, fresh.project.id, PhaseDocument::Requirements(requirements("x"))).await.unwrap_err();
    assert!(matches!(early, StoreError::Conflict { .. }), "nothing approved to edit: {early:?}");
}

async fn editing_the_text_of_a_running_task_restarts_it_and_refuses_its_old_result(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let agent = crate::helpers::agent_named(store, "Builder").await;
    let id = executing(store, agent, &DesignDocument { title: "Shop".into(), ..Default::default() }).await;
    // T001's and T002's jobs are taken by a worker and stay running.
    let jobs = crate::helpers::claim(store, 10).await;
    assert_eq!(jobs.len(), 2);
    let task_of = |record: &steward_store::ProjectRecord, key: &str| {
        record.tasks.iter().find(|task| task.spec.id == key).unwrap().clone()
    };
    // T002 runs as a run already at work; T001 as one still queued.
    let mut runs = Vec::new();
    for key in ["T002", "T001"] {
        let record = store.get_project(USER, id).await.unwrap();
        let task = task_of(&record, key);
        let reserve = TaskUpdate { job_id: task.job_id, ..TaskUpdate::to(TaskState::Running) }.decided_on(&task);
        store.update_task(USER, id, key, reserve).await.unwrap();
        let run = store.start_run(USER, crate::helpers::ad_hoc_run(agent, &format!("Work on {key}"))).await.unwrap();
        if key == "T002" {
            crate::helpers::claim_and_begin(store, run.id).await;
        }
        let attach = TaskUpdate { run_id: Some(run.id), ..TaskUpdate::to(TaskState::Running) };
        store.update_task(USER, id, key, attach).await.unwrap();
        runs.push(run);
    }
    let before = store.get_project(USER, id).await.unwrap();
    let t002 = task_of(&before, "T002");
    assert_eq!((t002.state, t002.run_id, t002.replans), (TaskState::Running, Some(runs[0].id), 0));
    // What T002's job decides on its run's answer, before the edit lands.
    let late_result = TaskUpdate::to(TaskState::Validating).decided_on(&t002);

    // R2.1 changes: T002 (running, serving it) restarts on the new text.
    let edited = PhaseDocument::Requirements(requirements("WHEN paying THE SYSTEM SHALL charge the card or refuse it"));
    let record = store.edit_document(USER, id, edited).await.unwrap();
    let restarted = task_of(&record, "T002");
    assert_eq!(
        (restarted.state, restarted.run_id, restarted.job_id, restarted.replans),
        (TaskState::Pending, None, t002.job_id, 1),
        "pending with no run, its job kept for its dependents"
    );
    assert_eq!(task_of(&record, "T001"), task_of(&before, "T001"), "T001 serves R1.1, which did not change");
    assert_eq!(task_of(&record, "T004").replans, 1);
    let stopped = store.get_run(USER, runs[0].id).await.unwrap();
    assert!(stopped.cancel_requested, "the run at work is asked to stop: {stopped:?}");
    let run_job = store.get_job(USER, stopped.job_id.unwrap()).await.unwrap();
    assert_eq!(run_job.state, JobState::Cancelled);
    let task_job = store.get_job(USER, t002.job_id.unwrap()).await.unwrap();
    assert!(!task_job.state.is_finished(), "T002's job goes on to start the new run: {:?}", task_job.state);
    let reasons = replanned_fields(store, id.get(), 0, ["task", "from", "reason"]).await;
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(
        reasons[0],
        ["T002", "running", "criterion R2.1 changed: its run is stopped and it starts again on the new text"]
            .map(String::from)
    );

    // The old run's result lands late: refused, the task stays pending.
    let refused = store.update_task(USER, id, "T002", late_result).await.unwrap_err();
    assert!(
        matches!(refused, StoreError::Conflict { kind: ConflictKind::Stale, ref field, .. } if field.as_deref() == Some("replans")),
        "{refused:?}"
    );
    assert_eq!(task_of(&store.get_project(USER, id).await.unwrap(), "T002").state, TaskState::Pending);
    // Read again, the task starts on the new text.
    let fresh = task_of(&store.get_project(USER, id).await.unwrap(), "T002");
    store.update_task(USER, id, "T002", TaskUpdate::to(TaskState::Running).decided_on(&fresh)).await.unwrap();

    // A tasks edit: T001's details change (restarted, its queued run ended
    // at once); T002's parallel mark changes only (it keeps running).
    let mut tasks = graph();
    tasks.tasks[0].details = vec!["Keep the cart in cents.".into()];
    tasks.tasks[1].parallel = false;
    let record = store.edit_document(USER, id, PhaseDocument::Tasks(tasks)).await.unwrap();
    let t001 = task_of(&record, "T001");
    assert_eq!((t001.state, t001.run_id, t001.replans), (TaskState::Pending, None, 1));
    let ended = store.get_run(USER, runs[1].id).await.unwrap();
    assert_eq!((ended.status, ended.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)), "{ended:?}");
    assert!(ended.error.as_deref().unwrap_or_default().contains("task T001 was re-planned"), "{ended:?}");
    let t002 = task_of(&record, "T002");
    assert_eq!((t002.state, t002.replans), (TaskState::Running, 2), "a change of place only keeps it running");
}

store_tests!(
    editing_an_approved_requirement_replans_only_its_tasks,
    editing_the_text_of_a_running_task_restarts_it_and_refuses_its_old_result
);
