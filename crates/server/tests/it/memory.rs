//! Memory over HTTP: an episode added (and its ingestion job enqueued),
//! found by search with provenance, an entity's facts with history, a fact
//! forgotten, an agent's core blocks set and read, and bad input refused
//! naming the field.

use serde_json::json;
use steward_domain::memory::FactKind;
use steward_store::memory::{IngestionPlan, PlannedEntity, PlannedFact, Resolution};

use crate::support::{TestApp, USER, api_tests};

api_tests!(
    episodes_are_added_found_and_their_facts_kept,
    bad_memory_requests_name_the_field,
    core_blocks_are_read_and_set_per_agent
);

async fn episodes_are_added_found_and_their_facts_kept(app: TestApp) {
    let added = app
        .post(
            "/api/v1/memory/episodes",
            json!({"content": "Maya prefers plain copy for Crumb & Co.", "source": "feedback"}),
        )
        .await;
    let episode = added.assert_status(201).clone();
    assert_eq!((episode["source"].as_str(), episode["ingested_at"].is_null()), (Some("feedback"), true));
    let jobs = app.get("/api/v1/jobs?kind=memory.ingest").await;
    assert_eq!(jobs.assert_status(200)["jobs"].as_array().map(Vec::len), Some(1), "its ingestion is queued");

    // Ingest it as the job would, with what an extraction found.
    let plan = IngestionPlan {
        entities: vec![PlannedEntity {
            name: "Maya".into(),
            labels: vec![],
            summary: String::new(),
            resolution: Resolution::New,
        }],
        facts: vec![PlannedFact {
            kind: FactKind::Preference,
            subject: 0,
            object: None,
            relation: "prefers".into(),
            statement: "Maya prefers plain copy.".into(),
            valid_at: None,
            invalid_at: None,
            duplicate_of: None,
            contradicts: vec![],
            also_from: Vec::new(),
        }],
        ..IngestionPlan::default()
    };
    let id = steward_domain::EpisodeId(episode["id"].as_i64().unwrap());
    app.store.apply_ingestion(USER, id, plan).await.unwrap();

    let found = app.get("/api/v1/memory/search?q=plain%20copy&kind=fact").await;
    let body = found.assert_status(200);
    assert_eq!(body["vectors_used"], false);
    let result = &body["results"][0];
    assert_eq!((result["kind"].as_str(), result["text"].as_str()), (Some("fact"), Some("Maya prefers plain copy.")));
    assert_eq!(result["provenance"][0]["id"], episode["id"]);
    assert!(result["why"][0].as_str().unwrap().starts_with("text rank"), "{result}");

    let near = app.get("/api/v1/memory/search?q=plain%20copy&kind=fact&centre=maya").await;
    let why = near.assert_status(200)["results"][0]["why"].clone();
    assert_eq!(why.as_array().and_then(|why| why.last()).and_then(|last| last.as_str()), Some("centre 0 hops"));

    let fact = result["id"].as_i64().unwrap();
    let forgotten = app.post(&format!("/api/v1/memory/facts/{fact}/forget"), json!({"reason": "changed"})).await;
    assert!(!forgotten.assert_status(200)["expired_at"].is_null());
    let now = app.get("/api/v1/memory/facts?entity=maya").await;
    assert_eq!(now.assert_status(200)["facts"], json!([]), "forgotten: not believed now");
    let history = app.get("/api/v1/memory/facts?entity=maya&history=true").await;
    assert_eq!(history.assert_status(200)["facts"][0]["id"], fact, "kept in the history");
    let before = app.get("/api/v1/memory/search?q=plain%20copy&kind=fact&as_of=2000-01-01").await;
    assert_eq!(before.assert_status(200)["results"], json!([]), "not yet valid in 2000");

    let keyed = json!({"content": "Ship on Fridays.", "source": "document", "source_ref": "notes:1"});
    let created = app.post("/api/v1/memory/episodes", keyed.clone()).await.assert_status(201).clone();
    let found = app.post("/api/v1/memory/episodes", keyed).await;
    assert_eq!(found.assert_status(200)["id"], created["id"], "the same source_ref: the first episode, 200");
}

