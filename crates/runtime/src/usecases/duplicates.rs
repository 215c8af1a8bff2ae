//! Duplicate work: a scan flags open actions that say the same thing (any
//! agents') and pending tasks of a project that do, by text similarity
//! (`steward_domain::oversight::duplicates`); a person merges a pair (one
//! kept, the other action dismissed with a link to it) or keeps both.

use steward_domain::oversight::duplicates::{
    Closeness, Duplicate, DuplicateKind, DuplicateStatus, DuplicateThresholds, NewDuplicate, WorkText, similar_pairs,
};
use steward_domain::project::{Phase, TaskState};
use steward_domain::{ActionId, ActionState, UserId, ValidationError};
use steward_store::ActionFilter;

use super::{UseCaseError, UseCases};

/// How a text-found pair is recorded.
const TEXT: &str = "text";

fn pairs_of(
    kind: DuplicateKind,
    project: Option<steward_domain::ProjectId>,
    items: &[WorkText<(String, String)>],
) -> Vec<NewDuplicate> {
    similar_pairs(items, DuplicateThresholds::default())
        .into_iter()
        .filter(|pair| pair.closeness == Closeness::Duplicate)
        .map(|pair| {
            let ((first, first_title), (second, second_title)) =
                if pair.first.0 <= pair.second.0 { (pair.first, pair.second) } else { (pair.second, pair.first) };
            NewDuplicate {
                kind,
                project_id: project,
                first,
                second,
                first_title,
                second_title,
                similarity: pair.similarity,
                method: TEXT.into(),
            }
        })
        .collect()
}

impl UseCases {
    /// Flags the user's duplicate work not flagged before; returns the new flags.
    pub async fn scan_duplicates(&self, user: UserId) -> Result<Vec<Duplicate>, UseCaseError> {
        let open = vec![ActionState::Draft, ActionState::Defined, ActionState::Scheduled];
        let actions = self.store.list_actions(user.into(), ActionFilter { agent_id: None, states: open }).await?;
        let items: Vec<WorkText<(String, String)>> = actions
            .iter()
            .map(|action| WorkText {
                key: (action.id.to_string(), action.title.clone()),
                text: format!("{} {}", action.title, action.description),
            })
            .collect();
        let mut pairs = pairs_of(DuplicateKind::Action, None, &items);
        for project in self.store.list_projects(user).await? {
            if !matches!(project.phase, Phase::Tasks | Phase::Execution) {
                continue;
            }
            let record = self.store.get_project(user, project.id).await?;
            let items: Vec<WorkText<(String, String)>> = record
                .tasks
                .iter()
                .filter(|task| task.state == TaskState::Pending)
                .map(|task| WorkText {
                    key: (format!("{}/{}", project.id, task.spec.id), task.spec.title.clone()),
                    text: format!("{} {}", task.spec.title, task.spec.done_when),
                })
                .collect();
            pairs.extend(pairs_of(DuplicateKind::Task, Some(project.id), &items));
        }
        Ok(self.store.flag_duplicates(user, pairs).await?)
    }

    /// A person's decision on a flag: `keep` one of its two items (the
    /// other action is dismissed, its reason linking the kept one), or
    /// `None` to keep both. Tasks are merged by editing the tasks document,
    /// so a task flag can only be kept.
    pub async fn decide_duplicate(
        &self,
        user: UserId,
        id: steward_domain::DuplicateId,
        keep: Option<String>,
    ) -> Result<Duplicate, UseCaseError> {
        let duplicate = self.store.get_duplicate(user, id).await?;
        // A decided flag is refused by the store before anything is dismissed.
        if duplicate.status != DuplicateStatus::Open {
            return Ok(self.store.decide_duplicate(user, id, keep).await?);
        }
        if let Some(kept) = &keep {
            if duplicate.kind == DuplicateKind::Task {
                return Err(ValidationError::new(
                    "keep",
                    "tasks are merged by editing the project's tasks document; keep both here",
                )
                .into());
            }
            let dropped = if *kept == duplicate.first { &duplicate.second } else { &duplicate.first };
            if *kept != duplicate.first && *kept != duplicate.second {
                return Err(ValidationError::new(
                    "keep",
                    format!("{kept:?} is neither {:?} nor {:?}", duplicate.first, duplicate.second),
                )
                .into());
            }
            let dropped: ActionId = dropped
                .parse()
                .map_err(|_| ValidationError::new("keep", format!("{dropped:?} is not an action id")))?;
            self.store
                .transition_action(user, dropped, ActionState::Dismissed, Some(format!("duplicate of action {kept}")))
                .await?;
        }
        Ok(self.store.decide_duplicate(user, id, keep).await?)
    }
}
