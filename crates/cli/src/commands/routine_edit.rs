//! `steward routine edit NAME …`: change a routine in place — its *when*
//! (or none), agent, template text, context sources, destinations (all
//! replaced with --deliver, or one by one with --add-deliver and
//! --remove-deliver), zone, and whether its schedules run. One
//! `PATCH /routines/{name}`: the server changes all of it or nothing.

use anyhow::Context;
use serde_json::{Map, Value, json};
use steward_server::api::{RoutineResponse, UpdateRoutineRequest};

use crate::client::ApiClient;
use crate::input::{AgentRef, parse_agent, resolve_agent, routine_path};
use crate::options::GlobalOptions;
use crate::output::{or_dash, print_json, say};

#[derive(Debug, clap::Args)]
pub struct EditArgs {
    pub name: String,
    /// When it fires, in the scheduler's grammar (replaces its schedule).
    #[arg(long, value_name = "WHEN", conflicts_with = "manual")]
    pub when: Option<String>,
    /// Remove its schedule: it fires by hand, webhook, Slack or after another routine.
    #[arg(long)]
    pub manual: bool,
    /// The agent that runs it (id or name).
    #[arg(long, value_parser = parse_agent)]
    pub agent: Option<AgentRef>,
    /// A minijinja template file: the new prompt template.
    #[arg(long, value_name = "PATH", alias = "template-file")]
    pub prompt_file: Option<std::path::PathBuf>,
    /// Replace every destination (repeat for several).
    #[arg(long, value_name = "URI", conflicts_with = "no_deliver")]
    pub deliver: Vec<String>,
    /// Deliver nowhere.
    #[arg(long)]
    pub no_deliver: bool,
    /// Add a destination (repeat).
    #[arg(long, value_name = "URI")]
    pub add_deliver: Vec<String>,
    /// Remove a destination, as stored or as `routine show` prints it (repeat).
    #[arg(long, value_name = "URI")]
    pub remove_deliver: Vec<String>,
    /// The IANA zone its day and schedule are read in.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Replace its calendars (repeat for several).
    #[arg(long, value_name = "SOURCE")]
    pub calendar: Vec<String>,
    /// A Markdown file of priorities.
    #[arg(long, value_name = "PATH")]
    pub priorities: Option<String>,
    /// The git repository a living-docs routine folds commits from (its document and --apply stay).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<std::path::PathBuf>,
    /// Resume its schedules.
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Pause its schedules (it can still be run by hand).
    #[arg(long)]
    pub disable: bool,
}

pub async fn edit(client: &ApiClient, args: EditArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let text = match &args.prompt_file {
        Some(file) => Some(std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?),
        None => None,
    };
    let agent_id = match &args.agent {
        Some(agent) => Some(steward_domain::AgentId(resolve_agent(client, agent).await?)),
        None => None,
    };
    let mut sources = Map::new();
    if !args.calendar.is_empty() {
        sources.insert("calendars".into(), json!(args.calendar));
    }
    if let Some(priorities) = &args.priorities {
        sources.insert("priorities".into(), json!(priorities));
    }
    if let Some(repo) = &args.repo {
        let path = std::path::absolute(repo).with_context(|| format!("cannot resolve {}", repo.display()))?;
        let mut source = match client.get::<RoutineResponse>(&routine_path(&args.name), &[]).await?.body.sources {
            Value::Object(mut sources) => sources.remove("repo").filter(|repo| repo.is_object()).unwrap_or(json!({})),
            _ => json!({}),
        };
        source["path"] = json!(path.display().to_string());
        sources.insert("repo".into(), source);
    }
    let request = UpdateRoutineRequest {
        agent_id,
        text,
        sources: (!sources.is_empty()).then_some(sources),
        deliver: if args.no_deliver { Some(Vec::new()) } else { (!args.deliver.is_empty()).then_some(args.deliver) },
        add_deliver: args.add_deliver,
        remove_deliver: args.remove_deliver,
        tz: args.tz,
        when: if args.manual { Some(None) } else { args.when.map(Some) },
        enabled: if args.enable { Some(true) } else { args.disable.then_some(false) },
    };
    if request == UpdateRoutineRequest::default() {
        anyhow::bail!(
            "nothing to change; give at least one of --when, --manual, --agent, --prompt-file, --deliver, \
             --no-deliver, --add-deliver, --remove-deliver, --tz, --calendar, --priorities, --repo, --enable, \
             --disable"
        );
    }
    let reply = client.patch::<_, RoutineResponse>(&routine_path(&args.name), &request).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    let routine = &reply.body;
    let fires = match routine.schedules.first() {
        Some(when) if routine.enabled => format!("fires {when} ({})", routine.tz),
        Some(when) => format!("paused: {when} ({})", routine.tz),
        None => "fires when asked".to_string(),
    };
    let deliver = routine.deliver.join(", ");
    say!(
        "Updated routine {} ({fires}; agent {}; delivers to {}).",
        routine.name,
        routine.agent_id,
        or_dash(Some(deliver.as_str()).filter(|text| !text.is_empty()))
    );
    if let Value::Object(sources) = &routine.sources
        && let Some(repo) = sources.get("repo").filter(|repo| !repo.is_null())
    {
        say!("Repository: {}", repo["path"].as_str().unwrap_or("?"));
    }
    Ok(())
}
