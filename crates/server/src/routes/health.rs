//! `/api/v1/health`: is the server up, does the database answer, what does
//! the queue hold.

use axum::Json;
use axum::extract::State;
use steward_store::JobFilter;

use crate::AppState;
use crate::api::{ErrorResponse, HealthResponse, JobCounts};
use crate::error::ApiError;
use crate::extract::Caller;

#[utoipa::path(
    get, path = "/api/v1/health", tag = "health",
    summary = "Health, version, database and jobs by state",
    responses(
        (status = 200, body = HealthResponse),
        (status = 500, body = ErrorResponse, description = "The database did not answer"),
        (status = 503, body = ErrorResponse, description = "Shutting down"),
    )
)]
pub async fn health(State(state): State<AppState>, caller: Caller) -> Result<Json<HealthResponse>, ApiError> {
    let counts = state.store.count_jobs(caller.owners(), JobFilter::default()).await?;
    Ok(Json(HealthResponse {
        status: "ok".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: state.store.kind().as_str().to_string(),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        job_kinds: state.job_kinds.as_ref().map(|kinds| kinds.iter().cloned().collect()),
        jobs: JobCounts::from(&counts),
    }))
}
