//! `steward duplicates`: flags of duplicate work (open unless `--all`),
//! `scan` to flag new pairs, `merge ID --keep REF` to keep one item and
//! drop the other (an action dismissed, a task merged into the kept one),
//! `keep ID` to keep both.

use steward_server::api::{DuplicateListResponse, DuplicateResponse, MergeDuplicateRequest};

use crate::client::ApiClient;
use crate::input::parse_id;
use crate::options::GlobalOptions;
use crate::output::{self, local_time, print_json, say, truncate};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DuplicatesArgs {
    #[command(subcommand)]
    pub command: Option<DuplicatesCommand>,
    /// Show decided flags too, not only open ones.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum DuplicatesCommand {
    /// Compare open actions and pending project tasks; flag new pairs.
    Scan,
    /// Keep one item of a flag (its id) and drop the other: an action is
    /// dismissed; a task is merged into the kept one (its requirements and
    /// dependents move over).
    Merge {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// The flag's first or second ref, the one to keep.
        #[arg(long)]
        keep: String,
    },
    /// Keep both items: they only looked alike.
    Keep {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
}

pub async fn run(args: DuplicatesArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    match args.command {
        Some(DuplicatesCommand::Scan) => {
            let reply = client.post_empty::<DuplicateListResponse>("/duplicates/scan").await?;
            if global.json {
                print_json(&reply.raw);
            } else if reply.body.duplicates.is_empty() {
                say!("No new duplicates.");
            } else {
                print_list(&reply.body.duplicates);
            }
        }
        Some(DuplicatesCommand::Merge { id, keep }) => {
            let path = format!("/duplicates/{id}/merge");
            let reply = client.post::<_, DuplicateResponse>(&path, &MergeDuplicateRequest { keep }).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!("Merged: kept {}.", reply.body.kept.unwrap_or_default());
            }
        }
        Some(DuplicatesCommand::Keep { id }) => {
            let reply = client.post_empty::<DuplicateResponse>(&format!("/duplicates/{id}/keep")).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                say!("Kept both items of flag {id}.");
            }
        }
        None => {
            let query = if args.all { Vec::new() } else { vec![("status", "open".to_string())] };
            let reply = client.get::<DuplicateListResponse>("/duplicates", &query).await?;
            if global.json {
                print_json(&reply.raw);
            } else if reply.body.duplicates.is_empty() {
                say!("No duplicates flagged. Look for some with: steward duplicates scan");
            } else {
                print_list(&reply.body.duplicates);
            }
        }
    }
    Ok(())
}

fn print_list(duplicates: &[DuplicateResponse]) {
    let mut table = output::table(["ID", "KIND", "FIRST", "SECOND", "WHY", "STATUS", "FLAGGED"]);
    for duplicate in duplicates {
        table.add_row([
            duplicate.id.to_string(),
            duplicate.kind.clone(),
            format!("{} {}", duplicate.first, truncate(&duplicate.first_title, 30)),
            format!("{} {}", duplicate.second, truncate(&duplicate.second_title, 30)),
            duplicate.why.clone(),
            duplicate.status.clone(),
            local_time(duplicate.created_at),
        ]);
    }
    say!("{table}");
}
