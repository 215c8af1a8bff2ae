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
/// `<dir>/effects/<key>` appearing atomically with the job id in it (so it
/// happens at most once, and never half).
///
/// `dir` is a relative folder name under the handler's root (the home's
/// `dev-effects/`): anyone who may enqueue jobs must not choose where the
/// server writes, so absolute paths and `..` are refused.
#[derive(Debug, Clone)]
pub struct Effect {
    root: PathBuf,
}

impl Effect {
    pub fn new(root: PathBuf) -> Effect {
        Effect { root }
    }

    /// `<root>/<dir>`, when `dir` is a plain relative path.
    fn folder(&self, dir: &std::path::Path) -> Result<PathBuf, JobError> {
        let plain = dir.components().all(|part| matches!(part, std::path::Component::Normal(_)));
        if dir.as_os_str().is_empty() || !plain {
            return Err(JobError::permanent(format!(
                "payload.dir {:?} must be a relative folder name without `..`; effects are written under {}",
                dir.display(),
                self.root.display()
            )));
        }
        Ok(self.root.join(dir))
    }
}

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
        let payload: EffectPayload = parse_payload(&context.job.payload, r#"{"dir": "crash-test", "sleep_ms": 5}"#)?;
        let dir = self.folder(&payload.dir)?;
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
            std::fs::create_dir_all(&dir)?;
            let mut log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("executions.log"))?;
            log.write_all(format!("{job_id} {attempt} {key}\n").as_bytes())?;
            apply_effect_once(&dir, &key, &job_id.to_string())
        })
        .await
        .map_err(|error| JobError::retryable(format!("effect task failed: {error}")))?
        .map_err(|error| JobError::retryable(format!("effect I/O failed: {error}")))?;
        Ok(json!({ "applied": applied }))
    }
}

/// Creates `<dir>/effects/<key>` holding `content`, unless it exists: the
/// content is written and synced to a temporary file first, then hard-linked
/// into place. `link` fails when the name exists, so a crash at any point
/// leaves either no effect or the whole effect — never an empty file that a
/// retry would mistake for a finished one. Returns whether this call applied it.
fn apply_effect_once(dir: &std::path::Path, key: &str, content: &str) -> std::io::Result<bool> {
    let effects = dir.join("effects");
    let staging = dir.join("effects.staging");
    std::fs::create_dir_all(&effects)?;
    std::fs::create_dir_all(&staging)?;
    let target = effects.join(key);
    if target.exists() {
        return Ok(false);
    }
    let temporary = staging.join(format!("{key}.{}.{:08x}", std::process::id(), rand::random::<u32>()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()?;
    let applied = match std::fs::hard_link(&temporary, &target) {
        Ok(()) => true,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(error) => return Err(error),
    };
    std::fs::remove_file(&temporary)?;
    Ok(applied)
}

fn parse_payload<T: for<'de> Deserialize<'de>>(payload: &Value, example: &str) -> Result<T, JobError> {
    serde_json::from_value(payload.clone())
        .map_err(|error| JobError::permanent(format!("invalid payload: {error} (expected something like {example})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_stay_under_their_root() {
        let effect = Effect::new(PathBuf::from("/home/steward/dev-effects"));
        let folder = effect.folder(std::path::Path::new("crash/run-1")).unwrap();
        assert_eq!(folder, PathBuf::from("/home/steward/dev-effects/crash/run-1"));
        for escape in ["/tmp/effects", "../outside", "crash/../../etc", "", "./crash"] {
            let error = effect.folder(std::path::Path::new(escape)).unwrap_err();
            assert!(error.to_string().contains("relative folder name"), "{escape:?}: {error}");
        }
    }
}
