//! The agent runtime as a service: what it needs (store, models, tools,
//! skills, settings) and where a run's files live.

use std::path::PathBuf;
use std::sync::Arc;

use steward_domain::oversight::GuardianOverride;
use steward_domain::time::start_of_utc_day;
use steward_domain::{Agent, Run, RunId, UserId};
use steward_llm::{ChatModel, LlmError, ModelId, ModelRegistry};
use steward_store::{Store, StoreError};

use super::context::SkillSummary;
use super::limits::{DEFAULT_LIMITS, EffectiveLimits, Stop, check_budget};
use crate::clock::SharedClock;
use crate::mcp::{AgentMcpTools, McpServers};
use crate::outbound::Redactor;
use crate::telemetry::{RunTrace, Telemetry};
use crate::tools::{Tool, ToolRegistry};

/// Settings of the runtime, from the configuration.
#[derive(Clone, Debug)]
pub struct RuntimeSettings {
    /// `$STEWARD_HOME`: runs' workspaces and artifacts live under it.
    pub home: PathBuf,
    /// Limits when neither a run nor its agent sets one.
    pub default_limits: EffectiveLimits,
    /// When a request is estimated above this, older turns are summarised.
    pub context_budget_tokens: u64,
    /// Turns kept whole when older ones are summarised.
    pub keep_recent_turns: usize,
    /// The most a model may write in one reply.
    pub max_output_tokens: u32,
}

impl RuntimeSettings {
    pub fn new(home: PathBuf) -> Self {
        RuntimeSettings {
            home,
            default_limits: DEFAULT_LIMITS,
            context_budget_tokens: 100_000,
            keep_recent_turns: 2,
            max_output_tokens: 4096,
        }
    }
}

/// Skills as the runtime sees them: an index for the context, and the tools
/// a skill allows while it is in use.
pub trait SkillSource: Send + Sync {
    fn index(&self, agent: &Agent) -> Vec<SkillSummary>;
    /// `None` when the skill does not narrow the tools (or does not exist).
    fn allowed_tools(&self, agent: &Agent, skill: &str) -> Option<Vec<String>>;
}

/// No skills at all.
#[derive(Debug, Default)]
pub struct NoSkills;

impl SkillSource for NoSkills {
    fn index(&self, _agent: &Agent) -> Vec<SkillSummary> {
        Vec::new()
    }

    fn allowed_tools(&self, _agent: &Agent, _skill: &str) -> Option<Vec<String>> {
        None
    }
}

/// The tools an agent could use (its allowlist is applied afterwards): the
/// same for every agent in tests, bound to each agent's skills in production.
pub trait ToolSource: Send + Sync {
    fn registry_for(&self, agent: &Agent) -> ToolRegistry;
    /// Every tool name an agent's allowlist may hold, sorted.
    fn tool_names(&self) -> Vec<String>;
    /// Why the tool named cannot work on this machine (see
    /// [`Tool::unavailable`](crate::tools::Tool::unavailable)).
    fn unavailable(&self, name: &str) -> Option<String>;
}

impl ToolSource for ToolRegistry {
    fn registry_for(&self, _agent: &Agent) -> ToolRegistry {
        self.clone()
    }

    fn tool_names(&self) -> Vec<String> {
        self.names()
    }

    fn unavailable(&self, name: &str) -> Option<String> {
        self.get(name).and_then(|tool| tool.unavailable())
    }
}

/// Everything runs and chats need.
#[derive(Clone)]
pub struct AgentRuntime {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) models: Arc<ModelRegistry>,
    pub(crate) tools: Arc<dyn ToolSource>,
    pub(crate) skills: Arc<dyn SkillSource>,
    pub(crate) settings: RuntimeSettings,
    pub(crate) redactor: Redactor,
    pub(crate) clock: SharedClock,
    /// The configured MCP servers, whose tools agents get as `mcp.*`.
    pub(crate) mcp: Option<Arc<McpServers>>,
    /// Where runs' spans go (nowhere unless OpenTelemetry export is configured).
    pub(crate) telemetry: Telemetry,
    /// Whether the guardian looks at a run: one it does not look at (off
    /// for its project, agent or `[oversight]`) never reads interventions.
    pub(crate) guardian_watches: GuardianWatch,
}

/// Whether the guardian looks at runs of the agent named, of a project's
/// task when the project's changes to the policy are given
/// (`GuardianSettings::watch` makes one from `[oversight]`).
pub type GuardianWatch = Arc<dyn Fn(&str, Option<&GuardianOverride>) -> bool + Send + Sync>;

impl AgentRuntime {
    pub fn new(
        store: Arc<dyn Store>,
        models: Arc<ModelRegistry>,
        tools: Arc<dyn ToolSource>,
        skills: Arc<dyn SkillSource>,
        settings: RuntimeSettings,
        redactor: Redactor,
    ) -> Self {
        AgentRuntime {
            store,
            models,
            tools,
            skills,
            settings,
            redactor,
            clock: SharedClock::system(),
            mcp: None,
            telemetry: Telemetry::disabled(),
            // As an empty `[oversight]` table: on, unless a project turns it off.
            guardian_watches: Arc::new(|_, project| project.is_none_or(|change| change.enabled_over(true))),
        }
    }

    /// Whether the guardian looks at a run (`GuardianSettings::watch`).
    pub fn with_guardian_watch(mut self, watch: GuardianWatch) -> Self {
        self.guardian_watches = watch;
        self
    }

