//! Scripting the fake: the FIFO queue, the responder, the default reply, the
//! record of received requests, and the checks a real API would make.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_fake_llm::{Endpoint, FakeLlm, Fault, Reply, ReplyUsage};

pub async fn post_json(url: &str, headers: &[(&str, &str)], body: &Value) -> (u16, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::new();
    let mut request = client.post(url).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

pub fn anthropic_request(prompt: &str, stream: bool) -> Value {
    json!({ "model": "claude-test", "max_tokens": 64, "stream": stream, "messages": [{ "role": "user", "content": prompt }] })
}

pub fn openai_request(prompt: &str, stream: bool) -> Value {
    json!({ "model": "gpt-test", "stream": stream, "messages": [{ "role": "user", "content": prompt }] })
}

pub const ANTHROPIC_HEADERS: &[(&str, &str)] = &[("x-api-key", "sk-ant-test"), ("anthropic-version", "2023-06-01")];

async fn anthropic_text(fake: &FakeLlm, prompt: &str) -> String {
    let (status, _, body) =
        post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &anthropic_request(prompt, false))
            .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["content"][0]["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn queue_comes_first_then_the_responder_then_the_default_reply() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::text("first"));
    fake.push(Reply::text("second"));
    fake.set_responder(|request| request.mentions("route-me").then(|| Reply::text("routed").into()));

    assert_eq!(anthropic_text(&fake, "route-me").await, "first");
    assert_eq!(anthropic_text(&fake, "route-me").await, "second");
    assert_eq!(anthropic_text(&fake, "route-me").await, "routed");
    let default = anthropic_text(&fake, "hello there").await;
    assert!(default.contains("steward-fake-llm") && default.contains("hello there"), "{default}");
    assert_eq!(fake.queued(), 0);
}

#[tokio::test]
async fn every_request_is_recorded_with_headers_and_body() {
    let fake = FakeLlm::start().await.unwrap();
    let body = json!({
        "model": "claude-test", "max_tokens": 10, "system": [{ "type": "text", "text": "You are terse." }],
        "messages": [{ "role": "user", "content": [{ "type": "text", "text": "hi" }] }]
    });
    post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &body).await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.endpoint, Endpoint::AnthropicMessages);
    assert_eq!(request.body, body);
    assert_eq!(request.header("X-Api-Key"), Some("sk-ant-test"));
    assert_eq!(request.presented_api_key(), Some("sk-ant-test"));
    assert_eq!(request.system_text().as_deref(), Some("You are terse."));
    assert_eq!(request.last_user_text().as_deref(), Some("hi"));
    assert_eq!(fake.take_requests().len(), 1);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn usage_numbers_are_reported_as_scripted_in_both_protocols() {
    let fake = FakeLlm::start().await.unwrap();
    let usage = ReplyUsage { input_tokens: 11, output_tokens: 22, cache_read_tokens: 33, cache_write_tokens: 44 };
    fake.push(Reply::text("a").with_usage(usage));
    fake.push(Reply::text("b").with_usage(usage));
    let (_, _, anthropic) =
        post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &anthropic_request("x", false)).await;
    let anthropic: Value = serde_json::from_str(&anthropic).unwrap();
    assert_eq!(
        anthropic["usage"],
        json!({ "input_tokens": 11, "output_tokens": 22, "cache_read_input_tokens": 33, "cache_creation_input_tokens": 44 })
    );
    let (_, _, openai) =
        post_json(&format!("{}/chat/completions", fake.openai_base_url()), &[], &openai_request("x", false)).await;
    let openai: Value = serde_json::from_str(&openai).unwrap();
    assert_eq!(openai["usage"]["prompt_tokens"], 88);
    assert_eq!(openai["usage"]["completion_tokens"], 22);
    assert_eq!(openai["usage"]["prompt_tokens_details"]["cached_tokens"], 33);
}

#[tokio::test]
async fn invalid_requests_are_rejected_like_the_real_apis_without_consuming_a_script() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::text("kept"));
    let no_max_tokens = json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }] });
    let (status, _, body) =
        post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &no_max_tokens).await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("max_tokens"));

    let (status, _, _) =
        post_json(&format!("{}/v1/messages", fake.base_url()), &[], &anthropic_request("x", false)).await;
    assert_eq!(status, 400, "anthropic-version is required");

    let (status, _, body) =
        post_json(&format!("{}/chat/completions", fake.openai_base_url()), &[], &json!({ "model": "m" })).await;
    assert_eq!(status, 400);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["error"]["message"].as_str().unwrap().contains("messages"));
    assert_eq!(fake.queued(), 1);
}

