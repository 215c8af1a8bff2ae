//! The agent runtime: runs (the step loop with tools, checkpoints, limits,
//! budgets and approvals), chats with agents, and the setup chat that creates
//! them.

mod agent_checks;
pub mod chat;
pub mod completion;
pub mod context;
mod failures;
pub mod handler;
pub mod interventions;
pub mod limits;
mod model_calls;
pub mod run;
pub mod runtime;
pub mod setup;
pub mod steps;
mod tool_calls;
pub mod tools_and_skills;
mod traced;

/// Redaction moved to the outbound policy; the old path still names it.
pub use crate::outbound::redact;
pub use agent_checks::{EquipmentProblem, EquipmentProblemKind};
pub use chat::{ChatError, ChatEvent};
pub use completion::{Completion, CompletionEvent, CompletionResult, Conversation, Ending, Speaker};
pub use handler::AgentRunHandler;
pub use run::RunProgress;
pub use runtime::{AgentRuntime, GuardianWatch, NoSkills, RuntimeSettings, SkillSource, ToolSource};
pub use setup::{AgentProposal, SetupConfirmation, SetupTurn};
pub use tools_and_skills::HomeToolsAndSkills;
