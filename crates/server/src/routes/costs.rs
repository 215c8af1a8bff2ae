//! Read-only reports the dashboard draws: `/api/v1/costs` (spending per UTC
//! day, agent and model) and `/api/v1/events/latest` (where the event log
//! ends, so the timeline can show the newest events first).

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::Duration;
use steward_domain::time::start_of_utc_day;

use crate::AppState;
use crate::api::ErrorResponse;
use crate::api::costs::{CostReportQuery, CostReportResponse, LatestEventResponse};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::QueryParams;

const DEFAULT_DAYS: u32 = 30;
const MAX_DAYS: u32 = 366;

#[utoipa::path(
    get, path = "/api/v1/costs", tag = "costs",
    summary = "What model calls cost, per UTC day, agent and model",
    description = "Counts what the agents' budgets count: runs' model calls by the time they finished, and chat \
                   replies by the time they were stored. Calls of unknown price are counted apart, never as $0.",
    params(CostReportQuery),
    responses((status = 200, body = CostReportResponse), (status = 400, body = ErrorResponse))
)]
pub async fn cost_report(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<CostReportResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["days"])?;
    let days = params
        .single("days", |text| match text.trim().parse::<u32>() {
            Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(days),
            _ => Err(format!("must be a whole number of days from 1 to {MAX_DAYS}, not {text:?}")),
        })?
        .unwrap_or(DEFAULT_DAYS);
    let since = start_of_utc_day(state.clock.now()) - Duration::days(i64::from(days) - 1);
    let entries = state.store.cost_entries(caller.user, since).await?;
    Ok(Json(CostReportResponse {
        since: since.date_naive(),
        days,
        entries: entries.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    get, path = "/api/v1/events/latest", tag = "events",
    summary = "The newest event's id",
    description = "A reader that wants the newest events pages `GET /events` from a little before it.",
    responses((status = 200, body = LatestEventResponse), (status = 400, body = ErrorResponse))
)]
pub async fn latest_event(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<LatestEventResponse>, ApiError> {
    QueryParams::parse(query.as_deref(), &[])?;
    Ok(Json(LatestEventResponse { id: state.store.latest_event_id(caller.user).await? }))
}
