//! What every request passes before a handler sees it: the size of its
//! request line and headers, the Host it names (DNS rebinding), where it
//! comes from (cross-site requests) and its content type. (Whether it
//! carries a body its endpoint does not take is checked once routed:
//! `routes/no_body.rs`.)
//!
//! The decisions are pure functions of the request head (`origin.rs`,
//! `limits.rs`), tested without a server; `check` is the middleware that
//! applies them.

mod limits;
mod origin;
pub(crate) mod route_limits;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use crate::access::HostPolicy;
pub(crate) use origin::is_json;

use crate::AppState;

/// The outer middleware: sizes, Host, Origin and content type.
pub(crate) async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let verdict = limits::check(&request).and_then(|()| origin::check(&state.hosts, &request));
    match verdict {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}
