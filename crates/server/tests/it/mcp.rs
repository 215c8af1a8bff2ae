//! The MCP server at `/mcp`, driven by the official Rust SDK's client over
//! a real socket, in both protocol eras: tools (a run's final answer with
//! progress, a chat reply, actions, approvals), resources and their
//! templates, prompts, bad input, and the API's authentication and Origin
//! check in front of it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, GetPromptRequestParams, Implementation,
    ProgressNotificationParam, ProtocolVersion, ReadResourceRequestParams, ResourceContents,
    ResourceUpdatedNotificationParam, SubscribeRequestParams,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient};
use serde_json::{Value, json};
use steward_domain::run::execution::JOB_KIND;
use steward_fake_llm::Reply;
use steward_runtime::agent::AgentRunHandler;
use steward_runtime::tools::ToolsConfig;
use steward_runtime::{HandlerRegistry, WorkerPool, WorkerPoolConfig};
use steward_server::AppState;
use steward_store::Store;
use steward_test_support::TestDatabase;
use tokio_util::sync::CancellationToken;

use crate::agent_support::Agents;
use crate::support::serve;

/// A server as `steward serve` runs it, with workers, on a real clock.
struct McpServer {
    url: String,
    store: Arc<dyn Store>,
    agents: Agents,
    _pool: WorkerPool,
    shutdown: CancellationToken,
    _database: TestDatabase,
}

impl McpServer {
    async fn start(configure: impl FnOnce(AppState) -> AppState) -> McpServer {
        let database = TestDatabase::sqlite();
        let store = database.open(steward_store::StoreOptions::default()).await;
        let agents = Agents::start(store.clone(), &ToolsConfig::default()).await;
        let mut handlers = HandlerRegistry::with_builtins();
        handlers.register(JOB_KIND, AgentRunHandler::new(agents.runtime.clone()));
        let kinds = handlers.kinds();
        let mut pool_config = WorkerPoolConfig::new("mcp-worker", 2);
        pool_config.poll_interval = Duration::from_millis(100);
        let pool = WorkerPool::start(store.clone(), handlers, pool_config);
        let state = configure(AppState::new(store.clone()).with_agents(agents.runtime.clone()).with_job_kinds(kinds));
        let shutdown = state.shutdown.clone();
        let (url, _task) = serve(state).await;
        McpServer { url, store, agents, _pool: pool, shutdown, _database: database }
    }

    fn endpoint(&self) -> String {
        format!("{}/mcp", self.url)
    }

