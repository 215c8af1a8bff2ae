//! Editing a routine as people ask for it: each field given replaces the
//! stored one, context sources are replaced field by field, destinations
//! are replaced or added and removed one by one, and a new *when* (or
//! zone) replaces the routine's own schedule. Everything is checked
//! before the store writes the routine and its schedules in one
//! transaction (`steward_store::RoutineStore::update_routine`), so a
//! refused edit changes nothing.

use serde_json::{Map, Value};
use steward_domain::delivery::Destination;
use steward_domain::routine::{Routine, RoutineChange, RoutineSources};
use steward_domain::schedule::ScheduleZone;
use steward_domain::{AgentId, RoutineId, UserId, ValidationError};

use super::{CreateSchedule, UseCaseError, UseCases};
use crate::routines::template;

/// An edit as typed; `None` (or empty) leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EditRoutine {
    pub agent_id: Option<AgentId>,
    /// The template's new text.
    pub text: Option<String>,
    /// Source fields to replace (`calendars`, `priorities`, `repo`, …); the others stay.
    pub sources: Option<Map<String, Value>>,
    /// Replaces every destination.
    pub deliver: Option<Vec<String>>,
    /// Destinations to add (after `deliver`, if given).
    pub add_deliver: Vec<String>,
    /// Destinations to drop, as stored or as shown (secret URLs masked).
    pub remove_deliver: Vec<String>,
    pub zone: Option<String>,
    /// A new *when*; `Some(None)` removes the routine's own schedule.
    pub when: Option<Option<String>>,
    /// Resume or pause the schedules that fire it.
    pub enabled: Option<bool>,
}

impl EditRoutine {
    pub fn is_empty(&self) -> bool {
        *self == EditRoutine::default()
    }
}

impl UseCases {
    /// Edits a routine; a refused field is named and nothing is written.
    pub async fn edit_routine(&self, user: UserId, id: RoutineId, edit: EditRoutine) -> Result<Routine, UseCaseError> {
        if edit.is_empty() {
            return Err(ValidationError::new(
                "routine",
                "the edit changes nothing; give at least one of agent_id, text, sources, deliver, add_deliver, \
                 remove_deliver, tz, when, enabled",
            )
            .into());
        }
        let routine = self.store.get_routine(user, id).await?;
        if let Some(text) = &edit.text {
            template::check(text).map_err(|error| error.of_field("text"))?;
        }
        if let Some(zone) = &edit.zone {
            ScheduleZone::parse("tz", zone)?;
        }
        let mut change = RoutineChange {
            agent_id: edit.agent_id,
            template: edit.text.clone(),
            sources: edit.sources.clone().map(|fields| merged_sources(&routine.sources, fields)).transpose()?,
            deliveries: edited_deliveries(&routine, &edit)?,
            zone: edit.zone.clone(),
            schedule: None,
            enabled: edit.enabled,
        };
        let when = match (&edit.when, &edit.zone) {
            (Some(when), _) => Some(when.clone()),
            // A new zone moves the routine's own schedule with it.
            (None, Some(_)) => self.own_when(user, &routine).await?.map(Some),
            (None, None) => None,
        };
        if let Some(when) = when {
            change.schedule = Some(match when {
                None => None,
                Some(when) => {
                    let zone = edit.zone.clone().unwrap_or_else(|| routine.zone.clone());
                    let request = CreateSchedule::for_routine(&routine.name, when, zone);
                    Some(self.new_schedule(user, request).await?)
                }
            });
        }
        change.applied_to(&routine).validate()?;
        Ok(self.store.update_routine(user, id, change).await?)
    }

    /// The *when* of the routine's own schedule (the one of its name).
    async fn own_when(&self, user: UserId, routine: &Routine) -> Result<Option<String>, UseCaseError> {
        let schedules = self.store.list_schedules(user.into()).await?;
        Ok(schedules
            .iter()
            .find(|schedule| {
                schedule.target.fires_routine(&routine.name) && schedule.name.eq_ignore_ascii_case(&routine.name)
            })
            .map(|schedule| schedule.when.as_str().to_string()))
    }
}

/// The routine's sources with `fields` replaced; an unknown field or a
/// wrong type is refused naming `sources`.
fn merged_sources(sources: &RoutineSources, fields: Map<String, Value>) -> Result<RoutineSources, ValidationError> {
    let mut merged = match serde_json::to_value(sources) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    merged.extend(fields);
    let sources: RoutineSources = serde_json::from_value(Value::Object(merged))
        .map_err(|error| ValidationError::new("sources", error.to_string()))?;
    sources.validate()?;
    Ok(sources)
}

/// The destinations after the edit, or `None` when it leaves them.
fn edited_deliveries(routine: &Routine, edit: &EditRoutine) -> Result<Option<Vec<String>>, ValidationError> {
    if edit.deliver.is_none() && edit.add_deliver.is_empty() && edit.remove_deliver.is_empty() {
        return Ok(None);
    }
    let mut list = edit.deliver.clone().unwrap_or_else(|| routine.deliveries.clone());
    for (index, gone) in edit.remove_deliver.iter().enumerate() {
        let before = list.len();
        list.retain(|uri| {
            uri != gone && Destination::parse("deliver", uri).map(|shown| shown.redacted() != *gone).unwrap_or(true)
        });
        if list.len() == before {
            return Err(ValidationError::new(
                format!("remove_deliver[{index}]"),
                format!("routine {:?} does not deliver to {gone:?}", routine.name),
            ));
        }
    }
    for (index, uri) in edit.add_deliver.iter().enumerate() {
        Destination::parse(&format!("add_deliver[{index}]"), uri)?;
        if !list.contains(uri) {
            list.push(uri.clone());
        }
    }
    Ok(Some(list))
}
