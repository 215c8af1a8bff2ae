//! Retrying transient failures: exponential backoff with jitter, honouring
//! the provider's `retry-after`, only for retryable error kinds. The sleeper
//! and the jitter are injectable so tests can record the delays instead of
//! waiting them out.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::error::LlmError;
use crate::event::ChatStream;
use crate::message::ChatRequest;
use crate::model::{ChatModel, EmbeddingModel, Embeddings, ModelId};
use crate::reattempt::{NextAttempt, reattempting_stream};
use crate::response::ChatResponse;

/// How many times to retry and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// The first backoff; each later one doubles, plus up to 25% jitter.
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// A provider asking us to wait longer than this is not retried here:
    /// the error goes back to the caller (a job can be rescheduled instead).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// The wait before retry number `retry` (1-based) after `error`, or `None`
    /// if it should not be retried. `jitter` is in `[0, 1)`.
    pub fn delay_before_retry(&self, retry: u32, error: &LlmError, jitter: f64) -> Option<Duration> {
        if !error.is_retryable() || retry > self.max_retries {
            return None;
        }
        if let Some(asked) = error.retry_after() {
            return (asked <= self.max_retry_after).then_some(asked);
        }
        // The domain's backoff is 1 s × 2^(n-1) × (1 + 25% jitter); scale it to our first delay.
        let one_second_based = steward_domain::backoff::retry_delay(retry, jitter, Duration::MAX);
        Some(one_second_based.mul_f64(self.initial_delay.as_secs_f64()).min(self.max_delay))
    }
}

/// Waits. Injected so tests can record delays instead of spending them.
pub trait Sleeper: Send + Sync + fmt::Debug {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Really waits, on the tokio timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        tokio::time::sleep(duration).boxed()
    }
}

/// Returns at once and remembers every delay it was asked for.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    delays: Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    pub fn new() -> Arc<Self> {
        Arc::new(RecordingSleeper::default())
    }

    pub fn delays(&self) -> Vec<Duration> {
        self.delays.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.delays.lock().unwrap_or_else(PoisonError::into_inner).push(duration);
        futures::future::ready(()).boxed()
    }
}

/// Where jitter comes from: a number in `[0, 1)`.
pub type JitterSource = Arc<dyn Fn() -> f64 + Send + Sync>;

/// Policy, sleeper and jitter: everything a retry loop needs.
#[derive(Clone)]
pub struct Retrier {
    pub policy: RetryPolicy,
    pub sleeper: Arc<dyn Sleeper>,
    pub jitter: JitterSource,
}

impl fmt::Debug for Retrier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Retrier")
            .field("policy", &self.policy)
            .field("sleeper", &self.sleeper)
            .finish_non_exhaustive()
    }
}

impl Retrier {
    /// Real sleeps, random jitter.
    pub fn new(policy: RetryPolicy) -> Self {
        Retrier { policy, sleeper: Arc::new(TokioSleeper), jitter: Arc::new(rand::random::<f64>) }
    }

    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    pub fn with_jitter(mut self, jitter: JitterSource) -> Self {
        self.jitter = jitter;
        self
    }

    /// Waits before retry number `retry` if `error` deserves one; returns
    /// whether to retry.
    async fn pause_before_retry(&self, model: &ModelId, retry: u32, error: &LlmError) -> bool {
        let Some(delay) = self.policy.delay_before_retry(retry, error, (self.jitter)()) else {
            return false;
        };
        tracing::warn!(model = %model, retry, delay_ms = delay.as_millis() as u64, kind = error.kind().as_str(), %error, "retrying model call");
        self.sleeper.sleep(delay).await;
        true
    }

    /// Runs `call` until it succeeds, fails for good, or retries run out.
    pub async fn run<T, F, Fut>(&self, model: &ModelId, mut call: F) -> Result<T, LlmError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, LlmError>>,
    {
        let mut retry = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(error) => {
                    retry += 1;
                    if !self.pause_before_retry(model, retry, &error).await {
                        return Err(error);
                    }
                }
            }
        }
    }
}

