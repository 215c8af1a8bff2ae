//! `/api/v1/routines`: add, list, get and remove routines (by id or
//! name); fire one now or only preview it (`dry_run`); read its fires;
//! replay a fire; list the built-in templates.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use steward_domain::routine::{FireTrigger, Routine, RoutineFire};
use steward_domain::schedule::Schedule;
use steward_domain::{FireId, RoutineId, UserId};
use steward_runtime::routines::FireRequest;
use steward_runtime::routines::templates::BUILTINS;
use steward_store::{DeliveryFilter, FireRecord};

use crate::AppState;
use crate::api::{
    CreateRoutineRequest, ErrorResponse, ReplayRequest, RoutineFireListResponse, RoutineFireResponse,
    RoutineListResponse, RoutineResponse, RunRoutineRequest, RunRoutineResponse, TemplateListResponse,
    TemplateResponse, UpdateRoutineRequest,
};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiJsonOrEmpty, Caller, IdPath};

/// The routine a path names: a number is an id, anything else a name.
pub(crate) async fn resolve(state: &AppState, user: UserId, reference: &str) -> Result<Routine, ApiError> {
    Ok(match reference.parse::<i64>() {
        Ok(id) => state.store.get_routine(user, RoutineId(id)).await?,
        Err(_) => state.store.find_routine(user, reference).await?,
    })
}

/// A fire with its run's state and its deliveries.
async fn fire_response(state: &AppState, user: UserId, fire: RoutineFire) -> Result<RoutineFireResponse, ApiError> {
    let run = match fire.run_id {
        Some(id) => Some(state.store.get_run(user, id).await?),
        None => None,
    };
    let filter = DeliveryFilter { fire_id: Some(fire.id), ..DeliveryFilter::default() };
    let mut deliveries = state.store.list_deliveries(user.into(), filter).await?;
    if let Some(replayed) = fire.replay_of {
        // A replay's deliveries are keyed by the fire it replays.
        let filter = DeliveryFilter { fire_id: Some(replayed), run_id: fire.run_id, ..DeliveryFilter::default() };
        deliveries.extend(state.store.list_deliveries(user.into(), filter).await?);
    }
    Ok(RoutineFireResponse::new(fire, run.as_ref(), deliveries.into_iter().map(Into::into).collect()))
}

pub(crate) fn record_response(record: FireRecord) -> RoutineFireResponse {
    let deliveries = record.deliveries.into_iter().map(Into::into).collect();
    let mut response = RoutineFireResponse::new(record.fire, record.run.as_ref(), deliveries);
    response.created = record.created;
    response
}

/// A routine with the *when* of each schedule among `schedules` that fires
/// it, and its last fire.
async fn routine_response(
    state: &AppState,
    user: UserId,
    routine: Routine,
    schedules: &[Schedule],
) -> Result<RoutineResponse, ApiError> {
    let whens = schedules
        .iter()
        .filter(|schedule| schedule.user_id == routine.user_id && schedule.target.fires_routine(&routine.name))
        .map(|schedule| (schedule.when.as_str().to_string(), schedule.paused))
        .collect();
    let last = state.store.list_fires(user, routine.id, 1).await?.into_iter().next();
    let last = match last {
        Some(fire) => Some(fire_response(state, user, fire).await?),
        None => None,
    };
    Ok(RoutineResponse::new(routine, whens, last))
}

