//! Built-in job kinds, for driving the queue from the API and CLI:
//! `noop`, `sleep` (`{"ms": 250}`), `fail` (`{"retryable": true, "message": "…"}`),
//! and, for development and the crash test, `effect`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{JobContext, JobError, JobHandler};

/// Does nothing and succeeds.
#[derive(Debug, Clone, Copy)]
pub struct Noop;

#[async_trait]
impl JobHandler for Noop {
    async fn run(&self, _context: JobContext) -> Result<Value, JobError> {
        Ok(Value::Null)
    }
}

/// Waits `ms` milliseconds (stopping early when cancelled).
#[derive(Debug, Clone, Copy)]
pub struct Sleep;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SleepPayload {
    ms: u64,
}

#[async_trait]
impl JobHandler for Sleep {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: SleepPayload = parse_payload(&context.job.payload, r#"{"ms": 250}"#)?;
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(payload.ms)) => Ok(json!({ "slept_ms": payload.ms })),
            () = context.cancel.cancelled() => Err(JobError::retryable("cancelled while sleeping")),
        }
    }
}

/// Fails on purpose, retryably unless `retryable` is false.
#[derive(Debug, Clone, Copy)]
pub struct Fail;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailPayload {
    #[serde(default = "yes")]
    retryable: bool,
    #[serde(default)]
    message: Option<String>,
}

fn yes() -> bool {
    true
}

#[async_trait]
impl JobHandler for Fail {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: FailPayload = parse_payload(&context.job.payload, r#"{"retryable": false, "message": "…"}"#)?;
        let message = payload.message.unwrap_or_else(|| "failed on purpose".into());
        Err(if payload.retryable { JobError::retryable(message) } else { JobError::permanent(message) })
    }
}

/// A side effect keyed by the job's idempotency key, for proving
/// exactly-once effects under crashes: every execution appends a line to
/// `<dir>/executions.log` (executions may repeat), and the effect itself is
/// creating `<dir>/effects/<key>` exclusively (so it happens at most once).
#[derive(Debug, Clone, Copy)]
pub struct Effect;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EffectPayload {
    dir: PathBuf,
    #[serde(default)]
    sleep_ms: u64,
}

#[async_trait]
impl JobHandler for Effect {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let payload: EffectPayload = parse_payload(&context.job.payload, r#"{"dir": "/tmp/effects", "sleep_ms": 5}"#)?;
        let Some(key) = context.job.idempotency_key.clone() else {
            return Err(JobError::permanent("an effect job needs an idempotency key"));
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(JobError::permanent(format!(
                "the idempotency key {key:?} must be letters, digits, '-', '_' or '.' to name a file"
            )));
        }
        let job_id = context.job.id;
        let attempt = context.job.attempt;
        let sleep = Duration::from_millis(payload.sleep_ms);
        tokio::time::sleep(sleep).await;
        let applied = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            let mut log =
                std::fs::OpenOptions::new().create(true).append(true).open(payload.dir.join("executions.log"))?;
            log.write_all(format!("{job_id} {attempt} {key}\n").as_bytes())?;
            let effects = payload.dir.join("effects");
            std::fs::create_dir_all(&effects)?;
            match std::fs::OpenOptions::new().write(true).create_new(true).open(effects.join(&key)) {
                Ok(mut file) => {
                    file.write_all(job_id.to_string().as_bytes())?;
                    file.sync_all()?;
                    Ok(true)
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(error) => Err(error),
            }
        })
        .await
        .map_err(|error| JobError::retryable(format!("effect task failed: {error}")))?
        .map_err(|error| JobError::retryable(format!("effect I/O failed: {error}")))?;
        Ok(json!({ "applied": applied }))
    }
}

fn parse_payload<T: for<'de> Deserialize<'de>>(payload: &Value, example: &str) -> Result<T, JobError> {
    serde_json::from_value(payload.clone())
        .map_err(|error| JobError::permanent(format!("invalid payload: {error} (expected something like {example})")))
}
