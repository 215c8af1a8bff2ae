//! `AppState`: what every request handler shares.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use steward_domain::oversight::duplicates::DuplicateThresholds;
use steward_domain::{Clock, SystemClock};
use steward_runtime::agent::AgentRuntime;
use steward_runtime::memory::Memory;
use steward_runtime::metrics::Metrics;
use steward_runtime::routines::Routines;
use steward_runtime::usecases::DuplicateSettings;
use steward_runtime::{SharedClock, UseCaseError, UseCases};
use steward_store::Store;
use tokio_util::sync::CancellationToken;

use crate::access::AuthSettings;
use crate::error::ApiError;
use crate::guard::HostPolicy;

/// The largest request body accepted unless configured otherwise.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// How often an idle event stream sends a keep-alive comment, so proxies and
/// clients can tell a quiet stream from a dead connection.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long a request's body may take to arrive unless configured otherwise.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Cancelled when the server shuts down; long-lived responses (event
    /// streams) end then, so graceful shutdown does not wait on them.
    pub shutdown: CancellationToken,
    /// "Now" for requests that are relative to it (`delay_ms`); the store's
    /// clock in tests.
    pub clock: Arc<dyn Clock>,
    /// The job kinds this server's workers run; an enqueue of another kind
    /// is refused, since it would wait forever. `None` accepts any kind.
    pub job_kinds: Option<Arc<BTreeSet<String>>>,
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// Interval of keep-alive comments on idle event streams; also how often
    /// a stream looks for events without a wake-up, as a safety net.
    pub keep_alive: Duration,
    /// For the uptime in `/health`.
    pub started_at: Instant,
    /// The agent runtime (chats, runs); `None` in tests of the plain API.
    pub agents: Option<Arc<AgentRuntime>>,
    /// The `Host` names served (DNS rebinding); loopback names by default.
    pub hosts: HostPolicy,
    /// How long a request's body may take to arrive.
    pub body_timeout: Duration,
    /// Memory with the models `serve` configured; `None` searches on full
    /// text and the graph only (tests of the plain API).
    pub memory: Option<Arc<Memory>>,
    /// Whether credentials are required; the limits on failed attempts.
    pub auth: AuthSettings,
    /// What `/metrics` serves; shared with the worker pool and scheduler.
    pub metrics: Arc<Metrics>,
    /// Firing routines with `serve`'s calendar reader; `None` fires them
    /// without calendars (tests of the plain API).
    pub routines: Option<Arc<Routines>>,
    /// The keys inbound routine triggers are signed with.
    pub trigger_secrets: TriggerSecrets,
    /// Whether `/mcp` also serves the MCP conformance suite's fixtures
    /// (`test_*` tools, `test://` resources): only with
    /// `steward serve --mcp-conformance-fixtures`, a development flag.
    pub mcp_conformance_fixtures: bool,
    /// How alike work must be for duplicate scans (`[oversight]`).
    pub duplicate_thresholds: DuplicateThresholds,
}

