//! Tools an agent can call: the [`Tool`] trait, what a call gets
//! ([`ToolContext`]) and returns, and the [`ToolRegistry`] that applies an
//! agent's allowlist. Built-in tools live in submodules.
//!
//! Tool names are dotted (`workspace.read`) in Steward — in allowlists,
//! traces and approvals. Model providers only accept `[a-zA-Z0-9_-]` in
//! tool names, so on the wire a dot becomes `__` ([`wire_name`]).

pub mod actions;
pub mod artifacts;
mod builtins;
pub mod config;
pub mod http;
pub mod memory;
pub mod project_tasks;
mod registry;
pub mod shell;
mod skill_tools;
mod workspace;

use std::any::TypeId;
use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use async_trait::async_trait;
use serde_json::Value;
use steward_domain::{ActionId, AgentId, RunId, UserId, ValidationError};
use steward_store::{Store, StoreError};
use tokio_util::sync::CancellationToken;

use crate::confined::FileAccessError;

pub use builtins::BuiltinTools;
pub use config::{HttpToolConfig, ShellToolConfig, ToolsConfig, ToolsConfigError, WorkspaceToolsConfig};
pub use http::HttpFetch;
pub use registry::{ToolRegistry, wire_name};
pub use skill_tools::{SkillOpen, SkillReadResource};
pub use workspace::{WorkspaceList, WorkspaceRead, WorkspaceSearch, WorkspaceWrite};

/// A tool an agent can call.
#[async_trait]
pub trait Tool: Send + Sync + 'static {
    /// Dotted, lowercase: `workspace.read`.
    fn name(&self) -> &str;

    /// What the tool does, for the model.
    fn description(&self) -> &str;

    /// JSON Schema of the input object (generated from the argument type),
    /// shared rather than copied into every request (see [`schema_of`]).
    fn input_schema(&self) -> Arc<Value>;

    /// Side-effecting tools can require a person's approval: the run pauses
    /// before the call until it is approved or rejected.
    fn requires_approval(&self) -> bool {
        false
    }

    /// Why the tool cannot work on this machine (a program it needs is
    /// missing), saying how to fix it; an agent is then refused the tool.
    fn unavailable(&self) -> Option<String> {
        None
    }

    /// Runs the call. `input` has not been validated against the schema; a
    /// tool parses it into its argument type and reports a bad input as
    /// [`ToolError::InvalidInput`], which the model sees and can correct.
    async fn call(&self, context: &ToolContext, input: Value) -> Result<ToolOutput, ToolError>;
}

/// Everything a tool call may use.
#[derive(Clone)]
pub struct ToolContext {
    pub user_id: UserId,
    pub agent_id: AgentId,
    pub run_id: RunId,
    pub action_id: Option<ActionId>,
    /// `run-<run>-step-<step>-call-<index>`: the same every time this call is
    /// executed (a crash may execute it again), so a side effect keyed by it
    /// happens once.
    pub idempotency_key: String,
    /// The run's own folder; workspace tools cannot leave it.
    pub workspace: PathBuf,
    /// Where the run's artifacts go: the action's artifact folder, or the
    /// run's when it works on no action.
    pub artifacts: PathBuf,
    pub store: Arc<dyn Store>,
    /// "Now" (memory's tools judge which facts are believed now).
    pub clock: crate::SharedClock,
    /// Cancelled when the run is cancelled or its lease lost.
    pub cancel: CancellationToken,
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("run_id", &self.run_id)
            .field("idempotency_key", &self.idempotency_key)
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

/// What a call returns to the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    /// The text the model reads.
    pub content: String,
}

impl ToolOutput {
    pub fn text(content: impl Into<String>) -> Self {
        ToolOutput { content: content.into() }
    }
}

/// Why a call failed; the model reads the message as the tool's error.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// The input does not fit the tool's schema or rules; the model can fix it.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Not allowed: outside the workspace, a blocked address, not on the
    /// agent's allowlist, rejected by a person.
    #[error("refused: {0}")]
    Refused(String),
    /// It was tried and did not work.
    #[error("failed: {0}")]
    Failed(String),
}

/// A path leading out of its folder is refused; a failing disk is a
/// failure; anything else is input the model can fix.
impl From<FileAccessError> for ToolError {
    fn from(error: FileAccessError) -> Self {
        let message = error.to_string();
        match error {
            FileAccessError::Absolute { .. }
            | FileAccessError::ParentComponent { .. }
            | FileAccessError::Escapes { .. }
            | FileAccessError::IsASymlink { .. } => ToolError::Refused(message),
            FileAccessError::Io { .. } => ToolError::Failed(message),
            _ => ToolError::InvalidInput(message),
        }
    }
}

/// Parses a tool's input into its argument type, naming the problem.
pub fn parse_input<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, ToolError> {
    serde_json::from_value(input).map_err(|error| ToolError::InvalidInput(error.to_string()))
}

/// Parses text naming one of a fixed set of values (a priority, a mode, a
/// state), naming the problem.
pub(crate) fn parse_named<T: FromStr<Err = ValidationError>>(text: &str) -> Result<T, ToolError> {
    text.parse().map_err(|error: ValidationError| ToolError::InvalidInput(error.to_string()))
}

/// [`parse_named`] for an optional field.
pub(crate) fn parse_field<T: FromStr<Err = ValidationError>>(text: Option<String>) -> Result<Option<T>, ToolError> {
    text.as_deref().map(parse_named).transpose()
}

/// A store error as a tool's error: what the model can correct is invalid
/// input, what the store refuses is refused, anything else failed.
pub(crate) fn refusal(error: StoreError) -> ToolError {
    match error {
        StoreError::Invalid(error) => ToolError::InvalidInput(error.to_string()),
        StoreError::Conflict { message, .. } => ToolError::Refused(message),
        StoreError::NotFound { .. } => ToolError::InvalidInput(error.to_string()),
        other => ToolError::Failed(other.to_string()),
    }
}

/// The JSON Schema of `T`, for [`Tool::input_schema`]. Made once per type
/// and then shared: every model call of every run sends the schemas of its
/// tools, and making them anew each time cost CPU and, with thousands of
/// runs waiting on their models, tens of kilobytes of memory per run.
pub fn schema_of<T: schemars::JsonSchema + 'static>() -> Arc<Value> {
    static SCHEMAS: LazyLock<RwLock<HashMap<TypeId, Arc<Value>>>> = LazyLock::new(RwLock::default);
    // A poisoned lock only means a panic while inserting a finished schema.
    if let Some(schema) = SCHEMAS.read().unwrap_or_else(PoisonError::into_inner).get(&TypeId::of::<T>()) {
        return Arc::clone(schema);
    }
    let schema = Arc::new(serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null));
    let mut schemas = SCHEMAS.write().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(schemas.entry(TypeId::of::<T>()).or_insert(schema))
}
