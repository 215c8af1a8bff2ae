//! `/api/v1/schedules`: create, list, get, pause, resume and delete
//! schedules; fire one now or over a past interval; read its fires; and
//! preview a *when* without storing anything. A schedule is named in paths
//! by its id or by its name (without regard to case).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use chrono::SecondsFormat;
use steward_domain::schedule::{Schedule, ScheduleZone, When};
use steward_domain::{ScheduleId, UserId, ValidationError};
use steward_runtime::usecases::TargetRequest;
use steward_store::schedules::MAX_FIRES_PAGE;

use crate::AppState;
use crate::api::{
    BackfillRequest, CreateScheduleRequest, ErrorResponse, FireListResponse, FireResponse, PreviewRequest,
    PreviewResponse, ScheduleListResponse, ScheduleResponse,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::positive_integer;
use crate::extract::{ApiJson, QueryParams};

/// The most fire times a preview lists.
const MAX_PREVIEW: usize = 100;

/// The schedule a path names: a number is an id, anything else a name.
async fn resolve(state: &AppState, user: UserId, reference: &str) -> Result<Schedule, ApiError> {
    Ok(match reference.parse::<i64>() {
        Ok(id) => state.store.get_schedule(user, ScheduleId(id)).await?,
        Err(_) => state.store.find_schedule(user, reference).await?,
    })
}

#[utoipa::path(
    post, path = "/api/v1/schedules", tag = "schedules",
    summary = "Create a schedule",
    description = "Each slot of the *when* (in `tz`) fires once: it starts a run of the agent, a run working on \
                   the action, a `routine.run` job, or the job given. Missed slots (downtime, a pause) follow \
                   `missed`; a fire while the previous one's work runs follows `overlap`. Nothing is stored \
                   when anything is refused.",
    request_body = CreateScheduleRequest,
    responses(
        (status = 201, body = ScheduleResponse, description = "Created; `Location` names it"),
        (status = 409, body = ErrorResponse, description = "`already_exists`: the name is taken"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: an unknown zone, a *when* that \
                                                            never fires, a one-shot in the past, no target, \
                                                            an unknown agent or action"),
    )
)]
pub async fn create_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateScheduleRequest>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<ScheduleResponse>), ApiError> {
    let request = request.into_create()?;
    if let (TargetRequest::Job { kind, .. }, Some(kinds)) = (&request.target, &state.job_kinds)
        && !kinds.contains(kind)
    {
        let known: Vec<&str> = kinds.iter().map(String::as_str).collect();
        let message = format!("unknown job kind {kind:?}; this server runs: {}", known.join(", "));
        return Err(ValidationError::new("job", message).into());
    }
    let schedule = state.use_cases().create_schedule(caller.user, request).await?;
    let location = format!("/api/v1/schedules/{}", schedule.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(schedule.into())))
}

