//! What agents do on a project, as queue jobs, and the rules that need no
//! I/O: the job that asks the project's agent for a phase's document, the
//! jobs `project run` queues (one per task not done, `depends_on` following
//! the task graph, a task already queued kept), how long a task's job waits
//! before looking at its run again, and what the validator's verdict makes
//! of a task.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::task::{ProjectTask, TaskState};
use super::{Phase, Project};
use crate::ids::{JobId, ProjectId};
use crate::job::{JobRef, NewJob};

/// Asks the project's agent for a phase's document and proposes it at the gate.
pub const DOCUMENT_JOB_KIND: &str = "project.document";
/// Works on one task: its runs, their validation, until done or a person decides.
pub const TASK_JOB_KIND: &str = "project.task";
/// Looks at a task's run this many times before its job gives up (about an
/// hour and a half with [`wait_before_looking_again`]); `project run` then
/// queues it again, without repeating the run.
pub const TASK_JOB_ATTEMPTS: u32 = 100;

/// `project.document`'s payload: the document asked for is `version` of `phase`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentJob {
    pub project_id: ProjectId,
    #[serde(with = "phase_text")]
    pub phase: Phase,
    pub version: u32,
}

mod phase_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Phase;

    pub fn serialize<S: Serializer>(phase: &Phase, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(phase.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Phase, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `project.task`'s payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskJob {
    pub project_id: ProjectId,
    pub task: String,
}

/// The job asking `project`'s agent for `version` of `phase`'s document:
/// `None` when the project has no agent (a person proposes) or the phase
/// has no document. Once per version, so a retried decision asks once.
pub fn document_job(project: &Project, phase: Phase, version: u32) -> Option<NewJob> {
    project.agent_id?;
    if !phase.has_document() {
        return None;
    }
    let payload = DocumentJob { project_id: project.id, phase, version };
    let job = NewJob::new(DOCUMENT_JOB_KIND, serde_json::to_value(&payload).ok()?)
        .with_key(format!("project:{}:{phase}:v{version}", project.id));
    Some(job)
}

/// A task's job to queue for `project run`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedTaskJob {
    pub task: String,
    pub job: NewJob,
}

/// The jobs `project run` queues: one for each task not done whose job is
/// not live (`live`: the task's job still waiting or running), depending on
/// the jobs of its dependencies not done — a live one by id, a new one by
/// key. A done task is never queued again. The key names the job it
/// replaces, so two `run`s at once queue one job.
pub fn task_jobs(project: ProjectId, tasks: &[ProjectTask], live: &BTreeMap<String, JobId>) -> Vec<PlannedTaskJob> {
    let key_of = |task: &ProjectTask| {
        format!("project:{project}:task:{}:after:{}", task.spec.id, task.job_id.map_or(0, |id| id.get()))
    };
    let state_of: BTreeMap<&str, &ProjectTask> = tasks.iter().map(|task| (task.spec.id.as_str(), task)).collect();
    let mut planned = Vec::new();
    for task in tasks {
        if task.state == TaskState::Done || live.contains_key(&task.spec.id) {
            continue;
        }
        let mut depends_on = Vec::new();
        for dependency in &task.spec.depends_on {
            let Some(other) = state_of.get(dependency.as_str()) else { continue };
            if other.state == TaskState::Done {
                continue;
            }
            depends_on.push(match live.get(dependency) {
                Some(job) => JobRef::Id(*job),
                None => JobRef::Key(key_of(other)),
            });
        }
        let payload = TaskJob { project_id: project, task: task.spec.id.clone() };
        let mut job = NewJob::new(TASK_JOB_KIND, serde_json::to_value(&payload).unwrap_or_default())
            .with_key(key_of(task))
            .with_max_attempts(TASK_JOB_ATTEMPTS);
        job.depends_on = depends_on;
        planned.push(PlannedTaskJob { task: task.spec.id.clone(), job });
    }
    planned
}

/// How long a task's job waits before its `attempt`-th look: 1 s, doubling,
/// at most a minute.
pub fn wait_before_looking_again(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// What the validator's verdict makes of a finished task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Done,
    /// Back to the agent with the feedback, one more round.
    SendBack,
    /// Sent back as often as allowed: a person decides.
    ToPerson,
}

/// The verdict on a task sent back `rounds` times so far, when at most
/// `max_rounds` are allowed.
pub fn verdict(pass: bool, rounds: u32, max_rounds: u32) -> Verdict {
    match (pass, rounds < max_rounds) {
        (true, _) => Verdict::Done,
        (false, true) => Verdict::SendBack,
        (false, false) => Verdict::ToPerson,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::project::TaskSpec;

    fn task(id: &str, depends_on: &[&str], state: TaskState, job: Option<i64>) -> ProjectTask {
        ProjectTask {
            project_id: ProjectId(7),
            spec: TaskSpec {
                id: id.into(),
                title: id.into(),
                depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
                ..TaskSpec::default()
            },
            state,
            rounds: 0,
            feedback: None,
            job_id: job.map(JobId),
            run_id: None,
            replans: 0,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn run_queues_what_is_not_done_and_follows_the_graph() {
        let tasks = [
            task("T001", &[], TaskState::Done, Some(1)),
            task("T002", &["T001"], TaskState::Running, Some(2)),
            task("T003", &["T001"], TaskState::Pending, None),
            task("T004", &["T002", "T003"], TaskState::Failed, Some(4)),
        ];
        let live = BTreeMap::from([("T002".to_string(), JobId(2))]);
        let planned = task_jobs(ProjectId(7), &tasks, &live);
        let ids: Vec<&str> = planned.iter().map(|planned| planned.task.as_str()).collect();
        assert_eq!(ids, ["T003", "T004"], "done and live tasks are not queued again");
        assert!(planned[0].job.depends_on.is_empty(), "a done dependency holds nothing back");
        assert_eq!(planned[0].job.idempotency_key.as_deref(), Some("project:7:task:T003:after:0"));
        assert_eq!(
            planned[1].job.depends_on,
            [JobRef::Id(JobId(2)), JobRef::Key("project:7:task:T003:after:0".into())]
        );
        assert_eq!(planned[1].job.idempotency_key.as_deref(), Some("project:7:task:T004:after:4"));
        assert_eq!(planned[1].job.max_attempts, TASK_JOB_ATTEMPTS);
    }

    #[test]
    fn the_validator_sends_back_at_most_max_rounds_times() {
        assert_eq!(verdict(true, 5, 1), Verdict::Done);
        assert_eq!(verdict(false, 0, 1), Verdict::SendBack);
        assert_eq!(verdict(false, 1, 1), Verdict::ToPerson);
        assert_eq!(verdict(false, 0, 0), Verdict::ToPerson, "no rounds: the first failure goes to a person");
    }

    #[test]
    fn looks_grow_from_a_second_to_a_minute() {
        let waits: Vec<u64> = [1, 2, 3, 7, 8, 100].map(|attempt| wait_before_looking_again(attempt).as_secs()).into();
        assert_eq!(waits, [1, 2, 4, 60, 60, 60]);
    }
}
