//! Phase gates in the approvals inbox: a document waiting at a manual gate
//! is a pending `project.gate` approval with no run, naming the project,
//! its title, the phase and the revision; rejecting it there sends the
//! document back with the reason as the comment, approving it moves the
//! project on; `decide_document` (what `project approve|reject` calls)
//! resolves the approval too, so a late decision on it is refused and an
//! approval never decides a newer revision. Automatic gates ask no one.

use serde_json::json;
use steward_domain::project::gate::GATE_TOOL;
use steward_domain::project::{
    DocumentStatus, Gate, GateDecision, NewProject, Phase, PhaseDocument, PhaseGates, TaskSpec, TasksDocument,
};
use steward_domain::{Approval, ApprovalStatus, Decision, EventSubject, ProjectId};
use steward_store::{ApprovalFilter, Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, event_kinds};
use crate::project_documents::{design, requirements};

fn tasks() -> PhaseDocument {
    let task = TaskSpec {
        id: "T001".into(),
        title: "Write it".into(),
        requirements: vec!["R1.1".into()],
        done_when: "the tests pass".into(),
        ..TaskSpec::default()
    };
    PhaseDocument::Tasks(TasksDocument { title: "Todo".into(), tasks: vec![task], ..TasksDocument::default() })
}

async fn gate_approvals(store: &dyn Store, project: ProjectId, statuses: Vec<ApprovalStatus>) -> Vec<Approval> {
    let filter = ApprovalFilter { run_id: None, statuses };
    let all = store.list_approvals(USER.into(), filter).await.unwrap();
    all.into_iter().filter(|approval| approval.project_id == Some(project)).collect()
}

async fn the_one_pending(store: &dyn Store, project: ProjectId) -> Approval {
    let pending = gate_approvals(store, project, vec![ApprovalStatus::Pending]).await;
    assert_eq!(pending.len(), 1, "one gate waits: {pending:?}");
    pending.into_iter().next().unwrap()
}

fn rejection(reason: &str) -> Decision {
    Decision { approve: false, reason: Some(reason.into()) }
}

