//! `/api/v1/jobs`: enqueue (one or a batch), list with filters and counts,
//! get with the attempt history, cancel and retry.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use steward_domain::{JobId, NewJob, ValidationError};
use steward_store::JobFilter;

use crate::AppState;
use crate::api::job_history::{attempt_history, timings};
use crate::api::{
    EnqueueBatchRequest, EnqueueBatchResponse, EnqueueJobRequest, EnqueuedJob, ErrorResponse, JobCounts,
    JobDetailResponse, JobListQuery, JobListResponse, JobResponse, JobState,
};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::query::{enum_value, non_empty, page_size, positive_integer};
use crate::extract::{ApiJson, IdPath, QueryParams};

/// Jobs per page unless `limit` says otherwise.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

#[utoipa::path(
    post, path = "/api/v1/jobs", tag = "jobs",
    summary = "Enqueue a job",
    request_body = EnqueueJobRequest,
    responses(
        (status = 201, body = EnqueuedJob, description = "A new job"),
        (status = 200, body = EnqueuedJob, description = "An existing job with the same idempotency key"),
        (status = 409, body = ErrorResponse, description = "`dependency_failed`: a dependency is dead or cancelled"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: also unknown kinds, missing dependencies, cycles"),
    )
)]
pub async fn enqueue_job(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<EnqueueJobRequest>,
) -> Result<(StatusCode, Json<EnqueuedJob>), ApiError> {
    let job = to_new_job(&state, request)?;
    let outcomes = state
        .store
        .enqueue(caller.user, vec![job])
        .await
        .map_err(|error| ApiError::from(error).strip_field_prefix("jobs[0]"))?;
    let outcome = outcomes.into_iter().next().ok_or_else(|| ApiError::internal("the store returned no job"))?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(EnqueuedJob { created: outcome.created, job: outcome.job.into() })))
}

#[utoipa::path(
    post, path = "/api/v1/jobs/batch", tag = "jobs",
    summary = "Enqueue up to 1000 jobs atomically",
    description = "All jobs are stored, or none is. `depends_on` may name jobs of the same batch by idempotency \
                   key, earlier or later in the list; errors name the job (`jobs[2].depends_on[0]`).",
    request_body = EnqueueBatchRequest,
    responses(
        (status = 201, body = EnqueueBatchResponse, description = "At least one job is new"),
        (status = 200, body = EnqueueBatchResponse, description = "Every job already existed"),
        (status = 409, body = ErrorResponse),
        (status = 422, body = ErrorResponse),
    )
)]
pub async fn enqueue_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<EnqueueBatchRequest>,
) -> Result<(StatusCode, Json<EnqueueBatchResponse>), ApiError> {
    // The store refuses an empty or oversized batch, in the same words.
    let jobs = request
        .jobs
        .into_iter()
        .enumerate()
        .map(|(index, job)| to_new_job(&state, job).map_err(|error| error.within(&format!("jobs[{index}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let outcomes = state.store.enqueue(caller.user, jobs).await?;
    let created = outcomes.iter().filter(|outcome| outcome.created).count();
    let response = EnqueueBatchResponse {
        existing: outcomes.len() - created,
        created,
        jobs: outcomes
            .into_iter()
            .map(|outcome| EnqueuedJob { created: outcome.created, job: outcome.job.into() })
            .collect(),
    };
    let status = if created > 0 { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(response)))
}

/// The domain job, validated, of a kind this server runs.
fn to_new_job(state: &AppState, request: EnqueueJobRequest) -> Result<NewJob, ValidationError> {
    let job = request.into_new_job(state.clock.now())?;
    job.validate()?;
    if let Some(kinds) = &state.job_kinds
        && !kinds.contains(&job.kind)
    {
        let known: Vec<&str> = kinds.iter().map(String::as_str).collect();
        return Err(ValidationError::new(
            "kind",
            format!("unknown job kind {:?}; this server runs: {}", job.kind, known.join(", ")),
        ));
    }
    Ok(job)
}

#[utoipa::path(
    get, path = "/api/v1/jobs", tag = "jobs",
    summary = "List jobs, newest first, with counts by state",
    description = "The caller\'s own; an administrator\'s (a token with the `admin` scope) has every user\'s.",
    params(JobListQuery),
    responses((status = 200, body = JobListResponse), (status = 400, body = ErrorResponse))
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<JobListResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["state", "queue", "kind", "before", "limit"])?;
    let limit = params.single("limit", page_size(MAX_PAGE))?.unwrap_or(DEFAULT_PAGE);
    let filter = JobFilter {
        states: params.list("state", enum_value::<JobState>)?.into_iter().map(Into::into).collect(),
        queue: params.single("queue", non_empty)?,
        kind: params.single("kind", non_empty)?,
        before: params.single("before", positive_integer)?.map(JobId),
        limit,
    };
    let counts = state.store.count_jobs(caller.owners(), filter.clone()).await?;
    let jobs = state.store.list_jobs(caller.owners(), filter).await?;
    let next_before = if jobs.len() == limit { jobs.last().map(|job| job.id) } else { None };
    Ok(Json(JobListResponse {
        jobs: jobs.into_iter().map(Into::into).collect(),
        counts: JobCounts::from(&counts),
        next_before,
    }))
}

#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", tag = "jobs",
    summary = "Get a job with its attempts and timings",
    params(("id" = i64, Path, description = "The job's id")),
    responses((status = 200, body = JobDetailResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<JobId>,
) -> Result<Json<JobDetailResponse>, ApiError> {
    let job = state.store.get_job(caller.user, id).await?;
    let events = state.store.job_events(caller.user, id).await?;
    let attempts = attempt_history(&events);
    let timings = timings(&job, &attempts);
    Ok(Json(JobDetailResponse { job: job.into(), attempt_history: attempts, timings }))
}

#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    summary = "Cancel a blocked, queued or running job",
    description = "Jobs that depend on it are cancelled too (`dependency_failed`). A running job's worker stops \
                   at its next heartbeat.",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, body = JobResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: the job already finished"),
    )
)]
pub async fn cancel_job(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<JobId>,
) -> Result<Json<JobResponse>, ApiError> {
    Ok(Json(state.store.cancel_job(caller.user, id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/retry", tag = "jobs",
    summary = "Retry a dead or cancelled job",
    description = "With fresh attempts; the dependents cancelled because of it are restored.",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, body = JobResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition` or `dependency_failed`"),
    )
)]
pub async fn retry_job(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<JobId>,
) -> Result<Json<JobResponse>, ApiError> {
    Ok(Json(state.store.retry_job(caller.user, id).await?.into()))
}
