//! `steward dev …`: tools for developing and trying Steward. `dev fake-llm`
//! runs the fake model provider, so everything can be tried without a key;
//! the hidden `dev mcp-conformance-client` is the MCP client the official
//! conformance suite drives (`dev_mcp_conformance.rs`).

use crate::output::say;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use steward_fake_llm::{BehaviourOptions, FakeLlm};

#[derive(Debug, clap::Subcommand)]
pub enum DevCommand {
    /// Serve a fake model provider speaking the Anthropic and OpenAI protocols.
    FakeLlm(FakeLlmArgs),
    /// Steward's MCP client as the MCP conformance suite runs an SDK's client.
    #[command(hide = true)]
    McpConformanceClient(super::dev_mcp_conformance::McpConformanceClientArgs),
}

#[derive(Debug, clap::Args)]
pub struct FakeLlmArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    pub port: u16,

    /// Address to bind.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,

    #[command(flatten)]
    pub behaviour: BehaviourOptions,
}

pub async fn run(command: DevCommand) -> anyhow::Result<()> {
    match command {
        DevCommand::FakeLlm(args) => fake_llm(args).await,
        DevCommand::McpConformanceClient(args) => super::dev_mcp_conformance::run(args).await,
    }
}

async fn fake_llm(args: FakeLlmArgs) -> anyhow::Result<()> {
    // Each held request is an open connection: allow as many as the system lets us.
    let open_files = crate::open_files::raise_open_files_limit();
    let fake = FakeLlm::start_on(SocketAddr::new(args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    args.behaviour.apply(&fake);
    // A long-running fake would otherwise keep every request in memory.
    fake.set_recording(false);
    say!("steward-fake-llm listening on {}", fake.base_url());
    say!("Open-file limit {}: about that many connections at once.", open_files.describe());
    say!("Try it:");
    say!("  ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=fake steward ask \"hello\"", fake.anthropic_base_url());
    say!(
        "  OPENAI_BASE_URL={} OPENAI_API_KEY=fake steward ask --model openai/gpt-4.1-mini \"hello\"",
        fake.openai_base_url()
    );
    fake.run_until_ctrl_c().await?;
    Ok(())
}
