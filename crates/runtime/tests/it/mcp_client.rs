//! Steward's MCP client in agent runs, against official reference servers
//! (installed by `npm ci` in `crates/runtime/tests/mcp`):
//! `@modelcontextprotocol/server-everything` over stdio and over streamable
//! HTTP, and `@modelcontextprotocol/server-filesystem` reading a file, with
//! the fake provider scripting the tool calls: calls traced as
//! `mcp.<server>.<tool>`, a result cut at the server's cap with a note, deny
//! globs, approvals, and a server that cannot start reported in the run,
//! which still completes.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward_domain::{RunLimits, RunOutcome, StepKind};
use steward_fake_llm::Reply;
use steward_runtime::agent::RunProgress;
use steward_runtime::mcp::{McpConfig, McpServerConfig};

use crate::agent_support::Harness;
use crate::support::USER;

/// A reference server's entry point (`server-everything`, …), installed by `npm ci`.
fn reference_server(package: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/mcp/node_modules/@modelcontextprotocol/{package}/dist/index.js"));
    assert!(path.exists(), "{} is missing: run `npm ci` in crates/runtime/tests/mcp", path.display());
    path
}

fn everything_server() -> PathBuf {
    reference_server("server-everything")
}

/// `server-everything` in its streamable-HTTP mode on a free port, stopped
/// when dropped.
struct HttpEverything {
    child: Child,
    port: u16,
}

