//! The fake's shared state: the script queue, the responder, the log of
//! received requests and the counters.
//!
//! Every lock here is a std mutex held for a push, a pop or a clone and never
//! across an `.await`, so ten thousand concurrent requests do not queue up
//! behind one another.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::received::ReceivedRequest;
use crate::script::Script;

/// Picks a reply from a received request; `None` falls through to the
/// default reply.
pub type Responder = Arc<dyn Fn(&ReceivedRequest) -> Option<Script> + Send + Sync>;

/// Counters a test or benchmark can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FakeStats {
    pub requests_total: u64,
    pub in_flight: usize,
    pub peak_in_flight: usize,
}

pub struct FakeState {
    queue: Mutex<VecDeque<Script>>,
    responder: RwLock<Option<Responder>>,
    received: Mutex<Vec<ReceivedRequest>>,
    record_requests: AtomicBool,
    reply_delay_nanos: AtomicU64,
    expected_api_key: RwLock<Option<String>>,
    next_sequence: AtomicU64,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    last_stream_piece_at: Mutex<Option<Instant>>,
    shutdown: watch::Receiver<bool>,
    /// While `true`, replies wait (the requests are still received and counted).
    paused: watch::Sender<bool>,
}

/// A poisoned lock only means another request panicked mid-push; the data is
/// still a valid queue or list, so carry on with it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeState {
    pub fn new(shutdown: watch::Receiver<bool>) -> Self {
        FakeState {
            queue: Mutex::new(VecDeque::new()),
            responder: RwLock::new(None),
            received: Mutex::new(Vec::new()),
            record_requests: AtomicBool::new(true),
            reply_delay_nanos: AtomicU64::new(0),
            expected_api_key: RwLock::new(None),
            next_sequence: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
            last_stream_piece_at: Mutex::new(None),
            shutdown,
            paused: watch::Sender::new(false),
        }
    }

    pub fn push(&self, script: Script) {
        lock(&self.queue).push_back(script);
    }

    pub fn queued(&self) -> usize {
        lock(&self.queue).len()
    }

    /// Takes the next scripted answer if `accept` allows it.
    pub fn pop_if(&self, accept: impl FnOnce(&Script) -> bool) -> Option<Script> {
        let mut queue = lock(&self.queue);
        if queue.front().is_some_and(accept) { queue.pop_front() } else { None }
    }

    pub fn set_responder(&self, responder: Option<Responder>) {
        *self.responder.write().unwrap_or_else(PoisonError::into_inner) = responder;
    }

    /// A clone of the responder, so it is called with no lock held.
    pub fn responder(&self) -> Option<Responder> {
        self.responder.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn next_sequence(&self) -> u64 {
        self.next_sequence.fetch_add(1, Ordering::Relaxed)
    }

    pub fn record(&self, request: &ReceivedRequest) {
        if self.record_requests.load(Ordering::Relaxed) {
            lock(&self.received).push(request.clone());
        }
    }

    pub fn set_recording(&self, enabled: bool) {
        self.record_requests.store(enabled, Ordering::Relaxed);
    }

    pub fn received(&self) -> Vec<ReceivedRequest> {
        lock(&self.received).clone()
    }

    pub fn take_received(&self) -> Vec<ReceivedRequest> {
        std::mem::take(&mut *lock(&self.received))
    }

    pub fn set_reply_delay(&self, delay: Duration) {
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        self.reply_delay_nanos.store(nanos, Ordering::Relaxed);
    }

    pub fn reply_delay(&self) -> Duration {
        Duration::from_nanos(self.reply_delay_nanos.load(Ordering::Relaxed))
    }

    pub fn set_expected_api_key(&self, key: Option<String>) {
        *self.expected_api_key.write().unwrap_or_else(PoisonError::into_inner) = key;
    }

    pub fn expected_api_key(&self) -> Option<String> {
        self.expected_api_key.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn note_last_stream_piece(&self, at: Instant) {
        *lock(&self.last_stream_piece_at) = Some(at);
    }

    pub fn last_stream_piece_at(&self) -> Option<Instant> {
        *lock(&self.last_stream_piece_at)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    /// Resolves once replies are not paused, or the fake is shutting down.
    pub async fn wait_while_paused(&self) {
        if !*self.paused.borrow() {
            return;
        }
        let mut paused = self.paused.subscribe();
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            _ = paused.wait_for(|paused| !*paused) => {}
            _ = shutdown.wait_for(|stopped| *stopped) => {}
        }
    }

    pub fn shutdown_receiver(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    pub fn stats(&self) -> FakeStats {
        FakeStats {
            requests_total: self.next_sequence.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            peak_in_flight: self.peak_in_flight.load(Ordering::Relaxed),
        }
    }

    pub fn enter(self: &Arc<Self>) -> InFlightGuard {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        InFlightGuard(Arc::clone(self))
    }
}

/// Counts a request as in flight until its response body is finished or dropped.
pub struct InFlightGuard(Arc<FakeState>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
