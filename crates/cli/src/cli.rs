//! The command line: the `steward` command and its subcommands, defined with
//! clap (the options several commands share are in `options.rs`).

use clap::{Parser, Subcommand};

use crate::commands;
use crate::options::{GlobalOptions, HomeOptions};

/// Steward: a self-hosted operating system for AI agents.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about, propagate_version = true, after_help = crate::failure::EXIT_STATUS_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,

    #[command(subcommand)]
    pub command: Command,
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every command a person can run, as `agent get`; a command with
    /// optional subcommands (`runs`) is one itself.
    fn runnable(command: &clap::Command, prefix: &str, found: &mut Vec<String>) {
        for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
            let name = format!("{prefix}{}", sub.get_name());
            if sub.has_subcommands() {
                if !sub.is_subcommand_required_set() {
                    found.push(name.clone());
                }
                runnable(sub, &format!("{name} "), found);
            } else {
                found.push(name);
            }
        }
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// The `--json` walk (tests/it/json_contract.rs) names every command, run
    /// or set aside with a reason, so a new command cannot skip the contract.
    #[test]
    fn every_subcommand_is_walked() {
        let walk = include_str!("../tests/it/json_contract.rs");
        let mut commands = Vec::new();
        runnable(&Cli::command(), "", &mut commands);
        assert!(commands.len() > 30, "{commands:?}");
        let missing: Vec<&String> = commands.iter().filter(|name| !walk.contains(&format!("(\"{name}\", "))).collect();
        assert!(missing.is_empty(), "add these to WALK or NOT_WALKED in tests/it/json_contract.rs: {missing:?}");
    }
}
