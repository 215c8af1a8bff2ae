//! Chatting with an agent: the agent's own chat, where it proposes one
//! concrete action at a time as a draft, and each draft's refinement
//! thread, where it revises the draft. Replies stream as [`ChatEvent`]s.

use chrono::{DateTime, Utc};
use futures::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use steward_domain::{
    Action, ActionId, ActionPatch, ActionState, Agent, AgentId, ChatMessage, ChatRole, ConversationId,
    ConversationKind, MessageCost, NewAction, NewChatMessage, UserId, ValidationError,
};
use steward_llm::{ChatModel, ChatRequest, ContentPart, Message, Role, StreamEvent, ToolCall, ToolDefinition, Usage};
use steward_store::{ActionFilter, StoreError};
use tokio::sync::mpsc;

use super::context::system_prompt;
use super::runtime::AgentRuntime;
use crate::tools::{ToolError, parse_field, parse_input, parse_named, refusal, schema_of};
use steward_domain::memory::{EpisodeSource, NewEpisode};

/// Messages of the conversation the model sees.
const HISTORY: usize = 40;
/// Model calls one reply may take (a proposal, then words about it).
const MAX_ROUNDS: usize = 3;

/// What a chat reply streams.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// The person's message passed every check and is stored; the reply
    /// follows. Whatever fails before this was refused with nothing stored.
    Accepted,
    /// Text as the model writes it.
    Delta { text: String },
    /// The agent proposed a draft action.
    DraftProposed { action: Action },
    /// The agent revised the draft this thread is about.
    DraftUpdated { action: Action },
    /// The reply, as stored.
    Done { message: ChatMessage },
}

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the model call failed: {0}")]
    Model(#[from] steward_llm::LlmError),
    #[error("{0}")]
    NotAllowed(String),
    /// The agent's budget is spent (or cannot be counted): no model call.
    #[error("{0}")]
    OverBudget(String),
    /// Bad input, naming the field as the request names it.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// There is no setup chat by that id (a conversation of another kind is
    /// not one).
    #[error("{0}")]
    NoSetupChat(String),
    /// The setup chat already created its agent: it takes no more turns.
    #[error("setup chat {conversation} already created agent {agent}; start a new setup chat for another agent")]
    SetupChatClosed { conversation: ConversationId, agent: AgentId },
}

/// A draft as the model proposes it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DraftProposal {
    /// A short, concrete title for the deliverable.
    title: String,
    /// What the deliverable is, and how to know it is done.
    description: String,
    /// low, medium, high or urgent.
    priority: String,
    /// "interactive" when it needs the user, "scheduled" when the agent can do it alone.
    mode: String,
    /// When to do it (RFC 3339), if it should wait.
    #[serde(default)]
    scheduled_for: Option<DateTime<Utc>>,
}

/// A revision of a draft: only the fields to change.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct DraftRevision {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    scheduled_for: Option<DateTime<Utc>>,
}

const PROPOSE: &str = "propose_action";
const REVISE: &str = "update_draft";

