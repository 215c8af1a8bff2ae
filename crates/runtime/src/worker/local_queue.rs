//! Jobs claimed ahead of free places and held in the process until a place
//! frees, so a busy pool starts its next job without a round trip to the
//! database and one claim carries many jobs.
//!
//! A held job is `running` in the database under this worker's lease (its
//! attempt is counted and its `job.started` event recorded at the claim), so
//! no other node takes it. Its lease is renewed with the running jobs', and
//! a job held longer than the hold limit is released back to the queue,
//! attempt uncounted, for any node to take: a job is never stranded behind
//! long-running ones. If the process dies, the lease expires and the job is
//! reclaimed like a running one: never lost.
//!
//! How many jobs are held adapts (additive increase, multiplicative
//! decrease): each held job that started in time lets one more be held, up
//! to the configured size; each release at the hold limit halves it. A pool
//! of short jobs holds its full local queue; a pool of long jobs settles at
//! one held job, so it does not keep claiming and releasing.

use std::collections::VecDeque;
use std::time::Duration;

use steward_domain::JobId;
use steward_store::{ClaimedJob, LeaseRef};
use tokio::time::Instant;

struct Held {
    job: ClaimedJob,
    claimed: Instant,
    /// Claimed beyond the places free at the time, rather than for one.
    ahead: bool,
}

pub(super) struct LocalQueue {
    held: VecDeque<Held>,
    /// How many jobs to hold now; between 1 and `size` (0 when `size` is 0).
    target: usize,
    size: usize,
    hold_limit: Duration,
}

impl LocalQueue {
    pub fn new(size: usize, hold_limit: Duration) -> Self {
        LocalQueue { held: VecDeque::new(), target: size.min(1), size, hold_limit }
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// How many jobs to claim ahead of free places now.
    pub fn room(&self) -> usize {
        self.target.saturating_sub(self.held.len())
    }

    /// Whether to refill: at most half of the target is held, so a claim
    /// takes many jobs at once rather than topping up one by one.
    pub fn wants_refill(&self) -> bool {
        self.held.len() <= self.target / 2
    }

    /// Holds the jobs of one claim, in claim order; the first `free` of them
    /// were claimed for free places, the rest ahead.
    pub fn hold(&mut self, jobs: Vec<ClaimedJob>, free: usize, now: Instant) {
        for (index, job) in jobs.into_iter().enumerate() {
            self.held.push_back(Held { job, claimed: now, ahead: index >= free });
        }
    }

    /// The next job to start, oldest first.
    pub fn next(&mut self) -> Option<ClaimedJob> {
        let held = self.held.pop_front()?;
        if held.ahead {
            self.target = (self.target + 1).min(self.size);
        }
        Some(held.job)
    }

    /// The leases of the held jobs, renewed with the running ones.
    pub fn leases(&self) -> impl Iterator<Item = LeaseRef> + '_ {
        self.held.iter().map(|held| held.job.lease())
    }

    /// Forgets a held job whose lease was cancelled or lost.
    pub fn forget(&mut self, job_id: JobId) -> bool {
        let before = self.held.len();
        self.held.retain(|held| held.job.id != job_id);
        self.held.len() != before
    }

    /// When the oldest held job reaches the hold limit.
    pub fn deadline(&self) -> Option<Instant> {
        self.held.front().map(|held| held.claimed + self.hold_limit)
    }

    /// Takes out the jobs held past the hold limit at `now`, to be released,
    /// and halves how many are held from then on.
    pub fn take_expired(&mut self, now: Instant) -> Vec<LeaseRef> {
        let mut expired = Vec::new();
        while let Some(held) = self.held.front()
            && held.claimed + self.hold_limit <= now
        {
            expired.push(held.job.lease());
            self.held.pop_front();
        }
        if !expired.is_empty() {
            self.target = (self.target / 2).max(self.size.min(1));
        }
        expired
    }

    /// Takes out every held job (at shutdown).
    pub fn take_all(&mut self) -> Vec<LeaseRef> {
        self.held.drain(..).map(|held| held.job.lease()).collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use serde_json::Value;
    use steward_domain::UserId;

    use super::*;

    fn job(id: i64) -> ClaimedJob {
        ClaimedJob {
            id: JobId(id),
            user_id: UserId(1),
            queue: "default".into(),
            kind: "noop".into(),
            payload: Value::Null,
            attempt: 1,
            max_attempts: 3,
            timeout: Duration::from_secs(1),
            idempotency_key: None,
            lease_expires_at: DateTime::UNIX_EPOCH,
            ready_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn holds_more_as_jobs_held_ahead_start_and_half_as_many_after_a_release() {
        let start = Instant::now();
        let mut queue = LocalQueue::new(8, Duration::from_secs(1));
        assert_eq!(queue.room(), 1, "starts by holding one job ahead");
        queue.hold(vec![job(1), job(2)], 1, start);
        assert_eq!(queue.next().map(|job| job.id), Some(JobId(1)));
        assert_eq!(queue.room(), 0, "a job claimed for a free place does not grow the target");
        assert_eq!(queue.next().map(|job| job.id), Some(JobId(2)));
        assert_eq!(queue.room(), 2, "a job held ahead that started grows it by one");
        queue.hold((3..=10).map(job).collect(), 0, start);
        for _ in 0..8 {
            queue.next();
        }
        assert_eq!(queue.room(), 8, "never more than the size");
        queue.hold((11..=18).map(job).collect(), 0, start);
        assert!(queue.take_expired(start + Duration::from_millis(999)).is_empty());
        assert_eq!(queue.deadline(), Some(start + Duration::from_secs(1)));
        let expired = queue.take_expired(start + Duration::from_secs(1));
        assert_eq!(expired.len(), 8);
        assert_eq!(queue.room(), 4, "halved after a release at the hold limit");
    }

    #[test]
    fn refills_at_half_and_forgets_cancelled_jobs() {
        let now = Instant::now();
        let mut queue = LocalQueue::new(4, Duration::from_secs(1));
        queue.target = 4;
        queue.hold((1..=3).map(job).collect(), 0, now);
        assert!(!queue.wants_refill());
        assert!(queue.forget(JobId(2)));
        assert!(!queue.forget(JobId(2)));
        assert!(queue.wants_refill());
        assert_eq!(queue.leases().map(|lease| lease.job_id).collect::<Vec<_>>(), [JobId(1), JobId(3)]);
        assert_eq!(queue.take_all().len(), 2);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_size_of_zero_holds_nothing_ahead() {
        let mut queue = LocalQueue::new(0, Duration::from_secs(1));
        assert_eq!(queue.room(), 0);
        queue.hold(vec![job(1)], 1, Instant::now());
        queue.next();
        assert_eq!(queue.room(), 0);
    }
}
