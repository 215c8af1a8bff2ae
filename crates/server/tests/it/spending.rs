//! Limits per route: requests that call a model (runs, chats…) are counted
//! per token and per client address and refused with 429 and Retry-After
//! over the limit; routes that take what a person types refuse bodies far
//! smaller than the server's limit.

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::Duration;
use serde_json::{Value, json};
use steward_domain::auth::{NewToken, NewUser, Scope, TokenKind};
use steward_server::auth::{SpendingLimits, secrets};

use crate::support::{TestApp, TestResponse, api_tests};

api_tests!(model_calls_are_limited_per_token_and_per_address, typed_bodies_have_a_smaller_limit);

async fn token_of(app: &TestApp, name: &str) -> String {
    let user = match app.store.user_with_password("bea").await.unwrap() {
        Some((user, _)) => user,
        None => app.store.create_user(NewUser { name: "bea".into(), admin: false }, None).await.unwrap(),
    };
    let secret = secrets::new_token();
    let new =
        NewToken { user_id: user.id, kind: TokenKind::Api, name: name.into(), scope: Scope::Write, expires_at: None };
    app.store.create_token(new, secrets::hash_token(&secret)).await.unwrap();
    secret
}

async fn post_as(app: &TestApp, token: &str, path: &str, body: &Value) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

async fn model_calls_are_limited_per_token_and_per_address(mut app: TestApp) {
    app.state.auth.spending = SpendingLimits::per_minute(2, 3);
    let (first, second) = (token_of(&app, "laptop").await, token_of(&app, "phone").await);
    let agent = post_as(&app, &first, "/api/v1/agents", &json!({"name": "Spender", "goal": "G"})).await;
    let runs = format!("/api/v1/agents/{}/runs", agent.assert_status(201)["id"]);
    let run = json!({"instruction": "Go"});
    for _ in 0..2 {
        post_as(&app, &first, &runs, &run).await.assert_status(201);
    }
    let refused = app.refused(post_as(&app, &first, &runs, &run)).await;
    assert!(refused.assert_error(429, "rate_limited", None).contains("this token"));
    assert_eq!(refused.headers["retry-after"], "60");
    // Another token from the same address has its own count, until the
    // address's is spent too.
    post_as(&app, &second, &runs, &run).await.assert_status(201);
    let refused = post_as(&app, &second, &runs, &run).await;
    assert!(refused.assert_error(429, "rate_limited", None).contains("this address"));
    // Requests that call no model are not counted.
    post_as(&app, &first, "/api/v1/jobs", &json!({"kind": "noop"})).await.assert_status(201);
    app.clock.advance(Duration::seconds(30));
    assert_eq!(post_as(&app, &first, &runs, &run).await.headers["retry-after"], "30");
    app.clock.advance(Duration::seconds(30));
    post_as(&app, &first, &runs, &run).await.assert_status(201);
}

async fn typed_bodies_have_a_smaller_limit(app: TestApp) {
    let agent = app.agent("Talker").await;
    let runs = format!("/api/v1/agents/{agent}/runs");
    // Larger than any valid instruction, smaller than the server's limit.
    let long = "x".repeat(1536 * 1024);
    let refused = app.refused(app.post(&runs, json!({"instruction": long}))).await;
    assert!(refused.assert_error(413, "payload_too_large", None).contains("this endpoint accepts"));
    // The longest valid instruction fits, even in three-byte characters.
    let widest = "€".repeat(steward_domain::run::limits::INSTRUCTION_CHARS);
    app.post(&runs, json!({"instruction": widest})).await.assert_status(201);
    // A batch of jobs keeps the server's limit.
    let jobs: Vec<Value> =
        (0..200).map(|index| json!({"kind": "noop", "payload": {"pad": "y".repeat(400), "i": index}})).collect();
    app.post("/api/v1/jobs/batch", json!({"jobs": jobs})).await.assert_status(201);
}
