//! Merging two tasks that are the same work: the kept task takes the
//! dropped one's requirement ids (union, in order) and a line in its
//! details naming the task it absorbed; every task that depended on the
//! dropped one depends on the kept one instead; the dropped task leaves the
//! tasks document. The result is checked as any tasks document is.

use super::document::TasksDocument;
use crate::validation::ValidationError;

/// The line the kept task's details get, pointing at the task it absorbed.
pub fn merged_note(dropped: &str, title: &str) -> String {
    format!("Merged with {dropped} ({title}): the same work, flagged as a duplicate")
}

impl TasksDocument {
    /// The document with task `dropped` merged into task `kept`; refused
    /// with the field named when either is missing or they are one task.
    pub fn merge_tasks(&self, kept: &str, dropped: &str) -> Result<TasksDocument, ValidationError> {
        if kept == dropped {
            return Err(ValidationError::new("keep", format!("{kept} cannot be merged with itself")));
        }
        let find = |id: &str| self.tasks.iter().find(|task| task.id == id);
        if find(kept).is_none() {
            return Err(ValidationError::new("keep", format!("there is no task {kept} in the tasks document")));
        }
        let Some(gone) = find(dropped).cloned() else {
            return Err(ValidationError::new("task", format!("there is no task {dropped} in the tasks document")));
        };
        let mut merged = self.clone();
        merged.tasks.retain(|task| task.id != dropped);
        for task in &mut merged.tasks {
            if task.id == kept {
                for requirement in &gone.requirements {
                    if !task.requirements.contains(requirement) {
                        task.requirements.push(requirement.clone());
                    }
                }
                task.depends_on.retain(|dependency| dependency != dropped);
                for dependency in &gone.depends_on {
                    if dependency != kept && !task.depends_on.contains(dependency) {
                        task.depends_on.push(dependency.clone());
                    }
                }
                task.details.push(merged_note(dropped, &gone.title));
            } else if task.depends_on.iter().any(|dependency| dependency == dropped) {
                let mut depends_on = Vec::new();
                for dependency in &task.depends_on {
                    let now = if dependency == dropped { kept } else { dependency.as_str() };
                    if now != task.id && !depends_on.iter().any(|known: &String| known == now) {
                        depends_on.push(now.to_string());
                    }
                }
                task.depends_on = depends_on;
            }
        }
        merged.validate().map_err(|error| ValidationError::new("keep", error.to_string()))?;
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::super::document::TaskSpec;
    use super::*;

    fn spec(id: &str, requirements: &[&str], depends_on: &[&str]) -> TaskSpec {
        TaskSpec {
            id: id.into(),
            title: format!("do {id}"),
            requirements: requirements.iter().map(|id| id.to_string()).collect(),
            depends_on: depends_on.iter().map(|id| id.to_string()).collect(),
            ..TaskSpec::default()
        }
    }

    #[test]
    fn the_kept_task_takes_the_requirements_and_the_dependents_of_the_dropped_one() {
        let document = TasksDocument {
            title: "Shop".into(),
            tasks: vec![
                spec("T001", &[], &[]),
                spec("T002", &["R1"], &["T001"]),
                spec("T003", &["R1", "R2"], &["T001"]),
                spec("T004", &[], &["T003"]),
                spec("T005", &[], &["T002", "T003"]),
            ],
            ..TasksDocument::default()
        };
        let merged = document.merge_tasks("T002", "T003").unwrap();
        let ids: Vec<&str> = merged.tasks.iter().map(|task| task.id.as_str()).collect();
        assert_eq!(ids, ["T001", "T002", "T004", "T005"]);
        assert_eq!(merged.tasks[1].requirements, ["R1", "R2"]);
        assert_eq!(merged.tasks[1].depends_on, ["T001"]);
        assert_eq!(merged.tasks[1].details, [merged_note("T003", "do T003")]);
        assert_eq!(merged.tasks[2].depends_on, ["T002"], "a dependent of the dropped task waits for the kept one");
        assert_eq!(merged.tasks[3].depends_on, ["T002"], "no edge twice");

        // Keeping the later of a chain: the kept task no longer waits for the dropped one.
        let chain = TasksDocument {
            title: "Chain".into(),
            tasks: vec![spec("T001", &["R1"], &[]), spec("T002", &[], &["T001"]), spec("T003", &[], &["T002"])],
            ..TasksDocument::default()
        };
        let merged = chain.merge_tasks("T002", "T001").unwrap();
        assert!(merged.tasks[0].depends_on.is_empty());
        assert_eq!(merged.tasks[0].requirements, ["R1"]);

        assert_eq!(document.merge_tasks("T002", "T002").unwrap_err().field, "keep");
        assert_eq!(document.merge_tasks("T009", "T002").unwrap_err().field, "keep");
        assert_eq!(document.merge_tasks("T002", "T009").unwrap_err().field, "task");
    }
}
