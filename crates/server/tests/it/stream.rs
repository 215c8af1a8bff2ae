//! The live event stream over a real socket: events arrive in order,
//! resume from `Last-Event-ID` or `?after=`, filters apply, keep-alives flow
//! while idle, and the stream ends when the server shuts down.

use std::time::Duration;

use eventsource_stream::{Event, Eventsource};
use futures::{Stream, StreamExt};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::support::{TestApp, api_tests, serve};

/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);

api_tests!(
    changes_arrive_in_order,
    a_stream_resumes_after_the_last_event_id,
    filters_apply_to_the_stream,
    the_stream_ends_when_the_server_shuts_down,
);

/// `app(state)` served on 127.0.0.1 with axum, as `steward serve` does.
struct LiveServer {
    url: String,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    client: reqwest::Client,
}

impl LiveServer {
    /// With keep-alives (and the safety-net poll) every `keep_alive`.
    async fn start(app_under_test: &TestApp, keep_alive: Duration) -> LiveServer {
        let state = app_under_test.state.clone().with_keep_alive(keep_alive);
        let shutdown = state.shutdown.clone();
        let (url, task) = serve(state).await;
        LiveServer { url, shutdown, task, client: reqwest::Client::new() }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let request = self.client.post(format!("{}{path}", self.url));
        // Null stands for no body (cancel takes none).
        let request = if body.is_null() { request } else { request.json(&body) };
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }

    /// Opens the stream (the server has chosen its starting point when this returns).
    async fn stream(&self, query: &str, last_event_id: Option<i64>) -> impl Stream<Item = Event> + Unpin + use<> {
        let mut request = self.client.get(format!("{}/api/v1/events/stream{query}", self.url));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Box::pin(response.bytes_stream().eventsource().map(|event| event.unwrap()))
    }
}

async fn next_event(stream: &mut (impl Stream<Item = Event> + Unpin)) -> Event {
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("an event within the deadline")
        .expect("the stream is open")
}

async fn kinds_and_ids(stream: &mut (impl Stream<Item = Event> + Unpin), count: usize) -> Vec<(String, i64)> {
    let mut received = Vec::new();
    for _ in 0..count {
        let event = next_event(stream).await;
        let data: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(data["id"].to_string(), event.id, "the SSE id is the event id");
        assert_eq!(data["kind"], event.event, "the SSE event name is the kind");
        received.push((event.event, event.id.parse().unwrap()));
    }
    received
}

async fn changes_arrive_in_order(app: TestApp) {
    // The safety-net poll is far longer than the test's patience, so events
    // arriving prove the store's wake-up reaches the stream.
    let server = LiveServer::start(&app, Duration::from_secs(600)).await;
    app.agent("Before the stream").await;
    let mut stream = server.stream("", None).await;

    let agent = server.post("/api/v1/agents", json!({"name": "Live", "goal": "G"})).await;
    server.post("/api/v1/actions", json!({"agent_id": agent["id"], "title": "T"})).await;
    let job = server.post("/api/v1/jobs", json!({"kind": "noop"})).await;
    server.post(&format!("/api/v1/jobs/{}/cancel", job["job"]["id"]), Value::Null).await;

    let received = kinds_and_ids(&mut stream, 4).await;
    let kinds: Vec<&str> = received.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["agent.created", "action.created", "job.enqueued", "job.cancelled"],
        "only new events, in order"
    );
    assert!(received.windows(2).all(|pair| pair[0].1 < pair[1].1), "{received:?}");
    server.shutdown.cancel();
}

async fn a_stream_resumes_after_the_last_event_id(app: TestApp) {
    let server = LiveServer::start(&app, Duration::from_millis(100)).await;
    for name in ["one", "two", "three"] {
        app.agent(name).await;
    }
    let mut everything = server.stream("?after=0", None).await;
    let all = kinds_and_ids(&mut everything, 3).await;

    let mut resumed = server.stream("", Some(all[0].1)).await;
    assert_eq!(kinds_and_ids(&mut resumed, 2).await, all[1..]);
    // The header wins over the query: EventSource resends the original URL.
    let mut resumed = server.stream("?after=0", Some(all[1].1)).await;
    assert_eq!(kinds_and_ids(&mut resumed, 1).await, all[2..]);
    // And the resumed stream goes on live.
    app.agent("four").await;
    assert_eq!(kinds_and_ids(&mut resumed, 1).await[0].0, "agent.created");
    server.shutdown.cancel();
}

async fn filters_apply_to_the_stream(app: TestApp) {
    let server = LiveServer::start(&app, Duration::from_millis(100)).await;
    let mut jobs_only = server.stream("?kind=job.", None).await;
    app.agent("ignored").await;
    let id = app.job(json!({"kind": "noop"})).await;
    let received = kinds_and_ids(&mut jobs_only, 1).await;
    assert_eq!(received[0].0, "job.enqueued");

    let mut one_job = server.stream(&format!("?after=0&subject=job&subject_id={id}"), None).await;
    app.job(json!({"kind": "noop"})).await;
    app.post_empty(&format!("/api/v1/jobs/{id}/cancel")).await.assert_status(200);
    let kinds: Vec<String> = kinds_and_ids(&mut one_job, 2).await.into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, ["job.enqueued", "job.cancelled"]);
    server.shutdown.cancel();
}

async fn the_stream_ends_when_the_server_shuts_down(app: TestApp) {
    let server = LiveServer::start(&app, Duration::from_millis(100)).await;
    let response = server.client.get(format!("{}/api/v1/events/stream", server.url)).send().await.unwrap();
    let mut bytes = response.bytes_stream();
    // Idle, the stream still sends keep-alive comments.
    let chunk = tokio::time::timeout(PATIENCE, bytes.next()).await.unwrap().unwrap().unwrap();
    assert!(chunk.starts_with(b":"), "{chunk:?}");

    server.shutdown.cancel();
    let ended = tokio::time::timeout(PATIENCE, async {
        while let Some(chunk) = bytes.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends on shutdown");
    tokio::time::timeout(PATIENCE, server.task).await.expect("graceful shutdown does not hang on the stream").unwrap();
}
