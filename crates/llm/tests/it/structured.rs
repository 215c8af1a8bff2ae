//! Structured output against the fake: the provider's native mode is
//! requested, an invalid reply is answered with its validation errors, and a
//! valid one comes back typed.

use serde::Deserialize;
use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Reply, ReplyUsage};
use steward_llm::{
    ChatRequest, ErrorKind, JsonSchemaSpec, ModelPrice, Protocol, StructuredOptions, complete_json, complete_typed,
};

use crate::support::{PROTOCOLS, priced_model, raw_model};

#[derive(Debug, PartialEq, Deserialize, schemars::JsonSchema)]
struct CityWeather {
    city: String,
    temperature_c: f64,
}

/// What a provider sends when asked for JSON natively: Anthropic answers
/// with a call to the forced tool, OpenAI with JSON text.
fn structured_reply(protocol: Protocol, value: &Value) -> Reply {
    match protocol {
        Protocol::Anthropic => Reply::tool_call(steward_llm::providers::anthropic::STRUCTURED_OUTPUT_TOOL, value),
        Protocol::OpenAi => Reply::json(value),
    }
}

#[tokio::test]
async fn an_invalid_reply_is_answered_with_its_errors_then_the_valid_one_is_returned_typed() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        let usage = ReplyUsage { input_tokens: 100, output_tokens: 10, ..Default::default() };
        fake.push(structured_reply(protocol, &json!({"city": "Paris"})).with_usage(usage));
        fake.push(structured_reply(protocol, &json!({"city": "Paris", "temperature_c": 21.5})).with_usage(usage));
        let model = priced_model(&fake, protocol, ModelPrice::new(1.0, 2.0, 0.1, 1.25));

        let result = complete_typed::<CityWeather>(
            model.as_ref(),
            ChatRequest::from_user_text("Weather in Paris?"),
            StructuredOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(result.value, CityWeather { city: "Paris".into(), temperature_c: 21.5 });
        assert_eq!(result.attempts, 2);
        assert_eq!(result.total_usage.input_tokens, 200);
        assert_eq!(result.total_usage.output_tokens, 20);
        // 2 × (100 × $1 + 10 × $2) per million.
        assert!((result.total_cost_usd.unwrap() - 0.00024).abs() < 1e-12);

        let requests = fake.requests();
        assert_eq!(requests.len(), 2);
        match protocol {
            Protocol::Anthropic => {
                assert_eq!(requests[0].body["tool_choice"], json!({"type": "tool", "name": "structured_output"}));
                assert_eq!(requests[0].body["tools"][0]["input_schema"]["required"], json!(["city", "temperature_c"]));
            }
            Protocol::OpenAi => {
                assert_eq!(requests[0].body["response_format"]["type"], "json_schema");
                assert_eq!(requests[0].body["response_format"]["json_schema"]["name"], "CityWeather");
            }
        }
        // The re-ask shows the model its own reply and what was wrong with it.
        let reask = requests[1].last_user_text().unwrap();
        assert!(reask.contains("temperature_c") && reask.contains("required"), "{protocol:?}: {reask}");
        let messages = requests[1].messages();
        let assistant_turn = messages.iter().rev().find(|message| message["role"] == "assistant").unwrap();
        assert!(assistant_turn.to_string().contains("Paris"));
    }
}

#[tokio::test]
async fn a_schema_from_a_file_is_validated_and_gives_up_after_the_reask_limit() {
    let directory = std::env::temp_dir().join(format!("steward-llm-schema-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("task.json");
    std::fs::write(
        &path,
        r#"{"type": "object", "properties": {"priority": {"enum": ["high", "low"]}}, "required": ["priority"]}"#,
    )
    .unwrap();
    let schema = JsonSchemaSpec::from_file(&path).unwrap();
    assert_eq!(schema.name(), "task");

    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        for _ in 0..3 {
            fake.push(structured_reply(protocol, &json!({"priority": "urgent"})));
        }
        let outcome = complete_json(
            raw_model(&fake, protocol).as_ref(),
            ChatRequest::from_user_text("x"),
            &schema,
            StructuredOptions { max_reasks: 2 },
        )
        .await;
        let error = outcome.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidStructuredOutput, "{protocol:?}");
        assert!(
            error.message().contains("after 3 attempts") && error.message().contains("/priority"),
            "{}",
            error.message()
        );
        assert_eq!(fake.requests().len(), 3);

        fake.push(structured_reply(protocol, &json!({"priority": "high"})));
        let ok = complete_json(
            raw_model(&fake, protocol).as_ref(),
            ChatRequest::from_user_text("x"),
            &schema,
            StructuredOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(ok.value, json!({"priority": "high"}));
        assert_eq!(ok.attempts, 1);
    }
    std::fs::remove_dir_all(&directory).unwrap();
}

#[tokio::test]
async fn a_json_schema_reply_from_anthropic_streams_as_text() {
    let fake = FakeLlm::start().await.unwrap();
    // Unscripted: the fake fills in the forced tool's schema by itself.
    let schema = JsonSchemaSpec::for_type::<CityWeather>().unwrap();
    let request = ChatRequest::from_user_text("x").with_response_format(schema.response_format());
    let response = raw_model(&fake, Protocol::Anthropic).complete(request).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&response.text()).unwrap(),
        json!({"city": "example", "temperature_c": 0.0})
    );
    assert_eq!(response.stop_reason, steward_llm::StopReason::EndTurn);
    assert!(response.tool_calls.is_empty());
}
