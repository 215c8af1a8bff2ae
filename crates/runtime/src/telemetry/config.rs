//! The `[telemetry]` section of the configuration.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where and how runs' traces are exported (`[telemetry]`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Base URL of an OTLP/HTTP receiver (`http://collector:4318`); traces
    /// are posted to `{otlp_endpoint}/v1/traces`. Empty: the standard
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is), else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (plus `/v1/traces`); none set, no export.
    pub otlp_endpoint: String,
    /// Headers sent with every export, after those of
    /// `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_EXPORTER_OTLP_TRACES_HEADERS`;
    /// a value `secret:NAME` is the stored secret NAME.
    pub otlp_headers: BTreeMap<String, String>,
    /// Puts message contents on spans (instructions, prompts, replies, tool
    /// arguments and results, redacted like stored steps). Off: spans carry
    /// names, ids, models, tokens and errors only.
    pub capture_message_content: bool,
    /// Spans waiting to be sent at most; more are dropped, counted and logged.
    pub max_queued_spans: usize,
    /// How often waiting spans are sent; a full batch goes at once.
    pub export_interval_ms: u64,
    /// The longest one export request may take.
    pub export_timeout_secs: u64,
    /// How many times a batch is sent again when the receiver answers 429,
    /// 502, 503 or 504 or cannot be reached (after 1 s, 2 s, 4 s … or its
    /// `Retry-After`, at most 30 s apart); 0 sends each batch once.
    pub export_max_retries: u32,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: String::new(),
            otlp_headers: BTreeMap::new(),
            capture_message_content: false,
            max_queued_spans: 2048,
            export_interval_ms: 2000,
            export_timeout_secs: 10,
            export_max_retries: 4,
        }
    }
}

impl TelemetryConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_queued_spans == 0 || self.export_interval_ms == 0 || self.export_timeout_secs == 0 {
            return Err(
                "telemetry.max_queued_spans, telemetry.export_interval_ms and telemetry.export_timeout_secs must be \
                 at least 1"
                    .into(),
            );
        }
        Ok(())
    }

    pub fn export_interval(&self) -> Duration {
        Duration::from_millis(self.export_interval_ms)
    }

    pub fn export_timeout(&self) -> Duration {
        Duration::from_secs(self.export_timeout_secs)
    }
}