    /// Whether the guardian looks at runs of `agent` (of a project's task
    /// when `project` says what the project changes of its policy).
    pub(crate) fn guardian_watches(&self, agent: &Agent, project: Option<&GuardianOverride>) -> bool {
        (self.guardian_watches)(&agent.name, project)
    }

    /// Reads "now" from `clock` instead of the system clock (give it the
    /// store's, so steps and the rows around them agree).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Gives agents the tools of these MCP servers.
    pub fn with_mcp(mut self, servers: Arc<McpServers>) -> Self {
        self.mcp = Some(servers);
        self
    }

    /// Exports runs' traces through `telemetry`.
    pub fn with_telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// The trace of `run` by `agent`.
    pub(crate) fn run_trace(&self, run: &Run, agent: &Agent) -> RunTrace {
        let model = match &agent.model {
            Some(name) => self.models.resolve_name(name),
            None => self.models.default_model(),
        };
        RunTrace::new(&self.telemetry, &self.redactor, run, agent, model.ok())
    }

    /// The configured MCP servers, if any.
    pub fn mcp(&self) -> Option<&Arc<McpServers>> {
        self.mcp.as_ref()
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The model providers and models runs can use.
    pub fn models(&self) -> &Arc<ModelRegistry> {
        &self.models
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The memory section of `agent`'s system prompt for `task`: its core
    /// blocks and the preferences and decisions believed now that are the
    /// user's or the agent's (`context::memory_section`).
    pub(crate) async fn memory_for(&self, user: UserId, agent: &Agent, task: &str) -> steward_store::Result<String> {
        let blocks = self.store.core_blocks(user, agent.id).await?;
        let kinds = [steward_domain::memory::FactKind::Preference, steward_domain::memory::FactKind::Decision];
        let now = self.clock.now();
        let mut facts = self.store.list_facts(user, &kinds, 500).await?;
        facts.retain(|fact| {
            steward_domain::memory::temporal::visible(fact, None, now) && fact.agent_id.is_none_or(|id| id == agent.id)
        });
        Ok(super::context::memory_section(&blocks, &facts, task, super::context::MEMORY_BUDGET_TOKENS))
    }

    /// The living documents attached to `agent` (`$STEWARD_HOME/living_docs.json`),
    /// read now, within their budget. A setting that cannot be read is said
    /// in the prompt, not hidden: the agent should know its documents are
    /// missing.
    pub(crate) async fn living_docs_for(&self, agent: &Agent) -> String {
        let home = self.settings.home.clone();
        let agent = agent.clone();
        let read = tokio::task::spawn_blocking(move || crate::living_docs::context_for(&home, &agent)).await;
        match read {
            Ok(Ok(section)) => section,
            Ok(Err(error)) => {
                tracing::warn!(%error, "living documents could not be read");
                format!("\n(Your living documents could not be read: {error}.)\n")
            }
            Err(error) => format!("\n(Your living documents could not be read: {error}.)\n"),
        }
    }

    /// The model an agent uses: its own, else the configured default.
    pub(crate) fn model_for(&self, agent: &Agent) -> Result<Arc<dyn ChatModel>, LlmError> {
        match &agent.model {
            Some(name) => self.models.chat_model(name),
            None => self.models.default_chat_model(),
        }
    }

    pub(crate) fn price_known(&self, model: &ModelId) -> bool {
        self.models.price_of(model).is_some()
    }

    /// Whether the agent's daily or total budget stops another call of
    /// `model` (its runs' and chats' spending counted); `None` to go on.
    pub(crate) async fn budget_stop(
        &self,
        user: UserId,
        agent: &Agent,
        model: &ModelId,
    ) -> Result<Option<Stop>, StoreError> {
        if agent.budget.is_unlimited() {
            return Ok(None);
        }
        let today = self.store.agent_spend(user, agent.id, Some(start_of_utc_day(self.clock.now()))).await?;
        let total = self.store.agent_spend(user, agent.id, None).await?;
        Ok(check_budget(&agent.budget, today, total, &model.to_string(), self.price_known(model)))
    }

    /// The tools the agent may use now: `allowed` (those its allowlist, or
    /// the default set, lets it use), narrowed to the open skill's
    /// `allowed-tools` while one is in use (the skills tools themselves stay
    /// available).
    pub(crate) fn tools_for(
        &self,
        agent: &Agent,
        allowed: &[Arc<dyn Tool>],
        open_skill: Option<&str>,
    ) -> Vec<Arc<dyn Tool>> {
        let mut tools = allowed.to_vec();
        if let Some(names) = open_skill.and_then(|skill| self.skills.allowed_tools(agent, skill)) {
            tools.retain(|tool| tool.name().starts_with("skills.") || names.iter().any(|name| name == tool.name()));
        }
        tools
    }

    /// The MCP tools `agent` gets now, and the servers that failed.
    pub(crate) async fn mcp_tools_for(&self, agent: &Agent) -> AgentMcpTools {
        match &self.mcp {
            Some(servers) => servers.tools_for(agent).await,
            None => AgentMcpTools::default(),
        }
    }

    /// The run's private folder.
    pub fn workspace_of(&self, run: RunId) -> PathBuf {
        self.settings.home.join("workspaces").join(run.to_string())
    }

    /// Where a run's artifacts go: its action's folder, or its own.
    pub fn artifacts_of(&self, run: RunId, action: Option<steward_domain::ActionId>) -> PathBuf {
        match action {
            Some(action) => self.settings.home.join("artifacts").join(action.to_string()),
            None => self.settings.home.join("artifacts").join("runs").join(run.to_string()),
        }
    }
}
