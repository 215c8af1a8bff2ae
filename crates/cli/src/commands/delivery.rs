//! `steward delivery …`: the deliveries of routines and runs, with their
//! status and the reason of a failure; retry a dead one.

use steward_server::api::{DeliveryListResponse, DeliveryResponse, DeliveryStatus};

use crate::client::ApiClient;
use crate::input::{parse_id, parse_wire};
use crate::options::GlobalOptions;
use crate::output::{self, optional_time, or_dash, print_json, say, truncate};

#[derive(Debug, clap::Subcommand)]
pub enum DeliveryCommand {
    /// List deliveries, newest first.
    List(ListArgs),
    /// Send a dead delivery again (a sent one is never sent twice).
    Retry {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only deliveries in this state: pending, sending, sent, retrying, dead;
    /// `failed` means dead.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<DeliveryStatus>,
    /// Only the deliveries of this run.
    #[arg(long, value_parser = parse_id)]
    pub run: Option<i64>,
    /// How many to show (1…500).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Only deliveries older than this id (the next page).
    #[arg(long, value_parser = parse_id)]
    pub before: Option<i64>,
}

fn parse_status(text: &str) -> Result<DeliveryStatus, String> {
    if text == "failed" {
        return Ok(DeliveryStatus::Dead);
    }
    parse_wire::<DeliveryStatus>(text)
}

pub async fn run(command: DeliveryCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    match command {
        DeliveryCommand::List(args) => {
            let mut query: Vec<(&str, String)> = vec![("limit", args.limit.to_string())];
            if let Some(status) = args.status {
                query.push(("status", status.as_str().to_string()));
            }
            if let Some(run) = args.run {
                query.push(("run_id", run.to_string()));
            }
            if let Some(before) = args.before {
                query.push(("before", before.to_string()));
            }
            let reply = client.get::<DeliveryListResponse>("/deliveries", &query).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            print_list(&reply.body);
        }
        DeliveryCommand::Retry { id } => {
            let reply = client.post_empty::<DeliveryResponse>(&format!("/deliveries/{id}/retry")).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            say!("Delivery {id} to {} is {} again; a new job sends it.", reply.body.destination, reply.body.status);
        }
    }
    Ok(())
}

fn print_list(list: &DeliveryListResponse) {
    if list.deliveries.is_empty() {
        say!("No deliveries match.");
        return;
    }
    let mut table = output::table(["ID", "STATUS", "DESTINATION", "RUN", "ATTEMPTS", "HTTP", "SENT", "REASON"]);
    for delivery in &list.deliveries {
        table.add_row([
            delivery.id.to_string(),
            delivery.status.to_string(),
            truncate(&delivery.destination, 40),
            delivery.run_id.to_string(),
            delivery.attempts.to_string(),
            delivery.http_status.map_or_else(|| "—".to_string(), |status| status.to_string()),
            optional_time(delivery.sent_at),
            or_dash(delivery.error.as_deref().map(|error| truncate(error, 60)).as_deref()),
        ]);
    }
    say!("{table}");
    if let Some(before) = list.next_before {
        say!("More: steward delivery list --before {before}");
    }
}
