//! `/api/v1/events/stream`: every state change as Server-Sent Events.
//!
//! The stream reads from the store rather than from an in-process channel,
//! so it sees what other processes sharing a PostgreSQL database commit, and
//! it can resume from any event id (`Last-Event-ID` or `?after=`). The
//! store's "events appended" wake-up makes it prompt; a slow poll at the
//! keep-alive interval is a safety net for a missed wake-up.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use steward_domain::{Event, EventId, UserId};
use steward_store::events::MAX_PAGE;
use steward_store::{EventQuery, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::events::filtered_query;
use crate::AppState;
use crate::api::{ErrorResponse, EventResponse};
use crate::error::ApiError;
use crate::extract::Caller;
use crate::extract::QueryParams;
use crate::extract::query::non_negative_integer;

#[utoipa::path(
    get, path = "/api/v1/events/stream", tag = "events",
    summary = "Follow events live (Server-Sent Events)",
    description = "Each event is sent with `id:` = its id, `event:` = its kind and `data:` = the event as JSON. \
                   Resumes after the `Last-Event-ID` header (sent by EventSource on reconnect) or `after`; \
                   without either, starts with the next new event. Filters as for the list. Comments are sent \
                   as keep-alives while idle; the stream ends when the server shuts down.",
    params(
        crate::api::EventQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id; wins over `after`"),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = EventResponse, description = "A stream of events"),
        (status = 400, body = ErrorResponse),
    )
)]
pub async fn stream_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let params = QueryParams::parse(query.as_deref(), &["after", "kind", "subject", "subject_id"])?;
    let mut query = filtered_query(&params)?;
    query.limit = MAX_PAGE;
    let last_event_id = match headers.get("last-event-id") {
        Some(value) => {
            let text = value.to_str().unwrap_or_default();
            Some(EventId(
                non_negative_integer(text).map_err(|message| ApiError::invalid_parameter("Last-Event-ID", message))?,
            ))
        }
        None => None,
    };
    // Subscribe before reading, so an event committed between the read and
    // the wait still wakes the stream.
    let wake = state.store.wakeups().subscribe_events();
    query.after = match last_event_id.or(query.after) {
        Some(after) => Some(after),
        None => Some(state.store.latest_event_id(caller.user).await?.unwrap_or(EventId(0))),
    };
    let tail = Tail {
        store: state.store.clone(),
        user: caller.user,
        query,
        wake,
        shutdown: state.shutdown.clone(),
        pending: VecDeque::new(),
        poll: state.keep_alive,
    };
    let stream = futures::stream::unfold(tail, |mut tail| async move {
        let event = tail.next().await?;
        Some((Ok(to_sse(event)), tail))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(state.keep_alive)))
}

/// The reading end of one stream.
struct Tail {
    store: Arc<dyn Store>,
    /// Whose events the stream carries.
    user: UserId,
    /// `after` is the id of the last event read.
    query: EventQuery,
    wake: watch::Receiver<u64>,
    shutdown: CancellationToken,
    pending: VecDeque<Event>,
    poll: Duration,
}

impl Tail {
    /// The next event, or `None` when the stream should end (shutdown, or
    /// the store is gone).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if self.shutdown.is_cancelled() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            // Marks the current generation as seen before reading, so only
            // commits after this point wake the wait below.
            self.wake.borrow_and_update();
            match self.store.list_events(self.user, self.query.clone()).await {
                Ok(events) if !events.is_empty() => {
                    self.query.after = events.last().map(|event| event.id);
                    self.pending.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(error) => {
                    // The client reconnects with Last-Event-ID and loses nothing.
                    tracing::warn!(%error, "event stream ended: cannot read events");
                    return None;
                }
            }
            tokio::select! {
                () = self.shutdown.cancelled() => return None,
                changed = self.wake.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }
}

fn to_sse(event: Event) -> SseEvent {
    let id = event.id.to_string();
    let kind = event.kind.clone();
    let data = serde_json::to_string(&EventResponse::from(event)).unwrap_or_else(|_| "{}".to_string());
    SseEvent::default().id(id).event(kind).data(data)
}
