//! `/metrics` through the binary: with authentication required it refuses
//! a scrape without a token; with one, after an agent run whose tool call
//! fails, what it serves parses with the official Prometheus client's
//! OpenMetrics parser (`tests/metrics/parse.py`) and holds every family
//! the issue names, labelled by matched route, agent, model, tool and queue.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, ReplyUsage, ToolLoop};

use crate::support::{ServerOptions, steward_offline as run};

/// The families of an exposition, as the official parser reads them.
fn parse(exposition: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/metrics/parse.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(exposition.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the parser refused the exposition: {}\n{exposition}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The value of `family`'s sample `name` whose labels include `labels`.
fn sample(families: &Value, family: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    families[family]["samples"].as_array()?.iter().find_map(|sample| {
        let matches = sample[0] == name && labels.iter().all(|(key, value)| sample[1][*key] == *value);
        matches.then(|| sample[2].as_f64().unwrap())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_protected_and_parse_with_every_family_labelled() {
    let home = tempfile::tempdir().unwrap();
    let home_arg = home.path().to_str().unwrap();
    run(&["user", "add", "ada", "--admin", "--home", home_arg], "a long password\n");
    let created = run(&["--json", "token", "create", "--user", "ada", "--name", "prometheus", "--home", home_arg], "");
    let token = serde_json::from_str::<Value>(&created).unwrap()["token"].as_str().unwrap().to_string();

    let fake = FakeLlm::start().await.unwrap();
    let usage = ReplyUsage { input_tokens: 500, output_tokens: 50, cache_read_tokens: 0, cache_write_tokens: 0 };
    let tool_loop = ToolLoop::new(1).with_tool("workspace__read").with_arguments(json!({"path": "missing.txt"}));
    fake.set_responder(move |request| Some(tool_loop.reply_for(request).with_usage(usage).into()));
    let server = ServerOptions::default()
        .home(home.path())
        .env("STEWARD_SERVER__REQUIRE_AUTH", "true")
        .env("ANTHROPIC_API_KEY", "sk-ant-metrics-test-0123456789")
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let url = |path: &str| format!("{}{path}", server.url());

    let anonymous = client.get(url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "a scrape without a token is refused when authentication is on");

    let send = |request: reqwest::RequestBuilder| {
        let token = token.clone();
        async move {
            let response = request.bearer_auth(token).send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status.is_success(), "{status}: {text}");
            text
        }
    };
    let agent: Value = serde_json::from_str(
        &send(client.post(url("/api/v1/agents")).json(&json!({
            "name": "Reader", "goal": "Read the notes", "model": "anthropic/claude-sonnet-4-5"
        })))
        .await,
    )
    .unwrap();
    let runs = url(&format!("/api/v1/agents/{}/runs", agent["id"]));
    let run: Value =
        serde_json::from_str(&send(client.post(runs).json(&json!({"instruction": "Read missing.txt"}))).await).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let current: Value =
            serde_json::from_str(&send(client.get(url(&format!("/api/v1/runs/{}", run["id"])))).await).unwrap();
        if current["status"] == "finished" {
            assert_eq!(current["outcome"], "completed", "{current}");
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {current}; log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let scraped = client.get(url("/metrics")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let content_type = scraped.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let families = parse(&scraped.text().await.unwrap());

    // Jobs by state and queue; the run's job completed on the agents queue.
    assert_eq!(families["steward_jobs"]["type"], "gauge");
    assert_eq!(
        sample(&families, "steward_jobs", "steward_jobs", &[("state", "completed"), ("queue", "agents")]),
        Some(1.0)
    );
    assert!(families["steward_worker_running_jobs"]["type"] == "gauge");
    // Claim and due-to-start latency histograms.
    assert_eq!(families["steward_job_claim_seconds"]["type"], "histogram");
    assert!(sample(&families, "steward_job_claim_seconds", "steward_job_claim_seconds_count", &[]) >= Some(1.0));
    let started = sample(
        &families,
        "steward_job_start_delay_seconds",
        "steward_job_start_delay_seconds_count",
        &[("queue", "agents")],
    );
    assert_eq!(started, Some(1.0), "one job started on the agents queue");
    // Run steps, tokens and cost by agent and model, tools and their errors.
    assert_eq!(sample(&families, "steward_run_steps", "steward_run_steps_total", &[("kind", "model_call")]), Some(2.0));
    let model = [("agent", "Reader"), ("model", "anthropic/claude-sonnet-4-5")];
    assert_eq!(sample(&families, "steward_model_calls", "steward_model_calls_total", &model), Some(2.0));
    let input = [("agent", "Reader"), ("model", "anthropic/claude-sonnet-4-5"), ("kind", "input")];
    assert_eq!(sample(&families, "steward_model_tokens", "steward_model_tokens_total", &input), Some(1000.0));
    let cost = sample(&families, "steward_model_cost_usd", "steward_model_cost_usd_total", &model).unwrap();
    assert!((cost - 2.0 * (500.0 * 3.0 + 50.0 * 15.0) / 1e6).abs() < 1e-12, "{cost}");
    let tool = [("tool", "workspace.read")];
    assert_eq!(sample(&families, "steward_tool_calls", "steward_tool_calls_total", &tool), Some(1.0));
    assert_eq!(sample(&families, "steward_tool_errors", "steward_tool_errors_total", &tool), Some(1.0));
    // HTTP requests by matched route (never the raw path) and status.
    let polled = [("route", "/api/v1/runs/{id}"), ("method", "GET"), ("status", "200")];
    assert!(sample(&families, "steward_http_requests", "steward_http_requests_total", &polled) >= Some(1.0));
    // The refused scrape was answered before routing, so it has no route.
    let refused = [("route", "(unrouted)"), ("status", "401")];
    assert_eq!(sample(&families, "steward_http_requests", "steward_http_requests_total", &refused), Some(1.0));
    let routes: Vec<&str> = families["steward_http_requests"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|sample| sample[1]["route"].as_str())
        .collect();
    let raw = |route: &&str| route.split('/').any(|segment| segment.parse::<u64>().is_ok());
    assert!(!routes.iter().any(raw), "raw ids in routes: {routes:?}");
    assert!(routes.contains(&"/api/v1/agents/{id}/runs"), "{routes:?}");
    assert_eq!(families["steward_http_request_duration_seconds"]["type"], "histogram");
    assert_eq!(families["steward_schedule_fire_delay_seconds"]["type"], "histogram");
}
