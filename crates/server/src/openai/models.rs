//! `GET /v1/models` and `GET /v1/models/{model}`: the caller's agents as
//! models, each named by the agent's name.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use steward_domain::Agent;
use steward_store::AgentFilter;

use super::error::respond;
use super::wire::{Model, ModelList};
use crate::AppState;
use crate::api::ErrorCode;
use crate::error::ApiError;
use crate::extract::Caller;

pub(super) async fn list(State(state): State<AppState>, caller: Caller) -> Response {
    match state.store.list_agents(caller.user.into(), AgentFilter::default()).await {
        Ok(agents) => Json(ModelList { object: "list", data: agents.iter().map(model_of).collect() }).into_response(),
        Err(error) => respond(error.into()),
    }
}

pub(super) async fn retrieve(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Response {
    match find(&state, caller, &name).await {
        Ok(agent) => Json(model_of(&agent)).into_response(),
        Err(error) => respond(error),
    }
}

/// The caller's agent named `name`; an unknown name is OpenAI's
/// `model_not_found`.
pub(super) async fn find(state: &AppState, caller: Caller, name: &str) -> Result<Agent, ApiError> {
    state.store.find_agent_by_name(caller.user, name).await.map_err(|error| match error {
        steward_store::StoreError::NotFound { .. } => not_found(name),
        error => error.into(),
    })
}

pub(super) fn not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("the model `{name}` does not exist: models here are your agents' names (GET /v1/models lists them)"),
    )
    .with_field("model")
}

fn model_of(agent: &Agent) -> Model {
    Model { id: agent.name.clone(), object: "model", created: agent.created_at.timestamp(), owned_by: "steward".into() }
}
