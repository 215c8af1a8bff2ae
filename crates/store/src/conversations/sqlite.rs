//! Conversations on SQLite: setup chats, agent chats and action threads,
//! their messages, and the agent a setup chat creates.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::{
    ActionId, Agent, AgentId, ChatMessage, Conversation, ConversationId, ConversationKind, MessageId, NewAgent,
    NewChatMessage, NewConversation, NewEvent, UserId,
};

use crate::actions::sqlite::{self as actions, agent_status};
use crate::agents::sqlite as agents;
use crate::conversations::decide::{self, Opening, Subject};
use crate::conversations::{ConversationStore, MAX_PAGE};
use crate::events::sqlite::append;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::optional;
use crate::sqlite::runtime_rows::{self, CONVERSATION_COLUMNS, MESSAGE_COLUMNS};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError, rules};

fn load(connection: &Connection, user: UserId, id: ConversationId) -> Result<Conversation> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?1 AND user_id = ?2"))?;
    optional(statement.query_row(params![id.get(), user.get()], runtime_rows::conversation))?
        .ok_or_else(|| StoreError::not_found(Entity::Conversation, id))
}

/// The agent chat or action thread, if it exists.
fn find(connection: &Connection, user: UserId, kind: ConversationKind, subject: i64) -> Result<Option<Conversation>> {
    let column = if kind == ConversationKind::Agent { "agent_id" } else { "action_id" };
    // The kind is written into the statement, not bound: the unique indexes
    // that find a chat or thread are partial on it, and the planner may only
    // use what the statement's text implies (the connection's plans never
    // depend on bound values, `sqlite/connection.rs`).
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?1 AND kind = '{kind}' AND {column} = ?2",
        kind = kind.as_str()
    ))?;
    Ok(optional(statement.query_row(params![user.get(), subject], runtime_rows::conversation))?)
}

/// The setup chat that created `agent`, its chat, or `action`'s thread.
fn find_existing(
    connection: &Connection,
    user: UserId,
    kind: ConversationKind,
    agent: AgentId,
    action: Option<ActionId>,
) -> Result<Option<Conversation>> {
    let found = match (kind, action) {
        (ConversationKind::Setup, _) => {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = ?1 AND kind = 'setup' \
                 AND agent_id = ?2 ORDER BY id LIMIT 1"
            ))?;
            optional(statement.query_row(params![user.get(), agent.get()], runtime_rows::conversation))?
        }
        (ConversationKind::Agent, _) => find(connection, user, kind, agent.get())?,
        (ConversationKind::Action, Some(action)) => find(connection, user, kind, action.get())?,
        (ConversationKind::Action, None) => return Err(decide::action_thread_needs_action()),
    };
    Ok(found.filter(|conversation| conversation.agent_id == Some(agent)))
}

/// What opening an agent chat or action thread found.
enum Opened {
    Created(Conversation),
    /// The one that existed.
    Found(Conversation),
}

/// Loads what `conversation` names, decides, and inserts it unless it
/// exists.
fn create(connection: &Connection, user: UserId, conversation: &NewConversation, now: DateTime<Utc>) -> Result<Opened> {
    decide::check_new_conversation(conversation)?;
    let subject = match (conversation.kind, conversation.agent_id, conversation.action_id) {
        (ConversationKind::Agent, Some(agent), _) => Subject::AgentChat {
            agent,
            status: agent_status(connection, user, agent)?,
            chat: find(connection, user, ConversationKind::Agent, agent.get())?,
        },
        (ConversationKind::Action, named_agent, Some(action)) => Subject::ActionThread {
            action,
            named_agent,
            owner: match actions::load(connection, user, action) {
                Err(StoreError::NotFound { .. }) => None,
                other => Some(other?.agent_id),
            },
            thread: find(connection, user, ConversationKind::Action, action.get())?,
        },
        _ => Subject::Setup,
    };
    let (agent_id, action_id) = match decide::open(subject)? {
        Opening::Existing(existing) => return Ok(Opened::Found(existing)),
        Opening::Insert { agent_id, action_id } => (agent_id, action_id),
    };
    connection.execute(
        "INSERT INTO conversations (user_id, kind, agent_id, action_id, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            user.get(),
            conversation.kind.as_str(),
            agent_id.map(AgentId::get),
            action_id.map(ActionId::get),
            to_micros(now)
        ],
    )?;
    Ok(Opened::Created(load(connection, user, ConversationId(connection.last_insert_rowid()))?))
}

fn conversation_for(
    connection: &Connection,
    user: UserId,
    kind: ConversationKind,
    agent: AgentId,
    action: Option<ActionId>,
    now: DateTime<Utc>,
) -> Result<Conversation> {
    decide::setup_is_looked_up(kind)?;
    let wanted = NewConversation { kind, agent_id: Some(agent), action_id: action };
    decide::check_new_conversation(&wanted)?;
    let subject = action.map_or(agent.get(), ActionId::get);
    let existing = match find(connection, user, kind, subject)? {
        Some(existing) => existing,
        None => match create(connection, user, &wanted, now)? {
            Opened::Created(conversation) => return Ok(conversation),
            Opened::Found(existing) => existing,
        },
    };
    decide::continue_for(existing, agent)
}

