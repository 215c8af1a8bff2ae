//! Steward's configuration: one struct, resolved with the precedence
//! command-line flag > environment (`STEWARD_…`) > `$STEWARD_HOME/config.toml`
//! > default. `config.example.toml` at the repository root documents every key.
//!
//! Secrets never come from the file: API keys and passwords are read from the
//! environment by the parts that need them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::failure::CliFailure;

/// The port `steward serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 8420;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where Steward keeps its database, workspaces and artifacts.
    pub home: PathBuf,
    /// Address the HTTP server binds.
    pub bind: SocketAddr,
    /// `sqlite:///path/steward.db` or `postgres://…`; empty means
    /// `$home/steward.db`.
    pub database_url: String,
    /// Log filter (`info`, `steward=debug,sqlx=warn`); `RUST_LOG` and `--log` win.
    pub log: String,
    pub log_format: LogFormat,
    pub workers: WorkersConfig,
    /// Per-queue settings, by queue name.
    pub queues: BTreeMap<String, QueueConfig>,
    pub server: ServerConfig,
    /// Enables job kinds meant for development and tests (`effect`).
    pub dev_handlers: bool,
    /// Model providers, default and fallback model, prices, retries, timeouts.
    pub llm: steward_llm::LlmConfig,
    /// Built-in tools: workspace limits, the `http.fetch` allowlist, approvals.
    pub tools: steward_runtime::tools::ToolsConfig,
    /// How agents run: default limits, context size.
    pub agents: AgentsConfig,
    /// Where deliveries go: Slack's API, SMTP, the webhook signing key's variable.
    pub deliveries: steward_runtime::deliveries::DeliveriesConfig,
    /// Where calendar feeds may be fetched from.
    pub calendar: steward_runtime::calendar::CalendarConfig,
    /// Memory's models: embeddings and extraction.
    pub memory: MemoryConfig,
    /// MCP servers whose tools agents get (`[mcp.servers.NAME]`).
    pub mcp: steward_runtime::mcp::McpConfig,
    /// OpenTelemetry export of runs' traces over OTLP/HTTP (`[telemetry]`).
    pub telemetry: steward_runtime::telemetry::TelemetryConfig,
    /// The guardian of long runs: when it looks, its model, its policy (`[oversight]`).
    pub oversight: steward_runtime::oversight::OversightConfig,
}

/// Memory's models (`[memory]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// `provider/model` of an embeddings endpoint (OpenAI protocol), or
    /// `local:/dir`, a sentence-transformers folder run on the CPU (feature
    /// `local-embeddings`); unset, memory searches full text and the graph
    /// only.
    pub embedding_model: Option<String>,
    /// The model that extracts entities and facts from episodes (two calls
    /// per episode); `"default"` is `[llm] default_model`; unset, episodes
    /// are kept and searched as text only.
    pub extraction_model: Option<String>,
    /// When recent episodes are folded into preferences and decisions (a
    /// schedule's *when*, e.g. `every 1 hour`), with an extraction model;
    /// `"off"`: never. A fold with nothing new calls no model.
    pub consolidation: String,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig { embedding_model: None, extraction_model: None, consolidation: "every 1 hour".into() }
    }
}

/// Defaults for agent runs; an agent or a run may set its own limits.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AgentsConfig {
    /// Model calls a run may make.
    pub max_steps: u32,
    /// Tokens (in + out) a run may use.
    pub max_tokens: u64,
    /// US dollars a run may cost; 0 means no limit.
    pub max_cost_usd: f64,
    /// Seconds a run may work.
    pub max_wall_secs: u64,
    /// When a run's conversation is estimated above this many tokens, its
    /// older turns are summarised (the summary is kept; nothing is dropped).
    pub context_budget_tokens: u64,
    /// Most tokens one model reply may have.
    pub max_output_tokens: u32,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        let limits = steward_runtime::agent::limits::DEFAULT_LIMITS;
        AgentsConfig {
            max_steps: limits.max_steps,
            max_tokens: limits.max_tokens,
            max_cost_usd: 0.0,
            max_wall_secs: limits.max_wall_time.as_secs(),
            context_budget_tokens: 100_000,
            max_output_tokens: 4096,
        }
    }
}

