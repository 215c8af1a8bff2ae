//! Job handlers: the code that runs a job of a given kind, and the registry
//! that maps kinds to handlers.

pub mod builtin;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use steward_store::ClaimedJob;
use tokio_util::sync::CancellationToken;

/// Why an attempt failed, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (after `retry_after`, or the queue's backoff).
    #[error("{message}")]
    Retryable { message: String, retry_after: Option<Duration> },
    /// Trying again cannot help (bad payload, refused by a service).
    #[error("{message}")]
    Permanent { message: String },
}

impl JobError {
    pub fn retryable(message: impl Into<String>) -> Self {
        JobError::Retryable { message: message.into(), retry_after: None }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        JobError::Permanent { message: message.into() }
    }
}

/// What a handler gets: the job, and a token that is cancelled when the job
/// is cancelled or its lease is lost, at which point the handler should stop.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub job: ClaimedJob,
    pub cancel: CancellationToken,
}

/// Runs jobs of one kind.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    async fn run(&self, context: JobContext) -> Result<Value, JobError>;
}

/// Job kinds and their handlers.
#[derive(Clone, Default)]
pub struct HandlerRegistry {
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl std::fmt::Debug for HandlerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl HandlerRegistry {
    /// The built-in kinds: `noop`, `sleep`, `fail`.
    pub fn with_builtins() -> Self {
        let mut registry = HandlerRegistry::default();
        registry.register("noop", builtin::Noop);
        registry.register("sleep", builtin::Sleep);
        registry.register("fail", builtin::Fail);
        registry
    }

    /// Adds the kinds meant for development and tests: `effect`, which
    /// writes only under `effects_root` (the home's `dev-effects/`).
    pub fn add_dev_handlers(&mut self, effects_root: std::path::PathBuf) {
        self.register("effect", builtin::Effect::new(effects_root));
    }

    pub fn register(&mut self, kind: impl Into<String>, handler: impl JobHandler) {
        self.handlers.insert(kind.into(), Arc::new(handler));
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(kind).cloned()
    }

    pub fn kinds(&self) -> Vec<String> {
        self.handlers.keys().cloned().collect()
    }

    pub fn contains(&self, kind: &str) -> bool {
        self.handlers.contains_key(kind)
    }
}