#[tokio::test]
async fn a_required_api_key_is_checked() {
    let fake = FakeLlm::start().await.unwrap();
    fake.require_api_key("sk-right");
    let (status, _, body) = post_json(
        &format!("{}/chat/completions", fake.openai_base_url()),
        &[("authorization", "Bearer sk-wrong")],
        &openai_request("x", false),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], "invalid_api_key");
    let (status, _, _) = post_json(
        &format!("{}/chat/completions", fake.openai_base_url()),
        &[("authorization", "Bearer sk-right")],
        &openai_request("x", false),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn embeddings_are_computed_and_leave_queued_replies_alone() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::text("for the chat"));
    let request =
        json!({ "model": "text-embedding-3-small", "input": ["the cat", "the cat", "stock prices"], "dimensions": 16 });
    let (status, _, body) = post_json(&format!("{}/embeddings", fake.openai_base_url()), &[], &request).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let vectors: Vec<Vec<f64>> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| serde_json::from_value(item["embedding"].clone()).unwrap())
        .collect();
    assert_eq!(vectors.len(), 3);
    assert_eq!(vectors[0].len(), 16);
    assert_eq!(vectors[0], vectors[1], "deterministic");
    assert_ne!(vectors[0], vectors[2]);
    assert_eq!(fake.queued(), 1);
}

#[tokio::test]
async fn unscripted_forced_tool_calls_and_json_schemas_get_matching_defaults() {
    let fake = FakeLlm::start().await.unwrap();
    let forced = json!({
        "model": "claude-test", "max_tokens": 64,
        "messages": [{ "role": "user", "content": "x" }],
        "tools": [{ "name": "record", "input_schema": { "type": "object", "properties": { "n": { "type": "integer" } } } }],
        "tool_choice": { "type": "tool", "name": "record" }
    });
    let (_, _, body) = post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &forced).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["stop_reason"], "tool_use");
    assert_eq!(body["content"][0]["name"], "record");
    assert_eq!(body["content"][0]["input"], json!({ "n": 0 }));

    let schema = json!({ "type": "object", "properties": { "title": { "type": "string" } }, "required": ["title"] });
    let structured = json!({
        "model": "gpt-test", "messages": [{ "role": "user", "content": "x" }],
        "response_format": { "type": "json_schema", "json_schema": { "name": "out", "schema": schema } }
    });
    let (_, _, body) = post_json(&format!("{}/chat/completions", fake.openai_base_url()), &[], &structured).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    let content: Value = serde_json::from_str(body["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(content, json!({ "title": "example" }));
}

#[tokio::test]
async fn a_server_wide_reply_delay_holds_every_reply() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_reply_delay(Duration::from_millis(300));
    let started = Instant::now();
    anthropic_text(&fake, "x").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conversations_get_their_own_replies_from_the_responder() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(|request| {
        let prompt = request.last_user_text()?;
        let conversation = prompt.strip_prefix("conversation ")?;
        Some(Reply::text(format!("reply for {conversation}")).into())
    });
    let base_url = fake.base_url();
    let tasks: Vec<_> = (0..200)
        .map(|conversation| {
            let base_url = base_url.clone();
            tokio::spawn(async move {
                let (_, _, body) = post_json(
                    &format!("{base_url}/v1/messages"),
                    ANTHROPIC_HEADERS,
                    &anthropic_request(&format!("conversation {conversation}"), false),
                )
                .await;
                let body: Value = serde_json::from_str(&body).unwrap();
                (conversation, body["content"][0]["text"].as_str().unwrap().to_owned())
            })
        })
        .collect();
    for task in tasks {
        let (conversation, text) = task.await.unwrap();
        assert_eq!(text, format!("reply for {conversation}"));
    }
    assert_eq!(fake.requests().len(), 200);
    // A fault can still be scripted ahead of the responder.
    fake.push(Fault::server_error());
    let (status, _, _) =
        post_json(&format!("{base_url}/v1/messages"), ANTHROPIC_HEADERS, &anthropic_request("conversation 1", false))
            .await;
    assert_eq!(status, 500);
}
