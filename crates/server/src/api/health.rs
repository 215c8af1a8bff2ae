//! The health report on the wire.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::JobCounts;

/// Whether the server and its database answer, and what the queue holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` when the database answered.
    pub status: String,
    /// Steward's version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub uptime_seconds: u64,
    /// Job kinds this server runs; null when it accepts any kind.
    pub job_kinds: Option<Vec<String>>,
    pub jobs: JobCounts,
}
