//! The guardian in a real `steward serve` with the fake model provider: a
//! run that keeps drifting is looked at once it is older than
//! `guardian_after`, cancelled by the policy, and its assessment is shown
//! by `steward runs assessments`, in its trace, and apart in the costs;
//! `agent list` shows the agent's liveness.

use std::time::Duration;

use serde_json::json;
use steward_fake_llm::{FakeLlm, Reply};

use crate::support::{ServerOptions, eventually, steward};

const KEY: &str = "sk-ant-oversight-0123456789abcdef";
/// The tool the Anthropic client uses for structured replies.
const STRUCTURED: &str = "structured_output";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guardian_cancels_a_drifting_run_by_policy() {
    let fake = FakeLlm::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[oversight]\nguardian_after = \"1s\"\nguardian_every = \"1s\"\nauto_cancel = true\n",
    )
    .unwrap();
    // The agent lists actions again and again, slowly; the guardian's look
    // (its system prompt says so) finds it lost.
    fake.set_responder(|request| {
        if request.body["system"].to_string().contains("You supervise an AI agent") {
            let verdict = json!({"alignment": 0.05, "drift_reason": "lists actions in a loop",
                                 "intervention": "cancel", "message": ""});
            return Some(Reply::tool_call(STRUCTURED, &verdict).into());
        }
        let reply = Reply::tool_call("actions__list", &json!({})).with_first_byte_delay(Duration::from_millis(150));
        Some(reply.into())
    });
    let server = ServerOptions::default()
        .home(home.path())
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    let url = server.url();
    steward(url, &["agent", "create", "Looper", "--goal", "Write the launch post"]).ok();
    let started = steward(url, &["run", "Looper", "Write the launch post", "--json"]).json();
    let run = started["id"].as_i64().unwrap().to_string();

    eventually("the guardian cancels the run", || {
        let run = steward(url, &["runs", "get", &run, "--json"]).json();
        run["status"] == "finished"
    });
    let finished = steward(url, &["runs", "get", &run, "--json"]).json();
    assert_eq!(finished["outcome"], "cancelled", "{finished}");

    let assessments = steward(url, &["runs", "assessments", &run, "--json"]).json();
    let first = &assessments["assessments"][0];
    assert_eq!((first["intervention"].as_str(), first["status"].as_str()), (Some("cancel"), Some("applied")));
    assert_eq!(first["drift_reason"], "lists actions in a loop");
    let table = steward(url, &["runs", "assessments", &run]).ok().to_string();
    assert!(table.contains("cancel") && table.contains("lists actions in a loop"), "{table}");
    let trace = steward(url, &["trace", &run, "--json"]).json();
    assert_eq!(trace["oversight"][0]["id"], first["id"], "the trace carries oversight apart from its spans");

    let costs = reqwest::get(format!("{url}/api/v1/costs")).await.unwrap().json::<serde_json::Value>().await.unwrap();
    let purposes: Vec<&str> =
        costs["entries"].as_array().unwrap().iter().filter_map(|entry| entry["purpose"].as_str()).collect();
    assert!(purposes.contains(&"work") && purposes.contains(&"oversight"), "{costs}");

    let agents = steward(url, &["agent", "list", "--json"]).json();
    assert_eq!(agents["agents"][0]["liveness"]["state"], "idle", "{agents}");
}
