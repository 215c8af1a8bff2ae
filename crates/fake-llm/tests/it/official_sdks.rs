//! The official `anthropic` and `openai` Python SDKs parse the fake's replies:
//! the proof that the fake speaks the real wire protocols, so tests of our
//! client against it mean something.

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;
use steward_fake_llm::{FakeLlm, Fault, ReceivedRequest, Reply, ReplyUsage, Script};

const PIP_COMMAND: &str = "python3 -m pip install -r crates/fake-llm/tests/sdk/requirements.txt";

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

fn python() -> String {
    std::env::var("STEWARD_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Fails (never skips) when the SDKs are missing, saying how to install them.
fn require_python_sdks() {
    let probe = Command::new(python()).args(["-c", "import anthropic, openai, pydantic"]).output();
    match probe {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "the official Python SDKs are not installed ({}); run: {PIP_COMMAND}",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(error) => panic!("cannot run {} ({error}); install Python 3, then run: {PIP_COMMAND}", python()),
    }
}

/// The reply every `*-tools` scenario expects (see check_official_sdks.py).
fn tools_reply() -> Reply {
    Reply::text("Let me check both cities.")
        .then_tool_call("get_weather", &json!({ "city": "Paris" }))
        .then_tool_call("get_weather", &json!({ "city": "Tokyo", "unit": "celsius" }))
        .with_usage(ReplyUsage {
            input_tokens: 120,
            output_tokens: 45,
            cache_read_tokens: 1000,
            cache_write_tokens: 200,
        })
}

fn answer(request: &ReceivedRequest) -> Option<Script> {
    let prompt = request.last_user_text()?;
    let scenario = prompt.strip_prefix("scenario:")?.split_whitespace().next()?;
    let script: Script = match scenario {
        "anthropic-tools" | "openai-tools" => tools_reply().into(),
        "rate-limited" => Fault::rate_limited(7).into(),
        "overloaded" => Fault::overloaded().into(),
        "error-mid-stream" => Fault::overloaded_mid_stream(4, Reply::text("partial answer that is cut off")).into(),
        "structured" => Reply::json(&json!({ "city": "Paris", "temperature_c": 21.5 })).into(),
        _ => return None,
    };
    Some(script)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdks_parse_streamed_and_whole_replies_with_tool_calls() {
    require_python_sdks();
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(answer);
    let script = sdk_dir().join("check_official_sdks.py");
    let (anthropic_url, openai_url) = (fake.anthropic_base_url(), fake.openai_base_url());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python()).arg(script).arg(anthropic_url).arg(openai_url).output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "SDK check failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");

    // The fake read what the SDKs sent: keys and versions in the right headers.
    let requests = fake.requests();
    let anthropic_request = requests.iter().find(|request| request.path == "/v1/messages").unwrap();
    // anthropic 2.x sends the key as a bearer token rather than `x-api-key`.
    assert_eq!(anthropic_request.presented_api_key(), Some("sk-fake-sdk-check"), "{:?}", anthropic_request.headers);
    assert!(anthropic_request.header("anthropic-version").is_some());
    let openai_request = requests.iter().find(|request| request.path == "/v1/chat/completions").unwrap();
    assert_eq!(openai_request.presented_api_key(), Some("sk-fake-sdk-check"));
    assert_eq!(openai_request.system_text().as_deref(), Some("Be brief."));
}
