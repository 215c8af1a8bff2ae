//! The `steward` binary: parses the command line and runs the command.

mod backup_archive;
mod cli;
mod client;
mod commands;
mod config;
mod config_file;
mod credentials;
mod failure;
mod input;
mod logging;
mod open_files;
mod options;
mod output;
mod server_address;
mod start_time;
mod vault;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{Cli, Command};
use crate::failure::{describe, error_document, exit_status};
use crate::output::say;

fn main() -> ExitCode {
    let mut cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return command_line_error(&error),
    };
    // `--pretty` is `--json` for people.
    cli.global.json |= cli.global.pretty;
    output::set_pretty_json(cli.global.pretty);
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let described = describe(&error);
            if json {
                if !described.already_shown {
                    output::print_json(&error_document(&described));
                }
            } else {
                eprintln!("error: {error:#}");
            }
            ExitCode::from(exit_status(&described.code))
        }
    }
}

/// Help and version print as clap prints them; a usage error with `--json`
/// becomes the JSON error document, with usage's exit status.
fn command_line_error(error: &clap::Error) -> ExitCode {
    let shows_text = matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let wants_json = std::env::args_os().any(|argument| argument == "--json" || argument == "--pretty");
    if shows_text || !wants_json {
        error.exit();
    }
    let rendered = error.render().to_string();
    let message = rendered.lines().next().unwrap_or_default().trim_start_matches("error: ").trim().to_string();
    let described = failure::Described { code: failure::USAGE.to_string(), message, field: None, already_shown: false };
    say!("{}", error_document(&described));
    ExitCode::from(exit_status(failure::USAGE))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => commands::serve::run(args, &cli.global).await,
        Command::Migrate(args) => commands::migrate::run(args, &cli.global).await,
        Command::Backup(args) => commands::backup::run(args, &cli.global).await,
        Command::Restore(args) => commands::restore::run(args, &cli.global).await,
        Command::Service(command) => commands::service::run(command, &cli.global),
        Command::User(command) => commands::users::run_user(command, &cli.global).await,
        Command::Token(command) => commands::users::run_token(command, &cli.global).await,
        Command::Login => commands::login::run(&cli.global).await,
        Command::Secret(command) => commands::secret::run(command, &cli.global),
        Command::Completions(args) => {
            commands::completions::run(args, &mut <Cli as clap::CommandFactory>::command());
            Ok(())
        }
        Command::Bench(command) => commands::bench::run(command, &cli.global).await,
        Command::Status => commands::status::run(&cli.global).await,
        Command::Agent(command) => commands::agent::run(command, &cli.global).await,
        Command::Action(command) => commands::action::run(command, &cli.global).await,
        Command::Chat(args) => commands::chat::run(args, &cli.global).await,
        Command::Run(args) => commands::runs::run(args, &cli.global).await,
        Command::Runs(args) => commands::runs::runs(args, &cli.global).await,
        Command::Trace(args) => commands::runs::trace(args, &cli.global).await,
        Command::Approvals(args) => commands::approvals::run(args, &cli.global).await,
        Command::Duplicates(args) => commands::duplicates::run(args, &cli.global).await,
        Command::Job(command) => commands::job::run(command, &cli.global).await,
        Command::Schedule(command) => commands::schedule::run(command, &cli.global).await,
        Command::Delivery(command) => commands::delivery::run(command, &cli.global).await,
        Command::Routine(command) => commands::routine::run(command, &cli.global).await,
        Command::Project(command) => commands::project::run(command, &cli.global).await,
        Command::Idea(command) => commands::project::run_idea(command, &cli.global).await,
        Command::Calendar(command) => commands::calendar::run(command, &cli.global).await,
        Command::Sync(command) => commands::sync::run(command, &cli.global).await,
        Command::Events(args) => commands::events::run(args, &cli.global).await,
        Command::Memory(command) => commands::memory::run(command, &cli.global).await,
        Command::Ask(args) => commands::ask::run(args, &cli.global).await,
        Command::Models(args) => commands::models::run(args, &cli.global).await,
        Command::Nodes => commands::nodes::run(&cli.global).await,
        Command::Skills(command) => commands::skills::run(command, &cli.global),
        Command::Tools(args) => commands::tools::run(args, &cli.global),
        Command::Mcp(command) => commands::mcp::run(command, &cli.global).await,
        Command::Dev(command) => commands::dev::run(command).await,
    }
}
