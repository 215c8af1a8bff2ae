//! Actions: the action lifecycle, refused transitions, validation.

use steward_domain::{ActionMode, ActionPatch, ActionPriority, ActionState, AgentId, NewAction, NewAgent};
use steward_store::{ActionFilter, ConflictKind, EventQuery, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::USER;

async fn agent(t: &TestStore) -> AgentId {
    let agent = NewAgent { name: "Writer".into(), goal: "Publish a weekly newsletter".into(), ..NewAgent::default() };
    t.store.create_agent(USER, agent).await.unwrap().id
}

fn draft(agent_id: AgentId) -> NewAction {
    NewAction {
        agent_id,
        title: "Outline issue #1".into(),
        description: "Three sections, 600 words".into(),
        priority: ActionPriority::High,
        mode: ActionMode::Scheduled,
        scheduled_for: None,
    }
}

async fn walks_the_lifecycle(t: TestStore) {
    let store = t.store.as_ref();
    let agent_id = agent(&t).await;
    let action = store.create_action(USER, draft(agent_id)).await.unwrap();
    assert_eq!(action.state, ActionState::Draft);
    for to in [ActionState::Defined, ActionState::Scheduled, ActionState::InProgress, ActionState::Completed] {
        let moved = store.transition_action(USER, action.id, to, None).await.unwrap();
        assert_eq!(moved.state, to);
    }
    let events = store.list_events(USER, EventQuery::default()).await.unwrap();
    let transitions: Vec<(String, String)> = events
        .iter()
        .filter(|event| event.kind == "action.transitioned")
        .map(|event| (event.data["from"].as_str().unwrap().into(), event.data["to"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        transitions,
        [
            ("draft".to_string(), "defined".to_string()),
            ("defined".into(), "scheduled".into()),
            ("scheduled".into(), "in_progress".into()),
            ("in_progress".into(), "completed".into()),
        ]
    );
    let filter = ActionFilter { agent_id: Some(agent_id), states: vec![ActionState::Completed] };
    assert_eq!(store.list_actions(USER.into(), filter).await.unwrap().len(), 1);
}

async fn illegal_transitions_are_refused_and_change_nothing(t: TestStore) {
    let store = t.store.as_ref();
    let action = store.create_action(USER, draft(agent(&t).await)).await.unwrap();
    let events_before = store.list_events(USER, EventQuery::default()).await.unwrap().len();
    match store.transition_action(USER, action.id, ActionState::Completed, None).await.unwrap_err() {
        StoreError::Conflict { kind, field, message } => {
            assert_eq!(kind, ConflictKind::IllegalTransition);
            assert_eq!(field.as_deref(), Some("to"));
            assert!(message.contains("from draft it can become defined, dismissed"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.get_action(USER, action.id).await.unwrap().state, ActionState::Draft);
    assert_eq!(store.list_events(USER, EventQuery::default()).await.unwrap().len(), events_before);

    let dismissed =
        store.transition_action(USER, action.id, ActionState::Dismissed, Some("not needed".into())).await.unwrap();
    assert_eq!(dismissed.state_reason.as_deref(), Some("not needed"));
    let patch = ActionPatch { title: Some("New title".into()), ..ActionPatch::default() };
    assert!(matches!(
        store.update_action(USER, action.id, patch).await.unwrap_err(),
        StoreError::Conflict { kind: ConflictKind::IllegalTransition, .. }
    ));
}

async fn needs_a_live_agent_and_valid_fields(t: TestStore) {
    let store = t.store.as_ref();
    match store.create_action(USER, draft(AgentId(999))).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "agent_id"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let agent_id = agent(&t).await;
    let mut untitled = draft(agent_id);
    untitled.title = String::new();
    match store.create_action(USER, untitled).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "title"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    store.archive_agent(USER, agent_id).await.unwrap();
    assert!(matches!(
        store.create_action(USER, draft(agent_id)).await.unwrap_err(),
        StoreError::Conflict { kind: ConflictKind::Archived, .. }
    ));
    assert!(store.list_actions(USER.into(), ActionFilter::default()).await.unwrap().is_empty());
}

async fn updates_content(t: TestStore) {
    let store = t.store.as_ref();
    let action = store.create_action(USER, draft(agent(&t).await)).await.unwrap();
    let when = t.clock.as_ref().now_plus_hours(3);
    let patch = ActionPatch {
        description: Some("Four sections".into()),
        priority: Some(ActionPriority::Urgent),
        scheduled_for: Some(Some(when)),
        ..ActionPatch::default()
    };
    let updated = store.update_action(USER, action.id, patch).await.unwrap();
    assert_eq!(updated.description, "Four sections");
    assert_eq!(updated.priority, ActionPriority::Urgent);
    assert_eq!(updated.scheduled_for, Some(when));
    assert_eq!(updated.title, action.title);
}

trait ClockExt {
    fn now_plus_hours(&self, hours: i64) -> chrono::DateTime<chrono::Utc>;
}

impl ClockExt for steward_domain::ManualClock {
    fn now_plus_hours(&self, hours: i64) -> chrono::DateTime<chrono::Utc> {
        use steward_domain::Clock;
        self.now() + chrono::Duration::hours(hours)
    }
}

store_tests!(
    walks_the_lifecycle,
    illegal_transitions_are_refused_and_change_nothing,
    needs_a_live_agent_and_valid_fields,
    updates_content,
);
