//! `/api/v1/events`: the event log, a page at a time.

use axum::Json;
use axum::extract::{RawQuery, State};
use steward_domain::EventId;
use steward_store::EventQuery;

use crate::AppState;
use crate::api::{ErrorResponse, EventListResponse, EventSubject};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::QueryParams;
use crate::extract::query::{enum_value, non_empty, non_negative_integer, page_size, positive_integer};

const DEFAULT_PAGE: usize = 100;

/// The filters shared by the list and the stream: kind prefix and subject.
pub(crate) fn filtered_query(params: &QueryParams) -> Result<EventQuery, ApiError> {
    let subject = params.single("subject", enum_value::<EventSubject>)?;
    let subject_id = params.single("subject_id", positive_integer)?;
    if subject_id.is_some() && subject.is_none() {
        return Err(ApiError::invalid_parameter("subject_id", "needs subject (job, agent, action or run) too"));
    }
    Ok(EventQuery {
        after: params.single("after", non_negative_integer)?.map(EventId),
        limit: DEFAULT_PAGE,
        subject: subject.map(|subject| (subject.into(), subject_id)),
        kind_prefix: params.single("kind", non_empty)?,
    })
}

#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    summary = "List events, oldest first",
    description = "Page with `after` = the previous page's `next_after`.",
    params(crate::api::EventQuery),
    responses((status = 200, body = EventListResponse), (status = 400, body = ErrorResponse))
)]
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<EventListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["after", "limit", "kind", "subject", "subject_id"])?;
    let mut query = filtered_query(&params)?;
    query.limit = params.single("limit", page_size(steward_store::events::MAX_PAGE))?.unwrap_or(DEFAULT_PAGE);
    let after = query.after;
    let limit = query.limit;
    let events = state.store.list_events(caller.user, query).await?;
    let next_after = events.last().map(|event| event.id).or(after);
    Ok(Json(EventListResponse {
        has_more: events.len() == limit,
        events: events.into_iter().map(Into::into).collect(),
        next_after,
    }))
}
