//! A project's tasks as executed: each task of the tasks document with its
//! state, and which tasks may start now under the parallel limit.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::document::TaskSpec;
use crate::ids::{JobId, ProjectId, RunId};
use crate::text_enum::text_enum;

text_enum!(
    /// Where a task is.
    TaskState, "state", {
        /// Waiting for its dependencies or a free slot.
        Pending => "pending",
        /// An agent works on it.
        Running => "running",
        /// The validator checks it.
        Validating => "validating",
        Done => "done",
        /// Sent back more often than allowed, or failed: a person decides.
        Failed => "failed",
    }
);

/// A task of a project, with its state.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectTask {
    pub project_id: ProjectId,
    pub spec: TaskSpec,
    pub state: TaskState,
    /// Times the validator sent it back.
    pub rounds: u32,
    /// The validator's latest feedback.
    pub feedback: Option<String>,
    /// The queue job executing it, once started.
    pub job_id: Option<JobId>,
    /// The agent's latest run on it.
    pub run_id: Option<RunId>,
    /// How many times an edit of the spec re-planned the task. A move is
    /// made for the count it was decided on, so the result of work an edit
    /// superseded (a stopped run's answer landing late) is refused instead
    /// of marking the re-planned task done.
    pub replans: u32,
    pub updated_at: DateTime<Utc>,
}

/// The tasks that may start now, in document order: pending, with every
/// dependency done, and within the limit of tasks running at once. A task
/// not marked parallel runs alone: it starts only when nothing else runs,
/// and nothing starts beside it.
pub fn tasks_to_start(tasks: &[ProjectTask], parallel_limit: u32) -> Vec<&ProjectTask> {
    let done: BTreeSet<&str> =
        tasks.iter().filter(|task| task.state == TaskState::Done).map(|task| task.spec.id.as_str()).collect();
    let busy: Vec<&ProjectTask> =
        tasks.iter().filter(|task| matches!(task.state, TaskState::Running | TaskState::Validating)).collect();
    if busy.iter().any(|task| !task.spec.parallel) {
        return Vec::new();
    }
    let mut free = (parallel_limit as usize).saturating_sub(busy.len());
    let mut chosen = Vec::new();
    for task in tasks {
        if free == 0 {
            break;
        }
        let ready = task.state == TaskState::Pending
            && task.spec.depends_on.iter().all(|dependency| done.contains(dependency.as_str()));
        if !ready {
            continue;
        }
        if !task.spec.parallel {
            if busy.is_empty() && chosen.is_empty() {
                chosen.push(task);
            }
            break;
        }
        chosen.push(task);
        free -= 1;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, depends_on: &[&str], parallel: bool) -> TaskSpec {
        TaskSpec {
            id: id.into(),
            title: format!("do {id}"),
            parallel,
            depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
            ..TaskSpec::default()
        }
    }

    fn task(spec: TaskSpec, state: TaskState) -> ProjectTask {
        ProjectTask {
            project_id: ProjectId(1),
            spec,
            state,
            rounds: 0,
            feedback: None,
            job_id: None,
            run_id: None,
            replans: 0,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn parallel_tasks_start_together_up_to_the_limit_and_serial_ones_alone() {
        let ids = |chosen: Vec<&ProjectTask>| chosen.iter().map(|task| task.spec.id.clone()).collect::<Vec<_>>();
        let graph = vec![
            task(spec("T001", &[], false), TaskState::Done),
            task(spec("T002", &["T001"], true), TaskState::Pending),
            task(spec("T003", &["T001"], true), TaskState::Pending),
            task(spec("T004", &["T001"], true), TaskState::Pending),
            task(spec("T005", &["T002", "T003"], false), TaskState::Pending),
        ];
        assert_eq!(ids(tasks_to_start(&graph, 2)), ["T002", "T003"]);
        assert_eq!(ids(tasks_to_start(&graph, 8)), ["T002", "T003", "T004"]);

        let mut running = graph.clone();
        running[1].state = TaskState::Running;
        assert_eq!(ids(tasks_to_start(&running, 2)), ["T003"]);

        let mut serial = graph.clone();
        for task in &mut serial[1..4] {
            task.state = TaskState::Done;
        }
        assert_eq!(ids(tasks_to_start(&serial, 4)), ["T005"]);
        serial[4].state = TaskState::Running;
        serial.push(task(spec("T006", &[], true), TaskState::Pending));
        assert!(tasks_to_start(&serial, 4).is_empty(), "nothing starts beside a serial task");
    }
}
