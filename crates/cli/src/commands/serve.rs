//! `steward serve`: opens and migrates the database, takes back jobs a crashed
//! process left running, starts the workers and the HTTP server, and shuts
//! down gracefully on SIGINT or SIGTERM.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use steward_llm::{EmbeddingModel, ModelRegistry};
use steward_runtime::agent::redact::Redactor;
use steward_runtime::agent::{AgentRunHandler, AgentRuntime, HomeToolsAndSkills};
use steward_runtime::deliveries::{Deliverer, DeliveryHandler};
use steward_runtime::mcp::McpServers;
use steward_runtime::memory::{ConsolidateHandler, IngestHandler, Memory};
use steward_runtime::node::NodeBeacon;
use steward_runtime::outbound::AddressPolicy;
use steward_runtime::routines::{RoutineHandler, RoutineLabels, Routines};
use steward_runtime::scheduler::PreconditionChecker;
use steward_runtime::tools::BuiltinTools;
use steward_runtime::worker::default_worker_id;
use steward_runtime::{HandlerRegistry, Scheduler, SharedClock, WorkerPool, WorkerPoolConfig};
use steward_store::{DatabaseKind, QueueSettings, Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::{Config, Overrides};
use crate::options::{GlobalOptions, HomeOptions};
use crate::server_address::AddressFile;

/// How long open HTTP connections get to finish after a shutdown signal.
const HTTP_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub home: HomeOptions,

    /// Address to listen on (default 127.0.0.1:8420; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,

    /// Jobs run at once by this process.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// Enable job kinds meant for development and tests.
    #[arg(long)]
    pub dev_handlers: bool,

    /// Also serve the MCP conformance suite's fixtures (`test_*` tools,
    /// `test://` resources and prompts) at /mcp. For running the suite only.
    #[arg(long, hide = true)]
    pub mcp_conformance_fixtures: bool,
}

