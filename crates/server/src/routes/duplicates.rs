//! `/api/v1/duplicates`: flags of duplicate work (open actions, a
//! project's pending tasks), a scan that flags new pairs, and a person's
//! merge or keep.

use axum::Json;
use axum::extract::{RawQuery, State};
use steward_domain::DuplicateId;
use steward_domain::oversight::duplicates::DuplicateStatus;

use crate::AppState;
use crate::api::{DuplicateListQuery, DuplicateListResponse, DuplicateResponse, ErrorResponse, MergeDuplicateRequest};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::enum_value;
use crate::extract::{ApiJson, IdPath, QueryParams};

#[utoipa::path(
    get, path = "/api/v1/duplicates", tag = "oversight",
    summary = "List flags of duplicate work, newest first",
    params(DuplicateListQuery),
    responses((status = 200, body = DuplicateListResponse), (status = 400, body = ErrorResponse))
)]
pub async fn list_duplicates(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<DuplicateListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["status"])?;
    let status = params.single("status", enum_value::<DuplicateStatus>)?;
    let duplicates = state.store.list_duplicates(caller.user, status).await?;
    Ok(Json(DuplicateListResponse { duplicates: duplicates.into_iter().map(DuplicateResponse::from).collect() }))
}

#[utoipa::path(
    post, path = "/api/v1/duplicates/scan", tag = "oversight",
    summary = "Flag duplicate work not flagged before",
    description = "Compares open actions (of every agent) and each project's pending tasks by text (words and \
                   character trigrams) and, when memory has an embedding model, by the cosine of their \
                   embeddings; pairs alike enough are flagged once, with event `duplicate.flagged`. Close \
                   candidates are put to the default model (charged as oversight to the agent whose work it \
                   is). `serve` also scans on its own every `[oversight] duplicate_scan_every` when work \
                   changed. Answers the new flags.",
    responses((status = 200, body = DuplicateListResponse))
)]
pub async fn scan_duplicates(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DuplicateListResponse>, ApiError> {
    let flagged = state.use_cases().scan_duplicates(caller.user).await?;
    Ok(Json(DuplicateListResponse { duplicates: flagged.into_iter().map(DuplicateResponse::from).collect() }))
}

#[utoipa::path(
    post, path = "/api/v1/duplicates/{id}/merge", tag = "oversight",
    summary = "Merge two duplicates: keep one, drop the other",
    description = "Actions: the one not kept is dismissed with the reason `duplicate of action N`. Tasks: the \
                   project's tasks document gets an approved new version where the kept task takes the other's \
                   requirement ids and a line naming it, the other's dependents depend on the kept one, and the \
                   other leaves the graph (its live job cancelled); events `project.document_edited` and \
                   `project.task_replanned`.",
    params(("id" = i64, Path, description = "The flag's id")),
    request_body = MergeDuplicateRequest,
    responses(
        (status = 200, body = DuplicateResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: already decided"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: `keep` names neither item"),
    )
)]
pub async fn merge_duplicate(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<DuplicateId>,
    ApiJson(request): ApiJson<MergeDuplicateRequest>,
) -> Result<Json<DuplicateResponse>, ApiError> {
    Ok(Json(state.use_cases().decide_duplicate(caller.user, id, Some(request.keep)).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/duplicates/{id}/keep", tag = "oversight",
    summary = "Keep both items of a flag: they only looked alike",
    params(("id" = i64, Path, description = "The flag's id")),
    responses(
        (status = 200, body = DuplicateResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: already decided"),
    )
)]
pub async fn keep_duplicate(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<DuplicateId>,
) -> Result<Json<DuplicateResponse>, ApiError> {
    Ok(Json(state.use_cases().decide_duplicate(caller.user, id, None).await?.into()))
}
