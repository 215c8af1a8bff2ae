//! Approvals decided once for both databases: which runs may pause and
//! with which requests, what a person's decision records, and the events of
//! a pause and of the resume that follows the last decision. Each backend
//! stores the requests and decisions in its own dialect.

use steward_domain::event::RunQueuedFor;
use steward_domain::validation::{check_machine_name, check_text};
use steward_domain::{Approval, ApprovalStatus, Decision, JobId, NewApproval, NewEvent, Run, RunId, RunStatus};

use crate::StoreError;
use crate::runs::decide::{run_is_finished, run_is_not_running};

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

pub(crate) use crate::rules::approval_already_decided;

/// The reason recorded on approvals withdrawn because their run ended.
pub(crate) use steward_domain::event::WITHDRAWN_REASON;

/// Checks a run's pause for approvals: only a running run pauses, and the
/// requests must be well formed.
pub(crate) fn check_pause(run: &Run, requests: &[NewApproval]) -> Result<(), StoreError> {
    match run.status {
        RunStatus::Finished => return Err(run_is_finished(run.id, run.outcome)),
        RunStatus::Running => {}
        other => return Err(run_is_not_running(run.id, other)),
    }
    check_approval_requests(requests, run.steps)
}

/// The event of a new request of `run`.
pub(crate) fn requested_event(run: &Run, approval: &Approval) -> NewEvent {
    NewEvent::ApprovalRequested {
        approval: approval.id,
        run_id: run.id,
        agent_id: run.agent_id,
        tool: approval.tool.clone(),
        call_id: approval.call_id.clone(),
    }
}

/// The event of `run` waiting for `approvals`.
pub(crate) fn awaiting_event(run: &Run, approvals: &[Approval]) -> NewEvent {
    NewEvent::RunAwaitingApproval {
        run: run.id,
        agent_id: run.agent_id,
        approvals: approvals.iter().map(|approval| approval.id).collect(),
    }
}

/// The run a tool call's approval pauses (a gate's has none).
pub(crate) fn run_of(approval: &Approval) -> Result<RunId, StoreError> {
    approval.run_id.ok_or_else(|| {
        StoreError::Database(format!("stored approval {}: neither a run nor a project's gate", approval.id))
    })
}

/// A person's decision on a run's `approval`: refused unless it is
/// pending; else the status it takes and the event that records it.
pub(crate) fn decide_approval(
    approval: &Approval,
    decision: &Decision,
) -> Result<(ApprovalStatus, NewEvent), StoreError> {
    if approval.status != ApprovalStatus::Pending {
        return Err(approval_already_decided(approval.id, approval.status));
    }
    let status = if decision.approve { ApprovalStatus::Approved } else { ApprovalStatus::Rejected };
    let event = NewEvent::ApprovalDecided {
        approval: approval.id,
        run_id: run_of(approval)?,
        tool: approval.tool.clone(),
        status,
        reason: decision.reason.clone(),
    };
    Ok((status, event))
}

/// The event of `run` queued again with `job`, its `number`-th resume.
pub(crate) fn resumed_event(run: &Run, job: JobId, number: u32) -> NewEvent {
    NewEvent::RunQueued {
        run: run.id,
        agent_id: run.agent_id,
        action_id: run.action_id,
        job_id: job,
        queued: RunQueuedFor::Resume { number },
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use steward_domain::{AgentId, ApprovalId, UserId};

    use super::*;

    fn approval(status: ApprovalStatus) -> Approval {
        Approval {
            id: ApprovalId(11),
            user_id: UserId(1),
            run_id: Some(RunId(3)),
            agent_id: Some(AgentId(2)),
            step_sequence: Some(0),
            call_id: "call_1".into(),
            project_id: None,
            tool: "shell".into(),
            arguments: serde_json::Value::Object(serde_json::Map::new()),
            status,
            reason: None,
            created_at: Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap(),
            decided_at: None,
        }
    }

    #[test]
    fn a_decision_is_taken_once_and_records_its_status() {
        let rejection = Decision { approve: false, reason: Some("not now".into()) };
        let (status, event) = decide_approval(&approval(ApprovalStatus::Pending), &rejection).unwrap();
        assert_eq!(status, ApprovalStatus::Rejected);
        assert_eq!(
            event,
            NewEvent::ApprovalDecided {
                approval: ApprovalId(11),
                run_id: RunId(3),
                tool: "shell".into(),
                status: ApprovalStatus::Rejected,
                reason: Some("not now".into()),
            }
        );
        let Err(StoreError::Conflict { message, .. }) =
            decide_approval(&approval(ApprovalStatus::Withdrawn), &Decision { approve: true, reason: None })
        else {
            panic!("expected a conflict");
        };
        assert!(message.contains("withdrawn because its run ended"), "{message}");
    }
}