/// The keys of signed inbound triggers, read from the environment by
/// `serve`; an endpoint whose key is not set refuses every request.
#[derive(Clone, Default)]
pub struct TriggerSecrets {
    /// HMAC-SHA256 key of `POST /routines/{name}/trigger`.
    pub webhook: Option<Arc<[u8]>>,
    /// Slack's signing secret, for slash commands.
    pub slack: Option<Arc<[u8]>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
            store,
            shutdown: CancellationToken::new(),
            clock: Arc::new(SystemClock),
            job_kinds: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            keep_alive: DEFAULT_KEEP_ALIVE,
            started_at: Instant::now(),
            agents: None,
            hosts: HostPolicy::default(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
            memory: None,
            auth: AuthSettings::default(),
            metrics: Arc::new(Metrics::new()),
            routines: None,
            trigger_secrets: TriggerSecrets::default(),
            mcp_conformance_fixtures: false,
            duplicate_thresholds: DuplicateThresholds::default(),
        }
    }

    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> AppState {
        self.metrics = metrics;
        self
    }

    pub fn with_auth(mut self, auth: AuthSettings) -> AppState {
        self.auth = auth;
        self
    }

    pub fn with_hosts(mut self, hosts: HostPolicy) -> AppState {
        self.hosts = hosts;
        self
    }

    pub fn with_body_timeout(mut self, body_timeout: Duration) -> AppState {
        self.body_timeout = body_timeout;
        self
    }

    pub fn with_memory(mut self, memory: Arc<Memory>) -> AppState {
        self.memory = Some(memory);
        self
    }

    /// Whether adding a memory episode runs a model on it (extraction or
    /// embeddings): only a configured memory has models.
    pub(crate) fn memory_calls_models(&self) -> bool {
        self.memory.as_ref().is_some_and(|memory| memory.has_extractor() || memory.has_embedder())
    }

    /// Memory: the configured one, or one without models on this state's
    /// store and clock.
    pub(crate) fn memory(&self) -> Arc<Memory> {
        self.memory.clone().unwrap_or_else(|| {
            Arc::new(Memory::new(self.store.clone(), SharedClock::new(self.clock.clone()), None, None))
        })
    }

    pub fn with_duplicate_thresholds(mut self, thresholds: DuplicateThresholds) -> AppState {
        self.duplicate_thresholds = thresholds;
        self
    }

    /// How duplicate scans compare work: `[oversight]`'s thresholds, and
    /// the configured memory's embedding model when it has one.
    pub fn duplicate_settings(&self) -> DuplicateSettings {
        DuplicateSettings {
            thresholds: self.duplicate_thresholds,
            embedder: self.memory.as_ref().and_then(|memory| memory.embedder()),
        }
    }

    pub fn with_routines(mut self, routines: Arc<Routines>) -> AppState {
        self.routines = Some(routines);
        self
    }

    /// Serves the MCP conformance suite's fixtures at `/mcp` too (development only).
    pub fn with_mcp_conformance_fixtures(mut self, on: bool) -> AppState {
        self.mcp_conformance_fixtures = on;
        self
    }

    pub fn with_trigger_secrets(mut self, secrets: TriggerSecrets) -> AppState {
        self.trigger_secrets = secrets;
        self
    }

    /// Routines: `serve`'s, or ones without calendars on this state's store and clock.
    pub(crate) fn routines(&self) -> Arc<Routines> {
        self.routines
            .clone()
            .unwrap_or_else(|| Arc::new(Routines::new(self.store.clone(), None, SharedClock::new(self.clock.clone()))))
    }

    pub fn with_agents(mut self, agents: Arc<AgentRuntime>) -> AppState {
        self.agents = Some(agents);
        self
    }

    /// The agent runtime, or the `no_agent_runtime` refusal for endpoints
    /// that need it.
    pub(crate) fn agent_runtime(&self) -> Result<&Arc<AgentRuntime>, ApiError> {
        self.agents.as_ref().ok_or_else(|| ApiError::from(UseCaseError::NoAgentRuntime))
    }

    /// The use cases, on this state's store, clock and agent runtime.
    /// The use cases automatic duplicate scans run with: this state's.
    pub fn duplicate_use_cases(&self) -> UseCases {
        self.use_cases()
    }

    pub(crate) fn use_cases(&self) -> UseCases {
        UseCases::new(self.store.clone(), SharedClock::new(self.clock.clone()))
            .with_agents(self.agents.clone())
            .with_duplicates(self.duplicate_settings())
    }

    pub fn with_job_kinds(mut self, kinds: impl IntoIterator<Item = String>) -> AppState {
        self.job_kinds = Some(Arc::new(kinds.into_iter().collect()));
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> AppState {
        self.clock = clock;
        self
    }

    pub fn with_max_body_bytes(mut self, max_body_bytes: usize) -> AppState {
        self.max_body_bytes = max_body_bytes;
        self
    }

    pub fn with_keep_alive(mut self, keep_alive: Duration) -> AppState {
        self.keep_alive = keep_alive;
        self
    }

    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> AppState {
        self.shutdown = shutdown;
        self
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("database", &self.store.kind())
            .field("job_kinds", &self.job_kinds)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}
