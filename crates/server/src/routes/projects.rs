//! `/api/v1/projects` and `/api/v1/ideas`: add a project (from a brief, an
//! idea, or an imported spec with its documents), list and show projects
//! with their documents and task graph, propose the current phase's
//! document, approve it or send it back with a comment, edit an approved
//! one (re-planning only the tasks it affects); capture, list and
//! move ideas.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use steward_domain::project::idea::IdeaPatch;
use steward_domain::project::{GateDecision, NewProject, PhaseDocument, ProjectPatch};
use steward_domain::{IdeaId, ProjectId};

use crate::AppState;
use crate::api::projects::{
    CreateIdeaRequest, CreateProjectRequest, IdeaListResponse, IdeaResponse, ProjectListResponse, ProjectResponse,
    ProposeDocumentRequest, RejectDocumentRequest, UpdateIdeaRequest, UpdateProjectRequest,
};
use crate::api::{ErrorResponse, GuardianPolicyBody};
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, IdPath};

type Created<T> = (StatusCode, [(axum::http::HeaderName, String); 1], Json<T>);

#[utoipa::path(
    post, path = "/api/v1/projects", tag = "projects",
    summary = "Add a project",
    description = "From a brief (it starts in the requirements phase) or with an imported spec's three \
                   documents, approved (it starts in execution, checked tasks done). With `idea_id`, the idea \
                   is promoted. A task graph with a cycle is refused, the cycle named. With `quick` (the light \
                   path, an `agent_id` needed), the agent writes the three documents in one call and they wait \
                   together at one gate: `approve` lets all three through to execution, `reject` sends all \
                   three back for one revision.",
    request_body = CreateProjectRequest,
    responses(
        (status = 201, body = ProjectResponse, description = "Added; `Location` names it"),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: the idea was promoted or dropped"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: a field or document refused, named"),
    )
)]
pub async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateProjectRequest>,
) -> Result<Created<ProjectResponse>, ApiError> {
    let project = NewProject::try_from(request)?;
    let record = state.store.create_project(caller.user, project).await?;
    let location = format!("/api/v1/projects/{}", record.project.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(record.into())))
}

#[utoipa::path(
    get, path = "/api/v1/projects", tag = "projects",
    summary = "List projects, newest first (without their documents and tasks)",
    responses((status = 200, body = ProjectListResponse))
)]
pub async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProjectListResponse>, ApiError> {
    let projects = state.store.list_projects(caller.user).await?;
    Ok(Json(ProjectListResponse { projects: projects.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    get, path = "/api/v1/projects/{id}", tag = "projects",
    summary = "Get a project with every version of its documents and its task graph",
    params(("id" = i64, Path, description = "The project's id")),
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorResponse))
)]
pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
) -> Result<Json<ProjectResponse>, ApiError> {
    Ok(Json(state.store.get_project(caller.user, id).await?.into()))
}

#[utoipa::path(
    patch, path = "/api/v1/projects/{id}", tag = "projects",
    summary = "Change a project's settings",
    description = "Whether a task an agent discovers needs a person's approval (`discovered_tasks`), and the \
                   check commands run after each validated task (`checks`, the whole list). They apply from the \
                   next task on; event `project.settings_changed`.",
    params(("id" = i64, Path, description = "The project's id")),
    request_body = UpdateProjectRequest,
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: an unknown value, a bad command, or nothing to change"),
    )
)]
pub async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
    ApiJson(request): ApiJson<UpdateProjectRequest>,
) -> Result<Json<ProjectResponse>, ApiError> {
    let patch = ProjectPatch::try_from(request)?;
    state.store.update_project(caller.user, id, patch).await?;
    Ok(Json(state.store.get_project(caller.user, id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/projects/{id}/documents", tag = "projects",
    summary = "Propose the current phase's document",
    description = "The next version waits at the phase's gate; through an automatic gate it is approved at once \
                   and the project enters the next phase.",
    params(("id" = i64, Path, description = "The project's id")),
    request_body = ProposeDocumentRequest,
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: another phase, or a version waits"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: the document refused, the field named"),
    )
)]
pub async fn propose_document(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
    ApiJson(request): ApiJson<ProposeDocumentRequest>,
) -> Result<Json<ProjectResponse>, ApiError> {
    let document = PhaseDocument::try_from(request)?;
    Ok(Json(state.store.propose_document(caller.user, id, document).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/projects/{id}/edit", tag = "projects",
    summary = "Replace an approved document with an edited version; only the tasks it affects are re-planned",
    description = "The edit is approved as the phase's next version. Compared by stable ids: tasks serving a \
                   requirement or criterion whose text changed, was added or removed are re-planned (a done one \
                   goes back to pending); a tasks edit re-plans the tasks whose definition changed, adds new \
                   ones, and drops removed ones (a live job cancelled, a live run stopped). A running or \
                   validating task whose text changed is restarted: its run is stopped and it is pending again, \
                   its job kept, so its next run is told the new text and a result of the old run is refused. \
                   Every other task keeps its state and its job. Each re-planned task has a \
                   `project.task_replanned` event with its reason and counts the re-plan (`replans`).",
    params(("id" = i64, Path, description = "The project's id")),
    request_body = ProposeDocumentRequest,
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: the phase has no approved document yet"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: the document refused or unchanged, the field named"),
    )
)]
pub async fn edit_document(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
    ApiJson(request): ApiJson<ProposeDocumentRequest>,
) -> Result<Json<ProjectResponse>, ApiError> {
    let document = PhaseDocument::try_from(request)?;
    Ok(Json(state.store.edit_document(caller.user, id, document).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/projects/{id}/approve", tag = "projects",
    summary = "Approve the document waiting at the current phase's gate",
    description = "The project enters the next phase; an approved tasks document re-plans the task graph \
                   (tasks whose spec is unchanged keep their state). A quick project's three documents waiting \
                   together are approved together: the project passes each gate to execution.",
    params(("id" = i64, Path, description = "The project's id")),
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: nothing waits at the gate"),
    )
)]
pub async fn approve_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
) -> Result<Json<ProjectResponse>, ApiError> {
    Ok(Json(state.store.decide_document(caller.user, id, GateDecision::Approve).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/projects/{id}/reject", tag = "projects",
    summary = "Send the waiting document back with a comment for its revision",
    description = "The agent is asked for the next version with the comment. A quick project's three documents \
                   waiting together go back together, and one call writes the three again.",
    params(("id" = i64, Path, description = "The project's id")),
    request_body = RejectDocumentRequest,
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: nothing waits at the gate"),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: an empty comment"),
    )
)]
pub async fn reject_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
    ApiJson(request): ApiJson<RejectDocumentRequest>,
) -> Result<Json<ProjectResponse>, ApiError> {
    let decision = GateDecision::Reject { comment: request.comment };
    Ok(Json(state.store.decide_document(caller.user, id, decision).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/projects/{id}/run", tag = "projects",
    summary = "Run the project's tasks (again): each task not done becomes a queue job",
    description = "Each task not done and not already queued becomes a job that depends on its dependencies' \
                   jobs; the project's agent works on it in its own workspace (a git worktree on its own branch \
                   when the project has a repository) and the validator checks it. Done tasks are never run \
                   again, so running again resumes.",
    params(("id" = i64, Path, description = "The project's id")),
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "`illegal_transition`: no agent, or the tasks are not approved yet"),
    )
)]
pub async fn run_project(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
) -> Result<Json<ProjectResponse>, ApiError> {
    Ok(Json(state.store.start_execution(caller.user, id).await?.into()))
}