#[utoipa::path(
    get, path = "/api/v1/schedules", tag = "schedules",
    summary = "List schedules, by name, with their next fire",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    responses((status = 200, body = ScheduleListResponse))
)]
pub async fn list_schedules(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ScheduleListResponse>, ApiError> {
    let schedules = state.store.list_schedules(caller.owners()).await?;
    Ok(Json(ScheduleListResponse { schedules: schedules.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    get, path = "/api/v1/schedules/{schedule}", tag = "schedules",
    summary = "Get a schedule",
    params(("schedule" = String, Path, description = "The schedule's id or name")),
    responses((status = 200, body = ScheduleResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<ScheduleResponse>, ApiError> {
    Ok(Json(resolve(&state, caller.user, &reference).await?.into()))
}

#[utoipa::path(
    delete, path = "/api/v1/schedules/{schedule}", tag = "schedules",
    summary = "Delete a schedule and its history",
    params(("schedule" = String, Path, description = "The schedule's id or name")),
    responses((status = 200, body = ScheduleResponse, description = "The schedule as it was"), (status = 404, body = ErrorResponse))
)]
pub async fn delete_schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<ScheduleResponse>, ApiError> {
    let schedule = resolve(&state, caller.user, &reference).await?;
    Ok(Json(state.store.delete_schedule(caller.user, schedule.id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/schedules/{schedule}/pause", tag = "schedules",
    summary = "Pause a schedule: no slot fires until it is resumed",
    params(("schedule" = String, Path, description = "The schedule's id or name")),
    responses((status = 200, body = ScheduleResponse), (status = 404, body = ErrorResponse))
)]
pub async fn pause_schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<ScheduleResponse>, ApiError> {
    let schedule = resolve(&state, caller.user, &reference).await?;
    Ok(Json(state.store.set_schedule_paused(caller.user, schedule.id, true).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/schedules/{schedule}/resume", tag = "schedules",
    summary = "Resume a schedule; slots passed while paused follow its missed-run policy",
    params(("schedule" = String, Path, description = "The schedule's id or name")),
    responses((status = 200, body = ScheduleResponse), (status = 404, body = ErrorResponse))
)]
pub async fn resume_schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<ScheduleResponse>, ApiError> {
    let schedule = resolve(&state, caller.user, &reference).await?;
    Ok(Json(state.store.set_schedule_paused(caller.user, schedule.id, false).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/schedules/{schedule}/run", tag = "schedules",
    summary = "Fire a schedule now, recorded as `manual`",
    params(("schedule" = String, Path, description = "The schedule's id or name")),
    responses((status = 200, body = FireResponse), (status = 404, body = ErrorResponse))
)]
pub async fn run_schedule_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<FireResponse>, ApiError> {
    let schedule = resolve(&state, caller.user, &reference).await?;
    Ok(Json(state.use_cases().run_schedule_now(caller.user, schedule.id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/schedules/{schedule}/backfill", tag = "schedules",
    summary = "Fire the slots of a past interval not recorded yet (at most 500), as `backfilled`",
    params(("schedule" = String, Path, description = "The schedule's id or name")),
    request_body = BackfillRequest,
    responses((status = 200, body = FireListResponse), (status = 404, body = ErrorResponse), (status = 422, body = ErrorResponse))
)]
pub async fn backfill_schedule(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    ApiJson(request): ApiJson<BackfillRequest>,
) -> Result<Json<FireListResponse>, ApiError> {
    let schedule = resolve(&state, caller.user, &reference).await?;
    let fires = state.use_cases().backfill_schedule(caller.user, schedule.id, request.from, request.to).await?;
    Ok(Json(FireListResponse { fires: fires.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    get, path = "/api/v1/schedules/{schedule}/fires", tag = "schedules",
    summary = "A schedule's recorded slots, newest first",
    params(
        ("schedule" = String, Path, description = "The schedule's id or name"),
        ("limit" = Option<u64>, Query, description = "At most this many, up to 1000; default 100"),
    ),
    responses((status = 200, body = FireListResponse), (status = 404, body = ErrorResponse))
)]
pub async fn schedule_fires(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<FireListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["limit"])?;
    let limit = params.single("limit", positive_integer)?.map_or(100, |limit| limit as usize).min(MAX_FIRES_PAGE);
    let schedule = resolve(&state, caller.user, &reference).await?;
    let fires = state.store.list_schedule_fires(caller.user, schedule.id, limit).await?;
    Ok(Json(FireListResponse { fires: fires.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    post, path = "/api/v1/schedules/preview", tag = "schedules",
    summary = "The next fire times of a *when* in a zone; nothing is stored",
    request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 422, body = ErrorResponse))
)]
pub async fn preview_schedule(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let when = When::parse(&request.when)?;
    let zone = match &request.tz {
        Some(zone) => ScheduleZone::parse("tz", zone)?,
        None => ScheduleZone::UTC,
    };
    let count = request.count.unwrap_or(5);
    if !(1..=MAX_PREVIEW).contains(&count) {
        return Err(ValidationError::new("count", format!("must be from 1 to {MAX_PREVIEW}")).into());
    }
    let after = request.from.unwrap_or_else(|| state.clock.now());
    when.check_fires_after(zone, after)?;
    let fires = when
        .fire_times(zone, after)
        .take(count)
        .map(|fire| fire.with_timezone(&zone.tz()).to_rfc3339_opts(SecondsFormat::AutoSi, false))
        .collect();
    Ok(Json(PreviewResponse { when: when.to_string(), tz: zone.to_string(), fires }))
}
