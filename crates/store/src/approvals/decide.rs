//! The rules of approvals, written once for both databases: which requests
//! a pause may make, and the refusal of a second decision.

use steward_domain::validation::{check_machine_name, check_text};
use steward_domain::{ApprovalId, ApprovalStatus, NewApproval};

use crate::{ConflictKind, StoreError};

/// Checks a pause for approvals: at least one request, each naming a
/// stored step, a call id and a tool, no call twice.
pub(crate) fn check_approval_requests(requests: &[NewApproval], stored_steps: u32) -> Result<(), StoreError> {
    if requests.is_empty() {
        return Err(StoreError::invalid("requests", "must contain at least one tool call to approve"));
    }
    for (index, request) in requests.iter().enumerate() {
        let field = |name: &str| format!("requests[{index}].{name}");
        if request.step_sequence >= stored_steps {
            return Err(StoreError::invalid(
                field("step_sequence"),
                format!(
                    "is {}, but the run has {stored_steps} steps; name the stored model call",
                    request.step_sequence
                ),
            ));
        }
        check_text(&field("call_id"), &request.call_id, 200)?;
        check_machine_name(&field("tool"), &request.tool)?;
        let twice = requests[..index]
            .iter()
            .any(|other| other.step_sequence == request.step_sequence && other.call_id == request.call_id);
        if twice {
            return Err(StoreError::invalid(field("call_id"), format!("{:?} is requested twice", request.call_id)));
        }
    }
    Ok(())
}

pub(crate) fn approval_already_decided(id: ApprovalId, status: ApprovalStatus) -> StoreError {
    let message = match status {
        ApprovalStatus::Withdrawn => format!("approval {id} was withdrawn because its run ended; nothing waits for it"),
        other => format!("approval {id} was already {other}; a decision cannot be changed"),
    };
    StoreError::conflict(ConflictKind::IllegalTransition, None, message)
}

/// The reason recorded on approvals withdrawn because their run ended.
pub(crate) use steward_domain::event::WITHDRAWN_REASON;
