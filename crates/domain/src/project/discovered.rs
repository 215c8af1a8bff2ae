//! Discovered work: a task an agent adds to the graph while working on
//! another, with the reason and the task it came from. It joins the
//! approved tasks document as its next version, checked as that document
//! is (ids unique, dependencies known, no cycle, requirements that exist);
//! whether a person approves it first is the project's choice
//! ([`DiscoveredTasks`]).

use super::document::{TaskSpec, TasksDocument};
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_text};

const REASON_CHARS: usize = 2_000;

text_enum!(
    /// Whether a task an agent discovers joins the graph at once.
    DiscoveredTasks, "discovered_tasks", {
        /// A person approves the agent's call first (the approvals inbox).
        Approve => "approve",
        /// It joins the graph as the agent adds it.
        Allow => "allow",
    }
);

/// A task an agent discovered while working on `from_task`.
#[derive(Clone, Debug, PartialEq)]
pub struct DiscoveredTask {
    pub spec: TaskSpec,
    /// The task being worked on when it was found.
    pub from_task: String,
    /// Why it is needed.
    pub reason: String,
}

impl DiscoveredTask {
    /// The task as it joins the graph: its origin and reason in its details.
    pub fn spec_with_origin(&self) -> TaskSpec {
        let mut spec = self.spec.clone();
        spec.details.push(format!("Discovered while working on {}: {}", self.from_task, self.reason.trim()));
        spec
    }

    /// The tasks document with this task added at the end, its origin
    /// written in its details; refused with the field named when the task
    /// it came from is not in the graph or the graph would break.
    pub fn added_to(&self, document: &TasksDocument) -> Result<TasksDocument, ValidationError> {
        check_text("reason", &self.reason, REASON_CHARS)?;
        if !document.tasks.iter().any(|task| task.id == self.from_task) {
            return Err(ValidationError::new("from_task", format!("there is no task {}", self.from_task)));
        }
        let mut updated = document.clone();
        updated.tasks.push(self.spec_with_origin());
        updated.validate().map_err(|error| match error.field.as_str() {
            "tasks" => error,
            _ => ValidationError::new("task", error.to_string()),
        })?;
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, depends_on: &[&str]) -> TaskSpec {
        TaskSpec {
            id: id.into(),
            title: format!("do {id}"),
            depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
            ..TaskSpec::default()
        }
    }

    #[test]
    fn a_discovered_task_joins_the_graph_with_its_origin_or_is_refused() {
        let document =
            TasksDocument { title: "Shop".into(), tasks: vec![spec("T001", &[])], ..TasksDocument::default() };
        let found = DiscoveredTask {
            spec: spec("T002", &["T001"]),
            from_task: "T001".into(),
            reason: "tests need data".into(),
        };
        let updated = found.added_to(&document).unwrap();
        assert_eq!(updated.tasks[1].details, ["Discovered while working on T001: tests need data"]);

        let unknown = DiscoveredTask { from_task: "T009".into(), ..found.clone() };
        assert_eq!(unknown.added_to(&document).unwrap_err().field, "from_task");
        let twice = DiscoveredTask { spec: spec("T001", &[]), ..found.clone() };
        let error = twice.added_to(&document).unwrap_err();
        assert!(error.message.contains("T001 is used twice"), "{error}");
        let dangling = DiscoveredTask { spec: spec("T002", &["T007"]), ..found.clone() };
        assert_eq!(dangling.added_to(&document).unwrap_err().field, "task");
        let itself = DiscoveredTask { spec: spec("T002", &["T002"]), ..found };
        let cycle = itself.added_to(&document).unwrap_err();
        assert!(cycle.message.contains("cycle"), "{cycle}");
    }

    #[test]
    fn discovered_tasks_read_their_names() {
        assert_eq!("allow".parse::<DiscoveredTasks>().unwrap(), DiscoveredTasks::Allow);
        assert_eq!("sometimes".parse::<DiscoveredTasks>().unwrap_err().field, "discovered_tasks");
    }
}
