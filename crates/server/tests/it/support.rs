//! The API under test: `app(state)` over a fresh database on a manual clock,
//! driven in-process with `oneshot`, and helpers to assert on responses and
//! on the database not having changed.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use steward_domain::{EventId, ManualClock, UserId};
use steward_runtime::HandlerRegistry;
use steward_runtime::tools::ToolsConfig;
use steward_server::listen::ConnectionLimits;
use steward_server::{AppState, app};
use steward_store::Store;
use steward_test_support::{TestDatabase, TestStore};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::agent_support::Agents;

pub const USER: UserId = UserId::LOCAL_OWNER;

pub struct TestApp {
    pub state: AppState,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    /// The agent runtime and its fake provider, as `steward serve` has one.
    agents: Option<Agents>,
    _test_store: TestStore,
}

impl TestApp {
    /// The app over `database` with an agent runtime (no workers: runs stay
    /// queued), running the built-in job kinds.
    pub async fn start(database: TestDatabase) -> TestApp {
        TestApp::with(database, |state| state).await
    }

    /// Like [`TestApp::start`], with the state adjusted by `configure`.
    pub async fn with(database: TestDatabase, configure: impl FnOnce(AppState) -> AppState) -> TestApp {
        TestApp::with_tools(database, &ToolsConfig::default(), configure).await
    }

    /// Like [`TestApp::with`], with the runtime's tools configured by `tools`.
    pub async fn with_tools(
        database: TestDatabase,
        tools: &ToolsConfig,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> TestApp {
        let mut app = TestApp::without_runtime(database).await;
        let agents = Agents::start(app.store.clone(), tools).await;
        app.state = configure(app.state.with_agents(agents.runtime.clone()));
        app.agents = Some(agents);
        app
    }

    /// The app of a server without an agent runtime.
    pub async fn without_runtime(database: TestDatabase) -> TestApp {
        let test_store = TestStore::open(database).await;
        let state = AppState::new(test_store.store.clone())
            .with_clock(test_store.clock.clone())
            .with_job_kinds(HandlerRegistry::with_builtins().kinds());
        let store = test_store.store.clone();
        TestApp { state, store, clock: test_store.clock.clone(), agents: None, _test_store: test_store }
    }

    /// The runtime's fake model provider.
    pub fn fake(&self) -> &steward_fake_llm::FakeLlm {
        &self.agents.as_ref().expect("the app has an agent runtime").fake
    }

    /// The runtime's home folder.
    pub fn home(&self) -> &std::path::Path {
        self.agents.as_ref().expect("the app has an agent runtime").home.path()
    }

    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse { status, headers, body, text }
    }

    pub async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> TestResponse {
        let builder = Request::builder().method(method).uri(path);
        let request = match body {
            Some(body) => builder.header("content-type", "application/json").body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// A request whose body is sent as is, with `content_type` when given.
    pub async fn raw(&self, method: Method, path: &str, content_type: Option<&str>, body: &str) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        self.send(builder.body(Body::from(body.to_string())).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(&body)).await
    }

    pub async fn post_empty(&self, path: &str) -> TestResponse {
        self.request(Method::POST, path, None).await
    }

    /// A POST with `Accept: text/event-stream`; the whole stream is read.
    pub async fn post_streamed(&self, path: &str, body: Value) -> TestResponse {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(Body::from(body.to_string()));
        self.send(request.unwrap()).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(&body)).await
    }

    /// The newest event id: every write appends an event, so an unchanged
    /// id proves a refused request wrote nothing.
    pub async fn latest_event(&self) -> Option<EventId> {
        self.store.latest_event_id(USER).await.unwrap()
    }

    /// Sends `request` expecting it to be refused, and checks nothing was written.
    pub async fn refused(&self, response: impl std::future::Future<Output = TestResponse>) -> TestResponse {
        let before = self.latest_event().await;
        let response = response.await;
        assert!(!response.status.is_success(), "expected a refusal, got {}: {}", response.status, response.text);
        assert_eq!(self.latest_event().await, before, "a refused request wrote something: {}", response.text);
        response
    }

    /// Creates an agent and returns its id.
    pub async fn agent(&self, name: &str) -> i64 {
        let response = self.post("/api/v1/agents", serde_json::json!({"name": name, "goal": "Ship it"})).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.body["id"].as_i64().unwrap()
    }

