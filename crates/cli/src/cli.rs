//! The command line: global options and the subcommands, defined with clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::config::LogFormat;

/// Steward: a self-hosted operating system for AI agents.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct GlobalOptions {
    /// Log filter, e.g. `debug` or `steward=debug,sqlx=warn` (default: RUST_LOG, then the config).
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// Log format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    /// URL of the Steward server the CLI talks to.
    #[arg(long, global = true, env = "STEWARD_SERVER", default_value = "http://127.0.0.1:8420")]
    pub server: String,

    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Options of commands that open the database themselves.
#[derive(Debug, Clone, clap::Args)]
pub struct HomeOptions {
    /// Steward's data directory (default: STEWARD_HOME, then the platform data dir).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Database URL: sqlite:///path/steward.db or postgres://… (default: STEWARD_DATABASE_URL, then $home/steward.db).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Steward: the HTTP API, the event stream and the workers.
    Serve(commands::serve::ServeArgs),
    /// Is the server up: version, database, jobs by state.
    Status,
    /// Agents: list, get, create, update, archive.
    #[command(subcommand)]
    Agent(commands::agent::AgentCommand),
    /// Actions (an agent's deliverables): list, get, create, update, and move through their lifecycle.
    #[command(subcommand)]
    Action(commands::action::ActionCommand),
    /// Chat with an agent; it proposes draft actions when useful.
    Chat(commands::chat::ChatArgs),
    /// Start an ad-hoc run of an agent; --wait follows it step by step.
    Run(commands::runs::RunArgs),
    /// Runs: list them, show one, cancel one.
    Runs(commands::runs::RunsArgs),
    /// Every step of a run: model calls with tokens, cost and timings; tool calls with arguments and results.
    Trace(commands::runs::TraceArgs),
    /// Tool calls waiting for approval; approve or reject them.
    Approvals(commands::approvals::ApprovalsArgs),
    /// Jobs of the durable queue: enqueue, list, get, cancel, retry.
    #[command(subcommand)]
    Job(commands::job::JobCommand),
    /// Schedules: preview the fire times of a *when* in a time zone (no server needed).
    #[command(subcommand)]
    Schedule(commands::schedule::ScheduleCommand),
    /// The event log; --follow for live events.
    Events(commands::events::EventsArgs),
    /// Apply database migrations and exit.
    Migrate(HomeOptions),
    /// Print shell completions.
    Completions(commands::completions::CompletionsArgs),
    /// Measure Steward.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// Ask a model one question; streams the answer, then tokens and cost.
    Ask(commands::ask::AskArgs),
    /// List model providers and models, and whether each has its API key.
    Models(commands::models::ModelsArgs),
    /// Skills in $STEWARD_HOME/skills: list them, or check them for problems.
    #[command(subcommand)]
    Skills(commands::skills::SkillsCommand),
    /// Development tools.
    #[command(subcommand)]
    Dev(commands::dev::DevCommand),
}
