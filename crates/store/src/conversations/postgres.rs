//! Conversations on PostgreSQL: setup chats, agent chats and action
//! threads, their messages, and the agent a setup chat creates.
//!
//! Two nodes opening an agent's chat for the first time at once both find
//! none and both insert; the unique index `conversations_agent_chat` (or
//! `conversations_action_thread`) stops the second, whose transaction runs
//! again and finds the first's. A setup chat is locked while its agent is
//! created, so it creates one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use steward_domain::{
    ActionId, Agent, AgentId, ChatMessage, Conversation, ConversationId, ConversationKind, MessageId, NewAgent,
    NewChatMessage, NewConversation, NewEvent, UserId,
};

use crate::actions::postgres::{self as actions, agent_status_for_share};
use crate::agents::postgres as agents;
use crate::conversations::decide::{self, Opening, Subject};
use crate::conversations::{ConversationStore, MAX_PAGE};
use crate::postgres::PostgresStore;
use crate::postgres::connection::{to_bigint, to_integer};
use crate::postgres::runtime_rows::{self, conversation_columns, message_columns};
use crate::postgres::transaction::{Begin, Transaction, TransactionError, TransactionResult};
use crate::{Entity, Result, StoreError, rules};

async fn load(connection: &mut PgConnection, user: UserId, id: ConversationId) -> Result<Conversation> {
    let row =
        sqlx::query(concat!("SELECT ", conversation_columns!(), " FROM conversations WHERE id = $1 AND user_id = $2"))
            .bind(id.get())
            .bind(user.get())
            .fetch_optional(connection)
            .await?;
    Ok(runtime_rows::conversation(&row.ok_or_else(|| StoreError::not_found(Entity::Conversation, id))?)?)
}

async fn load_for_update(
    connection: &mut PgConnection,
    user: UserId,
    id: ConversationId,
) -> TransactionResult<Conversation> {
    let row = sqlx::query(concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE id = $1 AND user_id = $2 FOR UPDATE"
    ))
    .bind(id.get())
    .bind(user.get())
    .fetch_optional(connection)
    .await?;
    Ok(runtime_rows::conversation(&row.ok_or_else(|| StoreError::not_found(Entity::Conversation, id))?)?)
}

/// The agent chat or action thread, if it exists.
async fn find(
    connection: &mut PgConnection,
    user: UserId,
    kind: ConversationKind,
    subject: i64,
) -> TransactionResult<Option<Conversation>> {
    // One statement per kind, so each uses its own unique index.
    let query = match kind {
        ConversationKind::Agent => sqlx::query(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE user_id = $1 AND kind = 'agent' AND agent_id = $2"
        )),
        _ => sqlx::query(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE user_id = $1 AND kind = 'action' AND action_id = $2"
        )),
    };
    let row = query.bind(user.get()).bind(subject).fetch_optional(connection).await?;
    Ok(row.as_ref().map(runtime_rows::conversation).transpose()?)
}

/// The setup chat that created `agent`, its chat, or `action`'s thread.
async fn find_existing(
    connection: &mut PgConnection,
    user: UserId,
    kind: ConversationKind,
    agent: AgentId,
    action: Option<ActionId>,
) -> Result<Option<Conversation>> {
    let found = match (kind, action) {
        (ConversationKind::Setup, _) => {
            let row = sqlx::query(concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations WHERE user_id = $1 AND kind = 'setup' AND agent_id = $2 ORDER BY id LIMIT 1"
            ))
            .bind(user.get())
            .bind(agent.get())
            .fetch_optional(connection)
            .await?;
            row.as_ref().map(runtime_rows::conversation).transpose()?
        }
        (ConversationKind::Agent, _) => {
            find(connection, user, kind, agent.get()).await.map_err(TransactionError::into_store_error)?
        }
        (ConversationKind::Action, Some(action)) => {
            find(connection, user, kind, action.get()).await.map_err(TransactionError::into_store_error)?
        }
        (ConversationKind::Action, None) => return Err(decide::action_thread_needs_action()),
    };
    Ok(found.filter(|conversation| conversation.agent_id == Some(agent)))
}

