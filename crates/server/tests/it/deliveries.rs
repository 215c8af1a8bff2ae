//! Deliveries in-process: listed by status and run with the destination
//! redacted, got by id, and retried only when dead.

use steward_domain::delivery::{AttemptFailure, AttemptResult, Destination, NewDeliveries};
use steward_domain::{AgentId, NewRun, RunId};

use crate::support::{TestApp, USER, api_tests};

api_tests!(deliveries_are_listed_got_and_retried_when_dead, bad_filters_name_the_parameter);

async fn deliveries_are_listed_got_and_retried_when_dead(app: TestApp) {
    let agent = AgentId(app.agent("Planner").await);
    let new_run = NewRun {
        agent_id: agent,
        action_id: None,
        instruction: "Plan".into(),
        limits: Default::default(),
        run_at: None,
    };
    let run: RunId = app.store.start_run(USER, new_run).await.unwrap().id;
    let destinations = ["slack:#plans", "webhook:https://hooks.example.com/in/s3cret"]
        .iter()
        .map(|uri| Destination::parse("deliver", uri).unwrap())
        .collect();
    let created =
        app.store.create_deliveries(USER, NewDeliveries { run_id: run, fire_id: None, destinations }).await.unwrap();
    let hook = created[1].id;
    app.store.begin_delivery_attempt(hook).await.unwrap();
    let failure =
        AttemptFailure::permanent("webhook answered HTTP 404: no such hook").with_response(404, "no such hook");
    app.store.finish_delivery_attempt(hook, AttemptResult::Failed { failure, final_attempt: false }).await.unwrap();

    let listed = app.get(&format!("/api/v1/deliveries?run_id={run}")).await;
    let deliveries = listed.assert_status(200)["deliveries"].as_array().unwrap().clone();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0]["destination"], "webhook:https://hooks.example.com/…", "no secret path");
    assert!(!listed.text.contains("s3cret"));
    assert_eq!((deliveries[0]["status"].as_str(), deliveries[0]["http_status"].as_u64()), (Some("dead"), Some(404)));
    assert_eq!(deliveries[0]["error"], "webhook answered HTTP 404: no such hook");
    assert_eq!(deliveries[1]["status"], "pending");
    let dead = app.get("/api/v1/deliveries?status=dead").await;
    assert_eq!(dead.assert_status(200)["deliveries"].as_array().unwrap().len(), 1);

    let got = app.get(&format!("/api/v1/deliveries/{hook}")).await;
    assert_eq!(got.assert_status(200)["kind"], "webhook");
    let retried = app.post_empty(&format!("/api/v1/deliveries/{hook}/retry")).await;
    assert_eq!(retried.assert_status(200)["status"], "pending");
    let again = app.post_empty(&format!("/api/v1/deliveries/{hook}/retry")).await;
    again.assert_error(409, "illegal_transition", None);
    app.get("/api/v1/deliveries/987654").await.assert_error(404, "not_found", None);
}

async fn bad_filters_name_the_parameter(app: TestApp) {
    let agent = app.agent("Planner").await;
    let refused = app
        .post(
            &format!("/api/v1/agents/{agent}/runs"),
            serde_json::json!({"instruction": "Plan", "deliver": ["slack:#a", "pager:7"]}),
        )
        .await;
    refused.assert_error(422, "invalid_field", Some("deliver[1]"));
    assert!(app.get("/api/v1/runs").await.body["runs"].as_array().unwrap().is_empty(), "nothing started");
    let started = app
        .post(
            &format!("/api/v1/agents/{agent}/runs"),
            serde_json::json!({"instruction": "Plan", "deliver": ["slack:#a"]}),
        )
        .await;
    let run = started.assert_status(201)["id"].as_i64().unwrap();
    let listed = app.get(&format!("/api/v1/deliveries?run_id={run}")).await;
    assert_eq!(listed.assert_status(200)["deliveries"][0]["destination"], "slack:#a");
    app.get("/api/v1/deliveries?status=lost").await.assert_error(400, "invalid_parameter", Some("status"));
    app.get("/api/v1/deliveries?limit=0").await.assert_error(400, "invalid_parameter", Some("limit"));
    app.get("/api/v1/deliveries?colour=red").await.assert_error(400, "invalid_parameter", Some("colour"));
}
