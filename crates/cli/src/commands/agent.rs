//! `steward agent …`: list, show (with cost and progress), create (directly,
//! or through the setup chat of `agent new`), update and archive agents.

use std::collections::BTreeMap;

use steward_server::api::{
    ActionListResponse, AgentListResponse, AgentMetricsResponse, AgentResponse, AgentStatus, BudgetBody,
    CreateAgentRequest, LimitsBody, UpdateAgentRequest,
};

use crate::client::ApiClient;
use crate::commands::llm_setup::format_cost;
use crate::input::{AgentRef, parse_agent, parse_wire, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{self, bullets, confirm, local_time, or_dash, print_json, say, truncate, will_ask};

#[derive(Debug, clap::Subcommand)]
pub enum AgentCommand {
    /// List agents (active and paused unless --status says otherwise).
    List {
        #[arg(long, value_parser = parse_wire::<AgentStatus>)]
        status: Option<AgentStatus>,
    },
    /// Show one agent (by id or name), with its actions counted by state.
    Get {
        #[arg(value_parser = parse_agent, value_name = "AGENT")]
        agent: AgentRef,
    },
    /// Set up an agent by chatting: its goal, success criteria and timeline are drawn out, then confirmed.
    New(crate::commands::agent_new::NewArgs),
    /// Create an agent from flags.
    Create(CreateArgs),
    /// Change an agent's fields; leave a flag out to keep the value.
    Update(UpdateArgs),
    /// Archive an agent: it stops working and can no longer change (asks first).
    Archive {
        #[arg(value_parser = parse_agent, value_name = "AGENT")]
        agent: AgentRef,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// A unique name.
    pub name: String,
    /// The North-Star goal.
    #[arg(long)]
    pub goal: String,
    /// A success criterion (repeat for several).
    #[arg(long = "criterion", value_name = "TEXT")]
    pub criteria: Vec<String>,
    /// When the goal should be reached, e.g. "by the end of Q1".
    #[arg(long)]
    pub timeline: Option<String>,
    /// The model, as provider/model (default: the configured one).
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub model: Option<String>,
    #[arg(long)]
    pub instructions: Option<String>,
    /// A tool the agent may use (repeat for several; default: the default set).
    #[arg(long = "tool", value_name = "NAME")]
    pub tools: Vec<String>,
    #[command(flatten)]
    pub limits: LimitFlags,
}

/// Limits of one run: an agent's defaults on `agent create` and `agent
/// update`, one run's own on `run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunLimitFlags {
    /// Most model calls a run may make.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u32>,
    /// Most tokens (in + out) a run may use.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u64>,
    /// Most a run may cost, in US dollars.
    #[arg(long, value_name = "USD")]
    pub max_cost: Option<f64>,
    /// Longest a run may work, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub max_wall: Option<u64>,
}

impl RunLimitFlags {
    fn given(&self) -> bool {
        self.max_steps.is_some() || self.max_tokens.is_some() || self.max_cost.is_some() || self.max_wall.is_some()
    }

    /// These flags over `current`; `None` when no limit is given.
    pub fn over(&self, current: LimitsBody) -> Option<LimitsBody> {
        self.given().then(|| LimitsBody {
            max_steps: self.max_steps.or(current.max_steps),
            max_tokens: self.max_tokens.or(current.max_tokens),
            max_cost_usd: self.max_cost.or(current.max_cost_usd),
            max_wall_secs: self.max_wall.or(current.max_wall_secs),
        })
    }
}

/// Run limits and budgets, on `agent create` and `agent update`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LimitFlags {
    #[command(flatten)]
    pub run: RunLimitFlags,
    /// Most the agent may spend per UTC day, in US dollars.
    #[arg(long, value_name = "USD")]
    pub budget_daily: Option<f64>,
    /// Most the agent may spend in total, in US dollars.
    #[arg(long, value_name = "USD")]
    pub budget_total: Option<f64>,
}

impl LimitFlags {
    fn budget_given(&self) -> bool {
        self.budget_daily.is_some() || self.budget_total.is_some()
    }