impl AgentsConfig {
    pub fn settings(&self, home: PathBuf) -> steward_runtime::agent::RuntimeSettings {
        let mut settings = steward_runtime::agent::RuntimeSettings::new(home);
        settings.default_limits = steward_runtime::agent::limits::EffectiveLimits {
            max_steps: self.max_steps,
            max_tokens: self.max_tokens,
            max_cost_usd: (self.max_cost_usd > 0.0).then_some(self.max_cost_usd),
            max_wall_time: std::time::Duration::from_secs(self.max_wall_secs),
        };
        settings.context_budget_tokens = self.context_budget_tokens;
        settings.max_output_tokens = self.max_output_tokens;
        settings
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// Most jobs taken by one claim.
    pub claim_batch: usize,
    /// Most jobs claimed ahead of free places and held in this process until
    /// one frees (a held job goes back to the queue after a tenth of the
    /// lease); 0 claims only for free places. Unset: chosen by the database
    /// (`WorkerPoolConfig::default_local_queue`). More makes each claim
    /// carry more jobs, which is what bounds a drain of short jobs
    /// (docs/benchmarks.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_queue: Option<usize>,
    /// How long a claimed job's lease lasts without a heartbeat.
    pub lease_secs: u64,
    /// How often an idle worker looks for work when no wake-up arrives.
    pub poll_interval_ms: u64,
    /// On shutdown, how long running jobs may take to finish before they are
    /// released to the queue for another worker.
    pub shutdown_grace_secs: u64,
    /// Ceiling of the automatic retry delay.
    pub retry_backoff_cap_secs: u64,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// At most this many jobs of the queue run at once, across all processes.
    pub concurrency: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Host names served besides loopback names (DNS rebinding protection);
    /// on a non-loopback bind, when set, only these.
    pub allowed_hosts: Vec<String>,
    /// Open connections in all; more are closed as they arrive.
    pub max_connections: usize,
    /// Open connections from one client address.
    pub max_connections_per_address: usize,
    /// Seconds a client has to send a request's headers; also how long an
    /// idle keep-alive connection stays open.
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body.
    pub body_timeout_secs: u64,
    /// Refuse requests without a credential even on loopback (always so on
    /// any other address).
    pub require_auth: bool,
    /// Mark session cookies `Secure` (the dashboard is reached over TLS,
    /// through a proxy that terminates it).
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            home: default_home(),
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            database_url: String::new(),
            log: "info".into(),
            log_format: LogFormat::Text,
            workers: WorkersConfig::default(),
            queues: BTreeMap::new(),
            server: ServerConfig::default(),
            dev_handlers: false,
            llm: steward_llm::LlmConfig::default(),
            tools: steward_runtime::tools::ToolsConfig::default(),
            agents: AgentsConfig::default(),
            deliveries: steward_runtime::deliveries::DeliveriesConfig::default(),
            memory: MemoryConfig::default(),
            calendar: steward_runtime::calendar::CalendarConfig::default(),
            mcp: steward_runtime::mcp::McpConfig::default(),
            telemetry: steward_runtime::telemetry::TelemetryConfig::default(),
            oversight: steward_runtime::oversight::OversightConfig::default(),
        }
    }
}

impl Default for WorkersConfig {
    fn default() -> Self {
        WorkersConfig {
            concurrency: 64,
            claim_batch: 1024,
            local_queue: None,
            lease_secs: 30,
            poll_interval_ms: 1000,
            shutdown_grace_secs: 10,
            retry_backoff_cap_secs: 3600,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        let connections = steward_server::listen::ConnectionLimits::default();
        ServerConfig {
            max_body_bytes: 2 * 1024 * 1024,
            allowed_hosts: Vec::new(),
            max_connections: connections.max_connections,
            max_connections_per_address: connections.max_per_address,
            header_timeout_secs: connections.header_timeout.as_secs(),
            body_timeout_secs: steward_server::DEFAULT_BODY_TIMEOUT.as_secs(),
            require_auth: false,
            secure_cookies: false,
        }
    }
}

impl ServerConfig {
    pub fn connection_limits(&self) -> steward_server::listen::ConnectionLimits {
        steward_server::listen::ConnectionLimits {
            max_connections: self.max_connections,
            max_per_address: self.max_connections_per_address,
            header_timeout: Duration::from_secs(self.header_timeout_secs),
        }
    }
}

impl WorkersConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// The platform data directory (`~/.local/share/steward` on Linux).
pub fn default_home() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("steward")
}

