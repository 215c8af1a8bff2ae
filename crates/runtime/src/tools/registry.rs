//! The tools available to Steward, and the subset an agent may use.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Tool;

/// The tool's name as sent to model providers, which only accept
/// `[a-zA-Z0-9_-]`: `workspace.read` becomes `workspace__read`.
pub fn wire_name(name: &str) -> String {
    name.replace('.', "__")
}

/// All registered tools, by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
    /// Names an agent without an allowlist may use.
    default_set: Vec<String>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRegistry")
            .field("tools", &self.tools.keys().collect::<Vec<_>>())
            .field("default_set", &self.default_set)
            .finish()
    }
}

impl ToolRegistry {
    /// Registers a tool; `in_default_set` makes it available to agents
    /// without an allowlist.
    pub fn register(&mut self, tool: impl Tool, in_default_set: bool) {
        let name = tool.name().to_string();
        if in_default_set && !self.default_set.contains(&name) {
            self.default_set.push(name.clone());
        }
        self.tools.insert(name, Arc::new(tool));
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
