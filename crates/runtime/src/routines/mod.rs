//! Routines at work: a fire reads the routine's context sources
//! ([`context`]), renders its prompt ([`template`]), and records the fire
//! with its run and one delivery per destination in one store transaction
//! (`steward_store::RoutineStore::record_fire`). The `routine.run` job kind
//! ([`handler`]) fires routines for the scheduler and for routines that
//! follow another's completion. Built-in templates are in [`templates`].
//! A routine with a `repo` source ([`living_docs`]) has its run's answer
//! folded into the repository's document by a job after the run.
//!
//! A fire's inputs are stored, so `replay` renders the routine's template
//! again from what the fire saw, delivering only when asked and never
//! resending what was sent unless `resend` says so.

pub mod context;
pub mod handler;
pub mod living_docs;
pub mod template;
pub mod templates;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward_domain::routine::{FireInputs, FireTrigger, NewFire, Routine, parse_destinations};
use steward_domain::{FireId, NewRun, RunLimits, UserId};
use steward_store::{FireRecord, Store};

pub use self::handler::{RoutineHandler, RoutineLabels};
use crate::calendar::CalendarSource;
use crate::clock::SharedClock;
use crate::living_docs::sync::PreparedSync;
use crate::use_case_error::UseCaseError;

/// How a routine is fired.
#[derive(Clone, Debug, PartialEq)]
pub struct FireRequest {
    pub trigger: FireTrigger,
    /// A second fire with the same key is the first.
    pub key: Option<String>,
    /// The moment the fire stands for (a schedule's slot); the clock's now otherwise.
    pub at: Option<DateTime<Utc>>,
    /// Text given with the trigger, the template's `input`.
    pub input: Option<Value>,
}

impl FireRequest {
    pub fn new(trigger: FireTrigger) -> Self {
        FireRequest { trigger, key: None, at: None, input: None }
    }
}

/// What a dry run would do.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub inputs: FireInputs,
    pub prompt: String,
    /// Where it would deliver (secret URLs masked).
    pub destinations: Vec<String>,
}

/// Firing routines: the store, the calendar reader and the clock.
pub struct Routines {
    store: Arc<dyn Store>,
    calendar: Option<Arc<CalendarSource>>,
    clock: SharedClock,
}

impl Routines {
    pub fn new(store: Arc<dyn Store>, calendar: Option<Arc<CalendarSource>>, clock: SharedClock) -> Self {
        Routines { store, calendar, clock }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Reads the sources and renders the prompt, sending nothing.
    pub async fn preview(
        &self,
        user: UserId,
        routine: &Routine,
        request: &FireRequest,
    ) -> Result<Preview, UseCaseError> {
        let reader = context::ContextReader { store: self.store.as_ref(), calendar: self.calendar.as_deref() };
        let at = request.at.unwrap_or_else(|| self.clock.now());
        let inputs = reader.inputs(user, routine, at, request.input.clone()).await;
        let prompt = template::render(&routine.template, &inputs).map_err(|error| error.of_field("template"))?;
        let destinations = routine.destinations()?.iter().map(|destination| destination.redacted()).collect();
        Ok(Preview { inputs, prompt, destinations })
    }

    /// Fires: reads, renders, and records the fire with its run and
    /// deliveries. A key already recorded returns that fire.
    pub async fn fire(
        &self,
        user: UserId,
        routine: &Routine,
        request: FireRequest,
    ) -> Result<FireRecord, UseCaseError> {
        if let Some(key) = &request.key
            && let Some(fire) = self.fired_with(user, routine, key).await?
        {
            return Ok(fire);
        }
        let preview = self.preview(user, routine, &request).await?;
        let prepared = living_docs::prepared(routine, &preview.inputs)?;
        let new = NewFire {
            routine_id: routine.id,
            trigger: request.trigger,
            fire_key: request.key,
            replay_of: None,
            inputs: preview.inputs,
            prompt: preview.prompt.clone(),
            run: run_of(routine, preview.prompt),
            destinations: routine.destinations()?,
            deliveries_of: None,
        };
        self.record(user, routine, new, prepared).await
    }

    /// Fires again from a past fire's stored inputs with the routine's
    /// current template. Delivers only when `deliver`; keyed by the past
    /// fire, so what it sent is not sent again unless `resend`.
    pub async fn replay(
        &self,
        user: UserId,
        id: FireId,
        deliver: bool,
        resend: bool,
    ) -> Result<FireRecord, UseCaseError> {
        let past = self.store.get_fire(user, id).await?;
        let routine = self.store.get_routine(user, past.routine_id).await?;
        let prompt = template::render(&routine.template, &past.inputs).map_err(|error| error.of_field("template"))?;
        let prepared = living_docs::prepared(&routine, &past.inputs)?;
        let new = NewFire {
            routine_id: routine.id,
            trigger: FireTrigger::Replay,
            fire_key: None,
            replay_of: Some(past.id),
            inputs: past.inputs,
            prompt: prompt.clone(),
            run: run_of(&routine, prompt),
            destinations: if deliver { routine.destinations()? } else { Vec::new() },
            deliveries_of: (!resend).then_some(past.id),
        };
        self.record(user, &routine, new, prepared).await
    }

    async fn fired_with(&self, user: UserId, routine: &Routine, key: &str) -> Result<Option<FireRecord>, UseCaseError> {
        // Cheap check before the sources are read; the store decides for good.
        let fires = self.store.list_fires(user, routine.id, 50).await?;
        match fires.into_iter().find(|fire| fire.fire_key.as_deref() == Some(key)) {
            Some(fire) => {
                let run = match fire.run_id {
                    Some(id) => Some(self.store.get_run(user, id).await?),
                    None => None,
                };
                let filter = steward_store::DeliveryFilter { fire_id: Some(fire.id), ..Default::default() };
                let deliveries = self.store.list_deliveries(user.into(), filter).await?;
                Ok(Some(FireRecord { fire, run, deliveries, created: false }))
            }
            None => Ok(None),
        }
    }

    async fn record(
        &self,
        user: UserId,
        routine: &Routine,
        new: NewFire,
        prepared: Option<PreparedSync>,
    ) -> Result<FireRecord, UseCaseError> {
        let record = self.store.record_fire(user, new).await?;
        if record.created {
            if let (Some(prepared), Some(run)) = (prepared, &record.run) {
                // Keyed by run and job: a second enqueue is the first.
                let fold = living_docs::fold(routine, prepared, run.id, run.job_id);
                self.store.enqueue(user, vec![fold]).await?;
            }
            handler::enqueue_followers(self.store.as_ref(), user, routine, &record).await?;
        }
        Ok(record)
    }
}

/// The run a fire starts: the routine's agent, told the prompt.
fn run_of(routine: &Routine, prompt: String) -> NewRun {
    NewRun {
        agent_id: routine.agent_id,
        action_id: None,
        instruction: prompt,
        limits: RunLimits::default(),
        run_at: None,
    }
}

/// Checks a routine's template and destinations before it is stored.
pub fn check_routine(template: &str, deliveries: &[String]) -> Result<(), UseCaseError> {
    template::check(template).map_err(|error| error.of_field("template"))?;
    parse_destinations(deliveries)?;
    Ok(())
}
