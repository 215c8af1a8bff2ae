//! The OpenAI-compatible endpoint in-process: models are the caller's
//! agents, and every refusal — of the endpoint, of the body, of the API's
//! guards — comes in OpenAI's error shape, storing nothing. (Answers need
//! workers; `crates/cli/tests/it/openai_endpoint.rs` drives them through
//! the binary with the official SDK.)

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse, api_tests};

api_tests!(agents_are_listed_as_models, refusals_come_in_openais_shape_and_store_nothing);

async fn agents_are_listed_as_models(app: TestApp) {
    app.agent("Scribe").await;
    app.agent("Planner").await;
    let models = app.get("/v1/models").await;
    let ids: Vec<&str> =
        models.assert_status(200)["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(models.body["object"], "list");
    assert!(ids.contains(&"Scribe") && ids.contains(&"Planner") && ids.len() == 2, "{ids:?}");
    let one = app.get("/v1/models/Scribe").await;
    assert_eq!((one.assert_status(200)["id"].as_str(), one.body["object"].as_str()), (Some("Scribe"), Some("model")));
    assert_eq!(one.body["owned_by"], "steward");
}

async fn send(app: &TestApp, body: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request =
        Request::builder().method(Method::POST).uri("/v1/chat/completions").header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap()).await
}

/// Asserts OpenAI's error shape: status, `code` and `param`.
#[track_caller]
fn assert_openai_error(response: &TestResponse, status: u16, code: &str, param: Option<&str>) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text);
    let error = &response.body["error"];
    assert_eq!(error["code"], code, "{}", response.text);
    assert_eq!(error["param"], param.map_or(Value::Null, Value::from), "{}", response.text);
    assert!(error["type"].is_string() && error["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", response.text);
    assert!(error.get("field").is_none(), "not the API's own shape: {}", response.text);
}

async fn refusals_come_in_openais_shape_and_store_nothing(app: TestApp) {
    let agent = app.agent("Scribe").await;
    let events = app.get("/api/v1/events?after=0&limit=1000").await.body["events"].as_array().unwrap().len();
    let hello = |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]}).to_string();

    let unknown = send(&app, &hello("Nobody"), &[]).await;
    assert_openai_error(&unknown, 404, "model_not_found", Some("model"));
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("`Nobody`"), "{}", unknown.text);
    assert_openai_error(&app.get("/v1/models/Nobody").await, 404, "model_not_found", Some("model"));

    let malformed = send(&app, "{\"model\": \"Scribe\", ", &[]).await;
    assert_openai_error(&malformed, 422, "invalid_field", Some("body"));
    let cases = [
        (json!({"messages": [{"role": "user", "content": "Hi"}]}), "model"),
        (json!({"model": "Scribe"}), "messages"),
        (json!({"model": "Scribe", "messages": []}), "messages"),
        (json!({"model": "Scribe", "messages": [{"role": "assistant", "content": "Hi"}]}), "messages[0].role"),
        (
            json!({"model": "Scribe", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
            "messages[0].content[0].type",
        ),
        (json!({"model": "Scribe", "n": 3, "messages": [{"role": "user", "content": "Hi"}]}), "n"),
    ];
    for (body, param) in cases {
        assert_openai_error(&send(&app, &body.to_string(), &[]).await, 422, "invalid_field", Some(param));
    }
    // The API's guards answer in the same shape.
    let foreign = send(&app, &hello("Scribe"), &[("host", "evil.example")]).await;
    assert_openai_error(&foreign, 403, "host_not_allowed", None);
    let unknown_route = app.get("/v1/embeddings").await;
    assert_openai_error(&unknown_route, 404, "route_not_found", None);

    let after = app.get("/api/v1/events?after=0&limit=1000").await.body["events"].as_array().unwrap().len();
    assert_eq!(after, events, "a refused completion changes nothing");
    let chat = app.get(&format!("/api/v1/agents/{agent}/chat")).await;
    assert_eq!(chat.assert_status(200)["messages"], json!([]));
}
