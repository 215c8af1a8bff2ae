//! Merging a flag's two duplicate tasks, decided once for both databases:
//! which task is kept and which dropped (both named by the flag's refs,
//! `PROJECT/TASK`), and the project's approved tasks document with the
//! dropped task merged into the kept one (`TasksDocument::merge_tasks`).
//! Each backend applies it in one transaction with the flag's decision
//! (`sqlite/edit.rs`, `postgres/edit.rs`), so a merge is either whole or
//! not there at all.

use steward_domain::oversight::duplicates::{Duplicate, DuplicateKind};
use steward_domain::project::{DocumentStatus, Phase, PhaseDocument, StoredDocument};
use steward_domain::{ProjectId, ValidationError};

/// A flag's tasks to merge, before anything is read of the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FlaggedTasks {
    pub project: ProjectId,
    pub kept: String,
    pub dropped: String,
}

/// The task id in a task flag's ref (`7/T003` of project 7).
fn task_key(project: ProjectId, reference: &str) -> Result<String, ValidationError> {
    reference
        .strip_prefix(&format!("{project}/"))
        .map(str::to_string)
        .ok_or_else(|| ValidationError::new("keep", format!("{reference:?} is not a task of project {project}")))
}

/// Which of `duplicate`'s tasks are kept and dropped when a person keeps
/// `kept` (one of its two refs); refused for a flag of actions.
pub(crate) fn flagged_tasks(duplicate: &Duplicate, kept: &str) -> Result<FlaggedTasks, ValidationError> {
    if duplicate.kind != DuplicateKind::Task {
        return Err(ValidationError::new(
            "keep",
            format!("duplicate {} is a flag of actions, not of tasks", duplicate.id),
        ));
    }
    let project = duplicate
        .project_id
        .ok_or_else(|| ValidationError::new("keep", format!("the task flag {} names no project", duplicate.id)))?;
    let dropped = if kept == duplicate.first {
        &duplicate.second
    } else if kept == duplicate.second {
        &duplicate.first
    } else {
        return Err(ValidationError::new(
            "keep",
            format!("{kept:?} is neither {:?} nor {:?}", duplicate.first, duplicate.second),
        ));
    };
    Ok(FlaggedTasks { project, kept: task_key(project, kept)?, dropped: task_key(project, dropped)? })
}

/// The project's tasks document with the flag's dropped task merged into
/// the kept one, from the latest approved version; refused when there is
/// none, or when either task has left it (merged by another flag, or
/// removed by an edit).
pub(crate) fn merged_document(
    flagged: &FlaggedTasks,
    documents: &[StoredDocument],
) -> Result<PhaseDocument, ValidationError> {
    let current = documents
        .iter()
        .filter(|stored| stored.phase == Phase::Tasks && stored.status == DocumentStatus::Approved)
        .max_by_key(|stored| stored.version)
        .ok_or_else(|| {
            ValidationError::new("keep", format!("project {} has no approved tasks document", flagged.project))
        })?;
    let PhaseDocument::Tasks(tasks) = &current.document else {
        return Err(ValidationError::new("keep", "the approved tasks document is of another phase"));
    };
    Ok(PhaseDocument::Tasks(tasks.merge_tasks(&flagged.kept, &flagged.dropped)?))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use steward_domain::oversight::duplicates::DuplicateStatus;
    use steward_domain::project::{TaskSpec, TasksDocument};
    use steward_domain::{DuplicateId, UserId};

    use super::*;

    fn flag(kind: DuplicateKind, first: &str, second: &str) -> Duplicate {
        Duplicate {
            id: DuplicateId(4),
            user_id: UserId(1),
            kind,
            project_id: Some(ProjectId(7)),
            first: first.into(),
            second: second.into(),
            first_title: "a".into(),
            second_title: "b".into(),
            similarity: 1.0,
            method: "text".into(),
            text_similarity: Some(1.0),
            embedding_similarity: None,
            status: DuplicateStatus::Open,
            kept: None,
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
            decided_at: None,
        }
    }

    fn stored(version: u32, status: DocumentStatus, ids: &[&str]) -> StoredDocument {
        let tasks = ids
            .iter()
            .map(|id| TaskSpec { id: id.to_string(), title: format!("Do {id}"), ..TaskSpec::default() })
            .collect();
        StoredDocument {
            project_id: ProjectId(7),
            phase: Phase::Tasks,
            version,
            status,
            document: PhaseDocument::Tasks(TasksDocument { title: "Shop".into(), tasks, ..TasksDocument::default() }),
            comment: None,
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
            decided_at: None,
        }
    }

    #[test]
    fn the_kept_ref_picks_the_dropped_task_and_the_latest_approved_document_is_merged() {
        let duplicate = flag(DuplicateKind::Task, "7/T002", "7/T003");
        let flagged = flagged_tasks(&duplicate, "7/T003").unwrap();
        assert_eq!((flagged.kept.as_str(), flagged.dropped.as_str()), ("T003", "T002"));
        let documents = [
            stored(1, DocumentStatus::Approved, &["T001", "T002", "T003"]),
            stored(2, DocumentStatus::Approved, &["T002", "T003", "T004"]),
            stored(3, DocumentStatus::Rejected, &["T002", "T003"]),
        ];
        let PhaseDocument::Tasks(merged) = merged_document(&flagged, &documents).unwrap() else { panic!("tasks") };
        let ids: Vec<&str> = merged.tasks.iter().map(|task| task.id.as_str()).collect();
        assert_eq!(ids, ["T003", "T004"], "merged from version 2, the latest approved");

        for (kept, why) in [("7/T009", "neither"), ("8/T002", "neither")] {
            let refused = flagged_tasks(&duplicate, kept).unwrap_err();
            assert!(refused.message.contains(why), "{refused}");
        }
        let foreign = flag(DuplicateKind::Task, "8/T002", "7/T003");
        assert!(flagged_tasks(&foreign, "7/T003").unwrap_err().message.contains("not a task of project 7"));
        let actions = flag(DuplicateKind::Action, "1", "2");
        assert!(flagged_tasks(&actions, "1").unwrap_err().message.contains("a flag of actions"));
        let gone = [stored(1, DocumentStatus::Approved, &["T002", "T004"])];
        assert_eq!(merged_document(&flagged, &gone).unwrap_err().field, "keep", "T003 already left the graph");
        let unapproved = [stored(1, DocumentStatus::Proposed, &["T002", "T003"])];
        assert!(merged_document(&flagged, &unapproved).unwrap_err().message.contains("no approved tasks document"));
    }
}
