//! `/api/v1/sync`: living documentation — a repository's documents, how
//! far each is synced and what waits (`GET /sync/status`), and starting a
//! sync (`POST /sync/runs`: a `living_docs.sync` job, whose agent runs and
//! whose fold writes each document). The repository is a path on the
//! server's machine.

use std::path::Path;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use steward_domain::{AgentId, NewJob};
use steward_runtime::living_docs::{self, LivingDocsError, Repo};
use steward_runtime::living_docs_jobs::{SYNC_JOB_KIND, SyncPayload};

use crate::AppState;
use crate::api::{EnqueuedJob, ErrorCode, ErrorResponse, StartSyncRequest, SyncStatusQuery, SyncStatusResponse};
use crate::error::ApiError;
use crate::extract::query::non_empty;
use crate::extract::{ApiJson, Caller, QueryParams};

/// A living-docs error as the API answers it: bad input names its field.
fn refused(error: LivingDocsError) -> ApiError {
    match error {
        LivingDocsError::NotARepository { .. } => ApiError::invalid_field("repo", error.to_string()),
        LivingDocsError::Invalid(invalid) => invalid.into(),
        LivingDocsError::Changed { .. } => ApiError::new(ErrorCode::Stale, error.to_string()),
        other => ApiError::internal(other.to_string()),
    }
}

/// Runs git and file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, LivingDocsError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ApiError::internal(format!("the git reader stopped: {error}")))?
        .map_err(refused)
}

#[utoipa::path(
    get, path = "/api/v1/sync/status", tag = "sync",
    summary = "A repository's living documents: last sync, commits not folded in yet, pending proposals, the hook",
    params(SyncStatusQuery),
    responses(
        (status = 200, body = SyncStatusResponse),
        (status = 400, body = ErrorResponse, description = "`invalid_parameter`: no `repo`"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: not a repository, a document outside it"),
    )
)]
pub async fn sync_status(
    State(_state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<SyncStatusResponse>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["repo", "document"])?;
    let repo = params
        .single("repo", non_empty)?
        .ok_or_else(|| ApiError::invalid_parameter("repo", "give the repository's folder: ?repo=/path/to/repo"))?;
    let documents = params.list("document", non_empty)?;
    let status = blocking(move || living_docs::status(&Repo::open(Path::new(&repo))?, &documents)).await?;
    Ok(Json(status.into()))
}

#[utoipa::path(
    post, path = "/api/v1/sync/runs", tag = "sync",
    summary = "Start a sync: the agent folds the commits since each document's last sync into it",
    description = "Enqueues a `living_docs.sync` job (tried once): it starts the agent's run per document, and a \
                   `living_docs.fold` job after each run writes the document (`apply`) or keeps a proposal.",
    request_body = StartSyncRequest,
    responses(
        (status = 202, body = EnqueuedJob, description = "The sync job"),
        (status = 404, body = ErrorResponse, description = "No such agent"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: not a repository, a document outside it"),
        (status = 503, body = ErrorResponse, description = "This server runs without an agent runtime"),
    )
)]
pub async fn start_sync(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<StartSyncRequest>,
) -> Result<(StatusCode, Json<EnqueuedJob>), ApiError> {
    state.agent_runtime()?;
    let agent = state.store.get_agent(caller.user, AgentId(request.agent_id)).await?;
    let (repo, documents) = (request.repo.clone(), request.documents.clone());
    let root = blocking(move || {
        let repo = Repo::open(Path::new(&repo))?;
        for (index, document) in documents.iter().enumerate() {
            living_docs::files::inside(repo.root(), document, &format!("documents[{index}]"))?;
        }
        Ok(repo.root().to_path_buf())
    })
    .await?;
    let payload = SyncPayload { repo: root, agent_id: agent.id, documents: request.documents, apply: request.apply };
    let mut job =
        NewJob::new(SYNC_JOB_KIND, serde_json::to_value(&payload).map_err(|e| ApiError::internal(e.to_string()))?);
    job.max_attempts = 1;
    let outcome = state.store.enqueue(caller.user, vec![job]).await?.into_iter().next();
    let outcome = outcome.ok_or_else(|| ApiError::internal("the store returned no job"))?;
    Ok((StatusCode::ACCEPTED, Json(EnqueuedJob { created: outcome.created, job: outcome.job.into() })))
}
