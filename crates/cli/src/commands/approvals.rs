//! `steward approvals`: tool calls waiting for a person (pending unless
//! `--all`), and `approve` / `reject` to decide one. A rejection's reason
//! reaches the model as the tool's error; the run then carries on.

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
    /// Let the tool call go ahead.
    Approve {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// Why (recorded).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Refuse the tool call; the reason is what the model is told.
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
        say!("{verb} approval {id}: {} in run {}. The run carries on.", reply.body.tool, reply.body.run_id);
    }
    Ok(())
}

fn print_list(approvals: &[ApprovalResponse], all: bool) {
    if approvals.is_empty() {
        say!("{}", if all { "No approvals." } else { "Nothing waits for approval." });
        return;
    }
    let mut table = output::table(["ID", "RUN", "AGENT", "TOOL", "ARGUMENTS", "STATUS", "REASON", "ASKED", "DECIDED"]);
    for approval in approvals {
        table.add_row([
            approval.id.to_string(),
            approval.run_id.to_string(),
            approval.agent_id.to_string(),
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
