//! The export queue: spans are handed over without waiting (a bounded
//! channel; a span that does not fit is dropped and counted), and one
//! background task sends them in batches, each an OTLP/HTTP protobuf POST
//! with our own HTTP client. A failed export is logged and its spans are
//! counted as lost; it is not retried, so a receiver that is down costs
//! the runs nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::TelemetryConfig;
use super::target::ExportTarget;
use super::wire;

/// The most spans in one export request.
const MAX_BATCH: usize = 512;

/// Where runs hand their spans: the export queue, or nothing (disabled).
#[derive(Clone, Default)]
pub struct Telemetry {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    sender: mpsc::Sender<Span>,
    capture_content: bool,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Spans dropped because the queue was full.
    dropped: AtomicU64,
    /// Spans whose export request failed.
    failed: AtomicU64,
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

    /// Starts the export task (on the current Tokio runtime) sending to `target`.
    pub fn start(target: ExportTarget, config: &TelemetryConfig) -> Result<(Telemetry, ExportHandle), String> {
        let client = reqwest::Client::builder()
            .timeout(config.export_timeout())
            .build()
            .map_err(|error| format!("cannot make the OTLP HTTP client: {error}"))?;
        let (sender, receiver) = mpsc::channel(config.max_queued_spans);
        let counts = Arc::new(Counts::default());
        let stop = CancellationToken::new();
        let exporter = Exporter { client, target, counts: counts.clone() };
        let task = tokio::spawn(exporter.run(receiver, config.export_interval(), stop.clone()));
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
        self.inner.as_ref().map_or((0, 0), |inner| {
            (inner.counts.dropped.load(Ordering::Relaxed), inner.counts.failed.load(Ordering::Relaxed))
        })
    }

    /// Queues `span` for export, never waiting.
    pub(crate) fn send(&self, span: Span) {
        let Some(inner) = &self.inner else { return };
        if inner.sender.try_send(span).is_err() {
            let dropped = inner.counts.dropped.fetch_add(1, Ordering::Relaxed) + 1;
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
    counts: Arc<Counts>,
}

impl Exporter {
    async fn run(self, mut receiver: mpsc::Receiver<Span>, interval: Duration, stop: CancellationToken) {
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
                () = stop.cancelled() => break,
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

    async fn send(&self, batch: &mut Vec<Span>) {
        if batch.is_empty() {
            return;
        }
        let spans = std::mem::take(batch);
        let count = spans.len() as u64;
        let body = wire::request(&self.target.service_name, spans).encode_to_vec();
        let mut request =
            self.client.post(&self.target.url).header(reqwest::header::CONTENT_TYPE, "application/x-protobuf");
        for (name, value) in &self.target.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let problem = match request.body(body).send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => format!("the receiver answered {}", response.status()),
            Err(error) => format!("{}", error.without_url()),
        };
        let failed = self.counts.failed.fetch_add(count, Ordering::Relaxed) + count;
        tracing::warn!(spans = count, lost_so_far = failed, url = %self.target.url, %problem, "OpenTelemetry export failed");
    }
}
