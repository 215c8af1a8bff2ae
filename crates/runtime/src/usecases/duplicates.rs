//! Duplicate work: a scan flags open actions that say the same thing (any
//! agents') and pending tasks of a project that do, by text similarity
//! (`steward_domain::oversight::duplicates`); close candidates (alike, but
//! not enough) are put to the default model, one structured call each, at
//! most 20 a scan, when the agent runtime is there. A person merges a pair
//! (one kept, the other action dismissed with a link to it) or keeps both.

use schemars::JsonSchema;
use serde::Deserialize;
use steward_domain::ProjectId;
use steward_domain::oversight::duplicates::{
    Closeness, Duplicate, DuplicateKind, DuplicateStatus, DuplicateThresholds, NewDuplicate, WorkText, similar_pairs,
};
use steward_domain::project::{Phase, TaskState};
use steward_domain::{ActionId, ActionState, UserId, ValidationError};
use steward_llm::{ChatRequest, StructuredOptions, complete_typed};
use steward_store::ActionFilter;

use super::{UseCaseError, UseCases};

/// How a text-found pair is recorded.
const TEXT: &str = "text";

/// Close candidates a model is asked about at most, per scan.
const MODEL_CHECKS: usize = 20;

/// The model's answer on a close candidate.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SameWork {
    /// Whether doing one makes the other unnecessary.
    same: bool,
}

/// Pairs of `items` found alike by text: duplicates, and close candidates.
fn pairs_of(
    kind: DuplicateKind,
    project: Option<ProjectId>,
    items: &[WorkText<(String, String)>],
) -> (Vec<NewDuplicate>, Vec<NewDuplicate>) {
    let mut duplicates = Vec::new();
    let mut candidates = Vec::new();
    for pair in similar_pairs(items, DuplicateThresholds::default()) {
        let ((first, first_title), (second, second_title)) =
            if pair.first.0 <= pair.second.0 { (pair.first, pair.second) } else { (pair.second, pair.first) };
        let found = NewDuplicate {
            kind,
            project_id: project,
            first,
            second,
            first_title,
            second_title,
            similarity: pair.similarity,
            method: TEXT.into(),
        };
        match pair.closeness {
            Closeness::Duplicate => duplicates.push(found),
            Closeness::Candidate => candidates.push(found),
        }
    }
    (duplicates, candidates)
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
        let (mut pairs, mut candidates) = pairs_of(DuplicateKind::Action, None, &items);
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
            let (found, close) = pairs_of(DuplicateKind::Task, Some(project.id), &items);
            pairs.extend(found);
            candidates.extend(close);
        }
        // Pairs flagged before are not asked about again.
        let flagged = self.store.list_duplicates(user, None).await?;
        candidates.retain(|candidate| {
            !flagged.iter().any(|known| {
                known.kind == candidate.kind && known.first == candidate.first && known.second == candidate.second
            })
        });
        candidates.truncate(MODEL_CHECKS);
        pairs.extend(self.confirmed_by_model(candidates).await);
        Ok(self.store.flag_duplicates(user, pairs).await?)
    }

    /// The close candidates a model says are the same work (with the agent
    /// runtime's default model; none without one). A call that fails leaves
    /// its pair unflagged: the next scan asks again.
    async fn confirmed_by_model(&self, candidates: Vec<NewDuplicate>) -> Vec<NewDuplicate> {
        let Some(runtime) = self.agents.as_ref() else { return Vec::new() };
        let Ok(model) = runtime.models().default_chat_model() else { return Vec::new() };
        let mut confirmed = Vec::new();
        for mut candidate in candidates {
            let text = format!(
                "Two items of planned work:\nA: {}\nB: {}\nWould doing one make the other unnecessary?",
                candidate.first_title, candidate.second_title
            );
            let request = ChatRequest::from_user_text(text)
                .with_system(
                    "You spot duplicate work in a team's plan. Answer only whether the two items are the same work.",
                )
                .with_max_tokens(256);
            match complete_typed::<SameWork>(model.as_ref(), request, StructuredOptions::default()).await {
                Ok(reply) if reply.value.same => {
                    candidate.method = "model".into();
                    confirmed.push(candidate);
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not ask the model about a close duplicate"),
            }
        }
        confirmed
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