fn conflict_message(error: StoreError) -> String {
    match error {
        StoreError::Conflict { message, .. } => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn a_manual_gate_waits_in_the_inbox_and_is_decided_there(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let gates = PhaseGates { tasks: Gate::Automatic, ..PhaseGates::default() };
    let created = store.create_project(USER, NewProject { gates, ..NewProject::from_brief("Todo", "A list") }).await;
    let project = created.unwrap().project.id;
    assert!(gate_approvals(store, project, Vec::new()).await.is_empty(), "nothing waits before a document");

    store.propose_document(USER, project, requirements("it keeps items")).await.unwrap();
    let first = the_one_pending(store, project).await;
    assert_eq!((first.tool.as_str(), first.call_id.as_str()), (GATE_TOOL, "requirements-v1"));
    assert_eq!((first.run_id, first.agent_id, first.step_sequence), (None, None, None), "no run waits on a gate");
    assert_eq!(
        first.arguments,
        json!({"project_id": project, "title": "Todo", "phase": "requirements", "version": 1,
               "phases": ["requirements"]})
    );
    assert_eq!(store.get_approval(USER, first.id).await.unwrap(), first);

    // Sent back from the inbox: the reason is the comment the revision must address.
    let decided = store.decide_approval(USER, first.id, rejection("say WHEN, in EARS")).await.unwrap();
    assert_eq!((decided.status, decided.reason.as_deref()), (ApprovalStatus::Rejected, Some("say WHEN, in EARS")));
    let record = store.get_project(USER, project).await.unwrap();
    assert_eq!(record.project.phase, Phase::Requirements);
    assert_eq!(record.documents[0].status, DocumentStatus::Rejected);
    assert_eq!(record.documents[0].comment.as_deref(), Some("say WHEN, in EARS"));
    let again = store.decide_approval(USER, first.id, Decision { approve: true, reason: None }).await.unwrap_err();
    assert!(conflict_message(again).contains("already rejected"));

    // The revision gets its own approval; a rejection without a reason is refused.
    store
        .propose_document(USER, project, requirements("WHEN an item is added THE SYSTEM SHALL keep it"))
        .await
        .unwrap();
    let second = the_one_pending(store, project).await;
    assert_ne!(second.id, first.id);
    assert_eq!((second.call_id.as_str(), &second.arguments["version"]), ("requirements-v2", &json!(2)));
    let blank = store.decide_approval(USER, second.id, Decision { approve: false, reason: None }).await.unwrap_err();
    assert!(matches!(blank, StoreError::Invalid(ref error) if error.field == "reason"), "{blank:?}");
    let late = store.decide_approval(USER, first.id, Decision { approve: true, reason: None }).await;
    assert!(late.is_err(), "the first revision's approval cannot let the second through");
    assert_eq!(store.get_project(USER, project).await.unwrap().project.phase, Phase::Requirements);

    // Approved from the inbox: the project moves on, as `project approve` moves it.
    let approval = Decision { approve: true, reason: Some("clear now".into()) };
    let approved = store.decide_approval(USER, second.id, approval).await.unwrap();
    assert_eq!((approved.status, approved.reason.as_deref()), (ApprovalStatus::Approved, Some("clear now")));
    let record = store.get_project(USER, project).await.unwrap();
    assert_eq!(record.project.phase, Phase::Design);
    assert_eq!(record.documents[1].status, DocumentStatus::Approved);

    // Decided with `project approve`: the inbox's approval is resolved with it.
    store.propose_document(USER, project, design()).await.unwrap();
    let design_gate = the_one_pending(store, project).await;
    assert_eq!(design_gate.call_id, "design-v1");
    store.decide_document(USER, project, GateDecision::Approve).await.unwrap();
    let resolved = store.get_approval(USER, design_gate.id).await.unwrap();
    assert_eq!((resolved.status, resolved.decided_at.is_some()), (ApprovalStatus::Approved, true));
    let stale = store.decide_approval(USER, design_gate.id, rejection("too late")).await.unwrap_err();
    assert!(conflict_message(stale).contains("already approved"));

    // The tasks gate is automatic: the document passes and no one is asked.
    let executing = store.propose_document(USER, project, tasks()).await.unwrap();
    assert_eq!(executing.project.phase, Phase::Execution);
    assert_eq!(gate_approvals(store, project, Vec::new()).await.len(), 3, "two requirements gates and the design's");
    assert!(gate_approvals(store, project, vec![ApprovalStatus::Pending]).await.is_empty());

    let kinds = event_kinds(store, EventSubject::Approval, second.id.get()).await;
    assert_eq!(kinds, ["approval.requested", "approval.decided"]);
}

async fn a_gate_sent_back_with_project_reject_keeps_the_comment_on_its_approval(t: TestStore) {
    let store: &dyn Store = t.store.as_ref();
    let project = store.create_project(USER, NewProject::from_brief("Todo", "A list")).await.unwrap().project.id;
    store.propose_document(USER, project, requirements("it keeps items")).await.unwrap();
    let waiting = the_one_pending(store, project).await;
    let comment = GateDecision::Reject { comment: "  name the file  ".into() };
    store.decide_document(USER, project, comment).await.unwrap();
    let resolved = store.get_approval(USER, waiting.id).await.unwrap();
    assert_eq!((resolved.status, resolved.reason.as_deref()), (ApprovalStatus::Rejected, Some("name the file")));
    assert!(gate_approvals(store, project, vec![ApprovalStatus::Pending]).await.is_empty(), "no stale item");
    // A refused decision leaves the approval as it was.
    store.propose_document(USER, project, requirements("WHEN x THE SYSTEM SHALL y")).await.unwrap();
    let next = the_one_pending(store, project).await;
    let empty = store.decide_document(USER, project, GateDecision::Reject { comment: " ".into() }).await;
    assert!(empty.is_err());
    assert_eq!(store.get_approval(USER, next.id).await.unwrap().status, ApprovalStatus::Pending);
}

store_tests!(
    a_manual_gate_waits_in_the_inbox_and_is_decided_there,
    a_gate_sent_back_with_project_reject_keeps_the_comment_on_its_approval,
);
