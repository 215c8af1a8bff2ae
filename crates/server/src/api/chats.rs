//! Chats on the wire: the setup chat that creates an agent, the chat with
//! an agent, a draft action's refinement thread, their histories, and the
//! events a streamed reply sends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::{ConversationId, MessageId};
use steward_runtime::agent::{AgentProposal, SetupConfirmation};
use utoipa::{IntoParams, ToSchema};

use super::actions::ActionResponse;
use super::enums::ChatRole;
use super::error::ErrorResponse;

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatMessageResponse {
    #[schema(value_type = i64)]
    pub id: MessageId,
    pub role: ChatRole,
    /// May be empty for an assistant reply that only proposed something.
    pub text: String,
    /// What the model calls that wrote the reply cost (zero for a person's
    /// message); it counts in the agent's spending.
    pub cost: MessageCostBody,
    /// The run that wrote this reply, when a run did (a completion through
    /// `/v1/chat/completions`): its trace holds the model calls and their
    /// cost, which `cost` then leaves out.
    pub run_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<steward_domain::ChatMessage> for ChatMessageResponse {
    fn from(message: steward_domain::ChatMessage) -> Self {
        ChatMessageResponse {
            id: message.id,
            role: message.role.into(),
            text: message.text,
            cost: message.cost.into(),
            run_id: message.data.get("run_id").and_then(serde_json::Value::as_i64),
            created_at: message.created_at,
        }
    }
}

/// The model calls behind a message.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageCostBody {
    /// Every call made to write the reply (tool rounds, re-asks).
    pub model_calls: u32,
    /// US dollars of the calls whose price is known.
    pub cost_usd: f64,
    /// False when some call had no known price: the real cost is then
    /// higher than `cost_usd`, by an unknown amount.
    pub cost_known: bool,
    /// Calls whose cost is unknown.
    pub unknown_cost_calls: u32,
}

impl From<steward_domain::MessageCost> for MessageCostBody {
    fn from(cost: steward_domain::MessageCost) -> Self {
        MessageCostBody {
            model_calls: cost.model_calls,
            cost_usd: cost.cost_usd,
            cost_known: cost.is_known(),
            unknown_cost_calls: cost.unknown_cost_calls,
        }
    }
}

/// A conversation's messages, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageListResponse {
    pub messages: Vec<ChatMessageResponse>,
}

/// Paging of a conversation's history.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageListQuery {
    /// 1…1000, default 100: the newest messages, or the first after `after`.
    pub limit: Option<usize>,
    /// Only messages with a larger id (to read on from a message).
    #[param(value_type = Option<i64>)]
    pub after: Option<MessageId>,
}

/// One turn of a setup chat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupChatRequest {
    /// The setup chat to continue; left out, a new one starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub conversation_id: Option<ConversationId>,
    /// What the person says; 1–100,000 characters.
    pub message: String,
}

/// The agent the setup chat has drawn out so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentProposalBody {
    pub name: String,
    /// The North-Star goal.
    pub goal: String,
    pub success_criteria: Vec<String>,
    pub timeline: Option<String>,
}

impl From<AgentProposal> for AgentProposalBody {
    fn from(proposal: AgentProposal) -> Self {
        AgentProposalBody {
            name: proposal.name,
            goal: proposal.goal,
            success_criteria: proposal.success_criteria,
            timeline: proposal.timeline,
        }
    }
}

/// The model's reply to a setup-chat turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SetupChatResponse {
    /// Pass it back to continue, and to confirm.
    #[schema(value_type = i64)]
    pub conversation_id: ConversationId,
    /// The assistant's reply, as stored.
    pub message: ChatMessageResponse,
    /// Goal, criteria and timeline are clear: confirm to create the agent.
    pub ready: bool,
    /// What is known so far.
    pub proposal: Option<AgentProposalBody>,
}

/// Creates the agent a setup chat drew out; each field given replaces the proposal's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmSetupRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_criteria: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<String>,
    /// `provider/model`; left out, the configured default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

impl From<ConfirmSetupRequest> for SetupConfirmation {
    fn from(request: ConfirmSetupRequest) -> Self {
        SetupConfirmation {
            name: request.name,
            goal: request.goal,
            success_criteria: request.success_criteria,
            timeline: request.timeline,
            model: request.model,
            instructions: request.instructions,
        }
    }
}

/// A message to an agent, or to a draft's refinement thread.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatMessageRequest {
    /// 1–100,000 characters.
    pub message: String,
}

/// A complete reply (`Accept: application/json`, or no `Accept`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatReplyResponse {
    /// The agent's reply, as stored.
    pub message: ChatMessageResponse,
    /// Draft actions the agent proposed in this reply (at most one open draft at a time).
    pub drafts_proposed: Vec<ActionResponse>,
    /// Actions the agent revised in this reply (in a draft's thread).
    pub drafts_updated: Vec<ActionResponse>,
}

/// `event: delta`: text as the model writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatDeltaEvent {
    pub text: String,
}

/// `event: draft_proposed` or `event: draft_updated`: the action as it now is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatDraftEvent {
    pub action: ActionResponse,
}

/// `event: done`: the reply as stored; the stream ends after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatDoneEvent {
    pub message: ChatMessageResponse,
}

/// The `data:` of a streamed reply's events, by event name: `delta`,
/// `draft_proposed`, `draft_updated`, `done`, and `error` (the error shape,
/// after which the stream ends without `done`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ChatStreamEvent {
    Delta(ChatDeltaEvent),
    Draft(ChatDraftEvent),
    Done(ChatDoneEvent),
    Error(ErrorResponse),
}