/// A chat model that retries transient failures of another.
#[derive(Debug, Clone)]
pub struct RetryingModel {
    inner: Arc<dyn ChatModel>,
    retrier: Retrier,
}

impl RetryingModel {
    pub fn new(inner: Arc<dyn ChatModel>, retrier: Retrier) -> Self {
        RetryingModel { inner, retrier }
    }
}

struct RetryPlan {
    model: RetryingModel,
    request: ChatRequest,
    retries_done: u32,
}

impl NextAttempt for RetryPlan {
    fn next_attempt<'a>(&'a mut self, error: &'a LlmError) -> BoxFuture<'a, Option<ChatStream>> {
        async move {
            let retry = self.retries_done + 1;
            if !self.model.retrier.pause_before_retry(self.model.inner.id(), retry, error).await {
                return None;
            }
            self.retries_done = retry;
            Some(self.model.inner.stream(self.request.clone()))
        }
        .boxed()
    }
}

#[async_trait]
impl ChatModel for RetryingModel {
    fn id(&self) -> &ModelId {
        self.inner.id()
    }

    /// Retries errors that arrive before any output; after output has been
    /// streamed, an error ends the stream (use [`ChatModel::complete`] to
    /// retry those too).
    fn stream(&self, request: ChatRequest) -> ChatStream {
        let first_attempt = self.inner.stream(request.clone());
        reattempting_stream(first_attempt, RetryPlan { model: self.clone(), request, retries_done: 0 })
    }

    /// Retries any retryable failure, including a stream cut mid-way, since
    /// nothing of a failed attempt has been shown to anyone.
    async fn complete(&self, request: ChatRequest) -> Result<ChatResponse, LlmError> {
        self.retrier.run(self.inner.id(), || self.inner.complete(request.clone())).await
    }
}

/// An embedding model that retries transient failures of another.
#[derive(Debug, Clone)]
pub struct RetryingEmbeddingModel {
    inner: Arc<dyn EmbeddingModel>,
    retrier: Retrier,
}

impl RetryingEmbeddingModel {
    pub fn new(inner: Arc<dyn EmbeddingModel>, retrier: Retrier) -> Self {
        RetryingEmbeddingModel { inner, retrier }
    }
}

#[async_trait]
impl EmbeddingModel for RetryingEmbeddingModel {
    fn id(&self) -> &ModelId {
        self.inner.id()
    }

    async fn embed(&self, inputs: &[String]) -> Result<Embeddings, LlmError> {
        self.retrier.run(self.inner.id(), || self.inner.embed(inputs)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn error(kind: ErrorKind) -> LlmError {
        LlmError::new(kind, "p", "x")
    }

    #[test]
    fn backoff_doubles_from_the_initial_delay_with_jitter_and_a_cap() {
        let policy = RetryPolicy {
            max_retries: 10,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(3),
            ..RetryPolicy::default()
        };
        let server_error = error(ErrorKind::ServerError);
        let delays: Vec<u128> =
            (1..=4).map(|retry| policy.delay_before_retry(retry, &server_error, 0.0).unwrap().as_millis()).collect();
        assert_eq!(delays, [500, 1000, 2000, 3000]);
        assert_eq!(policy.delay_before_retry(2, &server_error, 0.5).unwrap(), Duration::from_millis(1125));
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_limit_and_only_retryable_kinds_retry() {
        let policy = RetryPolicy { max_retries: 2, ..RetryPolicy::default() };
        let asked = |seconds| error(ErrorKind::RateLimited).with_retry_after(Some(Duration::from_secs(seconds)));
        assert_eq!(policy.delay_before_retry(1, &asked(7), 0.9), Some(Duration::from_secs(7)));
        assert_eq!(policy.delay_before_retry(1, &asked(600), 0.0), None, "too long a wait goes back to the caller");
        assert_eq!(policy.delay_before_retry(3, &asked(1), 0.0), None, "retries exhausted");
        assert_eq!(policy.delay_before_retry(1, &error(ErrorKind::InvalidRequest), 0.0), None);
        assert_eq!(policy.delay_before_retry(1, &error(ErrorKind::Authentication), 0.0), None);
    }
}
