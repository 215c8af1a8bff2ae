//! The guardian's records decided once for both databases: what a new
//! assessment must hold, its event, and which interventions a run's loop
//! takes at its next model call; what a person's decision on a duplicate
//! flag records.

use steward_domain::event::DuplicateAbout;
use steward_domain::oversight::duplicates::{Duplicate, DuplicateKind, DuplicateStatus};
use steward_domain::oversight::{Assessment, AssessmentStatus, Intervention, NewAssessment, Progress};
use steward_domain::validation::check_text;
use steward_domain::{ActionId, AssessmentId, NewEvent, Run, RunStatus};

use crate::runs::decide::run_is_finished;
use crate::{ConflictKind, Result, StoreError};

/// Checks an assessment before it is stored: a score in 0..=1, a model
/// named, texts within bounds, a run still working, and not assessed at
/// this progress already (`last_seen`: its latest assessment's) — on
/// PostgreSQL two nodes' guardians may look at one run at once, and only
/// the first look's intervention stands.
pub(crate) fn check_new(run: &Run, new: &NewAssessment, last_seen: Option<Progress>) -> Result<()> {
    if run.status == RunStatus::Finished {
        return Err(run_is_finished(run.id, run.outcome));
    }
    if last_seen == Some(new.progress) {
        return Err(StoreError::conflict(
            ConflictKind::Stale,
            None,
            format!("run {} was already assessed at step {}", run.id, new.progress.steps),
        ));
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

/// What a person applying `intervention` (pause or cancel) to one of the
/// run's assessments (`all`, oldest first) changes: which assessment —
/// `chosen`, else the latest one waiting for a person — and its new
/// intervention and status. A pause applies only a proposed pause (the run
/// then holds at its next model call, as for a pause the policy applies);
/// a cancel applies a pause or cancel not yet decided, and the caller
/// cancels the run.
pub(crate) fn person_applies(
    run: &Run,
    all: &[Assessment],
    chosen: Option<AssessmentId>,
    intervention: Intervention,
) -> Result<(AssessmentId, Intervention, AssessmentStatus)> {
    if run.status == RunStatus::Finished {
        return Err(run_is_finished(run.id, run.outcome));
    }
    if !matches!(intervention, Intervention::Pause | Intervention::Cancel) {
        return Err(StoreError::invalid(
            "intervention",
            format!("is {intervention}; a person applies a pause or a cancel"),
        ));
    }
    // Proposed, or a cancel for a person not yet delivered; a delivered hold
    // is decided on its approval.
    let waiting = |assessment: &&Assessment| {
        assessment.status == AssessmentStatus::Proposed
            || (assessment.needs_person && assessment.status == AssessmentStatus::Pending)
    };
    let target = match chosen {
        Some(id) => all
            .iter()
            .find(|assessment| assessment.id == id)
            .ok_or_else(|| StoreError::invalid("assessment", format!("run {} has no assessment {id}", run.id)))?,
        None => all.iter().rev().find(waiting).ok_or_else(|| {
            StoreError::conflict(
                ConflictKind::IllegalTransition,
                None,
                format!("the guardian proposes nothing for run {} that waits for a person", run.id),
            )
        })?,
    };
    let open =
        matches!(target.status, AssessmentStatus::Proposed | AssessmentStatus::Pending | AssessmentStatus::Delivered);
    let applies = match intervention {
        Intervention::Pause => {
            target.status == AssessmentStatus::Proposed && target.intervention == Intervention::Pause
        }
        _ => open && matches!(target.intervention, Intervention::Pause | Intervention::Cancel),
    };
    if !applies {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            None,
            format!(
                "assessment {} is a {} that is {}; a person can {intervention} only on a pause or cancel not yet \
                 decided (a pause only when proposed)",
                target.id, target.intervention, target.status
            ),
        ));
    }
    let status =
        if intervention == Intervention::Pause { AssessmentStatus::Pending } else { AssessmentStatus::Applied };
    Ok((target.id, intervention, status))
}

/// A person's decision on `duplicate`: keep `kept` (merge) or both (`None`).
/// Refused unless the flag is open, or when `kept` names neither item.
pub(crate) fn decide_duplicate(duplicate: &Duplicate, kept: Option<&str>) -> Result<DuplicateStatus> {
    if duplicate.status != DuplicateStatus::Open {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            None,
            format!("duplicate {} is already {}; a decision cannot be changed", duplicate.id, duplicate.status),
        ));
    }
    match kept {
        None => Ok(DuplicateStatus::KeptBoth),
        Some(kept) if kept == duplicate.first || kept == duplicate.second => Ok(DuplicateStatus::Merged),
        Some(kept) => Err(StoreError::invalid(
            "keep",
            format!("{kept:?} is neither {:?} nor {:?}", duplicate.first, duplicate.second),
        )),
    }
}

/// The event recording `duplicate` as it is now.
pub(crate) fn duplicate_event(duplicate: &Duplicate) -> NewEvent {
    let about = match (duplicate.kind, duplicate.project_id) {
        (DuplicateKind::Task, Some(project)) => DuplicateAbout::Project(project),
        _ => DuplicateAbout::Action(ActionId(duplicate.first.parse().unwrap_or(0))),
    };
    NewEvent::DuplicateChanged {
        duplicate: duplicate.id,
        about,
        kind: duplicate.kind,
        first: duplicate.first.clone(),
        second: duplicate.second.clone(),
        similarity: duplicate.similarity,
        status: duplicate.status,
        kept: duplicate.kept.clone(),
    }
}