/// Values given on the command line; `None` means "not given".
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub home: Option<PathBuf>,
    pub bind: Option<SocketAddr>,
    pub database_url: Option<String>,
    pub concurrency: Option<usize>,
    pub dev_handlers: bool,
}

/// Top-level keys that are tables.
const TABLE_KEYS: &[&str] = &["workers", "queues", "server", "tools", "agents", "memory", "telemetry", "oversight"];

/// Top-level keys; environment variables `STEWARD_<KEY>` (nested with `__`,
/// e.g. `STEWARD_WORKERS__CONCURRENCY`) only count for these, so unrelated
/// variables such as `STEWARD_TEST_DATABASE_URL` are ignored.
const KEYS: &[&str] = &[
    "home",
    "bind",
    "database_url",
    "log",
    "log_format",
    "workers",
    "queues",
    "server",
    "dev_handlers",
    "llm",
    "tools",
    "agents",
    "memory",
    "telemetry",
    "oversight",
];

/// Keys whose environment variable holds a comma-separated list:
/// `STEWARD_TOOLS__HTTP__ALLOW=127.0.0.1,10.0.0.0/8`.
const LIST_KEYS: &[&str] = &["tools.http.allow", "tools.require_approval", "server.allowed_hosts"];

impl Config {
    /// Resolves the configuration from the process environment and files.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Config> {
        Self::load_from(overrides, std::env::vars())
    }

    /// Like [`Config::load`] with the environment given, for tests.
    pub fn load_from(
        overrides: &Overrides,
        environment: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let environment: BTreeMap<String, String> = environment
            .filter_map(|(name, value)| {
                let key = name.strip_prefix("STEWARD_")?.to_ascii_lowercase();
                let top = key.split("__").next().unwrap_or_default();
                // A table is only set field by field (`STEWARD_SERVER__MAX_BODY_BYTES`);
                // a bare `STEWARD_SERVER` is the CLI's server URL, not this table.
                let bare_table = key == top && TABLE_KEYS.contains(&top);
                (KEYS.contains(&top) && !bare_table).then_some((key, value))
            })
            .collect();
        // The home decides where the file is, so it is resolved first.
        let home = match (&overrides.home, environment.get("home")) {
            (Some(home), _) => home.clone(),
            (None, Some(home)) => PathBuf::from(home),
            (None, None) => default_home(),
        };
        let file = home.join("config.toml");

        let defaults = config::Config::try_from(&Config::default()).context("default configuration")?;
        let mut builder = config::Config::builder().add_source(defaults);
        if file.exists() {
            crate::config_file::check_file::<Config>(&file)?;
            builder = builder.add_source(config::File::from(file.as_path()).format(config::FileFormat::Toml));
        }
        let mut environment_source = config::Environment::default()
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .source(Some(environment.into_iter().collect()));
        for key in LIST_KEYS {
            environment_source = environment_source.with_list_parse_key(key);
        }
        builder = builder.add_source(environment_source);
        builder = builder.set_override("home", home.to_string_lossy().to_string())?;
        if let Some(bind) = overrides.bind {
            builder = builder.set_override("bind", bind.to_string())?;
        }
        if let Some(url) = &overrides.database_url {
            builder = builder.set_override("database_url", url.clone())?;
        }
        if let Some(concurrency) = overrides.concurrency {
            builder = builder.set_override("workers.concurrency", concurrency as u64)?;
        }
        if overrides.dev_handlers {
            builder = builder.set_override("dev_handlers", true)?;
        }
        let config: Config = builder
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|error| CliFailure::bad_configuration(format!("invalid configuration: {error}")))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.workers.concurrency == 0 {
            return Err(invalid_config("workers.concurrency", "workers.concurrency must be at least 1"));
        }
        if self.workers.claim_batch == 0 {
            return Err(invalid_config("workers.claim_batch", "workers.claim_batch must be at least 1"));
        }
        if self.workers.lease_secs < 2 {
            return Err(invalid_config("workers.lease_secs", "workers.lease_secs must be at least 2"));
        }
        if self.workers.poll_interval_ms == 0 {
            return Err(invalid_config("workers.poll_interval_ms", "workers.poll_interval_ms must be at least 1"));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid_config("server.max_body_bytes", "server.max_body_bytes must be at least 1024"));
        }
        for (key, value) in [
            ("server.max_connections", self.server.max_connections as u64),
            ("server.max_connections_per_address", self.server.max_connections_per_address as u64),
            ("server.header_timeout_secs", self.server.header_timeout_secs),
            ("server.body_timeout_secs", self.server.body_timeout_secs),
        ] {
            if value == 0 {
                return Err(invalid_config(key, format!("{key} must be at least 1")));
            }
        }
        self.tools.validate().map_err(|error| invalid_config("tools", error))?;
        self.telemetry.validate().map_err(|error| invalid_config("telemetry", error))?;
        if self.agents.max_steps == 0 || self.agents.max_tokens == 0 || self.agents.max_wall_secs == 0 {
            return Err(invalid_config(
                "agents.max_steps",
                "agents.max_steps, agents.max_tokens and agents.max_wall_secs must be at least 1",
            ));
        }
        if self.agents.max_output_tokens == 0 || self.agents.context_budget_tokens < 1000 {
            return Err(invalid_config(
                "agents.max_output_tokens",
                "agents.max_output_tokens must be at least 1 and agents.context_budget_tokens at least 1000",
            ));
        }
        for (name, queue) in &self.queues {
            if queue.concurrency == Some(0) {
                return Err(invalid_config(
                    format!("queues.{name}.concurrency"),
                    format!("queues.{name}.concurrency must be at least 1 (remove it for no limit)"),
                ));
            }
        }
        Ok(())
    }

    /// The database to use: the configured URL, or the SQLite file in the home.
    pub fn database(&self) -> anyhow::Result<steward_store::DatabaseUrl> {
        if self.database_url.trim().is_empty() {
            return Ok(steward_store::DatabaseUrl::Sqlite(self.home.join("steward.db")));
        }
        steward_store::DatabaseUrl::parse(&self.database_url)
            .map_err(|error| invalid_config("database_url", format!("database_url: {error}")))
    }
}

