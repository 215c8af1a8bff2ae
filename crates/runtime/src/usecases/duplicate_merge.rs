//! Merging two duplicate tasks of a project: the project's approved tasks
//! document is edited (`TasksDocument::merge_tasks`): the kept task takes
//! the dropped one's requirement ids and a line naming it, the dropped
//! task's dependents depend on the kept one, and the dropped task leaves
//! the graph (its live job cancelled). The edit is an approved new version,
//! re-planned like any person's edit, with `project.document_edited` and a
//! `project.task_replanned` for each task it touched; the pointer from the
//! dropped task to the kept one is the kept task's details line and the
//! flag's decision (`duplicate.decided`, with the kept ref).

use steward_domain::oversight::duplicates::Duplicate;
use steward_domain::project::{DocumentStatus, Phase, PhaseDocument};
use steward_domain::{UserId, ValidationError};

use super::{UseCaseError, UseCases};

/// The task id in a task flag's ref (`7/T003` of project 7).
fn task_key<'a>(duplicate: &Duplicate, reference: &'a str) -> Result<&'a str, ValidationError> {
    let project = duplicate.project_id.ok_or_else(|| ValidationError::new("keep", "the task flag has no project"))?;
    reference
        .strip_prefix(&format!("{project}/"))
        .ok_or_else(|| ValidationError::new("keep", format!("{reference:?} is not a task of project {project}")))
}

impl UseCases {
    /// Merges the flag's task `dropped` into `kept` (both refs of the flag).
    pub(super) async fn merge_tasks(
        &self,
        user: UserId,
        duplicate: &Duplicate,
        kept: &str,
        dropped: &str,
    ) -> Result<(), UseCaseError> {
        let (kept, dropped) = (task_key(duplicate, kept)?, task_key(duplicate, dropped)?);
        let Some(project) = duplicate.project_id else { return Ok(()) };
        let record = self.store.get_project(user, project).await?;
        let current = record
            .documents
            .iter()
            .filter(|stored| stored.phase == Phase::Tasks && stored.status == DocumentStatus::Approved)
            .max_by_key(|stored| stored.version)
            .ok_or_else(|| ValidationError::new("keep", format!("project {project} has no approved tasks document")))?;
        let PhaseDocument::Tasks(tasks) = &current.document else {
            return Err(ValidationError::new("keep", "the approved tasks document is of another phase").into());
        };
        let merged = tasks.merge_tasks(kept, dropped)?;
        self.store.edit_document(user, project, PhaseDocument::Tasks(merged)).await?;
        Ok(())
    }
}
