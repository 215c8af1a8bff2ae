//! One module per subcommand.

pub mod action;
pub mod agent;
pub mod agent_new;
pub mod approvals;
pub mod ask;
pub mod bench;
mod bench_agents;
mod bench_llm;
mod bench_schedules;
mod bench_support;
pub mod calendar;
pub mod chat;
pub mod completions;
pub mod delivery;
pub mod dev;
pub mod events;
pub mod job;
pub(crate) mod llm_setup;
pub mod migrate;
pub mod models;
pub mod runs;
pub mod schedule;
pub mod schedule_manage;
pub mod serve;
pub mod skills;
pub mod status;
pub mod tools;
