//! The export against a local OTLP/HTTP receiver (axum on loopback) that
//! answers from a script: what is retried, what is not, and what the
//! span counters say afterwards.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::config::TelemetryConfig;
use super::export::Telemetry;
use super::target::ExportTarget;
use crate::metrics::SpanCounters;

/// One scripted answer: a status and the `Retry-After` it carries.
type Answer = (u16, Option<&'static str>);

/// A receiver answering each request with the next scripted status (and
/// `Retry-After`), then 200; it keeps the span names of every request.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<VecDeque<Answer>>>,
    requests: Arc<Mutex<Vec<Vec<String>>>>,
}

async fn receive(State(receiver): State<Receiver>, body: Bytes) -> (StatusCode, HeaderMap) {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export request");
    let names = request
        .resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| &scope.spans)
        .map(|span| span.name.clone())
        .collect();
    receiver.requests.lock().unwrap().push(names);
    let (status, retry_after) = receiver.script.lock().unwrap().pop_front().unwrap_or((200, None));
    let mut headers = HeaderMap::new();
    if let Some(seconds) = retry_after {
        headers.insert("retry-after", seconds.parse().unwrap());
    }
    (StatusCode::from_u16(status).unwrap(), headers)
}

async fn start_receiver(script: &[Answer]) -> (Receiver, String) {
    let receiver = Receiver { script: Arc::new(Mutex::new(script.iter().copied().collect())), ..Receiver::default() };
    let app = axum::Router::new().route("/v1/traces", axum::routing::post(receive)).with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, url)
}

fn target(url: String) -> ExportTarget {
    ExportTarget { url, headers: Vec::new(), service_name: "steward-test".into() }
}

fn config(max_retries: u32) -> TelemetryConfig {
    TelemetryConfig { export_interval_ms: 20, export_max_retries: max_retries, ..TelemetryConfig::default() }
}

/// Hands `names` to the export and stops it (which sends what waits).
async fn export(url: String, config: &TelemetryConfig, names: &[&str]) -> SpanCounters {
    let counts = SpanCounters::default();
    let (telemetry, handle) = Telemetry::start(target(url), config, counts.clone()).unwrap();
    for name in names {
        telemetry.send(Span { name: (*name).into(), ..Span::default() });
    }
    // Let the interval send them while running, not only at shutdown.
    tokio::time::sleep(Duration::from_millis(100)).await;
    wait_until_settled(&counts, names.len() as u64).await;
    handle.shutdown(Duration::from_secs(30)).await;
    counts
}

async fn wait_until_settled(counts: &SpanCounters, spans: u64) {
    for _ in 0..200 {
        if counts.exported.get() + counts.failed.get() + counts.dropped.get() >= spans {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_busy_receiver_gets_the_same_batch_again_until_it_takes_it() {
    // 503 without a hint (backoff), then 429 asking for no wait, then 200.
    let (receiver, url) = start_receiver(&[(503, None), (429, Some("0"))]).await;
    let counts = export(url, &config(4), &["invoke_agent a", "chat m"]).await;

    let requests = receiver.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 3, "two refusals and the accepted request: {requests:?}");
    assert!(
        requests.iter().all(|names| names == &["invoke_agent a", "chat m"]),
        "the same batch each time: {requests:?}"
    );
    assert_eq!((counts.exported.get(), counts.failed.get(), counts.dropped.get()), (2, 0, 0));
}

#[tokio::test]
async fn a_refusal_that_is_not_temporary_is_not_retried() {
    let (receiver, url) = start_receiver(&[(400, None)]).await;
    let counts = export(url, &config(4), &["invoke_agent a"]).await;

    assert_eq!(receiver.requests.lock().unwrap().len(), 1, "400 is final");
    assert_eq!((counts.exported.get(), counts.failed.get()), (0, 1));
}

#[tokio::test]
async fn retries_run_out_and_the_spans_count_as_failed() {
    let (receiver, url) = start_receiver(&[(503, Some("0")), (502, Some("0")), (504, Some("0"))]).await;
    let counts = export(url, &config(2), &["invoke_agent a", "execute_tool t"]).await;

    assert_eq!(receiver.requests.lock().unwrap().len(), 3, "one request and two retries");
    assert_eq!((counts.exported.get(), counts.failed.get()), (0, 2));
}

#[tokio::test]
async fn an_unreachable_receiver_is_retried_then_given_up() {
    // A port that was just free: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    drop(listener);
    let counts = export(url, &config(1), &["invoke_agent a"]).await;

    assert_eq!((counts.exported.get(), counts.failed.get()), (0, 1));
}

#[tokio::test]
async fn shutting_down_does_not_wait_out_a_long_retry_after() {
    // The receiver asks for an hour; the export is stopped meanwhile and
    // makes one last attempt at once (which the receiver now takes).
    let (receiver, url) = start_receiver(&[(503, Some("3600"))]).await;
    let counts = SpanCounters::default();
    let (telemetry, handle) = Telemetry::start(target(url), &config(4), counts.clone()).unwrap();
    telemetry.send(Span { name: "invoke_agent a".into(), ..Span::default() });
    for _ in 0..200 {
        if !receiver.requests.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Waiting out the delay (capped at 30 s) would outlast this grace and
    // leave the batch unsent when shutdown returns.
    handle.shutdown(Duration::from_secs(10)).await;

    assert_eq!(receiver.requests.lock().unwrap().len(), 2, "the refused request and the last attempt");
    assert_eq!((counts.exported.get(), counts.failed.get()), (1, 0));
}
