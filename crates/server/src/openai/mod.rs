//! The OpenAI-compatible endpoint: every agent is a model. `GET /v1/models`
//! lists the caller's agents (id = the agent's name) and
//! `POST /v1/chat/completions` talks to one, streamed or not, with the
//! agent's tools running on the server.
//!
//! These routes speak OpenAI's wire format, errors included, so they sit
//! outside `/api/v1` and its OpenAPI document; authentication, the
//! DNS-rebinding guard, body limits and the spending rate limit are the
//! API's own.

mod completions;
mod error;
mod models;
mod wire;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use crate::AppState;

/// Where the endpoint lives; errors under it take OpenAI's shape.
pub(crate) const PREFIX: &str = "/v1/";

pub(crate) use error::openai_error_shape;

pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{model}", get(models::retrieve))
        .route("/v1/chat/completions", post(completions::create))
        .route_layer(middleware::from_fn_with_state(state, crate::guard::route_limits::check))
}
