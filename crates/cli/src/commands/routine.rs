//! `steward routine …`: routines — add one from a built-in template (or a
//! template file), edit one (`routine_edit`), list, show with its fires, run now or dry-run (the
//! context, the prompt and where it would deliver; nothing sent), replay a
//! fire from its stored inputs, remove. `templates` lists the built-ins.

use anyhow::Context;
use steward_server::api::{
    CreateRoutineRequest, ReplayRequest, RepoBody, RoutineFireListResponse, RoutineFireResponse, RoutineListResponse,
    RoutineResponse, RunRoutineRequest, RunRoutineResponse, TemplateListResponse,
};

use crate::client::ApiClient;
use crate::input::{AgentRef, parse_agent, parse_id, resolve_agent, routine_path as path};
use crate::options::GlobalOptions;
use crate::output::{self, local_time, or_dash, print_json, say, truncate};

#[derive(Debug, clap::Subcommand)]
pub enum RoutineCommand {
    /// Add a routine from a built-in template (`steward routine templates`) or a template file.
    Add(Box<AddArgs>),
    /// Change a routine: its when, agent, prompt, sources, destinations, zone, or pause it.
    Edit(Box<super::routine_edit::EditArgs>),
    /// List routines with their schedule and last fire.
    List,
    /// Show a routine, its template and its recent fires with their deliveries.
    Show { name: String },
    /// Fire a routine now; --dry-run shows the context, the prompt and where it would deliver, and sends nothing.
    Run {
        name: String,
        #[arg(long)]
        dry_run: bool,
        /// Text for the template's `input`.
        #[arg(long)]
        input: Option<String>,
    },
    /// Run a past fire again from the inputs it had; delivers only with --deliver.
    Replay {
        #[arg(value_parser = parse_id)]
        fire: i64,
        /// Deliver the output (to destinations the fire did not send to, unless --resend).
        #[arg(long)]
        deliver: bool,
        /// Send again where the fire already sent.
        #[arg(long, requires = "deliver")]
        resend: bool,
    },
    /// Remove a routine, its schedules and its fires.
    Remove {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// The built-in templates.
    Templates,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    pub name: String,
    /// A built-in template: morning-plan, midday-check, evening-summary, weekly-review, strategy, discovery,
    /// stakeholder, living-docs (with --repo).
    #[arg(long, value_name = "TEMPLATE", required_unless_present = "template_file")]
    pub template: Option<String>,
    /// A minijinja template file (replaces the built-in's text).
    #[arg(long, value_name = "PATH")]
    pub template_file: Option<std::path::PathBuf>,
    /// The agent that runs it (id or name).
    #[arg(long, value_parser = parse_agent)]
    pub agent: AgentRef,
    /// When it fires, in the scheduler's grammar (the template's by default).
    #[arg(long, value_name = "WHEN", conflicts_with = "manual")]
    pub when: Option<String>,
    /// Add no schedule (fire by hand, webhook, Slack or after another routine).
    #[arg(long)]
    pub manual: bool,
    /// The IANA zone its day is read in (UTC by default).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// An iCalendar file or http(s) feed (repeat for several).
    #[arg(long, value_name = "SOURCE")]
    pub calendar: Vec<String>,
    /// A Markdown file of priorities.
    #[arg(long, value_name = "PATH")]
    pub priorities: Option<String>,
    /// A routine whose latest output it reads (repeat; the template's by default).
    #[arg(long, value_name = "ROUTINE")]
    pub output_of: Vec<String>,
    /// Where each fire's output goes (repeat): slack:#channel, slack:@USERID, slack-webhook:URL, webhook:URL,
    /// mailto:ADDRESS, file:PATH.
    #[arg(long, value_name = "URI")]
    pub deliver: Vec<String>,
    /// Fire when this routine's run completes.
    #[arg(long, value_name = "ROUTINE")]
    pub after: Option<String>,
    /// The git repository whose commits it folds into a document (living-docs).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<std::path::PathBuf>,
    /// The document it keeps current, relative to the repository (ARCHITECTURE.md by default).
    #[arg(long, value_name = "FILE", requires = "repo")]
    pub document: Option<String>,
    /// Write the agent's text at once instead of keeping a proposal for `steward sync apply`.
    #[arg(long, requires = "repo")]
    pub apply: bool,
}

pub async fn run(command: RoutineCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    match command {
        RoutineCommand::Add(args) => add(&client, *args, global).await,
        RoutineCommand::Edit(args) => super::routine_edit::edit(&client, *args, global).await,
        RoutineCommand::List => {
            let reply = client.get::<RoutineListResponse>("/routines", &[]).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_list(&reply.body);
            }
            Ok(())
        }
        RoutineCommand::Show { name } => {
            let routine = client.get::<RoutineResponse>(&path(&name), &[]).await?;
            let fires = client.get::<RoutineFireListResponse>(&format!("{}/fires", path(&name)), &[]).await?;
            if global.json {
                print_json(&serde_json::json!({ "routine": routine.raw, "fires": fires.raw["fires"] }));
            } else {
                print_routine(&routine.body, &fires.body);
            }
            Ok(())
        }
        RoutineCommand::Run { name, dry_run, input } => {
            let request = RunRoutineRequest { dry_run, input: input.map(serde_json::Value::String) };
            let reply = client.post::<_, RunRoutineResponse>(&format!("{}/run", path(&name)), &request).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_run(&name, &reply.body);
            }
            Ok(())
        }
        RoutineCommand::Replay { fire, deliver, resend } => {
            let request = ReplayRequest { deliver, resend };
            let reply =
                client.post::<_, RoutineFireResponse>(&format!("/routine-fires/{fire}/replay"), &request).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!(
                    "Replayed fire {fire} as fire {} (run {}).",
                    reply.body.id,
                    or_dash(reply.body.run_id.map(|id| id.to_string()).as_deref())
                );
                print_deliveries(&reply.body);
            }
            Ok(())
        }
        RoutineCommand::Remove { name, yes } => {
            output::confirm(&format!("Remove routine {name}, its schedules and its fires?"), "the routine", yes)?;
            let reply = client.delete::<RoutineResponse>(&path(&name)).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!("Removed routine {}.", reply.body.name);
            }
            Ok(())
        }
        RoutineCommand::Templates => {
            let reply = client.get::<TemplateListResponse>("/routine-templates", &[]).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            let mut table = output::table(["TEMPLATE", "WHEN", "READS"]);
            for template in &reply.body.templates {
                table.add_row([template.name.clone(), or_dash(template.when.as_deref()), template.description.clone()]);
            }
            say!("{table}");
            Ok(())
        }
    }
}

