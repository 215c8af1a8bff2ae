//! The built-in tools, assembled into a [`ToolRegistry`]: the workspace
//! tools, `http.fetch` and the skill tools, all in the default set,
//! `shell.run` for agents that list it, with the configured approvals
//! applied.

use std::sync::Arc;

use super::config::{ToolsConfig, ToolsConfigError};
use super::http::HttpFetch;
use super::shell::ShellRun;
use super::skill_tools::{SkillOpen, SkillReadResource};
use super::workspace::{WorkspaceList, WorkspaceRead, WorkspaceSearch, WorkspaceWrite};
use super::{Tool, ToolRegistry};
use crate::skills::SkillCatalog;

/// The built-in tools that do not depend on an agent, made once per process
/// (the HTTP client and its connection pool are shared); each run's registry
/// is then cheap to assemble with the agent's skills.
#[derive(Clone)]
pub struct BuiltinTools {
    config: ToolsConfig,
    shared: Vec<Arc<dyn Tool>>,
}

impl std::fmt::Debug for BuiltinTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.shared.iter().map(|tool| tool.name()).collect();
        f.debug_struct("BuiltinTools").field("tools", &names).finish_non_exhaustive()
    }
}

impl BuiltinTools {
    pub fn new(config: &ToolsConfig) -> Result<BuiltinTools, ToolsConfigError> {
        config.validate()?;
        let workspace = config.workspace.clone();
        let shared: Vec<Arc<dyn Tool>> = vec![
            Arc::new(WorkspaceRead { config: workspace.clone() }),
            Arc::new(WorkspaceWrite { config: workspace.clone() }),
            Arc::new(WorkspaceList { config: workspace.clone() }),
            Arc::new(WorkspaceSearch { config: workspace }),
            Arc::new(HttpFetch::new(config.http.clone())?),
        ];
        Ok(BuiltinTools { config: config.clone(), shared })
    }

    /// A registry of the built-in tools, with `skills.open` and
    /// `skills.read_resource` reading `skills`. Tools registered on it later
    /// (`actions.*`, `artifacts.write`) also get the configured approvals.
    pub fn registry(&self, skills: Arc<SkillCatalog>) -> ToolRegistry {
        let mut registry = ToolRegistry::default();
        registry.require_approval_for(&self.config.require_approval);
        for tool in &self.shared {
            registry.register_shared(Arc::clone(tool));
        }
        let max_read_bytes = self.config.workspace.max_read_bytes;
        registry.register(SkillOpen { catalog: Arc::clone(&skills) });
        registry.register(SkillReadResource { catalog: skills, max_read_bytes });
        registry.register_when_listed(ShellRun { config: self.config.shell.clone() });
        registry
    }
}

impl ToolRegistry {
    /// The built-in tools in one step; see [`BuiltinTools`] to assemble many
    /// registries from one set.
    pub fn with_builtins(config: &ToolsConfig, skills: Arc<SkillCatalog>) -> Result<ToolRegistry, ToolsConfigError> {
        Ok(BuiltinTools::new(config)?.registry(skills))
    }
}
