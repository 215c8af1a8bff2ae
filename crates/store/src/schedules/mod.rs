//! Storing schedules and their fires, and firing them: each (schedule,
//! slot) is recorded once (a unique key) in the transaction that starts its
//! work, so a slot fires at most once across crashes and processes.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::collections::HashMap;
use steward_domain::access::Owners;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use steward_domain::schedule::{NewSchedule, Schedule, ScheduleFire};
use steward_domain::{ScheduleId, UserId};

use crate::Result;

/// The most fires one history page lists.
pub const MAX_FIRES_PAGE: usize = 1_000;

/// What a schedule's precondition found, evaluated by the caller before
/// the fire (it may read files or the network, which the store does not).
#[derive(Clone, Debug, PartialEq)]
pub struct PreconditionCheck {
    pub passed: bool,
    /// What the check saw (an event id, a hash, an ETag), kept when it passed.
    pub state: Option<String>,
}

/// Schedules to fire now, with their preconditions' results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FireRequest {
    pub schedules: Vec<ScheduleId>,
    /// A schedule with a precondition fires only with its check here.
    pub checks: HashMap<ScheduleId, PreconditionCheck>,
}

/// What settling fires did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettleReport {
    /// Fires whose work was seen to end.
    pub settled: usize,
    /// Buffered fires started.
    pub released: Vec<ScheduleFire>,
    /// Schedules paused after failed fires.
    pub paused: Vec<ScheduleId>,
}

#[async_trait]
pub trait ScheduleStore {
    /// Creates a schedule. Its name is unique among the user's without
    /// regard to case (`Conflict` naming `name`); the *when* must fire after
    /// now (`when`); an agent or action target must exist (`agent`,
    /// `action`), an agent must not be archived. Slots after now are due.
    /// Event `schedule.created`.
    async fn create_schedule(&self, schedule: NewSchedule) -> Result<Schedule>;

    async fn get_schedule(&self, user: UserId, id: ScheduleId) -> Result<Schedule>;

    /// The user's schedule of this name, found without regard to case.
    async fn find_schedule(&self, user: UserId, name: &str) -> Result<Schedule>;

    /// The user's schedules, by name.
    async fn list_schedules(&self, owners: Owners) -> Result<Vec<Schedule>>;

    /// Pauses or resumes. Resuming makes the slots passed while paused due,
    /// so the missed-run policy decides about them. Events
    /// `schedule.paused`, `schedule.resumed` (none when nothing changes).
    async fn set_schedule_paused(&self, user: UserId, id: ScheduleId, paused: bool) -> Result<Schedule>;

    /// Deletes the schedule and its history. Event `schedule.deleted`.
    async fn delete_schedule(&self, user: UserId, id: ScheduleId) -> Result<Schedule>;

    /// When the next unpaused schedule (of any user) fires.
    async fn next_schedule_fire(&self) -> Result<Option<DateTime<Utc>>>;

    /// Unpaused schedules (of any user) due at `now`, soonest first.
    async fn due_schedules(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Schedule>>;

    /// Fires the named schedules that are still due (another process may
    /// have fired them meanwhile: those are left), each applying its
    /// missed-run policy, overlap policy and precondition; every due slot is
    /// recorded and each fire's work started in the same transaction.
    /// Returns the fires that started work, wait or were skipped. Events
    /// `schedule.fired`, `schedule.slots_not_fired`.
    async fn fire_schedules(&self, request: FireRequest) -> Result<Vec<ScheduleFire>>;

    /// Fires now by hand (status `manual`), whatever the policies.
    async fn fire_schedule_now(&self, user: UserId, id: ScheduleId) -> Result<ScheduleFire>;

    /// Fires every slot from `from` to `to` (inclusive) not recorded yet
    /// (status `backfilled`); at most `MAX_BACKFILL_SLOTS` slots, else
    /// refused naming `to`.
    async fn backfill_schedule(
        &self,
        user: UserId,
        id: ScheduleId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ScheduleFire>>;

    /// Records the outcome of fires whose work ended, pauses schedules
    /// after their limit of consecutive failed fires, and starts buffered
    /// fires whose schedule has nothing running any more. Events
    /// `schedule.fire_settled`, `schedule.paused`, `schedule.fired`.
    async fn settle_schedule_fires(&self) -> Result<SettleReport>;

    /// The schedule's recorded slots, newest first.
    async fn list_schedule_fires(&self, user: UserId, id: ScheduleId, limit: usize) -> Result<Vec<ScheduleFire>>;
}
