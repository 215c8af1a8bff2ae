//! `steward bench llm`: the cost of reading a streamed reply. The fake
//! provider streams the same reply of N tokens (one SSE event each) to our
//! client and to the official Python SDKs, in one run; the table shows CPU
//! time per 1,000 tokens for each reader, and the latency our client adds
//! between the fake handing over its last byte and our final event.
//!
//! Our client runs alone on its own thread (a current-thread runtime, an IP
//! address so no resolver thread), so that thread's CPU time is the client's
//! whole cost; the fake runs on the other runtime threads. Linux only: thread
//! CPU time is read from `/proc/thread-self/schedstat`.
//!
//! Run it built with `--release`; numbers from a debug build mean little.

use crate::output::say;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Reply, ReplyUsage};
use steward_llm::{ChatRequest, Protocol, ProviderClient, StreamEvent, Timeouts};

const SDK_SCRIPT: &str = include_str!("bench_llm_sdk.py");

#[derive(Debug, clap::Args)]
pub struct LlmBenchArgs {
    /// Tokens per streamed reply (one SSE event each).
    #[arg(long, default_value_t = 1000)]
    pub tokens: usize,

    /// Replies read per reader (after one warm-up).
    #[arg(long, default_value_t = 30)]
    pub runs: usize,

    /// The Python with the official SDKs (pip install -r crates/fake-llm/tests/sdk/requirements.txt).
    #[arg(long, default_value = "python3")]
    pub python: String,

    /// Measure only our client.
    #[arg(long)]
    pub skip_python: bool,
}

/// One reader's measurements, in CPU seconds per reply.
struct Series {
    protocol: &'static str,
    reader: String,
    cpu_seconds: Vec<f64>,
}

/// Nanoseconds this thread has spent on a CPU.
fn thread_cpu_time() -> anyhow::Result<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .context("thread CPU time needs Linux (/proc/thread-self/schedstat)")?;
    let nanoseconds: u64 = text.split_whitespace().next().unwrap_or_default().parse().context("reading schedstat")?;
    Ok(Duration::from_nanos(nanoseconds))
}

fn percentile(values: &[f64], fraction: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

pub async fn run(args: LlmBenchArgs, as_json: bool) -> anyhow::Result<()> {
    if args.tokens == 0 || args.runs == 0 {
        bail!("--tokens and --runs must be at least 1");
    }
    let fake = FakeLlm::start().await?;
    fake.set_recording(false);
    let tokens = args.tokens;
    let usage = ReplyUsage { input_tokens: 3, output_tokens: tokens as u64, ..ReplyUsage::default() };
    // "tok " is four characters: with four-character chunks, one event per token.
    fake.set_responder(move |_| Some(Reply::text("tok ".repeat(tokens)).with_chunk_chars(4).with_usage(usage).into()));

    let mut series = Vec::new();
    for protocol in [Protocol::Anthropic, Protocol::OpenAi] {
        let cpu_seconds = measure_our_client_cpu(&fake, protocol, args.runs, tokens).await?;
        series.push(Series { protocol: protocol.as_str(), reader: "steward-llm (Rust)".into(), cpu_seconds });
    }
    let mut versions = Value::Null;
    if !args.skip_python {
        let (sdk_series, sdk_versions) = measure_python_sdks(&fake, &args).await?;
        series.extend(sdk_series);
        versions = sdk_versions;
    }
    // For latency the client must be idle when the last byte arrives, not
    // still parsing a backlog: a short reply, paced like a model's tokens.
    fake.set_responder(move |_| {
        let paced = Reply::text("tok ".repeat(LATENCY_REPLY_TOKENS)).with_chunk_chars(4).with_usage(usage);
        Some(paced.with_delay_between_chunks(LATENCY_TOKEN_PACE).into())
    });
    let mut latencies = Vec::new();
    for protocol in [Protocol::Anthropic, Protocol::OpenAi] {
        latencies.push((protocol.as_str(), measure_added_latency(&fake, protocol, args.runs).await?));
    }
    report(&series, &latencies, &args, &versions, as_json);
    Ok(())
}

fn provider_for(fake: &FakeLlm, protocol: Protocol) -> anyhow::Result<ProviderClient> {
    let base_url = match protocol {
        Protocol::Anthropic => fake.anthropic_base_url(),
        Protocol::OpenAi => fake.openai_base_url(),
    };
    Ok(ProviderClient::new("bench", protocol, &base_url, None, Timeouts::default())?)
}

/// Reads `runs` replies (after a warm-up) on a thread of its own and
/// returns the CPU seconds each took.
async fn measure_our_client_cpu(
    fake: &FakeLlm,
    protocol: Protocol,
    runs: usize,
    tokens: usize,
) -> anyhow::Result<Vec<f64>> {
    let provider = provider_for(fake, protocol)?;
    let model = provider.chat_model("bench-model", None);
    let reader = std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let mut measured = Vec::new();
            for run in 0..=runs {
                let cpu_before = thread_cpu_time()?;
                let mut stream = model.stream(ChatRequest::from_user_text("benchmark"));
                let mut text = String::new();
                let mut finished = false;
                while let Some(event) = stream.next().await {
                    match event? {
                        StreamEvent::TextDelta { text: piece } => text.push_str(&piece),
                        StreamEvent::Finished(_) => finished = true,
                        _ => {}
                    }
                }
                let cpu = thread_cpu_time()? - cpu_before;
                if text.len() != tokens * 4 {
                    bail!("read {} characters, expected {}", text.len(), tokens * 4);
                }
                if !finished {
                    bail!("the stream ended without its final event");
                }
                if run > 0 {
                    measured.push(cpu);
                }
            }
            Ok(measured)
        })
    });
    let measured = tokio::task::spawn_blocking(move || reader.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the benchmark thread panicked"))??;
    Ok(measured.iter().map(|cpu| cpu.as_secs_f64()).collect())
}

