//! The scripted tool loop: every conversation gets tool calls until it holds
//! enough tool results, then the final answer, in both protocols.

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, TOOL_LOOP_ANSWER, ToolLoop};

use crate::scripting::{ANTHROPIC_HEADERS, post_json};

/// An Anthropic conversation offering two tools, with `results` tool rounds done.
fn anthropic_conversation(results: usize) -> Value {
    let mut messages = vec![json!({ "role": "user", "content": "go" })];
    for round in 0..results {
        let id = format!("toolu_{round}");
        messages.push(
            json!({ "role": "assistant", "content": [{ "type": "tool_use", "id": id, "name": "first", "input": {} }] }),
        );
        messages.push(
            json!({ "role": "user", "content": [{ "type": "tool_result", "tool_use_id": id, "content": "ok" }] }),
        );
    }
    json!({
        "model": "claude-test", "max_tokens": 64, "messages": messages,
        "tools": [
            { "name": "first", "input_schema": { "type": "object", "properties": { "path": { "type": "string" } } } },
            { "name": "second", "input_schema": { "type": "object" } }
        ]
    })
}

fn openai_conversation(results: usize) -> Value {
    let mut messages = vec![json!({ "role": "user", "content": "go" })];
    for round in 0..results {
        let id = format!("call_{round}");
        messages.push(json!({ "role": "assistant", "tool_calls": [{ "id": id, "type": "function", "function": { "name": "first", "arguments": "{}" } }] }));
        messages.push(json!({ "role": "tool", "tool_call_id": id, "content": "ok" }));
    }
    json!({
        "model": "gpt-test", "messages": messages,
        "tools": [{ "type": "function", "function": { "name": "first", "parameters": { "type": "object" } } }]
    })
}

async fn anthropic_reply(fake: &FakeLlm, results: usize) -> Value {
    let url = format!("{}/v1/messages", fake.base_url());
    let (status, _, body) = post_json(&url, ANTHROPIC_HEADERS, &anthropic_conversation(results)).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn calls_the_first_tool_offered_until_enough_results_then_answers() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_tool_loop(ToolLoop::new(2));
    for results in 0..2 {
        let reply = anthropic_reply(&fake, results).await;
        assert_eq!(reply["stop_reason"], "tool_use", "{reply}");
        assert_eq!(reply["content"][0]["name"], "first");
        assert_eq!(reply["content"][0]["input"], json!({ "path": "example" }));
    }
    let reply = anthropic_reply(&fake, 2).await;
    assert_eq!(reply["stop_reason"], "end_turn", "{reply}");
    assert_eq!(reply["content"][0]["text"], TOOL_LOOP_ANSWER);

    let url = format!("{}/chat/completions", fake.openai_base_url());
    let (_, _, body) = post_json(&url, &[], &openai_conversation(1)).await;
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "first", "{reply}");
    let (_, _, body) = post_json(&url, &[], &openai_conversation(2)).await;
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], TOOL_LOOP_ANSWER, "{reply}");
}

#[tokio::test]
async fn a_named_tool_and_fixed_arguments_are_used_as_given() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_tool_loop(ToolLoop::new(1).with_tool("second").with_arguments(json!({ "n": 1 })));
    let reply = anthropic_reply(&fake, 0).await;
    assert_eq!(reply["content"][0]["name"], "second", "{reply}");
    assert_eq!(reply["content"][0]["input"], json!({ "n": 1 }));
    assert_eq!(anthropic_reply(&fake, 1).await["content"][0]["text"], TOOL_LOOP_ANSWER);
}
