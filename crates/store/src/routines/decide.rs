//! The rules of routines, written once for both databases: the name
//! conflict, the stored forms of sources and fire inputs, the event of a
//! fire and the deliveries it records.

use chrono::{DateTime, Utc};
use steward_domain::delivery::NewDeliveries;
use steward_domain::routine::{FireInputs, NewFire, Routine, RoutineChange, RoutineFire, RoutineSources};
use steward_domain::schedule::Schedule;
use steward_domain::{AgentId, AgentStatus, FireId, NewEvent, RoutineId, Run, RunId, UserId};

use crate::routines::MAX_FIRES;
use crate::{ConflictKind, StoreError};

/// Columns of `routines` in the order [`RoutineRow`] reads them (JSON as text).
pub(crate) const ROUTINE_COLUMNS: &str =
    "id, user_id, name, agent_id, template, sources, deliveries, zone, trigger, created_at, updated_at";
/// Columns of `routine_fires` in the order [`FireRow`] reads them.
pub(crate) const FIRE_COLUMNS: &str =
    "id, user_id, routine_id, trigger, fire_key, replay_of, inputs, prompt, run_id, created_at";

/// A `routines` row as stored.
pub(crate) struct RoutineRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub agent_id: i64,
    pub template: String,
    pub sources: String,
    pub deliveries: String,
    pub zone: String,
    pub trigger: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The stored trigger of a routine that follows another.
pub(crate) fn trigger_text(after: Option<&str>) -> Option<String> {
    after.map(|name| format!("after:{name}"))
}

impl RoutineRow {
    pub(crate) fn into_routine(self) -> Result<Routine, StoreError> {
        Ok(Routine {
            id: RoutineId(self.id),
            user_id: UserId(self.user_id),
            name: self.name,
            agent_id: AgentId(self.agent_id),
            template: self.template,
            sources: sources_of(&self.sources)?,
            deliveries: deliveries_of(&self.deliveries)?,
            zone: self.zone,
            after: self.trigger.as_deref().and_then(|text| text.strip_prefix("after:")).map(str::to_string),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A `routine_fires` row as stored.
pub(crate) struct FireRow {
    pub id: i64,
    pub user_id: i64,
    pub routine_id: i64,
    pub trigger: String,
    pub fire_key: Option<String>,
    pub replay_of: Option<i64>,
    pub inputs: String,
    pub prompt: String,
    pub run_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl FireRow {
    pub(crate) fn into_fire(self) -> Result<RoutineFire, StoreError> {
        Ok(RoutineFire {
            id: FireId(self.id),
            user_id: UserId(self.user_id),
            routine_id: RoutineId(self.routine_id),
            trigger: self
                .trigger
                .parse()
                .map_err(|error| StoreError::Database(format!("stored fire {}: {error}", self.id)))?,
            fire_key: self.fire_key,
            replay_of: self.replay_of.map(FireId),
            inputs: inputs_of(&self.inputs)?,
            prompt: self.prompt,
            run_id: self.run_id.map(RunId),
            created_at: self.created_at,
        })
    }
}

pub(crate) fn name_taken(name: &str) -> StoreError {
    StoreError::conflict(ConflictKind::AlreadyExists, Some("name"), format!("a routine named {name:?} exists"))
}

/// An archived agent starts nothing.
pub(crate) fn check_agent(status: AgentStatus, name: &str) -> Result<(), StoreError> {
    match status {
        AgentStatus::Archived => Err(StoreError::conflict(
            ConflictKind::Archived,
            Some("agent"),
            format!("agent {name:?} is archived; choose another agent"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn after_unknown(name: &str) -> StoreError {
    StoreError::invalid("after", format!("there is no routine named {name:?} to follow"))
}

pub(crate) fn sources_text(sources: &RoutineSources) -> Result<String, StoreError> {
    Ok(serde_json::to_string(sources)?)
}

pub(crate) fn sources_of(text: &str) -> Result<RoutineSources, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Database(format!("stored routine sources: {error}")))
}

pub(crate) fn deliveries_text(deliveries: &[String]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(deliveries)?)
}

pub(crate) fn deliveries_of(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Database(format!("stored routine deliveries: {error}")))
}

pub(crate) fn inputs_text(inputs: &FireInputs) -> Result<String, StoreError> {
    Ok(serde_json::to_string(inputs)?)
}

pub(crate) fn inputs_of(text: &str) -> Result<FireInputs, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Database(format!("stored fire inputs: {error}")))
}

/// The run of a fire must be the routine's agent's.
pub(crate) fn check_fire(routine: &Routine, fire: &NewFire) -> Result<(), StoreError> {
    if fire.run.agent_id != routine.agent_id {
        return Err(StoreError::invalid("agent", "a fire's run is the routine's agent's"));
    }
    Ok(fire.run.validate()?)
}

/// The deliveries a new fire records: keyed by this fire, or by the
/// replayed one so nothing sent is sent again.
pub(crate) fn deliveries(fire: &NewFire, id: FireId, run: &Run) -> Option<NewDeliveries> {
    (!fire.destinations.is_empty()).then(|| NewDeliveries {
        run_id: run.id,
        fire_id: Some(fire.deliveries_of.unwrap_or(id)),
        destinations: fire.destinations.clone(),
    })
}

/// `enabled` needs a schedule to pause or resume.
pub(crate) fn nothing_to_enable(name: &str) -> StoreError {
    StoreError::invalid(
        "enabled",
        format!("no schedule fires routine {name:?}, so there is nothing to pause or resume; give it a `when`"),
    )
}

/// Whether the routine's own schedule (the one of its name), replaced,
/// is paused as the old one was: unless `enabled` decides for every schedule.
pub(crate) fn keep_paused(old: Option<bool>, enabled: Option<bool>) -> bool {
    enabled.is_none() && old == Some(true)
}

/// The position of the routine's own schedule among those that fire it.
pub(crate) fn own_schedule(routine: &Routine, schedules: &[Schedule]) -> Option<usize> {
    schedules.iter().position(|schedule| schedule.name.eq_ignore_ascii_case(&routine.name))
}

pub(crate) fn updated_event(routine: RoutineId, change: &RoutineChange) -> NewEvent {
    NewEvent::RoutineUpdated { routine, fields: change.fields() }
}

pub(crate) fn fired_event(fire: &RoutineFire) -> NewEvent {
    NewEvent::RoutineFired {
        routine: fire.routine_id,
        fire: fire.id,
        trigger: fire.trigger.as_str().to_string(),
        run_id: fire.run_id,
        dry_run: false,
    }
}

pub(crate) fn page(limit: usize) -> i64 {
    let limit = if limit == 0 { MAX_FIRES } else { limit.min(MAX_FIRES) };
    i64::try_from(limit).unwrap_or(200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_inputs_read_back_and_damage_is_named() {
        assert!(sources_of("{\"calendars\": 3}").unwrap_err().to_string().contains("stored routine sources"));
        let sources = RoutineSources { outputs: vec!["evening".into()], ..RoutineSources::default() };
        assert_eq!(sources_of(&sources_text(&sources).unwrap()).unwrap(), sources);
        assert_eq!(page(0), 200);
        assert_eq!(page(5), 5);
    }
}
