//! `steward action …`: list, show, create and update actions, refine a
//! draft in its own chat thread, schedule it (a run of its agent then works
//! on it), list its artifacts, and move it through its lifecycle
//! (`transition`, or the shortcuts `define`, `start`, `complete`, `fail`,
//! `dismiss`).

use steward_domain::{Clock, SystemClock};
use steward_server::api::{
    ActionListResponse, ActionMode, ActionPriority, ActionResponse, ActionState, ArtifactListResponse,
    CreateActionRequest, ScheduleActionRequest, ScheduleActionResponse, TransitionActionRequest, UpdateActionRequest,
};

use crate::client::ApiClient;
use crate::commands::runs;
use crate::input::{AgentRef, parse_agent, parse_duration, parse_id, parse_time, parse_wire, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{self, confirm, local_time, optional_time, or_dash, print_json, say, truncate};
use crate::start_time::{StartAt, distance, parse_start_at, refuse_past, zoned};

#[derive(Debug, clap::Subcommand)]
pub enum ActionCommand {
    /// List actions, optionally of one agent or in some states.
    List {
        /// Only the actions of this agent (id or name).
        #[arg(long, value_parser = parse_agent)]
        agent: Option<AgentRef>,
        /// Only actions in this state (repeat, or separate with commas).
        #[arg(long, value_delimiter = ',', value_parser = parse_wire::<ActionState>)]
        state: Vec<ActionState>,
    },
    /// Show one action.
    Get {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// Create an action (a draft) for an agent.
    Create(CreateArgs),
    /// Change an action's content; leave a flag out to keep the value.
    Update(UpdateArgs),
    /// Move an action to another state.
    Transition {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// defined, scheduled, in_progress, completed, failed, dismissed or draft.
        #[arg(value_parser = parse_wire::<ActionState>)]
        to: ActionState,
        /// Why (recorded with the action).
        #[arg(long)]
        reason: Option<String>,
        /// Do not ask before dismissing.
        #[arg(long, short)]
        yes: bool,
    },
    /// draft → defined.
    Define(ShortcutArgs),
    /// Talk about a draft with its agent, which revises it when asked (one message, or a chat).
    Refine {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// Say this and print the reply; without it, chat until an empty line or end of input.
        message: Option<String>,
    },
    /// defined (or failed) → scheduled: a run of the agent works on it, now or --at a time.
    Schedule(ScheduleArgs),
    /// The files the action's runs wrote; --show PATH prints one.
    Artifacts {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// Print this artifact's content (its path as listed).
        #[arg(long, value_name = "PATH")]
        show: Option<String>,
    },
    /// scheduled → in_progress (refused while a run works on the action: the run moves it).
    Start(ShortcutArgs),
    /// in_progress → completed (refused while a run works on the action).
    Complete(ShortcutArgs),
    /// in_progress → failed (refused while a run works on the action).
    Fail(ShortcutArgs),
    /// Any open state → dismissed, for good, cancelling the run working on it (asks first).
    Dismiss {
        #[command(flatten)]
        shortcut: ShortcutArgs,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct ShortcutArgs {
    #[arg(value_parser = parse_id)]
    pub id: i64,
    /// Why (recorded with the action).
    #[arg(long)]
    pub reason: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    #[arg(value_parser = parse_id)]
    pub id: i64,
    /// Start then (2030-01-31T09:00:00Z, a local 2030-01-31 09:00, or now); default the action's
    /// scheduled-for time, else now. A past time is refused unless --allow-past.
    #[arg(long, value_parser = parse_start_at, value_name = "TIME")]
    pub at: Option<StartAt>,
    /// Accept an --at in the past (the run then starts at once).
    #[arg(long, requires = "at")]
    pub allow_past: bool,
    /// Start after this long (90s, 10m, 2h).
    #[arg(long = "in", value_parser = parse_duration, value_name = "DURATION", conflicts_with = "at")]
    pub after: Option<std::time::Duration>,
    /// What the agent is told; default the action's title and description.
    #[arg(long)]
    pub instruction: Option<String>,
    /// Follow the run step by step until it finishes; fail if it does not complete.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// What the deliverable is.
    pub title: String,
    /// The agent working on it (id or name).
    #[arg(long, value_parser = parse_agent)]
    pub agent: AgentRef,
    #[arg(long)]
    pub description: Option<String>,
    /// low, medium (default), high or urgent.
    #[arg(long, value_parser = parse_wire::<ActionPriority>)]
    pub priority: Option<ActionPriority>,
    /// interactive (default) or scheduled.
    #[arg(long, value_parser = parse_wire::<ActionMode>)]
    pub mode: Option<ActionMode>,
    /// When to run it: 2030-01-31T09:00:00Z, or a local 2030-01-31 09:00.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub scheduled_for: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[arg(value_parser = parse_id)]
    pub id: i64,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long, value_parser = parse_wire::<ActionPriority>)]
    pub priority: Option<ActionPriority>,
    #[arg(long, value_parser = parse_wire::<ActionMode>)]
    pub mode: Option<ActionMode>,
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub scheduled_for: Option<chrono::DateTime<chrono::Utc>>,
    /// Run as soon as scheduled instead of at a set time.
    #[arg(long, conflicts_with = "scheduled_for")]
    pub clear_schedule: bool,
}

pub async fn run(command: ActionCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let (id, to, reason, yes) = match command {
        ActionCommand::List { agent, state } => {
            let mut query: Vec<(&str, String)> = Vec::new();
            if let Some(agent) = agent {
                query.push(("agent_id", resolve_agent(&client, &agent).await?.to_string()));
            }
            if !state.is_empty() {
                let states: Vec<&str> = state.iter().map(|state| state.as_str()).collect();
                query.push(("state", states.join(",")));
            }
            let reply = client.get::<ActionListResponse>("/actions", &query).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_list(&reply.body.actions);
            }
            return Ok(());
        }
        ActionCommand::Get { id } => {
            let reply = client.get::<ActionResponse>(&format!("/actions/{id}"), &[]).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_action(&reply.body);
            }
            return Ok(());
        }
        ActionCommand::Create(args) => {
            let request = CreateActionRequest {
                agent_id: resolve_agent(&client, &args.agent).await?.into(),
                title: args.title,
                description: args.description.unwrap_or_default(),
                priority: args.priority,
                mode: args.mode,
                scheduled_for: args.scheduled_for,
            };
            let reply = client.post::<_, ActionResponse>("/actions", &request).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!(
                    "Created action {} (a draft). Define it with: steward action define {}",
                    reply.body.id,
                    reply.body.id
                );
                print_action(&reply.body);
            }
            return Ok(());
        }
        ActionCommand::Update(args) => {
            let request = UpdateActionRequest {
                title: args.title,
                description: args.description,
                priority: args.priority,
                mode: args.mode,
                scheduled_for: if args.clear_schedule { Some(None) } else { args.scheduled_for.map(Some) },
            };
            if request == UpdateActionRequest::default() {
                anyhow::bail!(
                    "nothing to change; give at least one of --title, --description, --priority, --mode, --scheduled-for"
                );
            }
            let reply = client.patch::<_, ActionResponse>(&format!("/actions/{}", args.id), &request).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!("Updated action {}.", args.id);
                print_action(&reply.body);
            }
            return Ok(());
        }
        ActionCommand::Refine { id, message } => {
            return crate::commands::chat::converse(&client, &format!("/actions/{id}/chat"), message, global.json)
                .await;
        }
        ActionCommand::Schedule(args) => return schedule(&client, args, global).await,
        ActionCommand::Artifacts { id, show } => return artifacts(&client, id, show, global).await,
        ActionCommand::Transition { id, to, reason, yes } => (id, to, reason, yes),
        ActionCommand::Define(args) => (args.id, ActionState::Defined, args.reason, false),
        ActionCommand::Start(args) => (args.id, ActionState::InProgress, args.reason, false),
        ActionCommand::Complete(args) => (args.id, ActionState::Completed, args.reason, false),
        ActionCommand::Fail(args) => (args.id, ActionState::Failed, args.reason, false),
        ActionCommand::Dismiss { shortcut, yes } => (shortcut.id, ActionState::Dismissed, shortcut.reason, yes),
    };
    if to == ActionState::Dismissed {
        // Looked up before asking, so a wrong id is told as such.
        let action = client.get::<ActionResponse>(&format!("/actions/{id}"), &[]).await?.body;
        let run = if matches!(action.state, ActionState::Scheduled | ActionState::InProgress) {
            " The run working on it is cancelled."
        } else {
            ""
        };
        let question = format!("Dismiss action {id} {:?}? A dismissed action is final.{run}", action.title);
        confirm(&question, &format!("dismiss action {id}"), yes)?;
    }
    let request = TransitionActionRequest { to, reason };
    let reply = client.post::<_, ActionResponse>(&format!("/actions/{id}/transition"), &request).await?;
    if global.json {
        print_json(&reply.raw);
    } else {
        say!("Action {id} {:?} is now {}.", reply.body.title, reply.body.state);
    }
    Ok(())
}

