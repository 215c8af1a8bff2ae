//! The HTTP API, in-process over a fresh database per test (SQLite always,
//! PostgreSQL when `STEWARD_TEST_DATABASE_URL` is set), plus the event stream
//! over a real socket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
mod agent_checks;
mod agent_support;
mod agents;
mod approvals;
mod artifacts;
mod auth;
mod chats;
mod dashboard;
mod deliveries;
mod errors;
mod events;
mod hardening;
mod jobs;
mod journey;
mod mcp;
mod memory;
mod meta;
mod openai;
mod projects;
mod routines;
mod runs;
mod schedules;
mod scheduling;
mod scoping;
mod slow_clients;
mod spending;
mod stream;
mod support;
mod sync;
