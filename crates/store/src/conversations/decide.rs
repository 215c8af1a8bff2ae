//! The rules of conversations, written once for both databases: which
//! fields each kind needs, whether a conversation asked for exists or is
//! inserted, and the refusals with their messages. Each backend loads the
//! agent, action and conversation named, calls these, and applies.

use steward_domain::{ActionId, AgentId, AgentStatus, Conversation, ConversationId, ConversationKind, NewConversation};

use crate::actions::decide::{action_of_other_agent, missing_action};
use crate::rules::{self, NewWork};
use crate::{ConflictKind, StoreError};

/// What a backend loaded about the subject of a conversation being opened
/// (after [`check_new_conversation`] passed).
#[derive(Debug)]
pub(crate) enum Subject {
    /// A setup chat: there is nothing to load.
    Setup,
    /// An agent's chat: the agent's status (`None` when it is not the
    /// user's) and its chat, if any.
    AgentChat { agent: AgentId, status: Option<AgentStatus>, chat: Option<Conversation> },
    /// An action's thread: the agent the caller named, the agent owning the
    /// action (`None` when there is no such action), and its thread, if any.
    ActionThread {
        action: ActionId,
        named_agent: Option<AgentId>,
        owner: Option<AgentId>,
        thread: Option<Conversation>,
    },
}

/// What opening a conversation comes to.
#[derive(Debug, PartialEq)]
pub(crate) enum Opening {
    /// The one that exists (perhaps inserted by a concurrent transaction).
    Existing(Conversation),
    /// A new conversation about these.
    Insert { agent_id: Option<AgentId>, action_id: Option<ActionId> },
}

/// Decides whether the conversation asked for exists, is inserted, or is
/// refused: an agent chat needs a live agent of the user's; an action
/// thread needs the action, and the agent named must be its owner.
pub(crate) fn open(subject: Subject) -> Result<Opening, StoreError> {
    match subject {
        Subject::Setup => Ok(Opening::Insert { agent_id: None, action_id: None }),
        Subject::AgentChat { agent, status, chat } => {
            rules::check_agent_takes(agent, status, NewWork::Conversation)?;
            Ok(match chat {
                Some(existing) => Opening::Existing(existing),
                None => Opening::Insert { agent_id: Some(agent), action_id: None },
            })
        }
        Subject::ActionThread { action, named_agent, owner, thread } => {
            let owner = owner.ok_or_else(|| missing_action("action_id", action))?;
            if let Some(agent) = named_agent.filter(|agent| *agent != owner) {
                return Err(action_of_other_agent(action, owner, agent));
            }
            Ok(match thread {
                Some(existing) => Opening::Existing(existing),
                None => Opening::Insert { agent_id: Some(owner), action_id: Some(action) },
            })
        }
    }
}

/// The agent's chat or action's thread `existing` continued for `agent`:
/// an action's thread belongs to the action's agent, so another agent is
/// refused (an agent's chat is found by its agent).
pub(crate) fn continue_for(existing: Conversation, agent: AgentId) -> Result<Conversation, StoreError> {
    match (existing.agent_id, existing.action_id) {
        (Some(owner), Some(action)) if owner != agent => Err(action_of_other_agent(action, owner, agent)),
        _ => Ok(existing),
    }
}

/// A setup chat creates its agent once: `setup` must be a setup chat with
/// no agent yet.
pub(crate) fn check_setup_creates_agent(setup: &Conversation) -> Result<(), StoreError> {
    if setup.kind != ConversationKind::Setup {
        return Err(not_a_setup_conversation(setup.id, setup.kind));
    }
    if let Some(created) = setup.agent_id {
        return Err(setup_already_created_agent(setup.id, created));
    }
    Ok(())
}

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

    fn conversation(kind: ConversationKind, agent: Option<i64>, action: Option<i64>) -> Conversation {
        let at = chrono::DateTime::UNIX_EPOCH;
        Conversation {
            id: ConversationId(7),
            user_id: steward_domain::UserId(1),
            kind,
            agent_id: agent.map(AgentId),
            action_id: action.map(ActionId),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_agent_chat_is_found_or_inserted_for_a_live_agent() {
        let chat = conversation(ConversationKind::Agent, Some(1), None);
        let found =
            open(Subject::AgentChat { agent: AgentId(1), status: Some(AgentStatus::Paused), chat: Some(chat.clone()) });
        assert_eq!(found.unwrap(), Opening::Existing(chat));
        let inserted = open(Subject::AgentChat { agent: AgentId(1), status: Some(AgentStatus::Active), chat: None });
        assert_eq!(inserted.unwrap(), Opening::Insert { agent_id: Some(AgentId(1)), action_id: None });
        let missing = open(Subject::AgentChat { agent: AgentId(2), status: None, chat: None });
        assert!(matches!(missing, Err(StoreError::Invalid(error)) if error.field == "agent_id"));
        let archived = open(Subject::AgentChat { agent: AgentId(1), status: Some(AgentStatus::Archived), chat: None });
        assert!(matches!(archived, Err(StoreError::Conflict { kind: ConflictKind::Archived, .. })));
    }

    #[test]
    fn an_action_thread_belongs_to_the_actions_agent() {
        let thread = |named_agent, owner, thread| {
            open(Subject::ActionThread { action: ActionId(5), named_agent, owner, thread })
        };
        assert_eq!(
            thread(None, Some(AgentId(1)), None).unwrap(),
            Opening::Insert { agent_id: Some(AgentId(1)), action_id: Some(ActionId(5)) }
        );
        let existing = conversation(ConversationKind::Action, Some(1), Some(5));
        assert_eq!(
            thread(Some(AgentId(1)), Some(AgentId(1)), Some(existing.clone())).unwrap(),
            Opening::Existing(existing.clone())
        );
        let other = thread(Some(AgentId(2)), Some(AgentId(1)), Some(existing));
        assert!(matches!(other, Err(StoreError::Invalid(error)) if error.message.contains("belongs to agent 1")));
        let missing = thread(None, None, None);
        assert!(matches!(missing, Err(StoreError::Invalid(error)) if error.message == "no action 5"));
    }

    #[test]
    fn a_setup_chat_is_inserted_without_a_subject() {
        assert_eq!(open(Subject::Setup).unwrap(), Opening::Insert { agent_id: None, action_id: None });
    }

    #[test]
    fn a_thread_is_continued_only_for_its_agent() {
        let thread = conversation(ConversationKind::Action, Some(1), Some(5));
        assert_eq!(continue_for(thread.clone(), AgentId(1)).unwrap(), thread);
        assert!(
            matches!(continue_for(thread, AgentId(2)), Err(StoreError::Invalid(error)) if error.field == "action_id")
        );
    }

    #[test]
    fn a_setup_chat_creates_one_agent() {
        assert!(check_setup_creates_agent(&conversation(ConversationKind::Setup, None, None)).is_ok());
        let attached = check_setup_creates_agent(&conversation(ConversationKind::Setup, Some(3), None));
        assert!(matches!(attached, Err(StoreError::Conflict { kind: ConflictKind::AlreadyExists, .. })));
        let chat = check_setup_creates_agent(&conversation(ConversationKind::Agent, Some(3), None));
        assert!(matches!(chat, Err(StoreError::Invalid(error)) if error.field == "conversation"));
    }
}
