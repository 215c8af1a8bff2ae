//! The goal-agent journey through the CLI, against a real `steward
//! serve` whose model provider is the fake: `agent new` (the setup chat) →
//! `chat` (a draft is proposed) → `action refine` (the draft is revised) →
//! `action define` → `action schedule` → the agent's run writes files with
//! tools → the action completes with its artifacts → `agent get` shows cost
//! and progress; then an ad-hoc `run --wait`, `runs`, `trace`, and a tool
//! that needs approval, rejected with `approvals reject`.

use std::time::Duration;

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Reply};

use crate::support::{ServerOptions, ServerProcess, eventually, steward, steward_with_input};

const KEY: &str = "sk-ant-journey-0123456789abcdef";
/// The tool the Anthropic client uses for structured replies.
const STRUCTURED: &str = "structured_output";

async fn server_with_fake(extra: &[(&str, &str)]) -> (FakeLlm, ServerProcess) {
    let fake = FakeLlm::start().await.unwrap();
    let mut options =
        ServerOptions::default().env("ANTHROPIC_API_KEY", KEY).env("ANTHROPIC_BASE_URL", fake.anthropic_base_url());
    for (name, value) in extra {
        options = options.env(*name, *value);
    }
    (fake, options.start())
}

fn action_state(url: &str, id: i64) -> String {
    steward(url, &["action", "get", &id.to_string(), "--json"]).json()["state"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_the_goal_agent_journey_through_the_cli() {
    let (fake, server) = server_with_fake(&[]).await;
    let url = server.url();

    // 1. The setup chat: two turns, then the proposal is confirmed with "y".
    fake.push(Reply::tool_call(
        STRUCTURED,
        &json!({"reply": "What should the launch achieve, and by when?", "ready": false, "agent": null}),
    ));
    fake.push(Reply::tool_call(
        STRUCTURED,
        &json!({
            "reply": "Goal: a launch post people share. Criteria: published, 500 readers. By Friday. Create it?",
            "ready": true,
            "agent": {"name": "Launch writer", "goal": "Publish a launch post people share",
                      "success_criteria": ["Post published", "500 readers in a week"], "timeline": "by Friday"}
        }),
    ));
    let setup = steward_with_input(url, &["agent", "new"], "Help me launch\nA post, 500 readers, by Friday\ny\n");
    let printed = setup.ok();
    assert!(printed.contains("What should the launch achieve"), "{printed}");
    assert!(
        printed.contains("500 readers in a week") && printed.contains("by Friday"),
        "fields shown first: {printed}"
    );
    assert!(printed.contains("Created agent"), "{printed}");
    let agents = steward(url, &["agent", "list", "--json"]).json();
    let agent = &agents["agents"][0];
    assert_eq!(agent["name"], "Launch writer");
    assert_eq!(agent["success_criteria"], json!(["Post published", "500 readers in a week"]));
    let agent_id = agent["id"].as_i64().unwrap().to_string();

    // 2. The agent's chat streams its reply and proposes a draft.
    fake.push(Reply::text("Start with the post itself.").then_tool_call(
        "propose_action",
        &json!({"title": "Draft the launch post", "description": "600 words, one image.",
                "priority": "high", "mode": "scheduled"}),
    ));
    fake.push(Reply::text(" I filed it as a draft."));
    let chat = steward(url, &["chat", "Launch writer", "What first?"]);
    let printed = chat.ok();
    assert!(printed.contains("agent> Start with the post itself."), "{printed}");
    assert!(printed.contains("Proposed draft #") && printed.contains("Draft the launch post"), "{printed}");
    assert!(printed.contains("I filed it as a draft."), "{printed}");
    let actions = steward(url, &["action", "list", "--agent", &agent_id, "--json"]).json();
    let action_id = actions["actions"][0]["id"].as_i64().unwrap();
    let action = action_id.to_string();
    assert_eq!(action_state(url, action_id), "draft");

    // 3. The draft's own thread revises it.
    fake.push(Reply::tool_call("update_draft", &json!({"title": "Draft the launch post (with a demo GIF)"})));
    fake.push(Reply::text("Added the GIF."));
    let refine = steward(url, &["action", "refine", &action, "Add a demo GIF"]);
    assert!(refine.ok().contains("Revised draft"), "{}", refine.stdout);
    let refined = steward(url, &["action", "get", &action, "--json"]).json();
    assert_eq!(refined["title"], "Draft the launch post (with a demo GIF)");

    // 4. Define and schedule: a run works on it with tools.
    steward(url, &["action", "define", &action]).ok();
    fake.push(Reply::tool_call("workspace__write", &json!({"path": "notes.md", "content": "angle: speed"})));
    fake.push(Reply::tool_call("artifacts__write", &json!({"path": "post.md", "content": "# We launched\n"})));
    fake.push(Reply::text("The post is in post.md."));
    let scheduled = steward(url, &["action", "schedule", &action]);
    assert!(scheduled.ok().contains("is scheduled; run"), "{}", scheduled.stdout);
    eventually("the action completes", || action_state(url, action_id) == "completed");

    let artifacts = steward(url, &["action", "artifacts", &action, "--json"]).json();
    let runs = steward(url, &["runs", "--agent", &agent_id, "--json"]).json();
    let trace = || steward(url, &["trace", &runs["runs"][0]["id"].to_string(), "--full"]).stdout;
    assert_eq!(artifacts["artifacts"].as_array().unwrap().len(), 1, "{artifacts}; the run:\n{}", trace());
    assert_eq!(artifacts["artifacts"][0]["path"], "post.md");
    let content = steward(url, &["action", "artifacts", &action, "--show", "post.md"]);
    assert_eq!(content.ok(), "# We launched\n");

    let run = &runs["runs"][0];
    assert_eq!((run["outcome"].as_str(), run["action_id"].as_i64()), (Some("completed"), Some(action_id)));
    let trace = steward(url, &["trace", &run["id"].to_string()]);
    let printed = trace.ok();
    let expected_parts = [
        "instruction",
        "model_call",
        "tool_call",
        "workspace.write",
        "artifacts.write",
        "completed",
        "created notes.md",
    ];
    for expected in expected_parts {
        assert!(printed.contains(expected), "the trace shows {expected}: {printed}");
    }

    // 5. The agent's numbers.
    let shown = steward(url, &["agent", "get", &agent_id]);
    assert!(shown.ok().contains("1 of 1 actions completed"), "{}", shown.stdout);
    let metrics = fetch_json(&format!("{url}/api/v1/agents/{agent_id}/metrics")).await;
    assert!(metrics["cost_usd_total"].as_f64().unwrap() > 0.0, "{metrics}");

    // 6. An ad-hoc run, followed until it ends.
    fake.push(Reply::text("Hello from the launch writer."));
    let adhoc = steward(url, &["run", &agent_id, "Say hello", "--wait", "--json"]).json();
    assert_eq!(adhoc["outcome"], "completed");
    assert_eq!(adhoc["output"], "Hello from the launch writer.");
    let followed = steward(url, &["runs", "get", &adhoc["id"].to_string()]);
    assert!(followed.ok().contains("Hello from the launch writer."), "{}", followed.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_a_rejected_approval_reaches_the_model_and_the_run_carries_on() {
    let (fake, server) = server_with_fake(&[("STEWARD_TOOLS__REQUIRE_APPROVAL", "workspace.write")]).await;
    let url = server.url();
    steward(url, &["agent", "create", "Careful", "--goal", "Ask before writing"]).ok();
    fake.push(Reply::tool_call("workspace__write", &json!({"path": "a.txt", "content": "x"})));
    fake.push(Reply::text("Understood, I will not write it."));
    let started = steward(url, &["run", "Careful", "Write a.txt", "--json"]).json();
    let run = started["id"].to_string();
    eventually("the run waits for approval", || {
        steward(url, &["runs", "get", &run, "--json"]).json()["status"] == "awaiting_approval"
    });
    let listed = steward(url, &["approvals"]);
    assert!(listed.ok().contains("workspace.write"), "{}", listed.stdout);
    let pending = steward(url, &["approvals", "--json"]).json();
    let approval = pending["approvals"][0]["id"].to_string();

    let refused = steward(url, &["approvals", "reject", &approval]);
    assert!(refused.failed().contains("--reason"), "a rejection needs a reason: {}", refused.stderr);
    steward(url, &["approvals", "reject", &approval, "--reason", "not in this folder"]).ok();
    eventually("the run finishes", || steward(url, &["runs", "get", &run, "--json"]).json()["status"] == "finished");
    let finished = steward(url, &["runs", "get", &run, "--json"]).json();
    assert_eq!(finished["outcome"], "completed", "{finished}");
    let last = fake.requests().pop().unwrap().body.to_string();
    assert!(last.contains("not in this folder"), "the model is told the reason: {last}");
    assert!(!server.home().join("workspaces").join(&run).join("a.txt").exists(), "the rejected write did not happen");
    let twice = steward(url, &["approvals", "approve", &approval]);
    assert!(twice.failed().contains("already"), "{}", twice.stderr);

    // The trace shows the refused call's arguments and its error in full, and
    // the model's stop reason; --json has the whole trace.
    let trace = steward(url, &["trace", &run]);
    let printed = trace.ok().replace(['│', '\n'], " ");
    let printed = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(printed.contains("\"path\":\"a.txt\""), "tool arguments: {printed}");
    assert!(printed.contains("not in this folder"), "the error in full: {printed}");
    assert!(printed.contains("end_turn"), "the stop reason: {printed}");
    let whole = steward(url, &["trace", &run, "--json"]).json();
    assert!(whole["spans"].as_array().is_some_and(|spans| spans.len() >= 3), "{whole}");
}

async fn fetch_json(url: &str) -> Value {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    client.get(url).send().await.unwrap().json().await.unwrap()
}
