//! Oversight of agents at work: the guardian, which looks at long runs'
//! trajectories and steers, pauses or cancels them by policy (`guardian.rs`,
//! what its model is shown in `prompt.rs`, the `[oversight]` table in
//! `config.rs`), and the periodic duplicate scan (`duplicate_scans.rs`;
//! the scan itself is a use case). The run's side of an intervention is in
//! `agent/interventions.rs`; the pure rules in `steward_domain::oversight`.

pub mod config;
pub mod duplicate_scans;
pub mod guardian;
mod prompt;

pub use config::{AgentPolicy, GuardianSettings, OversightConfig, PolicyOverride};
pub use duplicate_scans::{DuplicateScans, ScanReport};
pub use guardian::{Guardian, GuardianError, TickReport};
