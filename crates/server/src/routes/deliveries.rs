//! `/api/v1/deliveries`: list (by status, run or fire), get, and retry a
//! dead one.

use axum::Json;
use axum::extract::{RawQuery, State};
use steward_domain::{DeliveryId, FireId, RunId};
use steward_store::DeliveryFilter;

use crate::AppState;
use crate::api::{DeliveryListQuery, DeliveryListResponse, DeliveryResponse, DeliveryStatus, ErrorResponse};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::{enum_value, page_size, positive_integer};
use crate::extract::{IdPath, QueryParams};

const DEFAULT_PAGE: usize = 50;

#[utoipa::path(
    get, path = "/api/v1/deliveries", tag = "deliveries",
    summary = "List deliveries, newest first",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    params(DeliveryListQuery),
    responses((status = 200, body = DeliveryListResponse), (status = 400, body = ErrorResponse))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<DeliveryListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["status", "run_id", "fire_id", "before", "limit"])?;
    let limit = params.single("limit", page_size(steward_store::deliveries::MAX_PAGE))?.unwrap_or(DEFAULT_PAGE);
    let filter = DeliveryFilter {
        status: params.single("status", enum_value::<DeliveryStatus>)?.map(Into::into),
        run_id: params.single("run_id", positive_integer)?.map(RunId),
        fire_id: params.single("fire_id", positive_integer)?.map(FireId),
        before: params.single("before", positive_integer)?.map(DeliveryId),
        limit,
    };
    let deliveries = state.store.list_deliveries(caller.owners(), filter).await?;
    let next_before = if deliveries.len() == limit { deliveries.last().map(|delivery| delivery.id) } else { None };
    Ok(Json(DeliveryListResponse { deliveries: deliveries.into_iter().map(Into::into).collect(), next_before }))
}

#[utoipa::path(
    get, path = "/api/v1/deliveries/{id}", tag = "deliveries",
    summary = "Get a delivery",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses((status = 200, body = DeliveryResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_delivery(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<DeliveryId>,
) -> Result<Json<DeliveryResponse>, ApiError> {
    Ok(Json(state.store.get_delivery(caller.user, id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/deliveries/{id}/retry", tag = "deliveries",
    summary = "Send a dead delivery again",
    description = "A new job sends it; the delivery is `pending` until it runs. A sent delivery is refused \
                   (`illegal_transition`): it is never sent twice.",
    params(("id" = i64, Path, description = "The delivery's id")),
    responses(
        (status = 200, body = DeliveryResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: not dead"),
    )
)]
pub async fn retry_delivery(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<DeliveryId>,
) -> Result<Json<DeliveryResponse>, ApiError> {
    Ok(Json(state.store.retry_delivery(caller.user, id).await?.into()))
}
