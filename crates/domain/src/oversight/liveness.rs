//! An agent's liveness, derived from its runs and their jobs' leases:
//! `active` while a run works under a live lease and makes progress,
//! `stuck` when a running run's lease expired (its worker stopped
//! beating: the queue reclaims the job and the run resumes) or it made no
//! progress for `stuck_after`, `failed` when its latest run failed and none
//! works now, `idle` otherwise.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::run::RunOutcome;
use crate::text_enum::text_enum;

/// A running run that made no progress for this long is stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(600);

text_enum!(
    /// Whether an agent is working, and how well.
    Liveness, "liveness", {
        Active => "active",
        Idle => "idle",
        Stuck => "stuck",
        Failed => "failed",
    }
);

/// What the store reads about one running run of an agent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkingRun {
    /// When its job's lease runs out; `None` when no worker holds it.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Its last change (a step stored, a resume).
    pub last_progress_at: DateTime<Utc>,
}

/// What the store reads about an agent's runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LivenessFacts {
    /// Its runs in status `running`.
    pub running: Vec<WorkingRun>,
    /// How its latest finished run ended, and when.
    pub last_finished: Option<(RunOutcome, DateTime<Utc>)>,
}

/// The agent's liveness at `now`, with why, in words.
pub fn liveness(facts: &LivenessFacts, now: DateTime<Utc>, stuck_after: Duration) -> (Liveness, String) {
    let stuck_after = chrono::Duration::from_std(stuck_after).unwrap_or(chrono::Duration::MAX);
    for run in &facts.running {
        match run.lease_expires_at {
            Some(expires) if expires < now => {
                return (Liveness::Stuck, format!("a running run's lease expired at {expires}; its worker stopped"));
            }
            _ if now - run.last_progress_at > stuck_after => {
                let minutes = (now - run.last_progress_at).num_minutes();
                return (Liveness::Stuck, format!("a running run made no progress for {minutes} minutes"));
            }
            _ => {}
        }
    }
    if !facts.running.is_empty() {
        return (Liveness::Active, format!("{} run(s) working", facts.running.len()));
    }
    match facts.last_finished {
        Some((RunOutcome::Failed, at)) => (Liveness::Failed, format!("its latest run failed at {at}")),
        _ => (Liveness::Idle, "no run working".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn liveness_follows_leases_progress_and_the_last_outcome() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        let minutes = |n: i64| now - chrono::Duration::minutes(n);
        let stuck_after = Duration::from_secs(600);
        let working =
            |lease: Option<DateTime<Utc>>, progress| WorkingRun { lease_expires_at: lease, last_progress_at: progress };
        let state = |facts: LivenessFacts| liveness(&facts, now, stuck_after).0;
        assert_eq!(state(LivenessFacts::default()), Liveness::Idle);
        let live = working(Some(now + chrono::Duration::seconds(20)), minutes(1));
        assert_eq!(state(LivenessFacts { running: vec![live], last_finished: None }), Liveness::Active);
        let expired = working(Some(minutes(1)), minutes(1));
        assert_eq!(state(LivenessFacts { running: vec![live, expired], last_finished: None }), Liveness::Stuck);
        let silent = working(Some(now + chrono::Duration::seconds(20)), minutes(11));
        let (liveness_now, why) =
            liveness(&LivenessFacts { running: vec![silent], last_finished: None }, now, stuck_after);
        assert_eq!((liveness_now, why.as_str()), (Liveness::Stuck, "a running run made no progress for 11 minutes"));
        let failed = Some((RunOutcome::Failed, minutes(5)));
        assert_eq!(state(LivenessFacts { running: vec![], last_finished: failed }), Liveness::Failed);
        assert_eq!(state(LivenessFacts { running: vec![live], last_finished: failed }), Liveness::Active);
        let completed = Some((RunOutcome::Completed, minutes(5)));
        assert_eq!(state(LivenessFacts { running: vec![], last_finished: completed }), Liveness::Idle);
    }
}
