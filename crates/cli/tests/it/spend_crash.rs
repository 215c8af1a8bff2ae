//! Spending survives crashes (issue #11): ten runs of nine model calls
//! each, and `steward serve` killed with SIGKILL up to four times while model
//! calls are in flight. A call cut off is repeated when its run resumes,
//! and the lost one must still be counted: every request the provider
//! received appears in the runs' model calls — answered ones with their
//! reported usage, interrupted ones with estimated input tokens and cost,
//! marked as estimated — and the agent's spending (what budgets read) is
//! the sum of its runs' costs.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, ReceivedRequest, ReplyUsage, ToolLoop};

use crate::support::{ServerOptions, ServerProcess};

const KEY: &str = "sk-ant-spend-crash-0123456789";
const RUNS: usize = 10;
const KILLS: usize = 4;
/// Tool calls per run before its answer: each run makes one more model
/// call than this. Long enough that runs are still open at the last kill
/// even on a quick machine, where the calls let through after each restart
/// may move every run several steps.
const TOOL_CALLS: usize = 8;
/// claude-sonnet-4-5's list price: $3 per million input tokens, $15 output.
const MODEL: &str = "anthropic/claude-sonnet-4-5";
const USAGE: ReplyUsage =
    ReplyUsage { input_tokens: 1000, output_tokens: 100, cache_read_tokens: 0, cache_write_tokens: 0 };

