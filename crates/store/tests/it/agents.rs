//! Agents: create, read, update, archive, uniqueness, validation, scoping.

use steward_domain::{AgentId, AgentPatch, AgentStatus, Budget, NewAgent, RunLimits, UserId};
use steward_store::{AgentFilter, ConflictKind, EventQuery, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::USER;

fn launch() -> NewAgent {
    NewAgent {
        name: "Launch".into(),
        goal: "Ship the beta to 100 users".into(),
        success_criteria: vec!["100 weekly users".into(), "NPS above 40".into()],
        timeline: Some("by the end of March".into()),
        model: Some("anthropic/claude-sonnet-4-5".into()),
        instructions: "Be concise.".into(),
        ..NewAgent::default()
    }
}

async fn create_read_update_archive(t: TestStore) {
    let store = t.store.as_ref();
    let agent = store.create_agent(USER, launch()).await.unwrap();
    assert_eq!(agent.status, AgentStatus::Active);
    assert_eq!(agent.success_criteria, ["100 weekly users", "NPS above 40"]);
    assert_eq!(store.get_agent(USER, agent.id).await.unwrap(), agent);
    assert_eq!(store.find_agent_by_name(USER, "Launch").await.unwrap().id, agent.id);

    t.clock.advance(chrono::Duration::seconds(5));
    let patch = AgentPatch {
        goal: Some("Ship the beta to 200 users".into()),
        status: Some(AgentStatus::Paused),
        timeline: Some(None),
        ..AgentPatch::default()
    };
    let updated = store.update_agent(USER, agent.id, patch).await.unwrap();
    assert_eq!(updated.goal, "Ship the beta to 200 users");
    assert_eq!(updated.status, AgentStatus::Paused);
    assert_eq!(updated.timeline, None);
    assert_eq!(updated.name, "Launch");
    assert!(updated.updated_at > agent.updated_at);
    assert_eq!(updated.created_at, agent.created_at);

    let archived = store.archive_agent(USER, agent.id).await.unwrap();
    assert_eq!(archived.status, AgentStatus::Archived);
    assert!(store.list_agents(USER.into(), AgentFilter::default()).await.unwrap().is_empty());
    let only_archived = AgentFilter { status: Some(AgentStatus::Archived) };
    assert_eq!(store.list_agents(USER.into(), only_archived).await.unwrap().len(), 1);

    let error = store.update_agent(USER, agent.id, AgentPatch::default()).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { kind: ConflictKind::Archived, .. }), "{error:?}");
    // Archiving again is harmless.
    assert_eq!(store.archive_agent(USER, agent.id).await.unwrap().status, AgentStatus::Archived);

    let kinds: Vec<String> =
        store.list_events(USER, EventQuery::default()).await.unwrap().into_iter().map(|event| event.kind).collect();
    assert_eq!(kinds, ["agent.created", "agent.updated", "agent.archived"]);
}

