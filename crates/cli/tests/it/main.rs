//! The `steward` binary end to end: CLI commands against a real
//! `steward serve` child process, and the model commands against the fake
//! model provider.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod agent_crash;
mod agent_journey;
mod agents_and_actions;
mod backup;
mod bench_agents;
mod calendar;
mod crash;
mod dashboard_browser;
mod deliveries;
mod events;
mod finding_the_server;
mod help;
mod jobs;
mod json_contract;
mod living_docs;
mod llm_commands;
mod mcp;
mod mcp_conformance;
mod mcp_conformance_client;
mod mcp_suite;
mod memory_import;
mod memory_journey;
mod memory_local_embeddings;
mod metrics;
mod nodes_chaos;
mod openai_endpoint;
mod otel;
mod oversight;
mod pipes;
mod project_agents;
mod project_quick;
mod project_replans;
mod projects;
mod readme_tour;
mod routine_living_docs;
mod routines;
mod schedule_firing;
mod schedule_preview;
mod secrets;
mod server;
mod service;
mod skills;
mod spend_crash;
mod support;
