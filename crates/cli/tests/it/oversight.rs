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

/// A server whose guardian looks every second and only proposes pauses;
/// the agent lists actions again and again, slowly, and every look finds
/// it drifting (`alignment` 0.3: a pause).
async fn proposing_server(home: &std::path::Path, fake: &FakeLlm) -> crate::support::ServerProcess {
    std::fs::write(
        home.join("config.toml"),
        "[oversight]\nguardian_after = \"1s\"\nguardian_every = \"1s\"\nauto_pause = false\n",
    )
    .unwrap();
    fake.set_responder(|request| {
        if request.body["system"].to_string().contains("You supervise an AI agent") {
            let verdict = json!({"alignment": 0.3, "drift_reason": "lists actions in a loop",
                                 "intervention": "pause", "message": "A person should look."});
            return Some(Reply::tool_call(STRUCTURED, &verdict).into());
        }
        let reply = Reply::tool_call("actions__list", &json!({})).with_first_byte_delay(Duration::from_millis(150));
        Some(reply.into())
    });
    ServerOptions::default()
        .home(home)
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_applies_the_guardians_proposed_pause_resumes_then_cancels_from_the_cli() {
    let fake = FakeLlm::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let server = proposing_server(home.path(), &fake).await;
    let url = server.url();
    steward(url, &["agent", "create", "Looper", "--goal", "Write the launch post"]).ok();
    let run = steward(url, &["run", "Looper", "Write the launch post", "--json"]).json()["id"].as_i64().unwrap();
    let run = run.to_string();

    let proposed = || {
        let listed = steward(url, &["runs", "assessments", &run, "--json"]).json();
        listed["assessments"].as_array().unwrap().iter().any(|a| a["status"] == "proposed")
    };
    eventually("the guardian proposes a pause", proposed);
    let status = || steward(url, &["runs", "get", &run, "--json"]).json()["status"].as_str().unwrap().to_string();
    assert_ne!(status(), "awaiting_approval", "a proposal alone does not stop the run");

    let applied = steward(url, &["runs", "intervene", &run, "pause", "--json"]).json();
    assert_eq!(applied["assessment"]["status"], "pending", "{applied}");
    eventually("the run holds at its next model call", || status() == "awaiting_approval");
    let approvals = reqwest::get(format!("{url}/api/v1/approvals?run_id={run}&status=pending"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert!(approvals.to_string().contains("oversight.pause"), "{approvals}");

    let resumed = steward(url, &["runs", "intervene", &run, "resume", "--reason", "go on"]).ok().to_string();
    assert!(resumed.contains("resume applied"), "{resumed}");
    eventually("the run works again", || status() == "running" || status() == "queued");

    // The guardian proposes again once the run moves on; a person cancels.
    eventually("a person cancels on the next proposal", || {
        steward(url, &["runs", "intervene", &run, "cancel", "--json"]).success
    });
    eventually("the run is cancelled", || status() == "finished");
    let finished = steward(url, &["runs", "get", &run, "--json"]).json();
    assert_eq!(finished["outcome"], "cancelled", "{finished}");
    let again = steward(url, &["runs", "intervene", &run, "cancel"]).failed().to_string();
    assert!(again.contains("finished"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projects_guardian_policy_is_set_and_shown_from_the_cli() {
    let home = tempfile::tempdir().unwrap();
    let server = ServerOptions::default().home(home.path()).start();
    let url = server.url();
    let project =
        steward(url, &["project", "new", "Shop", "--guardian", "off", "--guardian-auto-cancel", "true", "--json"])
            .json();
    assert_eq!(project["guardian"], json!({"guardian": false, "auto_cancel": true}), "{project}");
    let id = project["id"].as_i64().unwrap().to_string();

    let changed =
        steward(url, &["project", "policy", &id, "--guardian", "on", "--guardian-thresholds", "0.8,0.5,0.3", "--json"])
            .json();
    assert_eq!(
        changed,
        json!({"guardian": true, "steer_below": 0.8, "pause_below": 0.5, "cancel_below": 0.3, "auto_cancel": true})
    );
    let shown = steward(url, &["project", "policy", &id]).ok().to_string();
    assert!(shown.contains("steer < 0.8, pause < 0.5, cancel < 0.3"), "{shown}");
    let refused =
        steward(url, &["project", "policy", &id, "--guardian-thresholds", "0.3,0.5,0.8"]).failed().to_string();
    assert!(refused.contains("guardian.cancel_below"), "{refused}");
    let cleared =
        steward(url, &["project", "policy", &id, "--clear", "--guardian-auto-pause", "false", "--json"]).json();
    assert_eq!(cleared, json!({"auto_pause": false}));
    let listed = steward(url, &["project", "show", &id]).ok().to_string();
    assert!(listed.contains("auto_pause=false"), "{listed}");
}
