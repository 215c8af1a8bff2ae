//! Running one claimed job: its handler under the job's timeout, stopped
//! early by cancellation, with panics turned into failed attempts.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use steward_domain::JobId;
use steward_store::{ClaimedJob, JobOutcome, RetryDecision, Settlement};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::handlers::{JobContext, JobError, JobHandler};

/// How long a cancelled handler may take to wind down before it is dropped.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// Sent to the dispatcher when a job task ends.
#[derive(Debug)]
pub(super) struct Finished {
    pub job_id: JobId,
    /// `None` when the job was stopped because it was cancelled or its lease
    /// was lost: there is nothing to report.
    pub settlement: Option<Settlement>,
}

pub(super) async fn execute(
    handler: Arc<dyn JobHandler>,
    job: ClaimedJob,
    cancel: CancellationToken,
    worker_id: Arc<str>,
    finished: mpsc::UnboundedSender<Finished>,
) {
    let job_id = job.id;
    let lease = job.lease();
    let timeout = job.timeout;
    let context = JobContext { job, cancel: cancel.clone() };
    let run = tokio::time::timeout(timeout, AssertUnwindSafe(handler.run(context)).catch_unwind());
    let mut run = std::pin::pin!(run);
    let outcome = tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        result = &mut run => Some(match result {
            Err(_elapsed) => JobOutcome::Failed {
                error: format!("timed out after {} ms", timeout.as_millis()),
                retry: RetryDecision::Retryable { after: None },
            },
            Ok(Err(panic)) => JobOutcome::Failed {
                error: format!("the handler panicked: {}", panic_message(panic.as_ref())),
                retry: RetryDecision::Retryable { after: None },
            },
            Ok(Ok(Ok(result))) => JobOutcome::Completed { result },
            Ok(Ok(Err(JobError::Retryable { message, retry_after }))) => JobOutcome::Failed {
                error: message,
                retry: RetryDecision::Retryable { after: retry_after },
            },
            Ok(Ok(Err(JobError::Permanent { message }))) => JobOutcome::Failed {
                error: message,
                retry: RetryDecision::Permanent,
            },
        }),
    };
    if outcome.is_none() {
        // Cancelled: the handler sees the same token; give it a moment to
        // stop at a clean point (an agent records where it stopped) before
        // it is dropped. Its result no longer counts either way.
        let _ = tokio::time::timeout(CANCEL_GRACE, run).await;
    }
    let settlement = outcome.map(|outcome| Settlement { lease, worker_id: worker_id.to_string(), outcome });
    // The dispatcher outlives every job task; if it is gone, so is the pool.
    let _ = finished.send(Finished { job_id, settlement });
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".into()
    }
}
