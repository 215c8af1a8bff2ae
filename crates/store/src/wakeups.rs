//! In-process signals raised after a commit: "jobs may be ready" for the
//! worker pool and "events were appended" for live event streams. A `watch`
//! channel carries a counter, so a waiter never misses a signal raised while
//! it was busy.

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
