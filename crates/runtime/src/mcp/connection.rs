//! One MCP server as Steward's client holds it: started when an agent first
//! needs it, kept alive across runs, started again when it has died — after
//! a backoff that grows with each failure in a row (1 s, 2 s, 4 s … 60 s),
//! so a broken server is not respawned at every call. Its tool list is
//! cached until the server says it changed (`notifications/tools/list_changed`).
//! Failures are values (a message naming the server), never panics: a run
//! whose server cannot start goes on without its tools. A call drives a
//! 2026-07-28 server's `input_required` rounds (answered like any request
//! for input, by the server's `elicitation` setting) to the final result.
//! An HTTP server with `auth = "oauth"` sends through its [`OAuth`] state:
//! a 401 or 403 `insufficient_scope` (at the start or on any request) runs
//! an authorization and sends the request again, at most
//! [`AUTHORIZATIONS_PER_REQUEST`] times.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationCapability, FormElicitationCapability, Implementation, JsonObject, ProtocolVersion,
    Tool as McpToolDefinition,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RequestContext, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex, OnceCell};

use super::config::McpServerConfig;
use super::elicitation::ElicitationPolicy;
use super::oauth::{AUTHORIZATIONS_PER_REQUEST, ClientSettings, NoUserAgent, OAuth, UserAgent};

/// Looks up `secret:NAME` values (and nothing else) for headers and env.
pub type SecretLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Lines of a stdio server's standard error kept to explain a failure.
const STDERR_LINES: usize = 5;
/// The longest wait before another start.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What a person sees of a server (`steward mcp list`, the dashboard).
#[derive(Clone, Debug, PartialEq)]
pub enum ServerState {
    /// No agent has needed it yet.
    NotStarted,
    /// Connected, speaking this protocol revision.
    Running { protocol: String },
    /// The last start (or the connection) failed; the next start waits.
    Failed { error: String, failures: u32 },
}

/// The client side's handler: notes tool-list changes and answers requests
/// for input by the server's `elicitation` setting.
#[derive(Clone)]
pub struct Listener {
    tools_changed: Arc<AtomicU64>,
    elicitation: ElicitationPolicy,
}

impl ClientHandler for Listener {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools_changed.fetch_add(1, Ordering::SeqCst);
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        Ok(self.elicitation.answer(&request))
    }

    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        if self.elicitation == ElicitationPolicy::Defaults {
            capabilities.elicitation = Some(
                ElicitationCapability::default()
                    .with_form(FormElicitationCapability::default().with_schema_validation(true)),
            );
        }
        ClientConfig::new(capabilities, Implementation::new("steward", env!("CARGO_PKG_VERSION")))
    }
}

type Client = RunningService<RoleClient, Listener>;

#[derive(Default)]
struct Held {
    client: Option<Arc<Client>>,
    /// The tool list and the change count it was listed at.
    tools: Option<(u64, Arc<Vec<McpToolDefinition>>)>,
    failures: u32,
    last_error: Option<String>,
    retry_at: Option<Instant>,
}

/// One configured server.
pub struct Connection {
    name: String,
    config: McpServerConfig,
    secrets: SecretLookup,
    tools_changed: Arc<AtomicU64>,
    held: Mutex<Held>,
    stderr: Arc<StdMutex<VecDeque<String>>>,
    /// `auth = "oauth"`: who approves an authorization, where tokens are
    /// kept, and the state (made at the first start).
    user_agent: Arc<dyn UserAgent>,
    token_file: Option<PathBuf>,
    oauth: OnceCell<Arc<OAuth>>,
}

impl Connection {
    pub fn new(name: String, config: McpServerConfig, secrets: SecretLookup) -> Self {
        Connection {
            user_agent: Arc::new(NoUserAgent { server: name.clone() }),
            name,
            config,
            secrets,
            tools_changed: Arc::new(AtomicU64::new(0)),
            held: Mutex::new(Held::default()),
            stderr: Arc::new(StdMutex::new(VecDeque::new())),
            token_file: None,
            oauth: OnceCell::new(),
        }
    }

    /// Authorizations (`auth = "oauth"`) go through `user_agent` (without
    /// one, they fail, saying a browser is needed).
    pub fn with_user_agent(mut self, user_agent: Arc<dyn UserAgent>) -> Self {
        self.user_agent = user_agent;
        self
    }

