//! The API's enumerations (states, priorities, modes): wire twins of the
//! domain enums, so their JSON spelling and schema live at the edge while the
//! domain stays free of serde. Conversions go both ways.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use steward_domain::ValidationError;
use utoipa::ToSchema;

macro_rules! wire_enum {
    // The twin without `FromStr`, for a domain enum that has none.
    (@twin $(#[$doc:meta])* $name:ident <=> $domain:ty { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                <$domain>::from(self).as_str()
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => <$domain>::$variant),+
                }
            }
        }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$variant => $name::$variant),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    ($(#[$doc:meta])* $name:ident <=> $domain:ty { $($variant:ident),+ $(,)? }) => {
        wire_enum!(@twin $(#[$doc])* $name <=> $domain { $($variant),+ });

        /// Parses the wire spelling; the error lists the accepted values.
        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse::<$domain>().map($name::from)
            }
        }
    };
}

wire_enum!(
    /// Where a delivery is: `pending` (waiting for its run), `sending`, `sent`,
    /// `retrying` (after a transient failure), `dead` (the reason says why).
    DeliveryStatus <=> steward_domain::delivery::DeliveryStatus { Pending, Sending, Sent, Retrying, Dead }
);

wire_enum!(
    /// `active` and `paused` agents can be changed; `archived` is final.
    AgentStatus <=> steward_domain::AgentStatus { Active, Paused, Archived }
);

wire_enum!(
    /// Where an action is in its lifecycle:
    /// draft → defined → scheduled → in_progress → completed | failed, and dismissed from any open state.
    ActionState <=> steward_domain::ActionState { Draft, Defined, Scheduled, InProgress, Completed, Failed, Dismissed }
);

wire_enum!(
    /// How urgent an action is.
    ActionPriority <=> steward_domain::ActionPriority { Low, Medium, High, Urgent }
);

wire_enum!(
    /// Whether the agent works on the action with the user in the loop or alone.
    ActionMode <=> steward_domain::ActionMode { Interactive, Scheduled }
);

wire_enum!(
    /// Where a job is: blocked (waiting for dependencies), queued, running,
    /// completed, dead (failed for good) or cancelled.
    JobState <=> steward_domain::JobState { Blocked, Queued, Running, Completed, Dead, Cancelled }
);

wire_enum!(
    /// Where a run is: queued (waiting for a worker), running, awaiting_approval
    /// (paused until a person decides on a tool call) or finished (see its outcome).
    RunStatus <=> steward_domain::RunStatus { Queued, Running, AwaitingApproval, Finished }
);

wire_enum!(
    /// How a finished run ended: completed (the model answered), a limit or budget
    /// stopped it, it was cancelled, or it failed (its error says why).
    RunOutcome <=> steward_domain::RunOutcome {
        Completed, MaxSteps, MaxTokens, MaxCost, MaxWallTime, BudgetExceeded, Cancelled, Failed
    }
);

wire_enum!(
    /// What a run step was: the instruction, a model call, a tool call, or a summary
    /// standing for older steps.
    StepKind <=> steward_domain::StepKind { Instruction, ModelCall, ToolCall, Summary }
);

wire_enum!(
    /// Where an approval is: pending, approved, rejected, or withdrawn (its run ended first).
    ApprovalStatus <=> steward_domain::ApprovalStatus { Pending, Approved, Rejected, Withdrawn }
);

wire_enum!(
    /// Who wrote a chat message.
    ChatRole <=> steward_domain::ChatRole { User, Assistant }
);

wire_enum!(@twin
    /// What an event is about.
    EventSubject <=> steward_domain::EventSubject {
        Job, Agent, Action, Run, Approval, Conversation, Artifact, Delivery, Routine, Episode, Fact, Schedule, Project,
        Idea
    }
);

/// By hand: the domain's subject parses to an `Option`, not with `FromStr`.
impl FromStr for EventSubject {
    type Err = ValidationError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        steward_domain::EventSubject::parse(text).map(EventSubject::from).ok_or_else(|| {
            let expected: Vec<&str> = EventSubject::ALL.iter().map(|subject| subject.as_str()).collect();
            ValidationError::new(
                "subject",
                format!("unknown subject {text:?}; expected one of {}", expected.join(", ")),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_the_domain_names() {
        for state in JobState::ALL {
            assert_eq!(serde_json::to_value(state).unwrap(), serde_json::Value::from(state.as_str()));
        }
        for state in ActionState::ALL {
            assert_eq!(serde_json::to_value(state).unwrap(), serde_json::Value::from(state.as_str()));
        }
        assert_eq!("in_progress".parse::<ActionState>(), Ok(ActionState::InProgress));
        assert_eq!("soon".parse::<ActionMode>().unwrap_err().field, "mode");
        assert_eq!("run".parse::<EventSubject>(), Ok(EventSubject::Run));
        let error = "runs".parse::<EventSubject>().unwrap_err();
        for subject in EventSubject::ALL {
            assert!(error.message.contains(subject.as_str()), "{subject} is listed: {}", error.message);
            assert_eq!(subject.as_str().parse::<EventSubject>(), Ok(*subject));
        }
        assert_eq!("awaiting_approval".parse::<RunStatus>(), Ok(RunStatus::AwaitingApproval));
        assert_eq!(serde_json::to_value(RunOutcome::MaxWallTime).unwrap(), "max_wall_time");
        assert_eq!(serde_json::to_value(StepKind::ModelCall).unwrap(), "model_call");
    }
}
