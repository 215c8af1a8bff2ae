//! The `steward` binary: parses the command line and runs the command.

mod cli;
mod client;
mod commands;
mod config;
mod input;
mod logging;
mod open_files;
mod output;
mod start_time;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => commands::serve::run(args, &cli.global).await,
        Command::Migrate(args) => commands::migrate::run(args, &cli.global).await,
        Command::Completions(args) => {
            commands::completions::run(args);
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
        Command::Job(command) => commands::job::run(command, &cli.global).await,
        Command::Schedule(command) => commands::schedule::run(command, &cli.global),
        Command::Events(args) => commands::events::run(args, &cli.global).await,
        Command::Ask(args) => commands::ask::run(args, &cli.global).await,
        Command::Models(args) => commands::models::run(args, &cli.global).await,
        Command::Skills(command) => commands::skills::run(command, &cli.global),
        Command::Dev(command) => commands::dev::run(command).await,
    }
}
