//! Requests that never reach a handler's logic: broken JSON, wrong or
//! missing Content-Type, oversized bodies, unknown paths and methods, a
//! panicking handler, a closed store. All answer in the error shape and
//! write nothing.

use std::sync::Arc;

use axum::http::Method;
use chrono::{DateTime, Utc};
use serde_json::json;
use steward_domain::Clock;

use crate::support::{TestApp, api_tests};

api_tests!(
    broken_json_is_400_with_its_position,
    only_json_bodies_are_accepted,
    unknown_paths_and_methods_have_the_error_shape,
    a_closed_store_is_503,
    nul_characters_never_cause_a_server_error,
);

async fn broken_json_is_400_with_its_position(app: TestApp) {
    let cases = [
        (r#"{"name": "A", "goal": }"#, "line 1 column 23"),
        ("", "the body is empty"),
        (r#"{"name": "A", "goal": "G"} trailing"#, "trailing characters"),
        (r#"{"name": "A""#, "EOF"),
    ];
    for (body, fragment) in cases {
        let response = app.refused(app.raw(Method::POST, "/api/v1/agents", Some("application/json"), body)).await;
        let message = response.assert_error(400, "invalid_json", None);
        assert!(message.contains(fragment), "{body:?}: {message}");
    }
    let response = app.refused(app.raw(Method::POST, "/api/v1/jobs/batch", Some("application/json"), "[1, 2]")).await;
    let message = response.assert_error(422, "invalid_field", None);
    assert_eq!(message, "the body must be a JSON object, not an array");
}

async fn only_json_bodies_are_accepted(app: TestApp) {
    let body = r#"{"kind": "noop"}"#;
    for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let response = app.refused(app.raw(Method::POST, "/api/v1/jobs", content_type, body)).await;
        let message = response.assert_error(415, "unsupported_media_type", None);
        assert!(message.contains("Content-Type: application/json"), "{message}");
    }
    let response = app.raw(Method::POST, "/api/v1/jobs", Some("application/json; charset=utf-8"), body).await;
    response.assert_status(201);
}

async fn unknown_paths_and_methods_have_the_error_shape(app: TestApp) {
    for path in ["/api/v1/nothing", "/api/v2/jobs", "/favicon.ico", "/api/v1/agents/1/explode"] {
        let message = app.get(path).await.assert_error(404, "route_not_found", None).to_string();
        assert!(message.contains(path), "{message}");
    }
    let response = app.refused(app.request(Method::DELETE, "/api/v1/agents", None)).await;
    response.assert_error(405, "method_not_allowed", None);
    let allow = response.headers.get("allow").map(|value| value.to_str().unwrap().to_string());
    assert!(allow.as_deref().is_some_and(|allow| allow.contains("GET") && allow.contains("POST")), "{allow:?}");
    let response = app.refused(app.request(Method::PUT, "/api/v1/jobs/1", Some(&json!({})))).await;
    response.assert_error(405, "method_not_allowed", None);
}

/// PostgreSQL cannot store NUL in text or JSON; SQLite can. Either way the
/// answer is a success or a 4xx naming the field, never a 500.
async fn nul_characters_never_cause_a_server_error(app: TestApp) {
    let bodies = [
        ("/api/v1/jobs", json!({"kind": "noop", "payload": {"text": "a\u{0}b"}})),
        ("/api/v1/jobs", json!({"kind": "noop", "payload": {"a\u{0}": 1}})),
        ("/api/v1/jobs", json!({"kind": "noop", "idempotency_key": "k\u{0}"})),
        ("/api/v1/agents", json!({"name": "N", "goal": "G", "success_criteria": ["a\u{0}"]})),
        ("/api/v1/agents", json!({"name": "N\u{0}", "goal": "G"})),
    ];
    for (path, body) in bodies {
        let response = app.post(path, body.clone()).await;
        assert!(response.status.is_success() || response.status.is_client_error(), "{body}: {}", response.text);
        if response.status.is_client_error() {
            assert!(response.body["error"]["field"].is_string(), "{body}: {}", response.text);
        }
    }
    for query in ["/api/v1/jobs?queue=a%00", "/api/v1/jobs?kind=%00", "/api/v1/events?kind=job.%00"] {
        let response = app.get(query).await;
        assert!(response.status.is_success() || response.status.is_client_error(), "{query}: {}", response.text);
    }
}

async fn a_closed_store_is_503(app: TestApp) {
    app.store.close().await;
    let response = app.get("/api/v1/agents").await;
    response.assert_error(503, "unavailable", None);
}

#[tokio::test]
async fn oversized_bodies_are_413_and_write_nothing() {
    let database = steward_test_support::TestDatabase::sqlite();
    let app = TestApp::with(database, |state| state.with_max_body_bytes(1024)).await;
    let big = json!({"kind": "noop", "payload": {"blob": "x".repeat(2000)}});
    let response = app.refused(app.post("/api/v1/jobs", big)).await;
    let message = response.assert_error(413, "payload_too_large", None);
    assert!(message.contains("1024 bytes"), "{message}");
    app.post("/api/v1/jobs", json!({"kind": "noop"})).await.assert_status(201);
}

/// A clock that panics, standing in for any bug in a handler.
struct BrokenClock;

impl Clock for BrokenClock {
    fn now(&self) -> DateTime<Utc> {
        panic!("the clock broke")
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_500_in_the_error_shape_and_the_server_lives_on() {
    let database = steward_test_support::TestDatabase::sqlite();
    let app = TestApp::with(database, |state| state.with_clock(Arc::new(BrokenClock))).await;
    let response = app.post("/api/v1/jobs", json!({"kind": "noop"})).await;
    let message = response.assert_error(500, "internal", None);
    assert!(!message.contains("clock"), "panic details stay in the log: {message}");
    app.get("/api/v1/health").await.assert_status(200);
}
