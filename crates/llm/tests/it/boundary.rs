//! The request boundary: the exact JSON and headers we send to each API,
//! snapshot-tested. Keys are checked, then redacted from the snapshots.

use serde_json::{Map, Value, json};
use steward_fake_llm::{FakeLlm, ReceivedRequest};
use steward_llm::{
    ChatRequest, ContentPart, ImageSource, JsonSchemaSpec, Message, Protocol, Role, ToolChoice, ToolDefinition,
};

use crate::support::{ANTHROPIC_TEST_KEY, OPENAI_TEST_KEY, PROTOCOLS, provider_for, raw_model, test_timeouts};

/// The headers that matter to the provider, with secrets checked and redacted.
fn boundary(request: &ReceivedRequest) -> Value {
    let mut headers = Map::new();
    for name in ["content-type", "accept", "anthropic-version", "x-api-key", "authorization", "user-agent"] {
        let Some(value) = request.header(name) else {
            continue;
        };
        let shown = match name {
            "x-api-key" => {
                assert_eq!(value, ANTHROPIC_TEST_KEY);
                "[key]".to_owned()
            }
            "authorization" => {
                assert_eq!(value, format!("Bearer {OPENAI_TEST_KEY}"));
                "Bearer [key]".to_owned()
            }
            "user-agent" => value.split('/').next().unwrap_or_default().to_owned() + "/[version]",
            _ => value.to_owned(),
        };
        headers.insert(name.to_owned(), Value::String(shown));
    }
    json!({ "path": request.path, "headers": headers, "body": request.body })
}

fn tools() -> Vec<ToolDefinition> {
    vec![
        ToolDefinition::new(
            "get_weather",
            "Current weather in a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        ),
        ToolDefinition::new(
            "read_file",
            "Read a workspace file",
            json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        ),
    ]
}

/// A request that uses every feature: a cached system prompt, an image, a
/// tool round trip with a failed result, a cache breakpoint, tool choice,
/// temperature, stop sequences.
fn full_request() -> ChatRequest {
    let image = ContentPart::Image {
        source: ImageSource::Base64 { media_type: "image/png".into(), data: "iVBORw0KGgo=".into() },
    };
    ChatRequest::new(vec![
        Message::new(
            Role::User,
            vec![ContentPart::text("What is in this picture, and what is the weather in Paris?"), image],
        ),
        Message::new(
            Role::Assistant,
            vec![
                ContentPart::text("A cat. Checking the weather."),
                ContentPart::ToolUse {
                    id: "toolu_1".into(),
                    name: "get_weather".into(),
                    input: json!({"city": "Paris"}),
                },
            ],
        ),
        Message::new(
            Role::User,
            vec![ContentPart::tool_result("toolu_1", "service unavailable", true), ContentPart::text("Try once more.")],
        )
        .with_cache_breakpoint(),
    ])
    .with_system("You are Steward's test agent.")
    .with_cached_system_prompt()
    .with_tools(tools())
    .with_tool_choice(ToolChoice::Any)
    .with_max_tokens(1024)
    .with_temperature(0.2)
    .with_stop_sequences(vec!["END".into()])
}

async fn sent_request(protocol: Protocol, request: ChatRequest) -> Value {
    let fake = FakeLlm::start().await.unwrap();
    raw_model(&fake, protocol).complete(request).await.unwrap();
    boundary(&fake.requests()[0])
}

#[tokio::test]
async fn anthropic_full_request() {
    insta::assert_json_snapshot!(sent_request(Protocol::Anthropic, full_request()).await);
}

#[tokio::test]
async fn openai_full_request() {
    insta::assert_json_snapshot!(sent_request(Protocol::OpenAi, full_request()).await);
}

#[tokio::test]
async fn structured_output_requests() {
    let schema = JsonSchemaSpec::new(
        "city_weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
    .unwrap();
    for protocol in PROTOCOLS {
        let request = ChatRequest::from_user_text("Weather?").with_response_format(schema.response_format());
        let sent = sent_request(protocol, request).await;
        insta::assert_json_snapshot!(format!("structured_output_request_{}", protocol.as_str()), sent);
    }
}

#[tokio::test]
async fn embeddings_request() {
    let fake = FakeLlm::start().await.unwrap();
    provider_for(&fake, Protocol::OpenAi, test_timeouts())
        .embedding_model("text-embedding-3-small", None)
        .unwrap()
        .embed(&["one".to_owned(), "two".to_owned()])
        .await
        .unwrap();
    insta::assert_json_snapshot!(boundary(&fake.requests()[0]));
}

/// The body is handed to the HTTP client as a one-shot body (so it is not
/// kept for redirects); it must still go with its length, not chunked.
#[tokio::test]
async fn bodies_are_sent_with_their_length() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        raw_model(&fake, protocol).complete(full_request()).await.unwrap();
        let request = &fake.requests()[0];
        let length: usize = request.header("content-length").expect("a content-length").parse().unwrap();
        assert_eq!(length, request.body.to_string().len(), "{protocol:?}");
        assert_eq!(request.header("transfer-encoding"), None, "{protocol:?}");
    }
}
