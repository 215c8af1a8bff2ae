//! The built-in registry: which tools it holds, approvals required by
//! configuration (also for tools registered later), configuration errors.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_runtime::skills::SkillCatalog;
use steward_runtime::tools::{
    HttpToolConfig, Tool, ToolContext, ToolError, ToolOutput, ToolRegistry, ToolsConfig, ToolsConfigError,
};

struct CreateAction;

#[async_trait]
impl Tool for CreateAction {
    fn name(&self) -> &str {
        "actions.create"
    }

    fn description(&self) -> &str {
        "test tool"
    }

    fn input_schema(&self) -> Arc<Value> {
        Arc::new(json!({"type": "object"}))
    }

    async fn call(&self, _context: &ToolContext, _input: Value) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("created"))
    }
}

#[test]
fn the_builtins_are_in_the_default_set_with_schemas_and_no_approval() {
    let registry = ToolRegistry::with_builtins(&ToolsConfig::default(), Arc::new(SkillCatalog::default())).unwrap();
    let names: Vec<String> = registry.allowed(None).iter().map(|tool| tool.name().to_owned()).collect();
    assert_eq!(
        names,
        [
            "workspace.read",
            "workspace.write",
            "workspace.list",
            "workspace.search",
            "http.fetch",
            "skills.open",
            "skills.read_resource"
        ]
    );
    for tool in registry.allowed(None) {
        assert!(!tool.requires_approval(), "{}", tool.name());
        let schema = tool.input_schema();
        assert_eq!(schema["type"], "object", "{}", tool.name());
    }
    let write_schema = registry.get("workspace.write").unwrap().input_schema();
    assert_eq!(write_schema["required"], json!(["path", "content"]));
    assert!(registry.by_wire_name("http__fetch").is_some());
    let fetch_schema = registry.get("http.fetch").unwrap().input_schema();
    assert_eq!(fetch_schema["properties"]["method"]["enum"], json!(["GET", "POST"]));
    assert!(fetch_schema.get("$defs").is_none(), "no $ref for providers to follow: {fetch_schema}");
}

#[test]
fn configured_approvals_wrap_builtin_and_later_tools() {
    let config =
        ToolsConfig { require_approval: vec!["http.fetch".into(), "actions.create".into()], ..ToolsConfig::default() };
    let mut registry = ToolRegistry::with_builtins(&config, Arc::new(SkillCatalog::default())).unwrap();
    registry.register(CreateAction);
    assert!(registry.get("http.fetch").unwrap().requires_approval());
    assert!(registry.get("actions.create").unwrap().requires_approval());
    assert!(!registry.get("workspace.read").unwrap().requires_approval());
    assert_eq!(registry.get("http.fetch").unwrap().name(), "http.fetch");
}

#[test]
fn a_bad_allow_entry_is_named() {
    let config = ToolsConfig {
        http: HttpToolConfig { allow: vec!["10.0.0.0/8".into(), "10.0.0.0/99".into()], ..HttpToolConfig::default() },
        ..ToolsConfig::default()
    };
    let error = ToolRegistry::with_builtins(&config, Arc::new(SkillCatalog::default())).unwrap_err();
    assert!(matches!(error, ToolsConfigError::Allow(_)));
    assert!(error.to_string().starts_with("tools.http.allow: `10.0.0.0/99` is not"), "{error}");
}

#[test]
fn a_tool_registered_when_listed_is_only_for_agents_that_list_it() {
    let mut registry = ToolRegistry::default();
    registry.register_when_listed(CreateAction);
    assert!(registry.allowed(None).is_empty(), "not in the default set");
    let listed = registry.allowed(Some(&["actions.create".to_string()]));
    assert_eq!(listed.iter().map(|tool| tool.name()).collect::<Vec<_>>(), ["actions.create"]);
}

/// A `tools.require_approval` entry naming no tool would leave the tool
/// meant running without approval: `steward serve` refuses it, naming the
/// closest tool.
#[test]
fn require_approval_must_name_tools_that_exist() {
    use steward_runtime::agent::{HomeToolsAndSkills, ToolSource};
    use steward_runtime::tools::BuiltinTools;

    let home = tempfile::tempdir().unwrap();
    let tools = HomeToolsAndSkills::new(BuiltinTools::new(&ToolsConfig::default()).unwrap(), home.path().into());
    assert!(tools.tool_names().contains(&"artifacts.write".to_string()), "the agent tools count too");
    let known = ["http.fetch".to_string(), "actions.create".to_string(), "artifacts.write".to_string()];
    assert_eq!(tools.check_require_approval(&known), Ok(()));
    let error = tools.check_require_approval(&["workspace.write".into(), "http.fecth".into()]).unwrap_err();
    assert!(
        error.starts_with(
            "tools.require_approval[1]: unknown tool `http.fecth` (did you mean `http.fetch`?); the tools are: "
        ),
        "{error}"
    );
}