pub async fn run(args: ServeArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let overrides = Overrides {
        home: args.home.home.clone(),
        bind: args.bind,
        database_url: args.home.database.clone(),
        concurrency: args.workers,
        dev_handlers: args.dev_handlers,
    };
    let config = Config::load(&overrides)?;
    crate::logging::init(global.log.as_deref(), &config.log, global.log_format.unwrap_or(config.log_format));
    create_home(&config)?;
    // Every connection is a descriptor: the soft limit (often 1024) would
    // stop the server long before `server.max_connections`.
    let open_files = crate::open_files::raise_open_files_limit();
    if !open_files.allows(config.server.max_connections as u64 + 256) {
        tracing::warn!(
            limit = %open_files.describe(),
            max_connections = config.server.max_connections,
            "the open-file limit is below server.max_connections; raise it (ulimit -n, LimitNOFILE=) or lower the cap"
        );
    }

    // One clock for the store, the agent runtime, the workers and the API.
    let clock = SharedClock::system();
    let store = open_store(&config, &clock).await?;
    let recovered = store.recover_abandoned_jobs().await?;
    if recovered > 0 {
        tracing::warn!(recovered, "took back jobs left running when the previous process stopped");
    }

    // Anything but loopback is reachable by others: it needs credentials,
    // and an administrator who holds some, before it may start.
    let auth_required = config.server.require_auth || !config.bind.ip().is_loopback();
    if auth_required && !store.has_admin_credentials().await? {
        anyhow::bail!(crate::failure::CliFailure::bad_configuration(format!(
            "Steward will not serve {} without authentication, and no administrator can log in yet. Create the \
             first one with `steward user add NAME --admin --home {}` (the dashboard password is read from \
             standard input), then `steward token create --user NAME --name cli --scope admin` for the CLI; or \
             bind to 127.0.0.1",
            config.bind,
            config.home.display()
        )));
    }

    let listener = TcpListener::bind(config.bind).await.with_context(|| {
        format!("cannot listen on {}: is another Steward running? Choose another address with --bind", config.bind)
    })?;
    let address = listener.local_addr()?;
    // Removed when `run` returns; CLI commands on this home find the server by it.
    let _address_file = AddressFile::write(&config.home, address)?;

    let mut handlers = HandlerRegistry::with_builtins();
    if config.dev_handlers {
        handlers.add_dev_handlers(config.home.join("dev-effects"));
    }
    let metrics = Arc::new(steward_runtime::metrics::Metrics::new());
    let (telemetry, export) =
        super::serve_telemetry::start(&config, &crate::vault::environment(&config.home)?, metrics.span_counters())?;
    // The guardian's settings, whether or not it looks at runs by default:
    // a project or agent may turn it on, and runs it is off for skip
    // reading its interventions.
    let guardian_settings = config
        .oversight
        .settings()
        .map_err(|error| anyhow::anyhow!("invalid [oversight] configuration: {}: {}", error.field, error.message))?;
    let agents = agent_runtime(&config, store.clone(), &clock, telemetry, &guardian_settings)?;
    handlers.register(steward_domain::run::execution::JOB_KIND, AgentRunHandler::new(agents.clone()));
    let deliverer = Deliverer::new(config.deliveries.clone(), crate::vault::environment(&config.home)?, clock.clone())
        .context("invalid [deliveries] configuration")?;
    let labels = std::sync::Arc::new(RoutineLabels { store: store.clone() });
    handlers.register(
        steward_domain::delivery::JOB_KIND,
        DeliveryHandler::new(store.clone(), std::sync::Arc::new(deliverer)).with_labels(labels),
    );
    let calendar =
        config.calendar.source(config.home.join("cache").join("calendar")).map_err(|error| anyhow::anyhow!(error))?;
    let routines =
        std::sync::Arc::new(Routines::new(store.clone(), Some(std::sync::Arc::new(calendar)), clock.clone()));
    handlers.register(steward_domain::schedule::spec::ROUTINE_JOB_KIND, RoutineHandler::new(routines.clone()));
    let memory = memory(&config, store.clone(), &agents, &clock).await;
    handlers.register(steward_runtime::memory::INGEST_JOB_KIND, IngestHandler::new(memory.clone()));
    handlers.register(steward_runtime::memory::CONSOLIDATE_JOB_KIND, ConsolidateHandler::new(memory.clone()));
    if memory.has_extractor() {
        super::serve_memory::ensure_consolidation_schedule(&config.memory.consolidation, store.as_ref()).await?;
    }
    register_living_docs(&mut handlers, &store, &agents, &clock);
    register_projects(&mut handlers, &store, &agents, &clock, &config.tools.shell);
    let job_kinds = handlers.kinds();
    let pool_settings = pool_config(&config, store.kind()).with_clock(clock.clone()).with_metrics(metrics.clone());
    let beat = steward_store::NodeBeat {
        id: pool_settings.worker_id.clone(),
        address: format!("http://{address}"),
        started_at: clock.now(),
        lease: pool_settings.lease,
    };
    let beacon = NodeBeacon::start(store.clone(), beat, pool_settings.heartbeat_interval);
    let pool = WorkerPool::start(store.clone(), handlers, pool_settings);
    // On PostgreSQL other nodes may run other kinds, but a kind no node runs
    // would wait forever; refusing kinds this node does not know is the
    // safer default until nodes advertise their kinds.
    let guardian_runtime = agents.clone();
    let duplicate_thresholds = config
        .oversight
        .duplicate_thresholds()
        .map_err(|error| anyhow::anyhow!("invalid [oversight] configuration: {}: {}", error.field, error.message))?;
    let duplicate_scan_every = config
        .oversight
        .duplicate_scan_every()
        .map_err(|error| anyhow::anyhow!("invalid [oversight] configuration: {}: {}", error.field, error.message))?;
    let state = steward_server::AppState::new(store.clone())
        .with_metrics(metrics.clone())
        .with_agents(agents)
        .with_memory(memory)
        .with_duplicate_thresholds(duplicate_thresholds)
        .with_routines(routines)
        .with_trigger_secrets(trigger_secrets())
        .with_mcp_conformance_fixtures(args.mcp_conformance_fixtures)
        .with_clock(clock.as_arc())
        .with_job_kinds(job_kinds)
        .with_max_body_bytes(config.server.max_body_bytes)
        .with_body_timeout(Duration::from_secs(config.server.body_timeout_secs))
        .with_hosts(steward_server::HostPolicy::for_bind(config.bind.ip(), config.server.allowed_hosts.clone()))
        .with_auth(steward_server::auth::AuthSettings {
            required: auth_required,
            secure_cookies: config.server.secure_cookies,
            ..steward_server::auth::AuthSettings::default()
        });
    if args.mcp_conformance_fixtures {
        tracing::warn!("serving the MCP conformance fixtures at /mcp: a development mode, not for real use");
    }
    let shutdown = state.shutdown.clone();
    let duplicate_use_cases = state.duplicate_use_cases();
    let app = steward_server::app(state);
    let scheduler = scheduler(&config, store.clone(), &clock)?.with_metrics(metrics).start(shutdown.child_token());
    // Looks at long runs until shutdown; a look in flight is dropped with it.
    // It ticks even when off in the table: a project or agent may turn it on.
    let guardian = steward_runtime::oversight::Guardian::new(store.clone(), guardian_runtime, guardian_settings);
    let _guardian = tokio::spawn(guardian.run(shutdown.child_token()));
    // Looks for duplicate work while anything changes; a quiet period costs nothing.
    let _duplicate_scans = duplicate_scan_every.map(|every| {
        let scans = steward_runtime::oversight::DuplicateScans::new(duplicate_use_cases, every);
        tokio::spawn(scans.run(shutdown.child_token()))
    });

    crate::output::say!(
        "Steward is running at http://{address}/ (API http://{address}/api/v1, database {})",
        config.database()?
    );
    tracing::info!(%address, database = %config.database()?, "listening");

    let server = steward_server::listen::serve(listener, app, config.server.connection_limits(), shutdown.clone());
    let mut server = std::pin::pin!(server);
    tokio::select! {
        () = &mut server => {},
        () = shutdown_signal() => {
            tracing::info!("shutting down: no new jobs are claimed; running jobs get {}s to finish", config.workers.shutdown_grace_secs);
            // Ends live event streams and stops accepting connections.
            shutdown.cancel();
            let (http, report) = tokio::join!(
                tokio::time::timeout(HTTP_SHUTDOWN_GRACE, &mut server),
                pool.shutdown(),
            );
            if http.is_err() {
                tracing::warn!("some HTTP connections were still open after {HTTP_SHUTDOWN_GRACE:?}; closed them");
            }
            tracing::info!(finished = report.finished, released = report.released, "workers stopped");
            let _ = scheduler.await;
            beacon.stop().await;
            if let Some(export) = export {
                export.stop().await;
            }
            store.close().await;
            return Ok(());
        }
    }
    shutdown.cancel();
    let _ = scheduler.await;
    pool.shutdown().await;
    beacon.stop().await;
    if let Some(export) = export {
        export.stop().await;
    }
    store.close().await;
    Ok(())
}