async fn add(client: &ApiClient, args: AddArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let text = match &args.template_file {
        Some(file) => Some(std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?),
        None => None,
    };
    let request = CreateRoutineRequest {
        name: args.name,
        agent_id: steward_domain::AgentId(resolve_agent(client, &args.agent).await?),
        template: args.template,
        text,
        calendars: args.calendar,
        priorities: args.priorities,
        outputs: (!args.output_of.is_empty()).then_some(args.output_of),
        deliver: args.deliver,
        tz: args.tz,
        when: args.when,
        manual: args.manual,
        after: args.after,
        repo: match args.repo {
            // The server reads the repository: give it a path that does not depend on this shell's folder.
            Some(path) => Some(RepoBody {
                path: std::path::absolute(&path)
                    .with_context(|| format!("cannot resolve {}", path.display()))?
                    .display()
                    .to_string(),
                document: args.document,
                apply: args.apply,
            }),
            None => None,
        },
    };
    let reply = client.post::<_, RoutineResponse>("/routines", &request).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    let routine = &reply.body;
    let fires = match routine.schedules.first() {
        Some(when) => format!("fires {when} ({})", routine.tz),
        None => "fires when asked".to_string(),
    };
    say!("Added routine {} ({fires}). Try: steward routine run {} --dry-run", routine.name, routine.name);
    Ok(())
}

