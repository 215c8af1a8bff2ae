//! An agent runtime as `steward serve` builds it (production model client,
//! built-in tools, skills from the home), with its model provider played by
//! the fake, for tests of the chat, run and artifact endpoints.

use std::sync::Arc;

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Reply};
use steward_llm::{LlmConfig, ModelRegistry, RetryConfig};
use steward_runtime::agent::redact::Redactor;
use steward_runtime::agent::{AgentRuntime, HomeToolsAndSkills, RuntimeSettings};
use steward_runtime::tools::{BuiltinTools, ToolsConfig};
use steward_store::Store;
use tempfile::TempDir;

/// The key the runtime is given; the fake sees it, storage never does.
pub const API_KEY: &str = "sk-ant-test-0123456789abcdefghij";

/// The tool the Anthropic client forces for structured output (the setup chat's replies).
pub const STRUCTURED: &str = "structured_output";

/// The runtime, its fake provider and its home.
pub struct Agents {
    pub fake: FakeLlm,
    pub runtime: Arc<AgentRuntime>,
    pub home: TempDir,
}

impl Agents {
    /// A runtime over `store` whose tools follow `tools` (e.g. which need approval).
    pub async fn start(store: Arc<dyn Store>, tools: &ToolsConfig) -> Agents {
        let fake = FakeLlm::start().await.unwrap();
        let config = LlmConfig {
            default_model: Some("anthropic/claude-sonnet-4-5".into()),
            // A failed call is reported at once; retrying is the queue's business.
            retry: RetryConfig { max_retries: 0, ..RetryConfig::default() },
            ..LlmConfig::default()
        };
        let base_url = fake.anthropic_base_url();
        let environment = move |name: &str| match name {
            "ANTHROPIC_API_KEY" => Some(API_KEY.to_string()),
            "ANTHROPIC_BASE_URL" => Some(base_url.clone()),
            _ => None,
        };
        let models = ModelRegistry::new(&config, &environment).unwrap();
        let home = tempfile::tempdir().unwrap();
        let tools_and_skills =
            Arc::new(HomeToolsAndSkills::new(BuiltinTools::new(tools).unwrap(), home.path().to_path_buf()));
        let runtime = AgentRuntime::new(
            store,
            Arc::new(models),
            tools_and_skills.clone(),
            tools_and_skills,
            RuntimeSettings::new(home.path().to_path_buf()),
            Redactor::new([API_KEY.to_string()]),
        );
        Agents { fake, runtime: Arc::new(runtime), home }
    }
}

/// A setup-chat reply: what to say, whether it is ready, and the agent so far.
pub fn setup_reply(reply: &str, agent: Option<Value>) -> Reply {
    Reply::tool_call(STRUCTURED, &json!({ "reply": reply, "ready": agent.is_some(), "agent": agent }))
}

/// The agent a ready setup chat proposes.
pub fn newsletter_agent() -> Value {
    json!({
        "name": "Newsletter", "goal": "Reach 1,000 subscribers",
        "success_criteria": ["A weekly issue", "40% open rate"], "timeline": "by June"
    })
}

/// A draft the agent proposes in its chat.
pub fn proposal(title: &str) -> Value {
    json!({ "title": title, "description": "Three sections, 600 words.", "priority": "high", "mode": "scheduled" })
}
