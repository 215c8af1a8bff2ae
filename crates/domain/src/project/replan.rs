//! What a person's edit of an approved document changes in the task graph,
//! compared by stable ids: the requirement and criterion ids whose text
//! changed, were added or removed (a requirements edit, or the
//! requirements a changed design property is tied to), and the tasks that
//! serve them; or, for a tasks edit, the tasks whose own definition
//! changed, were added or removed. Only those tasks are re-planned: a done
//! task goes back to pending only when what it was checked against
//! changed; a task being worked on (running or validating) whose text
//! changed is restarted — its run stopped, pending again, so the work that
//! lands is for the new text —; every other task keeps its state, a new one
//! starts pending, a removed one is dropped (its job cancelled and its run
//! stopped when still live). Each re-planned task counts the re-plan
//! (`replans`), which the store checks when the task's job moves it, so a
//! superseded run's result landing late is refused.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::document::{DesignDocument, Requirement, RequirementsDocument, TaskSpec, TasksDocument};
use super::task::{ProjectTask, TaskState};
use crate::ids::{JobId, ProjectId, RunId};

/// Why an id counts as changed, keyed by requirement or criterion id.
pub type ChangedIds = BTreeMap<String, String>;

/// The requirement and criterion ids an edit of the requirements changed:
/// a requirement whose title, story or priority changed (or that was added
/// or removed) changes with all its criteria; a criterion added, removed or
/// reworded changes itself and its requirement.
pub fn changed_requirements(before: &RequirementsDocument, after: &RequirementsDocument) -> ChangedIds {
    let by_id = |document: &RequirementsDocument| -> BTreeMap<String, Requirement> {
        document.requirements.iter().map(|requirement| (requirement.id.clone(), requirement.clone())).collect()
    };
    let (old, new) = (by_id(before), by_id(after));
    let mut changed = ChangedIds::new();
    let mut mark = |id: &str, reason: String| {
        changed.entry(id.to_string()).or_insert(reason);
    };
    for id in old.keys().chain(new.keys()).collect::<BTreeSet<_>>() {
        match (old.get(id), new.get(id)) {
            (Some(was), Some(is)) => {
                let header = (&was.title, &was.story, &was.priority) != (&is.title, &is.story, &is.priority);
                let criteria = |requirement: &Requirement| -> BTreeMap<String, String> {
                    requirement.criteria.iter().map(|c| (c.id.clone(), c.text.clone())).collect()
                };
                let (was_criteria, is_criteria) = (criteria(was), criteria(is));
                if header {
                    mark(id, format!("requirement {id} changed"));
                    for criterion in was_criteria.keys().chain(is_criteria.keys()) {
                        mark(criterion, format!("requirement {id} changed"));
                    }
                    continue;
                }
                for criterion in was_criteria.keys().chain(is_criteria.keys()).collect::<BTreeSet<_>>() {
                    let how = match (was_criteria.get(criterion), is_criteria.get(criterion)) {
                        (Some(a), Some(b)) if a == b => continue,
                        (Some(_), Some(_)) => "changed",
                        (None, _) => "was added",
                        (_, None) => "was removed",
                    };
                    mark(criterion, format!("criterion {criterion} {how}"));
                    mark(id, format!("criterion {criterion} {how}"));
                }
            }
            (was, is) => {
                let (requirement, how) = match (was, is) {
                    (Some(requirement), None) => (requirement, "was removed"),
                    (_, Some(requirement)) => (requirement, "was added"),
                    (None, None) => continue,
                };
                mark(id, format!("requirement {id} {how}"));
                for criterion in &requirement.criteria {
                    mark(&criterion.id, format!("requirement {id} {how}"));
                }
            }
        }
    }
    changed
}

