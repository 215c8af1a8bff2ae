//! A project's check commands (`cargo test`), run in a task's workspace
//! after the validator passes it, each in the `shell.run` sandbox
//! (bubblewrap, the workspace the only place it can write, no network,
//! the configured limits). The first that fails sends the task back with
//! the tail of its output as the feedback.

use std::fmt::Write as _;
use std::path::Path;

use tokio_util::sync::CancellationToken;

use crate::tools::ShellToolConfig;
use crate::tools::shell::{Ending, ShellRun, run_sandboxed};

/// How much of a failing command's output the feedback keeps (its end).
const TAIL_CHARS: usize = 3_000;

/// Runs `checks` in order in `folder`: `None` when every one passes, or the
/// feedback naming the first that failed, with its output's tail.
pub async fn run_checks(config: &ShellToolConfig, folder: &Path, checks: &[String]) -> Option<String> {
    if checks.is_empty() {
        return None;
    }
    if let Err(why) = (ShellRun { config: config.clone() }).check_available() {
        return Some(format!("the project's checks cannot run on this machine: {why}"));
    }
    let cancel = CancellationToken::new();
    for command in checks {
        let finished = match run_sandboxed(config, folder, false, command, &cancel).await {
            Ok(finished) => finished,
            Err(error) => return Some(format!("the check `{command}` could not start: {error}")),
        };
        let ending = match finished.ending {
            Ending::Exited(0) => continue,
            Ending::Exited(code) => format!("exit status {code}"),
            Ending::TimedOut => format!("killed at the time limit of {} s", config.timeout_secs),
            Ending::Cancelled => "cancelled".to_string(),
        };
        let mut output = String::from_utf8_lossy(&finished.stdout.bytes).into_owned();
        output.push_str(&String::from_utf8_lossy(&finished.stderr.bytes));
        let mut feedback = format!("The check `{command}` failed ({ending}).");
        if !output.trim().is_empty() {
            let _ = write!(feedback, " The end of its output:\n{}", tail(output.trim_end(), TAIL_CHARS));
        }
        return Some(feedback);
    }
    None
}

/// The last `limit` characters of `text`.
fn tail(text: &str, limit: usize) -> &str {
    let count = text.chars().count();
    if count <= limit {
        return text;
    }
    let start = text.char_indices().nth(count - limit).map_or(0, |(index, _)| index);
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_end() {
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 3), "ab");
        assert_eq!(tail("ééé", 2), "éé");
    }
}
