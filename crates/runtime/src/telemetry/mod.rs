//! OpenTelemetry traces of runs, exported over OTLP/HTTP as protobuf: one
//! trace per run, an `invoke_agent {agent}` span with a `chat {model}` span
//! per model call and an `execute_tool {tool}` span per tool call, carrying
//! the GenAI semantic-convention attributes. Spans are made as the run goes
//! (real start and end times) and handed to a bounded queue that a
//! background task sends in batches: exporting never blocks or fails a run;
//! what does not fit or cannot be sent is counted and logged.

mod config;
mod content;
mod export;
#[cfg(test)]
mod export_tests;
mod ids;
mod run_trace;
mod target;
mod wire;

pub use config::TelemetryConfig;
pub use export::{ExportHandle, Telemetry};
pub use run_trace::{ChatCall, ChatEnd, RunTrace};
pub use target::{ExportTarget, resolve_target};
