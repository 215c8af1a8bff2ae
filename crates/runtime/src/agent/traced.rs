//! Where a run meets its trace: the log line naming the trace when a job
//! takes the run up, the span of a model call a crash cut off, and the
//! `invoke_agent` span once the run has finished.

use chrono::{DateTime, Utc};
use steward_domain::{Run, RunStep};

use super::runtime::AgentRuntime;
use crate::telemetry::RunTrace;

impl AgentRuntime {
    /// A job took the run up at `begun`, finding `steps` stored.
    pub(crate) fn trace_resumed(&self, trace: &RunTrace, steps: &[RunStep], begun: DateTime<Utc>) {
        if !trace.is_enabled() {
            return;
        }
        let resumed = !steps.is_empty();
        tracing::info!(run = %trace.run_id(), trace_id = %trace.trace_id(), resumed, "run taken up");
        // Taking the run up stored the call a stopped process left in
        // flight, if any, as the last step: its span was never sent.
        if let Some(step) = steps.last().filter(|step| step.is_interrupted() && step.finished_at >= begun) {
            trace.interrupted_chat(step);
        }
    }

    /// Sends the `invoke_agent` span of `run`, just finished.
    pub(crate) async fn trace_finished(&self, run: &Run) {
        if !self.telemetry.is_enabled() {
            return;
        }
        let agent = match self.store.get_agent(run.user_id, run.agent_id).await {
            Ok(agent) => agent,
            Err(error) => {
                tracing::warn!(run = %run.id, %error, "the run's trace is left without its invoke_agent span");
                return;
            }
        };
        let trace = self.run_trace(run, &agent);
        let outcome = run.outcome.map(|outcome| outcome.as_str()).unwrap_or_default();
        tracing::info!(run = %run.id, trace_id = %trace.trace_id(), outcome, "run finished");
        trace.finished(run);
    }
}
