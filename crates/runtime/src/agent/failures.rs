//! How the agent runtime's failures become job errors: a store or a model
//! failing is a passing problem, so the job is retried and the run resumes
//! from its stored steps.

use steward_llm::LlmError;
use steward_store::StoreError;

use crate::handlers::JobError;

/// The store failing is a passing problem for the job: it is retried and the
/// run resumes from its stored steps.
pub(crate) fn store_failure(error: StoreError) -> JobError {
    JobError::retryable(format!("storing the run failed: {error}"))
}

pub(crate) fn model_job_error(error: &LlmError) -> JobError {
    JobError::Retryable { message: format!("the model call failed: {error}"), retry_after: error.retry_after() }
}
