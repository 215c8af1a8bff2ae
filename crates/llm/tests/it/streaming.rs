//! Streaming replies: text arrives in pieces and in order, parallel tool
//! calls arrive as start / argument pieces / end, and a conversation with
//! tool results goes back out in each protocol's shape.

use serde_json::json;
use steward_fake_llm::{FakeLlm, Reply, ReplyUsage};
use steward_llm::{ChatRequest, ContentPart, Message, StopReason, StreamEvent, ToolChoice, ToolDefinition, Usage};

use crate::support::{PROTOCOLS, model_name, raw_model, stream_all, text_of};

fn weather_tool() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Current weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

#[tokio::test]
async fn text_streams_in_pieces_then_finishes_with_usage() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        let usage = ReplyUsage { input_tokens: 12, output_tokens: 7, cache_read_tokens: 0, cache_write_tokens: 0 };
        fake.push(Reply::text("The quick brown fox jumps.").with_chunk_chars(5).with_usage(usage));
        let model = raw_model(&fake, protocol);
        let (events, error) = stream_all(model.as_ref(), ChatRequest::from_user_text("Tell me a sentence.")).await;
        assert!(error.is_none(), "{protocol:?}: {error:?}");

        assert!(
            matches!(&events[0], StreamEvent::Started { provider_model, .. } if provider_model == model_name(protocol))
        );
        let deltas: Vec<&str> = events
            .iter()
            .filter_map(|event| match event {
                StreamEvent::TextDelta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(deltas, ["The q", "uick ", "brown", " fox ", "jumps", "."], "{protocol:?}");
        let StreamEvent::Finished(finish) = events.last().unwrap() else {
            panic!("{protocol:?}: last event is {:?}", events.last())
        };
        assert_eq!(finish.stop_reason, StopReason::EndTurn);
        assert_eq!(
            finish.usage,
            Usage { input_tokens: 12, output_tokens: 7, cache_read_tokens: 0, cache_write_tokens: 0 }
        );
        assert_eq!(finish.cost_usd, None, "no price given, so the cost is unknown");
        assert!(finish.time_to_first_token.is_some_and(|first| first <= finish.elapsed));
        assert_eq!(finish.model.to_string(), format!("{}/{}", protocol.as_str(), model_name(protocol)));
    }
}

#[tokio::test]
async fn parallel_tool_calls_arrive_as_start_argument_pieces_and_end() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(
            Reply::text("Checking three cities.")
                .then_tool_call("get_weather", &json!({"city": "Paris"}))
                .then_tool_call("get_weather", &json!({"city": "Tokyo"}))
                .then_tool_call("get_time", &json!({"zone": "Europe/Berlin", "format": "24h"}))
                .with_chunk_chars(6),
        );
        let model = raw_model(&fake, protocol);
        let request = ChatRequest::from_user_text("Weather and time?").with_tools(vec![weather_tool()]);
        let (events, error) = stream_all(model.as_ref(), request).await;
        assert!(error.is_none(), "{protocol:?}: {error:?}");
        assert_eq!(text_of(&events), "Checking three cities.");

        for (index, (name, arguments)) in [
            ("get_weather", json!({"city": "Paris"})),
            ("get_weather", json!({"city": "Tokyo"})),
            ("get_time", json!({"zone": "Europe/Berlin", "format": "24h"})),
        ]
        .into_iter()
        .enumerate()
        {
            let started = events.iter().position(|event| matches!(event, StreamEvent::ToolCallStarted { index: i, name: n, .. } if *i == index && n == name));
            let pieces: Vec<(usize, &str)> = events
                .iter()
                .enumerate()
                .filter_map(|(position, event)| match event {
                    StreamEvent::ToolCallArgumentsDelta { index: i, fragment } if *i == index => {
                        Some((position, fragment.as_str()))
                    }
                    _ => None,
                })
                .collect();
            let finished = events.iter().enumerate().find_map(|(position, event)| match event {
                StreamEvent::ToolCallFinished { index: i, call } if *i == index => Some((position, call)),
                _ => None,
            });
            let started = started.unwrap_or_else(|| panic!("{protocol:?}: call {index} never started"));
            let (finished_at, call) = finished.unwrap_or_else(|| panic!("{protocol:?}: call {index} never finished"));
            assert!(pieces.len() > 1, "{protocol:?}: arguments arrive in several pieces");
            assert!(pieces.iter().all(|(position, _)| started < *position && *position < finished_at));
            let joined: String = pieces.iter().map(|(_, piece)| *piece).collect();
            assert_eq!(serde_json::from_str::<serde_json::Value>(&joined).unwrap(), arguments);
            assert_eq!(call.input, arguments);
            assert_eq!(call.name, name);
            assert!(call.malformed_input.is_none());
        }
        let StreamEvent::Finished(finish) = events.last().unwrap() else { panic!() };
        assert_eq!(finish.stop_reason, StopReason::ToolUse);

        // The collected reply keeps the order: text, then the three tool uses.
        fake.push(Reply::text("ok").then_tool_call("get_weather", &json!({"city": "Rome"})));
        let response =
            model.complete(ChatRequest::from_user_text("again").with_tools(vec![weather_tool()])).await.unwrap();
        assert_eq!(response.text(), "ok");
        assert!(
            matches!(&response.content[1], ContentPart::ToolUse { name, input, .. } if name == "get_weather" && input == &json!({"city": "Rome"}))
        );
        assert_eq!(response.tool_calls.len(), 1);
    }
}

