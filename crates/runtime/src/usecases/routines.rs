//! Routines as people ask for them: add one (from a built-in template or
//! a template text, with its schedule when it has a *when*), remove one
//! (with the schedules that fire it). Firing, dry runs and replays are
//! `crate::routines::Routines`'.

use steward_domain::routine::{NewRoutine, RepoSource, Routine, RoutineSources};
use steward_domain::schedule::{Schedule, When};
use steward_domain::{AgentId, UserId, ValidationError};

use super::{CreateSchedule, UseCaseError, UseCases};
use crate::routines::check_routine;
use crate::routines::templates::{BUILTINS, builtin};

/// A routine as typed: a built-in template or a text (or both: the text
/// replaces the built-in's), and what to read and where to deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct AddRoutine {
    pub name: String,
    pub agent_id: AgentId,
    /// A built-in template's name (`morning-plan`).
    pub template: Option<String>,
    /// The template's text.
    pub text: Option<String>,
    pub calendars: Vec<String>,
    pub priorities: Option<String>,
    /// Routines whose latest output is read; the built-in's by default.
    pub outputs: Option<Vec<String>>,
    pub deliver: Vec<String>,
    /// An IANA zone; UTC by default.
    pub zone: Option<String>,
    /// When it fires; the built-in's *when* by default.
    pub when: Option<String>,
    /// Add no schedule, even when the built-in has one.
    pub manual: bool,
    /// Fires when this routine's run completes.
    pub after: Option<String>,
    /// The git repository (and document) a `living-docs` routine keeps current.
    pub repo: Option<RepoSource>,
}

/// An added routine and the schedule that fires it.
#[derive(Clone, Debug, PartialEq)]
pub struct AddedRoutine {
    pub routine: Routine,
    pub schedule: Option<Schedule>,
}

impl UseCases {
    /// Adds a routine, and a schedule of the same name when it has a *when*.
    pub async fn add_routine(&self, user: UserId, request: AddRoutine) -> Result<AddedRoutine, UseCaseError> {
        let base = match &request.template {
            Some(name) => Some(builtin(name).ok_or_else(|| {
                let names: Vec<&str> = BUILTINS.iter().map(|template| template.name).collect();
                ValidationError::new(
                    "template",
                    format!("unknown template {name:?}; the built-in ones are {}", names.join(", ")),
                )
            })?),
            None => None,
        };
        let text = match (&request.text, base) {
            (Some(text), _) => text.clone(),
            (None, Some(base)) => base.text.to_string(),
            (None, None) => {
                return Err(ValidationError::new("template", "name a built-in template or give its text").into());
            }
        };
        let mut sources = match base {
            Some(base) => base.sources(request.calendars.clone(), request.priorities.clone(), request.repo.clone())?,
            None => RoutineSources {
                calendars: request.calendars.clone(),
                priorities: request.priorities.clone(),
                actions: true,
                repo: request.repo.clone(),
                ..RoutineSources::default()
            },
        };
        if let Some(outputs) = &request.outputs {
            sources.outputs = outputs.clone();
        }
        let when =
            if request.manual { None } else { request.when.clone().or(base.and_then(|b| b.when).map(str::to_string)) };
        if let Some(when) = &when {
            When::parse(when)?;
        }
        check_routine(&text, &request.deliver)?;
        let zone = request.zone.clone().unwrap_or_else(|| "UTC".to_string());
        let new = NewRoutine {
            name: request.name.clone(),
            agent_id: request.agent_id,
            template: text,
            sources,
            deliveries: request.deliver.clone(),
            zone: zone.clone(),
            after: request.after.clone(),
        };
        new.validate()?;
        let routine = self.store.create_routine(user, new).await?;
        let Some(when) = when else { return Ok(AddedRoutine { routine, schedule: None }) };
        let schedule = CreateSchedule::for_routine(&routine.name, when, zone);
        match self.create_schedule(user, schedule).await {
            Ok(schedule) => Ok(AddedRoutine { routine, schedule: Some(schedule) }),
            Err(error) => {
                // The routine without its schedule is not what was asked for.
                self.store.delete_routine(user, routine.id).await?;
                Err(error)
            }
        }
    }

    /// Removes a routine and the schedules that fire it.
    pub async fn remove_routine(&self, user: UserId, name: &str) -> Result<Routine, UseCaseError> {
        let routine = self.store.find_routine(user, name).await?;
        for schedule in self.store.list_schedules(user.into()).await? {
            if schedule.target.fires_routine(&routine.name) {
                self.store.delete_schedule(user, schedule.id).await?;
            }
        }
        Ok(self.store.delete_routine(user, routine.id).await?)
    }
}
