//! The HTTP edge of Steward: the REST API under `/api/v1`, the live event
//! stream and the OpenAPI document.
//!
//! Architecture invariant: this is the only crate that knows the API's JSON
//! shapes. Handlers translate between wire types and domain types and map
//! store errors to one table of error codes; no SQL, no provider JSON here.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use steward_store::Store;
use tokio_util::sync::CancellationToken;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Cancelled when the server shuts down; long-lived responses (event
    /// streams) end then, so graceful shutdown does not wait on them.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState { store, shutdown: CancellationToken::new() }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    Router::new().route("/api/v1/health", get(|| async { "ok" })).with_state(state)
}
