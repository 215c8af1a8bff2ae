//! Turning rendered frames into an HTTP response body, including the ways a
//! body can go wrong on purpose: cut off, stalled, or carrying junk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::sync::watch;

use crate::state::{FakeState, InFlightGuard};

/// How a streamed body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// All frames sent, body closed normally.
    Complete,
    /// The connection is aborted after the frames (no clean end of body).
    Cut,
    /// Nothing more is sent, and the body stays open until the fake shuts down.
    Stall,
}

/// A body to send piece by piece.
pub struct PacedBody {
    pub pieces: Vec<String>,
    pub delay_between: Duration,
    pub ending: Ending,
}

struct PacedState {
    pieces: std::vec::IntoIter<String>,
    delay_between: Duration,
    ending: Ending,
    sent_any: bool,
    fake: Arc<FakeState>,
    shutdown: watch::Receiver<bool>,
    _in_flight: InFlightGuard,
}

impl PacedBody {
    pub fn into_body(self, fake: Arc<FakeState>, in_flight: InFlightGuard) -> Body {
        let shutdown = fake.shutdown_receiver();
        let state = PacedState {
            pieces: self.pieces.into_iter(),
            delay_between: self.delay_between,
            ending: self.ending,
            sent_any: false,
            fake,
            shutdown,
            _in_flight: in_flight,
        };
        let stream = futures::stream::unfold(state, |mut state| async move {
            if let Some(piece) = state.pieces.next() {
                if state.sent_any && !state.delay_between.is_zero() {
                    tokio::time::sleep(state.delay_between).await;
                }
                state.sent_any = true;
                if state.pieces.len() == 0 && state.ending == Ending::Complete {
                    // The benchmark measures from here to the client's final event.
                    state.fake.note_last_stream_piece(Instant::now());
                }
                return Some((Ok(Bytes::from(piece)), state));
            }
            if state.ending != Ending::Complete {
                // Give the server one turn to flush what it has, so the client
                // really receives the first events before the fault.
                tokio::task::yield_now().await;
            }
            match state.ending {
                Ending::Complete => None,
                Ending::Cut => Some((Err(std::io::Error::other("connection cut by fault injection")), state)),
                Ending::Stall => {
                    wait_for_shutdown(&mut state.shutdown).await;
                    None
                }
            }
        });
        Body::from_stream(stream)
    }
}

/// Resolves when the fake is shutting down (or already has).
pub async fn wait_for_shutdown(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which is a shutdown as well.
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

pub fn event_stream_response(body: Body, request_id_header: &'static str, request_id: String) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(request_id_header, value);
    }
    response
}

pub fn json_response(status: StatusCode, body: Body, request_id_header: &'static str, request_id: String) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(request_id_header, value);
    }
    response
}
