//! One MCP server as Steward's client holds it: started when an agent first
//! needs it, kept alive across runs, started again when it has died — after
//! a backoff that grows with each failure in a row (1 s, 2 s, 4 s … 60 s),
//! so a broken server is not respawned at every call. Its tool list is
//! cached until the server says it changed (`notifications/tools/list_changed`).
//! Failures are values (a message naming the server), never panics: a run
//! whose server cannot start goes on without its tools. A call drives a
//! 2026-07-28 server's `input_required` rounds (answered like any request
//! for input, by the server's `elicitation` setting) to the final result.

use std::collections::VecDeque;
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
use tokio::sync::Mutex;

use super::config::McpServerConfig;
use super::elicitation::ElicitationPolicy;

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
}

impl Connection {
    pub fn new(name: String, config: McpServerConfig, secrets: SecretLookup) -> Self {
        Connection {
            name,
            config,
            secrets,
            tools_changed: Arc::new(AtomicU64::new(0)),
            held: Mutex::new(Held::default()),
            stderr: Arc::new(StdMutex::new(VecDeque::new())),
        }
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
        let listed = tokio::time::timeout(self.config.timeout(), client.list_all_tools()).await;
        let tools = match listed {
            Ok(Ok(tools)) => Arc::new(tools),
            Ok(Err(error)) => return Err(self.lost(format!("listing its tools failed: {error}")).await),
            Err(_) => return Err(self.lost(self.timed_out("listing its tools")).await),
        };
        self.held.lock().await.tools = Some((generation, tools.clone()));
        Ok(tools)
    }

    /// Calls `tool`; an error is a message for the model.
    pub async fn call(&self, tool: &str, arguments: JsonObject) -> Result<CallToolResult, String> {
        let client = self.client().await?;
        let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        // The running service's `call_tool` (not the peer's) answers
        // `input_required` rounds through the listener.
        match tokio::time::timeout(self.config.timeout(), client.call_tool(request)).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(rmcp::ServiceError::McpError(error))) => Err(format!("{}: {}", self.name, error.message)),
            Ok(Err(error)) => Err(self.lost(format!("the call failed: {error}")).await),
            Err(_) => Err(self.timed_out(&format!("the call of {tool}"))),
        }
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
            let transport = StreamableHttpClientTransport::from_config(config);
            return listener.serve_with_lifecycle(transport, lifecycle).await.map_err(|error| error.to_string());
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
        (self.secrets)(value).ok_or_else(|| {
            format!(
                "mcp.servers.{}.{key}.{name} names {value}, which is not set (steward secret set {})",
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
