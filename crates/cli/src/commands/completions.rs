//! `steward completions <shell>`: prints a completion script.

use clap_complete::Shell;

use crate::output::write_bytes;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    pub shell: Shell,
}

/// Prints the completions of `command` (the whole command line, built by
/// the caller so this module does not depend on it). The script is built in
/// memory first: `clap_complete` panics when it cannot write, and a reader
/// that went away (`| head -1`) is not a bug.
pub fn run(args: CompletionsArgs, command: &mut clap::Command) {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, command, "steward", &mut script);
    write_bytes(&script);
}
