//! `steward migrate`: applies pending migrations and says what it did.

use crate::config::{Config, Overrides};
use crate::options::{GlobalOptions, HomeOptions};
use crate::output::say;

pub async fn run(args: HomeOptions, global: &GlobalOptions) -> anyhow::Result<()> {
    let overrides = Overrides { home: args.home, database_url: args.database, ..Overrides::default() };
    let config = Config::load(&overrides)?;
    crate::logging::init(global.log.as_deref(), "warn", global.log_format.unwrap_or(config.log_format));
    std::fs::create_dir_all(&config.home)?;
    let url = config.database()?;
    let store = steward_store::open(&url, steward_store::StoreOptions::default()).await?;
    let report = store.migrate().await?;
    store.close().await;
    if global.json {
        let applied: Vec<serde_json::Value> = report
            .applied
            .iter()
            .map(|(version, name)| serde_json::json!({ "version": version, "name": name }))
            .collect();
        crate::output::print_json(
            &serde_json::json!({ "database": url.to_string(), "applied": applied, "version": report.version }),
        );
    } else if report.applied.is_empty() {
        say!("{url} is up to date (schema version {}).", report.version);
    } else {
        for (version, name) in &report.applied {
            say!("applied {version:04} {name}");
        }
        say!("{url} is at schema version {}.", report.version);
    }
    Ok(())
}
