//! The rules of conversations, written once for both databases: which
//! fields each kind needs, and the refusals with their messages. Each
//! backend looks up the agent and action a conversation names.

use steward_domain::{AgentId, Conversation, ConversationId, ConversationKind, NewConversation};

use crate::{ConflictKind, StoreError};

/// Checks the shape of a new conversation (which fields its kind needs);
/// the agent and action it names are looked up by the backend.
pub(crate) fn check_new_conversation(conversation: &NewConversation) -> Result<(), StoreError> {
    match conversation.kind {
        ConversationKind::Setup if conversation.agent_id.is_some() => {
            Err(StoreError::invalid("agent_id", "a setup conversation has no agent yet; it creates one"))
        }
        ConversationKind::Setup | ConversationKind::Agent if conversation.action_id.is_some() => Err(
            StoreError::invalid("action_id", format!("a {} conversation is not about an action", conversation.kind)),
        ),
        ConversationKind::Agent if conversation.agent_id.is_none() => {
            Err(StoreError::invalid("agent_id", "an agent conversation needs the agent"))
        }
        ConversationKind::Action if conversation.action_id.is_none() => Err(action_thread_needs_action()),
        _ => Ok(()),
    }
}

pub(crate) fn action_thread_needs_action() -> StoreError {
    StoreError::invalid("action_id", "an action conversation needs the action")
}

/// An agent has one chat and an action one thread: `existing`.
pub(crate) fn conversation_already_exists(existing: &Conversation) -> StoreError {
    let (field, subject) = match (existing.action_id, existing.agent_id) {
        (Some(action), _) => ("action_id", format!("action {action}")),
        (None, Some(agent)) => ("agent_id", format!("agent {agent}")),
        (None, None) => ("kind", "it".to_string()),
    };
    StoreError::conflict(
        ConflictKind::AlreadyExists,
        Some(field),
        format!("{subject} already has its {} conversation ({}); continue that one", existing.kind, existing.id),
    )
}

pub(crate) fn setup_is_looked_up(kind: ConversationKind) -> Result<(), StoreError> {
    if kind == ConversationKind::Setup {
        return Err(StoreError::invalid(
            "kind",
            "setup conversations are created one per new agent, not looked up; use agent or action",
        ));
    }
    Ok(())
}

pub(crate) fn not_a_setup_conversation(id: ConversationId, kind: ConversationKind) -> StoreError {
    StoreError::invalid("conversation", format!("conversation {id} is an {kind} conversation, not a setup chat"))
}

pub(crate) fn setup_already_created_agent(id: ConversationId, agent: AgentId) -> StoreError {
    StoreError::conflict(
        ConflictKind::AlreadyExists,
        Some("conversation"),
        format!("setup conversation {id} already created agent {agent}; start a new setup chat for another agent"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_need_the_fields_of_their_kind() {
        let setup = NewConversation { kind: ConversationKind::Setup, agent_id: Some(AgentId(1)), action_id: None };
        assert!(matches!(check_new_conversation(&setup), Err(StoreError::Invalid(error)) if error.field == "agent_id"));
        let action = NewConversation { kind: ConversationKind::Action, agent_id: Some(AgentId(1)), action_id: None };
        assert!(
            matches!(check_new_conversation(&action), Err(StoreError::Invalid(error)) if error.field == "action_id")
        );
        let agent = NewConversation { kind: ConversationKind::Agent, agent_id: Some(AgentId(1)), action_id: None };
        assert!(check_new_conversation(&agent).is_ok());
    }
}
