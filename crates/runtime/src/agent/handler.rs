//! The job kind that executes runs (`agent.run`): each job starts or resumes
//! one run, named in its payload.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use steward_domain::{RunId, RunOutcome};

use super::run::RunProgress;
use super::runtime::AgentRuntime;
use crate::handlers::{JobContext, JobError, JobHandler};

pub struct AgentRunHandler {
    runtime: Arc<AgentRuntime>,
}

impl AgentRunHandler {
    pub fn new(runtime: Arc<AgentRuntime>) -> Self {
        AgentRunHandler { runtime }
    }
}

#[async_trait]
impl JobHandler for AgentRunHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let Some(run_id) = context.job.payload.get("run_id").and_then(Value::as_i64).map(RunId) else {
            return Err(JobError::permanent("an agent.run job needs {\"run_id\": <id>} as its payload"));
        };
        let last_attempt = context.job.attempt >= context.job.max_attempts;
        match self.runtime.execute_run(run_id, context.job.id, context.cancel.clone()).await {
            Ok(progress) => Ok(json!({ "run_id": run_id, "progress": describe(&progress) })),
            Err(error) => {
                // The queue gives up after this attempt: say so on the run,
                // which would otherwise look like it is still running.
                if last_attempt || matches!(error, JobError::Permanent { .. }) {
                    let reason = format!("gave up after {} attempts: {error}", context.job.attempt);
                    let _ = self.runtime.finish(run_id, RunOutcome::Failed, None, Some(reason)).await;
                }
                Err(error)
            }
        }
    }
}

fn describe(progress: &RunProgress) -> String {
    match progress {
        RunProgress::Finished(outcome) => format!("finished: {outcome}"),
        RunProgress::AwaitingApproval => "awaiting approval".into(),
        RunProgress::AlreadyFinished => "already finished".into(),
    }
}
