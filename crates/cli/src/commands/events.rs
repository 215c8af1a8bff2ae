//! `steward events`: the event log a page at a time, or live with
//! `--follow` (reconnecting with `Last-Event-ID` if the connection drops, so
//! no event is missed or repeated).

use std::io::IsTerminal;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::Value;
use steward_server::api::{EventListResponse, EventResponse, EventSubject};

use crate::client::ApiClient;
use crate::input::{parse_id, parse_wire};
use crate::options::GlobalOptions;
use crate::output::{self, local_time, print_json, say, truncate};

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Only events after this id.
    #[arg(long, value_name = "ID")]
    pub after: Option<i64>,
    /// Only events whose kind starts with this, e.g. `job.` or `job.dead`.
    #[arg(long, value_name = "PREFIX")]
    pub kind: Option<String>,
    /// Only events about jobs, agents, actions or runs.
    #[arg(long, value_parser = parse_wire::<EventSubject>)]
    pub subject: Option<EventSubject>,
    /// Only events about this one job, agent or action (with --subject).
    #[arg(long, value_parser = parse_id, requires = "subject")]
    pub subject_id: Option<i64>,
    /// How many events to show (1…1000), without --follow.
    #[arg(long, default_value_t = 100, conflicts_with = "follow")]
    pub limit: usize,
    /// Keep printing new events as they happen (Ctrl-C to stop).
    #[arg(long, short)]
    pub follow: bool,
}

/// The longest pause between reconnection attempts while following.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

pub async fn run(args: EventsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let mut filters: Vec<(&str, String)> = Vec::new();
    if let Some(kind) = &args.kind {
        filters.push(("kind", kind.clone()));
    }
    if let Some(subject) = args.subject {
        filters.push(("subject", subject.as_str().to_string()));
    }
    if let Some(subject_id) = args.subject_id {
        filters.push(("subject_id", subject_id.to_string()));
    }
    if args.follow {
        return follow(&client, filters, args.after, global.json).await;
    }
    let mut query = filters;
    query.push(("limit", args.limit.to_string()));
    if let Some(after) = args.after {
        query.push(("after", after.to_string()));
    }
    let reply = client.get::<EventListResponse>("/events", &query).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    let page = reply.body;
    if page.events.is_empty() {
        say!("No events{}.", if args.after.is_some() { " after that id" } else { "" });
        return Ok(());
    }
    let mut table = output::table(["ID", "TIME", "KIND", "SUBJECT", "DETAILS"]);
    for event in &page.events {
        table.add_row([
            event.id.to_string(),
            local_time(event.occurred_at),
            event.kind.clone(),
            format!("{} {}", event.subject, event.subject_id),
            truncate(&summary(&event.data), 80),
        ]);
    }
    say!("{table}");
    if let (true, Some(next)) = (page.has_more, page.next_after) {
        say!("More: steward events --after {next}");
    }
    Ok(())
}

async fn follow(
    client: &ApiClient,
    filters: Vec<(&str, String)>,
    after: Option<i64>,
    json: bool,
) -> anyhow::Result<()> {
    let mut last_seen: Option<i64> = None;
    let mut delay = Duration::from_millis(250);
    let mut connected_once = false;
    loop {
        let mut query = filters.clone();
        if let (None, Some(after)) = (last_seen, after) {
            query.push(("after", after.to_string()));
        }
        let response = match client.open_stream(&query, last_seen).await {
            Ok(response) => response,
            // The first connection's failure is the answer; later ones are
            // a server restarting, worth waiting for.
            Err(error) if !connected_once => return Err(error),
            Err(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                continue;
            }
        };
        // Progress chatter is for a person watching; a lost connection
        // (below) is worth a line on stderr wherever it goes.
        if !json && std::io::stderr().is_terminal() {
            if connected_once {
                eprintln!("Reconnected.");
            } else {
                eprintln!("Following events at {} (Ctrl-C to stop)…", client.base());
            }
        }
        connected_once = true;
        delay = Duration::from_millis(250);
        let mut events = response.bytes_stream().eventsource();
        while let Some(item) = events.next().await {
            let Ok(item) = item else { break };
            let Ok(event) = serde_json::from_str::<EventResponse>(&item.data) else { continue };
            last_seen = Some(event.id.get());
            if json {
                say!("{}", item.data);
            } else {
                say!(
                    "{}  #{:<6} {:<22} {:<12} {}",
                    local_time(event.occurred_at),
                    event.id,
                    event.kind,
                    format!("{} {}", event.subject, event.subject_id),
                    summary(&event.data)
                );
            }
        }
        if !json {
            eprintln!("The connection to Steward ended; reconnecting…");
        }
    }
}

/// A one-line description of an event's data: `queued → running, attempt 1`.
fn summary(data: &Value) -> String {
    let Value::Object(map) = data else { return data.to_string() };
    let mut parts = Vec::new();
    match (map.get("from"), map.get("to")) {
        (Some(Value::Null), Some(Value::String(to))) => parts.push(format!("→ {to}")),
        (Some(Value::String(from)), Some(Value::String(to))) => parts.push(format!("{from} → {to}")),
        _ => {}
    }
    for key in ["name", "title", "kind", "queue"] {
        if let Some(Value::String(text)) = map.get(key) {
            parts.push(format!("{key} {text:?}"));
        }
    }
    if let Some(attempt) = map.get("attempt").and_then(Value::as_u64) {
        parts.push(format!("attempt {attempt}"));
    }
    if let Some(Value::String(worker)) = map.get("worker") {
        parts.push(format!("worker {worker}"));
    }
    if let Some(Value::Array(fields)) = map.get("fields") {
        let names: Vec<&str> = fields.iter().filter_map(Value::as_str).collect();
        parts.push(format!("changed {}", names.join(", ")));
    }
    for key in ["reason", "error"] {
        if let Some(Value::String(text)) = map.get(key) {
            parts.push(format!("{key}: {text}"));
        }
    }
    if parts.is_empty() { data.to_string() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn summaries_lead_with_the_state_change() {
        let data =
            json!({"from": "queued", "to": "running", "attempt": 1, "worker": "w1", "queue": "q", "kind": "noop"});
        assert_eq!(super::summary(&data), "queued → running, kind \"noop\", queue \"q\", attempt 1, worker w1");
        assert_eq!(super::summary(&json!({"name": "Launch"})), "name \"Launch\"");
        assert_eq!(super::summary(&json!({"x": 1})), "{\"x\":1}");
    }
}
