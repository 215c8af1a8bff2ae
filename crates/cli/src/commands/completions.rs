//! `steward completions <shell>`: prints a completion script.

use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) {
    let mut command = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut command, "steward", &mut std::io::stdout());
}