async fn api(client: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let mut request = client.request(method, &url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{url} answered {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn runs(client: &reqwest::Client, server: &ServerProcess) -> Vec<Value> {
    let page = api(client, reqwest::Method::GET, format!("{}/api/v1/runs?limit=100", server.url()), None).await;
    page["runs"].as_array().cloned().unwrap()
}

fn unfinished(runs: &[Value]) -> usize {
    runs.iter().filter(|run| run["status"] != "finished").count()
}

/// Requests the provider received for `run` (its instruction opens each).
fn requests_for(requests: &[ReceivedRequest], run: &Value) -> u64 {
    let instruction = run["instruction"].as_str().unwrap();
    requests.iter().filter(|request| request.body["messages"][0].to_string().contains(instruction)).count() as u64
}

/// Whether every open run is running with a call at the provider that it
/// has not counted yet: the moment to kill, so each open run loses a call
/// the provider received.
fn all_waiting_on_the_provider(runs: &[Value], requests: &[ReceivedRequest]) -> bool {
    let open: Vec<&Value> = runs.iter().filter(|run| run["status"] != "finished").collect();
    !open.is_empty()
        && open.iter().all(|run| {
            run["status"] == "running"
                // With every call counted, requests are exactly one more
                // than the calls counted; were lost calls not counted, `>`
                // still lets the test reach its assertions.
                && requests_for(requests, run) > run["usage"]["model_calls"].as_u64().unwrap()
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_kill9_during_model_calls_still_counts_every_call_toward_runs_and_budgets() {
    let fake = FakeLlm::start().await.unwrap();
    let tool_loop = ToolLoop::new(TOOL_CALLS).with_tool("workspace__list").with_arguments(json!({}));
    fake.set_responder(move |request| Some(tool_loop.reply_for(request).with_usage(USAGE).into()));
    let mut server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let agent = api(
        &client,
        reqwest::Method::POST,
        format!("{}/api/v1/agents", server.url()),
        Some(json!({"name": "Counter", "goal": "List the workspace", "model": MODEL,
                    "budget": {"total_usd": 100.0}})),
    )
    .await;
    let agent_id = agent["id"].as_i64().unwrap();

    // Kill while calls are in flight: replies are held, and the server is
    // killed once every unfinished run waits on the provider (so each call
    // recorded as started was received by the provider).
    fake.pause_replies();
    for run in 0..RUNS {
        api(
            &client,
            reqwest::Method::POST,
            format!("{}/api/v1/agents/{agent_id}/runs", server.url()),
            Some(json!({"instruction": format!("List the workspace, run {run}.")})),
        )
        .await;
    }
    let mut kills = 0;
    for kill in 0..KILLS {
        if unfinished(&runs(&client, &server).await) == 0 {
            // Every run finished before this kill: nothing left to cut off.
            break;
        }
        kills += 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !all_waiting_on_the_provider(&runs(&client, &server).await, &fake.requests()) {
            assert!(
                Instant::now() < deadline,
                "kill {kill}: the runs never all waited on the provider; log:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.kill_hard();
        // Let the next process answer a few calls, so runs are cut off at
        // different steps.
        let received = fake.requests().len();
        server.restart();
        fake.resume_replies();
        while fake.requests().len() < received + 3 {
            assert!(Instant::now() < deadline, "kill {kill}: no calls after the restart; log:\n{}", server.log());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        fake.pause_replies();
    }
    fake.resume_replies();

    let deadline = Instant::now() + Duration::from_secs(120);
    let finished = loop {
        let all = runs(&client, &server).await;
        if all.len() == RUNS && unfinished(&all) == 0 {
            break all;
        }
        assert!(Instant::now() < deadline, "runs did not finish: {all:?}; log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for run in &finished {
        assert_eq!(run["outcome"], "completed", "{run}");
    }

    // Every request the provider received is a model call of some run.
    let requests = fake.requests().len();
    let sum = |field: &str| finished.iter().map(|run| run["usage"][field].as_u64().unwrap()).sum::<u64>();
    let answered = (RUNS * (TOOL_CALLS + 1)) as u64;
    assert_eq!(sum("model_calls"), requests as u64, "provider calls missing from the runs' usage");
    let cut_off = requests as u64 - answered;
    assert_eq!(sum("estimated_calls"), cut_off, "each call cut off is counted once, as an estimate");
    assert!(kills >= 1, "the runs finished before the first kill");
    assert!(cut_off >= kills as u64, "each of the {kills} kills cut off at least one call ({cut_off} in all)");

    // Answered calls carry the provider's usage; interrupted ones their
    // estimated input tokens (no output) at the model's input price.
    let output_tokens = sum("output_tokens");
    assert_eq!(output_tokens, answered * USAGE.output_tokens, "only answered calls have output tokens");
    let estimated_input = sum("input_tokens") - answered * USAGE.input_tokens;
    assert!(estimated_input > 0, "interrupted calls' input tokens are estimated, not zero");
    let cost: f64 = finished.iter().map(|run| run["usage"]["cost_usd"].as_f64().unwrap()).sum();
    let expected = answered as f64 * (1000.0 * 3.0 + 100.0 * 15.0) / 1e6 + estimated_input as f64 * 3.0 / 1e6;
    assert!((cost - expected).abs() < 1e-9, "runs cost {cost}, expected {expected}");

    // What budgets read counts the same.
    let metrics =
        api(&client, reqwest::Method::GET, format!("{}/api/v1/agents/{agent_id}/metrics", server.url()), None).await;
    let spent = metrics["cost_usd_total"].as_f64().unwrap();
    assert!((spent - cost).abs() < 1e-9, "the agent's spending {spent} is not its runs' cost {cost}");

    // An interrupted call shows in its run's trace, marked.
    let interrupted = finished.iter().find(|run| run["usage"]["estimated_calls"].as_u64() > Some(0)).unwrap();
    let trace =
        api(&client, reqwest::Method::GET, format!("{}/api/v1/runs/{}/trace", server.url(), interrupted["id"]), None)
            .await;
    let marked = trace["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|span| span["model_call"]["stop_reason"] == "interrupted")
        .collect::<Vec<_>>();
    assert!(!marked.is_empty(), "no interrupted span in {trace}");
    assert!(marked[0]["error"].as_str().unwrap().contains("estimate"), "{}", marked[0]);
}
