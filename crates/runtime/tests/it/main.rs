//! Runtime tests: the worker pool driving real stores; the built-in tools
//! and skills on real files and sockets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agent_chat;
mod agent_runs;
mod agent_support;
mod deliveries;
mod duplicate_work;
mod guardian_policy;
mod http_fetch;
mod living_docs;
mod mcp_client;
mod memory;
mod memory_consolidation;
mod memory_journey;
mod memory_rerank;
mod memory_tools;
mod outbound;
mod oversight;
mod project_checks;
mod schedules;
mod shell_agent;
mod shell_tool;
mod skills;
mod support;
mod tool_registry;
mod tool_support;
mod use_cases;
mod worker_pool;
mod workspace_tools;
