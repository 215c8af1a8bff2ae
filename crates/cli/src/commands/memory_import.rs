//! `steward memory import FILE`: a conversation file (`conversation_file.rs`)
//! stored turn by turn as episodes over the API, each keyed by the file's
//! name and the turn's reference, so importing the same file again adds
//! nothing twice. A progress bar on a terminal; `--json` prints a summary.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use steward_server::api::memory::{AddEpisodeRequest, EpisodeResponse};

use super::conversation_file::read_turns;
use crate::client::ApiClient;
use crate::input::parse_id;
use crate::options::GlobalOptions;
use crate::output::{print_json, say};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// Only this agent's memory; default: shared by the user's agents.
    #[arg(long, value_parser = parse_id, value_name = "ID")]
    pub agent: Option<i64>,
    /// The episodes' source: `message` (default) or `document`.
    #[arg(long, default_value = "message")]
    pub source: String,
}

pub async fn run(args: ImportArgs, client: &ApiClient, global: &GlobalOptions) -> anyhow::Result<()> {
    let turns = read_turns(&args.file)?;
    let name = args.file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let mut progress = Progress::new(turns.len(), !global.json && std::io::stderr().is_terminal());
    let (mut added, mut present) = (0usize, 0usize);
    for (index, turn) in turns.iter().enumerate() {
        let request = AddEpisodeRequest {
            content: turn.content.clone(),
            source: Some(args.source.clone()),
            source_ref: Some(format!("import:{name}:{}", turn.reference)),
            agent_id: args.agent,
            reference_time: turn.time,
            // A file of plain turns is one conversation.
            thread: Some(turn.thread.clone().unwrap_or_else(|| format!("import:{name}"))),
        };
        let reply = client
            .post::<_, EpisodeResponse>("/memory/episodes", &request)
            .await
            .with_context(|| format!("turn {} ({})", index + 1, turn.reference))?;
        if reply.status == 201 {
            added += 1;
        } else {
            present += 1;
        }
        progress.show(index + 1);
    }
    progress.finish();
    if global.json {
        print_json(&json!({
            "file": args.file.display().to_string(),
            "turns": turns.len(),
            "added": added,
            "already_present": present,
        }));
    } else {
        say!(
            "Imported {} turns from {name}: {added} added, {present} already there. Their entities and facts are \
             extracted in the background (with a [memory] extraction_model).",
            turns.len()
        );
    }
    Ok(())
}

/// A one-line bar on stderr, redrawn at most once per percent.
struct Progress {
    total: usize,
    shown: Option<usize>,
    enabled: bool,
}

impl Progress {
    fn new(total: usize, enabled: bool) -> Self {
        Progress { total, shown: None, enabled: enabled && total > 0 }
    }

    fn show(&mut self, done: usize) {
        let percent = done * 100 / self.total.max(1);
        if !self.enabled || self.shown == Some(percent) {
            return;
        }
        self.shown = Some(percent);
        let filled = percent * 30 / 100;
        let bar = format!("{}{}", "█".repeat(filled), "░".repeat(30 - filled));
        let mut stderr = std::io::stderr();
        let _ = write!(stderr, "\r{bar} {done}/{} turns ({percent}%)", self.total);
        let _ = stderr.flush();
    }

    fn finish(&self) {
        if self.enabled && self.shown.is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }
}