fn print_list(list: &RoutineListResponse) {
    if list.routines.is_empty() {
        say!("No routines yet. Add one: steward routine add morning --template morning-plan --agent NAME");
        return;
    }
    let mut table = output::table(["NAME", "WHEN", "ZONE", "DELIVERS TO", "LAST FIRE", "RUN"]);
    for routine in &list.routines {
        let last = routine.last_fire.as_ref();
        table.add_row([
            routine.name.clone(),
            or_dash(routine.schedules.first().map(String::as_str)),
            routine.tz.clone(),
            truncate(&routine.deliver.join(", "), 40),
            last.map_or_else(|| "—".to_string(), |fire| format!("{} ({})", local_time(fire.created_at), fire.trigger)),
            last.and_then(|fire| {
                fire.run_outcome.map(|outcome| outcome.to_string()).or(fire.run_status.map(|s| s.to_string()))
            })
            .unwrap_or_else(|| "—".to_string()),
        ]);
    }
    say!("{table}");
}

fn print_routine(routine: &RoutineResponse, fires: &RoutineFireListResponse) {
    let record = output::record(vec![
        ("Name", routine.name.clone()),
        ("Agent", routine.agent_id.to_string()),
        ("When", or_dash(routine.schedules.first().map(String::as_str))),
        ("Zone", routine.tz.clone()),
        ("Follows", or_dash(routine.after.as_deref())),
        ("Sources", routine.sources.to_string()),
        ("Delivers to", or_dash(Some(routine.deliver.join(", ")).as_deref().filter(|text| !text.is_empty()))),
    ]);
    say!("{record}\n\nTemplate:\n{}", routine.template);
    if fires.fires.is_empty() {
        say!("\nNo fires yet.");
        return;
    }
    say!("\nFires:");
    for fire in fires.fires.iter().take(10) {
        let outcome =
            fire.run_outcome.map(|outcome| outcome.to_string()).or(fire.run_status.map(|status| status.to_string()));
        say!(
            "  {} {} {} run {} {}",
            fire.id,
            local_time(fire.created_at),
            fire.trigger,
            or_dash(fire.run_id.map(|id| id.to_string()).as_deref()),
            or_dash(outcome.as_deref())
        );
        for missing in &fire.missing {
            say!("    missing {}: {}", missing.source, missing.reason);
        }
        print_deliveries(fire);
    }
}

fn print_deliveries(fire: &RoutineFireResponse) {
    for delivery in &fire.deliveries {
        say!(
            "    → {} {}{}",
            delivery.destination,
            delivery.status,
            delivery.error.as_deref().map(|error| format!(" ({})", truncate(error, 80))).unwrap_or_default()
        );
    }
}

fn print_run(name: &str, reply: &RunRoutineResponse) {
    if let Some(preview) = &reply.preview {
        say!("Dry run of {name}: nothing started, nothing sent.\n");
        say!("Context:\n{}\n", serde_json::to_string_pretty(&preview.inputs).unwrap_or_default());
        for missing in &preview.missing {
            say!("MISSING {}: {}", missing.source, missing.reason);
        }
        say!("Prompt:\n{}\n", preview.prompt);
        if preview.destinations.is_empty() {
            say!("Would deliver nowhere.");
        } else {
            say!("Would deliver to: {}", preview.destinations.join(", "));
        }
        return;
    }
    if let Some(fire) = &reply.fire {
        say!("Fired {name}: fire {}, run {}.", fire.id, or_dash(fire.run_id.map(|id| id.to_string()).as_deref()));
        for missing in &fire.missing {
            say!("  missing {}: {}", missing.source, missing.reason);
        }
        print_deliveries(fire);
    }
}
