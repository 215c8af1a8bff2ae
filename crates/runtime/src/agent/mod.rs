//! The agent runtime: runs (the step loop with tools, checkpoints, limits,
//! budgets and approvals), chats with agents, and the setup chat that creates
//! them.

pub mod context;
pub mod limits;
pub mod redact;
pub mod steps;
