//! Events on the wire: the append-only log of state changes, paged by id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_domain::EventId;
use utoipa::{IntoParams, ToSchema};

use super::enums::EventSubject;

/// One state change. The stream sends the same object as `data:`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventResponse {
    /// Grows in commit order; use it as the `after` cursor.
    #[schema(value_type = i64)]
    pub id: EventId,
    pub occurred_at: DateTime<Utc>,
    /// `job.completed`, `agent.created`, `action.transitioned`, …
    pub kind: String,
    pub subject: EventSubject,
    pub subject_id: i64,
    /// Details of the change (for jobs: `from`, `to`, `attempt`, `error`, …).
    pub data: Value,
    /// Who made the change; absent for what Steward did by itself
    /// (workers, the scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<EventActor>,
}

/// The user and the token (or dashboard session) behind a change; no token
/// for the local owner on loopback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventActor {
    pub user_id: i64,
    pub token_id: Option<i64>,
}

impl From<steward_domain::Event> for EventResponse {
    fn from(event: steward_domain::Event) -> Self {
        EventResponse {
            id: event.id,
            occurred_at: event.occurred_at,
            kind: event.kind,
            subject: event.subject.into(),
            subject_id: event.subject_id,
            data: event.data,
            actor: event.actor.map(|actor| EventActor { user_id: actor.user.get(), token_id: actor.token_id }),
        }
    }
}

/// A page of events, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventListResponse {
    pub events: Vec<EventResponse>,
    /// Pass as `after` for the next page: the last id of this page, or the
    /// `after` that was given when the page is empty (poll again later).
    #[schema(value_type = Option<i64>)]
    pub next_after: Option<EventId>,
    /// The page is full, so more events may follow right away.
    pub has_more: bool,
}

/// Filters and paging of `GET /events` and `GET /events/stream`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events with a larger id. The stream starts after the newest event
    /// when neither this nor a `Last-Event-ID` header is given.
    #[param(value_type = Option<i64>)]
    pub after: Option<EventId>,
    /// 1…1000, default 100 (list only).
    pub limit: Option<usize>,
    /// Only events whose kind starts with this (`job.` or `job.completed`).
    pub kind: Option<String>,
    /// Only events about this subject.
    pub subject: Option<EventSubject>,
    /// Only events about this one agent, action or job (needs `subject`).
    pub subject_id: Option<i64>,
}