/// The requirement ids tied to design properties an edit of the design
/// added, removed or changed.
pub fn changed_by_design(before: &DesignDocument, after: &DesignDocument) -> ChangedIds {
    let mut changed = ChangedIds::new();
    let ids: BTreeSet<&str> =
        before.properties.iter().chain(&after.properties).map(|property| property.id.as_str()).collect();
    for id in ids {
        let was = before.properties.iter().find(|property| property.id == id);
        let is = after.properties.iter().find(|property| property.id == id);
        if was == is {
            continue;
        }
        for requirement in was.into_iter().chain(is).flat_map(|property| &property.requirements) {
            changed.entry(requirement.clone()).or_insert_with(|| format!("design property {id} changed"));
        }
    }
    changed
}

/// What re-planning did to one task.
#[derive(Clone, Debug, PartialEq)]
pub struct Replanned {
    pub task: String,
    /// `None`: the task was added.
    pub from: Option<TaskState>,
    /// `None`: the task was dropped.
    pub to: Option<TaskState>,
    pub reason: String,
    /// The task's job to cancel (a dropped task's, when still live).
    pub cancel_job: Option<JobId>,
    /// The run to stop: the latest run of a task restarted or dropped while
    /// it was being worked on (the store stops it only if it is still live).
    pub stop_run: Option<RunId>,
}

/// The task graph after an edit, in document order, and what changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Replan {
    pub tasks: Vec<ProjectTask>,
    pub replanned: Vec<Replanned>,
}

/// Back to pending for another go: a new round count and no old feedback.
/// The job id stays, so the next `project run` queues a new job after it.
fn reset(task: &mut ProjectTask) {
    task.state = TaskState::Pending;
    task.rounds = 0;
    task.feedback = None;
}

/// A task being worked on starts again on the new text: pending, with no
/// run, so its job (still live, kept so its dependents stay behind it)
/// starts a new run with the new instruction at its next look.
fn restart(task: &mut ProjectTask) {
    reset(task);
    task.run_id = None;
}

fn in_flight(state: TaskState) -> bool {
    matches!(state, TaskState::Running | TaskState::Validating)
}

/// The run to stop when `task` is restarted or dropped.
fn live_run(task: &ProjectTask) -> Option<RunId> {
    if in_flight(task.state) { task.run_id } else { None }
}

/// Re-plans the tasks serving a changed requirement or criterion (a task
/// naming `R1` is touched by `R1`, one naming `R1.2` by `R1.2`, both ids
/// being in `changed` as [`changed_requirements`] builds it). A done task
/// goes back to pending; a running or validating one is restarted (its run
/// stopped); the others keep their state, with an event.
pub fn replan_for_requirements(tasks: &[ProjectTask], changed: &ChangedIds) -> Replan {
    let mut replanned = Vec::new();
    let tasks = tasks
        .iter()
        .map(|task| {
            let reasons: BTreeSet<&str> =
                task.spec.requirements.iter().filter_map(|id| changed.get(id).map(String::as_str)).collect();
            if reasons.is_empty() {
                return task.clone();
            }
            let mut updated = task.clone();
            updated.replans += 1;
            let reason = reasons.into_iter().collect::<Vec<_>>().join("; ");
            let reason = match task.state {
                TaskState::Done => {
                    reset(&mut updated);
                    format!("{reason}: its work is checked again")
                }
                state if in_flight(state) => {
                    restart(&mut updated);
                    format!("{reason}: its run is stopped and it starts again on the new text")
                }
                _ => format!("{reason}: it works against the new text, keeping its state"),
            };
            replanned.push(Replanned {
                task: task.spec.id.clone(),
                from: Some(task.state),
                to: Some(updated.state),
                reason,
                cancel_job: None,
                stop_run: live_run(task),
            });
            updated
        })
        .collect();
    Replan { tasks, replanned }
}

/// The fields of a task's definition that differ.
fn changed_fields(was: &TaskSpec, is: &TaskSpec) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            fields.push(name);
        }
    };
    check("title", was.title != is.title);
    check("requirements", was.requirements != is.requirements);
    check("done_when", was.done_when != is.done_when);
    check("parallel", was.parallel != is.parallel);
    check("depends_on", was.depends_on != is.depends_on);
    check("group", was.group != is.group);
    check("details", was.details != is.details);
    fields
}

