//! `steward ask`, `steward models` and `steward dev fake-llm`, run as the
//! real binary against the fake provider, with a controlled environment.

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Fault, Reply, ReplyUsage};

const KEY: &str = "sk-ant-cli-test-0123456789";

struct Steward {
    home: tempfile::TempDir,
    environment: Vec<(String, String)>,
}

impl Steward {
    fn new() -> Self {
        Steward { home: tempfile::tempdir().unwrap(), environment: Vec::new() }
    }

    fn env(mut self, name: &str, value: &str) -> Self {
        self.environment.push((name.to_owned(), value.to_owned()));
        self
    }

    fn anthropic(self, fake: &FakeLlm) -> Self {
        self.env("ANTHROPIC_API_KEY", KEY).env("ANTHROPIC_BASE_URL", &fake.anthropic_base_url())
    }

    fn config(self, text: &str) -> Self {
        std::fs::write(self.home.path().join("config.toml"), text).unwrap();
        self
    }

    /// Runs the binary with only the given variables set.
    async fn run(&self, arguments: &[&str]) -> Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_steward"));
        command.env_clear().env("STEWARD_HOME", self.home.path()).args(arguments).stdin(Stdio::null());
        for (name, value) in &self.environment {
            command.env(name, value);
        }
        command.output().await.unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_streams_the_answer_then_prints_tokens_and_cost() {
    let fake = FakeLlm::start().await.unwrap();
    let usage = ReplyUsage { input_tokens: 1200, output_tokens: 300, cache_read_tokens: 5000, cache_write_tokens: 100 };
    fake.push(Reply::text("Paris is the capital of France.").with_usage(usage));
    let output = Steward::new().anthropic(&fake).run(&["ask", "--system", "Be brief.", "Capital of France?"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Paris is the capital of France.\n");
    let summary = stderr(&output);
    assert!(summary.contains("anthropic/claude-sonnet-4-5"), "{summary}");
    assert!(summary.contains("1200 in, 300 out, 5000 cached (read), 100 cached (write)"), "{summary}");
    // 1200 × 3 + 300 × 15 + 5000 × 0.30 + 100 × 3.75 = 9,975 per million.
    assert!(summary.contains("cost: $0.009975"), "{summary}");
    let sent = &fake.requests()[0];
    assert_eq!(sent.system_text().as_deref(), Some("Be brief."));
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert!(sent.is_streaming());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_json_prints_one_object_and_an_unpriced_model_has_a_null_cost() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Reply::text("hello").with_usage(ReplyUsage { input_tokens: 10, output_tokens: 2, ..Default::default() }));
    let config = format!(
        "[llm]\ndefault_model = \"local/tiny\"\n[llm.providers.local]\nprotocol = \"openai\"\nbase_url = \"{}\"\nmodels = [\"tiny\"]\n",
        fake.openai_base_url()
    );
    let output = Steward::new().config(&config).run(&["--json", "ask", "hi"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let object: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(object["text"], "hello");
    assert_eq!(object["model"], "local/tiny");
    assert_eq!(
        object["usage"],
        json!({"input_tokens": 10, "output_tokens": 2, "cache_read_tokens": 0, "cache_write_tokens": 0})
    );
    assert_eq!(object["cost_usd"], Value::Null);
    assert_eq!(object["stop_reason"], "end_turn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_with_a_schema_prints_validated_json_after_a_reask() {
    let fake = FakeLlm::start().await.unwrap();
    let schema_dir = tempfile::tempdir().unwrap();
    let schema_path = schema_dir.path().join("task.json");
    std::fs::write(&schema_path, r#"{"type":"object","properties":{"title":{"type":"string"},"minutes":{"type":"integer"}},"required":["title","minutes"]}"#).unwrap();
    let tool = steward_llm::providers::anthropic::STRUCTURED_OUTPUT_TOOL;
    fake.push(Reply::tool_call(tool, &json!({"title": "Write report"})));
    fake.push(Reply::tool_call(tool, &json!({"title": "Write report", "minutes": 45})));
    let schema = schema_path.to_str().unwrap();
    let output = Steward::new().anthropic(&fake).run(&["ask", "--schema", schema, "Plan one task"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let printed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(printed, json!({"title": "Write report", "minutes": 45}));
    assert!(stderr(&output).contains("2 attempts"), "{}", stderr(&output));

    fake.push(Reply::tool_call(tool, &json!({"title": "x", "minutes": 5})));
    let output = Steward::new().anthropic(&fake).run(&["--json", "ask", "--schema", schema, "again"]).await;
    let object: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(object["json"], json!({"title": "x", "minutes": 5}));
    assert_eq!(object["attempts"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_provider_ask_names_the_variables_to_set() {
    let output = Steward::new().run(&["ask", "hello"]).await;
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    for needle in ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "[llm.providers.ollama]"] {
        assert!(message.contains(needle), "{message}");
    }
    assert!(!message.contains("panicked") && !message.contains("backtrace"), "{message}");
    assert!(stdout(&output).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_reports_a_provider_error_without_the_key() {
    let fake = FakeLlm::start().await.unwrap();
    fake.push(Fault::authentication_echoing_key());
    let output = Steward::new().anthropic(&fake).run(&["ask", "hello"]).await;
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("authentication failed"), "{message}");
    assert!(!message.contains(KEY), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_lists_providers_and_key_status_but_never_a_key() {
    let config = "[llm.providers.ollama]\nprotocol = \"openai\"\nbase_url = \"http://localhost:11434/v1\"\nmodels = [\"llama3.2\"]\n";
    let steward = Steward::new().env("ANTHROPIC_API_KEY", KEY).config(config);
    let output = steward.run(&["models", "--offline"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(table.contains("anthropic/claude-sonnet-4-5") && table.contains("set (ANTHROPIC_API_KEY)"), "{table}");
    assert!(table.contains("missing: set OPENAI_API_KEY"), "{table}");
    assert!(table.contains("ollama/llama3.2") && table.contains("not needed"), "{table}");
    assert!(table.contains("Default model: anthropic/claude-sonnet-4-5"), "{table}");
    assert!(!table.contains(KEY));

    let output = steward.run(&["--json", "models", "--offline"]).await;
    let object: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(object["default_model"], "anthropic/claude-sonnet-4-5");
    let providers = object["providers"].as_array().unwrap();
    let anthropic = providers.iter().find(|provider| provider["name"] == "anthropic").unwrap();
    assert_eq!(anthropic["key"], "present");
    assert!(!stdout(&output).contains(KEY));

    let output = Steward::new().run(&["models", "--offline"]).await;
    assert!(output.status.success());
    assert!(stdout(&output).contains("no model provider is configured"), "{}", stdout(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_fake_llm_serves_both_protocols() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["dev", "fake-llm", "--port", "0"])
        .env_clear()
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    reader.read_line(&mut first_line).unwrap();
    let base_url = first_line.trim().rsplit(' ').next().unwrap().to_owned();
    let output = Steward::new()
        .env("OPENAI_API_KEY", "sk-anything-at-all")
        .env("OPENAI_BASE_URL", &format!("{base_url}/v1"))
        .run(&["ask", "--model", "openai/gpt-4.1-mini", "are you there"])
        .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("You said: are you there"), "{}", stdout(&output));
}