    /// Creates an action of `agent` and returns its id.
    pub async fn action(&self, agent: i64, title: &str) -> i64 {
        let body = serde_json::json!({"agent_id": agent, "title": title, "description": "Three sections."});
        let response = self.post("/api/v1/actions", body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.body["id"].as_i64().unwrap()
    }

    /// Creates an action of `agent` and defines it, ready to schedule.
    pub async fn defined_action(&self, agent: i64, title: &str) -> i64 {
        let id = self.action(agent, title).await;
        let response =
            self.post(&format!("/api/v1/actions/{id}/transition"), serde_json::json!({"to": "defined"})).await;
        response.assert_status(200);
        id
    }

    /// Enqueues a job and returns its id.
    pub async fn job(&self, body: Value) -> i64 {
        let response = self.post("/api/v1/jobs", body).await;
        assert!(response.status.is_success(), "{}", response.text);
        response.body["job"]["id"].as_i64().unwrap()
    }
}

/// `app(state)` served on a loopback port as `steward serve` serves it
/// (`listen::serve`, default limits), until `state.shutdown` is cancelled:
/// its URL and its task.
pub async fn serve(state: AppState) -> (String, JoinHandle<()>) {
    serve_with(state, ConnectionLimits::default()).await
}

/// Like [`serve`], with the connection limits given.
pub async fn serve_with(state: AppState, limits: ConnectionLimits) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = state.shutdown.clone();
    let task = tokio::spawn(steward_server::listen::serve(listener, app(state), limits, shutdown));
    (url, task)
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON, or null when it is not JSON.
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    /// Asserts the error shape: status, code, and field (`None` for no field).
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) -> &str {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let error = &self.body["error"];
        assert_eq!(error["code"], code, "{}", self.text);
        assert_eq!(error["field"].as_str(), field, "{}", self.text);
        assert!(error["message"].as_str().is_some_and(|message| !message.is_empty()), "{}", self.text);
        error["message"].as_str().unwrap_or_default()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        &self.body
    }
}

/// Runs each test (`async fn(TestApp)`) on SQLite and, when
/// `STEWARD_TEST_DATABASE_URL` is set, on PostgreSQL.
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let database = steward_test_support::TestDatabase::sqlite();
                    super::$name($crate::support::TestApp::start(database).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(database) = steward_test_support::TestDatabase::postgres().await {
                        super::$name($crate::support::TestApp::start(database).await).await;
                    }
                }
            )*
        }
    };
}
pub(crate) use api_tests;

/// Replaces a value that is set (not null) by `label`, so snapshots keep
/// showing which optional fields are null.
pub fn redacted(label: &'static str) -> insta::internals::Redaction {
    insta::dynamic_redaction(
        move |value, _path| {
            if value.is_nil() { value } else { insta::internals::Content::from(label) }
        },
    )
}

/// A JSON snapshot with ids and times redacted: they vary with the backend
/// and with the order tests run in.
macro_rules! assert_api_snapshot {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".**.id" => $crate::support::redacted("[id]"),
            ".**.agent_id" => $crate::support::redacted("[id]"),
            ".**.job_id" => $crate::support::redacted("[id]"),
            ".**.subject_id" => $crate::support::redacted("[id]"),
            ".**.depends_on[]" => $crate::support::redacted("[id]"),
            ".**.next_before" => $crate::support::redacted("[id]"),
            ".**.next_after" => $crate::support::redacted("[id]"),
            ".**.created_at" => $crate::support::redacted("[time]"),
            ".**.updated_at" => $crate::support::redacted("[time]"),
            ".**.occurred_at" => $crate::support::redacted("[time]"),
            ".**.run_at" => $crate::support::redacted("[time]"),
            ".**.started_at" => $crate::support::redacted("[time]"),
            ".**.ended_at" => $crate::support::redacted("[time]"),
            ".**.finished_at" => $crate::support::redacted("[time]"),
            ".**.retry_at" => $crate::support::redacted("[time]"),
            ".**.lease_expires_at" => $crate::support::redacted("[time]"),
            ".**.scheduled_for" => $crate::support::redacted("[time]"),
            ".**.uptime_seconds" => "[seconds]",
        })
    };
}
pub(crate) use assert_api_snapshot;