/// Tokens of the reply used to measure latency, and their pace.
const LATENCY_REPLY_TOKENS: usize = 20;
const LATENCY_TOKEN_PACE: Duration = Duration::from_millis(2);

/// From the fake handing over its last byte to our `Finished` event, one
/// reply at a time; the fake notes only the latest stream's hand-over, so
/// it is read after every reply.
async fn measure_added_latency(fake: &FakeLlm, protocol: Protocol, runs: usize) -> anyhow::Result<Vec<Duration>> {
    let model = provider_for(fake, protocol)?.chat_model("bench-model", None);
    let mut latencies = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut stream = model.stream(ChatRequest::from_user_text("benchmark"));
        while let Some(event) = stream.next().await {
            if let StreamEvent::Finished(_) = event? {
                let finished_at = Instant::now();
                let handed_over = fake.last_stream_piece_at().context("no stream end noted")?;
                latencies.push(finished_at.saturating_duration_since(handed_over));
            }
        }
    }
    Ok(latencies)
}

async fn measure_python_sdks(fake: &FakeLlm, args: &LlmBenchArgs) -> anyhow::Result<(Vec<Series>, Value)> {
    let directory = tempfile::tempdir()?;
    let script = directory.path().join("bench_llm_sdk.py");
    std::fs::write(&script, SDK_SCRIPT)?;
    let output = tokio::process::Command::new(&args.python)
        .arg(&script)
        .arg(fake.anthropic_base_url())
        .arg(fake.openai_base_url())
        .arg(args.runs.to_string())
        .output()
        .await
        .with_context(|| format!("cannot run {}", args.python))?;
    if !output.status.success() {
        bail!(
            "the Python SDK benchmark failed (install the SDKs with: python3 -m pip install -r crates/fake-llm/tests/sdk/requirements.txt, or pass --skip-python):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let result: Value = serde_json::from_slice(&output.stdout).context("reading the Python benchmark's output")?;
    let versions = result["versions"].clone();
    let seconds = |key: &str| -> Vec<f64> {
        result[key].as_array().map(|values| values.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
    };
    let anthropic_version = versions["anthropic"].as_str().unwrap_or("?");
    let openai_version = versions["openai"].as_str().unwrap_or("?");
    let series = vec![
        Series {
            protocol: "anthropic",
            reader: format!("anthropic {anthropic_version} raw events"),
            cpu_seconds: seconds("anthropic_raw_events"),
        },
        Series {
            protocol: "anthropic",
            reader: format!("anthropic {anthropic_version} stream helper"),
            cpu_seconds: seconds("anthropic_stream_helper"),
        },
        Series {
            protocol: "openai",
            reader: format!("openai {openai_version} raw chunks"),
            cpu_seconds: seconds("openai_raw_chunks"),
        },
        Series {
            protocol: "openai",
            reader: format!("openai {openai_version} stream helper"),
            cpu_seconds: seconds("openai_stream_helper"),
        },
    ];
    Ok((series, versions))
}

fn report(
    series: &[Series],
    latencies: &[(&str, Vec<Duration>)],
    args: &LlmBenchArgs,
    versions: &Value,
    as_json: bool,
) {
    let per_thousand = |seconds: f64| seconds * 1000.0 * 1000.0 / args.tokens as f64;
    if as_json {
        let readers: Vec<Value> = series
            .iter()
            .map(|item| {
                json!({
                    "protocol": item.protocol,
                    "reader": item.reader,
                    "cpu_ms_per_1000_tokens_p50": per_thousand(percentile(&item.cpu_seconds, 0.5)),
                    "cpu_ms_per_1000_tokens_p90": per_thousand(percentile(&item.cpu_seconds, 0.9)),
                })
            })
            .collect();
        let added: Vec<Value> = latencies
            .iter()
            .map(|(protocol, values)| {
                let micros: Vec<f64> = values.iter().map(|value| value.as_secs_f64() * 1e6).collect();
                json!({ "protocol": protocol, "p50_us": percentile(&micros, 0.5), "p90_us": percentile(&micros, 0.9), "max_us": percentile(&micros, 1.0) })
            })
            .collect();
        let object = json!({ "tokens": args.tokens, "runs": args.runs, "python": versions, "readers": readers, "added_latency": added });
        say!("{object}");
        return;
    }
    say!("Streamed reply: {} tokens (one SSE event each), {} runs per reader after a warm-up.", args.tokens, args.runs);
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["protocol", "reader", "CPU ms / 1,000 tokens (p50)", "(p90)"]);
    for item in series {
        table.add_row([
            item.protocol.to_owned(),
            item.reader.clone(),
            format!("{:.2}", per_thousand(percentile(&item.cpu_seconds, 0.5))),
            format!("{:.2}", per_thousand(percentile(&item.cpu_seconds, 0.9))),
        ]);
    }
    say!("{table}");
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["protocol", "fake's last byte → our final event: p50 µs", "p90 µs", "max µs"]);
    for (protocol, values) in latencies {
        let micros: Vec<f64> = values.iter().map(|value| value.as_secs_f64() * 1e6).collect();
        table.add_row([
            (*protocol).to_owned(),
            format!("{:.0}", percentile(&micros, 0.5)),
            format!("{:.0}", percentile(&micros, 0.9)),
            format!("{:.0}", percentile(&micros, 1.0)),
        ]);
    }
    say!("{table}");
    say!(
        "Latency: replies of {LATENCY_REPLY_TOKENS} tokens paced {} ms apart, so the client is idle when the last byte arrives.",
        LATENCY_TOKEN_PACE.as_millis()
    );
}
