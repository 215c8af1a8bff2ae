//! `steward nodes`: the `steward serve` processes sharing the database (on
//! PostgreSQL, any number; on SQLite, the one), each with its address, when
//! it started and last beat, and the jobs it runs (`GET /api/v1/nodes`,
//! administrators only).

use steward_server::api::NodeListResponse;

use crate::client::ApiClient;
use crate::options::GlobalOptions;
use crate::output::{self, print_json, say};

pub async fn run(global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.get::<NodeListResponse>("/nodes", &[]).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    let mut table = output::table(["NODE", "ADDRESS", "STATE", "STARTED", "LAST BEAT", "RUNNING"]);
    for node in &reply.body.nodes {
        table.add_row([
            node.id.clone(),
            node.address.clone(),
            node.state.clone(),
            node.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            node.heartbeat_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            node.running_jobs.to_string(),
        ]);
    }
    say!("{table}");
    Ok(())
}