fn append_message(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    conversation: ConversationId,
    message: &NewChatMessage,
    now: DateTime<Utc>,
) -> Result<ChatMessage> {
    let stored = load(connection, user, conversation)?;
    connection
        .prepare_cached(
            "INSERT INTO messages (conversation_id, role, text, data, model_calls, cost_usd, unknown_cost_calls, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            conversation.get(),
            message.role.as_str(),
            message.text,
            serde_json::to_string(&rules::storable_result(&message.data))?,
            message.cost.model_calls,
            message.cost.cost_usd,
            message.cost.unknown_cost_calls,
            to_micros(now)
        ])?;
    let id = MessageId(connection.last_insert_rowid());
    connection.execute(
        "UPDATE conversations SET updated_at = ?1 WHERE id = ?2",
        params![to_micros(now), conversation.get()],
    )?;
    append(
        connection,
        effects,
        user,
        now,
        NewEvent::MessageCreated {
            conversation,
            message_id: id,
            role: message.role,
            kind: stored.kind,
            agent_id: stored.agent_id,
        },
    )?;
    let mut statement = connection.prepare_cached(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"))?;
    Ok(statement.query_row([id.get()], runtime_rows::message)?)
}

fn list_messages(
    connection: &Connection,
    user: UserId,
    conversation: ConversationId,
    after: Option<MessageId>,
    limit: usize,
) -> Result<Vec<ChatMessage>> {
    load(connection, user, conversation)?;
    let limit = limit.clamp(1, MAX_PAGE) as i64;
    let messages = match after {
        Some(after) => connection
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            ))?
            .query_map(params![conversation.get(), after.get(), limit], runtime_rows::message)?
            .collect::<rusqlite::Result<_>>()?,
        // The newest `limit`, read backwards and returned in order.
        None => connection
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM (SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ?1 \
                 ORDER BY id DESC LIMIT ?2) ORDER BY id"
            ))?
            .query_map(params![conversation.get(), limit], runtime_rows::message)?
            .collect::<rusqlite::Result<_>>()?,
    };
    Ok(messages)
}

fn create_agent_from_setup(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    conversation: ConversationId,
    agent: &NewAgent,
    now: DateTime<Utc>,
) -> Result<Agent> {
    decide::check_setup_creates_agent(&load(connection, user, conversation)?)?;
    let created = agents::insert(connection, effects, user, agent, now)?;
    connection.execute(
        "UPDATE conversations SET agent_id = ?1, updated_at = ?2 WHERE id = ?3",
        params![created.id.get(), to_micros(now), conversation.get()],
    )?;
    Ok(created)
}

#[async_trait]
impl ConversationStore for SqliteStore {
    async fn create_conversation(&self, user: UserId, conversation: NewConversation) -> Result<Conversation> {
        let now = self.now();
        self.writer
            .write(move |connection, _effects| match create(connection, user, &conversation, now)? {
                Opened::Created(created) => Ok(created),
                Opened::Found(existing) => Err(decide::conversation_already_exists(&existing)),
            })
            .await
    }

    async fn get_conversation(&self, user: UserId, id: ConversationId) -> Result<Conversation> {
        self.readers.read(move |connection| load(connection, user, id)).await
    }

    async fn conversation_for(
        &self,
        user: UserId,
        kind: ConversationKind,
        agent: AgentId,
        action: Option<ActionId>,
    ) -> Result<Conversation> {
        let now = self.now();
        self.writer
            .write(move |connection, _effects| conversation_for(connection, user, kind, agent, action, now))
            .await
    }

    async fn find_conversation(
        &self,
        user: UserId,
        kind: ConversationKind,
        agent: AgentId,
        action: Option<ActionId>,
    ) -> Result<Option<Conversation>> {
        self.readers.read(move |connection| find_existing(connection, user, kind, agent, action)).await
    }

    async fn append_message(
        &self,
        user: UserId,
        conversation: ConversationId,
        message: NewChatMessage,
    ) -> Result<ChatMessage> {
        message.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| append_message(connection, effects, user, conversation, &message, now))
            .await
    }

    async fn list_messages(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<ChatMessage>> {
        self.readers.read(move |connection| list_messages(connection, user, conversation, after, limit)).await
    }

    async fn create_agent_from_setup(
        &self,
        user: UserId,
        conversation: ConversationId,
        agent: NewAgent,
    ) -> Result<Agent> {
        agent.validate()?;
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                create_agent_from_setup(connection, effects, user, conversation, &agent, now)
            })
            .await
    }
}