async fn schedule(client: &ApiClient, args: ScheduleArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let delay_ms = args.after.map(|after| u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
    let now = SystemClock.now();
    let at = match args.at {
        // Now, even when the action has a scheduled-for time of its own.
        Some(StartAt::Now) => Some(now),
        Some(StartAt::At(at)) => {
            refuse_past(at, now, args.allow_past).map_err(|problem| anyhow::anyhow!(problem))?;
            Some(at)
        }
        None => None,
    };
    let request = ScheduleActionRequest { at, delay_ms, instruction: args.instruction, limits: None };
    let reply = client.post::<_, ScheduleActionResponse>(&format!("/actions/{}/schedule", args.id), &request).await?;
    if global.json {
        if !args.wait {
            print_json(&reply.raw);
            return Ok(());
        }
        // As `steward run --wait --json`: the finished run.
        let trace = runs::follow(client, reply.body.run.id.get(), false).await?;
        print_json(&serde_json::to_value(&trace.run)?);
        return Ok(());
    }
    let (action, run) = (&reply.body.action, &reply.body.run);
    let starts_at = reply.body.starts_at;
    let when = match distance(starts_at, SystemClock.now()).as_str() {
        "now" => "now".to_string(),
        distance => format!("at {}, {distance}", zoned(starts_at)),
    };
    say!("Action {} {:?} is scheduled; run {} starts {when}.", action.id, action.title, run.id);
    if !args.wait {
        say!("Follow it: steward trace {} · when done: steward action artifacts {}", run.id, action.id);
        return Ok(());
    }
    let trace = runs::follow(client, run.id.get(), true).await?;
    runs::print_ending(&trace.run);
    match trace.run.outcome {
        Some(steward_server::api::RunOutcome::Completed) => {
            say!("What it wrote: steward action artifacts {}", action.id);
            Ok(())
        }
        _ => anyhow::bail!("run {} did not complete: {}", run.id, runs::describe_outcome(&trace.run)),
    }
}

async fn artifacts(client: &ApiClient, id: i64, show: Option<String>, global: &GlobalOptions) -> anyhow::Result<()> {
    let reply = client.get::<ArtifactListResponse>(&format!("/actions/{id}/artifacts"), &[]).await?;
    if let Some(path) = show {
        let Some(artifact) = reply.body.artifacts.iter().find(|artifact| artifact.path == path) else {
            let paths: Vec<&str> = reply.body.artifacts.iter().map(|artifact| artifact.path.as_str()).collect();
            anyhow::bail!("action {id} has no artifact {path:?}; it has: {}", or_dash(Some(&paths.join(", "))));
        };
        let content = client.get_bytes(&format!("/artifacts/{}/content", artifact.id)).await?;
        output::write_bytes(&content);
        return Ok(());
    }
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    if reply.body.artifacts.is_empty() {
        say!("Action {id} has no artifacts yet.");
        return Ok(());
    }
    let mut table = output::table(["PATH", "BYTES", "RUN", "UPDATED"]);
    for artifact in &reply.body.artifacts {
        table.add_row([
            artifact.path.clone(),
            artifact.bytes.to_string(),
            artifact.run_id.to_string(),
            local_time(artifact.updated_at),
        ]);
    }
    say!("{table}");
    say!("Print one: steward action artifacts {id} --show PATH");
    Ok(())
}

fn print_list(actions: &[ActionResponse]) {
    if actions.is_empty() {
        say!("No actions. Create one with: steward action create --agent AGENT TITLE");
        return;
    }
    let mut table = output::table(["ID", "AGENT", "STATE", "PRIORITY", "MODE", "TITLE", "SCHEDULED FOR", "UPDATED"]);
    for action in actions {
        table.add_row([
            action.id.to_string(),
            action.agent_id.to_string(),
            action.state.to_string(),
            action.priority.to_string(),
            action.mode.to_string(),
            truncate(&action.title, 50),
            optional_time(action.scheduled_for),
            local_time(action.updated_at),
        ]);
    }
    say!("{table}");
}

fn print_action(action: &ActionResponse) {
    let rows = vec![
        ("id", action.id.to_string()),
        ("agent", action.agent_id.to_string()),
        ("title", action.title.clone()),
        ("state", action.state.to_string()),
        ("reason", or_dash(action.state_reason.as_deref())),
        ("priority", action.priority.to_string()),
        ("mode", action.mode.to_string()),
        ("scheduled for", optional_time(action.scheduled_for)),
        ("description", or_dash(Some(&action.description))),
        ("job", action.job_id.map(|job| job.to_string()).unwrap_or_else(|| "—".to_string())),
        ("created", local_time(action.created_at)),
        ("updated", local_time(action.updated_at)),
    ];
    say!("{}", output::record(rows));
}
