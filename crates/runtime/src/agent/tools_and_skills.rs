//! What agents work with in production: the built-in tools, bound to each
//! agent's skills, which come from `$STEWARD_HOME/agents/<id>/skills/` (the
//! agent's own, first) and `$STEWARD_HOME/skills/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use steward_domain::suggest::did_you_mean;
use steward_domain::{Agent, AgentId};

use super::context::SkillSummary;
use super::runtime::{SkillSource, ToolSource};
use crate::skills::SkillCatalog;
use crate::tools::actions::{CreateAction, ListActions, UpdateAction};
use crate::tools::artifacts::WriteArtifact;
use crate::tools::memory::{MemoryCoreUpdate, MemoryForget, MemoryRemember, MemorySearch};
use crate::tools::{BuiltinTools, ToolRegistry};

/// How long a loaded skill catalog is reused before the folders are read again.
const CATALOG_TTL: Duration = Duration::from_secs(5);

/// The production [`ToolSource`] and [`SkillSource`]: the built-in tools and
/// the skills each agent finds under `$STEWARD_HOME`.
pub struct HomeToolsAndSkills {
    builtins: BuiltinTools,
    home: PathBuf,
    catalogs: Mutex<HashMap<AgentId, (Instant, Arc<SkillCatalog>)>>,
}

impl HomeToolsAndSkills {
    pub fn new(builtins: BuiltinTools, home: PathBuf) -> Self {
        HomeToolsAndSkills { builtins, home, catalogs: Mutex::new(HashMap::new()) }
    }

    /// The folders an agent's skills come from, its own first.
    pub fn skill_folders(&self, agent: AgentId) -> Vec<PathBuf> {
        vec![self.home.join("agents").join(agent.to_string()).join("skills"), self.home.join("skills")]
    }

    fn catalog(&self, agent: AgentId) -> Arc<SkillCatalog> {
        if let Ok(catalogs) = self.catalogs.lock()
            && let Some((loaded, catalog)) = catalogs.get(&agent)
            && loaded.elapsed() < CATALOG_TTL
        {
            return catalog.clone();
        }
        let catalog = Arc::new(SkillCatalog::load(&self.skill_folders(agent)));
        for problem in catalog.problems() {
            if problem.is_warning() {
                tracing::warn!(agent = %agent, %problem, "a skill breaks a limit of the format; it is loaded anyway");
            } else {
                tracing::warn!(agent = %agent, %problem, "skipping a malformed skill");
            }
        }
        if let Ok(mut catalogs) = self.catalogs.lock() {
            catalogs.insert(agent, (Instant::now(), catalog.clone()));
        }
        catalog
    }
}

impl HomeToolsAndSkills {
    /// Refuses a `tools.require_approval` entry that names no tool: a typo
    /// there would leave the tool meant running without a person's approval.
    pub fn check_require_approval(&self, names: &[String]) -> Result<(), String> {
        let known = self.tool_names();
        for (index, name) in names.iter().enumerate() {
            if !known.contains(name) {
                return Err(format!(
                    "tools.require_approval[{index}]: unknown tool `{name}`{}; the tools are: {}",
                    did_you_mean(name, known.iter().map(String::as_str)),
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Every tool an agent can be given, with the configured approvals;
    /// the skill tools read no folder here (`steward tools` lists them).
    pub fn every_tool(&self) -> ToolRegistry {
        self.registry_with(Arc::new(SkillCatalog::load(&[])))
    }

    fn registry_with(&self, catalog: Arc<SkillCatalog>) -> ToolRegistry {
        let mut registry = self.builtins.registry(catalog);
        registry.register(ListActions);
        registry.register(CreateAction);
        registry.register(UpdateAction);
        registry.register(WriteArtifact);
        registry.register(MemorySearch);
        registry.register(MemoryRemember);
        registry.register(MemoryForget);
        registry.register(MemoryCoreUpdate);
        registry
    }
}

impl ToolSource for HomeToolsAndSkills {
    fn registry_for(&self, agent: &Agent) -> ToolRegistry {
        self.registry_with(self.catalog(agent.id))
    }

    /// The names do not depend on the skills (the skill tools are there
    /// either way), so no folder is read.
    fn tool_names(&self) -> Vec<String> {
        self.every_tool().names()
    }

    fn unavailable(&self, name: &str) -> Option<String> {
        self.every_tool().get(name).and_then(|tool| tool.unavailable())
    }
}

impl SkillSource for HomeToolsAndSkills {
    fn index(&self, agent: &Agent) -> Vec<SkillSummary> {
        self.catalog(agent.id)
            .skills()
            .map(|skill| SkillSummary { name: skill.name.clone(), description: skill.description.clone() })
            .collect()
    }

    fn allowed_tools(&self, agent: &Agent, skill: &str) -> Option<Vec<String>> {
        self.catalog(agent.id).allowed_tools(skill).ok().flatten().map(<[String]>::to_vec)
    }
}
