//! The clock the runtime reads "now" from, injected like the store's: the
//! agent runtime, the worker pool and the use cases hold a [`SharedClock`],
//! production passes the system clock and tests a [`ManualClock`] they move.
//!
//! Architecture invariant: nothing in `runtime`, `server` or `cli` calls
//! `Utc::now()`; `xtask` tidy fails when something does.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
pub use steward_domain::{Clock, ManualClock, SystemClock};

/// A cheaply cloned handle to a [`Clock`].
#[derive(Clone)]
pub struct SharedClock(Arc<dyn Clock>);

impl SharedClock {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        SharedClock(clock)
    }

    /// The real wall clock.
    pub fn system() -> Self {
        SharedClock(Arc::new(SystemClock))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    /// The clock itself, for what takes an `Arc<dyn Clock>` (the store's
    /// options, the server's state).
    pub fn as_arc(&self) -> Arc<dyn Clock> {
        self.0.clone()
    }
}

impl Default for SharedClock {
    fn default() -> Self {
        SharedClock::system()
    }
}

impl From<Arc<dyn Clock>> for SharedClock {
    fn from(clock: Arc<dyn Clock>) -> Self {
        SharedClock(clock)
    }
}

impl fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedClock")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_shared_manual_clock_moves_for_every_holder() {
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 8, 0, 0).unwrap();
        let manual = Arc::new(ManualClock::new(start));
        let clock = SharedClock::new(manual.clone());
        let copy = clock.clone();
        manual.advance(chrono::Duration::minutes(5));
        assert_eq!(clock.now(), start + chrono::Duration::minutes(5));
        assert_eq!(copy.now(), clock.now());
        assert_eq!(clock.as_arc().now(), clock.now());
    }
}