async fn bad_memory_requests_name_the_field(app: TestApp) {
    app.get("/api/v1/memory/search").await.assert_error(400, "invalid_parameter", Some("q"));
    app.get("/api/v1/memory/search?q=x&as_of=March").await.assert_error(400, "invalid_parameter", Some("as_of"));
    app.get("/api/v1/memory/search?q=x&kind=node").await.assert_error(400, "invalid_parameter", Some("kind"));
    app.get("/api/v1/memory/search?q=x&limit=0").await.assert_error(400, "invalid_parameter", Some("limit"));
    app.get("/api/v1/memory/facts?entity=nobody").await.assert_error(404, "not_found", Some("entity"));
    app.get("/api/v1/memory/search?q=x&rerank=best").await.assert_error(400, "invalid_parameter", Some("rerank"));
    app.get("/api/v1/memory/search?q=x&rerank=centre").await.assert_error(400, "invalid_parameter", Some("centre"));
    app.get("/api/v1/memory/search?q=x&centre=nobody").await.assert_error(404, "not_found", Some("centre"));
    let mmr = app.get("/api/v1/memory/search?q=x&rerank=mmr&centre=maya").await;
    mmr.assert_error(400, "invalid_parameter", Some("centre"));
    app.post("/api/v1/memory/facts/98765/forget", json!({})).await.assert_error(404, "not_found", None);
    let empty = app.post("/api/v1/memory/episodes", json!({"content": "  "})).await;
    empty.assert_error(422, "invalid_field", Some("content"));
    let source = app.post("/api/v1/memory/episodes", json!({"content": "x", "source": "rumour"})).await;
    source.assert_error(422, "invalid_field", Some("source"));
    let unknown = app.post("/api/v1/memory/episodes", json!({"content": "x", "colour": "red"})).await;
    assert_eq!(unknown.status.as_u16(), 422, "{}", unknown.text);
    let jobs = app.get("/api/v1/jobs?kind=memory.ingest").await;
    assert_eq!(jobs.assert_status(200)["jobs"], json!([]), "nothing half-written");
}

async fn core_blocks_are_read_and_set_per_agent(app: TestApp) {
    let writer = app.agent("Writer").await;
    let other = app.agent("Other").await;
    let path = format!("/api/v1/agents/{writer}/memory/core-blocks");
    assert_eq!(app.get(&path).await.assert_status(200)["blocks"], json!([]));
    let set = app.post(&path, json!({"label": "preferences", "value": "Plain voice."})).await;
    assert_eq!(set.assert_status(200)["blocks"][0]["value"], "Plain voice.");
    app.post(&path, json!({"label": "goal_notes", "value": "Launch on Friday."})).await.assert_status(200);
    let blocks = app.get(&path).await;
    let labels: Vec<&str> =
        blocks.assert_status(200)["blocks"].as_array().unwrap().iter().map(|b| b["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["goal_notes", "preferences"]);
    let others = app.get(&format!("/api/v1/agents/{other}/memory/core-blocks")).await;
    assert_eq!(others.assert_status(200)["blocks"], json!([]), "blocks are the agent's own");
    let removed = app.post(&path, json!({"label": "goal_notes", "value": ""})).await;
    assert_eq!(removed.assert_status(200)["blocks"].as_array().map(Vec::len), Some(1), "empty removes");

    let bad = app.post(&path, json!({"label": "Goal Notes", "value": "x"})).await;
    bad.assert_error(422, "invalid_field", Some("label"));
    let long = app.post(&path, json!({"label": "notes", "value": "x".repeat(2_001)})).await;
    long.assert_error(422, "invalid_field", Some("value"));
    let missing = app.post("/api/v1/agents/98765/memory/core-blocks", json!({"label": "notes", "value": "x"})).await;
    missing.assert_error(404, "not_found", None);
    app.get("/api/v1/agents/98765/memory/core-blocks").await.assert_error(404, "not_found", None);
}
