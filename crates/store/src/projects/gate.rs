//! The rules of phase gates in the approvals inbox, written once for both
//! databases: the approval a document waiting at a manual gate gets, what a
//! gate decision records on it, and what a decision in the inbox means for
//! the document (only the revision the approval names may be decided).
//!
//! The approval row and the document's status change in one transaction,
//! both when a document is proposed and when it is decided, so a process
//! that dies between them leaves either both or neither on disk: never a
//! pending approval for a decided document, nor a waiting document without
//! its approval.

use steward_domain::project::gate::{self, GateApproval};
use steward_domain::project::{DocumentStatus, GateDecision, Phase, Project, StoredDocument};
use steward_domain::{Approval, ApprovalId, ApprovalStatus, Decision, NewEvent, ValidationError};

use crate::rules::approval_already_decided;
use crate::{ConflictKind, StoreError};

/// The approval a document waiting at `project`'s gate asks for: `phase`'s
/// revision `version`, with the light path's three when `together`.
pub(crate) fn request(project: &Project, phase: Phase, version: u32, together: bool) -> GateApproval {
    let phases = if together { steward_domain::project::quick::QUICK_PHASES.to_vec() } else { vec![phase] };
    GateApproval { project_id: project.id, title: project.title.clone(), phase, version, phases }
}

pub(crate) fn requested_event(approval: ApprovalId, project: &Project, gate: &GateApproval) -> NewEvent {
    NewEvent::GateApprovalRequested {
        approval,
        project: project.id,
        agent_id: project.agent_id,
        phase: gate.phase,
        version: gate.version,
    }
}

/// What a gate decision records on the pending approval: its status, and
/// the reason kept (a rejection's comment, else what the person said when
/// approving in the inbox). The decision is checked first.
pub(crate) fn resolution(
    decision: &GateDecision,
    approve_reason: Option<&str>,
) -> Result<(ApprovalStatus, Option<String>), StoreError> {
    decision.validate()?;
    Ok(match decision {
        GateDecision::Approve => (ApprovalStatus::Approved, approve_reason.map(str::to_string)),
        GateDecision::Reject { comment } => (ApprovalStatus::Rejected, Some(comment.trim().to_string())),
    })
}

pub(crate) fn decided_event(
    approval: ApprovalId,
    waiting: &StoredDocument,
    status: ApprovalStatus,
    reason: Option<String>,
) -> NewEvent {
    NewEvent::GateApprovalDecided {
        approval,
        project: waiting.project_id,
        phase: waiting.phase,
        version: waiting.version,
        status,
        reason,
    }
}

/// A person's decision in the inbox on a gate's `approval`: refused unless
/// it is pending and the revision it names still waits at the project's
/// gate; else the gate decision it makes (a rejection's reason is the
/// comment the revision must address).
pub(crate) fn inbox_decision(
    approval: &Approval,
    project: &Project,
    documents: &[StoredDocument],
    decision: &Decision,
) -> Result<GateDecision, StoreError> {
    if approval.status != ApprovalStatus::Pending {
        return Err(approval_already_decided(approval.id, approval.status));
    }
    let (phase, version) = GateApproval::revision(&approval.arguments)
        .map_err(|error| StoreError::Database(format!("stored approval {}: {error}", approval.id)))?;
    let waiting = documents.iter().find(|d| d.phase == project.phase && d.status == DocumentStatus::Proposed);
    if !gate::decides_waiting(phase, version, waiting) {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            None,
            format!(
                "approval {} is for version {version} of project {}'s {phase} document, which no longer waits at \
                 its gate; decide what waits now",
                approval.id, project.id
            ),
        ));
    }
    if decision.approve {
        return Ok(GateDecision::Approve);
    }
    match decision.reason.as_deref().map(str::trim) {
        Some(comment) if !comment.is_empty() => Ok(GateDecision::Reject { comment: comment.to_string() }),
        _ => Err(ValidationError::new("reason", "must not be empty: say what the revision must change").into()),
    }
}
