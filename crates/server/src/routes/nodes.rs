//! `/api/v1/nodes`: the `steward serve` processes sharing the database, for
//! administrators (it names hosts and addresses, not any user's data).

use axum::Json;
use axum::extract::{Extension, State};
use steward_domain::auth::Principal;

use crate::AppState;
use crate::api::{ErrorCode, ErrorResponse, NodeListResponse};
use crate::error::ApiError;

#[utoipa::path(
    get, path = "/api/v1/nodes", tag = "nodes",
    summary = "List the nodes sharing the database (administrators)",
    description = "Each `steward serve` process: its address, when it started and last beat, and the jobs it runs.",
    responses((status = 200, body = NodeListResponse), (status = 403, body = ErrorResponse))
)]
pub async fn list_nodes(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<NodeListResponse>, ApiError> {
    if !principal.is_admin() {
        return Err(ApiError::new(ErrorCode::Forbidden, "listing nodes needs the admin scope"));
    }
    let nodes = state.store.list_nodes().await?;
    Ok(Json(NodeListResponse { nodes: nodes.into_iter().map(Into::into).collect() }))
}