/// The schedule firing loop; URL preconditions keep the outbound address
/// policy of `tools.http.allow`.
/// The keys inbound routine triggers are signed with, from the environment.
fn trigger_secrets() -> steward_server::TriggerSecrets {
    let key = |name: &str| {
        std::env::var(name).ok().filter(|value| !value.is_empty()).map(|value| std::sync::Arc::from(value.into_bytes()))
    };
    steward_server::TriggerSecrets { webhook: key("STEWARD_TRIGGER_SECRET"), slack: key("SLACK_SIGNING_SECRET") }
}

fn scheduler(config: &Config, store: Arc<dyn Store>, clock: &SharedClock) -> anyhow::Result<Scheduler> {
    let policy = AddressPolicy::from_allowlist(&config.tools.http.allow)
        .map_err(|error| anyhow::anyhow!("tools.http.allow: {error}"))?
        .named("tools.http.allow");
    let checker = PreconditionChecker::new(store.clone(), Arc::new(policy));
    Ok(Scheduler::new(store, clock.clone(), checker))
}

fn create_home(config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.home)
        .with_context(|| format!("cannot create the Steward home {}", config.home.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The home holds the database and, later, secrets: owner only.
        let _ = std::fs::set_permissions(&config.home, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Opens and migrates the configured database.
pub async fn open_store(config: &Config, clock: &SharedClock) -> anyhow::Result<Arc<dyn Store>> {
    let url = config.database()?;
    #[allow(
        clippy::needless_update,
        reason = "backend-specific options (the PostgreSQL pool size) keep their defaults as they are added"
    )]
    let options = StoreOptions {
        clock: clock.as_arc(),
        queue: QueueSettings { retry_backoff_cap: Duration::from_secs(config.workers.retry_backoff_cap_secs) },
        ..StoreOptions::default()
    };
    let store = steward_store::open(&url, options).await.with_context(|| format!("cannot open the database {url}"))?;
    let report = store.migrate().await.with_context(|| format!("cannot migrate the database {url}"))?;
    for (version, name) in &report.applied {
        tracing::info!(version, name, "applied migration");
    }
    Ok(store)
}

/// The agent runtime: models from `[llm]` and the environment, the built-in
/// tools from `[tools]`, skills from the home, limits from `[agents]`.
/// Living documentation's job kinds: the hook's commit notice, a sync, and
/// the fold of a sync's finished run.
fn register_living_docs(
    handlers: &mut HandlerRegistry,
    store: &Arc<dyn Store>,
    agents: &Arc<AgentRuntime>,
    clock: &SharedClock,
) {
    use steward_runtime::living_docs::{self, CommitHandler};
    use steward_runtime::living_docs_jobs::{FOLD_JOB_KIND, FoldHandler, SYNC_JOB_KIND, SyncHandler};
    let usecases = steward_runtime::UseCases::new(store.clone(), clock.clone()).with_agents(Some(agents.clone()));
    handlers.register(living_docs::COMMIT_JOB_KIND, CommitHandler);
    handlers.register(SYNC_JOB_KIND, SyncHandler::new(usecases, store.clone()));
    handlers.register(FOLD_JOB_KIND, FoldHandler::new(store.clone(), clock.clone()));
}

/// Projects' job kinds: a phase's document asked of the project's agent,
/// and a task worked from its first run to done.
fn register_projects(
    handlers: &mut HandlerRegistry,
    store: &Arc<dyn Store>,
    agents: &Arc<AgentRuntime>,
    clock: &SharedClock,
    shell: &steward_runtime::tools::ShellToolConfig,
) {
    use steward_runtime::projects::{DOCUMENT_JOB_KIND, DocumentHandler, TASK_JOB_KIND, TaskHandler};
    let usecases = steward_runtime::UseCases::new(store.clone(), clock.clone()).with_agents(Some(agents.clone()));
    handlers.register(DOCUMENT_JOB_KIND, DocumentHandler::new(agents.clone()));
    handlers.register(TASK_JOB_KIND, TaskHandler::new(usecases, agents.clone()).with_shell(shell.clone()));
}

pub fn agent_runtime(
    config: &Config,
    store: Arc<dyn Store>,
    clock: &SharedClock,
    telemetry: steward_runtime::telemetry::Telemetry,
    oversight: &steward_runtime::oversight::GuardianSettings,
) -> anyhow::Result<Arc<AgentRuntime>> {
    let environment = crate::vault::environment(&config.home)?;
    let models = ModelRegistry::new(&config.llm, &|name| environment.get(name).cloned())
        .context("invalid [llm] configuration")?;
    if !models.has_usable_provider() {
        tracing::warn!(
            "no model provider is configured: agents cannot run until ANTHROPIC_API_KEY or OPENAI_API_KEY is set \
             (or a provider is added under [llm.providers])"
        );
    }
    let builtins = BuiltinTools::new(&config.tools).context("invalid [tools] configuration")?;
    let tools_and_skills = Arc::new(HomeToolsAndSkills::new(builtins, config.home.clone()));
    tools_and_skills
        .check_require_approval(&config.tools.require_approval)
        .map_err(|problem| anyhow::anyhow!("invalid [tools] configuration: {problem}"))?;
    let mcp = mcp_servers(config, &environment)?;
    Ok(Arc::new(
        AgentRuntime::new(
            store,
            Arc::new(models),
            tools_and_skills.clone(),
            tools_and_skills,
            config.agents.settings(config.home.clone()),
            Redactor::new(secret_values(config, &environment)),
        )
        .with_clock(clock.clone())
        .with_mcp(mcp)
        .with_telemetry(telemetry)
        .with_guardian_watch(oversight.watch()),
    ))
}

/// The MCP servers of `[mcp]`, none started; `secret:NAME` values come
/// from the home's secrets.
pub fn mcp_servers(config: &Config, environment: &BTreeMap<String, String>) -> anyhow::Result<Arc<McpServers>> {
    config.mcp.validate().context("invalid [mcp] configuration")?;
    let secrets: BTreeMap<String, String> = environment
        .iter()
        .filter(|(name, _)| name.starts_with(crate::vault::REFERENCE_PREFIX))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Ok(Arc::new(McpServers::new(&config.mcp, Arc::new(move |name: &str| secrets.get(name).cloned()))))
}

/// Memory with the models of `[memory]`: extraction when `extraction_model`
/// is set (`"default"` is `[llm] default_model`), embeddings when
/// `embedding_model` is (an endpoint's `provider/model`, or `local:/dir`,
/// loaded here once and shared by every search and ingestion). Extraction is
/// opt-in because it costs two model calls per episode. A model that cannot
/// be had is logged and left out (memory still stores and searches).
pub async fn memory(config: &Config, store: Arc<dyn Store>, agents: &AgentRuntime, clock: &SharedClock) -> Arc<Memory> {
    let models = agents.models();
    let extractor = config.memory.extraction_model.as_deref().and_then(|name| {
        let model = if name == "default" { models.default_chat_model() } else { models.chat_model(name) };
        model.inspect_err(|error| tracing::warn!(%error, "memory extracts no entities or facts")).ok()
    });
    if extractor.is_none() {
        tracing::info!("memory stores episodes as text only: no [memory] extraction_model");
    }
    let embedder = match &config.memory.embedding_model {
        Some(name) => embedding_model(models.clone(), name.clone()).await,
        None => {
            tracing::info!("memory has no embedding model ([memory] embedding_model): full text and the graph only");
            None
        }
    };
    Arc::new(Memory::new(store, clock.clone(), extractor, embedder))
}

/// The embedding model `name`, loaded on a blocking thread: a local model
/// reads tens of megabytes of weights.
async fn embedding_model(models: Arc<ModelRegistry>, name: String) -> Option<Arc<dyn EmbeddingModel>> {
    let loaded = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let model = models.embedding_model(&name);
        (name, model, started.elapsed())
    })
    .await;
    match loaded {
        Ok((name, Ok(model), took)) => {
            tracing::info!(model = %model.id(), configured = %name, load_ms = took.as_millis(), "memory embeds with this model");
            Some(model)
        }
        Ok((name, Err(error), _)) => {
            tracing::warn!(%error, configured = %name, "memory searches without vectors: [memory] embedding_model cannot be used");
            None
        }
        Err(error) => {
            tracing::warn!(%error, "memory searches without vectors: loading the embedding model failed");
            None
        }
    }
}

