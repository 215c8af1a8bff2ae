//! `/api/v1/actions`: create, list, get and update actions, and move them
//! through their lifecycle; scheduling one starts the run that works on it.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use steward_domain::{ActionId, ActionPatch, AgentId};
use steward_runtime::usecases::ScheduleAction;
use steward_store::ActionFilter;

use crate::AppState;
use crate::api::{
    ActionListQuery, ActionListResponse, ActionResponse, ActionState, CreateActionRequest, ErrorCode, ErrorResponse,
    ScheduleActionRequest, ScheduleActionResponse, TransitionActionRequest, UpdateActionRequest,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::{enum_value, positive_integer};
use crate::extract::{ApiJson, ApiJsonOrEmpty, IdPath, QueryParams};

#[utoipa::path(
    get, path = "/api/v1/actions", tag = "actions",
    summary = "List actions",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    params(ActionListQuery),
    responses((status = 200, body = ActionListResponse), (status = 400, body = ErrorResponse))
)]
pub async fn list_actions(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<ActionListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["agent_id", "state"])?;
    let filter = ActionFilter {
        agent_id: params.single("agent_id", positive_integer)?.map(AgentId),
        states: params.list("state", enum_value::<ActionState>)?.into_iter().map(Into::into).collect(),
    };
    let actions = state.store.list_actions(caller.owners(), filter).await?;
    Ok(Json(ActionListResponse { actions: actions.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    post, path = "/api/v1/actions", tag = "actions",
    summary = "Create an action (a draft)",
    request_body = CreateActionRequest,
    responses(
        (status = 201, body = ActionResponse, description = "Created; `Location` names it"),
        (status = 409, body = ErrorResponse, description = "`archived`: the agent is archived"),
        (status = 422, body = ErrorResponse, description = "`invalid_field` (also: no such agent)"),
    )
)]
pub async fn create_action(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateActionRequest>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<ActionResponse>), ApiError> {
    if request.agent_id.get() <= 0 {
        return Err(ApiError::invalid_field("agent_id", "must be a positive integer"));
    }
    let action = state.store.create_action(caller.user, request.into()).await?;
    let location = format!("/api/v1/actions/{}", action.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(action.into())))
}

#[utoipa::path(
    get, path = "/api/v1/actions/{id}", tag = "actions",
    summary = "Get an action",
    params(("id" = i64, Path, description = "The action's id")),
    responses((status = 200, body = ActionResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_action(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ActionId>,
) -> Result<Json<ActionResponse>, ApiError> {
    Ok(Json(state.store.get_action(caller.user, id).await?.into()))
}

#[utoipa::path(
    patch, path = "/api/v1/actions/{id}", tag = "actions",
    summary = "Update an action's content",
    params(("id" = i64, Path, description = "The action's id")),
    request_body = UpdateActionRequest,
    responses(
        (status = 200, body = ActionResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: the action is final"),
        (status = 422, body = ErrorResponse),
    )
)]
pub async fn update_action(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ActionId>,
    ApiJson(request): ApiJson<UpdateActionRequest>,
) -> Result<Json<ActionResponse>, ApiError> {
    let patch = ActionPatch::from(request);
    if patch.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "the update changes nothing; give at least one of title, description, priority, mode, scheduled_for",
        ));
    }
    Ok(Json(state.store.update_action(caller.user, id, patch).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/actions/{id}/transition", tag = "actions",
    summary = "Move an action to another state",
    description = "draft → defined → scheduled → in_progress → completed | failed; defined → draft; \
                   scheduled → defined; failed → scheduled; any open state → dismissed. Moving to `scheduled` \
                   is `POST /actions/{id}/schedule` with its defaults: it starts the run that works on the \
                   action, so a scheduled action always has one (a `reason` is not recorded then). Dismissing \
                   the action, or moving it back to `defined` or `draft`, cancels the run still working on it, \
                   in the same transaction (as `POST /runs/{id}/cancel`); moving it to `in_progress`, \
                   `completed` or `failed` while a run works on it is refused: the run moves it.",
    params(("id" = i64, Path, description = "The action's id")),
    request_body = TransitionActionRequest,
    responses(
        (status = 200, body = ActionResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`, explaining what is allowed \
                                                            (or naming the run working on the action)"),
        (status = 422, body = ErrorResponse),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime` (only to `scheduled`)"),
    )
)]
pub async fn transition_action(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ActionId>,
    ApiJson(request): ApiJson<TransitionActionRequest>,
) -> Result<Json<ActionResponse>, ApiError> {
    let action = state.use_cases().transition_action(caller.user, id, request.to.into(), request.reason).await?;
    Ok(Json(action.into()))
}

#[utoipa::path(
    post, path = "/api/v1/actions/{id}/schedule", tag = "actions",
    summary = "Schedule an action: start the run that works on it",
    description = "A `defined` action (or a `failed` one, to try again) becomes `scheduled`, and a run of its \
                   agent is queued to work on it, in one transaction; the run moves the action to \
                   `in_progress`, then `completed` or `failed`. The body may be left out.",
    params(("id" = i64, Path, description = "The action's id")),
    request_body = Option<ScheduleActionRequest>,
    responses(
        (status = 200, body = ScheduleActionResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition` (not defined or failed) or `archived`"),
        (status = 422, body = ErrorResponse),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime`"),
    )
)]
pub async fn schedule_action(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ActionId>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<ScheduleActionRequest>,
) -> Result<Json<ScheduleActionResponse>, ApiError> {
    let request = ScheduleAction {
        instruction: request.instruction,
        limits: request.limits.map(Into::into).unwrap_or_default(),
        at: request.at,
        delay_ms: request.delay_ms,
    };
    // The lifecycle names the target state `to`, which this request has not.
    let (action, run, starts_at) = state
        .use_cases()
        .schedule_action(caller.user, id, request)
        .await
        .map_err(|error| ApiError::from(error).strip_field_prefix("to"))?;
    Ok(Json(ScheduleActionResponse { action: action.into(), run: run.into(), starts_at }))
}
