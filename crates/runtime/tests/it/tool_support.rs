//! A run's surroundings for tool tests: a workspace next to an `outside`
//! folder holding a secret, a store, and a context to call tools with.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use steward_domain::{AgentId, RunId, UserId};
use steward_runtime::skills::SkillCatalog;
use steward_runtime::tools::{Tool, ToolContext, ToolError, ToolRegistry, ToolsConfig};
use steward_test_support::TestDatabase;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "the secret outside the workspace";

pub struct ToolFixture {
    /// Holds `workspace/` and `outside/`.
    pub root: TempDir,
    pub context: ToolContext,
    _database: TestDatabase,
}

impl ToolFixture {
    pub async fn new() -> ToolFixture {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("workspace")).unwrap();
        std::fs::create_dir_all(root.path().join("outside")).unwrap();
        std::fs::write(root.path().join("outside/secret.txt"), SECRET).unwrap();
        let database = TestDatabase::sqlite();
        let store = database.open(steward_store::StoreOptions::default()).await;
        let context = ToolContext {
            user_id: UserId::LOCAL_OWNER,
            agent_id: AgentId(1),
            run_id: RunId(7),
            action_id: None,
            idempotency_key: "run-7-step-3-call-0".into(),
            workspace: root.path().join("workspace"),
            artifacts: root.path().join("artifacts"),
            store,
            clock: steward_runtime::SharedClock::system(),
            cancel: CancellationToken::new(),
        };
        ToolFixture { root, context, _database: database }
    }

    pub fn workspace(&self) -> PathBuf {
        self.root.path().join("workspace")
    }

    pub fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// The built-in tools with `config` and no skills.
    pub fn registry(&self, config: &ToolsConfig) -> ToolRegistry {
        ToolRegistry::with_builtins(config, Arc::new(SkillCatalog::default())).unwrap()
    }

    pub async fn call(&self, registry: &ToolRegistry, name: &str, input: Value) -> Result<String, ToolError> {
        call(registry.get(name).unwrap().as_ref(), &self.context, input).await
    }
}

pub async fn call(tool: &dyn Tool, context: &ToolContext, input: Value) -> Result<String, ToolError> {
    tool.call(context, input).await.map(|output| output.content)
}

/// The message of a refusal; fails the test on anything else.
pub fn refusal(outcome: Result<String, ToolError>) -> String {
    match outcome {
        Err(ToolError::Refused(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

pub fn invalid_input(outcome: Result<String, ToolError>) -> String {
    match outcome {
        Err(ToolError::InvalidInput(message)) => message,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

/// `[tools.shell]` for tests that run real sandboxes: fails the test, with
/// how to install it, when bubblewrap is missing (never skipped).
pub fn sandbox_config(configure: impl FnOnce(&mut steward_runtime::tools::ShellToolConfig)) -> ToolsConfig {
    let installed = std::process::Command::new("bwrap").arg("--version").output();
    assert!(
        installed.is_ok_and(|output| output.status.success()),
        "these tests run commands under bubblewrap, which is missing: {}",
        steward_runtime::tools::shell::install_hint()
    );
    let mut config = ToolsConfig::default();
    configure(&mut config.shell);
    config
}
