//! `steward status`: is the server up, which version and database, and what
//! the queue holds.

use steward_server::api::{HealthResponse, JobState};

use crate::client::ApiClient;
use crate::options::GlobalOptions;
use crate::output::{self, duration, print_json, say};

pub async fn run(global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.get::<HealthResponse>("/health", &[]).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    let health = reply.body;
    say!("Steward {} at {} is {}.", health.version, client.base(), health.status);
    let kinds = health.job_kinds.map(|kinds| kinds.join(", ")).unwrap_or_else(|| "any".to_string());
    say!(
        "{}",
        output::record(vec![
            ("database", health.database),
            ("up for", duration(health.uptime_seconds.saturating_mul(1000))),
            ("job kinds", kinds),
        ])
    );
    let mut table = output::table(["JOBS", "COUNT"]);
    for state in JobState::ALL {
        table.add_row([state.to_string(), health.jobs.get(*state).to_string()]);
    }
    table.add_row(["total".to_string(), health.jobs.total.to_string()]);
    say!("{table}");
    Ok(())
}
