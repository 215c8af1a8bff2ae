//! `/api/v1/projects` and `/api/v1/ideas`: an imported spec-kit spec added
//! with its documents and checked boxes; a project from an idea walked
//! through its first gate (sent back with a comment, revised, approved);
//! refusals that name the field or the cycle; a quick project (the light
//! path) asks for an agent and says it is quick.

use serde_json::json;

use crate::support::{TestApp, api_tests};

api_tests!(
    an_imported_spec_arrives_with_its_graph_and_states,
    a_document_is_sent_back_then_approved,
    a_quick_project_needs_an_agent_and_says_it_is_quick
);

fn imported_body() -> serde_json::Value {
    use steward_domain::project::SpecLayout;
    use steward_domain::project::markdown::{SpecFiles, import};
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/tests/fixtures/spec-kit");
    let read = |name: &str| std::fs::read_to_string(folder.join(name)).unwrap();
    let files = SpecFiles { requirements: read("spec.md"), design: read("plan.md"), tasks: read("tasks.md") };
    let spec = import(SpecLayout::SpecKit, &files);
    json!({
        "title": spec.requirements.title,
        "layout": "spec-kit",
        "gates": {"requirements": "automatic", "design": "automatic", "tasks": "automatic"},
        "documents": {
            "requirements": serde_json::to_value(&spec.requirements).unwrap(),
            "design": serde_json::to_value(&spec.design).unwrap(),
            "tasks": serde_json::to_value(&spec.tasks).unwrap(),
        },
        "done_tasks": spec.done_tasks,
    })
}

async fn an_imported_spec_arrives_with_its_graph_and_states(app: TestApp) {
    let created = app.post("/api/v1/projects", imported_body()).await;
    let body = created.assert_status(201);
    assert_eq!(body["phase"], "execution");
    assert_eq!(body["layout"], "spec-kit");
    let id = body["id"].as_i64().unwrap();
    let shown = app.get(&format!("/api/v1/projects/{id}")).await;
    let project = shown.assert_status(200);
    let tasks = project["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 7);
    assert_eq!(tasks[0]["state"], "done");
    assert_eq!(tasks[5]["depends_on"], json!(["T001", "T005"]));
    assert_eq!(project["documents"].as_array().unwrap().len(), 3);
    let listed = app.get("/api/v1/projects").await;
    assert_eq!(listed.assert_status(200)["projects"][0]["id"], id);

    let mut cycle = imported_body();
    cycle["documents"]["tasks"]["tasks"][0]["depends_on"] = json!(["T007"]);
    let refused = app.post("/api/v1/projects", cycle).await;
    refused.assert_error(422, "invalid_field", Some("documents[2].tasks"));
    assert!(refused.text.contains("cycle: T001 → T007 → T006 → T001"), "{}", refused.text);
}

async fn a_document_is_sent_back_then_approved(app: TestApp) {
    let idea = app.post("/api/v1/ideas", json!({"title": "A todo CLI"})).await.assert_status(201)["id"].clone();
    let moved = app.patch(&format!("/api/v1/ideas/{idea}"), json!({"state": "promoted"})).await;
    moved.assert_error(422, "invalid_field", Some("state"));
    let created = app.post("/api/v1/projects", json!({"title": "Todo", "brief": "a CLI", "idea_id": idea})).await;
    let id = created.assert_status(201)["id"].as_i64().unwrap();
    assert_eq!(app.get("/api/v1/ideas").await.assert_status(200)["ideas"][0]["state"], "promoted");

    let requirements = |criterion: &str| {
        json!({"phase": "requirements", "document": {
            "title": "Todo",
            "requirements": [{"id": "R1", "title": "Add", "story": "As a user…", "criteria": [{"id": "R1.1", "text": criterion}]}],
        }})
    };
    let path = format!("/api/v1/projects/{id}");
    app.post(&format!("{path}/documents"), requirements("it adds")).await.assert_status(200);
    let nothing = app.post(&format!("{path}/reject"), json!({"comment": " "})).await;
    nothing.assert_error(422, "invalid_field", Some("comment"));
    let rejected = app.post(&format!("{path}/reject"), json!({"comment": "say WHEN"})).await;
    assert_eq!(rejected.assert_status(200)["documents"][0]["status"], "rejected");
    let revision = requirements("WHEN the user adds THE SYSTEM SHALL keep it");
    app.post(&format!("{path}/documents"), revision).await.assert_status(200);
    let approved = app.post_empty(&format!("{path}/approve")).await;
    let body = approved.assert_status(200);
    assert_eq!(body["phase"], "design");
    assert_eq!(body["documents"][1]["version"], 2);
    let again = app.post_empty(&format!("{path}/approve")).await;
    again.assert_error(409, "illegal_transition", None);
}

async fn a_quick_project_needs_an_agent_and_says_it_is_quick(app: TestApp) {
    let alone =
        app.post("/api/v1/projects", json!({"title": "Dark mode", "brief": "A dark theme", "quick": true})).await;
    alone.assert_error(422, "invalid_field", Some("agent_id"));
    let agent = app.post("/api/v1/agents", json!({"name": "Writer", "goal": "Write small specs"})).await;
    let agent = agent.assert_status(201)["id"].clone();
    let body = json!({"title": "Dark mode", "brief": "A dark theme", "quick": true, "agent_id": agent});
    let created = app.post("/api/v1/projects", body).await;
    let project = created.assert_status(201);
    assert_eq!((project["quick"].clone(), project["phase"].clone()), (json!(true), json!("requirements")));
    let plain = app.post("/api/v1/projects", json!({"title": "Todo"})).await;
    assert_eq!(plain.assert_status(201)["quick"], false);
}
