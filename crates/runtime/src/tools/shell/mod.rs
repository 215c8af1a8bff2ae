//! `shell.run`: a shell command in a bubblewrap sandbox, for agents whose
//! tool list names it (it is in no default set) and, unless
//! `tools.shell.require_approval` is off, only once a person approves the
//! call. See ARCHITECTURE.md ("Sandboxed commands") for what is isolated.

mod availability;
mod jail;
mod run;

use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

pub use availability::install_hint;
use run::{Captured, Finished};
pub use run::{Ending, run_sandboxed};

use super::config::ShellToolConfig;
use super::{Tool, ToolContext, ToolError, ToolOutput, parse_input, schema_of};

pub struct ShellRun {
    pub config: ShellToolConfig,
}

/// Runs a shell command in the sandbox.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RunArguments {
    /// The command, run by `/bin/sh -c` in the workspace.
    command: String,
}

impl ShellRun {
    /// `Err` says why commands cannot run on this machine, and how to fix it.
    pub fn check_available(&self) -> Result<(), String> {
        availability::check(&self.config)
    }
}

#[async_trait]
impl Tool for ShellRun {
    fn name(&self) -> &str {
        "shell.run"
    }

    fn description(&self) -> &str {
        "Run a shell command (`/bin/sh -c`) in a sandbox. The current folder is your workspace (/workspace), the only \
         place you can write; the system is read-only, /tmp is private and empty, and there may be no network. CPU, \
         memory, process and time limits apply, and long output is cut. Returns the exit status and the output."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<RunArguments>()
    }

    fn requires_approval(&self) -> bool {
        self.config.require_approval
    }

    fn unavailable(&self) -> Option<String> {
        self.check_available().err()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: RunArguments = parse_input(input)?;
        if arguments.command.trim().is_empty() {
            return Err(ToolError::InvalidInput("command is empty".into()));
        }
        self.check_available().map_err(ToolError::Failed)?;
        let network = self.config.network_agents.contains(&context.agent_id.0);
        let finished =
            run_sandboxed(&self.config, &context.workspace, network, &arguments.command, &context.cancel).await;
        Ok(ToolOutput::text(report(&self.config, finished.map_err(ToolError::Failed)?)))
    }
}

/// The text the model reads: how the command ended, then each non-empty
/// stream, said to be cut when it was.
fn report(config: &ShellToolConfig, finished: Finished) -> String {
    let mut text = match finished.ending {
        Ending::Exited(code) => format!("exit status {code}"),
        Ending::TimedOut => format!("killed: still running at the time limit of {} s", config.timeout_secs),
        Ending::Cancelled => "killed: the run was cancelled".to_string(),
    };
    for (name, captured) in [("stdout", &finished.stdout), ("stderr", &finished.stderr)] {
        section(&mut text, name, captured);
    }
    text
}

fn section(text: &mut String, name: &str, captured: &Captured) {
    if captured.total == 0 {
        return;
    }
    let _ = write!(text, "\n--- {name} ---\n{}", String::from_utf8_lossy(&captured.bytes));
    let shown = captured.bytes.len() as u64;
    if shown < captured.total {
        let _ = write!(text, "\n[{name} cut: the first {shown} of {} bytes are shown]", captured.total);
    }
}
