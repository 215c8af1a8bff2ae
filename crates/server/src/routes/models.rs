//! `/api/v1/models`: the providers and models the server's agents can use.

use axum::Json;
use axum::extract::State;

use crate::AppState;
use crate::api::{ErrorResponse, ModelsResponse};
use crate::error::ApiError;

#[utoipa::path(
    get, path = "/api/v1/models", tag = "models",
    summary = "Model providers, whether each has its key, models, prices and the default model",
    responses(
        (status = 200, body = ModelsResponse),
        (status = 503, body = ErrorResponse, description = "This server runs without an agent runtime"),
    )
)]
pub async fn list_models(State(state): State<AppState>) -> Result<Json<ModelsResponse>, ApiError> {
    let runtime = state.agent_runtime()?;
    Ok(Json(ModelsResponse::from(runtime.models().as_ref())))
}