/// The values of every API key and stored secret Steward may use, so they
/// are masked wherever they would be stored.
fn secret_values(config: &Config, environment: &BTreeMap<String, String>) -> Vec<String> {
    let mut names = vec!["ANTHROPIC_API_KEY".to_string(), "OPENAI_API_KEY".to_string()];
    names.extend(config.llm.providers.values().filter_map(|provider| provider.api_key_env.clone()));
    let stored = environment.iter().filter(|(name, _)| name.starts_with(crate::vault::REFERENCE_PREFIX));
    names
        .iter()
        .filter_map(|name| environment.get(name).cloned())
        .chain(stored.map(|(_, value)| value.clone()))
        .filter(|value| !value.is_empty())
        .collect()
}

fn pool_config(config: &Config, database: DatabaseKind) -> WorkerPoolConfig {
    let mut pool =
        WorkerPoolConfig::new(default_worker_id(), config.workers.concurrency).with_lease(config.workers.lease());
    pool.claim_batch = config.workers.claim_batch;
    pool.local_queue = config
        .workers
        .local_queue
        .unwrap_or_else(|| WorkerPoolConfig::default_local_queue(database, config.workers.concurrency));
    pool.poll_interval = config.workers.poll_interval();
    pool.shutdown_grace = config.workers.shutdown_grace();
    pool.queue_limits =
        config.queues.iter().filter_map(|(name, queue)| queue.concurrency.map(|limit| (name.clone(), limit))).collect();
    pool
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_held_ahead_follow_the_database_unless_set() {
        let mut config = Config::default();
        config.workers.concurrency = 12;
        assert_eq!(pool_config(&config, DatabaseKind::Postgres).local_queue, 12, "as many as the concurrency");
        assert_eq!(pool_config(&config, DatabaseKind::Sqlite).local_queue, 512, "one process owns the database");
        config.workers.concurrency = 600;
        assert_eq!(pool_config(&config, DatabaseKind::Sqlite).local_queue, 600);
        for database in [DatabaseKind::Postgres, DatabaseKind::Sqlite] {
            config.workers.local_queue = Some(500);
            assert_eq!(pool_config(&config, database).local_queue, 500);
            config.workers.local_queue = Some(0);
            assert_eq!(pool_config(&config, database).local_queue, 0, "0 claims only for free places");
        }
    }
}
