//! `steward approvals`: tool calls and projects' phase gates waiting for a
//! person (pending unless `--all`), and `approve` / `reject` to decide one.
//! A rejection's reason reaches the model as the tool's error, and the run
//! carries on; a gate's sends the document back with it as the comment.

use steward_server::api::{ApprovalListResponse, ApprovalResponse, ApproveRequest, RejectRequest};

use crate::client::ApiClient;
use crate::input::parse_id;
use crate::options::GlobalOptions;
use crate::output::{self, local_time, optional_time, or_dash, print_json, say, truncate};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ApprovalsArgs {
    #[command(subcommand)]
    pub command: Option<ApprovalsCommand>,
    /// Show decided and withdrawn approvals too, not only pending ones.
    #[arg(long)]
    pub all: bool,
    /// Only the approvals of this run.
    #[arg(long, value_parser = parse_id, value_name = "ID")]
    pub run: Option<i64>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ApprovalsCommand {
    /// Let the tool call go ahead (or the phase gate's document through).
    Approve {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// Why (recorded).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Refuse the tool call; the reason is what the model is told (a gate's
    /// document goes back for a revision with the reason as the comment).
    Reject {
        #[arg(value_parser = parse_id)]
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

pub async fn run(args: ApprovalsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let (id, verb, reply) = match args.command {
        Some(ApprovalsCommand::Approve { id, reason }) => {
            let path = format!("/approvals/{id}/approve");
            (id, "Approved", client.post::<_, ApprovalResponse>(&path, &ApproveRequest { reason }).await?)
        }
        Some(ApprovalsCommand::Reject { id, reason }) => {
            let path = format!("/approvals/{id}/reject");
            (id, "Rejected", client.post::<_, ApprovalResponse>(&path, &RejectRequest { reason }).await?)
        }
        None => {
            let mut query = Vec::new();
            if !args.all {
                query.push(("status", "pending".to_string()));
            }
            if let Some(run) = args.run {
                query.push(("run_id", run.to_string()));
            }
            let reply = client.get::<ApprovalListResponse>("/approvals", &query).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_list(&reply.body.approvals, args.all);
            }
            return Ok(());
        }
    };
    if global.json {
        print_json(&reply.raw);
    } else {
        say!("{}", decided(&reply.body, id, verb));
    }
    Ok(())
}

/// What a decision did, in a sentence.
fn decided(approval: &ApprovalResponse, id: i64, verb: &str) -> String {
    match (approval.run_id, approval.project_id) {
        (Some(run), _) => format!("{verb} approval {id}: {} in run {run}. The run carries on.", approval.tool),
        (None, Some(project)) => {
            let phase = approval.arguments["phase"].as_str().unwrap_or("phase");
            let then = if verb == "Approved" {
                "the project moves on"
            } else {
                "it goes back for a revision with your comment"
            };
            format!("{verb} approval {id}: the {phase} document of project {project}; {then}.")
        }
        (None, None) => format!("{verb} approval {id}: {}.", approval.tool),
    }
}

/// What an approval waits for: a run, or a project's gate.
fn waiting_for(approval: &ApprovalResponse) -> String {
    match (approval.run_id, approval.project_id) {
        (Some(run), _) => format!("run {run}"),
        (None, Some(project)) => format!("project {project}"),
        (None, None) => "-".to_string(),
    }
}

fn print_list(approvals: &[ApprovalResponse], all: bool) {
    if approvals.is_empty() {
        say!("{}", if all { "No approvals." } else { "Nothing waits for approval." });
        return;
    }
    let mut table = output::table(["ID", "FOR", "AGENT", "TOOL", "ARGUMENTS", "STATUS", "REASON", "ASKED", "DECIDED"]);
    for approval in approvals {
        table.add_row([
            approval.id.to_string(),
            waiting_for(approval),
            approval.agent_id.map_or_else(|| "-".to_string(), |agent| agent.to_string()),
            approval.tool.clone(),
            truncate(&approval.arguments.to_string(), 60),
            approval.status.to_string(),
            or_dash(approval.reason.as_deref()),
            local_time(approval.created_at),
            optional_time(approval.decided_at),
        ]);
    }
    say!("{table}");
    if !all {
        say!("Decide: steward approvals approve ID · steward approvals reject ID --reason TEXT");
    }
}
