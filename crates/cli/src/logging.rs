//! Structured logs with `tracing`, to stderr so stdout stays clean for
//! `--json` output. The filter comes from `--log`, else `RUST_LOG`, else the
//! configuration.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(flag: Option<&str>, configured: &str, format: LogFormat) {
    let filter = flag
        .map(str::to_string)
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| configured.to_string());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|error| {
        eprintln!("warning: ignoring the log filter {filter:?}: {error}");
        EnvFilter::new("info")
    });
    // Colours only for a person at a terminal, not in a log file or journal.
    let colours = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours);
    // A second initialisation (tests) is harmless; the first subscriber stays.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
