//! `http.fetch` against a local server on 127.0.0.1: refused by default (the
//! address and a name resolving to it), reachable once allowed, redirects
//! checked hop by hop, size and time limits, the idempotency key sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde_json::json;
use steward_runtime::tools::{HttpToolConfig, ToolError, ToolsConfig};
use tokio::sync::Notify;

use crate::tool_support::{ToolFixture, invalid_input, refusal};

/// What the server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    body: String,
}

#[derive(Clone, Default)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Notified when a request reaches `/hang`.
    hanging: Arc<Notify>,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn record(&self, path: &str, headers: &HeaderMap, body: &Bytes) {
        let text = |name: header::HeaderName| headers.get(name).map(|value| value.to_str().unwrap().to_owned());
        self.seen.lock().unwrap().push(Seen {
            path: path.to_owned(),
            idempotency_key: text(header::HeaderName::from_static("idempotency-key")),
            content_type: text(header::CONTENT_TYPE),
            body: String::from_utf8_lossy(body).into_owned(),
        });
    }
}

async fn start() -> (Server, SocketAddr) {
    let server = Server::default();
    let app = Router::new()
        .route(
            "/hello",
            get(|State(server): State<Server>, headers: HeaderMap| async move {
                server.record("/hello", &headers, &Bytes::new());
                ([(header::ETAG, "\"v1\""), (header::SERVER, "test")], "hello there")
            }),
        )
        .route(
            "/echo",
            post(|State(server): State<Server>, headers: HeaderMap, body: Bytes| async move {
                server.record("/echo", &headers, &body);
                (StatusCode::CREATED, body)
            }),
        )
        .route(
            "/post-then-see-other",
            post(|State(server): State<Server>, headers: HeaderMap, body: Bytes| async move {
                server.record("/post-then-see-other", &headers, &body);
                Redirect::to("/hello")
            }),
        )
        .route("/big", get(|| async { "0123456789".repeat(10_000) }))
        .route("/binary", get(|| async { ([(header::CONTENT_TYPE, "image/png")], vec![0x89_u8, 0xff, 0x00, 0x10]) }))
        .route(
            "/hang",
            get(|State(server): State<Server>| async move {
                server.hanging.notify_one();
                std::future::pending::<()>().await;
                "never"
            }),
        )
        .route("/to-metadata", get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }))
        .route("/to-hello", get(|| async { Redirect::permanent("/hello") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (server, address)
}

fn allowing(entries: &[&str], http: HttpToolConfig) -> ToolsConfig {
    ToolsConfig {
        http: HttpToolConfig { allow: entries.iter().map(|entry| entry.to_string()).collect(), ..http },
        ..ToolsConfig::default()
    }
}

#[tokio::test]
async fn loopback_is_refused_by_default_by_address_and_by_name() {
    let (server, address) = start().await;
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&ToolsConfig::default());
    let port = address.port();
    for url in [
        format!("http://127.0.0.1:{port}/hello"),
        format!("http://[::1]:{port}/hello"),
        format!("http://0x7f.1:{port}/hello"),
    ] {
        let message = refusal(fixture.call(&tools, "http.fetch", json!({"url": url})).await);
        assert!(message.contains("a loopback address"), "{url}: {message}");
    }
    let message =
        refusal(fixture.call(&tools, "http.fetch", json!({"url": format!("http://localhost:{port}/hello")})).await);
    assert!(message.starts_with("`localhost` is ") && message.contains("loopback"), "{message}");
    for url in ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[fd00::1]/", "http://0.0.0.0/"]
    {
        refusal(fixture.call(&tools, "http.fetch", json!({"url": url})).await);
    }
    assert!(server.seen().is_empty(), "no request reached the server");
}

#[tokio::test]
async fn an_allowed_address_is_reached_and_sent_the_idempotency_key() {
    let (server, address) = start().await;
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&allowing(&["127.0.0.1"], HttpToolConfig::default()));
    let fetched = fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/hello")})).await.unwrap();
    assert_eq!(
        fetched,
        "HTTP 200 OK\ncontent-type: text/plain; charset=utf-8\ncontent-length: 11\netag: \"v1\"\n\nhello there"
    );

    let input = json!({
        "url": format!("http://{address}/echo"),
        "method": "POST",
        "headers": {"Content-Type": "application/json"},
        "body": "{\"order\": 1}",
    });
    let posted = fixture.call(&tools, "http.fetch", input).await.unwrap();
    assert!(posted.starts_with("HTTP 201 Created\n") && posted.ends_with("\n\n{\"order\": 1}"), "{posted}");

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|request| request.idempotency_key.as_deref() == Some("run-7-step-3-call-0")));
    assert_eq!(seen[1].content_type.as_deref(), Some("application/json"));
    assert_eq!(seen[1].body, "{\"order\": 1}");
}

