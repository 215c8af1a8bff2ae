//! Storing conversations with agents: setup chats, agent chats and action
//! threads, and their messages.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::{
    ActionId, Agent, AgentId, ChatMessage, Conversation, ConversationId, ConversationKind, MessageId, NewAgent,
    NewChatMessage, NewConversation, UserId,
};

use crate::Result;

/// The most messages one page lists.
pub const MAX_PAGE: usize = 1000;

#[async_trait]
pub trait ConversationStore {
    /// Creates a conversation. A setup conversation has no agent yet; an
    /// agent conversation names a live agent; an action conversation names
    /// an action (and its agent). Unknown agents or actions are refused,
    /// naming the field.
    async fn create_conversation(&self, user: UserId, conversation: NewConversation) -> Result<Conversation>;

    async fn get_conversation(&self, user: UserId, id: ConversationId) -> Result<Conversation>;

    /// The agent's chat (kind `agent`) or an action's thread (kind `action`),
    /// created on first use; there is one of each.
    async fn conversation_for(
        &self,
        user: UserId,
        kind: ConversationKind,
        agent: AgentId,
        action: Option<ActionId>,
    ) -> Result<Conversation>;

    /// The conversation of `kind` about `agent` if it exists, created by
    /// nothing: the setup chat that created the agent, the agent's chat, or
    /// the thread of `action` (which must be given, and be the agent's).
    async fn find_conversation(
        &self,
        user: UserId,
        kind: ConversationKind,
        agent: AgentId,
        action: Option<ActionId>,
    ) -> Result<Option<Conversation>>;

    /// Appends a message, with the cost of the model calls that wrote it
    /// (which counts in the agent's spending, see
    /// [`RunStore::agent_spend`](crate::RunStore::agent_spend)). Event
    /// `message.created`.
    async fn append_message(
        &self,
        user: UserId,
        conversation: ConversationId,
        message: NewChatMessage,
    ) -> Result<ChatMessage>;

    /// Messages in order, after `after` if given, at most `limit`
    /// (capped at [`MAX_PAGE`]); the newest `limit` when `after` is `None`.
    async fn list_messages(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<ChatMessage>>;

    /// Creates the agent a setup conversation drew out and attaches the
    /// conversation to it, in one transaction (a conversation already
    /// attached is refused, `Conflict`). Events `agent.created`.
    async fn create_agent_from_setup(
        &self,
        user: UserId,
        conversation: ConversationId,
        agent: NewAgent,
    ) -> Result<Agent>;
}
