//! Memory's part of `steward serve`: the schedule that runs consolidation
//! (`memory.consolidate` jobs) when an extraction model is configured.

use anyhow::Context;
use steward_domain::UserId;
use steward_domain::schedule::{NewSchedule, SchedulePolicies, ScheduleTarget, ScheduleZone, When};
use steward_store::{Store, StoreError};

/// The schedule's name; a person may pause it, or change it in the config.
pub const CONSOLIDATION_SCHEDULE: &str = "memory consolidation";

/// Creates the consolidation schedule once, firing at `when` (`[memory]
/// consolidation`; `"off"` creates none). An existing schedule of that name
/// is left as it is, so pausing it in the dashboard sticks.
pub async fn ensure_consolidation_schedule(when: &str, store: &dyn Store) -> anyhow::Result<()> {
    let user = UserId::LOCAL_OWNER;
    if when.trim().eq_ignore_ascii_case("off") {
        return Ok(());
    }
    match store.find_schedule(user, CONSOLIDATION_SCHEDULE).await {
        Ok(_) => return Ok(()),
        Err(StoreError::NotFound { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    let when = When::parse(when).map_err(|error| anyhow::anyhow!("[memory] consolidation: {error}"))?;
    let schedule = NewSchedule {
        user_id: user,
        name: CONSOLIDATION_SCHEDULE.into(),
        when,
        zone: ScheduleZone::UTC,
        target: ScheduleTarget::Job {
            job_kind: steward_runtime::memory::CONSOLIDATE_JOB_KIND.into(),
            payload: serde_json::json!({}),
        },
        policies: SchedulePolicies::default(),
        precondition: None,
    };
    match store.create_schedule(schedule).await {
        // Another node created it meanwhile.
        Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(error) => Err(error).context("cannot create the memory consolidation schedule"),
    }
}