#[tokio::test]
async fn an_allowed_name_and_an_allowed_network_are_reached() {
    let (_server, address) = start().await;
    let fixture = ToolFixture::new().await;
    let port = address.port();
    let by_name = fixture.registry(&allowing(&["localhost"], HttpToolConfig::default()));
    let fetched = fixture.call(&by_name, "http.fetch", json!({"url": format!("http://localhost:{port}/hello")})).await;
    assert!(fetched.unwrap().starts_with("HTTP 200 OK"));
    let by_network = fixture.registry(&allowing(&["127.0.0.0/8", "::1"], HttpToolConfig::default()));
    let fetched = fixture.call(&by_network, "http.fetch", json!({"url": format!("http://{address}/hello")})).await;
    assert!(fetched.unwrap().starts_with("HTTP 200 OK"));
}

#[tokio::test]
async fn each_redirect_hop_is_checked() {
    let (server, address) = start().await;
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&allowing(&["127.0.0.1"], HttpToolConfig::default()));
    let fetched =
        fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/to-hello")})).await.unwrap();
    assert!(
        fetched.starts_with(&format!("HTTP 200 OK\nurl: http://{address}/hello (after 1 redirects)\n")),
        "{fetched}"
    );

    let message =
        refusal(fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/to-metadata")})).await);
    assert!(message.contains("169.254.169.254, a link-local address"), "{message}");

    let looping = fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/loop")})).await;
    assert!(
        matches!(&looping, Err(ToolError::Failed(message)) if message.contains("more than 5 redirects")),
        "{looping:?}"
    );

    // A 303 after a POST is followed with a GET without the body.
    let input = json!({"url": format!("http://{address}/post-then-see-other"), "method": "POST", "body": "x"});
    let fetched = fixture.call(&tools, "http.fetch", input).await.unwrap();
    assert!(fetched.ends_with("hello there"), "{fetched}");
    let paths: Vec<String> = server.seen().into_iter().map(|seen| seen.path).collect();
    assert_eq!(paths, ["/hello", "/post-then-see-other", "/hello"]);
}

#[tokio::test]
async fn bodies_are_cut_at_the_size_limit_and_binary_bodies_are_not_shown() {
    let (_server, address) = start().await;
    let fixture = ToolFixture::new().await;
    let config = allowing(&["127.0.0.1"], HttpToolConfig { max_response_bytes: 1000, ..HttpToolConfig::default() });
    let tools = fixture.registry(&config);
    let fetched = fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/big")})).await.unwrap();
    let (_, body) = fetched.split_once("\n\n").unwrap();
    let (text, notice) = body.split_once('\n').unwrap();
    assert_eq!(text, "0123456789".repeat(100));
    assert_eq!(notice, "[body cut at 1000 bytes (tools.http.max_response_bytes); the response is longer]");

    let fetched = fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/binary")})).await.unwrap();
    assert!(fetched.ends_with("content-type: image/png\ncontent-length: 4\n\n[a binary body, not shown]"), "{fetched}");
}

#[tokio::test]
async fn a_server_that_never_answers_runs_into_the_time_limit() {
    let (_server, address) = start().await;
    let fixture = ToolFixture::new().await;
    let config = allowing(&["127.0.0.1"], HttpToolConfig { timeout_secs: 1, ..HttpToolConfig::default() });
    let tools = fixture.registry(&config);
    let started = std::time::Instant::now();
    let fetched = fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/hang")})).await;
    assert_eq!(fetched, Err(ToolError::Failed("no complete response within 1 s (tools.http.timeout_secs)".into())));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn cancelling_the_run_stops_a_fetch() {
    let (server, address) = start().await;
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&allowing(&["127.0.0.1"], HttpToolConfig::default()));
    let cancel = fixture.context.cancel.clone();
    let hanging = Arc::clone(&server.hanging);
    tokio::spawn(async move {
        hanging.notified().await;
        cancel.cancel();
    });
    let fetched = fixture.call(&tools, "http.fetch", json!({"url": format!("http://{address}/hang")})).await;
    assert_eq!(fetched, Err(ToolError::Failed("the run was cancelled".into())));
}

#[tokio::test]
async fn bad_requests_are_explained() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&ToolsConfig::default());
    let cases = [
        (json!({"url": "file:///etc/passwd"}), "only http and https URLs can be fetched"),
        (json!({"url": "not a url"}), "is not a URL"),
        (json!({"url": "https://example.com", "body": "x"}), "a GET request has no body"),
        (json!({"url": "https://example.com", "method": "DELETE"}), "unknown variant `DELETE`"),
        (json!({"url": "https://example.com", "headers": {"Idempotency-Key": "mine"}}), "set by http.fetch itself"),
        (json!({"url": "https://example.com", "headers": {"bad header": "x"}}), "not a valid header name"),
    ];
    for (input, expected) in cases {
        let message = invalid_input(fixture.call(&tools, "http.fetch", input.clone()).await);
        assert!(message.contains(expected), "{input}: {message}");
    }
}
