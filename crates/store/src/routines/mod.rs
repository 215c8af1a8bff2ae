//! Routines and their fires. A fire is recorded in the transaction that
//! starts its run and records its deliveries, so a fire either happened
//! whole or not at all; a fire key (a schedule's slot, a webhook's
//! signature) makes a second fire with the same key return the first.
//! The rules are in `decide.rs`, written once for both databases.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::access::Owners;
use steward_domain::delivery::Delivery;
use steward_domain::routine::{NewFire, NewRoutine, Routine, RoutineChange, RoutineFire};
use steward_domain::{FireId, RoutineId, Run, UserId};

use crate::Result;

/// The most fires one list returns.
pub const MAX_FIRES: usize = 200;

/// A recorded fire with its run and deliveries.
#[derive(Clone, Debug, PartialEq)]
pub struct FireRecord {
    pub fire: RoutineFire,
    pub run: Option<Run>,
    pub deliveries: Vec<Delivery>,
    /// `false` when a fire with the same key was recorded before (this is it).
    pub created: bool,
}

#[async_trait]
pub trait RoutineStore {
    /// Adds a routine. Its name is unique among the user's without regard
    /// to case (`Conflict` naming `name`); the agent must exist and not be
    /// archived (`agent`); a routine it follows must exist (`after`).
    async fn create_routine(&self, user: UserId, routine: NewRoutine) -> Result<Routine>;

    async fn get_routine(&self, user: UserId, id: RoutineId) -> Result<Routine>;

    /// The user's routine of this name, found without regard to case.
    async fn find_routine(&self, user: UserId, name: &str) -> Result<Routine>;

    /// The user's routines, by name.
    async fn list_routines(&self, owners: Owners) -> Result<Vec<Routine>>;

    /// Edits a routine and, in the same transaction, its schedules: the
    /// routine's own schedule (of its name) replaced or removed, every
    /// schedule that fires it paused or resumed. The edited routine is
    /// validated whole (errors name the field; nothing is written); the
    /// agent must exist and not be archived. A replaced schedule keeps its
    /// paused state unless `enabled` says otherwise; `enabled` of a routine
    /// no schedule fires is refused (`enabled`). Event `routine.updated`
    /// naming the fields, with the schedules' own events.
    async fn update_routine(&self, user: UserId, id: RoutineId, change: RoutineChange) -> Result<Routine>;

    /// Removes a routine and its fires; their deliveries stay, no longer
    /// naming a fire.
    async fn delete_routine(&self, user: UserId, id: RoutineId) -> Result<Routine>;

    /// Starts the fire's run, records the fire and one delivery per
    /// destination (each sent once the run finishes), in one transaction,
    /// with event `routine.fired`. A fire whose key was recorded already is
    /// returned as it is (`created` false), starting nothing.
    async fn record_fire(&self, user: UserId, fire: NewFire) -> Result<FireRecord>;

    async fn get_fire(&self, user: UserId, id: FireId) -> Result<RoutineFire>;

    /// The routine's fires, newest first, at most `limit` (capped at [`MAX_FIRES`]).
    async fn list_fires(&self, user: UserId, routine: RoutineId, limit: usize) -> Result<Vec<RoutineFire>>;
}