/// A configuration value that cannot be used, whatever source it came from.
fn invalid_config(key: impl Into<String>, message: impl std::fmt::Display) -> anyhow::Error {
    CliFailure::invalid_config(key, format!("invalid configuration: {message}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn defaults_bind_loopback_on_the_fixed_port() {
        let home = tempfile::tempdir().unwrap();
        let overrides = Overrides { home: Some(home.path().into()), ..Overrides::default() };
        let config = Config::load_from(&overrides, environment(&[])).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8420");
        assert_eq!(config.database().unwrap(), steward_store::DatabaseUrl::Sqlite(home.path().join("steward.db")));
    }

    #[test]
    fn flag_beats_environment_beats_file() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            "bind = \"127.0.0.1:9001\"\nlog = \"debug\"\n[workers]\nconcurrency = 3\n[queues.mail]\nconcurrency = 2\n",
        )
        .unwrap();
        let env = [
            ("STEWARD_BIND", "127.0.0.1:9002"),
            ("STEWARD_WORKERS__CONCURRENCY", "5"),
            ("STEWARD_TEST_DATABASE_URL", "x"),
        ];
        let overrides = Overrides { home: Some(home.path().into()), ..Overrides::default() };
        let config = Config::load_from(&overrides, environment(&env)).unwrap();
        assert_eq!(config.bind.port(), 9002, "environment beats file");
        assert_eq!(config.workers.concurrency, 5);
        assert_eq!(config.log, "debug", "file beats default");
        assert_eq!(config.queues["mail"].concurrency, Some(2));

        let overrides = Overrides {
            home: Some(home.path().into()),
            bind: Some("127.0.0.1:9003".parse().unwrap()),
            ..Overrides::default()
        };
        let config = Config::load_from(&overrides, environment(&env)).unwrap();
        assert_eq!(config.bind.port(), 9003, "flag beats environment");
    }

    #[test]
    fn a_typo_in_the_file_is_named() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("config.toml"), "[workers]\nconcurency = 3\n").unwrap();
        let overrides = Overrides { home: Some(home.path().into()), ..Overrides::default() };
        let error = Config::load_from(&overrides, environment(&[])).unwrap_err().to_string();
        assert!(error.contains("config.toml") && error.contains("concurency"), "{error}");
    }

    #[test]
    fn bad_values_are_explained() {
        let home = tempfile::tempdir().unwrap();
        let overrides = Overrides { home: Some(home.path().into()), ..Overrides::default() };
        let error = Config::load_from(&overrides, environment(&[("STEWARD_WORKERS__CONCURRENCY", "0")])).unwrap_err();
        assert!(error.to_string().contains("workers.concurrency"), "{error}");
        let error = Config::load_from(&overrides, environment(&[("STEWARD_BIND", "nowhere")])).unwrap_err();
        assert!(error.to_string().contains("bind"), "{error}");
        let error =
            Config::load_from(&overrides, environment(&[("STEWARD_SERVER__MAX_BODY_BYTES", "10")])).unwrap_err();
        assert!(error.to_string().contains("server.max_body_bytes"), "{error}");
    }

    #[test]
    fn the_cli_server_url_variable_is_not_the_server_table() {
        let home = tempfile::tempdir().unwrap();
        let overrides = Overrides { home: Some(home.path().into()), ..Overrides::default() };
        let env = [("STEWARD_SERVER", "http://127.0.0.1:8420"), ("STEWARD_SERVER__MAX_BODY_BYTES", "4096")];
        let config = Config::load_from(&overrides, environment(&env)).unwrap();
        assert_eq!(config.server.max_body_bytes, 4096);
    }

    #[test]
    fn the_llm_table_reads_providers_and_prices_with_dotted_model_names() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            "[llm]\ndefault_model = \"ollama/llama3.2\"\n\
             [llm.providers.ollama]\nprotocol = \"openai\"\nbase_url = \"http://localhost:11434/v1\"\nmodels = [\"llama3.2\", \"Qwen3\"]\n\
             [llm.prices.\"openai/gpt-4.1-mini\"]\ninput = 0.40\noutput = 1.60\n",
        )
        .unwrap();
        let overrides = Overrides { home: Some(home.path().into()), ..Overrides::default() };
        let config = Config::load_from(&overrides, environment(&[("STEWARD_LLM__RETRY__MAX_RETRIES", "7")])).unwrap();
        assert_eq!(config.llm.default_model.as_deref(), Some("ollama/llama3.2"));
        assert_eq!(config.llm.providers["ollama"].models, ["llama3.2", "Qwen3"]);
        assert_eq!(config.llm.prices["openai/gpt-4.1-mini"].output, 1.60);
        assert_eq!(config.llm.retry.max_retries, 7);
    }

    #[test]
    fn the_tools_table_reads_lists_from_the_file_and_the_environment() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            "[tools]\nrequire_approval = [\"http.fetch\"]\n[tools.http]\nallow = [\"10.0.0.0/8\"]\ntimeout_secs = 5\n",
        )
        .unwrap();
        let overrides = Overrides { home: Some(home.path().into()), ..Overrides::default() };
        let config = Config::load_from(&overrides, environment(&[])).unwrap();
        assert_eq!(config.tools.require_approval, ["http.fetch"]);
        assert_eq!(config.tools.http.allow, ["10.0.0.0/8"]);
        assert_eq!(config.tools.http.timeout_secs, 5);

        let env = [("STEWARD_TOOLS__HTTP__ALLOW", "127.0.0.1,internal.example")];
        let config = Config::load_from(&overrides, environment(&env)).unwrap();
        assert_eq!(config.tools.http.allow, ["127.0.0.1", "internal.example"]);

        let env = [("STEWARD_TOOLS__HTTP__ALLOW", "10.0.0.0/99")];
        let error = Config::load_from(&overrides, environment(&env)).unwrap_err().to_string();
        assert!(error.contains("tools.http.allow") && error.contains("10.0.0.0/99"), "{error}");
    }

    #[test]
    fn the_example_file_is_valid_and_complete() {
        let example = include_str!("../../../config.example.toml");
        let parsed: Config = toml::from_str(example).unwrap();
        let expected = Config { home: parsed.home.clone(), queues: parsed.queues.clone(), ..Config::default() };
        assert_eq!(parsed, expected, "config.example.toml shows the defaults");
    }
}