/// What opening an agent chat or action thread found.
enum Opened {
    Created(Conversation),
    /// The one that existed (perhaps created by a concurrent transaction).
    Found(Conversation),
}

/// Loads what `conversation` names, decides, and inserts it unless it
/// exists.
async fn create(
    transaction: &mut Transaction,
    user: UserId,
    conversation: &NewConversation,
    now: DateTime<Utc>,
) -> TransactionResult<Opened> {
    decide::check_new_conversation(conversation)?;
    let subject = match (conversation.kind, conversation.agent_id, conversation.action_id) {
        (ConversationKind::Agent, Some(agent), _) => Subject::AgentChat {
            agent,
            // Share-locked so the agent is not archived before this commits.
            status: agent_status_for_share(transaction.connection(), user, agent).await?,
            chat: find(transaction.connection(), user, ConversationKind::Agent, agent.get()).await?,
        },
        (ConversationKind::Action, named_agent, Some(action)) => Subject::ActionThread {
            action,
            named_agent,
            owner: match actions::load(transaction.connection(), user, action).await {
                Err(StoreError::NotFound { .. }) => None,
                other => Some(other?.agent_id),
            },
            thread: find(transaction.connection(), user, ConversationKind::Action, action.get()).await?,
        },
        _ => Subject::Setup,
    };
    let (agent_id, action_id) = match decide::open(subject)? {
        Opening::Existing(existing) => return Ok(Opened::Found(existing)),
        Opening::Insert { agent_id, action_id } => (agent_id, action_id),
    };
    let row = sqlx::query(concat!(
        "INSERT INTO conversations (user_id, kind, agent_id, action_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
        conversation_columns!()
    ))
    .bind(user.get())
    .bind(conversation.kind.as_str())
    .bind(agent_id.map(AgentId::get))
    .bind(action_id.map(ActionId::get))
    .bind(now)
    .fetch_one(transaction.connection())
    .await?;
    Ok(Opened::Created(runtime_rows::conversation(&row)?))
}

async fn conversation_for(
    transaction: &mut Transaction,
    user: UserId,
    kind: ConversationKind,
    agent: AgentId,
    action: Option<ActionId>,
    now: DateTime<Utc>,
) -> TransactionResult<Conversation> {
    decide::setup_is_looked_up(kind)?;
    let wanted = NewConversation { kind, agent_id: Some(agent), action_id: action };
    decide::check_new_conversation(&wanted)?;
    let subject = action.map_or(agent.get(), ActionId::get);
    let existing = match find(transaction.connection(), user, kind, subject).await? {
        Some(existing) => existing,
        None => match create(transaction, user, &wanted, now).await? {
            Opened::Created(conversation) => return Ok(conversation),
            Opened::Found(existing) => existing,
        },
    };
    Ok(decide::continue_for(existing, agent)?)
}

async fn append_message(
    transaction: &mut Transaction,
    user: UserId,
    conversation: ConversationId,
    message: &NewChatMessage,
    now: DateTime<Utc>,
) -> TransactionResult<ChatMessage> {
    let stored = load(transaction.connection(), user, conversation).await?;
    let row = sqlx::query(concat!(
        "INSERT INTO messages (conversation_id, role, text, data, model_calls, cost_usd, unknown_cost_calls, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
        message_columns!()
    ))
    .bind(conversation.get())
    .bind(message.role.as_str())
    .bind(&message.text)
    .bind(rules::storable_result(&message.data))
    .bind(to_integer(message.cost.model_calls))
    .bind(message.cost.cost_usd)
    .bind(to_integer(message.cost.unknown_cost_calls))
    .bind(now)
    .fetch_one(transaction.connection())
    .await?;
    let created = runtime_rows::message(&row)?;
    sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(conversation.get())
        .execute(transaction.connection())
        .await?;
    transaction.record(
        user,
        now,
        NewEvent::MessageCreated {
            conversation,
            message_id: created.id,
            role: message.role,
            kind: stored.kind,
            agent_id: stored.agent_id,
        },
    );
    Ok(created)
}

