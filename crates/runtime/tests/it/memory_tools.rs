//! Memory's agent tools: a note remembered once per call, found again by
//! search, a core block set, a fact forgotten (closed and audited), and bad
//! input answered so the model can fix it.

use serde_json::{Value, json};
use steward_domain::memory::FactKind;
use steward_domain::{EventSubject, NewAgent};
use steward_runtime::tools::memory::{MemoryCoreUpdate, MemoryForget, MemoryRemember, MemorySearch};
use steward_store::memory::{IngestionPlan, PlannedEntity, PlannedFact, Resolution};
use steward_store::{EventQuery, memory::EpisodeFilter};

use crate::tool_support::{ToolFixture, call, invalid_input};

#[tokio::test]
async fn an_agent_remembers_searches_forgets_and_keeps_core_blocks() {
    let mut fixture = ToolFixture::new().await;
    let store = fixture.context.store.clone();
    let user = fixture.context.user_id;
    let agent = NewAgent { name: "Scribe".into(), goal: "Write".into(), ..NewAgent::default() };
    fixture.context.agent_id = store.create_agent(user, agent).await.unwrap().id;
    let context = &fixture.context;

    let note = json!({"content": "The launch moved to the 14th of May."});
    let first: Value = serde_json::from_str(&call(&MemoryRemember, context, note.clone()).await.unwrap()).unwrap();
    let again: Value = serde_json::from_str(&call(&MemoryRemember, context, note).await.unwrap()).unwrap();
    assert_eq!(first["episode_id"], again["episode_id"], "the same call remembers once");
    let pending = store.list_episodes(user, EpisodeFilter { pending: true, limit: 10, ..Default::default() }).await;
    assert_eq!(pending.unwrap()[0].agent_id, Some(context.agent_id));

    let found: Value =
        serde_json::from_str(&call(&MemorySearch, context, json!({"query": "when is the launch"})).await.unwrap())
            .unwrap();
    assert_eq!(found["results"][0]["id"], first["episode_id"], "{found}");

    call(&MemoryCoreUpdate, context, json!({"label": "goal_notes", "value": "Launch on 14 May."})).await.unwrap();
    let blocks = store.core_blocks(user, context.agent_id).await.unwrap();
    assert_eq!(blocks[0].value, "Launch on 14 May.");
    let bad = invalid_input(call(&MemoryCoreUpdate, context, json!({"label": "Goal Notes", "value": "x"})).await);
    assert!(bad.contains("label"), "{bad}");

    let episode = steward_domain::EpisodeId(first["episode_id"].as_i64().unwrap());
    let plan = IngestionPlan {
        entities: vec![PlannedEntity {
            name: "launch".into(),
            labels: vec![],
            summary: String::new(),
            resolution: Resolution::New,
        }],
        facts: vec![PlannedFact {
            kind: FactKind::Decision,
            subject: 0,
            object: None,
            relation: "scheduled_for".into(),
            statement: "The launch is on 14 May.".into(),
            valid_at: None,
            invalid_at: None,
            duplicate_of: None,
            contradicts: vec![],
            also_from: Vec::new(),
        }],
        ..IngestionPlan::default()
    };
    store.apply_ingestion(user, episode, plan).await.unwrap();
    let fact = store.list_facts(user, &[], 1).await.unwrap().remove(0);
    call(&MemoryForget, context, json!({"fact_id": fact.id.get(), "reason": "moved again"})).await.unwrap();
    let query =
        EventQuery { subject: Some((EventSubject::Fact, Some(fact.id.get()))), limit: 10, ..EventQuery::default() };
    let events = store.list_events(user, query).await.unwrap();
    assert_eq!(events[0].data["reason"], format!("agent {}: moved again", context.agent_id));
    invalid_input(call(&MemoryForget, context, json!({"fact_id": 987_654, "reason": "x"})).await);
    invalid_input(call(&MemorySearch, context, json!({"query": "x", "as_of": "soon"})).await);
}
