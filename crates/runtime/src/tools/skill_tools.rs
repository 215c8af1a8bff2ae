//! `skills.open` and `skills.read_resource`: how a model reads a skill once
//! the index in its context made it want one (progressive disclosure). The
//! agent loop narrows the tools to the skill's `allowed-tools` while it is in
//! use; these tools only read.

use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Tool, ToolContext, ToolError, ToolOutput, parse_input, schema_of};
use crate::skills::{SkillCatalog, SkillError};

/// Most resource files named when a skill is opened.
const MOST_RESOURCES_NAMED: usize = 100;

impl From<SkillError> for ToolError {
    fn from(error: SkillError) -> Self {
        match error {
            SkillError::Unknown { .. } => ToolError::InvalidInput(error.to_string()),
            SkillError::File(error) => error.into(),
        }
    }
}

/// Runs blocking catalog work off the async threads.
async fn with_catalog<T, F>(catalog: &Arc<SkillCatalog>, work: F) -> Result<T, ToolError>
where
    T: Send + 'static,
    F: FnOnce(&SkillCatalog) -> Result<T, SkillError> + Send + 'static,
{
    let catalog = Arc::clone(catalog);
    tokio::task::spawn_blocking(move || work(&catalog))
        .await
        .map_err(|error| ToolError::Failed(format!("reading the skill stopped: {error}")))?
        .map_err(ToolError::from)
}

pub struct SkillOpen {
    pub catalog: Arc<SkillCatalog>,
}

/// Opens a skill.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OpenArguments {
    /// The skill's name, as in the skills index.
    name: String,
}

#[async_trait]
impl Tool for SkillOpen {
    fn name(&self) -> &str {
        "skills.open"
    }

    fn description(&self) -> &str {
        "Open a skill from the skills index: returns its instructions and the names of its resource files."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<OpenArguments>()
    }

    async fn call(&self, _context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: OpenArguments = parse_input(input)?;
        let name = arguments.name;
        let content = with_catalog(&self.catalog, move |catalog| {
            let skill = catalog.get(&name)?;
            let resources = catalog.resources(&name, MOST_RESOURCES_NAMED)?;
            let mut content = format!("# Skill: {}\n", skill.name);
            if let Some(tools) = &skill.allowed_tools {
                let _ = writeln!(content, "Tools while this skill is in use: {}", tools.join(", "));
            }
            if !resources.is_empty() {
                let _ = writeln!(content, "Resource files (read with skills.read_resource): {}", resources.join(", "));
            }
            let _ = write!(content, "\n{}", skill.body);
            Ok(content)
        })
        .await?;
        Ok(ToolOutput::text(content))
    }
}

pub struct SkillReadResource {
    pub catalog: Arc<SkillCatalog>,
    pub max_read_bytes: u64,
}

/// Reads a resource file of a skill.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReadResourceArguments {
    /// The skill's name.
    skill: String,
    /// Path of the file, relative to the skill's folder.
    path: String,
    /// Byte offset to read on from, for a long file.
    #[serde(default)]
    offset: u64,
}

#[async_trait]
impl Tool for SkillReadResource {
    fn name(&self) -> &str {
        "skills.read_resource"
    }

    fn description(&self) -> &str {
        "Read a resource file of a skill (a path relative to the skill's folder, as skills.open lists them)."
    }

    fn input_schema(&self) -> Arc<Value> {
        schema_of::<ReadResourceArguments>()
    }

    async fn call(&self, _context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError> {
        let arguments: ReadResourceArguments = parse_input(input)?;
        let limit = self.max_read_bytes;
        let slice = with_catalog(&self.catalog, move |catalog| {
            catalog.read_resource(&arguments.skill, &arguments.path, arguments.offset, limit)
        })
        .await?;
        Ok(ToolOutput::text(slice.into_tool_text()))
    }
}
