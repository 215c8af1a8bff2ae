//! `steward-fake-llm`: the fake model provider as a standalone server, for
//! trying Steward end to end without an API key.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use steward_fake_llm::{BehaviourOptions, FakeLlm};

/// Serve a fake Anthropic / OpenAI-compatible model provider on a local port.
#[derive(Debug, Parser)]
#[command(name = "steward-fake-llm", version)]
struct Arguments {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Address to bind; loopback by default.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    #[command(flatten)]
    behaviour: BehaviourOptions,
    /// Do not keep received requests in memory (for long load runs).
    #[arg(long)]
    no_recording: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let fake = match FakeLlm::start_on(SocketAddr::new(arguments.host, arguments.port)).await {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("steward-fake-llm: cannot listen on {}:{}: {error}", arguments.host, arguments.port);
            return ExitCode::FAILURE;
        }
    };
    arguments.behaviour.apply(&fake);
    fake.set_recording(!arguments.no_recording);
    // Whoever started us may stop reading stdout; that must not stop the server.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "steward-fake-llm listening on {}", fake.base_url());
    let _ =
        writeln!(stdout, "  Anthropic: ANTHROPIC_BASE_URL={} ANTHROPIC_API_KEY=anything", fake.anthropic_base_url());
    let _ = writeln!(stdout, "  OpenAI:    OPENAI_BASE_URL={} OPENAI_API_KEY=anything", fake.openai_base_url());
    let _ = stdout.flush();
    if let Err(error) = fake.run_until_ctrl_c().await {
        eprintln!("steward-fake-llm: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
