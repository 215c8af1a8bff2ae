//! Options several commands share: the global flags (`--json`, `--server`,
//! logging) and where the home and database are. They live below both the
//! command line (`cli.rs`) and the command modules, so imports point one way.

use std::path::PathBuf;

use crate::config::LogFormat;

/// Flags every command takes. In a subcommand's help they come after its
/// own flags, under their own heading.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOptions {
    /// Log filter, e.g. `debug` or `steward=debug,sqlx=warn` (default: RUST_LOG, then the config).
    #[arg(long, global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// Log format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,

    /// URL of the Steward server [default: STEWARD_URL, then the server running on
    /// STEWARD_HOME, then `bind` in its config.toml, then http://127.0.0.1:8420].
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,

    /// Print one compact JSON document (errors too) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Like --json, indented for people.
    #[arg(long, global = true)]
    pub pretty: bool,
}

/// Options of commands that open the database themselves.
#[derive(Debug, Clone, clap::Args)]
pub struct HomeOptions {
    /// Steward's data directory (default: STEWARD_HOME, then the platform data dir).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Database URL: sqlite:///path/steward.db or postgres://… (default: STEWARD_DATABASE_URL, then $home/steward.db).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

impl GlobalOptions {
    /// The server to talk to (see `server_address.rs` for the order).
    pub fn server_url(&self) -> anyhow::Result<String> {
        crate::server_address::resolve(self.server.as_deref())
    }
}
