//! OpenTelemetry export through the binary: `steward serve` with the fake
//! provider exports runs' traces over OTLP/HTTP to a receiver built on the
//! official protobuf definitions (`tests/otel/receiver.py`, the
//! `opentelemetry-proto` package). Each run is one trace: `invoke_agent
//! {agent}` with `chat {model}` and `execute_tool {tool}` children, the GenAI
//! attributes equal to what the fake reported, `error.type` on what failed,
//! message contents only when opted in, the trace id in the server's log;
//! and a run killed mid-call and resumed stays one trace.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Fault, ReceivedRequest, Reply, ReplyUsage, Script};

use crate::support::{ServerOptions, ServerProcess};

const KEY: &str = "sk-ant-otel-test-0123456789";
const MODEL: &str = "claude-sonnet-4-5";
const ANSWERED_BY: &str = "claude-sonnet-4-5-20250929";
const FIRST: ReplyUsage =
    ReplyUsage { input_tokens: 500, output_tokens: 50, cache_read_tokens: 100, cache_write_tokens: 20 };
const SECOND: ReplyUsage =
    ReplyUsage { input_tokens: 700, output_tokens: 30, cache_read_tokens: 0, cache_write_tokens: 0 };

/// The receiver as a child process, killed on drop.
struct Receiver {
    child: Child,
    url: String,
}

