//! Shared helpers: a fake provider with clients of both protocols pointed at
//! it, and ways to run a call and look at what came back.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use steward_fake_llm::FakeLlm;
use steward_llm::{
    ApiKey, ChatModel, ChatRequest, LlmError, ModelPrice, Protocol, ProviderClient, RecordingSleeper, Retrier,
    RetryPolicy, RetryingModel, StreamEvent, Timeouts,
};

pub const ANTHROPIC_TEST_KEY: &str = "sk-ant-test-0123456789abcdef";
pub const OPENAI_TEST_KEY: &str = "sk-openai-test-0123456789abcdef";

/// Both protocols: every test that is about behaviour runs against each.
pub const PROTOCOLS: [Protocol; 2] = [Protocol::Anthropic, Protocol::OpenAi];

/// Short enough that timeout tests finish quickly, long enough that an idle
/// loopback call never trips them.
pub fn test_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        first_byte: Duration::from_secs(10),
        stream_idle: Duration::from_secs(10),
    }
}

pub fn provider_for(fake: &FakeLlm, protocol: Protocol, timeouts: Timeouts) -> ProviderClient {
    match protocol {
        Protocol::Anthropic => ProviderClient::new(
            "anthropic",
            protocol,
            &fake.anthropic_base_url(),
            Some(ApiKey::new(ANTHROPIC_TEST_KEY)),
            timeouts,
        ),
        Protocol::OpenAi => ProviderClient::new(
            "openai",
            protocol,
            &fake.openai_base_url(),
            Some(ApiKey::new(OPENAI_TEST_KEY)),
            timeouts,
        ),
    }
    .unwrap()
}

pub fn model_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Anthropic => "claude-sonnet-4-5",
        Protocol::OpenAi => "gpt-4.1-mini",
    }
}

/// A client with no retries, no price.
pub fn raw_model(fake: &FakeLlm, protocol: Protocol) -> Arc<dyn ChatModel> {
    provider_for(fake, protocol, test_timeouts()).chat_model(model_name(protocol), None)
}

pub fn priced_model(fake: &FakeLlm, protocol: Protocol, price: ModelPrice) -> Arc<dyn ChatModel> {
    provider_for(fake, protocol, test_timeouts()).chat_model(model_name(protocol), Some(price))
}

/// Retries with delays of 1 s, 2 s, 4 s … (no jitter) recorded, not slept.
pub fn retrying_model(inner: Arc<dyn ChatModel>, max_retries: u32) -> (Arc<dyn ChatModel>, Arc<RecordingSleeper>) {
    let sleeper = RecordingSleeper::new();
    let policy = RetryPolicy { max_retries, ..RetryPolicy::default() };
    let retrier = Retrier::new(policy).with_sleeper(sleeper.clone()).with_jitter(Arc::new(|| 0.0));
    (Arc::new(RetryingModel::new(inner, retrier)), sleeper)
}

/// Every item of a stream, the error (if any) last.
pub async fn stream_all(model: &dyn ChatModel, request: ChatRequest) -> (Vec<StreamEvent>, Option<LlmError>) {
    let mut stream = model.stream(request);
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(error) => {
                assert!(stream.next().await.is_none(), "nothing may follow an error");
                return (events, Some(error));
            }
        }
    }
    (events, None)
}

pub fn text_of(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}
