//! The guardian's records decided once for both databases: what a new
//! assessment must hold, its event, and which interventions a run's loop
//! takes at its next model call.

use steward_domain::oversight::{Assessment, AssessmentStatus, Intervention, NewAssessment};
use steward_domain::validation::check_text;
use steward_domain::{NewEvent, Run, RunStatus};

use crate::runs::decide::run_is_finished;
use crate::{Result, StoreError};

/// Checks an assessment before it is stored: a score in 0..=1, a model
/// named, texts within bounds, and a run still working.
pub(crate) fn check_new(run: &Run, new: &NewAssessment) -> Result<()> {
    if run.status == RunStatus::Finished {
        return Err(run_is_finished(run.id, run.outcome));
    }
    if !(0.0..=1.0).contains(&new.verdict.alignment) {
        return Err(StoreError::invalid(
            "alignment",
            format!("is {}; an alignment is a score from 0 to 1", new.verdict.alignment),
        ));
    }
    check_text("model", &new.model, 200)?;
    if new.verdict.drift_reason.chars().count() > 4000 {
        return Err(StoreError::invalid("drift_reason", "is longer than 4000 characters"));
    }
    if new.decision.message.chars().count() > 4000 {
        return Err(StoreError::invalid("message", "is longer than 4000 characters"));
    }
    Ok(())
}

/// The event recording `assessment`.
pub(crate) fn assessed_event(assessment: &Assessment) -> NewEvent {
    NewEvent::RunAssessed {
        run: assessment.run_id,
        agent_id: assessment.agent_id,
        assessment: assessment.id,
        alignment: assessment.alignment,
        intervention: assessment.intervention,
        status: assessment.status,
    }
}

/// Whether the run's loop takes `assessment` now: a pending intervention
/// (a steering message, a pause, a cancel waiting for a person).
pub(crate) fn deliverable(assessment: &Assessment) -> bool {
    assessment.status == AssessmentStatus::Pending && assessment.intervention != Intervention::Continue
}

/// Whether `assessment` was delivered to the run earlier.
pub(crate) fn delivered(assessment: &Assessment) -> bool {
    assessment.status == AssessmentStatus::Delivered && assessment.delivered_before_step.is_some()
}
