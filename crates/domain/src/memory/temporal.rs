//! The temporal rules of facts, written once: when a fact is valid, which
//! facts a point-in-time query sees, and how a new fact closes the facts it
//! contradicts (or is itself closed by a later one it arrived after).
//!
//! A fact is valid in world time on `[valid_at, invalid_at)`. A stated date
//! wins; a fact whose episode states none is valid from the episode's
//! reference time. When a new fact contradicts an older one:
//! - the older one started first: it is closed, `invalid_at` = the new
//!   fact's `valid_at` (and `expired_at` = now: we stopped believing it);
//! - the "older" one actually started later (episodes ingested out of
//!   order): the new fact is the historical one, and ends where the other
//!   begins; the other is untouched;
//! - their intervals do not meet: nothing changes.
//!
//! So the answer to "what was valid at T" depends on the facts' dates, not
//! on the order their episodes arrived in (property-tested below).

use chrono::{DateTime, Utc};

use super::Fact;
use crate::ids::FactId;

/// A fact's world-time interval, `[valid_at, invalid_at)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub valid_at: DateTime<Utc>,
    pub invalid_at: Option<DateTime<Utc>>,
}

impl Interval {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.valid_at <= at && self.invalid_at.is_none_or(|end| at < end)
    }
}

/// A fact's `valid_at`: the date it states, else its episode's time.
pub fn valid_from(stated: Option<DateTime<Utc>>, episode_time: DateTime<Utc>) -> DateTime<Utc> {
    stated.unwrap_or(episode_time)
}

/// Whether a query sees `fact`: with `as_of`, what was valid in the world
/// at that time (closed facts included, which is what makes "what did we
/// hold on date X" answerable); without, what is believed and valid now.
pub fn visible(fact: &Fact, as_of: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match as_of {
        Some(at) => fact.interval().contains(at),
        None => fact.expired_at.is_none() && fact.interval().contains(now),
    }
}

/// A contradicted fact to close at `invalid_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closing {
    pub fact: FactId,
    pub invalid_at: DateTime<Utc>,
}

/// What adding a fact that contradicts others changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Supersession {
    /// Older facts to close (their `expired_at` becomes now).
    pub close: Vec<Closing>,
    /// The new fact's own end when a contradicted fact started after it.
    pub new_invalid_at: Option<DateTime<Utc>>,
}

/// Applies the rules above to a new fact `new` and the facts it
/// contradicts, given as `(id, interval)`.
pub fn supersede(new: Interval, contradicted: &[(FactId, Interval)]) -> Supersession {
    let mut outcome = Supersession { close: Vec::new(), new_invalid_at: new.invalid_at };
    for (id, old) in contradicted {
        if old.invalid_at.is_some_and(|end| end <= new.valid_at) {
            continue; // it ended before the new fact began
        }
        if old.valid_at <= new.valid_at {
            outcome.close.push(Closing { fact: *id, invalid_at: new.valid_at });
        } else if outcome.new_invalid_at.is_none_or(|end| old.valid_at < end) {
            outcome.new_invalid_at = Some(old.valid_at);
        }
    }
    outcome
}

#[cfg(test)]
mod tests;