    async fn agent(&self, name: &str) -> i64 {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/agents", self.url))
            .json(&json!({"name": name, "goal": "Answer questions"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    async fn connect(&self, lifecycle: ClientLifecycleMode) -> RunningService<RoleClient, Progress> {
        let transport =
            StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(self.endpoint()));
        Progress::default().serve_with_lifecycle(transport, lifecycle).await.unwrap()
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A client that keeps the progress and resource-updated notifications it hears.
#[derive(Clone, Default)]
struct Progress {
    heard: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    updated: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Progress {
    async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
        self.heard.lock().unwrap().push(params);
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.updated.lock().unwrap().push(params.uri);
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::default(), Implementation::new("steward-tests", "1"))
    }
}

fn call(name: &str, arguments: Value) -> CallToolRequestParams {
    let Value::Object(arguments) = arguments else { panic!("arguments are an object") };
    CallToolRequestParams::new(name.to_string()).with_arguments(arguments)
}

fn structured(result: &CallToolResult) -> &Value {
    result.structured_content.as_ref().expect("structured content")
}

fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|block| block.as_text().map(|text| text.text.clone())).collect()
}

const LEGACY: fn() -> ClientLifecycleMode = || ClientLifecycleMode::Initialize;
const STATELESS: fn() -> ClientLifecycleMode =
    || ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_runs_an_agent_and_hears_its_progress_in_both_eras() {
    let server = McpServer::start(|state| state).await;
    server.agent("Scribe").await;
    for (era, lifecycle) in [("2025-11-25", LEGACY()), ("2026-07-28", STATELESS())] {
        let client = server.connect(lifecycle).await;
        let version = client.peer().peer_info().map(|info| info.protocol_version.to_string());
        assert_eq!(version.as_deref(), Some(era));
        let tools = client.peer().list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        for expected in
            ["agents.list", "runs.start", "agents.chat", "actions.create", "approvals.decide", "memory.search"]
        {
            assert!(names.contains(&expected), "{era}: {names:?}");
        }
        let agents = client.peer().call_tool(call("agents.list", json!({}))).await.unwrap();
        assert_eq!(structured(&agents)["agents"][0]["name"], "Scribe", "{era}");

        server.agents.fake.push(Reply::text(format!("Done in {era}.")));
        client.service().heard.lock().unwrap().clear();
        // rmcp gives every request a progress token of its own.
        let request = call("runs.start", json!({"agent": "scribe", "instruction": "Say done"}));
        let result = client.peer().call_tool(request).await.unwrap();
        assert_ne!(result.is_error, Some(true), "{era}: {result:?}");
        assert_eq!(text(&result), format!("Done in {era}."));
        assert_eq!(structured(&result)["run"]["outcome"], "completed");
        // Notifications are handled in tasks of their own, so the last may
        // land just after the result.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let heard = client.service().heard.lock().unwrap().clone();
            let messages: Vec<String> = heard.iter().filter_map(|note| note.message.clone()).collect();
            if messages.iter().any(|message| message.starts_with("model call")) {
                assert_eq!(messages[0], "instruction received", "{era}: {messages:?}");
                break;
            }
            assert!(Instant::now() < deadline, "{era}: no progress heard: {messages:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client.cancel().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_approvals_resources_and_prompts() {
    let server = McpServer::start(|state| state).await;
    let agent = server.agent("Writer").await;
    let client = server.connect(LEGACY()).await;
    let peer = client.peer();

    let created = peer
        .call_tool(call("actions.create", json!({"agent": "Writer", "title": "Draft the post", "priority": "high"})))
        .await
        .unwrap();
    let action = structured(&created)["id"].as_i64().unwrap();
    assert_eq!(structured(&created)["state"], "draft");
    let moved = peer.call_tool(call("actions.move", json!({"action_id": action, "to": "defined"}))).await.unwrap();
    assert_eq!(structured(&moved)["state"], "defined");
    let refused = peer.call_tool(call("actions.move", json!({"action_id": action, "to": "completed"}))).await.unwrap();
    assert_eq!(refused.is_error, Some(true));
    assert_eq!(structured(&refused)["error"]["code"], "illegal_transition", "{refused:?}");
    let listed = peer.call_tool(call("actions.list", json!({"agent": agent.to_string()}))).await.unwrap();
    assert_eq!(structured(&listed)["actions"][0]["id"], action);
    let approvals = peer.call_tool(call("approvals.list", json!({}))).await.unwrap();
    assert_eq!(structured(&approvals)["approvals"], json!([]));

    // Arguments that do not fit the schema: an error result naming the field.
    let bad = peer.call_tool(call("actions.move", json!({"action_id": action, "to": "nowhere"}))).await.unwrap();
    assert_eq!(bad.is_error, Some(true));
    assert_eq!(structured(&bad)["error"]["field"], "to", "{bad:?}");
    let missing = peer.call_tool(call("agents.chat", json!({"agent": "Nobody", "message": "hi"}))).await.unwrap();
    assert_eq!(structured(&missing)["error"]["code"], "not_found");
    let unknown = peer.call_tool(call("no.such.tool", json!({}))).await;
    assert!(unknown.is_err(), "an unknown tool is a protocol error");

    let templates = peer.list_all_resource_templates().await.unwrap();
    let uris: Vec<&str> = templates.iter().map(|template| template.uri_template.as_str()).collect();
    assert!(uris.contains(&"steward://agents/{name}") && uris.contains(&"steward://runs/{id}/trace"), "{uris:?}");
    let resources = peer.list_all_resources().await.unwrap();
    assert!(resources.iter().any(|resource| resource.uri == "steward://agents/Writer"), "{resources:?}");
    let read = peer.read_resource(ReadResourceRequestParams::new(format!("steward://actions/{action}"))).await.unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else { panic!("text") };
    assert_eq!(serde_json::from_str::<Value>(text).unwrap()["title"], "Draft the post");
    let gone = peer.read_resource(ReadResourceRequestParams::new("steward://actions/999")).await;
    assert!(format!("{:?}", gone.unwrap_err()).contains("-32002"), "resource not found");

    // A malformed JSON-RPC message is refused with a parse error; nothing is stored.
    let malformed = reqwest::Client::new()
        .post(server.endpoint())
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700, "{body}");

    let prompts = peer.list_all_prompts().await.unwrap();
    assert!(prompts.iter().any(|prompt| prompt.name == "template.morning-plan"), "{prompts:?}");
    let prompt = peer.get_prompt(GetPromptRequestParams::new("template.morning-plan")).await.unwrap();
    assert!(!prompt.messages.is_empty());
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_is_behind_the_apis_authentication_and_origin_check() {
    let server = McpServer::start(|mut state| {
        state.auth.required = true;
        state
    })
    .await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let http = reqwest::Client::new();
    let post = |origin: Option<&str>| {
        let mut request = http
            .post(server.endpoint())
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(initialize.to_string());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request
    };
    let anonymous = post(None).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "no token, no MCP");
    let foreign = post(Some("http://evil.example")).send().await.unwrap();
    assert_eq!(foreign.status(), 403, "a foreign Origin is refused (DNS rebinding, cross-site pages)");
    let malformed = http.post(server.endpoint()).header("content-type", "application/json").body("{not json");
    assert_eq!(malformed.send().await.unwrap().status(), 401, "authentication comes before anything is parsed");
    assert!(
        server
            .store
            .list_agents(steward_domain::UserId::LOCAL_OWNER.into(), Default::default())
            .await
            .unwrap()
            .is_empty()
    );
}

/// A subscribed action is watched through the event log: changing it (here
/// through a tool; any process sharing the database would do) sends
/// `notifications/resources/updated` for its URI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)] // resources/subscribe is of the 2025-11-25 era
async fn a_subscribed_resource_reports_its_changes() {
    let server = McpServer::start(|state| state).await;
    server.agent("Writer").await;
    let handler = Progress::default();
    let transport =
        StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(server.endpoint()));
    let client = handler.clone().serve_with_lifecycle(transport, LEGACY()).await.unwrap();
    let peer = client.peer();
    let created =
        peer.call_tool(call("actions.create", json!({"agent": "Writer", "title": "Watch me"}))).await.unwrap();
    let action = structured(&created)["id"].as_i64().unwrap();
    let uri = format!("steward://actions/{action}");

    peer.subscribe(SubscribeRequestParams::new(uri.clone())).await.unwrap();
    assert!(handler.updated.lock().unwrap().is_empty(), "nothing changed yet");
    peer.call_tool(call("actions.move", json!({"action_id": action, "to": "defined"}))).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !handler.updated.lock().unwrap().contains(&uri) {
        assert!(Instant::now() < deadline, "no resources/updated for {uri}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let unknown = peer.subscribe(SubscribeRequestParams::new("steward://actions/999")).await;
    assert!(format!("{:?}", unknown.unwrap_err()).contains("-32002"), "an unknown resource cannot be watched");
    client.cancel().await.unwrap();
}
