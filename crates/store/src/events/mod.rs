//! Reading the append-only event log.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::{Event, EventId, EventSubject, UserId};

use crate::Result;

/// The most events one page returns.
pub const MAX_PAGE: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct EventQuery {
    /// Only events with a larger id.
    pub after: Option<EventId>,
    /// At most this many (capped at [`MAX_PAGE`]).
    pub limit: usize,
    /// Only events about this subject (and id, when given).
    pub subject: Option<(EventSubject, Option<i64>)>,
    /// Only events whose kind starts with this (`job.` or `job.completed`).
    pub kind_prefix: Option<String>,
}

impl Default for EventQuery {
    fn default() -> Self {
        EventQuery { after: None, limit: 100, subject: None, kind_prefix: None }
    }
}

#[async_trait]
pub trait EventLog {
    /// Events in id order. A page never passes an id that becomes visible
    /// later, so `after` = the last id seen misses nothing (on PostgreSQL the
    /// page stops at the event horizon, see `postgres::transaction`).
    async fn list_events(&self, user: UserId, query: EventQuery) -> Result<Vec<Event>>;

    /// The id of the newest event, if any.
    async fn latest_event_id(&self, user: UserId) -> Result<Option<EventId>>;
}
