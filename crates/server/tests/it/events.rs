//! `GET /api/v1/events`: the log, paged and filtered.

use serde_json::json;

use crate::support::{TestApp, api_tests, assert_api_snapshot};

api_tests!(events_page_with_a_cursor_and_filter, bad_event_queries_are_400);

async fn events_page_with_a_cursor_and_filter(app: TestApp) {
    let agent = app.agent("Reporter").await;
    app.post("/api/v1/actions", json!({"agent_id": agent, "title": "Report"})).await.assert_status(201);
    app.job(json!({"kind": "noop"})).await;

    let all = app.get("/api/v1/events").await;
    assert_api_snapshot!(all.assert_status(200));

    let first = app.get("/api/v1/events?limit=2").await;
    assert_eq!(first.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["has_more"], true);
    let cursor = first.body["next_after"].as_i64().unwrap();
    let second = app.get(&format!("/api/v1/events?limit=2&after={cursor}")).await;
    assert_eq!(second.body["events"][0]["kind"], "job.enqueued");
    assert_eq!(second.body["has_more"], false);
    let cursor = second.body["next_after"].as_i64().unwrap();
    let empty = app.get(&format!("/api/v1/events?after={cursor}")).await;
    assert_eq!(empty.body["events"], json!([]));
    assert_eq!(empty.body["next_after"], cursor, "an empty page keeps the cursor, so a poller can continue");

    let jobs = app.get("/api/v1/events?kind=job.").await;
    assert_eq!(jobs.body["events"].as_array().unwrap().len(), 1);
    let agents = app.get(&format!("/api/v1/events?subject=agent&subject_id={agent}")).await;
    assert_eq!(agents.body["events"][0]["kind"], "agent.created");
    assert_eq!(agents.body["events"].as_array().unwrap().len(), 1);
}

async fn bad_event_queries_are_400(app: TestApp) {
    for (query, parameter) in [
        ("after=abc", "after"),
        ("after=-1", "after"),
        ("limit=0", "limit"),
        ("subject=user", "subject"),
        ("subject_id=3", "subject_id"),
        ("kind=", "kind"),
        ("follow=1", "follow"),
    ] {
        app.get(&format!("/api/v1/events?{query}")).await.assert_error(400, "invalid_parameter", Some(parameter));
    }
    let response = app
        .send(
            axum::http::Request::get("/api/v1/events/stream")
                .header("last-event-id", "yesterday")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    response.assert_error(400, "invalid_parameter", Some("Last-Event-ID"));
    app.get("/api/v1/events/stream?limit=5").await.assert_error(400, "invalid_parameter", Some("limit"));
}
