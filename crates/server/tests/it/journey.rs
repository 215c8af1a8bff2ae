//! The goal-agent journey (setup chat, agent, draft, scheduled run) end to
//! end over real sockets, wired as
//! `steward serve` wires it: the HTTP server on a loopback port, a worker
//! pool running `agent.run` jobs, and an agent runtime whose production
//! Anthropic client talks to the fake provider. Also approvals, a client
//! that disconnects mid-reply, and cancelling runs.

use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_domain::RunId;
use steward_domain::run::execution::JOB_KIND;
use steward_fake_llm::{FakeLlm, Reply};
use steward_runtime::agent::AgentRunHandler;
use steward_runtime::tools::ToolsConfig;
use steward_runtime::{HandlerRegistry, WorkerPool, WorkerPoolConfig};
use steward_server::AppState;
use steward_store::{QueueSettings, StoreOptions};
use steward_test_support::TestDatabase;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::agent_support::{Agents, newsletter_agent, proposal, setup_reply};
use crate::support::serve;

/// How long a test waits for something that should happen soon.
const PATIENCE: Duration = Duration::from_secs(30);

/// Runs each test (`async fn(TestDatabase)`) on SQLite and, when configured, PostgreSQL.
macro_rules! live_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(steward_test_support::TestDatabase::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(database) = steward_test_support::TestDatabase::postgres().await {
                        super::$name(database).await;
                    }
                }
            )*
        }
    };
}

live_tests!(
    a_goal_agent_goes_from_setup_chat_to_a_completed_action,
    a_rejected_tool_call_reaches_the_model_with_the_reason,
    a_client_that_disconnects_does_not_lose_the_reply,
    queued_and_running_runs_are_cancelled,
);

/// A server as `steward serve` runs it, on a real clock.
struct LiveServer {
    url: String,
    client: reqwest::Client,
    agents: Agents,
    pool: WorkerPool,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    _database: TestDatabase,
}

impl LiveServer {
    async fn start(database: TestDatabase, tools: ToolsConfig) -> LiveServer {
        let options = StoreOptions {
            queue: QueueSettings { retry_backoff_cap: Duration::from_millis(50) },
            ..StoreOptions::default()
        };
        let store = database.open(options).await;
        let agents = Agents::start(store.clone(), &tools).await;
        let mut handlers = HandlerRegistry::with_builtins();
        handlers.register(JOB_KIND, AgentRunHandler::new(agents.runtime.clone()));
        let kinds = handlers.kinds();
        let mut pool_config = WorkerPoolConfig::new("journey-worker", 2);
        pool_config.poll_interval = Duration::from_millis(100);
        let pool = WorkerPool::start(store.clone(), handlers, pool_config);
        let state = AppState::new(store).with_agents(agents.runtime.clone()).with_job_kinds(kinds);
        let shutdown = state.shutdown.clone();
        let (url, task) = serve(state).await;
        LiveServer { url, client: reqwest::Client::new(), agents, pool, shutdown, task, _database: database }
    }