    /// These flags over `current`; `None` when no budget is given.
    fn budget(&self, current: BudgetBody) -> Option<BudgetBody> {
        self.budget_given().then(|| BudgetBody {
            daily_usd: self.budget_daily.or(current.daily_usd),
            total_usd: self.budget_total.or(current.total_usd),
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The agent's id or name.
    #[arg(value_parser = parse_agent, value_name = "AGENT")]
    pub agent: AgentRef,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub goal: Option<String>,
    /// Replaces the success criteria (repeat for several).
    #[arg(long = "criterion", value_name = "TEXT")]
    pub criteria: Vec<String>,
    /// Removes every success criterion.
    #[arg(long, conflicts_with = "criteria")]
    pub clear_criteria: bool,
    #[arg(long)]
    pub timeline: Option<String>,
    #[arg(long, conflicts_with = "timeline")]
    pub clear_timeline: bool,
    #[arg(long, value_name = "PROVIDER/MODEL")]
    pub model: Option<String>,
    /// Use the configured default model again.
    #[arg(long, conflicts_with = "model")]
    pub clear_model: bool,
    #[arg(long)]
    pub instructions: Option<String>,
    /// active or paused.
    #[arg(long, value_parser = parse_wire::<AgentStatus>)]
    pub status: Option<AgentStatus>,
    /// Replaces the tool allowlist (repeat for several).
    #[arg(long = "tool", value_name = "NAME")]
    pub tools: Vec<String>,
    /// Use the default tool set again.
    #[arg(long, conflicts_with = "tools")]
    pub default_tools: bool,
    /// Changes the given limits and budgets; the others stay.
    #[command(flatten)]
    pub limits: LimitFlags,
}

pub async fn run(command: AgentCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    match command {
        AgentCommand::List { status } => {
            let query: Vec<(&str, String)> = status.map(|status| ("status", status.to_string())).into_iter().collect();
            let reply = client.get::<AgentListResponse>("/agents", &query).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            print_list(&reply.body.agents);
        }
        AgentCommand::Get { agent } => {
            let id = resolve_agent(&client, &agent).await?;
            let reply = client.get::<AgentResponse>(&format!("/agents/{id}"), &[]).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            let actions =
                client.get::<ActionListResponse>("/actions", &[("agent_id", id.to_string())]).await?.body.actions;
            let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
            for action in &actions {
                *by_state.entry(action.state.to_string()).or_default() += 1;
            }
            let counts: Vec<String> = by_state.iter().map(|(state, count)| format!("{count} {state}")).collect();
            let summary = if actions.is_empty() {
                "none".to_string()
            } else {
                format!("{} ({})", actions.len(), counts.join(", "))
            };
            let metrics = client.get::<AgentMetricsResponse>(&format!("/agents/{id}/metrics"), &[]).await?.body;
            print_agent(&reply.body, Some(summary), Some(&metrics));
        }
        AgentCommand::New(args) => return crate::commands::agent_new::run(args, global).await,
        AgentCommand::Create(args) => {
            let request = CreateAgentRequest {
                name: args.name,
                goal: args.goal,
                success_criteria: args.criteria,
                timeline: args.timeline,
                model: args.model,
                instructions: args.instructions.unwrap_or_default(),
                tools: (!args.tools.is_empty()).then_some(args.tools),
                limits: args.limits.run.over(LimitsBody::default()),
                budget: args.limits.budget(BudgetBody::default()),
            };
            let reply = client.post::<_, AgentResponse>("/agents", &request).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            say!("Created agent {} {:?}.", reply.body.id, reply.body.name);
            print_agent(&reply.body, None, None);
        }
        AgentCommand::Update(args) => {
            let id = resolve_agent(&client, &args.agent).await?;
            let mut request = UpdateAgentRequest {
                name: args.name,
                goal: args.goal,
                success_criteria: if args.clear_criteria {
                    Some(Vec::new())
                } else {
                    (!args.criteria.is_empty()).then_some(args.criteria)
                },
                timeline: if args.clear_timeline { Some(None) } else { args.timeline.map(Some) },
                status: args.status,
                model: if args.clear_model { Some(None) } else { args.model.map(Some) },
                instructions: args.instructions,
                tools: if args.default_tools {
                    Some(None)
                } else {
                    (!args.tools.is_empty()).then_some(Some(args.tools))
                },
                limits: None,
                budget: None,
            };
            if args.limits.run.given() || args.limits.budget_given() {
                // The API replaces limits and budget whole; keep the ones not given.
                let current = client.get::<AgentResponse>(&format!("/agents/{id}"), &[]).await?.body;
                request.limits = args.limits.run.over(current.limits);
                request.budget = args.limits.budget(current.budget);
            }
            if request == UpdateAgentRequest::default() {
                anyhow::bail!(
                    "nothing to change; give at least one of --name, --goal, --criterion, --timeline, --model, \
                     --instructions, --status, --tool, --default-tools or a limit"
                );
            }
            let reply = client.patch::<_, AgentResponse>(&format!("/agents/{id}"), &request).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            say!("Updated agent {id}.");
            print_agent(&reply.body, None, None);
        }
        AgentCommand::Archive { agent, yes } => {
            let id = resolve_agent(&client, &agent).await?;
            let question = if will_ask(yes) {
                let agent = client.get::<AgentResponse>(&format!("/agents/{id}"), &[]).await?.body;
                format!("Archive agent {id} {:?}? It stops working on its goal; this cannot be undone.", agent.name)
            } else {
                String::new()
            };
            confirm(&question, &format!("archive agent {id}"), yes)?;
            let reply = client.post_empty::<AgentResponse>(&format!("/agents/{id}/archive")).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            say!("Archived agent {id} {:?}.", reply.body.name);
        }
    }
    Ok(())
}

fn print_list(agents: &[AgentResponse]) {
    if agents.is_empty() {
        say!("No agents. Create one with: steward agent create NAME --goal GOAL");
        return;
    }
    let mut table = output::table(["ID", "NAME", "STATUS", "LIVENESS", "GOAL", "CRITERIA", "MODEL", "UPDATED"]);
    for agent in agents {
        table.add_row([
            agent.id.to_string(),
            agent.name.clone(),
            agent.status.to_string(),
            or_dash(agent.liveness.as_ref().map(|liveness| liveness.state.as_str())),
            truncate(&agent.goal, 50),
            agent.success_criteria.len().to_string(),
            or_dash(agent.model.as_deref()),
            local_time(agent.updated_at),
        ]);
    }
    say!("{table}");
}

fn print_agent(agent: &AgentResponse, actions: Option<String>, metrics: Option<&AgentMetricsResponse>) {
    let mut rows = vec![
        ("id", agent.id.to_string()),
        ("name", agent.name.clone()),
        ("status", agent.status.to_string()),
        (
            "liveness",
            agent
                .liveness
                .as_ref()
                .map_or_else(|| "—".to_string(), |liveness| format!("{} ({})", liveness.state, liveness.reason)),
        ),
        ("goal", agent.goal.clone()),
        ("success criteria", bullets(&agent.success_criteria)),
        ("timeline", or_dash(agent.timeline.as_deref())),
        ("model", agent.model.clone().unwrap_or_else(|| "— (the configured default)".to_string())),
        ("instructions", or_dash(Some(&truncate(&agent.instructions, 200)))),
        ("tools", agent.tools.as_ref().map_or_else(|| "— (the default set)".to_string(), |tools| tools.join(", "))),
        ("limits", describe_limits(&agent.limits)),
        ("budget", describe_budget(&agent.budget)),
    ];
    if let Some(actions) = actions {
        rows.push(("actions", actions));
    }
    if let Some(metrics) = metrics {
        rows.extend(metric_rows(metrics));
    }
    rows.push(("created", local_time(agent.created_at)));
    rows.push(("updated", local_time(agent.updated_at)));
    say!("{}", output::record(rows));
}

/// Cost and progress rows of `agent get`.
fn metric_rows(metrics: &AgentMetricsResponse) -> Vec<(&'static str, String)> {
    let unknown =
        |calls: u64| if calls > 0 { format!(" + unknown ({calls} calls without a price)") } else { String::new() };
    let cost = |usd: f64, calls: u64| format!("{}{}", format_cost(Some(usd)), unknown(calls));
    vec![
        ("progress", format!("{} of {} actions completed", metrics.actions_completed, metrics.actions_total)),
        ("runs", metrics.runs.to_string()),
        ("cost today", cost(metrics.cost_usd_today, metrics.unknown_cost_calls_today)),
        ("cost in total", cost(metrics.cost_usd_total, metrics.unknown_cost_calls)),
    ]
}

fn describe_limits(limits: &LimitsBody) -> String {
    let mut parts = Vec::new();
    if let Some(steps) = limits.max_steps {
        parts.push(format!("{steps} steps"));
    }
    if let Some(tokens) = limits.max_tokens {
        parts.push(format!("{tokens} tokens"));
    }
    if let Some(cost) = limits.max_cost_usd {
        parts.push(format!("${cost:.2} per run"));
    }
    if let Some(wall) = limits.max_wall_secs {
        parts.push(format!("{wall} s"));
    }
    if parts.is_empty() { "— (the defaults)".to_string() } else { parts.join(" · ") }
}

fn describe_budget(budget: &BudgetBody) -> String {
    let mut parts = Vec::new();
    if let Some(daily) = budget.daily_usd {
        parts.push(format!("${daily:.2} a day"));
    }
    if let Some(total) = budget.total_usd {
        parts.push(format!("${total:.2} in total"));
    }
    if parts.is_empty() { "— (none)".to_string() } else { parts.join(" · ") }
}
