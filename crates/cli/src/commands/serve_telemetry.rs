//! `steward serve`'s OpenTelemetry export of runs' traces: started when
//! `[telemetry] otlp_endpoint` or the standard `OTEL_EXPORTER_OTLP_…`
//! variables name a receiver, and drained when the server stops.

use std::collections::BTreeMap;
use std::time::Duration;

use steward_runtime::metrics::SpanCounters;
use steward_runtime::telemetry::{ExportHandle, Telemetry, resolve_target};

use crate::config::Config;
use crate::failure::CliFailure;

/// How long the spans still queued at shutdown get to be sent.
const EXPORT_GRACE: Duration = Duration::from_secs(5);

/// The export, if configured; `environment` holds the process environment
/// and the home's secrets (`secret:NAME`).
pub fn start(
    config: &Config,
    environment: &BTreeMap<String, String>,
    counts: SpanCounters,
) -> anyhow::Result<(Telemetry, Option<Export>)> {
    let lookup = |name: &str| environment.get(name).cloned();
    let target = resolve_target(&config.telemetry, &lookup, &lookup)
        .map_err(|problem| CliFailure::invalid_config("telemetry", format!("invalid configuration: {problem}")))?;
    let Some(target) = target else { return Ok((Telemetry::disabled(), None)) };
    let url = target.url.clone();
    let (telemetry, handle) = Telemetry::start(target, &config.telemetry, counts).map_err(anyhow::Error::msg)?;
    tracing::info!(
        %url,
        message_content = config.telemetry.capture_message_content,
        "exporting runs' traces over OTLP/HTTP"
    );
    Ok((telemetry.clone(), Some(Export { telemetry, handle })))
}

/// The running export.
pub struct Export {
    telemetry: Telemetry,
    handle: ExportHandle,
}

impl Export {
    /// Sends what is still queued, and says what was lost, if anything.
    pub async fn stop(self) {
        self.handle.shutdown(EXPORT_GRACE).await;
        let (dropped, failed) = self.telemetry.lost();
        if dropped + failed > 0 {
            tracing::warn!(dropped, failed, "OpenTelemetry spans lost while serving (queue full, export failed)");
        }
    }
}
