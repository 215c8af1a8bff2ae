//! The `routine.run` job kind, and routines that follow another's
//! completion. The scheduler enqueues `{"routine", "schedule", "slot"}`
//! (keyed by schedule and slot, so a slot fires the routine once; the fire
//! reads the slot's day). A fire of a routine that others follow enqueues
//! `{"routine", "after_fire"}` for each, depending on its run's job; when
//! that job is done the follower fires if the run completed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::DateTime;
use serde_json::{Value, json};
use steward_domain::delivery::Delivery;
use steward_domain::routine::{FireTrigger, Routine};
use steward_domain::schedule::spec::ROUTINE_JOB_KIND;
use steward_domain::{FireId, JobRef, NewJob, RunOutcome, RunStatus, UserId};
use steward_store::{FireRecord, Store, StoreError};

use super::{FireRequest, Routines};
use crate::deliveries::DeliveryLabels;
use crate::handlers::{JobContext, JobError, JobHandler};
use crate::use_case_error::UseCaseError;

/// How long a follower waits when the run it follows paused for approval.
const RUN_NOT_FINISHED_WAIT: Duration = Duration::from_secs(60);

/// The `routine.run` job kind.
pub struct RoutineHandler {
    routines: Arc<Routines>,
}

impl RoutineHandler {
    pub fn new(routines: Arc<Routines>) -> Self {
        RoutineHandler { routines }
    }
}

fn job_error(error: UseCaseError) -> JobError {
    match error {
        UseCaseError::Store(StoreError::Database(message)) => JobError::retryable(message),
        UseCaseError::Store(StoreError::Closed) => JobError::retryable("the store is closed"),
        other => JobError::permanent(other.to_string()),
    }
}

fn fired(record: &FireRecord) -> Value {
    json!({
        "fire": record.fire.id, "run_id": record.run.as_ref().map(|run| run.id),
        "deliveries": record.deliveries.len(), "repeat": !record.created,
    })
}

#[async_trait]
impl JobHandler for RoutineHandler {
    async fn run(&self, context: JobContext) -> Result<Value, JobError> {
        let job = &context.job;
        let payload = &job.payload;
        let name = payload["routine"]
            .as_str()
            .ok_or_else(|| JobError::permanent("the payload names no routine (`{\"routine\": NAME, …}`)"))?;
        let store = self.routines.store();
        let routine = store.find_routine(job.user_id, name).await.map_err(|error| job_error(error.into()))?;
        let request = if let Some(after) = payload["after_fire"].as_i64() {
            match self.follow(job.user_id, FireId(after)).await? {
                Some(request) => request,
                None => return Ok(json!({ "skipped": format!("fire {after} did not complete") })),
            }
        } else {
            let slot = payload["slot"].as_str().ok_or_else(|| JobError::permanent("the payload has no `slot`"))?;
            let at = DateTime::parse_from_rfc3339(slot)
                .map_err(|error| JobError::permanent(format!("slot: {error}")))?
                .to_utc();
            let schedule = payload["schedule"].as_str().unwrap_or("?");
            FireRequest {
                trigger: FireTrigger::Schedule,
                key: Some(format!("schedule:{schedule}:{slot}")),
                at: Some(at),
                input: None,
            }
        };
        let record = match self.routines.fire(job.user_id, &routine, request).await {
            Ok(record) => record,
            // A living-docs routine with no new commits has nothing to do.
            Err(UseCaseError::Invalid(refused))
                if refused.field == super::living_docs::SOURCE
                    && refused.message.contains(super::living_docs::UP_TO_DATE) =>
            {
                return Ok(json!({ "skipped": refused.message }));
            }
            Err(error) => return Err(job_error(error)),
        };
        Ok(fired(&record))
    }
}

impl RoutineHandler {
    /// The follower's fire, once the followed fire's run completed; `None`
    /// when it ended otherwise.
    async fn follow(&self, user: UserId, after: FireId) -> Result<Option<FireRequest>, JobError> {
        let store = self.routines.store();
        let fire = store.get_fire(user, after).await.map_err(|error| job_error(error.into()))?;
        let Some(run_id) = fire.run_id else { return Ok(None) };
        let run = store.get_run(user, run_id).await.map_err(|error| job_error(error.into()))?;
        if run.status != RunStatus::Finished {
            return Err(JobError::Retryable {
                message: format!("run {run_id} has not finished"),
                retry_after: Some(RUN_NOT_FINISHED_WAIT),
            });
        }
        if run.outcome != Some(RunOutcome::Completed) {
            return Ok(None);
        }
        let followed = store.get_routine(user, fire.routine_id).await.map_err(|error| job_error(error.into()))?;
        Ok(Some(FireRequest {
            trigger: FireTrigger::Routine,
            key: Some(format!("after:{after}")),
            at: None,
            input: Some(json!({ "routine": followed.name, "fire": after, "output": run.output })),
        }))
    }
}

/// Enqueues a `routine.run` job for each routine that follows `routine`,
/// after the fire's run.
pub(crate) async fn enqueue_followers(
    store: &dyn Store,
    user: UserId,
    routine: &Routine,
    record: &FireRecord,
) -> Result<(), UseCaseError> {
    let followers: Vec<Routine> = store
        .list_routines(user.into())
        .await?
        .into_iter()
        .filter(|other| other.after.as_deref().is_some_and(|after| after.eq_ignore_ascii_case(&routine.name)))
        .collect();
    let Some(run_job) = record.run.as_ref().and_then(|run| run.job_id) else { return Ok(()) };
    if followers.is_empty() {
        return Ok(());
    }
    let jobs = followers
        .iter()
        .map(|follower| {
            NewJob::new(ROUTINE_JOB_KIND, json!({ "routine": follower.name, "after_fire": record.fire.id }))
                .with_key(format!("routine-after:{}:{}", record.fire.id, follower.id))
                .depending_on(JobRef::Id(run_job))
        })
        .collect();
    store.enqueue(user, jobs).await?;
    Ok(())
}

/// Names a routine's deliveries after the routine.
pub struct RoutineLabels {
    pub store: Arc<dyn Store>,
}

#[async_trait]
impl DeliveryLabels for RoutineLabels {
    async fn label(&self, delivery: &Delivery) -> String {
        let fallback = format!("run {}", delivery.run_id);
        let Some(fire) = delivery.fire_id else { return fallback };
        let Ok(fire) = self.store.get_fire(delivery.user_id, fire).await else { return fallback };
        match self.store.get_routine(delivery.user_id, fire.routine_id).await {
            Ok(routine) => routine.name,
            Err(_) => fallback,
        }
    }
}
