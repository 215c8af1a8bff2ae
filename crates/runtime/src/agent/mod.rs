//! The agent runtime: runs (the step loop with tools, checkpoints, limits,
//! budgets and approvals), chats with agents, and the setup chat that creates
//! them.

mod agent_checks;
pub mod chat;
pub mod context;
pub mod equipment;
pub mod handler;
pub mod limits;
pub mod redact;
pub mod run;
pub mod runtime;
pub mod setup;
pub mod steps;
mod tool_calls;

pub use agent_checks::{EquipmentProblem, EquipmentProblemKind};
pub use chat::{ChatError, ChatEvent};
pub use equipment::HomeEquipment;
pub use handler::AgentRunHandler;
pub use run::RunProgress;
pub use runtime::{AgentRuntime, NoSkills, RuntimeSettings, SkillSource, ToolSource};
pub use setup::{AgentProposal, SetupConfirmation, SetupTurn};
