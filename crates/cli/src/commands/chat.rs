//! `steward chat <agent>` and `steward action refine <id>`: a conversation
//! with an agent, or about one of its drafts. Replies stream as the model
//! writes them; drafts the agent proposes or revises are shown as they land.
//! With a message, one turn; without, a conversation read line by line
//! from the terminal (or from stdin when it is not one).

use eventsource_stream::Eventsource;
use futures::StreamExt;
use steward_server::api::{
    ActionResponse, ChatDoneEvent, ChatDraftEvent, ChatMessageRequest, ChatReplyResponse, ErrorResponse,
};

use crate::client::ApiClient;
use crate::input::{AgentRef, parse_agent, read_line, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{print_json, say};

#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// The agent (id or name).
    #[arg(value_parser = parse_agent, value_name = "AGENT")]
    pub agent: AgentRef,
    /// Say this and print the reply; without it, chat until an empty line or end of input.
    pub message: Option<String>,
}

pub async fn run(args: ChatArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let agent = resolve_agent(&client, &args.agent).await?;
    converse(&client, &format!("/agents/{agent}/chat"), args.message, global.json).await
}

/// One turn with `message`, or a conversation from the terminal.
pub async fn converse(client: &ApiClient, path: &str, message: Option<String>, json: bool) -> anyhow::Result<()> {
    if let Some(message) = message {
        return turn(client, path, message, json).await;
    }
    if !json {
        eprintln!("(an empty line or Ctrl-D ends the chat)");
    }
    while let Some(line) = read_line("you> ").await? {
        if line.trim().is_empty() {
            break;
        }
        turn(client, path, line, json).await?;
    }
    Ok(())
}

/// Sends one message: `--json` prints the whole reply as one object;
/// otherwise the reply streams.
async fn turn(client: &ApiClient, path: &str, message: String, json: bool) -> anyhow::Result<()> {
    let request = ChatMessageRequest { message };
    if json {
        let reply = client.post::<_, ChatReplyResponse>(path, &request).await?;
        print_json(&reply.raw);
        return Ok(());
    }
    let response = client.post_stream(path, &request).await?;
    let mut events = response.bytes_stream().eventsource();
    crate::output::write_text("agent> ");
    while let Some(event) = events.next().await {
        let event = event.map_err(|error| anyhow::anyhow!("the reply stream broke off: {error}"))?;
        match event.event.as_str() {
            "delta" => {
                let delta: serde_json::Value = serde_json::from_str(&event.data)?;
                crate::output::write_text(delta["text"].as_str().unwrap_or_default());
            }
            "draft_proposed" => {
                let draft: ChatDraftEvent = serde_json::from_str(&event.data)?;
                say!("");
                print_draft("Proposed", &draft.action);
            }
            "draft_updated" => {
                let draft: ChatDraftEvent = serde_json::from_str(&event.data)?;
                say!("");
                print_draft("Revised", &draft.action);
            }
            "done" => {
                let _done: ChatDoneEvent = serde_json::from_str(&event.data)?;
                say!("");
                return Ok(());
            }
            "error" => {
                say!("");
                let error: ErrorResponse = serde_json::from_str(&event.data)?;
                return Err(crate::failure::ApiFailure {
                    code: error.error.code.as_str().to_string(),
                    message: error.error.message,
                    field: error.error.field,
                }
                .into());
            }
            _ => {}
        }
    }
    anyhow::bail!("the reply stream ended before the reply was complete")
}

fn print_draft(verb: &str, action: &ActionResponse) {
    say!(
        "  ▸ {verb} draft #{}: {} ({} priority, {}{})",
        action.id,
        action.title,
        action.priority,
        action.mode,
        action.scheduled_for.map(|at| format!(", for {}", crate::output::local_time(at))).unwrap_or_default()
    );
    if !action.description.is_empty() {
        say!("    {}", action.description.replace('\n', "\n    "));
    }
    say!("    Refine it: steward action refine {id} · define it: steward action define {id}", id = action.id);
}
