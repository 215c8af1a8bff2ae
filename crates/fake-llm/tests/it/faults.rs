//! Each injected fault looks on the wire the way the real failure does.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use steward_fake_llm::{FakeLlm, Fault, Reply};

use crate::scripting::{ANTHROPIC_HEADERS, anthropic_request, openai_request, post_json};

async fn anthropic_post(fake: &FakeLlm, stream: bool) -> reqwest::Response {
    let mut request =
        reqwest::Client::new().post(format!("{}/v1/messages", fake.base_url())).json(&anthropic_request("x", stream));
    for (name, value) in ANTHROPIC_HEADERS {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Reads a body to its end, returning what arrived and whether it ended in error.
async fn read_body(response: reqwest::Response) -> (String, bool) {
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while let Some(piece) = stream.next().await {
        match piece {
            Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => return (text, true),
        }
    }
    (text, false)
}

#[tokio::test]
async fn rate_limits_carry_retry_after_in_seconds_or_milliseconds() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::rate_limited(3));
    fake.push(Fault::rate_limited_ms(1500));
    let (status, headers, body) =
        post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &anthropic_request("x", false)).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "3");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["type"], "rate_limit_error");
    let (status, headers, body) =
        post_json(&format!("{}/chat/completions", fake.openai_base_url()), &[], &openai_request("x", true)).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after-ms"], "1500");
    assert!(headers.get("retry-after").is_none());
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn overloaded_is_529_for_anthropic_and_503_for_openai() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::overloaded());
    fake.push(Fault::overloaded());
    let (status, _, body) =
        post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &anthropic_request("x", true)).await;
    assert_eq!(status, 529);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["type"], "overloaded_error");
    let (status, _, _) =
        post_json(&format!("{}/chat/completions", fake.openai_base_url()), &[], &openai_request("x", false)).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn a_cut_stream_ends_in_a_transport_error_after_the_first_events() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::cut_after(3, Reply::text("this reply never finishes")));
    let response = anthropic_post(&fake, true).await;
    assert_eq!(response.status(), 200);
    let (received, ended_in_error) = read_body(response).await;
    assert!(ended_in_error, "the connection must be cut, not closed cleanly");
    assert_eq!(received.matches("\n\n").count(), 3, "{received}");
    assert!(!received.contains("message_stop"));
}

#[tokio::test]
async fn a_malformed_stream_carries_a_frame_that_is_not_json() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::malformed_after(2, Reply::text("hello")));
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .json(&openai_request("x", true))
        .send()
        .await
        .unwrap();
    let (received, ended_in_error) = read_body(response).await;
    assert!(!ended_in_error);
    let bad_frames = received
        .split("\n\n")
        .filter_map(|frame| frame.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]" && serde_json::from_str::<Value>(data).is_err())
        .count();
    assert_eq!(bad_frames, 1, "{received}");
}

#[tokio::test]
async fn an_error_event_arrives_mid_stream() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::overloaded_mid_stream(4, Reply::text("partial")));
    let (received, _) = read_body(anthropic_post(&fake, true).await).await;
    assert!(received.contains("event: error\ndata: {"), "{received}");
    assert!(received.contains("overloaded_error"));
}

#[tokio::test]
async fn a_hanging_request_gets_no_answer_until_the_fake_stops() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::hang());
    let client = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let outcome = client
        .post(format!("{}/chat/completions", fake.openai_base_url()))
        .json(&openai_request("x", false))
        .send()
        .await;
    assert!(outcome.unwrap_err().is_timeout());
    assert_eq!(fake.stats().in_flight, 1);
}

#[tokio::test]
async fn a_stalled_stream_sends_its_first_events_then_nothing() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::stall_after(2, Reply::text("stalls")));
    let response = anthropic_post(&fake, true).await;
    let mut stream = response.bytes_stream();
    let mut received = String::new();
    while received.matches("\n\n").count() < 2 {
        received.push_str(&String::from_utf8_lossy(&stream.next().await.unwrap().unwrap()));
    }
    let next = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(next.is_err(), "nothing more arrives");
}

#[tokio::test]
async fn a_slow_first_byte_delays_the_response_headers() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::text("late").with_first_byte_delay(Duration::from_millis(300)));
    let started = Instant::now();
    let response = anthropic_post(&fake, true).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_api_key_echoing_error_quotes_the_presented_key() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::authentication_echoing_key());
    let (status, _, body) =
        post_json(&format!("{}/v1/messages", fake.base_url()), ANTHROPIC_HEADERS, &anthropic_request("x", false)).await;
    assert_eq!(status, 401);
    assert!(body.contains("sk-ant-test"), "the fault is only useful if it leaks: {body}");
}
