//! `/api/v1/agents`: the lifecycle of an agent, and every kind of bad input.

use serde_json::json;

use crate::support::{TestApp, api_tests, assert_api_snapshot};

api_tests!(
    create_get_list_update_archive,
    a_patch_can_clear_nullable_fields_but_not_required_ones,
    bad_agent_input_names_the_field_and_writes_nothing,
    conflicts_are_409_with_their_code,
    bad_ids_and_filters_are_400,
    an_agent_is_found_by_its_name_in_any_case,
);

async fn create_get_list_update_archive(app: TestApp) {
    let body = json!({
        "name": "Launch",
        "goal": "Ship the beta",
        "success_criteria": ["100 users", "NPS above 40"],
        "timeline": "by March",
        "model": "anthropic/claude-sonnet-4-5",
    });
    let response = app.post("/api/v1/agents", body).await;
    let created = response.assert_status(201).clone();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(response.headers["location"], format!("/api/v1/agents/{id}"));
    assert_api_snapshot!(created);

    // A read adds the agent's liveness, derived from its runs: none yet.
    let mut read = app.get(&format!("/api/v1/agents/{id}")).await.assert_status(200).clone();
    assert_eq!(read["liveness"], json!({"state": "idle", "reason": "no run working"}));
    read.as_object_mut().unwrap().remove("liveness");
    assert_eq!(read, created);

    app.agent("Second").await;
    let list = app.get("/api/v1/agents").await;
    let names: Vec<&str> =
        list.body["agents"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Launch", "Second"]);

    let updated = app.patch(&format!("/api/v1/agents/{id}"), json!({"status": "paused", "goal": "Ship v1"})).await;
    assert_eq!(updated.assert_status(200)["status"], "paused");
    assert_eq!(updated.body["goal"], "Ship v1");
    assert_eq!(updated.body["name"], "Launch", "fields left out are unchanged");
    let paused = app.get("/api/v1/agents?status=paused").await;
    assert_eq!(paused.body["agents"].as_array().unwrap().len(), 1);

    let archived = app.post_empty(&format!("/api/v1/agents/{id}/archive")).await;
    assert_eq!(archived.assert_status(200)["status"], "archived");
    let again = app.post_empty(&format!("/api/v1/agents/{id}/archive")).await;
    assert_eq!(again.assert_status(200)["status"], "archived", "archiving twice is not an error");
    let list = app.get("/api/v1/agents").await;
    assert_eq!(list.body["agents"].as_array().unwrap().len(), 1, "archived agents are not listed by default");
    let list = app.get("/api/v1/agents?status=archived").await;
    assert_eq!(list.body["agents"][0]["id"], id);
}

async fn a_patch_can_clear_nullable_fields_but_not_required_ones(app: TestApp) {
    // A model whose provider has its key here (the test runtime has Anthropic's).
    let body = json!({"name": "A", "goal": "G", "timeline": "soon", "model": "anthropic/claude-opus-4-5"});
    let response = app.post("/api/v1/agents", body).await;
    let id = response.assert_status(201)["id"].as_i64().unwrap();
    let path = format!("/api/v1/agents/{id}");

    let cleared = app.patch(&path, json!({"timeline": null, "model": null})).await;
    assert_eq!(cleared.assert_status(200)["timeline"], json!(null));
    assert_eq!(cleared.body["model"], json!(null));

    let response = app.refused(app.patch(&path, json!({"goal": null}))).await;
    response.assert_error(422, "invalid_field", Some("goal"));
    let response = app.refused(app.patch(&path, json!({}))).await;
    let message = response.assert_error(422, "invalid_field", None);
    assert!(message.contains("changes nothing"), "{message}");
}

async fn bad_agent_input_names_the_field_and_writes_nothing(app: TestApp) {
    let cases = [
        (json!({"name": "  ", "goal": "G"}), "name", "must not be empty"),
        (json!({"goal": "G"}), "name", "is required"),
        (json!({"name": "A"}), "goal", "is required"),
        (json!({"name": "A", "goal": "G", "nmae": "typo"}), "nmae", "unknown field"),
        (json!({"name": 5, "goal": "G"}), "name", "invalid type"),
        (json!({"name": "A", "goal": "G", "success_criteria": "one"}), "success_criteria", "expected an array"),
        (json!({"name": "A", "goal": "G", "success_criteria": ["ok", ""]}), "success_criteria[1]", "must not be empty"),
        (json!({"name": "A", "goal": "G", "success_criteria": ["ok", 3]}), "success_criteria[1]", "invalid type"),
        (json!({"name": "A", "goal": "G", "model": "gpt-5"}), "model", "provider/model"),
        (json!({"name": "x".repeat(81), "goal": "G"}), "name", "the limit is 80"),
        (json!({"name": "A", "goal": "G", "status": "paused"}), "status", "unknown field"),
    ];
    for (body, field, fragment) in cases {
        let response = app.refused(app.post("/api/v1/agents", body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(fragment), "{body}: {message}");
    }
    let response = app.refused(app.post("/api/v1/agents", json!(["not", "an", "object"]))).await;
    response.assert_error(422, "invalid_field", None);
    assert_eq!(app.get("/api/v1/agents").await.body["agents"], json!([]));

    let id = app.agent("Kept").await;
    let path = format!("/api/v1/agents/{id}");
    let response = app.refused(app.patch(&path, json!({"status": "archived"}))).await;
    let message = response.assert_error(422, "invalid_field", Some("status"));
    assert!(message.contains("archive"), "{message}");
    let response = app.refused(app.patch(&path, json!({"status": "sleeping"}))).await;
    let message = response.assert_error(422, "invalid_field", Some("status"));
    assert!(message.contains("unknown value sleeping"), "{message}");
}

async fn conflicts_are_409_with_their_code(app: TestApp) {
    let first = app.agent("Twin").await;
    let response = app.refused(app.post("/api/v1/agents", json!({"name": "Twin", "goal": "G"}))).await;
    let message = response.assert_error(409, "already_exists", Some("name"));
    assert!(message.contains("Twin"), "{message}");

    let second = app.agent("Other").await;
    let response = app.refused(app.patch(&format!("/api/v1/agents/{second}"), json!({"name": "Twin"}))).await;
    response.assert_error(409, "already_exists", Some("name"));

    app.post_empty(&format!("/api/v1/agents/{first}/archive")).await.assert_status(200);
    let response = app.refused(app.patch(&format!("/api/v1/agents/{first}"), json!({"goal": "again"}))).await;
    response.assert_error(409, "archived", None);
    // The name of an archived agent is free again.
    app.agent("Twin").await;
}

async fn bad_ids_and_filters_are_400(app: TestApp) {
    for path in ["/api/v1/agents/abc", "/api/v1/agents/0", "/api/v1/agents/-3", "/api/v1/agents/1.5"] {
        let message = app.get(path).await.assert_error(400, "invalid_parameter", Some("id")).to_string();
        assert!(message.contains("positive integer"), "{path}: {message}");
    }
    let response = app.refused(app.patch("/api/v1/agents/abc", json!({"goal": "x"}))).await;
    response.assert_error(400, "invalid_parameter", Some("id"));
    let message = app.get("/api/v1/agents/99").await.assert_error(404, "not_found", None).to_string();
    assert_eq!(message, "there is no agent 99");
    app.refused(app.post_empty("/api/v1/agents/99/archive")).await.assert_error(404, "not_found", None);
    app.get("/api/v1/agents?status=gone").await.assert_error(400, "invalid_parameter", Some("status"));
    app.get("/api/v1/agents?limit=5").await.assert_error(400, "invalid_parameter", Some("limit"));
}

async fn an_agent_is_found_by_its_name_in_any_case(app: TestApp) {
    let launch = app.agent("Launch Plan").await;
    let short = app.agent("Launch").await;
    let found = app.get("/api/v1/agents?name=Launch%20Plan").await;
    let agents = found.assert_status(200)["agents"].as_array().unwrap().clone();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0]["id"], launch);
    // A person who types "launch" means "Launch" (and not "Launch Plan").
    let lower = app.get("/api/v1/agents?name=launch").await;
    let agents = lower.assert_status(200)["agents"].as_array().unwrap().clone();
    assert_eq!((agents.len(), &agents[0]["id"]), (1, &json!(short)), "names match without regard to case");
    let none = app.get("/api/v1/agents?name=launc").await;
    assert!(none.assert_status(200)["agents"].as_array().unwrap().is_empty(), "but whole names only");
    // So a name differing only in case is taken.
    let taken = app.refused(app.post("/api/v1/agents", json!({"name": "LAUNCH PLAN", "goal": "G"}))).await;
    let message = taken.assert_error(409, "already_exists", Some("name"));
    assert!(message.contains("without regard to case"), "{message}");
    app.post_empty(&format!("/api/v1/agents/{launch}/archive")).await.assert_status(200);
    let archived = app.get("/api/v1/agents?name=Launch%20Plan").await;
    assert!(archived.assert_status(200)["agents"].as_array().unwrap().is_empty(), "archived agents are not found");
    app.get("/api/v1/agents?name=A&status=active").await.assert_error(400, "invalid_parameter", Some("name"));
}
