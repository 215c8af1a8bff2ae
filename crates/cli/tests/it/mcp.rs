//! `steward mcp serve --stdio` as a desktop MCP client starts it: a child
//! process speaking MCP on its standard I/O, relaying to a running
//! `steward serve`'s `/mcp`, driven by the official Rust SDK's client.

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents};
use rmcp::transport::TokioChildProcess;
use serde_json::Value;

use crate::support::{STEWARD, ServerProcess, steward};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_client_reaches_the_running_server() {
    let server = ServerProcess::start();
    steward(server.url(), &["agent", "create", "Relay", "--goal", "Answer over MCP"]).ok();
    let mut command = tokio::process::Command::new(STEWARD);
    command.args(["mcp", "serve", "--stdio", "--server", server.url()]).env_remove("STEWARD_TOKEN");
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();

    let tools = client.peer().list_all_tools().await.unwrap();
    assert!(tools.iter().any(|tool| tool.name == "runs.start"), "{tools:?}");
    let listed = client.peer().call_tool(CallToolRequestParams::new("agents.list")).await.unwrap();
    assert_eq!(listed.structured_content.unwrap()["agents"][0]["name"], "Relay");
    let read = client.peer().read_resource(ReadResourceRequestParams::new("steward://agents/Relay")).await.unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else { panic!("a text resource") };
    assert_eq!(serde_json::from_str::<Value>(text).unwrap()["goal"], "Answer over MCP");
    let refused = client.peer().call_tool(CallToolRequestParams::new("no.such.tool")).await;
    assert!(refused.is_err(), "the server's protocol errors come through");
    client.cancel().await.unwrap();
}
