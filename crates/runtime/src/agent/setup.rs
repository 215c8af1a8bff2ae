//! The setup chat (the goal-agent journey's first step): a short
//! conversation that draws out an agent's North-Star goal, success criteria
//! and timeline. Each turn the model answers with a structured reply saying
//! whether it has enough; the drawn-out fields are shown for confirmation,
//! and confirming creates the agent, keeping the conversation with it. A
//! turn on a chat that is not a setup chat, or one that already created its
//! agent, is refused here with the field at fault.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_domain::{
    Agent, ChatMessage, ChatRole, Conversation, ConversationId, ConversationKind, MessageCost, NewAgent,
    NewChatMessage, NewConversation, UserId, ValidationError,
};
use steward_llm::{ChatRequest, StructuredOptions, complete_typed};
use steward_store::StoreError;

use super::chat::{ChatError, alternating};
use super::runtime::AgentRuntime;

const SETUP_PROMPT: &str = "You help a person set up an AI agent that will work toward a goal for them. In a few \
short questions, draw out: (1) the North-Star goal, one sentence; (2) concrete, checkable success criteria; \
(3) a timeline. Ask one thing at a time and suggest specifics when the person is vague. Keep `agent` filled with \
what you know so far (a short name for the agent, the goal, the criteria, the timeline). Set `ready` to true only \
when goal, at least one success criterion and a timeline are clear; then summarise them in `reply` and ask the \
person to confirm.";

/// The agent the setup chat has drawn out so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AgentProposal {
    /// A short name for the agent (2–4 words).
    pub name: String,
    /// The North-Star goal, one sentence.
    pub goal: String,
    /// Concrete, checkable criteria.
    pub success_criteria: Vec<String>,
    /// When the goal should be reached, in the person's words.
    pub timeline: Option<String>,
}

/// The structured reply the model gives each turn.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
struct SetupReply {
    /// What to say to the person.
    reply: String,
    /// True once goal, criteria and timeline are clear.
    ready: bool,
    /// What is known so far.
    agent: Option<AgentProposal>,
}

/// One turn of the setup chat.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupTurn {
    pub conversation: Conversation,
    pub message: ChatMessage,
    pub ready: bool,
    pub proposal: Option<AgentProposal>,
}

/// Fields a person changes when confirming; `None` keeps the proposal's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetupConfirmation {
    pub name: Option<String>,
    pub goal: Option<String>,
    pub success_criteria: Option<Vec<String>>,
    pub timeline: Option<String>,
    pub model: Option<String>,
    pub instructions: Option<String>,
}

impl AgentRuntime {
    /// One turn: stores `text` in the setup conversation (a new one when
    /// `conversation` is `None`) and the model's reply with its proposal.
    pub async fn setup_chat(
        &self,
        user: UserId,
        conversation: Option<ConversationId>,
        text: String,
    ) -> Result<SetupTurn, ChatError> {
        let message = NewChatMessage::from_user(text);
        message.validate()?;
        let conversation = match conversation {
            Some(id) => self.open_setup_chat(user, id).await?,
            None => {
                let new = NewConversation { kind: ConversationKind::Setup, agent_id: None, action_id: None };
                self.store.create_conversation(user, new).await?
            }
        };
        self.store.append_message(user, conversation.id, message).await?;
        let messages = self.store.list_messages(user, conversation.id, None, 100).await?;
        let history = alternating(messages.into_iter().map(|message| (message.role, message.text)));
        let model = self.models.default_chat_model()?;
        let request =
            ChatRequest::new(history).with_system(SETUP_PROMPT).with_max_tokens(self.settings.max_output_tokens);
        let structured = complete_typed::<SetupReply>(model.as_ref(), request, StructuredOptions::default()).await?;
        let reply = structured.value;
        let message = self
            .store
            .append_message(
                user,
                conversation.id,
                NewChatMessage {
                    role: ChatRole::Assistant,
                    text: reply.reply.clone(),
                    data: json!({
                        "ready": reply.ready,
                        "proposal": reply.agent,
                        "model": model.id().to_string(),
                    }),
                    // Every attempt counts, re-asks included; it becomes the
                    // agent's spending once the chat creates the agent.
                    cost: MessageCost::of_calls(structured.attempts, structured.total_cost_usd),
                },
            )
            .await?;
        Ok(SetupTurn { conversation, message, ready: reply.ready, proposal: reply.agent })
    }

    /// Creates the agent the setup chat drew out, with the person's changes.
    pub async fn confirm_setup(
        &self,
        user: UserId,
        conversation: ConversationId,
        changes: SetupConfirmation,
    ) -> Result<Agent, ChatError> {
        let found = self.store.get_conversation(user, conversation).await?;
        if found.kind != ConversationKind::Setup {
            return Err(ChatError::NoSetupChat(format!(
                "there is no setup chat {conversation}; conversation {conversation} is an {} conversation",
                found.kind
            )));
        }
        let messages = self.store.list_messages(user, conversation, None, 100).await?;
        let proposal: AgentProposal = messages
            .iter()
            .rev()
            .filter(|message| message.role == ChatRole::Assistant)
            .find_map(|message| serde_json::from_value(message.data.get("proposal")?.clone()).ok())
            .unwrap_or_default();
        let agent = NewAgent {
            name: changes.name.unwrap_or(proposal.name),
            goal: changes.goal.unwrap_or(proposal.goal),
            success_criteria: changes.success_criteria.unwrap_or(proposal.success_criteria),
            timeline: changes.timeline.or(proposal.timeline),
            model: changes.model,
            instructions: changes.instructions.unwrap_or_default(),
            ..NewAgent::default()
        };
        Ok(self.store.create_agent_from_setup(user, conversation, agent).await?)
    }

    /// The setup chat `id` names, if it can take another turn.
    async fn open_setup_chat(&self, user: UserId, id: ConversationId) -> Result<Conversation, ChatError> {
        if id.get() <= 0 {
            return Err(ValidationError::new("conversation_id", "must be a positive integer").into());
        }
        let conversation = match self.store.get_conversation(user, id).await {
            Err(StoreError::NotFound { .. }) => {
                return Err(ValidationError::new("conversation_id", format!("there is no setup chat {id}")).into());
            }
            other => other?,
        };
        if conversation.kind != ConversationKind::Setup {
            let message = format!("conversation {id} is an {} conversation, not a setup chat", conversation.kind);
            return Err(ValidationError::new("conversation_id", message).into());
        }
        if let Some(agent) = conversation.agent_id {
            return Err(ChatError::SetupChatClosed { conversation: id, agent });
        }
        Ok(conversation)
    }
}
