//! `steward dev …`: tools for developing and trying Steward. `dev fake-llm`
//! runs the fake model provider, so everything can be tried without a key.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use steward_fake_llm::FakeLlm;

#[derive(Debug, clap::Subcommand)]
pub enum DevCommand {
    /// Serve a fake model provider speaking the Anthropic and OpenAI protocols.
    FakeLlm(FakeLlmArgs),
}

#[derive(Debug, clap::Args)]
pub struct FakeLlmArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    pub port: u16,

    /// Address to bind.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,

    /// Hold every reply this many milliseconds, like a slow model.
    #[arg(long, default_value_t = 0)]
    pub reply_delay_ms: u64,
}

pub async fn run(command: DevCommand) -> anyhow::Result<()> {
    match command {
        DevCommand::FakeLlm(args) => fake_llm(args).await,
    }
}

async fn fake_llm(args: FakeLlmArgs) -> anyhow::Result<()> {
    let fake = FakeLlm::start_on(SocketAddr::new(args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    fake.set_reply_delay(Duration::from_millis(args.reply_delay_ms));
    // A long-running fake would otherwise keep every request in memory.
    fake.set_recording(false);
    println!("steward-fake-llm listening on {}", fake.base_url());
    println!("Try it:");
    println!("  ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=fake steward ask \"hello\"", fake.anthropic_base_url());
    println!(
        "  OPENAI_BASE_URL={} OPENAI_API_KEY=fake steward ask --model openai/gpt-4.1-mini \"hello\"",
        fake.openai_base_url()
    );
    fake.run_until_ctrl_c().await?;
    Ok(())
}
