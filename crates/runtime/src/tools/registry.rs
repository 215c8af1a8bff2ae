//! The tools available to Steward, and the subset an agent may use.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::{Tool, ToolContext, ToolError, ToolOutput};

/// The tool's name as sent to model providers, which only accept
/// `[a-zA-Z0-9_-]`: `workspace.read` becomes `workspace__read`.
pub fn wire_name(name: &str) -> String {
    name.replace('.', "__")
}

/// Which agents may use a registered tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Availability {
    /// Agents without an allowlist, and those whose allowlist names it.
    DefaultSet,
    /// Only agents whose allowlist names it.
    WhenListed,
}

/// All registered tools, by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
    /// Names an agent without an allowlist may use.
    default_set: Vec<String>,
    /// Names of tools that need a person's approval whatever the tool says
    /// (`tools.require_approval`); applied as tools are registered.
    require_approval: BTreeSet<String>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRegistry")
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .field("default_set", &self.default_set)
            .field("require_approval", &self.require_approval)
            .finish()
    }
}

impl ToolRegistry {
    /// Registers a tool in the default set: agents without an allowlist may
    /// use it. A tool of a name listed by
    /// [`ToolRegistry::require_approval_for`] requires approval whatever it
    /// says itself.
    pub fn register(&mut self, tool: impl Tool) {
        self.register_shared(Arc::new(tool));
    }

    /// [`ToolRegistry::register`] for a tool already shared.
    pub fn register_shared(&mut self, tool: Arc<dyn Tool>) {
        self.insert(tool, Availability::DefaultSet);
    }

    /// Registers a tool only agents whose allowlist names it may use.
    pub fn register_when_listed(&mut self, tool: impl Tool) {
        self.insert(Arc::new(tool), Availability::WhenListed);
    }

    fn insert(&mut self, tool: Arc<dyn Tool>, availability: Availability) {
        let name = tool.name().to_string();
        if availability == Availability::DefaultSet && !self.default_set.contains(&name) {
            self.default_set.push(name.clone());
        }
        let tool = if self.require_approval.contains(&name) && !tool.requires_approval() {
            Arc::new(RequiringApproval { tool })
        } else {
            tool
        };
        self.tools.insert(name, tool);
    }

    /// Makes the tools named (registered already or later) require a
    /// person's approval.
    pub fn require_approval_for(&mut self, names: &[String]) {
        self.require_approval.extend(names.iter().cloned());
        for name in names {
            if let Some(tool) = self.tools.get(name).cloned()
                && !tool.requires_approval()
            {
                self.tools.insert(name.clone(), Arc::new(RequiringApproval { tool }));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).cloned()
    }

    /// The tool whose wire name is `wire`.
    pub fn by_wire_name(&self, wire: &str) -> Option<Arc<dyn Tool>> {
        self.tools.values().find(|tool| wire_name(tool.name()) == wire).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.tools.keys().cloned().collect()
    }

    /// The tools an agent may use: its allowlist (names not registered are
    /// skipped), or the default set when it has none.
    pub fn allowed(&self, allowlist: Option<&[String]>) -> Vec<Arc<dyn Tool>> {
        let names: Vec<&String> = match allowlist {
            Some(names) => names.iter().collect(),
            None => self.default_set.iter().collect(),
        };
        names.into_iter().filter_map(|name| self.tools.get(name.as_str()).cloned()).collect()
    }
}

/// A tool made to require approval by configuration.
struct RequiringApproval {
    tool: Arc<dyn Tool>,
}

#[async_trait]
impl Tool for RequiringApproval {
    fn name(&self) -> &str {
        self.tool.name()
    }

    fn description(&self) -> &str {
        self.tool.description()
    }

    fn input_schema(&self) -> Arc<Value> {
        self.tool.input_schema()
    }

    fn requires_approval(&self) -> bool {
        true
    }

    fn unavailable(&self) -> Option<String> {
        self.tool.unavailable()
    }

    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        self.tool.call(context, input).await
    }
}
