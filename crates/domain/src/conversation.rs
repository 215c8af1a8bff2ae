//! Conversations with agents: the setup chat that creates an agent, the
//! chat with an agent, and the refinement thread of each draft action.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::{ActionId, AgentId, ConversationId, MessageId, UserId};
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_text};

text_enum!(
    /// What a conversation is for.
    ConversationKind, "kind", {
        /// Drawing out a new agent's goal, criteria and timeline.
        Setup => "setup",
        /// Talking with an agent.
        Agent => "agent",
        /// Refining one action.
        Action => "action",
    }
);

text_enum!(
    /// Who said it.
    ChatRole, "role", {
        User => "user",
        Assistant => "assistant",
    }
);

#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub user_id: UserId,
    pub kind: ConversationKind,
    /// Set for agent and action conversations, and for a setup chat once
    /// its agent exists.
    pub agent_id: Option<AgentId>,
    pub action_id: Option<ActionId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewConversation {
    pub kind: ConversationKind,
    pub agent_id: Option<AgentId>,
    pub action_id: Option<ActionId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub role: ChatRole,
    pub text: String,
    /// What else the message carries: a proposed agent (setup chat), the
    /// draft action it created, the model's usage and cost.
    pub data: Value,
    pub created_at: DateTime<Utc>,
}

pub mod limits {
    pub const MESSAGE_CHARS: usize = 100_000;
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewChatMessage {
    pub role: ChatRole,
    pub text: String,
    pub data: Value,
}

impl NewChatMessage {
    pub fn validate(&self) -> Result<(), ValidationError> {
        // An assistant reply may be empty when it only proposed something.
        if self.role == ChatRole::User {
            check_text("message", &self.text, limits::MESSAGE_CHARS)
        } else {
            crate::validation::check_optional_text("message", &self.text, limits::MESSAGE_CHARS)
        }
    }
}
