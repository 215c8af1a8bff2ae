//! Crash-resume of an agent run (issue #4): `steward serve` is killed with
//! SIGKILL twice in the middle of a multi-step run — once while a tool call
//! is under way, once while a model call is — and restarted each time. The
//! run then finishes as if nothing happened: the fake provider's request log
//! shows no model call repeated for a completed step, a finished tool call
//! is not executed again, and the interrupted one is retried with the same
//! idempotency key, so the receiving side performs each effect once.
//!
//! The tool is `http.fetch` posting to a local sink (allowed through
//! `STEWARD_TOOLS__HTTP__ALLOW`), which records every delivery with its
//! `Idempotency-Key` and holds the first delivery of `/b` until the server
//! is killed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, ReceivedRequest, Reply};
use tokio::sync::Notify;

use crate::support::{ServerOptions, ServerProcess};

const KEY: &str = "sk-ant-crash-test-0123456789";
const FINAL_ANSWER: &str = "Both notes are delivered.";

/// Deliveries the sink received: (path, idempotency key), in order.
#[derive(Default)]
struct Sink {
    deliveries: Mutex<Vec<(String, String)>>,
    /// Signalled when the first delivery of `/b` arrives (and is held).
    b_arrived: Notify,
}

async fn receive(State(sink): State<Arc<Sink>>, Path(name): Path<String>, headers: HeaderMap) -> &'static str {
    let key = headers.get("idempotency-key").and_then(|value| value.to_str().ok()).unwrap_or("").to_string();
    let first_b = {
        let mut deliveries = sink.deliveries.lock().unwrap();
        deliveries.push((name.clone(), key));
        name == "b" && deliveries.iter().filter(|(path, _)| path == "b").count() == 1
    };
    if first_b {
        sink.b_arrived.notify_one();
        // Held until the server that sent it is killed.
        tokio::time::sleep(Duration::from_secs(120)).await;
    }
    "stored"
}

async fn start_sink() -> (Arc<Sink>, String) {
    let sink = Arc::new(Sink::default());
    let app = axum::Router::new().route("/{name}", axum::routing::post(receive)).with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (sink, url)
}

/// Tool results in a model request: how far the run had got.
fn tool_results(request: &ReceivedRequest) -> usize {
    request.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|message| message["content"].as_array())
        .flatten()
        .filter(|block| block["type"] == "tool_result")
        .count()
}

async fn wait_for(what: &str, server: &ServerProcess, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "waited a minute for {what}; server log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn api(client: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let mut request = client.request(method, &url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{url} answered {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_kill9_mid_run_resumes_without_repeating_model_or_tool_calls() {
    let (sink, sink_url) = start_sink().await;
    let fake = FakeLlm::start().await.unwrap();
    // The reply depends only on how far the conversation has got, so a
    // repeated request would get the same answer — and show in the log.
    let (a, b) = (format!("{sink_url}/a"), format!("{sink_url}/b"));
    fake.set_responder(move |request| {
        Some(
            match tool_results(request) {
                0 => Reply::tool_call("http__fetch", &json!({"url": a, "method": "POST", "body": "note a"})),
                1 => Reply::tool_call("http__fetch", &json!({"url": b, "method": "POST", "body": "note b"})),
                _ => Reply::text(FINAL_ANSWER),
            }
            .into(),
        )
    });
    let mut server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .env("STEWARD_TOOLS__HTTP__ALLOW", "127.0.0.1")
        .start();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let agent = api(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/agents", server.url()),
        Some(json!({"name": "Courier", "goal": "Deliver the notes"})),
    )
    .await;
    let run = api(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/agents/{}/runs", server.url(), agent["id"]),
        Some(json!({"instruction": "Post note a, then note b, to the sink."})),
    )
    .await;
    let run_id = run["id"].as_i64().unwrap();

    // Crash 1: while the second tool call is under way (two model calls and
    // the first tool call are stored).
    tokio::time::timeout(Duration::from_secs(60), sink.b_arrived.notified())
        .await
        .unwrap_or_else(|_| panic!("the run never called the sink's /b; log:\n{}", server.log()));
    server.kill_hard();

    // Crash 2: while the third model call waits for its reply.
    fake.pause_replies();
    server.restart();
    wait_for("the third model call", &server, || fake.requests().iter().any(|request| tool_results(request) == 2))
        .await;
    server.kill_hard();
    fake.resume_replies();
    server.restart();

    let deadline = Instant::now() + Duration::from_secs(60);
    let run = loop {
        let run = api(&client, reqwest::Method::GET, format!("{}/api/v1/runs/{run_id}", server.url()), None).await;
        if run["status"] == "finished" {
            break run;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {run}; log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(run["outcome"], "completed", "{run}");
    assert_eq!(run["output"], FINAL_ANSWER);

    // Model calls by how far the run had got: the first two completed before
    // a crash and were never made again; only the one cut off was repeated.
    let mut model_calls: BTreeMap<usize, usize> = BTreeMap::new();
    for request in fake.requests() {
        *model_calls.entry(tool_results(&request)).or_default() += 1;
    }
    assert_eq!(model_calls, BTreeMap::from([(0, 1), (1, 1), (2, 2)]), "model calls by tool results so far");

    // The finished tool call (a) ran once; the interrupted one (b) was
    // retried with the same key, so a receiver that honours the key
    // performs each effect once.
    let deliveries = sink.deliveries.lock().unwrap().clone();
    let of = |name: &str| deliveries.iter().filter(|(path, _)| path == name).map(|(_, key)| key.clone()).collect();
    let (a_keys, b_keys): (Vec<String>, Vec<String>) = (of("a"), of("b"));
    assert_eq!(a_keys.len(), 1, "the finished tool call was executed again: {deliveries:?}");
    assert_eq!(b_keys.len(), 2, "the interrupted tool call was not retried exactly once: {deliveries:?}");
    assert_eq!(b_keys[0], b_keys[1], "a retried tool call must carry the same idempotency key");
    assert!(!a_keys[0].is_empty() && a_keys[0] != b_keys[0], "each tool call has its own key: {deliveries:?}");
    assert!(a_keys[0].contains(&run_id.to_string()), "the key names the run: {}", a_keys[0]);

    // The stored trace has each step once, and the call cut off by the
    // second crash as an interrupted model call, counted as an estimate.
    let trace = api(&client, reqwest::Method::GET, format!("{}/api/v1/runs/{run_id}/trace", server.url()), None).await;
    let spans = trace["spans"].as_array().unwrap();
    let kinds: Vec<&str> = spans.iter().filter_map(|span| span["kind"].as_str()).collect();
    let interrupted = spans.iter().filter(|span| span["model_call"]["stop_reason"] == "interrupted").count();
    assert_eq!(kinds.iter().filter(|kind| **kind == "model_call").count(), 4, "model calls in the trace: {kinds:?}");
    assert_eq!(interrupted, 1, "the call cut off by the second crash is stored once: {kinds:?}");
    assert_eq!(run["usage"]["estimated_calls"], 1, "{run}");
    assert_eq!(kinds.iter().filter(|kind| **kind == "tool_call").count(), 2, "tool calls in the trace: {kinds:?}");
}
