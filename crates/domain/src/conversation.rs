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

/// What the model calls behind a message cost: for an assistant reply,
/// every call made to write it (tool rounds, structured-output re-asks);
/// nothing for a person's message. It counts in the agent's spending like
/// a run's model calls.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MessageCost {
    pub model_calls: u32,
    /// Of the calls whose cost is known.
    pub cost_usd: f64,
    /// Calls whose cost is unknown (an unpriced model), so not in
    /// `cost_usd`: counted apart, never as $0.
    pub unknown_cost_calls: u32,
}

impl MessageCost {
    /// One model call, costing `cost_usd` (`None`: unknown).
    pub fn of_call(cost_usd: Option<f64>) -> MessageCost {
        MessageCost::of_calls(1, cost_usd)
    }

    /// `calls` model calls whose costs add up to `total_usd`, `None` when
    /// the cost of any of them is unknown; then all are counted as unknown,
    /// since which ones were priced is not known.
    pub fn of_calls(calls: u32, total_usd: Option<f64>) -> MessageCost {
        match total_usd {
            Some(cost_usd) => MessageCost { model_calls: calls, cost_usd, unknown_cost_calls: 0 },
            None => MessageCost { model_calls: calls, cost_usd: 0.0, unknown_cost_calls: calls },
        }
    }

    /// Whether `cost_usd` is the whole cost.
    pub fn is_known(&self) -> bool {
        self.unknown_cost_calls == 0
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(self.cost_usd.is_finite() && self.cost_usd >= 0.0) {
            return Err(ValidationError::new("cost.cost_usd", "must be a number of dollars, 0 or more"));
        }
        if self.unknown_cost_calls > self.model_calls {
            return Err(ValidationError::new("cost.unknown_cost_calls", "cannot exceed cost.model_calls"));
        }
        if self.model_calls == 0 && self.cost_usd > 0.0 {
            return Err(ValidationError::new("cost.cost_usd", "must be 0 when no model call was made"));
        }
        Ok(())
    }
}

impl std::ops::Add for MessageCost {
    type Output = MessageCost;

    fn add(self, other: MessageCost) -> MessageCost {
        MessageCost {
            model_calls: self.model_calls.saturating_add(other.model_calls),
            cost_usd: self.cost_usd + other.cost_usd,
            unknown_cost_calls: self.unknown_cost_calls.saturating_add(other.unknown_cost_calls),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub role: ChatRole,
    pub text: String,
    /// What else the message carries: a proposed agent (setup chat), the
    /// draft action it created, the model and its token usage.
    pub data: Value,
    pub cost: MessageCost,
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
    /// The model calls that wrote an assistant reply; default for a
    /// person's message.
    pub cost: MessageCost,
}

impl NewChatMessage {
    /// What the person says.
    pub fn from_user(text: impl Into<String>) -> NewChatMessage {
        NewChatMessage { role: ChatRole::User, text: text.into(), data: Value::Null, cost: MessageCost::default() }
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        // An assistant reply may be empty when it only proposed something.
        if self.role == ChatRole::User {
            check_text("message", &self.text, limits::MESSAGE_CHARS)?;
            if self.cost.model_calls > 0 {
                return Err(ValidationError::new("cost.model_calls", "a person's message made no model calls"));
            }
        } else {
            crate::validation::check_optional_text("message", &self.text, limits::MESSAGE_CHARS)?;
        }
        self.cost.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_cost_is_counted_apart_never_as_zero_dollars() {
        let reply = MessageCost::of_call(Some(0.25)) + MessageCost::of_call(None);
        assert_eq!(reply, MessageCost { model_calls: 2, cost_usd: 0.25, unknown_cost_calls: 1 });
        assert!(!reply.is_known());
        // A total that is unknown leaves every call of it unknown.
        assert_eq!(
            MessageCost::of_calls(3, None),
            MessageCost { model_calls: 3, cost_usd: 0.0, unknown_cost_calls: 3 }
        );
        assert!(MessageCost::of_calls(3, Some(0.5)).is_known());
    }

    #[test]
    fn costs_are_checked() {
        let negative = MessageCost { model_calls: 1, cost_usd: -1.0, unknown_cost_calls: 0 };
        assert_eq!(negative.validate().unwrap_err().field, "cost.cost_usd");
        let too_many = MessageCost { model_calls: 1, cost_usd: 0.0, unknown_cost_calls: 2 };
        assert_eq!(too_many.validate().unwrap_err().field, "cost.unknown_cost_calls");
        let mut person = NewChatMessage::from_user("hi");
        person.cost = MessageCost::of_call(Some(0.1));
        assert_eq!(person.validate().unwrap_err().field, "cost.model_calls");
        assert!(NewChatMessage::from_user("hi").validate().is_ok());
    }
}