impl AgentRuntime {
    /// One turn of the agent's chat: stores `text`, streams the reply to
    /// `events`, and returns it as stored.
    pub async fn chat(
        &self,
        user: UserId,
        agent: AgentId,
        text: String,
        events: mpsc::Sender<ChatEvent>,
    ) -> Result<ChatMessage, ChatError> {
        let agent = self.store.get_agent(user, agent).await?;
        self.live(&agent)?;
        self.within_budget(user, &agent).await?;
        let conversation = self.store.conversation_for(user, ConversationKind::Agent, agent.id, None).await?;
        let actions =
            self.store.list_actions(user.into(), ActionFilter { agent_id: Some(agent.id), states: Vec::new() }).await?;
        let open_draft = actions.iter().find(|action| action.state == ActionState::Draft);
        let mut system = system_prompt(&agent, &self.skills.index(&agent), &actions, self.clock.now());
        system.push_str(&self.living_docs_for(&agent).await);
        system.push_str(
            "\nYou are chatting with your user. When it helps, or when asked, propose exactly one concrete next \
             deliverable with the propose_action tool: a clear title, what the deliverable is and how to know it \
             is done, a priority, and whether it needs the user (interactive) or you can do it alone (scheduled). \
             Only one draft at a time.",
        );
        let tools = match open_draft {
            Some(draft) => {
                system.push_str(&format!(
                    "\nA draft is open (#{} \"{}\"); discuss or refine it instead of proposing another.",
                    draft.id, draft.title
                ));
                Vec::new()
            }
            None => vec![ToolDefinition::new(
                PROPOSE,
                "Propose one concrete action (a draft deliverable).",
                schema_of::<DraftProposal>(),
            )],
        };
        self.store.append_message(user, conversation.id, NewChatMessage::from_user(text)).await?;
        let _ = events.send(ChatEvent::Accepted).await;
        let history = self.history(user, conversation.id).await?;
        let reply = self.converse(user, &agent, None, system, history, tools, &events).await?;
        let message = self.store.append_message(user, conversation.id, reply).await?;
        let _ = events.send(ChatEvent::Done { message: message.clone() }).await;
        Ok(message)
    }

    /// One turn of a draft's refinement thread.
    pub async fn chat_about_action(
        &self,
        user: UserId,
        action: ActionId,
        text: String,
        events: mpsc::Sender<ChatEvent>,
    ) -> Result<ChatMessage, ChatError> {
        let action = self.store.get_action(user, action).await?;
        let agent = self.store.get_agent(user, action.agent_id).await?;
        self.live(&agent)?;
        self.within_budget(user, &agent).await?;
        let conversation =
            self.store.conversation_for(user, ConversationKind::Action, agent.id, Some(action.id)).await?;
        let mut system = system_prompt(&agent, &self.skills.index(&agent), &[], self.clock.now());
        system.push_str(&format!(
            "\nYou are refining this action with your user:\n#{} [{}] {}\npriority: {}, mode: {}{}\n{}\n",
            action.id,
            action.state,
            action.title,
            action.priority,
            action.mode,
            action.scheduled_for.map(|at| format!(", scheduled for {at}")).unwrap_or_default(),
            action.description,
        ));
        let revisable = matches!(action.state, ActionState::Draft | ActionState::Defined);
        let tools = if revisable {
            system.push_str("Change it with the update_draft tool when the user asks for changes.");
            vec![ToolDefinition::new(
                REVISE,
                "Change fields of the action being refined.",
                schema_of::<DraftRevision>(),
            )]
        } else {
            Vec::new()
        };
        let said = self.store.append_message(user, conversation.id, NewChatMessage::from_user(text.clone())).await?;
        // What the user says about a deliverable is remembered: corrections
        // while it is drafted, feedback once it is worked on.
        let source = if revisable { EpisodeSource::Correction } else { EpisodeSource::Feedback };
        let episode = NewEpisode {
            user_id: user,
            agent_id: Some(agent.id),
            source,
            source_ref: Some(format!("message:{}", said.id)),
            thread: Some(format!("conversation:{}", conversation.id)),
            content: format!("About action #{} \"{}\": {text}", action.id, action.title),
            reference_time: None,
        };
        crate::memory::record_episode(self.store.as_ref(), episode).await?;
        let _ = events.send(ChatEvent::Accepted).await;
        let history = self.history(user, conversation.id).await?;
        let reply = self.converse(user, &agent, Some(action.id), system, history, tools, &events).await?;
        let message = self.store.append_message(user, conversation.id, reply).await?;
        let _ = events.send(ChatEvent::Done { message: message.clone() }).await;
        Ok(message)
    }

    /// Refuses a chat turn, before anything is stored, once the agent's
    /// budget is spent: chats cost money like runs, and count with them.
    async fn within_budget(&self, user: UserId, agent: &Agent) -> Result<(), ChatError> {
        let model = self.model_for(agent)?;
        match self.budget_stop(user, agent, model.id()).await? {
            Some(stop) => Err(ChatError::OverBudget(stop.reason)),
            None => Ok(()),
        }
    }

