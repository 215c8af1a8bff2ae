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
    #[command(
        after_help = "Examples:\n  steward serve\n  steward serve --home ./data --bind 127.0.0.1:9000\n  steward serve --database postgres://steward@db/steward"
    )]
    Serve(commands::serve::ServeArgs),
    /// Is the server up: version, database, jobs by state.
    #[command(after_help = "Examples:\n  steward status\n  steward status --json")]
    Status,
    /// Agents: list, get, create, update, archive.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  steward agent new\n  steward agent create \"Launch writer\" --goal \"Publish a launch post\"\n  steward agent get \"Launch writer\""
    )]
    Agent(commands::agent::AgentCommand),
    /// Actions (an agent's deliverables): list, get, create, update, and move through their lifecycle.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  steward action list --agent \"Launch writer\"\n  steward action define 1\n  steward action schedule 1 --at \"2030-01-31 09:00\""
    )]
    Action(commands::action::ActionCommand),
    /// Chat with an agent; it proposes draft actions when useful.
    #[command(
        after_help = "Examples:\n  steward chat \"Launch writer\" \"What should we do first?\"\n  steward chat 1"
    )]
    Chat(commands::chat::ChatArgs),
    /// Start an ad-hoc run of an agent; --wait follows it step by step.
    #[command(after_help = "Example:\n  steward run \"Launch writer\" \"List three headline ideas\" --wait")]
    Run(commands::runs::RunArgs),
    /// Runs: list them, show one, cancel one, the guardian's assessments of one.
    #[command(
        after_help = "Examples:\n  steward runs\n  steward runs get 2\n  steward runs assessments 2\n  steward runs cancel 2"
    )]
    Runs(commands::runs::RunsArgs),
    /// Every step of a run: model calls with tokens, cost and timings; tool calls with arguments and results.
    #[command(after_help = "Examples:\n  steward trace 2\n  steward trace 2 --full\n  steward trace 2 --json")]
    Trace(commands::runs::TraceArgs),
    /// Tool calls waiting for approval; approve or reject them.
    #[command(
        after_help = "Examples:\n  steward approvals\n  steward approvals approve 3\n  steward approvals reject 3 --reason \"Not that file\""
    )]
    Approvals(commands::approvals::ApprovalsArgs),
    /// Duplicate work: open actions or project tasks that say the same thing; merge or keep both.
    #[command(
        after_help = "Examples:\n  steward duplicates scan\n  steward duplicates\n  steward duplicates merge 1 --keep 4\n  steward duplicates keep 2"
    )]
    Duplicates(commands::duplicates::DuplicatesArgs),
    /// Jobs of the durable queue: enqueue, list, get, cancel, retry.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  steward job enqueue --kind noop\n  steward job list --state dead\n  steward job retry 42"
    )]
    Job(commands::job::JobCommand),
    /// Calendars: the events of a .ics file or feed between two dates, recurrences expanded (no server needed).
    #[command(subcommand)]
    Calendar(commands::calendar::CalendarCommand),
    /// Living documentation: a post-commit hook, and an agent folding the commits into ARCHITECTURE.md / DESIGN.md.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  steward sync install-hook . --agent Architect\n  steward sync run . --agent Architect\n  steward sync apply .\n  steward sync status ."
    )]
    Sync(commands::sync::SyncCommand),
    /// Deliveries of routine and run outputs: list them (with the reason of a failure), retry a dead one.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  steward delivery list --status failed\n  steward delivery retry 7")]
    Delivery(commands::delivery::DeliveryCommand),
    /// Spec-driven projects: a brief, requirements → design → tasks behind gates, a task graph; import and
    /// export spec-kit and Kiro folders.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  steward project new \"Todo CLI\" --brief \"a todo list in a file\"\n  \
                            steward project import specs/001-photo-albums\n  steward project export 3 out/\n  \
                            steward project reject 3 --comment \"say WHEN, in EARS\"")]
    Project(commands::project::ProjectCommand),
    /// The ideas inbox: capture ideas, list them; a project made from one promotes it.
    #[command(subcommand)]
    Idea(commands::project::IdeaCommand),
    /// Routines: a schedule or trigger, an agent, a prompt template, context sources and deliveries.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  steward routine add morning --template morning-plan --agent Planner --tz Europe/Paris \\\n    \
                            --calendar ~/work.ics --priorities ~/priorities.md --deliver slack:@U024BE7LH\n  \
                            steward routine run morning --dry-run\n  steward routine replay 12 --deliver"
    )]
    Routine(commands::routine::RoutineCommand),
    /// Schedules: add, list, pause, run now, backfill, history; preview a *when* (no server needed).
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  steward schedule preview \"weekdays at 08:00\" --tz Europe/London -n 5\n  \
                            steward schedule add standup --when \"weekdays at 09:00\" --tz Europe/London \\\n    \
                            --agent Scribe --instruction \"Post the stand-up notes\"\n  steward schedule history standup")]
    Schedule(commands::schedule::ScheduleCommand),
    /// Memory: search what agents remember, add episodes, an entity's facts in time, forget; bench retrieval.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  steward memory search \"brand voice\" --as-of 2026-03-01\n  steward memory add \"We ship on Fridays\"\n  steward memory facts \"the user\" --history\n  steward memory bench --dataset locomo.json --k 10"
    )]
    Memory(commands::memory::MemoryCommand),
    /// The event log; --follow for live events.
    #[command(after_help = "Examples:\n  steward events\n  steward events --follow --json")]
    Events(commands::events::EventsArgs),
    /// Users of this home (its database): add, list, remove.
    #[command(
        subcommand,
        after_help = "Examples:\n  steward user add ada --admin   (the password is read from standard input)\n  steward user list"
    )]
    User(commands::users::UserCommand),
    /// API tokens: create (shown once), list, revoke.
    #[command(
        subcommand,
        after_help = "Examples:\n  steward token create --user ada --name laptop --scope write --expires-in 90d\n  steward token revoke 3"
    )]
    Token(commands::users::TokenCommand),
    /// Secrets sealed in the home (XChaCha20-Poly1305), read by configuration as secret:NAME.
    #[command(
        subcommand,
        after_help = "Examples:\n  steward secret set anthropic < key.txt   (the value is read from standard input)\n  steward secret list\n  steward secret remove anthropic\n\nThen, in config.toml:\n  [llm.providers.anthropic]\n  protocol = \"anthropic\"\n  api_key_env = \"secret:anthropic\""
    )]
    Secret(commands::secret::SecretCommand),
    /// Store an API token (read from standard input) for this CLI to send to the server.
    #[command(
        after_help = "Example:\n  steward token create --user ada --name laptop --json | jq -r .token | steward login"
    )]
    Login,
    /// Apply database migrations and exit.
    #[command(after_help = "Example:\n  steward migrate --home ./data")]
    Migrate(HomeOptions),
    /// Copy the database and the home's files into one archive, while `serve` runs.
    Backup(commands::backup::BackupArgs),
    /// Put a backup back into a stopped home, after checking it.
    Restore(commands::restore::RestoreArgs),
    /// Run Steward as a service: a systemd user unit.
    #[command(subcommand)]
    Service(commands::service::ServiceCommand),
    /// Print shell completions.
    #[command(after_help = "Example:\n  steward completions bash > /etc/bash_completion.d/steward")]
    Completions(commands::completions::CompletionsArgs),
    /// Measure Steward.
    #[command(subcommand)]
    #[command(after_help = "Example:\n  steward bench queue --jobs 100000 --workers 64")]
    Bench(commands::bench::BenchCommand),
    /// Ask a model one question; streams the answer, then tokens and cost.
    #[command(
        after_help = "Examples:\n  steward ask \"Summarise RFC 9110 in one line\"\n  steward ask --model openai/gpt-4.1-mini --json \"hello\""
    )]
    Ask(commands::ask::AskArgs),
    /// List model providers and models, and whether each has its API key.
    Models(commands::models::ModelsArgs),
    /// The `steward serve` processes sharing the database, and the jobs each runs (administrators).
    #[command(after_help = "Examples:\n  steward nodes\n  steward nodes --json")]
    Nodes,
    /// The built-in tools an agent can be given, and which need approval (no server needed).
    Tools(commands::tools::ToolsArgs),
    /// Skills in $STEWARD_HOME/skills: list them, or check them for problems.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  steward skills list\n  steward skills check")]
    Skills(commands::skills::SkillsCommand),
    /// MCP: serve Steward's MCP server on stdio, list an agent's MCP servers, call an MCP tool by hand.
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  steward mcp serve --stdio\n  steward mcp list researcher\n  steward mcp call everything echo '{\"message\": \"hi\"}'"
    )]
    Mcp(commands::mcp::McpCommand),
    /// Development tools.
    #[command(subcommand)]
    #[command(after_help = "Example:\n  steward dev fake-llm --port 8089")]
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
