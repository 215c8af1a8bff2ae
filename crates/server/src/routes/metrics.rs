//! `/metrics`: the Prometheus scrape endpoint (outside `/api/v1` and the
//! OpenAPI document, where scrapers look for it; behind authentication like
//! the API when credentials are required), and the middleware that counts
//! every HTTP request by matched route and status with its duration.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use steward_runtime::metrics;

use crate::error::ApiError;
use crate::state::AppState;

/// The label of requests that matched no route (the dashboard's pages and
/// unknown paths): never the raw path, which would make a label per URL.
const UNMATCHED: &str = "(unmatched)";

/// The label of requests answered before routing (refused by authentication
/// or the cross-site guard).
const UNROUTED: &str = "(unrouted)";

pub(crate) async fn scrape(State(state): State<AppState>) -> Result<Response, ApiError> {
    let snapshot = state.store.metrics_snapshot().await?;
    let text = state
        .metrics
        .encode(&snapshot)
        .map_err(|error| ApiError::internal(format!("encoding the metrics failed: {error}")))?;
    Ok(([(CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response())
}

/// Outermost, so requests refused before routing (authentication, the
/// cross-site guard) are counted too; their route is [`UNROUTED`].
pub(crate) async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    let route = response.extensions().get::<RouteLabel>().map_or(UNROUTED, |route| route.0.as_str());
    state.metrics.observe_http(route, &method, response.status().as_u16(), started.elapsed());
    response
}

/// Innermost: hands the matched route (known only once routed) out to
/// [`record`] on the response.
pub(crate) async fn mark_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str).to_string();
    let mut response = next.run(request).await;
    response.extensions_mut().insert(RouteLabel(route));
    response
}

#[derive(Clone, Debug)]
struct RouteLabel(String);