    /// OAuth tokens are kept in `path` (mode 0600), not only in memory.
    pub fn with_token_file(mut self, path: PathBuf) -> Self {
        self.token_file = Some(path);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn config(&self) -> &McpServerConfig {
        &self.config
    }

    pub async fn state(&self) -> ServerState {
        let held = self.held.lock().await;
        match (&held.client, &held.last_error) {
            (Some(client), _) if !client.is_closed() => ServerState::Running {
                protocol: client
                    .peer()
                    .peer_info()
                    .map_or_else(|| "unknown".into(), |info| info.protocol_version.to_string()),
            },
            (_, Some(error)) => ServerState::Failed { error: error.clone(), failures: held.failures },
            (Some(_), None) => ServerState::Failed { error: "the server stopped".into(), failures: held.failures },
            (None, None) => ServerState::NotStarted,
        }
    }

    /// The server's tools, listing them again only after a change.
    pub async fn tools(&self) -> Result<Arc<Vec<McpToolDefinition>>, String> {
        let client = self.client().await?;
        let generation = self.tools_changed.load(Ordering::SeqCst);
        if let Some((listed_at, tools)) = &self.held.lock().await.tools
            && *listed_at == generation
        {
            return Ok(tools.clone());
        }
        let mut authorizations = 0;
        let tools = loop {
            let listed = tokio::time::timeout(self.config.timeout(), client.list_all_tools()).await;
            match listed {
                Ok(Ok(tools)) => break Arc::new(tools),
                Ok(Err(error)) => {
                    if self.reauthorized(&error, &mut authorizations).await? {
                        continue;
                    }
                    return Err(self.lost(format!("listing its tools failed: {error}")).await);
                }
                Err(_) => return Err(self.lost(self.timed_out("listing its tools")).await),
            }
        };
        self.held.lock().await.tools = Some((generation, tools.clone()));
        Ok(tools)
    }

    /// Calls `tool`; an error is a message for the model.
    pub async fn call(&self, tool: &str, arguments: JsonObject) -> Result<CallToolResult, String> {
        let client = self.client().await?;
        let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        let mut authorizations = 0;
        loop {
            // The running service's `call_tool` (not the peer's) answers
            // `input_required` rounds through the listener.
            return match tokio::time::timeout(self.config.timeout(), client.call_tool(request.clone())).await {
                Ok(Ok(result)) => Ok(result),
                Ok(Err(rmcp::ServiceError::McpError(error))) => Err(format!("{}: {}", self.name, error.message)),
                Ok(Err(error)) => {
                    if self.reauthorized(&error, &mut authorizations).await? {
                        continue;
                    }
                    Err(self.lost(format!("the call failed: {error}")).await)
                }
                Err(_) => Err(self.timed_out(&format!("the call of {tool}"))),
            };
        }
    }

    /// Whether a request that failed with `error` may be sent again: the
    /// server asked for an authorization (401, or 403 insufficient_scope),
    /// fewer than [`AUTHORIZATIONS_PER_REQUEST`] were run for it, and this
    /// one succeeded.
    async fn reauthorized(&self, error: &rmcp::ServiceError, authorizations: &mut usize) -> Result<bool, String> {
        let (Some(challenge), Some(oauth)) = (error.auth_challenge(), self.oauth.get()) else {
            return Ok(false);
        };
        if *authorizations >= AUTHORIZATIONS_PER_REQUEST {
            return Ok(false);
        }
        *authorizations += 1;
        oauth.authorize(challenge).await.map_err(|problem| format!("MCP server {}: {problem}", self.name))?;
        Ok(true)
    }

    /// The server's OAuth state, made at the first use.
    async fn oauth(&self, url: &str) -> Result<Arc<OAuth>, String> {
        let state = self
            .oauth
            .get_or_try_init(|| async {
                let client_secret = match &self.config.client_secret {
                    Some(value) => Some(self.resolve("client_secret", "", value)?),
                    None => None,
                };
                let settings = ClientSettings {
                    client_id: self.config.client_id.clone(),
                    client_secret,
                    client_metadata_url: self.config.client_metadata_url.clone(),
                };
                let oauth = OAuth::new(url, settings, self.user_agent.clone(), self.token_file.clone()).await?;
                Ok::<_, String>(Arc::new(oauth))
            })
            .await?;
        Ok(state.clone())
    }

    fn timed_out(&self, what: &str) -> String {
        format!("{what} took longer than {} s (mcp.servers.{}.timeout_secs)", self.config.timeout_secs, self.name)
    }

    /// Forgets a connection that failed, so the next use starts it again.
    async fn lost(&self, error: String) -> String {
        let mut held = self.held.lock().await;
        if held.client.as_ref().is_some_and(|client| client.is_closed()) {
            held.client = None;
            held.tools = None;
            held.last_error = Some(format!("the server stopped: {error}"));
        }
        format!("MCP server {}: {error}", self.name)
    }

    /// The live connection, started now if there is none and the backoff
    /// allows.
    async fn client(&self) -> Result<Arc<Client>, String> {
        let mut held = self.held.lock().await;
        if let Some(client) = &held.client {
            if !client.is_closed() {
                return Ok(client.clone());
            }
            held.client = None;
            held.tools = None;
            held.failures += 1;
            held.last_error = Some(format!("the server stopped{}", self.stderr_tail()));
            held.retry_at = Some(Instant::now() + backoff(held.failures));
        }
        if let Some(retry_at) = held.retry_at
            && let Some(wait) = retry_at.checked_duration_since(Instant::now())
        {
            let error = held.last_error.clone().unwrap_or_default();
            return Err(format!(
                "MCP server {} is unavailable: {error}; it is tried again in {} s",
                self.name,
                wait.as_secs().max(1)
            ));
        }
        let started = tokio::time::timeout(self.config.timeout(), self.start()).await;
        let started = match started {
            Ok(result) => result,
            Err(_) => Err(self.timed_out("starting the server")),
        };
        match started {
            Ok(client) => {
                let client = Arc::new(client);
                *held = Held { client: Some(client.clone()), ..Held::default() };
                tracing::info!(server = %self.name, "MCP server connected");
                Ok(client)
            }
            Err(error) => {
                held.failures += 1;
                held.retry_at = Some(Instant::now() + backoff(held.failures));
                let error = format!("{error}{}", self.stderr_tail());
                tracing::warn!(server = %self.name, %error, failures = held.failures, "MCP server did not start");
                held.last_error = Some(error.clone());
                Err(format!("MCP server {} did not start: {error}", self.name))
            }
        }
    }

    fn lifecycle(&self) -> ClientLifecycleMode {
        match self.config.protocol.as_str() {
            "2025-11-25" => ClientLifecycleMode::Initialize,
            "2026-07-28" => ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] },
            _ => ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: Some(ProtocolVersion::V_2025_11_25),
            },
        }
    }

    async fn start(&self) -> Result<Client, String> {
        let listener =
            Listener { tools_changed: self.tools_changed.clone(), elicitation: self.config.elicitation_policy() };
        let lifecycle = self.lifecycle();
        if let Some(url) = &self.config.url {
            let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
            for (name, value) in &self.config.headers {
                let value = self.resolve("headers", name, value)?;
                let header = header_pair(name, &value)
                    .map_err(|problem| format!("mcp.servers.{}.headers.{name}: {problem}", self.name))?;
                config.custom_headers.insert(header.0, header.1);
            }
            if self.config.auth != "oauth" {
                let transport = StreamableHttpClientTransport::from_config(config);
                return listener.serve_with_lifecycle(transport, lifecycle).await.map_err(|error| error.to_string());
            }
            let oauth = self.oauth(url).await?;
            let mut authorizations = 0;
            loop {
                let transport = StreamableHttpClientTransport::with_client(oauth.http_client(), config.clone());
                let error = match listener.clone().serve_with_lifecycle(transport, lifecycle.clone()).await {
                    Ok(client) => return Ok(client),
                    Err(error) => error,
                };
                match error.auth_challenge() {
                    Some(challenge) if authorizations < AUTHORIZATIONS_PER_REQUEST => {
                        authorizations += 1;
                        oauth.authorize(challenge).await?;
                    }
                    _ => return Err(error.to_string()),
                }
            }
        }
        let program = self.config.command.clone().unwrap_or_default();
        let mut command = tokio::process::Command::new(&program);
        command.args(&self.config.args).kill_on_drop(true);
        for (name, value) in &self.config.env {
            command.env(name, self.resolve("env", name, value)?);
        }
        if let Some(cwd) = &self.config.cwd {
            command.current_dir(cwd);
        }
        let (transport, stderr) = TokioChildProcess::builder(command)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot run {program:?}: {error}"))?;
        if let Some(stderr) = stderr {
            let lines = self.stderr.clone();
            let server = self.name.clone();
            tokio::spawn(async move {
                let mut reader = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    tracing::debug!(server = %server, line = %line, "MCP server stderr");
                    if let Ok(mut lines) = lines.lock() {
                        if lines.len() == STDERR_LINES {
                            lines.pop_front();
                        }
                        lines.push_back(line);
                    }
                }
            });
        }
        match self.config.protocol.as_str() {
            "2025-11-25" => listener.serve(transport).await.map_err(|error| error.to_string()),
            _ => listener.serve_with_lifecycle(transport, lifecycle).await.map_err(|error| error.to_string()),
        }
    }

    /// A configured value, with `secret:NAME` replaced by the secret.
    fn resolve(&self, key: &str, name: &str, value: &str) -> Result<String, String> {
        if !value.starts_with("secret:") {
            return Ok(value.to_string());
        }
        let key = if name.is_empty() { key.to_string() } else { format!("{key}.{name}") };
        (self.secrets)(value).ok_or_else(|| {
            format!(
                "mcp.servers.{}.{key} names {value}, which is not set (steward secret set {})",
                self.name,
                value.trim_start_matches("secret:")
            )
        })
    }

    /// The last lines the server wrote to standard error, if any.
    fn stderr_tail(&self) -> String {
        let lines = self.stderr.lock().map(|lines| lines.iter().cloned().collect::<Vec<_>>()).unwrap_or_default();
        if lines.is_empty() { String::new() } else { format!(" (its last words: {})", lines.join(" | ")) }
    }
}

/// A header name and value as reqwest takes them.
fn header_pair(name: &str, value: &str) -> Result<(reqwest::header::HeaderName, reqwest::header::HeaderValue), String> {
    let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|error| error.to_string())?;
    let mut value = reqwest::header::HeaderValue::from_str(value).map_err(|error| error.to_string())?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// 1 s, 2 s, 4 s … capped at a minute, by failures in a row.
fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(6);
    Duration::from_secs(1 << exponent).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_minute() {
        let waits: Vec<u64> = (1..=9).map(|failures| backoff(failures).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
