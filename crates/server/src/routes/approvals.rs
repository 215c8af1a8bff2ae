//! `/api/v1/approvals`: the tool calls and projects' phase gates waiting
//! for a person, and the decisions that resume their runs or pass the gates.

use axum::Json;
use axum::extract::{RawQuery, State};
use steward_domain::{ApprovalId, RunId};
use steward_store::ApprovalFilter;

use crate::AppState;
use crate::api::{
    ApprovalListQuery, ApprovalListResponse, ApprovalResponse, ApprovalStatus, ApproveRequest, ErrorResponse,
    RejectRequest,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::{enum_value, positive_integer};
use crate::extract::{ApiJson, ApiJsonOrEmpty, IdPath, QueryParams};

#[utoipa::path(
    get, path = "/api/v1/approvals", tag = "approvals",
    summary = "List approvals, oldest first",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    params(ApprovalListQuery),
    responses((status = 200, body = ApprovalListResponse), (status = 400, body = ErrorResponse))
)]
pub async fn list_approvals(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<ApprovalListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["status", "run_id"])?;
    let filter = ApprovalFilter {
        run_id: params.single("run_id", positive_integer)?.map(RunId),
        statuses: params.list("status", enum_value::<ApprovalStatus>)?.into_iter().map(Into::into).collect(),
    };
    let approvals = state.store.list_approvals(caller.owners(), filter).await?;
    Ok(Json(ApprovalListResponse { approvals: approvals.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    get, path = "/api/v1/approvals/{id}", tag = "approvals",
    summary = "Get an approval",
    params(("id" = i64, Path, description = "The approval's id")),
    responses((status = 200, body = ApprovalResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_approval(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ApprovalId>,
) -> Result<Json<ApprovalResponse>, ApiError> {
    Ok(Json(state.store.get_approval(caller.user, id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/approvals/{id}/approve", tag = "approvals",
    summary = "Approve a pending tool call or phase gate",
    description = "Once none of its run's approvals is pending, the run is queued again and the tool runs. \
                   A project's gate (`project.gate`) approves the phase's document, as \
                   `POST /projects/{id}/approve` does. The body may be left out.",
    params(("id" = i64, Path, description = "The approval's id")),
    request_body = Option<ApproveRequest>,
    responses(
        (status = 200, body = ApprovalResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: already decided or withdrawn, \
                                                              or a gate's revision no longer waits"),
        (status = 422, body = ErrorResponse),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ApprovalId>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<ApproveRequest>,
) -> Result<Json<ApprovalResponse>, ApiError> {
    Ok(Json(state.use_cases().approve(caller.user, id, request.reason).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/approvals/{id}/reject", tag = "approvals",
    summary = "Reject a pending tool call or send a phase gate's document back, saying why",
    description = "The tool does not run; the agent gets the rejection and its reason as the tool's error and \
                   carries on (once none of its run's approvals is pending). A project's gate sends the \
                   document back for a revision with the reason as its comment, as \
                   `POST /projects/{id}/reject` does.",
    params(("id" = i64, Path, description = "The approval's id")),
    request_body = RejectRequest,
    responses(
        (status = 200, body = ApprovalResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: already decided or withdrawn, \
                                                              or a gate's revision no longer waits"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: no reason"),
    )
)]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ApprovalId>,
    ApiJson(request): ApiJson<RejectRequest>,
) -> Result<Json<ApprovalResponse>, ApiError> {
    Ok(Json(state.use_cases().reject(caller.user, id, request.reason).await?.into()))
}