impl Receiver {
    fn start() -> Receiver {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otel/receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3");
        let mut port = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut port).unwrap();
        assert!(!port.trim().is_empty(), "the receiver did not start (is opentelemetry-proto installed?)");
        Receiver { child, url: format!("http://127.0.0.1:{}", port.trim()) }
    }

    async fn spans(&self) -> Vec<Value> {
        let response = reqwest::get(format!("{}/spans", self.url)).await.unwrap();
        response.json().await.unwrap()
    }

    /// The spans of the trace whose root is `invoke_agent` of run `run`,
    /// once that root has arrived.
    async fn trace_of(&self, run: i64, server: &ServerProcess) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let spans = self.spans().await;
            let root = spans.iter().find(|span| {
                span["attributes"]["gen_ai.operation.name"] == "invoke_agent"
                    && span["attributes"]["steward.run.id"] == run
            });
            if let Some(root) = root {
                let trace = root["trace_id"].clone();
                return spans.into_iter().filter(|span| span["trace_id"] == trace).collect();
            }
            assert!(Instant::now() < deadline, "no invoke_agent span of run {run}: {spans:?}\n{}", server.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a missing file (the tool fails), then answers; "fail" fails the
/// call; "slow" holds the first call while `hold` is set.
fn answer(request: &ReceivedRequest, hold: &AtomicBool) -> Script {
    let instruction = request.user_texts().into_iter().next().unwrap_or_default();
    if instruction.contains("fail") {
        return Fault::invalid_request("this request cannot be served").into();
    }
    let reply = if request.tool_result_count() == 0 {
        Reply::text("Let me look.")
            .then_tool_call_raw("toolu_otel_1", "workspace__read", r#"{"path": "missing.txt"}"#)
            .with_usage(FIRST)
    } else {
        Reply::text("The file is missing.").with_usage(SECOND)
    };
    let reply = reply.with_model(ANSWERED_BY);
    if instruction.contains("slow") && hold.load(Ordering::SeqCst) {
        return reply.with_first_byte_delay(Duration::from_secs(120)).into();
    }
    reply.into()
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    let response = client.post(&url).json(&body).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

async fn finished_run(client: &reqwest::Client, server: &ServerProcess, run: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let url = format!("{}/api/v1/runs/{run}", server.url());
        let current: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        if current["status"] == "finished" {
            return current;
        }
        assert!(Instant::now() < deadline, "run {run} did not finish: {current}\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start_run(client: &reqwest::Client, server: &ServerProcess, agent: &Value, instruction: &str) -> i64 {
    let url = format!("{}/api/v1/agents/{}/runs", server.url(), agent["id"]);
    post(client, url, json!({ "instruction": instruction })).await["id"].as_i64().unwrap()
}

fn named<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    let mut found: Vec<&Value> = spans.iter().filter(|span| span["name"] == name).collect();
    found.sort_by_key(|span| span["start"].as_u64());
    found
}

fn usage(span: &Value) -> [Value; 4] {
    let attributes = &span["attributes"];
    [
        attributes["gen_ai.usage.input_tokens"].clone(),
        attributes["gen_ai.usage.output_tokens"].clone(),
        attributes["gen_ai.usage.cache_read.input_tokens"].clone(),
        attributes["gen_ai.usage.cache_creation.input_tokens"].clone(),
    ]
}

/// Attribute keys that carry message contents.
const CONTENT_KEYS: [&str; 5] = [
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_is_one_trace_with_genai_attributes_and_content_only_when_opted_in() {
    let receiver = Receiver::start();
    let fake = FakeLlm::start().await.unwrap();
    let hold = Arc::new(AtomicBool::new(false));
    let held = hold.clone();
    fake.set_responder(move |request| Some(answer(request, &held)));
    let home = tempfile::tempdir().unwrap();
    let options = || {
        ServerOptions::default()
            .home(home.path())
            .env("ANTHROPIC_API_KEY", KEY)
            .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
            .env("STEWARD_TELEMETRY__EXPORT_INTERVAL_MS", "100")
            .env("OTEL_EXPORTER_OTLP_HEADERS", "x-otel-test=from%20the%20environment")
    };
    // The standard variable names the receiver the first time.
    let mut server = options().env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.url).start();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let agent = post(
        &client,
        format!("{}/api/v1/agents", server.url()),
        json!({"name": "Reader", "goal": "Read the notes", "model": format!("anthropic/{MODEL}")}),
    )
    .await;
    let agent_id = agent["id"].as_i64().unwrap().to_string();
    let read = start_run(&client, &server, &agent, "Read missing.txt").await;
    let failing = start_run(&client, &server, &agent, "Please fail").await;
    assert_eq!(finished_run(&client, &server, read).await["outcome"], "completed");
    assert_eq!(finished_run(&client, &server, failing).await["outcome"], "failed");

    let trace = receiver.trace_of(read, &server).await;
    let root = named(&trace, "invoke_agent Reader");
    assert_eq!(root.len(), 1, "one invoke_agent span: {trace:?}");
    let root = root[0];
    let chats = named(&trace, &format!("chat {MODEL}"));
    let tools = named(&trace, "execute_tool workspace.read");
    assert_eq!((chats.len(), tools.len(), trace.len()), (2, 1, 4), "{trace:?}");
    assert_eq!(root["parent_span_id"], "", "invoke_agent is the root");
    for child in chats.iter().chain(&tools) {
        assert_eq!(child["parent_span_id"], root["span_id"], "{child}");
        assert!(child["start"].as_u64() >= root["start"].as_u64() && child["end"].as_u64() <= root["end"].as_u64());
        assert_eq!(child["attributes"]["gen_ai.agent.id"], agent_id);
    }
    assert!(chats[0]["end"].as_u64() <= tools[0]["start"].as_u64(), "model, tool, model");
    assert!(tools[0]["end"].as_u64() <= chats[1]["start"].as_u64());
    assert_eq!(
        (root["kind"].as_i64(), chats[0]["kind"].as_i64(), tools[0]["kind"].as_i64()),
        (Some(1), Some(3), Some(1))
    );
    assert_eq!(root["resource"]["service.name"], "steward");
    assert_eq!(root["scope"], "steward");
    assert_eq!(root["headers"]["x-otel-test"], "from the environment");

    let first = &chats[0]["attributes"];
    assert_eq!(first["gen_ai.operation.name"], "chat");
    assert_eq!(first["gen_ai.provider.name"], "anthropic");
    assert_eq!(first["gen_ai.request.model"], MODEL);
    assert_eq!(first["gen_ai.response.model"], ANSWERED_BY);
    assert_eq!(first["gen_ai.response.finish_reasons"], json!(["tool_use"]));
    assert_eq!(first["gen_ai.agent.name"], "Reader");
    // Input tokens count all input, cached or not (500 + 100 + 20).
    assert_eq!(usage(chats[0]), [json!(620), json!(50), json!(100), json!(20)]);
    assert_eq!(chats[1]["attributes"]["gen_ai.response.finish_reasons"], json!(["end_turn"]));
    assert_eq!(usage(chats[1]), [json!(700), json!(30), json!(0), json!(0)]);
    assert!(first.get("error.type").is_none(), "{first}");

    let tool = &tools[0]["attributes"];
    assert_eq!(tool["gen_ai.operation.name"], "execute_tool");
    assert_eq!(tool["gen_ai.tool.name"], "workspace.read");
    assert_eq!(tool["gen_ai.tool.call.id"], "toolu_otel_1");
    assert_eq!(tool["error.type"], "invalid_input", "the file is missing: input the model can fix");
    assert_eq!(tools[0]["status_code"], 2, "error status");

    let run = &root["attributes"];
    assert_eq!(run["gen_ai.operation.name"], "invoke_agent");
    assert_eq!((&run["gen_ai.agent.id"], &run["gen_ai.agent.name"]), (&json!(agent_id), &json!("Reader")));
    assert_eq!((&run["gen_ai.provider.name"], &run["gen_ai.request.model"]), (&json!("anthropic"), &json!(MODEL)));
    assert_eq!(usage(root), [json!(1320), json!(80), json!(100), json!(20)], "the run's totals");
    assert!(run.get("error.type").is_none() && root["status_code"] == 0, "{root}");

    // The failing call: its chat span and the run say what went wrong.
    let failed = receiver.trace_of(failing, &server).await;
    assert_ne!(failed[0]["trace_id"], root["trace_id"], "another run, another trace");
    let failed_chat = named(&failed, &format!("chat {MODEL}"));
    assert_eq!(failed_chat.len(), 1, "{failed:?}");
    assert_eq!(failed_chat[0]["attributes"]["error.type"], "invalid_request");
    assert_eq!(failed_chat[0]["status_code"], 2);
    let failed_root = named(&failed, "invoke_agent Reader");
    assert_eq!(failed_root[0]["attributes"]["error.type"], "failed");

    // No contents unless asked for.
    let all = receiver.spans().await;
    for span in &all {
        for key in CONTENT_KEYS {
            assert!(span["attributes"].get(key).is_none(), "{key} without opting in: {span}");
        }
    }
    let exported = serde_json::to_string(&all).unwrap();
    assert!(!exported.contains("missing.txt") && !exported.contains("Let me look"), "{exported}");
    // The trace ids are in the log, with their runs.
    let trace_id = root["trace_id"].as_str().unwrap();
    assert!(server.log().contains(&format!("trace_id={trace_id}")), "{}", server.log());
    // /metrics counts what the receiver took, and nothing lost.
    let counted = exported_spans_settle_at(&client, &server, all.len()).await;
    assert_eq!(counted, [all.len() as f64, 0.0, 0.0], "exported, dropped, failed");

    // Opted in (through the configuration key this time), the contents come along.
    server.terminate();
    let server = options()
        .env("STEWARD_TELEMETRY__OTLP_ENDPOINT", &receiver.url)
        .env("STEWARD_TELEMETRY__CAPTURE_MESSAGE_CONTENT", "true")
        .start();
    let again = start_run(&client, &server, &agent, "Read missing.txt again").await;
    finished_run(&client, &server, again).await;
    let trace = receiver.trace_of(again, &server).await;
    let root = named(&trace, "invoke_agent Reader")[0];
    let text = |span: &Value, key: &str| span["attributes"][key].as_str().unwrap_or_default().to_string();
    assert!(text(root, "gen_ai.input.messages").contains("Read missing.txt again"), "{root}");
    assert!(text(root, "gen_ai.output.messages").contains("The file is missing."), "{root}");
    let chats = named(&trace, &format!("chat {MODEL}"));
    assert!(text(chats[0], "gen_ai.input.messages").contains("Read missing.txt again"));
    assert!(text(chats[0], "gen_ai.system_instructions").contains("Read the notes"), "the agent's goal");
    assert!(text(chats[0], "gen_ai.output.messages").contains("toolu_otel_1"));
    let tool = named(&trace, "execute_tool workspace.read")[0];
    assert!(text(tool, "gen_ai.tool.call.arguments").contains("missing.txt"));
    assert!(!text(tool, "gen_ai.tool.call.result").is_empty());
    let contents = serde_json::to_string(&trace).unwrap();
    assert!(!contents.contains(KEY), "secrets stay out of traces");
}

/// `steward_otel_spans_total` by outcome (exported, dropped, failed), read
/// until the exported count reaches `spans` (the receiver records a batch
/// before it answers, the export counts it after) or 20 s have passed.
async fn exported_spans_settle_at(client: &reqwest::Client, server: &ServerProcess, spans: usize) -> [f64; 3] {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = client.get(format!("{}/metrics", server.url())).send().await.unwrap().text().await.unwrap();
        let value = |outcome: &str| {
            let prefix = format!("steward_otel_spans_total{{outcome=\"{outcome}\"}} ");
            text.lines().find_map(|line| line.strip_prefix(&prefix)).map_or(-1.0, |value| value.parse().unwrap())
        };
        let counted = [value("exported"), value("dropped"), value("failed")];
        if counted[0] >= spans as f64 || Instant::now() > deadline {
            return counted;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_call_and_resumed_is_still_one_trace() {
    let receiver = Receiver::start();
    let fake = FakeLlm::start().await.unwrap();
    let hold = Arc::new(AtomicBool::new(true));
    let held = hold.clone();
    fake.set_responder(move |request| Some(answer(request, &held)));
    let mut server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .env("STEWARD_TELEMETRY__OTLP_ENDPOINT", &receiver.url)
        .env("STEWARD_TELEMETRY__EXPORT_INTERVAL_MS", "100")
        .start();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let agent =
        post(&client, format!("{}/api/v1/agents", server.url()), json!({"name": "Survivor", "goal": "Keep going"}))
            .await;
    let run = start_run(&client, &server, &agent, "Read missing.txt, slowly").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.requests().is_empty() {
        assert!(Instant::now() < deadline, "the model was never called: {}", server.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill_hard();
    hold.store(false, Ordering::SeqCst);
    server.restart();
    assert_eq!(finished_run(&client, &server, run).await["outcome"], "completed");

    let trace = receiver.trace_of(run, &server).await;
    let root = named(&trace, "invoke_agent Survivor");
    assert_eq!(root.len(), 1, "{trace:?}");
    let chats: Vec<&Value> =
        trace.iter().filter(|span| span["attributes"]["gen_ai.operation.name"] == "chat").collect();
    let interrupted: Vec<&&Value> =
        chats.iter().filter(|span| span["attributes"]["error.type"] == "interrupted").collect();
    assert_eq!((chats.len(), interrupted.len()), (3, 1), "the cut-off call, then two answered: {trace:?}");
    assert_eq!(interrupted[0]["attributes"]["steward.usage.estimated"], "true");
    assert!(interrupted[0]["attributes"]["gen_ai.usage.input_tokens"].as_i64() > Some(0), "estimated input");
    for span in &trace {
        if span["span_id"] != root[0]["span_id"] {
            assert_eq!(span["parent_span_id"], root[0]["span_id"], "{span}");
        }
    }
    assert_eq!(named(&trace, "execute_tool workspace.read").len(), 1);
    let ids: std::collections::BTreeSet<&str> = trace.iter().map(|span| span["span_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), trace.len(), "no span id used twice");
}

/// The guardian's look at a run is a `chat` span of the run's trace, told
/// apart by `steward.purpose = oversight`, with the usage the fake
/// reported for it; the run's own calls say `work`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guardians_looks_are_in_the_runs_trace_as_oversight() {
    const LOOK: ReplyUsage =
        ReplyUsage { input_tokens: 321, output_tokens: 12, cache_read_tokens: 0, cache_write_tokens: 0 };
    let receiver = Receiver::start();
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(|request| {
        if request.body["system"].to_string().contains("You supervise an AI agent") {
            let verdict = json!({"alignment": 0.05, "drift_reason": "lists actions in a loop",
                                 "intervention": "cancel", "message": ""});
            return Some(Reply::tool_call("structured_output", &verdict).with_usage(LOOK).into());
        }
        let reply = Reply::tool_call("actions__list", &json!({})).with_first_byte_delay(Duration::from_millis(150));
        Some(reply.into())
    });
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        "[oversight]\nguardian_after = \"1s\"\nguardian_every = \"1s\"\nauto_cancel = true\n",
    )
    .unwrap();
    let server = ServerOptions::default()
        .home(home.path())
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .env("STEWARD_TELEMETRY__OTLP_ENDPOINT", &receiver.url)
        .env("STEWARD_TELEMETRY__EXPORT_INTERVAL_MS", "100")
        .start();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let agent = post(
        &client,
        format!("{}/api/v1/agents", server.url()),
        json!({"name": "Looper", "goal": "Write the launch post", "model": format!("anthropic/{MODEL}")}),
    )
    .await;
    let run = start_run(&client, &server, &agent, "Write the launch post").await;
    assert_eq!(finished_run(&client, &server, run).await["outcome"], "cancelled");

    let trace = receiver.trace_of(run, &server).await;
    let root = &named(&trace, "invoke_agent Looper")[0];
    let chats = named(&trace, &format!("chat {MODEL}"));
    let purpose = |span: &&Value| span["attributes"]["steward.purpose"].as_str().unwrap_or_default().to_string();
    let looks: Vec<&&Value> = chats.iter().filter(|span| purpose(span) == "oversight").collect();
    let work = chats.iter().filter(|span| purpose(span) == "work").count();
    assert_eq!(looks.len(), 1, "one look, then the policy cancels: {trace:?}");
    assert!(work >= 1 && work + 1 == chats.len(), "every other call is the run's own: {trace:?}");
    assert_eq!(looks[0]["parent_span_id"], root["span_id"]);
    assert_eq!(looks[0]["attributes"]["gen_ai.usage.input_tokens"], 321);
    assert_eq!(looks[0]["attributes"]["gen_ai.usage.output_tokens"], 12);
    assert_eq!(root["attributes"]["steward.run.model_calls"].as_i64(), Some(work as i64), "the run's calls only");
}