async fn create_agent_from_setup(
    transaction: &mut Transaction,
    user: UserId,
    conversation: ConversationId,
    agent: &NewAgent,
    now: DateTime<Utc>,
) -> TransactionResult<Agent> {
    decide::check_setup_creates_agent(&load_for_update(transaction.connection(), user, conversation).await?)?;
    let created = agents::insert(transaction, user, agent, now).await?;
    sqlx::query("UPDATE conversations SET agent_id = $1, updated_at = $2 WHERE id = $3")
        .bind(created.id.get())
        .bind(now)
        .bind(conversation.get())
        .execute(transaction.connection())
        .await?;
    Ok(created)
}

#[async_trait]
impl ConversationStore for PostgresStore {
    async fn create_conversation(&self, user: UserId, conversation: NewConversation) -> Result<Conversation> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let conversation = conversation.clone();
            Box::pin(async move {
                match create(transaction, user, &conversation, now).await? {
                    Opened::Created(created) => Ok(created),
                    Opened::Found(existing) => Err(decide::conversation_already_exists(&existing).into()),
                }
            })
        })
        .await
    }

    async fn get_conversation(&self, user: UserId, id: ConversationId) -> Result<Conversation> {
        load(&mut *self.pool.acquire().await?, user, id).await
    }

    async fn conversation_for(
        &self,
        user: UserId,
        kind: ConversationKind,
        agent: AgentId,
        action: Option<ActionId>,
    ) -> Result<Conversation> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move { conversation_for(transaction, user, kind, agent, action, now).await })
        })
        .await
    }

    async fn find_conversation(
        &self,
        user: UserId,
        kind: ConversationKind,
        agent: AgentId,
        action: Option<ActionId>,
    ) -> Result<Option<Conversation>> {
        find_existing(&mut *self.pool.acquire().await?, user, kind, agent, action).await
    }

    async fn append_message(
        &self,
        user: UserId,
        conversation: ConversationId,
        message: NewChatMessage,
    ) -> Result<ChatMessage> {
        message.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let message = message.clone();
            Box::pin(async move { append_message(transaction, user, conversation, &message, now).await })
        })
        .await
    }

    async fn list_messages(
        &self,
        user: UserId,
        conversation: ConversationId,
        after: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<ChatMessage>> {
        let mut connection = self.pool.acquire().await?;
        load(&mut connection, user, conversation).await?;
        let limit = to_bigint(limit.clamp(1, MAX_PAGE));
        let rows = match after {
            Some(after) => {
                sqlx::query(concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                ))
                .bind(conversation.get())
                .bind(after.get())
                .bind(limit)
                .fetch_all(&mut *connection)
                .await?
            }
            // The newest `limit`, read backwards and returned in order.
            None => {
                sqlx::query(concat!(
                    "SELECT * FROM (SELECT ",
                    message_columns!(),
                    " FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2) AS newest ORDER BY id"
                ))
                .bind(conversation.get())
                .bind(limit)
                .fetch_all(&mut *connection)
                .await?
            }
        };
        Ok(rows.iter().map(runtime_rows::message).collect::<Result<_, _>>()?)
    }

    async fn create_agent_from_setup(
        &self,
        user: UserId,
        conversation: ConversationId,
        agent: NewAgent,
    ) -> Result<Agent> {
        agent.validate()?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let agent = agent.clone();
            Box::pin(async move { create_agent_from_setup(transaction, user, conversation, &agent, now).await })
        })
        .await
    }
}