    fn live(&self, agent: &Agent) -> Result<(), ChatError> {
        if agent.status == steward_domain::AgentStatus::Archived {
            return Err(ChatError::NotAllowed(format!("agent {} is archived", agent.id)));
        }
        Ok(())
    }

    async fn history(
        &self,
        user: UserId,
        conversation: steward_domain::ConversationId,
    ) -> Result<Vec<Message>, ChatError> {
        let messages = self.store.list_messages(user, conversation, None, HISTORY).await?;
        Ok(alternating(messages.into_iter().map(|message| (message.role, message.text))))
    }

    /// Streams model replies, handling the proposal/revision tool, until the
    /// model answers in words; returns the reply to store.
    #[allow(clippy::too_many_arguments)]
    async fn converse(
        &self,
        user: UserId,
        agent: &Agent,
        action: Option<ActionId>,
        system: String,
        mut messages: Vec<Message>,
        tools: Vec<ToolDefinition>,
        events: &mpsc::Sender<ChatEvent>,
    ) -> Result<NewChatMessage, ChatError> {
        let model = self.model_for(agent)?;
        let mut text = String::new();
        let mut usage = Usage::default();
        let mut cost = MessageCost::default();
        let mut draft: Option<ActionId> = None;
        for round in 0..MAX_ROUNDS {
            let offered = if round + 1 == MAX_ROUNDS { Vec::new() } else { tools.clone() };
            let request = ChatRequest::new(messages.clone())
                .with_system(system.clone())
                .with_tools(offered)
                .with_max_tokens(self.settings.max_output_tokens);
            let (content, calls, call_usage, call_cost) = stream_reply(model.as_ref(), request, events).await?;
            usage = usage.add(&call_usage);
            cost = cost + MessageCost::of_call(call_cost);
            let reply = Message::new(Role::Assistant, content);
            text.push_str(&reply.text());
            if calls.is_empty() {
                break;
            }
            messages.push(reply);
            let mut results = Vec::new();
            for call in calls {
                let outcome = self.apply_tool_call(user, agent.id, action, &call).await;
                let (result, is_error) = match outcome {
                    Ok(changed) => {
                        draft = Some(changed.id);
                        let event = if call.name == PROPOSE {
                            ChatEvent::DraftProposed { action: changed.clone() }
                        } else {
                            ChatEvent::DraftUpdated { action: changed.clone() }
                        };
                        let _ = events.send(event).await;
                        (
                            format!(
                                "Done: action #{} \"{}\" ({}). The user sees it as a card.",
                                changed.id, changed.title, changed.state
                            ),
                            false,
                        )
                    }
                    Err(error) => (error.to_string(), true),
                };
                results.push(ContentPart::tool_result(&call.id, result, is_error));
            }
            messages.push(Message::tool_results(results));
        }
        Ok(NewChatMessage {
            role: ChatRole::Assistant,
            text,
            data: json!({
                "draft_action_id": draft,
                "model": model.id().to_string(),
                "usage": { "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                           "cache_read_tokens": usage.cache_read_tokens, "cache_write_tokens": usage.cache_write_tokens },
            }),
            cost,
        })
    }

    /// Creates or revises the draft; an error is for the model to correct.
    /// Arguments are parsed, and problems reported, as the actions tools do.
    async fn apply_tool_call(
        &self,
        user: UserId,
        agent: AgentId,
        action: Option<ActionId>,
        call: &ToolCall,
    ) -> Result<Action, ToolError> {
        if let Some(raw) = &call.malformed_input {
            return Err(ToolError::InvalidInput(format!("the arguments were not valid JSON: {raw}")));
        }
        match (call.name.as_str(), action) {
            (PROPOSE, _) => {
                let proposal: DraftProposal = parse_input(call.input.clone())?;
                let new = NewAction {
                    agent_id: agent,
                    title: proposal.title,
                    description: proposal.description,
                    priority: parse_named(&proposal.priority)?,
                    mode: parse_named(&proposal.mode)?,
                    scheduled_for: proposal.scheduled_for,
                };
                self.store.create_action(user, new).await.map_err(refusal)
            }
            (REVISE, Some(action)) => {
                let revision: DraftRevision = parse_input(call.input.clone())?;
                let patch = ActionPatch {
                    title: revision.title,
                    description: revision.description,
                    priority: parse_field(revision.priority)?,
                    mode: parse_field(revision.mode)?,
                    scheduled_for: revision.scheduled_for.map(Some),
                };
                if patch.is_empty() {
                    return Err(ToolError::InvalidInput("give at least one field to change".into()));
                }
                self.store.update_action(user, action, patch).await.map_err(refusal)
            }
            (other, _) => Err(ToolError::Refused(format!("there is no tool named {other}"))),
        }
    }
}

/// Streams one reply, forwarding text deltas; returns its parts, tool calls,
/// usage and cost.
async fn stream_reply(
    model: &dyn ChatModel,
    request: ChatRequest,
    events: &mpsc::Sender<ChatEvent>,
) -> Result<(Vec<ContentPart>, Vec<ToolCall>, Usage, Option<f64>), ChatError> {
    let mut stream = model.stream(request);
    let mut text = String::new();
    let mut content = Vec::new();
    let mut calls = Vec::new();
    let mut finish = None;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::TextDelta { text: delta } => {
                text.push_str(&delta);
                let _ = events.send(ChatEvent::Delta { text: delta }).await;
            }
            StreamEvent::ToolCallFinished { call, .. } => {
                if !text.is_empty() {
                    content.push(ContentPart::text(std::mem::take(&mut text)));
                }
                content.push(ContentPart::ToolUse {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    input: call.input.clone(),
                });
                calls.push(call);
            }
            StreamEvent::Finished(done) => finish = Some(done),
            _ => {}
        }
    }
    if !text.is_empty() {
        content.push(ContentPart::text(text));
    }
    let finish = finish.ok_or_else(|| {
        ChatError::Model(steward_llm::LlmError::new(
            steward_llm::ErrorKind::MalformedResponse,
            model.id().to_string(),
            "the reply ended before its final event",
        ))
    })?;
    Ok((content, calls, finish.usage, finish.cost_usd))
}

