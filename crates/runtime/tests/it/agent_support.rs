//! A runtime wired to a real store and the fake model provider, for agent tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::{Agent, JobId, ManualClock, NewAgent, NewRun, Run, RunLimits};
use steward_domain::{Approval, ApprovalStatus};
use steward_fake_llm::FakeLlm;
use steward_llm::{LlmConfig, ModelRegistry, RetryConfig};
use steward_runtime::SharedClock;
use steward_runtime::agent::redact::Redactor;
use steward_runtime::agent::{AgentRuntime, NoSkills, RunProgress, RuntimeSettings};
use steward_runtime::tools::actions::{CreateAction, ListActions, UpdateAction};
use steward_runtime::tools::artifacts::WriteArtifact;
use steward_runtime::tools::{Tool, ToolContext, ToolError, ToolOutput, ToolRegistry};
use steward_store::{ApprovalFilter, Store, StoreOptions};
use steward_test_support::TestDatabase;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use crate::support::USER;

/// The key the runtime is given; tests check it never reaches storage.
pub const API_KEY: &str = "sk-ant-test-0123456789abcdefghij";

pub struct Harness {
    pub fake: FakeLlm,
    pub store: Arc<dyn Store>,
    pub runtime: Arc<AgentRuntime>,
    pub home: TempDir,
    _database: TestDatabase,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with_tools(ToolRegistry::default()).await
    }

    /// A runtime with the actions and artifacts tools plus `extra` ones.
    pub async fn with_tools(tools: ToolRegistry) -> Harness {
        Harness::build(tools, None).await
    }

    /// Like [`Harness::with_tools`], with the store and the runtime reading
    /// `clock`, which the test moves.
    pub async fn on_clock(tools: ToolRegistry, clock: Arc<ManualClock>) -> Harness {
        Harness::build(tools, Some(clock)).await
    }

    /// A harness whose agents also get the tools of these MCP servers.
    pub async fn with_mcp(config: steward_runtime::mcp::McpConfig) -> Harness {
        let mut harness = Harness::start().await;
        let servers = steward_runtime::mcp::McpServers::new(&config, Arc::new(|_: &str| None));
        harness.runtime = Arc::new((*harness.runtime).clone().with_mcp(Arc::new(servers)));
        harness
    }

    async fn build(mut tools: ToolRegistry, clock: Option<Arc<ManualClock>>) -> Harness {
        tools.register(ListActions);
        tools.register(CreateAction);
        tools.register(UpdateAction);
        tools.register(WriteArtifact);
        let fake = FakeLlm::start().await.unwrap();
        let config = LlmConfig {
            default_model: Some("anthropic/claude-sonnet-4-5".into()),
            // Failures are the queue's business in these tests: no waiting in the client.
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
        let database = TestDatabase::sqlite();
        let store = match &clock {
            Some(clock) => database.open(StoreOptions { clock: clock.clone(), ..StoreOptions::default() }).await,
            None => crate::support::open(&database).await,
        };
        let home = tempfile::tempdir().unwrap();
        let runtime = AgentRuntime::new(
            store.clone(),
            Arc::new(models),
            Arc::new(tools),
            Arc::new(NoSkills),
            RuntimeSettings::new(home.path().to_path_buf()),
            Redactor::new([API_KEY.to_string()]),
        );
        let runtime = match clock {
            Some(clock) => runtime.with_clock(SharedClock::new(clock)),
            None => runtime,
        };
        Harness { fake, store, runtime: Arc::new(runtime), home, _database: database }
    }

    pub async fn agent(&self, configure: impl FnOnce(&mut NewAgent)) -> Agent {
        let mut agent = NewAgent { name: "Scribe".into(), goal: "Write the launch post".into(), ..NewAgent::default() };
        configure(&mut agent);
        self.store.create_agent(USER, agent).await.unwrap()
    }

    pub async fn start_run(&self, agent: &Agent, instruction: &str, limits: RunLimits) -> Run {
        let run = NewRun { agent_id: agent.id, action_id: None, instruction: instruction.into(), limits, run_at: None };
        self.store.start_run(USER, run).await.unwrap()
    }

    /// Executes the run as its current job would.
    pub async fn execute(&self, run: &Run) -> RunProgress {
        let job = self.current_job(run).await;
        self.runtime.execute_run(run.id, job, CancellationToken::new()).await.unwrap()
    }

    pub async fn current_job(&self, run: &Run) -> JobId {
        self.store.get_run(USER, run.id).await.unwrap().job_id.expect("the run has a job")
    }

    pub async fn reload(&self, run: &Run) -> Run {
        self.store.get_run(USER, run.id).await.unwrap()
    }

    /// The run's tool calls waiting for a person.
    pub async fn pending_approvals(&self, run: &Run) -> Vec<Approval> {
        let filter = ApprovalFilter { run_id: Some(run.id), statuses: vec![ApprovalStatus::Pending] };
        self.store.list_approvals(USER.into(), filter).await.unwrap()
    }
}

/// A side-effecting test tool: counts its executions; may need approval.
pub struct Effect {
    pub name: &'static str,
    pub approval: bool,
    pub calls: Arc<AtomicUsize>,
    pub keys: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Effect {
    pub fn new(name: &'static str, approval: bool) -> Effect {
        Effect { name, approval, calls: Arc::default(), keys: Arc::default() }
    }

    pub fn handles(&self) -> (Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
        (self.calls.clone(), self.keys.clone())
    }
}

#[async_trait]
impl Tool for Effect {
    fn name(&self) -> &str {
        self.name
    }

    fn description(&self) -> &str {
        "Does something with a side effect."
    }

    fn input_schema(&self) -> Arc<Value> {
        Arc::new(json!({ "type": "object", "properties": { "what": { "type": "string" } } }))
    }

    fn requires_approval(&self) -> bool {
        self.approval
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.keys.lock().unwrap().push(context.idempotency_key.clone());
        Ok(ToolOutput::text(format!("did {}", input["what"].as_str().unwrap_or("it"))))
    }
}
