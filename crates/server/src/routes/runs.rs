//! `/api/v1/runs` and `/api/v1/agents/{id}/runs`: start an ad-hoc run,
//! list runs, get one, cancel it, read its trace and the guardian's
//! assessments of it, and act on them.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use steward_domain::{ActionId, AgentId, RunId};
use steward_runtime::usecases::StartRun;
use steward_store::RunFilter;
use steward_store::runs::MAX_PAGE;

use crate::AppState;
use crate::api::{
    AssessmentListResponse, AssessmentResponse, CreateRunRequest, ErrorResponse, InterveneRequest, InterveneResponse,
    RunListQuery, RunListResponse, RunResponse, RunStatus, SpanResponse, TraceResponse,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::{enum_value, page_size, positive_integer};
use crate::extract::{ApiJson, IdPath, QueryParams};

/// Runs per page unless `limit` says otherwise.
const DEFAULT_PAGE: usize = 50;

#[utoipa::path(
    post, path = "/api/v1/agents/{id}/runs", tag = "runs",
    summary = "Start an ad-hoc run of an agent",
    description = "The run is queued at once (or for `at` / after `delay_ms`) and a worker executes it: model \
                   calls and tool calls until the model answers or a limit stops it. Follow it with \
                   `GET /runs/{id}`, its trace, or the event stream.",
    params(("id" = i64, Path, description = "The agent's id")),
    request_body = CreateRunRequest,
    responses(
        (status = 201, body = RunResponse, description = "Queued; `Location` names it"),
        (status = 404, body = ErrorResponse, description = "No such agent"),
        (status = 409, body = ErrorResponse, description = "`archived`: the agent is archived"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`"),
        (status = 503, body = ErrorResponse, description = "`no_agent_runtime`"),
    )
)]
pub async fn create_run(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(agent_id): IdPath<AgentId>,
    ApiJson(request): ApiJson<CreateRunRequest>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<RunResponse>), ApiError> {
    let request = StartRun {
        instruction: request.instruction,
        limits: request.limits.map(Into::into).unwrap_or_default(),
        at: request.at,
        delay_ms: request.delay_ms,
        deliver: request.deliver,
    };
    let run = state.use_cases().start_run(caller.user, agent_id, request).await?;
    let location = format!("/api/v1/runs/{}", run.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(run.into())))
}

#[utoipa::path(
    get, path = "/api/v1/runs", tag = "runs",
    summary = "List runs, newest first",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    params(RunListQuery),
    responses((status = 200, body = RunListResponse), (status = 400, body = ErrorResponse))
)]
pub async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<RunListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["agent_id", "action_id", "status", "before", "limit"])?;
    let limit = params.single("limit", page_size(MAX_PAGE))?.unwrap_or(DEFAULT_PAGE);
    let filter = RunFilter {
        agent_id: params.single("agent_id", positive_integer)?.map(AgentId),
        action_id: params.single("action_id", positive_integer)?.map(ActionId),
        statuses: params.list("status", enum_value::<RunStatus>)?.into_iter().map(Into::into).collect(),
        before: params.single("before", positive_integer)?.map(RunId),
        limit,
    };
    let runs = state.store.list_runs(caller.owners(), filter).await?;
    let next_before = if runs.len() == limit { runs.last().map(|run| run.id) } else { None };
    Ok(Json(RunListResponse { runs: runs.into_iter().map(Into::into).collect(), next_before }))
}

#[utoipa::path(
    get, path = "/api/v1/runs/{id}", tag = "runs",
    summary = "Get a run with its usage and cost",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = RunResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<RunId>,
) -> Result<Json<RunResponse>, ApiError> {
    Ok(Json(state.store.get_run(caller.user, id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/runs/{id}/cancel", tag = "runs",
    summary = "Cancel a run",
    description = "A queued run, or one awaiting approval, ends at once as `cancelled` (its action, if any, \
                   becomes `failed`). A running run gets `cancel_requested` and stops at its next step \
                   boundary; asking again ends it at once, in case its worker died.",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, body = RunResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: the run already finished"),
    )
)]
pub async fn cancel_run(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<RunId>,
) -> Result<Json<RunResponse>, ApiError> {
    Ok(Json(state.use_cases().cancel_run(caller.user, id).await?.into()))
}

#[utoipa::path(
    get, path = "/api/v1/runs/{id}/trace", tag = "runs",
    summary = "A run's trace: one span per step",
    description = "Model-call spans carry the provider, model, tokens, cost (null when the price is unknown), \
                   time to first token and stop reason; tool-call spans the arguments, result size and error. \
                   Every span has the step's stored content.",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = TraceResponse), (status = 404, body = ErrorResponse))
)]
pub async fn run_trace(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<RunId>,
) -> Result<Json<TraceResponse>, ApiError> {
    let run = state.store.get_run(caller.user, id).await?;
    let steps = state.store.list_steps(caller.user, id).await?;
    let oversight = state.store.list_assessments(caller.user, id).await?;
    Ok(Json(TraceResponse {
        run: run.into(),
        spans: steps.into_iter().map(SpanResponse::from).collect(),
        oversight: oversight.into_iter().map(AssessmentResponse::from).collect(),
    }))
}

#[utoipa::path(
    get, path = "/api/v1/runs/{id}/assessments", tag = "runs",
    summary = "The guardian's assessments of a run, oldest first",
    description = "Each look at a long run's trajectory: the alignment score, the drift, the intervention the \
                   model recommended and the one the policy decided (continue, steer, pause, cancel), where it \
                   is, and what the look cost. Oversight's calls are not the run's: they count apart in \
                   `GET /costs` (`purpose: oversight`).",
    params(("id" = i64, Path, description = "The run's id")),
    responses((status = 200, body = AssessmentListResponse), (status = 404, body = ErrorResponse))
)]
pub async fn run_assessments(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<RunId>,
) -> Result<Json<AssessmentListResponse>, ApiError> {
    let assessments = state.store.list_assessments(caller.user, id).await?;
    Ok(Json(AssessmentListResponse { assessments: assessments.into_iter().map(AssessmentResponse::from).collect() }))
}

#[utoipa::path(
    post, path = "/api/v1/runs/{id}/intervene", tag = "runs",
    summary = "Act on the guardian's assessment of a run: pause, cancel or resume",
    description = "`pause` applies a pause the policy only proposed (`status: proposed`): the run holds at its \
                   next model call on an `oversight.pause` approval. `cancel` applies a pause or cancel not yet \
                   decided and cancels the run. Both act on `assessment`, or the run's latest one waiting for a \
                   person, and record event `run.assessed` with the new status. `resume` lets a run the guardian \
                   holds go on, as approving its `oversight.pause` (or rejecting its `oversight.cancel`) in the \
                   inbox does.",
    params(("id" = i64, Path, description = "The run's id")),
    request_body = InterveneRequest,
    responses(
        (status = 200, body = InterveneResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: nothing waits for a person, the \
                   assessment is decided, or the run finished"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: an unknown intervention or assessment"),
    )
)]
pub async fn intervene_run(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<RunId>,
    ApiJson(request): ApiJson<InterveneRequest>,
) -> Result<Json<InterveneResponse>, ApiError> {
    let intervention = request.intervention.parse()?;
    let done = state.use_cases().intervene(caller.user, id, intervention, request.assessment, request.reason).await?;
    Ok(Json(InterveneResponse { run: done.run.into(), assessment: done.assessment.map(AssessmentResponse::from) }))
}
