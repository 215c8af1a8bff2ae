//! Resource subscriptions: `resources/subscribe` and `resources/unsubscribe`
//! of the 2025-11-25 era, and `subscriptions/listen` of the 2026-07-28 era
//! (its `resourceSubscriptions`). A subscribed `steward://` resource is watched
//! through the event log, as the API's event stream is, so a change made by
//! any process sharing the database counts: each batch of new events about
//! the resource sends one `notifications/resources/updated` to the session
//! that subscribed. A session's watches end when it unsubscribes, when the
//! session ends (the handler is dropped) or when the server shuts down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rmcp::model::ResourceUpdatedNotificationParam;
use rmcp::service::{Peer, SubscriptionSink};
use rmcp::{ErrorData, RoleServer};
use steward_domain::event::EventSubject;
use steward_domain::{EventId, UserId};
use steward_store::{EventQuery, Store};
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::error::ApiError;

/// One session's subscriptions: the URI and what stops its watch.
#[derive(Default)]
pub(super) struct Subscriptions {
    watches: Mutex<HashMap<String, CancellationToken>>,
}

/// What to watch: events about this subject and id, for this user.
pub(super) struct Watched {
    pub user: UserId,
    pub subject: EventSubject,
    pub id: i64,
}

impl Subscriptions {
    /// Starts watching `uri` (replacing an earlier watch of it). `None`
    /// records the subscription without a watch: a resource that never
    /// changes (the conformance fixtures').
    ///
    /// Where the watch starts in the event log is read here, before the
    /// subscription is answered: a change the client makes once it has the
    /// answer is always after it. (Read by the spawned watch instead, a busy
    /// server could read it after such a change and miss it.)
    pub(super) async fn subscribe(
        &self,
        state: &AppState,
        uri: String,
        watched: Option<Watched>,
        to: Notifier,
    ) -> Result<(), ErrorData> {
        let stop = state.shutdown.child_token();
        if let Some(watched) = watched {
            // Subscribe before reading, so an event committed in between still wakes the watch.
            let wake = state.store.wakeups().subscribe_events();
            let after = state
                .store
                .latest_event_id(watched.user)
                .await
                .map_err(|error| ErrorData::internal_error(ApiError::from(error).to_string(), None))?;
            let start = Start { after, wake };
            tokio::spawn(watch(state.store.clone(), watched, start, uri.clone(), to, stop.clone(), state.keep_alive));
        }
        if let Some(earlier) = self.lock().insert(uri, stop) {
            earlier.cancel();
        }
        Ok(())
    }

    /// Stops watching `uri`; unsubscribing from something never subscribed
    /// to is not an error (the client's view and ours may have crossed).
    pub(super) fn unsubscribe(&self, uri: &str) {
        if let Some(stop) = self.lock().remove(uri) {
            stop.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.watches.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        for stop in self.lock().values() {
            stop.cancel();
        }
    }
}

/// Where `notifications/resources/updated` goes: the session (2025-11-25)
/// or a `subscriptions/listen` stream (2026-07-28).
#[derive(Clone)]
pub(super) enum Notifier {
    Session(Peer<RoleServer>),
    Listen(SubscriptionSink),
}

impl Notifier {
    /// Sends the notification; false once the client is gone.
    async fn updated(&self, uri: &str) -> bool {
        match self {
            Notifier::Session(peer) => {
                peer.notify_resource_updated(ResourceUpdatedNotificationParam::new(uri)).await.is_ok()
            }
            Notifier::Listen(sink) => sink.notify_resource_updated(uri).await.is_ok(),
        }
    }
}

/// Where a watch starts: the last event before the subscription, and the
/// wake-ups subscribed to before that was read.
struct Start {
    after: Option<EventId>,
    wake: tokio::sync::watch::Receiver<u64>,
}

/// Sends `notifications/resources/updated` for `uri` after each batch of new
/// events about it, until stopped or the client is gone.
async fn watch(
    store: Arc<dyn Store>,
    watched: Watched,
    start: Start,
    uri: String,
    to: Notifier,
    stop: CancellationToken,
    poll: std::time::Duration,
) {
    let Start { mut after, mut wake } = start;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = wake.changed() => {},
            () = tokio::time::sleep(poll) => {},
        }
        let query = EventQuery {
            after,
            limit: steward_store::events::MAX_PAGE,
            subject: Some((watched.subject, Some(watched.id))),
            kind_prefix: None,
        };
        let Ok(events) = store.list_events(watched.user, query).await else { continue };
        let Some(last) = events.last() else { continue };
        after = Some(last.id);
        if !to.updated(&uri).await {
            return;
        }
    }
}

/// The error for a subscription to something that cannot be watched.
pub(super) fn not_watchable(uri: &str, why: impl std::fmt::Display) -> ErrorData {
    ErrorData::resource_not_found(format!("cannot subscribe to {uri}: {why}"), Some(serde_json::json!({ "uri": uri })))
}