/// Stored messages as the providers want a conversation: starting with the
/// user and alternating. A turn whose reply failed leaves two user messages
/// in a row, and the newest page may start with a reply; those are merged
/// and dropped rather than sent as a conversation the provider refuses.
pub(super) fn alternating(messages: impl IntoIterator<Item = (ChatRole, String)>) -> Vec<Message> {
    let mut turns: Vec<(ChatRole, String)> = Vec::new();
    for (role, text) in messages {
        if text.is_empty() || (turns.is_empty() && role == ChatRole::Assistant) {
            continue;
        }
        match turns.last_mut() {
            Some((last, joined)) if *last == role => {
                joined.push_str("\n\n");
                joined.push_str(&text);
            }
            _ => turns.push((role, text)),
        }
    }
    turns
        .into_iter()
        .map(|(role, text)| match role {
            ChatRole::User => Message::user(text),
            ChatRole::Assistant => Message::assistant(text),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_starts_with_the_user_and_alternates() {
        let stored = [
            (ChatRole::Assistant, "an answer whose question fell off the page".to_string()),
            (ChatRole::User, "first".to_string()),
            (ChatRole::User, "again, as the reply failed".to_string()),
            (ChatRole::Assistant, String::new()),
            (ChatRole::Assistant, "a reply".to_string()),
        ];
        let sent = alternating(stored);
        assert_eq!(sent, vec![Message::user("first\n\nagain, as the reply failed"), Message::assistant("a reply")]);
    }
}