#[tokio::test]
async fn a_tool_loop_sends_tool_results_back_in_each_protocols_shape() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Reply::tool_call("get_weather", &json!({"city": "Paris"})));
        fake.push(Reply::text("It is sunny in Paris."));
        let model = raw_model(&fake, protocol);
        let mut request = ChatRequest::from_user_text("Weather in Paris?")
            .with_tools(vec![weather_tool()])
            .with_tool_choice(ToolChoice::Auto);
        let first = model.complete(request.clone()).await.unwrap();
        assert_eq!(first.stop_reason, StopReason::ToolUse);
        let call = &first.tool_calls[0];
        request.messages.push(first.to_assistant_message());
        request.messages.push(Message::tool_results(vec![ContentPart::tool_result(&call.id, "sunny, 24 °C", false)]));
        let second = model.complete(request).await.unwrap();
        assert_eq!(second.text(), "It is sunny in Paris.");

        let sent = fake.requests();
        assert_eq!(sent[1].tool_result_count(), 1, "{protocol:?}: {}", sent[1].body);
        let messages = sent[1].messages();
        match protocol {
            steward_llm::Protocol::Anthropic => {
                assert_eq!(messages[1]["content"][0]["type"], "tool_use");
                assert_eq!(messages[2]["content"][0]["tool_use_id"], call.id.as_str());
            }
            steward_llm::Protocol::OpenAi => {
                assert_eq!(messages[1]["tool_calls"][0]["id"], call.id.as_str());
                assert_eq!(messages[2]["role"], "tool");
                assert_eq!(messages[2]["tool_call_id"], call.id.as_str());
            }
        }
    }
}

#[tokio::test]
async fn a_cut_tool_call_keeps_its_raw_arguments_for_the_caller() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(
            Reply::default()
                .then_tool_call_raw("call_1", "get_weather", r#"{"city": "Par"#)
                .with_stop(steward_fake_llm::StopKind::MaxTokens),
        );
        let response = raw_model(&fake, protocol)
            .complete(ChatRequest::from_user_text("x").with_tools(vec![weather_tool()]))
            .await
            .unwrap();
        assert_eq!(response.stop_reason, StopReason::MaxTokens);
        assert_eq!(response.tool_calls[0].malformed_input.as_deref(), Some(r#"{"city": "Par"#), "{protocol:?}");
        assert_eq!(response.tool_calls[0].input, json!({}));
    }
}

#[tokio::test]
async fn refusals_are_reported_as_a_stop_reason() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Reply::text("I can't help with that.").with_stop(steward_fake_llm::StopKind::Refusal));
        let response = raw_model(&fake, protocol).complete(ChatRequest::from_user_text("x")).await.unwrap();
        assert_eq!(response.stop_reason, StopReason::Refusal, "{protocol:?}");
    }
}

#[tokio::test]
async fn sequential_calls_reuse_one_connection() {
    for protocol in PROTOCOLS {
        let fake = FakeLlm::start().await.unwrap();
        let model = raw_model(&fake, protocol);
        for _ in 0..3 {
            model.complete(ChatRequest::from_user_text("x")).await.unwrap();
        }
        let peers: Vec<_> = fake.requests().iter().map(|request| request.peer_address.unwrap()).collect();
        assert!(
            peers.iter().all(|peer| *peer == peers[0]),
            "{protocol:?}: a finished reply frees its connection: {peers:?}"
        );
    }
}