#[utoipa::path(
    post, path = "/api/v1/routines", tag = "routines",
    summary = "Add a routine",
    description = "From a built-in `template` (its text, sources and *when*) or a template `text`. With a *when*, \
                   a schedule of the same name fires it. Nothing is stored when anything is refused; a template \
                   error names its line.",
    request_body = CreateRoutineRequest,
    responses(
        (status = 201, body = RoutineResponse, description = "Added; `Location` names it"),
        (status = 409, body = ErrorResponse, description = "`already_exists`: the name is taken"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: a template, destination, zone or *when* refused"),
    )
)]
pub async fn create_routine(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateRoutineRequest>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<RoutineResponse>), ApiError> {
    let user = caller.user;
    let added = state.use_cases().add_routine(user, request.into()).await?;
    let location = format!("/api/v1/routines/{}", added.routine.id);
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(routine_response(&state, user, added.routine, &state.store.list_schedules(user.into()).await?).await?),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/routines", tag = "routines",
    summary = "List routines, by name, with their schedules and last fire",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    responses((status = 200, body = RoutineListResponse))
)]
pub async fn list_routines(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RoutineListResponse>, ApiError> {
    // The schedules are read once for the whole list, not once a routine;
    // an administrator's list has every user's, each shown as its owner sees it.
    let schedules = state.store.list_schedules(caller.owners()).await?;
    let mut routines = Vec::new();
    for routine in state.store.list_routines(caller.owners()).await? {
        routines.push(routine_response(&state, routine.user_id, routine, &schedules).await?);
    }
    Ok(Json(RoutineListResponse { routines }))
}

#[utoipa::path(
    get, path = "/api/v1/routines/{routine}", tag = "routines",
    summary = "Get a routine",
    params(("routine" = String, Path, description = "The routine's id or name")),
    responses((status = 200, body = RoutineResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_routine(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<RoutineResponse>, ApiError> {
    let user = caller.user;
    let routine = resolve(&state, user, &reference).await?;
    Ok(Json(routine_response(&state, user, routine, &state.store.list_schedules(user.into()).await?).await?))
}

#[utoipa::path(
    patch, path = "/api/v1/routines/{routine}", tag = "routines",
    summary = "Edit a routine",
    description = "Fields left out stay as they are. A new `when` or `tz` replaces the routine's own schedule (the \
                   one of its name) in the same transaction; `when: null` removes it; `enabled` pauses or resumes \
                   every schedule that fires it. A refused field is named and nothing is changed. Event \
                   `routine.updated` lists the fields changed and who changed them.",
    params(("routine" = String, Path, description = "The routine's id or name")),
    request_body = UpdateRoutineRequest,
    responses(
        (status = 200, body = RoutineResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`archived`: the agent is archived"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: a template, source, destination, zone \
            or *when* refused, or nothing to change"),
    )
)]
pub async fn update_routine(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    ApiJson(request): ApiJson<UpdateRoutineRequest>,
) -> Result<Json<RoutineResponse>, ApiError> {
    let user = caller.user;
    let routine = resolve(&state, user, &reference).await?;
    let edited = state.use_cases().edit_routine(user, routine.id, request.into()).await?;
    Ok(Json(routine_response(&state, user, edited, &state.store.list_schedules(user.into()).await?).await?))
}

#[utoipa::path(
    delete, path = "/api/v1/routines/{routine}", tag = "routines",
    summary = "Remove a routine, its schedules and its fires",
    description = "Its deliveries stay (listed under `/deliveries`), no longer naming a fire.",
    params(("routine" = String, Path, description = "The routine's id or name")),
    responses((status = 200, body = RoutineResponse, description = "The routine as it was"), (status = 404, body = ErrorResponse))
)]
pub async fn delete_routine(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<RoutineResponse>, ApiError> {
    let user = caller.user;
    let routine = resolve(&state, user, &reference).await?;
    let removed = state.use_cases().remove_routine(user, &routine.name).await?;
    Ok(Json(RoutineResponse::new(removed, Vec::new(), None)))
}

#[utoipa::path(
    post, path = "/api/v1/routines/{routine}/run", tag = "routines",
    summary = "Fire a routine now, or preview it",
    description = "Reads its sources, renders its prompt, starts its agent's run and records one delivery per \
                   destination, sent once the run finishes. With `dry_run` it shows the context, the prompt and \
                   where it would deliver, and starts and sends nothing. A source that cannot be read is listed \
                   in `missing` and named in the prompt.",
    params(("routine" = String, Path, description = "The routine's id or name")),
    request_body = RunRoutineRequest,
    responses(
        (status = 200, body = RunRoutineResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "`invalid_field` `template`: the template fails at a line"),
    )
)]
pub async fn run_routine(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<RunRoutineRequest>,
) -> Result<Json<RunRoutineResponse>, ApiError> {
    let user = caller.user;
    let routine = resolve(&state, user, &reference).await?;
    let fire = FireRequest { input: request.input, ..FireRequest::new(FireTrigger::Manual) };
    let routines = state.routines();
    if request.dry_run {
        let preview = routines.preview(user, &routine, &fire).await?;
        return Ok(Json(RunRoutineResponse { dry_run: true, fire: None, preview: Some(preview.into()) }));
    }
    let record = routines.fire(user, &routine, fire).await?;
    Ok(Json(RunRoutineResponse { dry_run: false, fire: Some(record_response(record)), preview: None }))
}

#[utoipa::path(
    get, path = "/api/v1/routines/{routine}/fires", tag = "routines",
    summary = "A routine's fires, newest first, with their deliveries",
    params(("routine" = String, Path, description = "The routine's id or name")),
    responses((status = 200, body = RoutineFireListResponse), (status = 404, body = ErrorResponse))
)]
pub async fn routine_fires(
    State(state): State<AppState>,
    caller: Caller,
    Path(reference): Path<String>,
) -> Result<Json<RoutineFireListResponse>, ApiError> {
    let user = caller.user;
    let routine = resolve(&state, user, &reference).await?;
    let mut fires = Vec::new();
    for fire in state.store.list_fires(user, routine.id, 50).await? {
        fires.push(fire_response(&state, user, fire).await?);
    }
    Ok(Json(RoutineFireListResponse { fires }))
}

#[utoipa::path(
    get, path = "/api/v1/routine-fires/{id}", tag = "routines",
    summary = "Get a fire: its inputs, prompt, run and deliveries",
    params(("id" = i64, Path, description = "The fire's id")),
    responses((status = 200, body = RoutineFireResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_fire(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<FireId>,
) -> Result<Json<RoutineFireResponse>, ApiError> {
    let user = caller.user;
    let fire = state.store.get_fire(user, id).await?;
    Ok(Json(fire_response(&state, user, fire).await?))
}

#[utoipa::path(
    post, path = "/api/v1/routine-fires/{id}/replay", tag = "routines",
    summary = "Replay a fire from the inputs it had",
    description = "Renders the routine's template from the fire's stored inputs and starts a run. Delivers only \
                   with `deliver`; what the replayed fire sent is not sent again unless `resend`.",
    params(("id" = i64, Path, description = "The fire's id")),
    request_body = ReplayRequest,
    responses((status = 200, body = RoutineFireResponse), (status = 404, body = ErrorResponse))
)]
pub async fn replay_fire(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<FireId>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<ReplayRequest>,
) -> Result<Json<RoutineFireResponse>, ApiError> {
    let user = caller.user;
    let record = state.routines().replay(user, id, request.deliver, request.resend).await?;
    Ok(Json(record_response(record)))
}

#[utoipa::path(
    get, path = "/api/v1/routine-templates", tag = "routines",
    summary = "The built-in templates",
    responses((status = 200, body = TemplateListResponse))
)]
pub async fn list_templates() -> Json<TemplateListResponse> {
    let templates = BUILTINS
        .iter()
        .map(|template| TemplateResponse {
            name: template.name.to_string(),
            description: template.description.to_string(),
            when: template.when.map(str::to_string),
            text: template.text.to_string(),
        })
        .collect();
    Json(TemplateListResponse { templates })
}
