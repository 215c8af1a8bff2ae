//! `steward action …`: list, show, create and update actions, and move them
//! through their lifecycle (`transition`, or the shortcuts `define`,
//! `schedule`, `start`, `complete`, `fail`, `dismiss`).

use steward_server::api::{
    ActionListResponse, ActionMode, ActionPriority, ActionResponse, ActionState, CreateActionRequest,
    TransitionActionRequest, UpdateActionRequest,
};

use crate::cli::GlobalOptions;
use crate::client::ApiClient;
use crate::input::{AgentRef, parse_agent, parse_id, parse_time, resolve_agent};
use crate::output::{self, confirm, local_time, optional_time, or_dash, print_json, say, truncate, will_ask};

#[derive(Debug, clap::Subcommand)]
pub enum ActionCommand {
    /// List actions, optionally of one agent or in some states.
    List {
        /// Only the actions of this agent (id or name).
        #[arg(long, value_parser = parse_agent)]
        agent: Option<AgentRef>,
        /// Only actions in this state (repeat, or separate with commas).
        #[arg(long, value_delimiter = ',', value_parser = parse_state)]
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
        #[arg(value_parser = parse_state)]
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
    /// defined (or failed) → scheduled.
    Schedule(ShortcutArgs),
    /// scheduled → in_progress.
    Start(ShortcutArgs),
    /// in_progress → completed.
    Complete(ShortcutArgs),
    /// in_progress → failed.
    Fail(ShortcutArgs),
    /// Any open state → dismissed, for good (asks first).
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
pub struct CreateArgs {
    /// What the deliverable is.
    pub title: String,
    /// The agent working on it (id or name).
    #[arg(long, value_parser = parse_agent)]
    pub agent: AgentRef,
    #[arg(long)]
    pub description: Option<String>,
    /// low, medium (default), high or urgent.
    #[arg(long, value_parser = parse_priority)]
    pub priority: Option<ActionPriority>,
    /// interactive (default) or scheduled.
    #[arg(long, value_parser = parse_mode)]
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
    #[arg(long, value_parser = parse_priority)]
    pub priority: Option<ActionPriority>,
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<ActionMode>,
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub scheduled_for: Option<chrono::DateTime<chrono::Utc>>,
    /// Run as soon as scheduled instead of at a set time.
    #[arg(long, conflicts_with = "scheduled_for")]
    pub clear_schedule: bool,
}

fn parse_state(text: &str) -> Result<ActionState, String> {
    text.parse::<ActionState>().map_err(|error| error.message)
}

fn parse_priority(text: &str) -> Result<ActionPriority, String> {
    text.parse::<ActionPriority>().map_err(|error| error.message)
}

fn parse_mode(text: &str) -> Result<ActionMode, String> {
    text.parse::<ActionMode>().map_err(|error| error.message)
}

pub async fn run(command: ActionCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server)?;
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
        ActionCommand::Transition { id, to, reason, yes } => (id, to, reason, yes),
        ActionCommand::Define(args) => (args.id, ActionState::Defined, args.reason, false),
        ActionCommand::Schedule(args) => (args.id, ActionState::Scheduled, args.reason, false),
        ActionCommand::Start(args) => (args.id, ActionState::InProgress, args.reason, false),
        ActionCommand::Complete(args) => (args.id, ActionState::Completed, args.reason, false),
        ActionCommand::Fail(args) => (args.id, ActionState::Failed, args.reason, false),
        ActionCommand::Dismiss { shortcut, yes } => (shortcut.id, ActionState::Dismissed, shortcut.reason, yes),
    };
    if to == ActionState::Dismissed {
        let question = if will_ask(yes) {
            let action = client.get::<ActionResponse>(&format!("/actions/{id}"), &[]).await?.body;
            format!("Dismiss action {id} {:?}? A dismissed action is final.", action.title)
        } else {
            String::new()
        };
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