#[utoipa::path(
    put, path = "/api/v1/projects/{id}/guardian", tag = "projects",
    summary = "Set what the project changes of the guardian's policy",
    description = "Replaces the project's guardian policy for its tasks' runs: whether the guardian looks at \
                   them, the alignment thresholds (all three or none) and whether a pause or a cancel is applied \
                   without a person. Each field left out falls back to the agent's policy, then the configured \
                   one (project > agent > global); `{}` clears it. Runs already working take the change at \
                   the guardian's next look. Event `project.guardian_set`.",
    params(("id" = i64, Path, description = "The project's id")),
    request_body = GuardianPolicyBody,
    responses(
        (status = 200, body = ProjectResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: a threshold out of 0..1, missing or out of order"),
    )
)]
pub async fn set_project_guardian(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<ProjectId>,
    ApiJson(request): ApiJson<GuardianPolicyBody>,
) -> Result<Json<ProjectResponse>, ApiError> {
    state.store.set_project_guardian(caller.user, id, request.into()).await?;
    Ok(Json(state.store.get_project(caller.user, id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/ideas", tag = "projects",
    summary = "Capture an idea",
    request_body = CreateIdeaRequest,
    responses(
        (status = 201, body = IdeaResponse, description = "Captured; `Location` names it"),
        (status = 422, body = ErrorResponse),
    )
)]
pub async fn create_idea(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateIdeaRequest>,
) -> Result<Created<IdeaResponse>, ApiError> {
    let idea = state.store.create_idea(caller.user, request.into()).await?;
    let location = format!("/api/v1/ideas/{}", idea.id);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(idea.into())))
}

#[utoipa::path(
    get, path = "/api/v1/ideas", tag = "projects",
    summary = "List ideas, newest first",
    responses((status = 200, body = IdeaListResponse))
)]
pub async fn list_ideas(State(state): State<AppState>, caller: Caller) -> Result<Json<IdeaListResponse>, ApiError> {
    let ideas = state.store.list_ideas(caller.user).await?;
    Ok(Json(IdeaListResponse { ideas: ideas.into_iter().map(Into::into).collect() }))
}

#[utoipa::path(
    patch, path = "/api/v1/ideas/{id}", tag = "projects",
    summary = "Change an idea's notes or state",
    description = "Promotion happens by adding a project with the idea's `idea_id`.",
    params(("id" = i64, Path, description = "The idea's id")),
    request_body = UpdateIdeaRequest,
    responses(
        (status = 200, body = IdeaResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "`invalid_field`: a move ideas cannot make"),
    )
)]
pub async fn update_idea(
    State(state): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<IdeaId>,
    ApiJson(request): ApiJson<UpdateIdeaRequest>,
) -> Result<Json<IdeaResponse>, ApiError> {
    let patch = IdeaPatch::try_from(request)?;
    Ok(Json(state.store.update_idea(caller.user, id, patch).await?.into()))
}
