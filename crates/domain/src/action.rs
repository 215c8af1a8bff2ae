//! Actions: the concrete deliverables an agent works on, and their lifecycle.
//!
//! ```text
//! draft ──define──▶ defined ──schedule──▶ scheduled ──start──▶ in_progress ──▶ completed
//!   ▲                 │  ▲                   │                   │  │
//!   └────reopen───────┘  └─────unschedule────┘                   │  └──▶ failed ──reschedule──▶ scheduled
//! every state but completed and dismissed ──dismiss──▶ dismissed
//! ```

use chrono::{DateTime, Utc};

use crate::ids::{ActionId, AgentId, JobId, UserId};
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_display_name, check_optional_text};

pub mod limits {
    pub const TITLE_CHARS: usize = 200;
    pub const DESCRIPTION_CHARS: usize = 20_000;
    pub const REASON_CHARS: usize = 2000;
}

text_enum!(
    /// Where an action is in its lifecycle.
    ActionState, "state", {
        Draft => "draft",
        Defined => "defined",
        Scheduled => "scheduled",
        InProgress => "in_progress",
        Completed => "completed",
        Failed => "failed",
        Dismissed => "dismissed",
    }
);

text_enum!(
    /// How urgent an action is.
    ActionPriority, "priority", {
        Low => "low",
        Medium => "medium",
        High => "high",
        Urgent => "urgent",
    }
);

text_enum!(
    /// Whether the agent works on the action with the user in the loop or alone.
    ActionMode, "mode", {
        Interactive => "interactive",
        Scheduled => "scheduled",
    }
);

impl ActionState {
    /// Completed and dismissed actions never change state again.
    pub fn is_final(self) -> bool {
        matches!(self, ActionState::Completed | ActionState::Dismissed)
    }

    /// The states reachable from this one in one step.
    pub fn next_states(self) -> &'static [ActionState] {
        use ActionState::*;
        match self {
            Draft => &[Defined, Dismissed],
            Defined => &[Draft, Scheduled, Dismissed],
            Scheduled => &[Defined, InProgress, Dismissed],
            InProgress => &[Completed, Failed, Dismissed],
            Failed => &[Scheduled, Dismissed],
            Completed | Dismissed => &[],
        }
    }

    /// Checks a transition, explaining what is allowed when it is not.
    pub fn check_transition(self, to: ActionState) -> Result<(), ValidationError> {
        if self.next_states().contains(&to) {
            return Ok(());
        }
        let message = if self.is_final() {
            format!("the action is {self}, which is final; it cannot become {to}")
        } else {
            let allowed: Vec<&str> = self.next_states().iter().map(|state| state.as_str()).collect();
            format!("cannot go from {self} to {to}; from {self} it can become {}", allowed.join(", "))
        };
        Err(ValidationError::new("to", message))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub id: ActionId,
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub title: String,
    pub description: String,
    pub priority: ActionPriority,
    pub mode: ActionMode,
    /// When a scheduled action should run; `None` means as soon as scheduled.
    pub scheduled_for: Option<DateTime<Utc>>,
    pub state: ActionState,
    /// Why the action is in its state (a failure, a dismissal).
    pub state_reason: Option<String>,
    /// The job executing the action, once scheduled.
    pub job_id: Option<JobId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewAction {
    pub agent_id: AgentId,
    pub title: String,
    pub description: String,
    pub priority: ActionPriority,
    pub mode: ActionMode,
    pub scheduled_for: Option<DateTime<Utc>>,
}

impl NewAction {
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_display_name("title", &self.title, limits::TITLE_CHARS)?;
        check_optional_text("description", &self.description, limits::DESCRIPTION_CHARS)
    }
}

/// A partial update of an action's content (not its state).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ActionPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<ActionPriority>,
    pub mode: Option<ActionMode>,
    pub scheduled_for: Option<Option<DateTime<Utc>>>,
}

impl ActionPatch {
    pub fn is_empty(&self) -> bool {
        *self == ActionPatch::default()
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(title) = &self.title {
            check_display_name("title", title, limits::TITLE_CHARS)?;
        }
        if let Some(description) = &self.description {
            check_optional_text("description", description, limits::DESCRIPTION_CHARS)?;
        }
        Ok(())
    }

    pub fn apply_to(&self, action: &mut Action) {
        if let Some(title) = &self.title {
            action.title = title.trim().to_string();
        }
        if let Some(description) = &self.description {
            action.description = description.clone();
        }
        if let Some(priority) = self.priority {
            action.priority = priority;
        }
        if let Some(mode) = self.mode {
            action.mode = mode;
        }
        if let Some(scheduled_for) = self.scheduled_for {
            action.scheduled_for = scheduled_for;
        }
    }
}

/// Checks the optional reason given with a transition.
pub fn check_reason(reason: Option<&str>) -> Result<(), ValidationError> {
    match reason {
        Some(reason) => check_optional_text("reason", reason, limits::REASON_CHARS),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_is_legal() {
        use ActionState::*;
        let path = [Draft, Defined, Scheduled, InProgress, Completed];
        for pair in path.windows(2) {
            assert_eq!(pair[0].check_transition(pair[1]), Ok(()), "{pair:?}");
        }
    }

    #[test]
    fn illegal_moves_explain_what_is_allowed() {
        let error = ActionState::Draft.check_transition(ActionState::Completed).unwrap_err();
        assert_eq!(error.field, "to");
        assert_eq!(error.message, "cannot go from draft to completed; from draft it can become defined, dismissed");
        let error = ActionState::Completed.check_transition(ActionState::Draft).unwrap_err();
        assert!(error.message.contains("final"));
    }

    #[test]
    fn final_states_have_no_exits_and_every_other_state_can_be_dismissed() {
        for &state in ActionState::ALL {
            if state.is_final() {
                assert!(state.next_states().is_empty());
            } else {
                assert!(state.next_states().contains(&ActionState::Dismissed), "{state}");
            }
        }
    }

    #[test]
    fn enums_parse_their_own_names() {
        for &priority in ActionPriority::ALL {
            assert_eq!(priority.as_str().parse::<ActionPriority>(), Ok(priority));
        }
        assert_eq!("soon".parse::<ActionMode>().unwrap_err().field, "mode");
    }
}