impl HttpEverything {
    fn start() -> HttpEverything {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
        let child = Command::new("node")
            .arg(everything_server())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let server = HttpEverything { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(Instant::now() < deadline, "server-everything did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn everything(configure: impl FnOnce(&mut McpServerConfig)) -> McpConfig {
    let mut server = McpServerConfig {
        command: Some("node".into()),
        args: vec![everything_server().display().to_string(), "stdio".into()],
        ..McpServerConfig::default()
    };
    configure(&mut server);
    McpConfig { servers: [("everything".to_string(), server)].into() }
}

fn tool_names(request: &Value) -> Vec<String> {
    request["tools"].as_array().map_or_else(Vec::new, |tools| {
        tools.iter().filter_map(|tool| tool["name"].as_str().map(str::to_string)).collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_calls_a_real_mcp_server_and_the_call_is_traced() {
    let h = Harness::with_mcp(everything(|server| server.deny = vec!["trigger-*".into()])).await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::tool_call("mcp__everything__echo", &json!({ "message": "hello from Steward" })));
    h.fake.push(Reply::text("It echoed."));
    let run = h.start_run(&agent, "Echo something", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));

    let offered = tool_names(&h.fake.requests()[0].body);
    assert!(offered.contains(&"mcp__everything__echo".to_string()), "{offered:?}");
    assert!(offered.iter().all(|name| !name.contains("trigger")), "denied by glob: {offered:?}");
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    let call = steps.iter().find(|step| step.kind == StepKind::ToolCall).unwrap();
    assert_eq!(call.name, "mcp.everything.echo", "traced with the server's name");
    assert_eq!(call.content["result"], "Echo: hello from Steward");
    assert_eq!(call.content["arguments"], json!({ "message": "hello from Steward" }));
    assert!(h.fake.requests()[1].body.to_string().contains("Echo: hello from Steward"));

    // The server is kept alive: a second run reuses it.
    h.fake.push(Reply::tool_call("mcp__everything__get-sum", &json!({ "a": 2, "b": 3 })));
    h.fake.push(Reply::text("Five."));
    let second = h.start_run(&agent, "Add", RunLimits::default()).await;
    assert_eq!(h.execute(&second).await, RunProgress::Finished(RunOutcome::Completed));
    let steps = h.store.list_steps(USER, second.id).await.unwrap();
    let call = steps.iter().find(|step| step.kind == StepKind::ToolCall).unwrap();
    assert!(call.content["result"].as_str().unwrap().contains('5'), "{:?}", call.content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_result_is_cut_with_a_note_and_approval_is_asked_first() {
    let h = Harness::with_mcp(everything(|server| {
        server.max_result_chars = 10;
        server.require_approval = vec!["get-sum".into()];
    }))
    .await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::tool_call("mcp__everything__echo", &json!({ "message": "a message longer than ten" })));
    h.fake.push(Reply::tool_call("mcp__everything__get-sum", &json!({ "a": 1, "b": 1 })));
    let run = h.start_run(&agent, "Echo, then add", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::AwaitingApproval, "get-sum waits for a person");
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    let call = steps.iter().find(|step| step.kind == StepKind::ToolCall).unwrap();
    let result = call.content["result"].as_str().unwrap();
    assert!(result.starts_with("Echo: a me"), "{result}");
    assert!(result.contains("truncated") && result.contains("mcp.servers.everything.max_result_chars"), "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_is_reported_and_the_run_goes_on() {
    let broken = McpServerConfig { command: Some("/nonexistent/mcp-server".into()), ..McpServerConfig::default() };
    let h = Harness::with_mcp(McpConfig { servers: [("broken".to_string(), broken)].into() }).await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::text("Done without it."));
    let run = h.start_run(&agent, "Work", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    let notes = steps[0].content["notes"].to_string();
    assert!(notes.contains("MCP server broken did not start"), "{notes}");
    let system = h.fake.requests()[0].body["system"].to_string();
    assert!(system.contains("Unavailable in this run: MCP server broken"), "{system}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_calls_server_everything_over_streamable_http() {
    let remote = HttpEverything::start();
    let server = McpServerConfig { url: Some(remote.url()), ..McpServerConfig::default() };
    let h = Harness::with_mcp(McpConfig { servers: [("remote".to_string(), server)].into() }).await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::tool_call("mcp__remote__echo", &json!({ "message": "over HTTP" })));
    h.fake.push(Reply::tool_call("mcp__remote__get-sum", &json!({ "a": 20, "b": 22 })));
    h.fake.push(Reply::text("Echoed and added."));
    let run = h.start_run(&agent, "Echo, then add", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));

    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    let calls: Vec<_> = steps.iter().filter(|step| step.kind == StepKind::ToolCall).collect();
    assert_eq!(calls.len(), 2, "{steps:?}");
    assert_eq!(calls[0].name, "mcp.remote.echo", "traced with the server's name");
    assert_eq!(calls[0].content["result"], "Echo: over HTTP");
    assert_eq!(calls[1].name, "mcp.remote.get-sum");
    assert!(calls[1].content["result"].as_str().unwrap().contains("42"), "{:?}", calls[1].content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reads_a_file_through_server_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "The launch is on Thursday at 10:00.\n").unwrap();
    let server = McpServerConfig {
        command: Some("node".into()),
        args: vec![reference_server("server-filesystem").display().to_string(), dir.path().display().to_string()],
        allow: vec!["read_text_file".into(), "list_directory".into()],
        ..McpServerConfig::default()
    };
    let h = Harness::with_mcp(McpConfig { servers: [("files".to_string(), server)].into() }).await;
    let agent = h.agent(|_| {}).await;
    let path = notes.display().to_string();
    h.fake.push(Reply::tool_call("mcp__files__read_text_file", &json!({ "path": path })));
    h.fake.push(Reply::text("Thursday at ten."));
    let run = h.start_run(&agent, "When is the launch?", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));

    let offered = tool_names(&h.fake.requests()[0].body);
    assert_eq!(offered.iter().filter(|name| name.starts_with("mcp__files__")).count(), 2, "allowed: {offered:?}");
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    let call = steps.iter().find(|step| step.kind == StepKind::ToolCall).unwrap();
    assert_eq!(call.name, "mcp.files.read_text_file", "traced with the server's name");
    assert_eq!(call.content["arguments"], json!({ "path": path }));
    assert!(call.content["result"].as_str().unwrap().contains("Thursday at 10:00"), "{:?}", call.content);
    assert!(h.fake.requests()[1].body.to_string().contains("Thursday at 10:00"), "the model read the file");
}
