//! The export queue: spans are handed over without waiting (a bounded
//! channel; a span that does not fit is dropped and counted), and one
//! background task sends them in batches, each an OTLP/HTTP protobuf POST
//! with our own HTTP client. As the OTLP specification asks, a batch the
//! receiver could not take for now (429, 502, 503, 504, or no answer) is
//! sent again after a backoff or the receiver's `Retry-After`, a few times
//! (`telemetry.export_max_retries`); then, or at once for any other
//! refusal, its spans are counted as failed and logged. Runs never wait
//! for any of it: while a batch waits to be retried, new spans queue up
//! (and are dropped, counted, when the queue is full).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use steward_domain::backoff::retry_delay;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::TelemetryConfig;
use super::target::ExportTarget;
use super::wire;
use crate::metrics::SpanCounters;

/// The most spans in one export request.
const MAX_BATCH: usize = 512;
/// The longest wait before sending a batch again, whatever the receiver's
/// `Retry-After` says.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Where runs hand their spans: the export queue, or nothing (disabled).
#[derive(Clone, Default)]
pub struct Telemetry {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    sender: mpsc::Sender<Span>,
    capture_content: bool,
    counts: SpanCounters,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").field("enabled", &self.is_enabled()).finish()
    }
}

/// The running export task; [`ExportHandle::shutdown`] sends what waits.
pub struct ExportHandle {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Telemetry {
    /// No export: spans are not even made.
    pub fn disabled() -> Self {
        Telemetry::default()
    }

    /// Starts the export task (on the current Tokio runtime) sending to
    /// `target`, counting what becomes of the spans in `counts`.
    pub fn start(
        target: ExportTarget,
        config: &TelemetryConfig,
        counts: SpanCounters,
    ) -> Result<(Telemetry, ExportHandle), String> {
        let client = reqwest::Client::builder()
            .timeout(config.export_timeout())
            .build()
            .map_err(|error| format!("cannot make the OTLP HTTP client: {error}"))?;
        let (sender, receiver) = mpsc::channel(config.max_queued_spans);
        let stop = CancellationToken::new();
        let exporter = Exporter {
            client,
            target,
            counts: counts.clone(),
            max_retries: config.export_max_retries,
            stop: stop.clone(),
        };
        let task = tokio::spawn(exporter.run(receiver, config.export_interval()));
        let inner = Inner { sender, capture_content: config.capture_message_content, counts };
        Ok((Telemetry { inner: Some(Arc::new(inner)) }, ExportHandle { stop, task }))
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub(crate) fn capture_content(&self) -> bool {
        self.inner.as_ref().is_some_and(|inner| inner.capture_content)
    }

    /// Spans dropped so far because the queue was full, and spans whose
    /// export failed.
    pub fn lost(&self) -> (u64, u64) {
        self.inner.as_ref().map_or((0, 0), |inner| (inner.counts.dropped.get(), inner.counts.failed.get()))
    }

    /// Queues `span` for export, never waiting.
    pub(crate) fn send(&self, span: Span) {
        let Some(inner) = &self.inner else { return };
        if inner.sender.try_send(span).is_err() {
            let dropped = inner.counts.dropped.inc() + 1;
            // 1, 10, 100, …: a full queue is said, not repeated per span.
            if is_power_of_ten(dropped) {
                tracing::warn!(dropped, "OpenTelemetry export queue full: spans dropped (telemetry.max_queued_spans)");
            }
        }
    }
}

fn is_power_of_ten(mut value: u64) -> bool {
    while value >= 10 && value.is_multiple_of(10) {
        value /= 10;
    }
    value == 1
}

impl ExportHandle {
    /// Sends the spans still queued (within `grace`), then stops.
    pub async fn shutdown(self, grace: Duration) {
        self.stop.cancel();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            tracing::warn!("OpenTelemetry export did not finish within {grace:?}; the spans still queued are lost");
        }
    }
}

struct Exporter {
    client: reqwest::Client,
    target: ExportTarget,
    counts: SpanCounters,
    max_retries: u32,
    /// Cancelled at shutdown: what is queued is sent once more, without
    /// waiting for retries.
    stop: CancellationToken,
}

/// Why one export request did not deliver its batch.
struct Refusal {
    problem: String,
    /// The receiver may take the same batch later.
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Exporter {
    async fn run(self, mut receiver: mpsc::Receiver<Span>, interval: Duration) {
        let mut batch = Vec::new();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                span = receiver.recv() => match span {
                    Some(span) => {
                        batch.push(span);
                        if batch.len() >= MAX_BATCH {
                            self.send(&mut batch).await;
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => self.send(&mut batch).await,
                () = self.stop.cancelled() => break,
            }
        }
        receiver.close();
        while let Ok(span) = receiver.try_recv() {
            batch.push(span);
            if batch.len() >= MAX_BATCH {
                self.send(&mut batch).await;
            }
        }
        self.send(&mut batch).await;
    }

    /// Sends `batch` (emptying it), again after a backoff while the
    /// receiver says "later" and retries are left.
    async fn send(&self, batch: &mut Vec<Span>) {
        if batch.is_empty() {
            return;
        }
        let spans = std::mem::take(batch);
        let count = spans.len() as u64;
        let body = bytes::Bytes::from(wire::request(&self.target.service_name, spans).encode_to_vec());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let refusal = match self.post(body.clone()).await {
                Ok(()) => {
                    self.counts.exported.inc_by(count);
                    return;
                }
                Err(refusal) => refusal,
            };
            if !refusal.retryable || attempt > self.max_retries || self.stop.is_cancelled() {
                let failed = self.counts.failed.inc_by(count) + count;
                tracing::warn!(
                    spans = count,
                    attempts = attempt,
                    lost_so_far = failed,
                    url = %self.target.url,
                    problem = %refusal.problem,
                    "OpenTelemetry export failed"
                );
                return;
            }
            let delay = refusal.retry_after.unwrap_or_else(|| retry_delay(attempt, rand::random(), MAX_RETRY_DELAY));
            let delay = delay.min(MAX_RETRY_DELAY);
            tracing::debug!(spans = count, attempt, ?delay, problem = %refusal.problem, "OpenTelemetry export will be retried");
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                // Stopping: one last attempt now, none after it.
                () = self.stop.cancelled() => {}
            }
        }
    }

    async fn post(&self, body: bytes::Bytes) -> Result<(), Refusal> {
        let mut request =
            self.client.post(&self.target.url).header(reqwest::header::CONTENT_TYPE, "application/x-protobuf");
        for (name, value) in &self.target.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.body(body).send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => {
                let status = response.status();
                let retry_after = steward_llm::retry_after_from_headers(response.headers());
                // OTLP/HTTP: these say "not now"; any other status is final.
                let retryable = matches!(status.as_u16(), 429 | 502 | 503 | 504);
                Err(Refusal { problem: format!("the receiver answered {status}"), retryable, retry_after })
            }
            Err(error) => {
                Err(Refusal { problem: format!("{}", error.without_url()), retryable: true, retry_after: None })
            }
        }
    }
}