/// The fields a task's run is told (its instruction): a task being worked
/// on restarts when one of them changes. `parallel`, `depends_on` and
/// `group` only place it in the graph.
const INSTRUCTION_FIELDS: [&str; 4] = ["title", "requirements", "done_when", "details"];

/// Re-plans the task graph for an edited tasks document, compared by task
/// id: an unchanged task is untouched; a changed one takes its new
/// definition and keeps its state, except a done task whose requirements
/// or done-when changed, which goes back to pending, and a running or
/// validating one whose instruction changed, which is restarted (its run
/// stopped); a new task starts pending; a removed one is dropped, its job
/// cancelled when it had one and its run stopped.
pub fn replan_for_tasks(
    project: ProjectId,
    tasks: &[ProjectTask],
    edited: &TasksDocument,
    now: DateTime<Utc>,
) -> Replan {
    let mut replanned = Vec::new();
    let mut planned = Vec::with_capacity(edited.tasks.len());
    for spec in &edited.tasks {
        let Some(task) = tasks.iter().find(|task| task.spec.id == spec.id) else {
            replanned.push(Replanned {
                task: spec.id.clone(),
                from: None,
                to: Some(TaskState::Pending),
                reason: "added to the tasks document".into(),
                cancel_job: None,
                stop_run: None,
            });
            planned.push(ProjectTask {
                project_id: project,
                spec: spec.clone(),
                state: TaskState::Pending,
                rounds: 0,
                feedback: None,
                job_id: None,
                run_id: None,
                replans: 0,
                updated_at: now,
            });
            continue;
        };
        let fields = changed_fields(&task.spec, spec);
        let mut updated = ProjectTask { spec: spec.clone(), ..task.clone() };
        if fields.is_empty() {
            planned.push(updated);
            continue;
        }
        updated.replans += 1;
        let redo = task.state == TaskState::Done && fields.iter().any(|f| matches!(*f, "requirements" | "done_when"));
        let again = in_flight(task.state) && fields.iter().any(|field| INSTRUCTION_FIELDS.contains(field));
        let changed = fields.join(", ");
        let reason = if redo {
            reset(&mut updated);
            format!("its {changed} changed: its work is checked again")
        } else if again {
            restart(&mut updated);
            format!("its {changed} changed: its run is stopped and it starts again on the new text")
        } else if task.state == TaskState::Done {
            format!("its {changed} changed; its work stays done")
        } else {
            format!("its {changed} changed; it keeps its state")
        };
        replanned.push(Replanned {
            task: spec.id.clone(),
            from: Some(task.state),
            to: Some(updated.state),
            reason,
            cancel_job: None,
            stop_run: if again { live_run(task) } else { None },
        });
        planned.push(updated);
    }
    for task in tasks {
        if edited.tasks.iter().any(|spec| spec.id == task.spec.id) {
            continue;
        }
        let reason = if in_flight(task.state) {
            "removed from the tasks document: its work is cancelled"
        } else {
            "removed from the tasks document"
        };
        replanned.push(Replanned {
            task: task.spec.id.clone(),
            from: Some(task.state),
            to: None,
            reason: reason.into(),
            cancel_job: if task.state == TaskState::Done { None } else { task.job_id },
            stop_run: live_run(task),
        });
    }
    Replan { tasks: planned, replanned }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::{Criterion, Property};

    fn requirement(id: &str, title: &str, criteria: &[(&str, &str)]) -> Requirement {
        Requirement {
            id: id.into(),
            title: title.into(),
            criteria: criteria.iter().map(|(id, text)| Criterion { id: (*id).into(), text: (*text).into() }).collect(),
            ..Requirement::default()
        }
    }

    fn document(requirements: Vec<Requirement>) -> RequirementsDocument {
        RequirementsDocument { title: "Shop".into(), requirements, ..RequirementsDocument::default() }
    }

    fn task(id: &str, serves: &[&str], state: TaskState) -> ProjectTask {
        ProjectTask {
            project_id: ProjectId(1),
            spec: TaskSpec {
                id: id.into(),
                title: format!("do {id}"),
                requirements: serves.iter().map(|id| id.to_string()).collect(),
                done_when: "tests pass".into(),
                ..TaskSpec::default()
            },
            state,
            rounds: 1,
            feedback: Some("earlier".into()),
            job_id: Some(JobId(10)),
            run_id: Some(RunId(20)),
            replans: 0,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn changed_ids_follow_requirements_and_criteria() {
        let before = document(vec![
            requirement("R1", "Cart", &[("R1.1", "WHEN add THE SYSTEM SHALL keep"), ("R1.2", "x")]),
            requirement("R2", "Pay", &[("R2.1", "y")]),
            requirement("R3", "Ship", &[("R3.1", "z")]),
        ]);
        let after = document(vec![
            requirement("R1", "Cart", &[("R1.1", "WHEN add THE SYSTEM SHALL keep"), ("R1.2", "x, reworded")]),
            requirement("R2", "Pay by card", &[("R2.1", "y")]),
            requirement("R4", "Refund", &[("R4.1", "w")]),
        ]);
        let changed = changed_requirements(&before, &after);
        let ids: Vec<&str> = changed.keys().map(String::as_str).collect();
        assert_eq!(ids, ["R1", "R1.2", "R2", "R2.1", "R3", "R3.1", "R4", "R4.1"], "R1.1 is untouched");
        assert_eq!(changed["R1.2"], "criterion R1.2 changed");
        assert_eq!(changed["R2.1"], "requirement R2 changed");
        assert_eq!(changed["R3"], "requirement R3 was removed");
        assert!(changed_requirements(&before, &before).is_empty());
    }

    #[test]
    fn only_the_tasks_of_a_changed_requirement_are_replanned() {
        let tasks = [
            task("T001", &["R1.1"], TaskState::Done),
            task("T002", &["R1.2"], TaskState::Done),
            task("T003", &["R1.2"], TaskState::Running),
            task("T004", &["R2"], TaskState::Pending),
        ];
        let changed = ChangedIds::from([("R1.2".to_string(), "criterion R1.2 changed".to_string())]);
        let replan = replan_for_requirements(&tasks, &changed);
        assert_eq!(replan.tasks[0], tasks[0], "a task of an unchanged criterion is untouched");
        assert_eq!(replan.tasks[3], tasks[3]);
        assert_eq!(
            (replan.tasks[1].state, replan.tasks[1].rounds, replan.tasks[1].job_id, replan.tasks[1].replans),
            (TaskState::Pending, 0, Some(JobId(10)), 1)
        );
        let restarted = &replan.tasks[2];
        assert_eq!(
            (restarted.state, restarted.run_id, restarted.job_id, restarted.feedback.as_deref(), restarted.replans),
            (TaskState::Pending, None, Some(JobId(10)), None, 1),
            "a running task starts again on the new text; its job stays for its dependents"
        );
        let summary: Vec<(&str, Option<TaskState>, Option<RunId>)> =
            replan.replanned.iter().map(|r| (r.task.as_str(), r.to, r.stop_run)).collect();
        assert_eq!(
            summary,
            [("T002", Some(TaskState::Pending), None), ("T003", Some(TaskState::Pending), Some(RunId(20)))]
        );
        assert_eq!(replan.replanned[0].reason, "criterion R1.2 changed: its work is checked again");
        assert_eq!(
            replan.replanned[1].reason,
            "criterion R1.2 changed: its run is stopped and it starts again on the new text"
        );
        assert_eq!(replan.tasks[3].replans, 0, "an untouched task does not count a re-plan");
    }

    #[test]
    fn a_tasks_edit_restarts_work_in_flight_only_when_its_instruction_changed() {
        let tasks = [
            task("T001", &["R1"], TaskState::Running),
            task("T002", &["R1"], TaskState::Validating),
            task("T003", &["R1"], TaskState::Running),
        ];
        let mut specs: Vec<TaskSpec> = tasks.iter().map(|task| task.spec.clone()).collect();
        specs[0].details = vec!["Use cents, not floats.".into()];
        specs[1].done_when = "tests and docs".into();
        specs[2].parallel = true;
        let edited = TasksDocument { title: "Shop".into(), tasks: specs, ..TasksDocument::default() };
        let replan = replan_for_tasks(ProjectId(1), &tasks, &edited, DateTime::<Utc>::UNIX_EPOCH);
        let states: Vec<(TaskState, Option<RunId>, u32)> =
            replan.tasks.iter().map(|task| (task.state, task.run_id, task.replans)).collect();
        assert_eq!(
            states,
            [(TaskState::Pending, None, 1), (TaskState::Pending, None, 1), (TaskState::Running, Some(RunId(20)), 1),],
            "a change of its place in the graph only keeps the run going"
        );
        let stops: Vec<Option<RunId>> = replan.replanned.iter().map(|r| r.stop_run).collect();
        assert_eq!(stops, [Some(RunId(20)), Some(RunId(20)), None]);
        assert_eq!(
            replan.replanned[0].reason,
            "its details changed: its run is stopped and it starts again on the new text"
        );
        assert_eq!(replan.replanned[2].reason, "its parallel changed; it keeps its state");
    }

    #[test]
    fn a_design_property_changes_the_requirements_it_is_tied_to() {
        let property = |text: &str| Property { id: "P1".into(), text: text.into(), requirements: vec!["R2".into()] };
        let before = DesignDocument { properties: vec![property("totals add up")], ..DesignDocument::default() };
        let after = DesignDocument { properties: vec![property("totals add up, in cents")], ..before.clone() };
        let changed = changed_by_design(&before, &after);
        assert_eq!(changed.keys().collect::<Vec<_>>(), ["R2"]);
        assert!(changed_by_design(&before, &before).is_empty());
    }

    #[test]
    fn a_tasks_edit_replans_what_it_changes_adds_and_removes() {
        let tasks = [
            task("T001", &["R1"], TaskState::Done),
            task("T002", &["R1"], TaskState::Done),
            task("T003", &["R1"], TaskState::Done),
            task("T004", &["R1"], TaskState::Running),
            task("T005", &["R1"], TaskState::Pending),
        ];
        let mut specs: Vec<TaskSpec> = tasks.iter().map(|task| task.spec.clone()).collect();
        specs[1].title = "do T002 better".into();
        specs[2].done_when = "tests and docs".into();
        specs.remove(3);
        specs.remove(3);
        specs.push(TaskSpec { id: "T006".into(), title: "new".into(), ..TaskSpec::default() });
        let edited = TasksDocument { title: "Shop".into(), tasks: specs, ..TasksDocument::default() };
        let replan = replan_for_tasks(ProjectId(1), &tasks, &edited, DateTime::<Utc>::UNIX_EPOCH);
        let states: Vec<(&str, TaskState)> =
            replan.tasks.iter().map(|task| (task.spec.id.as_str(), task.state)).collect();
        assert_eq!(
            states,
            [
                ("T001", TaskState::Done),
                ("T002", TaskState::Done),
                ("T003", TaskState::Pending),
                ("T006", TaskState::Pending)
            ]
        );
        assert_eq!(replan.tasks[0], tasks[0]);
        assert_eq!(replan.tasks[3].job_id, None);
        type Summary<'a> = (&'a str, Option<TaskState>, Option<JobId>, Option<RunId>);
        let summary: Vec<Summary> =
            replan.replanned.iter().map(|r| (r.task.as_str(), r.to, r.cancel_job, r.stop_run)).collect();
        assert_eq!(
            summary,
            [
                ("T002", Some(TaskState::Done), None, None),
                ("T003", Some(TaskState::Pending), None, None),
                ("T006", Some(TaskState::Pending), None, None),
                ("T004", None, Some(JobId(10)), Some(RunId(20))),
                ("T005", None, Some(JobId(10)), None),
            ]
        );
        assert_eq!(replan.replanned[0].reason, "its title changed; its work stays done");
        assert_eq!(replan.replanned[3].reason, "removed from the tasks document: its work is cancelled");
    }
}
