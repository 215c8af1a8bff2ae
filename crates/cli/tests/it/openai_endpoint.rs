//! The OpenAI-compatible endpoint through the binary, driven by the
//! official `openai` Python SDK (`tests/openai/check_endpoint.py`): the
//! agents listed as models, a whole answer, a streamed one with a tool call
//! in between, and refusals as the SDK's exceptions — with authentication
//! on. Then Steward's own records: each completion is a run with its trace,
//! and the conversation is in the agent's chat.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Reply, ReplyUsage, ToolLoop};

use crate::support::{ServerOptions, steward_offline};

/// The fake answers by repeating the newest user message (the last line of
/// the run's instruction), after one workspace listing when asked to use a tool.
fn answer(request: &steward_fake_llm::ReceivedRequest) -> Reply {
    let usage = ReplyUsage { input_tokens: 300, output_tokens: 20, cache_read_tokens: 0, cache_write_tokens: 0 };
    let instruction = request.user_texts().into_iter().next().unwrap_or_default();
    let newest = instruction.lines().last().unwrap_or_default().to_string();
    if newest.contains("write a file") && request.tool_result_count() == 0 {
        return Reply::tool_call("workspace__write", &json!({"path": "a.txt", "content": "x"})).with_usage(usage);
    }
    if newest.contains("use a tool") && request.tool_result_count() == 0 {
        return ToolLoop::new(1)
            .with_tool("workspace__list")
            .with_arguments(json!({}))
            .reply_for(request)
            .with_usage(usage);
    }
    Reply::text(format!("You said: {newest}")).with_usage(usage)
}

/// The JSON answer to a request that must succeed.
async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_talks_to_an_agent_as_a_model() {
    let home = tempfile::tempdir().unwrap();
    let home_arg = home.path().to_str().unwrap();
    steward_offline(&["user", "add", "ada", "--admin", "--home", home_arg], "a long password\n");
    let created =
        steward_offline(&["--json", "token", "create", "--user", "ada", "--name", "sdk", "--home", home_arg], "");
    let token = serde_json::from_str::<Value>(&created).unwrap()["token"].as_str().unwrap().to_string();

    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(|request| Some(answer(request).into()));
    let server = ServerOptions::default()
        .home(home.path())
        .env("STEWARD_SERVER__REQUIRE_AUTH", "true")
        .env("STEWARD_TOOLS__REQUIRE_APPROVAL", "workspace.write")
        .env("ANTHROPIC_API_KEY", "sk-ant-openai-endpoint-0123456789")
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let api = |path: &str| format!("{}/api/v1{path}", server.url());
    let agent: Value = json_of(
        client
            .post(api("/agents"))
            .bearer_auth(&token)
            .json(&json!({"name": "Echo", "goal": "Answer people", "model": "anthropic/claude-sonnet-4-5"})),
    )
    .await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openai/check_endpoint.py");
    let output = Command::new("python3").args([script, server.url(), &token, "Echo"]).output().expect("python3");
    assert!(
        output.status.success(),
        "the SDK check failed:\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen["models"], json!(["Echo"]), "only the caller's agents");
    assert_eq!(seen["whole"]["content"], "You said: Hello there");
    assert_eq!(seen["whole"]["usage"], 320, "the run's tokens: one model call");
    assert_eq!(seen["stream"]["content"], "You said: Please use a tool now");
    assert_eq!(seen["stream"]["progress"], json!(["used workspace.list"]), "one note per tool call");
    assert_eq!(seen["stream"]["usage"], 640, "two model calls around the tool call");
    assert_eq!(seen["bad_token"], 401);
    let unknown = seen["unknown_model"].as_str().unwrap();
    assert!(unknown.contains("no such agent") && unknown.contains("/v1/models"), "{unknown}");

    // The streamed completion is a run with its trace: model, tool, model.
    let run = seen["stream"]["run_id"].as_i64().unwrap();
    let trace: Value = json_of(client.get(api(&format!("/runs/{run}/trace"))).bearer_auth(&token)).await;
    let spans: Vec<&str> = trace["spans"].as_array().unwrap().iter().filter_map(|span| span["kind"].as_str()).collect();
    assert!(spans.contains(&"tool_call"), "{trace}");
    let sent = fake.requests();
    let first = sent.iter().find(|request| request.mentions("Please use a tool now")).unwrap();
    let instruction = first.user_texts().into_iter().next().unwrap();
    assert!(instruction.contains("Be brief.") && instruction.contains("You: Hello! How can I help?"), "{instruction}");

    // The paused completion's run goes on once its tool call is approved.
    let paused = seen["paused_run_id"].as_i64().unwrap();
    let approvals: Value = json_of(client.get(api(&format!("/approvals?run_id={paused}"))).bearer_auth(&token)).await;
    let approval = approvals["approvals"][0]["id"].as_i64().expect("the paused run's approval");
    let approved =
        client.post(api(&format!("/approvals/{approval}/approve"))).bearer_auth(&token).send().await.unwrap();
    assert!(approved.status().is_success(), "{}", approved.text().await.unwrap());

    // The agent's chat holds each new user message and its answer, in order,
    // the paused one's once its run finished.
    let chat_path = api(&format!("/agents/{}/chat", agent["id"]));
    let mut said = Vec::new();
    for _ in 0..300 {
        let chat: Value = json_of(client.get(&chat_path).bearer_auth(&token)).await;
        said = chat["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|message| {
                (message["role"].as_str().unwrap().to_string(), message["text"].as_str().unwrap().to_string())
            })
            .collect::<Vec<_>>();
        if said.len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let said: Vec<(&str, &str)> = said.iter().map(|(role, text)| (role.as_str(), text.as_str())).collect();
    assert_eq!(
        said,
        vec![
            ("user", "Hello there"),
            ("assistant", "You said: Hello there"),
            ("user", "Please use a tool now"),
            ("assistant", "You said: Please use a tool now"),
            ("user", "Please write a file"),
            ("assistant", "You said: Please write a file"),
        ],
        "refused requests store nothing; log:\n{}",
        server.log()
    );
}
