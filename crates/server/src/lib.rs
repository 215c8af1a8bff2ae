//! The HTTP edge of Steward: the REST API under `/api/v1`, the live event
//! stream, the OpenAPI document and the web dashboard.
//!
//! Architecture invariant: this is the only crate that knows the API's JSON
//! shapes ([`api`]). Handlers translate between wire types and domain types
//! and map every error to one table of error codes ([`api::ErrorCode`]); no
//! SQL, no provider JSON here. Every response that is not a success, even a
//! panic, has the shape `{"error": {"code", "message", "field"}}`.

mod access;
pub mod api;
mod api_reference;
pub mod auth;
mod dashboard;
mod error;
mod extract;
mod fallback;
mod guard;
pub mod listen;
pub mod mcp;
mod openai;
mod openapi;
mod routes;
mod state;

use axum::Router;

pub use error::ApiError;
pub use guard::HostPolicy;
pub use routes::meta::openapi_document;
pub use state::{AppState, DEFAULT_BODY_TIMEOUT, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_BODY_BYTES, TriggerSecrets};

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    routes::router(state.clone(), mcp::routes(state))
}