async fn names_are_unique_among_live_agents(t: TestStore) {
    let store = t.store.as_ref();
    let first = store.create_agent(USER, launch()).await.unwrap();
    let error = store.create_agent(USER, launch()).await.unwrap_err();
    match error {
        StoreError::Conflict { kind, field, message } => {
            assert_eq!(kind, ConflictKind::AlreadyExists);
            assert_eq!(field.as_deref(), Some("name"));
            assert!(message.contains("\"Launch\""), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Renaming another agent onto the name is refused too.
    let mut other = launch();
    other.name = "Other".into();
    let other = store.create_agent(USER, other).await.unwrap();
    let rename = AgentPatch { name: Some("Launch".into()), ..AgentPatch::default() };
    assert!(store.update_agent(USER, other.id, rename.clone()).await.is_err());
    // Once the first is archived, the name is free again.
    store.archive_agent(USER, first.id).await.unwrap();
    assert_eq!(store.update_agent(USER, other.id, rename).await.unwrap().name, "Launch");
}

async fn names_are_matched_and_unique_without_regard_to_case(t: TestStore) {
    let store = t.store.as_ref();
    let first = store.create_agent(USER, launch()).await.unwrap();
    assert_eq!(store.find_agent_by_name(USER, "launch").await.unwrap().id, first.id);
    assert_eq!(store.find_agent_by_name(USER, " LAUNCH ").await.unwrap().id, first.id);

    let mut shouting = launch();
    shouting.name = "LAUNCH".into();
    match store.create_agent(USER, shouting).await.unwrap_err() {
        StoreError::Conflict { kind, field, message } => {
            assert_eq!(kind, ConflictKind::AlreadyExists);
            assert_eq!(field.as_deref(), Some("name"));
            assert_eq!(
                message,
                format!(
                    "an agent named \"Launch\" already exists (agent {}); names are compared without regard to \
                     case, so \"LAUNCH\" is taken",
                    first.id
                )
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut other = launch();
    other.name = "Other".into();
    let other = store.create_agent(USER, other).await.unwrap();
    let rename = AgentPatch { name: Some("launch".into()), ..AgentPatch::default() };
    assert!(store.update_agent(USER, other.id, rename).await.is_err());
    // An agent may change the case of its own name.
    let recase = AgentPatch { name: Some("LAUNCH".into()), ..AgentPatch::default() };
    assert_eq!(store.update_agent(USER, first.id, recase).await.unwrap().name, "LAUNCH");
    let names: Vec<String> = store
        .list_agents(USER.into(), AgentFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|agent| agent.name)
        .collect();
    assert_eq!(names, ["LAUNCH", "Other"]);
}

async fn bad_input_names_the_field_and_writes_nothing(t: TestStore) {
    let store = t.store.as_ref();
    let mut agent = launch();
    agent.name = "   ".into();
    match store.create_agent(USER, agent).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "name"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    let mut agent = launch();
    agent.model = Some("no-slash".into());
    match store.create_agent(USER, agent).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "model"),
        other => panic!("expected invalid input, got {other:?}"),
    }
    assert!(store.list_agents(USER.into(), AgentFilter::default()).await.unwrap().is_empty());
    assert!(store.list_events(USER, EventQuery::default()).await.unwrap().is_empty());
    assert!(matches!(store.get_agent(USER, AgentId(12345)).await.unwrap_err(), StoreError::NotFound { .. }));
}

async fn agents_are_scoped_by_user(t: TestStore) {
    let store = t.store.as_ref();
    let agent = store.create_agent(USER, launch()).await.unwrap();
    let stranger = UserId(2);
    assert!(matches!(store.get_agent(stranger, agent.id).await.unwrap_err(), StoreError::NotFound { .. }));
    assert!(store.list_agents(stranger.into(), AgentFilter::default()).await.unwrap().is_empty());
    assert!(store.archive_agent(stranger, agent.id).await.is_err());
    assert!(store.list_events(stranger, EventQuery::default()).await.unwrap().is_empty());
    assert_eq!(store.get_agent(USER, agent.id).await.unwrap().status, AgentStatus::Active);
}

async fn tools_limits_and_budget_are_kept(t: TestStore) {
    let store = t.store.as_ref();
    let mut agent = launch();
    agent.tools = Some(vec!["workspace.read".into(), "http.fetch".into()]);
    agent.limits = RunLimits {
        max_steps: Some(12),
        max_tokens: Some(50_000),
        max_cost_usd: Some(0.5),
        max_wall_time: Some(std::time::Duration::from_secs(600)),
    };
    agent.budget = Budget { daily_usd: Some(2.0), total_usd: None };
    let created = store.create_agent(USER, agent.clone()).await.unwrap();
    assert_eq!(created.tools, agent.tools);
    assert_eq!(created.limits, agent.limits);
    assert_eq!(created.budget, agent.budget);

    let patch = AgentPatch {
        tools: Some(None),
        limits: Some(RunLimits { max_steps: Some(3), ..RunLimits::default() }),
        budget: Some(Budget { daily_usd: None, total_usd: Some(10.0) }),
        ..AgentPatch::default()
    };
    let updated = store.update_agent(USER, created.id, patch).await.unwrap();
    assert_eq!(updated.tools, None, "back to the default tool set");
    assert_eq!(updated.limits, RunLimits { max_steps: Some(3), ..RunLimits::default() });
    assert_eq!(updated.budget.total_usd, Some(10.0));
    assert_eq!(store.get_agent(USER, created.id).await.unwrap(), updated);
}

store_tests!(
    tools_limits_and_budget_are_kept,
    create_read_update_archive,
    names_are_unique_among_live_agents,
    names_are_matched_and_unique_without_regard_to_case,
    bad_input_names_the_field_and_writes_nothing,
    agents_are_scoped_by_user,
);