    fn fake(&self) -> &FakeLlm {
        &self.agents.fake
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// POSTs `body`, expecting `status`; returns the body and the Location header.
    async fn post(&self, path: &str, body: Value, status: u16) -> (Value, Option<String>) {
        let request = self.client.post(format!("{}{path}", self.url));
        // Null stands for no body (cancel takes none).
        let request = if body.is_null() { request } else { request.json(&body) };
        let (got, headers, body) = self.send(request).await;
        assert_eq!(got.as_u16(), status, "POST {path}: {body}");
        let location = headers.get("location").map(|value| value.to_str().unwrap().to_string());
        (body, location)
    }

    async fn get(&self, path: &str) -> Value {
        let (status, _, body) = self.send(self.client.get(format!("{}{path}", self.url))).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Polls the run until `condition` holds.
    async fn wait_for_run(&self, run: i64, what: &str, condition: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let body = self.get(&format!("/api/v1/runs/{run}")).await;
            if condition(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "run {run} never {what}: {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Opens a chat reply as an event stream.
    async fn chat_stream(
        &self,
        path: &str,
        message: &str,
    ) -> impl Stream<Item = eventsource_stream::Event> + Unpin + use<> {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .header("accept", "text/event-stream")
            .json(&json!({ "message": message }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Box::pin(response.bytes_stream().eventsource().map(|event| event.unwrap()))
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.pool.shutdown().await;
        tokio::time::timeout(PATIENCE, self.task).await.unwrap().unwrap();
    }
}

/// Every event of a stream with when it arrived, until the stream ends.
async fn arrivals(mut stream: impl Stream<Item = eventsource_stream::Event> + Unpin) -> Vec<(Instant, String, Value)> {
    let mut events = Vec::new();
    while let Some(event) = tokio::time::timeout(PATIENCE, stream.next()).await.expect("the reply goes on") {
        events.push((Instant::now(), event.event, serde_json::from_str(&event.data).unwrap()));
    }
    events
}

async fn a_goal_agent_goes_from_setup_chat_to_a_completed_action(database: TestDatabase) {
    let server = LiveServer::start(database, ToolsConfig::default()).await;

    // 1. The setup chat draws out the agent in two turns, then creates it.
    server.fake().push(setup_reply("What should the newsletter achieve, and by when?", None));
    server.fake().push(setup_reply("1,000 subscribers by June. Shall I create it?", Some(newsletter_agent())));
    let (first, _) = server.post("/api/v1/agents/setup-chat", json!({"message": "Help with my newsletter"}), 200).await;
    assert_eq!(first["ready"], false);
    let conversation = first["conversation_id"].as_i64().unwrap();
    let body = json!({"conversation_id": conversation, "message": "1,000 subscribers by June"});
    let (second, _) = server.post("/api/v1/agents/setup-chat", body, 200).await;
    assert_eq!((second["ready"].as_bool(), &second["proposal"]), (Some(true), &newsletter_agent()));
    let (agent, location) =
        server.post(&format!("/api/v1/agents/setup-chat/{conversation}/confirm"), json!({}), 201).await;
    let agent_id = agent["id"].as_i64().unwrap();
    assert_eq!(server.get(&location.unwrap()).await["goal"], "Reach 1,000 subscribers");
    let setup = server.get(&format!("/api/v1/agents/{agent_id}/setup-chat")).await;
    assert_eq!(setup["messages"].as_array().unwrap().len(), 4, "the setup chat stays with the agent");

    // 2. Chatting, the agent proposes a draft; the reply streams as it is written.
    server.fake().push(
        Reply::text("A concrete first step would be an outline.")
            .then_tool_call("propose_action", &proposal("Outline issue #1"))
            .with_delay_between_chunks(Duration::from_millis(5)),
    );
    server.fake().push(Reply::text(" I drafted it as an action."));
    let stream = server.chat_stream(&format!("/api/v1/agents/{agent_id}/chat"), "What should we do first?").await;
    let events = arrivals(stream).await;
    let names: Vec<&str> = events.iter().map(|(_, name, _)| name.as_str()).collect();
    let done = names.iter().position(|name| *name == "done").expect("a done event");
    assert_eq!(done, names.len() - 1, "done ends the stream: {names:?}");
    let first_delta = names.iter().position(|name| *name == "delta").expect("deltas");
    assert!(first_delta < done && events[first_delta].0 < events[done].0, "deltas arrive before done");
    assert!(names.iter().filter(|name| **name == "delta").count() > 5, "the text comes in pieces: {names:?}");
    let text: String = events
        .iter()
        .filter(|(_, name, _)| name == "delta")
        .map(|(_, _, data)| data["text"].as_str().unwrap())
        .collect();
    assert_eq!(events[done].2["message"]["text"], text);
    let draft = &events.iter().find(|(_, name, _)| name == "draft_proposed").expect("a draft").2["action"];
    let action = draft["id"].as_i64().unwrap();
    assert_eq!((draft["state"].as_str(), draft["title"].as_str()), (Some("draft"), Some("Outline issue #1")));

    // 3. The draft is refined in its thread.
    server.fake().push(Reply::tool_call("update_draft", &json!({"title": "Outline issue #1: the welcome"})));
    server.fake().push(Reply::text("Renamed."));
    let (reply, _) =
        server.post(&format!("/api/v1/actions/{action}/chat"), json!({"message": "Call it the welcome"}), 200).await;
    assert_eq!(reply["drafts_updated"][0]["title"], "Outline issue #1: the welcome");
    assert_eq!(server.get(&format!("/api/v1/actions/{action}")).await["title"], "Outline issue #1: the welcome");

    // 4. Defined, then scheduled: a worker runs the loop with tools.
    server.post(&format!("/api/v1/actions/{action}/transition"), json!({"to": "defined"}), 200).await;
    server.fake().push(
        Reply::text("Notes first.")
            .then_tool_call("workspace__write", &json!({"path": "notes.md", "content": "welcome, goals"})),
    );
    server.fake().push(Reply::tool_call(
        "artifacts__write",
        &json!({"path": "drafts/issue-1.md", "content": "# Issue 1\nWelcome!"}),
    ));
    server.fake().push(Reply::text("The outline is in drafts/issue-1.md."));
    let (scheduled, _) = server.post(&format!("/api/v1/actions/{action}/schedule"), json!({}), 200).await;
    assert_eq!(scheduled["action"]["state"], "scheduled");
    let run = scheduled["run"]["id"].as_i64().unwrap();
    let finished = server.wait_for_run(run, "finished", |run| run["status"] == "finished").await;
    assert_eq!(
        (finished["outcome"].as_str(), finished["output"].as_str()),
        (Some("completed"), Some("The outline is in drafts/issue-1.md."))
    );
    assert_eq!(
        (finished["usage"]["model_calls"].as_u64(), finished["usage"]["tool_calls"].as_u64()),
        (Some(3), Some(2))
    );
    assert!(finished["usage"]["cost_usd"].as_f64().unwrap() > 0.0 && finished["usage"]["cost_known"] == true);
    let run_request = server.fake().requests().into_iter().find(|request| request.mentions("Deliver action")).unwrap();
    assert!(run_request.mentions("Outline issue #1: the welcome"), "the run is told the action");
    let action_now = server.get(&format!("/api/v1/actions/{action}")).await;
    assert_eq!(action_now["state"], "completed");
    let notes = server.agents.runtime.workspace_of(RunId(run)).join("notes.md");
    assert_eq!(std::fs::read_to_string(notes).unwrap(), "welcome, goals");

    // 5. The artifact is listed with the action and served.
    let artifacts = server.get(&format!("/api/v1/actions/{action}/artifacts")).await;
    let artifact = &artifacts["artifacts"][0];
    assert_eq!((artifact["path"].as_str(), artifact["run_id"].as_i64()), (Some("drafts/issue-1.md"), Some(run)));
    let content =
        server.client.get(format!("{}/api/v1/artifacts/{}/content", server.url, artifact["id"])).send().await.unwrap();
    assert_eq!(content.headers()["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(content.text().await.unwrap(), "# Issue 1\nWelcome!");

    // 6. The trace shows each model and tool call with tokens and cost.
    let trace = server.get(&format!("/api/v1/runs/{run}/trace")).await;
    let spans = trace["spans"].as_array().unwrap();
    let kinds: Vec<&str> = spans.iter().map(|span| span["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["instruction", "model_call", "tool_call", "model_call", "tool_call", "model_call"]);
    for span in spans.iter().filter(|span| span["kind"] == "model_call") {
        let call = &span["model_call"];
        assert_eq!((call["provider"].as_str(), call["model"].as_str()), (Some("anthropic"), Some("claude-sonnet-4-5")));
        assert!(call["input_tokens"].as_u64().unwrap() > 0 && call["output_tokens"].as_u64().unwrap() > 0, "{call}");
        assert!(call["cost_usd"].as_f64().unwrap() > 0.0 && call["cost_known"] == true, "{call}");
        assert!(call["time_to_first_token_ms"].is_u64() && call["stop_reason"].is_string(), "{call}");
    }
    let tools: Vec<(&str, &str)> = spans
        .iter()
        .filter_map(|span| {
            Some((span["tool_call"]["tool"].as_str()?, span["tool_call"]["arguments"]["path"].as_str()?))
        })
        .collect();
    assert_eq!(tools, [("workspace.write", "notes.md"), ("artifacts.write", "drafts/issue-1.md")]);
    assert!(spans[4]["tool_call"]["result_bytes"].as_u64().unwrap() > 0 && spans[4]["tool_call"]["is_error"] == false);

    // 7. The agent's metrics: what it cost — the run and every chat reply,
    // the setup chat's included — and one action completed of one.
    let metrics = server.get(&format!("/api/v1/agents/{agent_id}/metrics")).await;
    let mut chat_cost = 0.0;
    for history in [
        format!("/api/v1/agents/{agent_id}/setup-chat"),
        format!("/api/v1/agents/{agent_id}/chat"),
        format!("/api/v1/actions/{action}/chat"),
    ] {
        let messages = server.get(&history).await;
        for message in messages["messages"].as_array().unwrap() {
            let cost = &message["cost"];
            assert_eq!(cost["cost_known"], true, "{message}");
            let calls = cost["model_calls"].as_u64().unwrap();
            assert_eq!(
                calls > 0,
                message["role"] == "assistant",
                "replies, and only they, made model calls: {message}"
            );
            chat_cost += cost["cost_usd"].as_f64().unwrap();
        }
    }
    let (total, run_cost) =
        (metrics["cost_usd_total"].as_f64().unwrap(), finished["usage"]["cost_usd"].as_f64().unwrap());
    assert!(chat_cost > 0.0 && run_cost > 0.0, "{chat_cost} {run_cost}");
    assert!((total - (run_cost + chat_cost)).abs() < 1e-9, "total {total}: run {run_cost} + chats {chat_cost}");
    assert_eq!((metrics["actions_completed"].as_u64(), metrics["actions_total"].as_u64()), (Some(1), Some(1)));
    assert_eq!((metrics["runs"].as_u64(), metrics["unknown_cost_calls"].as_u64()), (Some(1), Some(0)));
    server.stop().await;
}

async fn a_rejected_tool_call_reaches_the_model_with_the_reason(database: TestDatabase) {
    let tools = ToolsConfig { require_approval: vec!["workspace.write".into()], ..ToolsConfig::default() };
    let server = LiveServer::start(database, tools).await;
    let (agent, _) = server.post("/api/v1/agents", json!({"name": "Scribe", "goal": "Keep notes"}), 201).await;
    server.fake().push(Reply::tool_call("workspace__write", &json!({"path": "notes.md", "content": "everything"})));
    server.fake().push(Reply::text("Understood; I will not write it."));
    let (run, _) = server
        .post(&format!("/api/v1/agents/{}/runs", agent["id"]), json!({"instruction": "Write the notes"}), 201)
        .await;
    let run = run["id"].as_i64().unwrap();
    server.wait_for_run(run, "paused for approval", |run| run["status"] == "awaiting_approval").await;

    let pending = server.get("/api/v1/approvals?status=pending").await;
    let approvals = pending["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1);
    assert_eq!((approvals[0]["tool"].as_str(), approvals[0]["run_id"].as_i64()), (Some("workspace.write"), Some(run)));
    assert_eq!(approvals[0]["arguments"]["path"], "notes.md");
    let approval = approvals[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/approvals/{approval}/reject");
    server.post(&path, json!({"reason": ""}), 422).await;
    let (rejected, _) = server.post(&path, json!({"reason": "keep the workspace clean"}), 200).await;
    assert_eq!(rejected["status"], "rejected");

    let finished = server.wait_for_run(run, "finished", |run| run["status"] == "finished").await;
    assert_eq!(finished["outcome"], "completed");
    let requests = server.fake().requests();
    assert_eq!(requests.len(), 2, "the first model call was not repeated");
    // The model's next request answers its call with the rejection as the tool's error.
    let results: Vec<&Value> = requests[1]
        .messages()
        .iter()
        .filter_map(|message| message["content"].as_array())
        .flatten()
        .filter(|block| block["type"] == "tool_result")
        .collect();
    assert_eq!(results.len(), 1, "{}", requests[1].body);
    assert_eq!(results[0]["is_error"], true);
    assert_eq!(results[0]["content"], "rejected by a person: keep the workspace clean");
    assert!(!server.agents.runtime.workspace_of(RunId(run)).join("notes.md").exists(), "the tool never ran");
    server.post(&path, json!({"reason": "again"}), 409).await;
    server.stop().await;
}

async fn a_client_that_disconnects_does_not_lose_the_reply(database: TestDatabase) {
    let server = LiveServer::start(database, ToolsConfig::default()).await;
    let (agent, _) = server.post("/api/v1/agents", json!({"name": "Talker", "goal": "Talk"}), 201).await;
    let full = "A long answer that takes a while to write, one small piece after another, to the very end.";
    server.fake().push(Reply::text(full).with_chunk_chars(3).with_delay_between_chunks(Duration::from_millis(25)));
    let history = format!("/api/v1/agents/{}/chat", agent["id"]);
    let mut stream = server.chat_stream(&history, "Tell me something long").await;
    let first = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap().unwrap();
    assert_eq!(first.event, "delta");
    drop(stream);
    let while_writing = server.get(&history).await;
    assert_eq!(while_writing["messages"].as_array().unwrap().len(), 1, "only the question, the reply is being written");

    let deadline = Instant::now() + PATIENCE;
    loop {
        let messages = server.get(&history).await["messages"].as_array().unwrap().clone();
        if let Some(reply) = messages.get(1) {
            assert_eq!((reply["role"].as_str(), reply["text"].as_str()), (Some("assistant"), Some(full)));
            break;
        }
        assert!(Instant::now() < deadline, "the reply was never stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await;
}

async fn queued_and_running_runs_are_cancelled(database: TestDatabase) {
    let server = LiveServer::start(database, ToolsConfig::default()).await;
    let (agent, _) = server.post("/api/v1/agents", json!({"name": "Busy", "goal": "Work"}), 201).await;
    let runs = format!("/api/v1/agents/{}/runs", agent["id"]);

    // A run waiting for its time ends at once, with its job.
    let (later, _) = server.post(&runs, json!({"instruction": "Later", "delay_ms": 600_000}), 201).await;
    let (cancelled, _) = server.post(&format!("/api/v1/runs/{}/cancel", later["id"]), Value::Null, 200).await;
    assert_eq!((cancelled["status"].as_str(), cancelled["outcome"].as_str()), (Some("finished"), Some("cancelled")));
    assert_eq!(server.get(&format!("/api/v1/jobs/{}", later["job_id"])).await["state"], "cancelled");

    // A running run stops at its next step boundary.
    server.fake().set_responder(|_| {
        Some(Reply::tool_call("actions__list", &json!({})).with_first_byte_delay(Duration::from_millis(30)).into())
    });
    let body = json!({"instruction": "Loop until stopped", "limits": {"max_steps": 500}});
    let (running, _) = server.post(&runs, body, 201).await;
    let id = running["id"].as_i64().unwrap();
    server.wait_for_run(id, "made some steps", |run| run["steps"].as_u64().unwrap_or(0) >= 4).await;
    let (asked, _) = server.post(&format!("/api/v1/runs/{id}/cancel"), Value::Null, 200).await;
    assert!(asked["cancel_requested"] == true || asked["outcome"] == "cancelled", "{asked}");
    let stopped = server.wait_for_run(id, "stopped", |run| run["status"] == "finished").await;
    assert_eq!(
        (stopped["outcome"].as_str(), stopped["error"].as_str()),
        (Some("cancelled"), Some("cancelled by request"))
    );
    let calls = stopped["usage"]["model_calls"].as_u64().unwrap();
    assert!(calls < 50, "stopped early: {calls} calls");
    server.post(&format!("/api/v1/runs/{id}/cancel"), Value::Null, 409).await;
    server.fake().clear_responder();
    server.stop().await;
}
