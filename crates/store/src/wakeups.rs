//! In-process signals raised after a commit: "jobs may be ready" for the
//! worker pool and "events were appended" for live event streams. A `watch`
//! channel carries a counter, so a waiter never misses a signal raised while
//! it was busy.
//!
//! Bursts coalesce: however many signals are raised (one per commit here, or
//! one per `NOTIFY` heard from other nodes on PostgreSQL) while a waiter is
//! busy, it wakes once, so the worker pool makes one claim pass for a burst.

use tokio::sync::watch;

#[derive(Debug)]
pub struct Wakeups {
    jobs: watch::Sender<u64>,
    events: watch::Sender<u64>,
}

impl Default for Wakeups {
    fn default() -> Self {
        Wakeups { jobs: watch::Sender::new(0), events: watch::Sender::new(0) }
    }
}

impl Wakeups {
    pub fn jobs_ready(&self) {
        self.jobs.send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    pub fn events_appended(&self) {
        self.events.send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    pub fn subscribe_jobs(&self) -> watch::Receiver<u64> {
        self.jobs.subscribe()
    }

    pub fn subscribe_events(&self) -> watch::Receiver<u64> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_of_signals_wakes_a_busy_waiter_once() {
        let wakeups = Wakeups::default();
        let mut jobs = wakeups.subscribe_jobs();
        for _ in 0..1_000 {
            wakeups.jobs_ready();
        }
        assert!(jobs.has_changed().unwrap_or(false), "the burst is seen");
        jobs.changed().await.unwrap_or_default();
        assert!(!jobs.has_changed().unwrap_or(true), "and seen once: no second wake-up is pending");
        wakeups.jobs_ready();
        assert!(jobs.has_changed().unwrap_or(false), "a later signal wakes it again");
    }
}
