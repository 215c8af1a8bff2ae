//! Typed integer identifiers, so a job id can never be passed where an agent
//! id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! integer_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<i64>().map($name)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                $name(value)
            }
        }
    };
}

integer_id!(
    /// A user; every row of user data belongs to exactly one.
    UserId
);
integer_id!(
    /// An agent.
    AgentId
);
integer_id!(
    /// An action (a deliverable an agent works on).
    ActionId
);
integer_id!(
    /// A job in the durable queue.
    JobId
);
integer_id!(
    /// An agent run.
    RunId
);
integer_id!(
    /// An entry of the append-only event log. Ids grow in commit order.
    EventId
);
integer_id!(
    /// A conversation (a setup chat, an agent chat, an action's thread).
    ConversationId
);
integer_id!(
    /// A message of a conversation.
    MessageId
);
integer_id!(
    /// A request for a person to approve a tool call.
    ApprovalId
);
integer_id!(
    /// A file an agent produced.
    ArtifactId
);
integer_id!(
    /// A schedule: a *when*, a zone, policies and a target.
    ScheduleId
);
integer_id!(
    /// A routine: a trigger, an agent, a prompt template, context sources and deliveries.
    RoutineId
);
integer_id!(
    /// One firing of a routine, with the inputs it had.
    FireId
);
integer_id!(
    /// One destination's copy of a routine's (or run's) output.
    DeliveryId
);

integer_id!(
    /// A spec-driven project: a brief, phase documents and a task graph.
    ProjectId
);
integer_id!(
    /// An idea in the ideas inbox, possibly promoted to a project.
    IdeaId
);

integer_id!(
    /// Something memory ingested: a message, a run's output, feedback.
    EpisodeId
);
integer_id!(
    /// A person, thing or idea memory knows about (a node of its graph).
    EntityId
);
integer_id!(
    /// A fact memory extracted (an edge of its graph), valid for a period.
    FactId
);

impl UserId {
    /// The local owner created by the first migration. Until authentication
    /// arrives, every request acts as this user.
    pub const LOCAL_OWNER: UserId = UserId(1);
}
integer_id!(
    /// The guardian's assessment of a run's trajectory.
    AssessmentId
);
integer_id!(
    /// A pair of work items flagged as duplicates.
    DuplicateId
);
