//! `/api/v1/schedules`: create, read by id or name, pause, resume, run now,
//! backfill, history, preview and delete; bad input is refused naming the
//! field, with nothing written.

use axum::http::Method;
use serde_json::json;

use crate::support::{TestApp, api_tests};

api_tests!(
    a_schedule_is_created_run_paused_and_deleted,
    bad_schedules_are_refused_naming_the_field,
    preview_lists_fire_times
);

async fn a_schedule_is_created_run_paused_and_deleted(app: TestApp) {
    let agent = app.agent("Reporter").await;
    let body = json!({
        "name": "Morning report", "when": "weekdays at 08:00", "tz": "Europe/Paris",
        "agent_id": agent, "instruction": "Write the morning report", "missed": "skip",
    });
    let created = app.post("/api/v1/schedules", body).await;
    let schedule = created.assert_status(201).clone();
    assert_eq!(schedule["when"], "weekdays at 08:00");
    assert_eq!(
        schedule["target"],
        json!({"kind": "agent", "agent_id": agent, "instruction": "Write the morning report"})
    );
    // 2030-01-01 is a Tuesday; 08:00 in Paris is 07:00 UTC.
    assert_eq!(schedule["next_fire_at"], "2030-01-01T07:00:00Z");
    assert_eq!(schedule["next_fire_local"], "2030-01-01T08:00:00+01:00");
    assert_eq!((schedule["missed"].as_str(), schedule["overlap"].as_str()), (Some("skip"), Some("skip")));

    let by_name = app.get("/api/v1/schedules/morning%20report").await;
    assert_eq!(by_name.assert_status(200)["id"], schedule["id"]);
    let listed = app.get("/api/v1/schedules").await;
    assert_eq!(listed.assert_status(200)["schedules"].as_array().unwrap().len(), 1);

    let id = schedule["id"].as_i64().unwrap();
    let fire = app.post_empty(&format!("/api/v1/schedules/{id}/run")).await;
    let fire = fire.assert_status(200);
    assert_eq!((fire["status"].as_str(), fire["slot"].as_str()), (Some("manual"), Some("2030-01-01T00:00:00Z")));
    let run = app.get(&format!("/api/v1/runs/{}", fire["run_id"])).await;
    assert_eq!(run.assert_status(200)["instruction"], "Write the morning report");

    let paused = app.post_empty(&format!("/api/v1/schedules/{id}/pause")).await;
    assert_eq!(paused.assert_status(200)["paused"], true);
    let resumed = app.post_empty(&format!("/api/v1/schedules/{id}/resume")).await;
    assert_eq!(resumed.assert_status(200)["paused"], false);

    let backfill = json!({"from": "2029-12-30T00:00:00Z", "to": "2029-12-31T23:00:00Z"});
    let backfilled = app.post(&format!("/api/v1/schedules/{id}/backfill"), backfill).await;
    let fires = backfilled.assert_status(200)["fires"].as_array().unwrap().clone();
    // Monday 2029-12-31 is a weekday; Sunday the 30th is not.
    assert_eq!(fires.len(), 1);
    assert_eq!(
        (fires[0]["slot"].as_str(), fires[0]["status"].as_str()),
        (Some("2029-12-31T07:00:00Z"), Some("backfilled"))
    );
    let history = app.get(&format!("/api/v1/schedules/{id}/fires")).await;
    let history = history.assert_status(200)["fires"].as_array().unwrap().clone();
    let statuses: Vec<&str> = history.iter().map(|fire| fire["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["manual", "backfilled"], "newest slot first");
    assert!(history.iter().all(|fire| fire["job_id"].is_i64() && fire["fired_at"].is_string()));

    let events = app.get(&format!("/api/v1/events?subject=schedule&subject_id={id}")).await;
    let kinds: Vec<&str> =
        events.body["events"].as_array().unwrap().iter().map(|event| event["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["schedule.created", "schedule.fired", "schedule.paused", "schedule.resumed", "schedule.fired"]);
    app.request(Method::DELETE, &format!("/api/v1/schedules/{id}"), None).await.assert_status(200);
    app.get(&format!("/api/v1/schedules/{id}")).await.assert_error(404, "not_found", None);
}

async fn bad_schedules_are_refused_naming_the_field(app: TestApp) {
    let agent = app.agent("Reporter").await;
    let cases = [
        (json!({"name": "A", "when": "@daily", "tz": "Europe/Pari", "job": "noop"}), "tz", "did you mean"),
        (json!({"name": "A", "when": "0 0 30 2 *", "job": "noop"}), "when", "never"),
        (json!({"name": "A", "when": "at 2029-06-01T09:00", "job": "noop"}), "when", "in the past"),
        (json!({"name": "A", "when": "@daily"}), "target", "agent_id"),
        (json!({"name": "A", "when": "@daily", "agent_id": 999, "instruction": "x"}), "agent_id", "no agent"),
        (json!({"name": "A", "when": "@daily", "action_id": 999}), "action_id", "no action"),
        (json!({"name": "A", "when": "@daily", "agent_id": agent}), "instruction", "instruction"),
        (json!({"name": "A", "when": "@daily", "job": "noop", "routine": "r"}), "job", "one target"),
        (json!({"name": "A", "when": "@daily", "job": "nonesuch"}), "job", "unknown job kind"),
        (json!({"name": "A", "when": "@daily", "job": "noop", "missed": "later"}), "missed", "catch_up_once"),
        (json!({"name": "A", "when": "@daily", "job": "noop", "overlap": "queue"}), "overlap", "buffer_one"),
        (json!({"name": "A", "when": "61 * * * *", "job": "noop"}), "when", "minute"),
    ];
    for (body, field, words) in cases {
        let response = app.refused(app.post("/api/v1/schedules", body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(words), "{body}: {message}");
    }
    assert!(app.get("/api/v1/schedules").await.body["schedules"].as_array().unwrap().is_empty());
    app.post("/api/v1/schedules", json!({"name": "Daily", "when": "@daily", "job": "noop"})).await.assert_status(201);
    let taken = app.refused(app.post("/api/v1/schedules", json!({"name": "daily", "when": "@hourly", "job": "noop"})));
    taken.await.assert_error(409, "already_exists", Some("name"));
    app.get("/api/v1/schedules/nonesuch").await.assert_error(404, "not_found", None);
}

async fn preview_lists_fire_times(app: TestApp) {
    let body = json!({"when": "30 2 * * *", "tz": "America/New_York", "from": "2030-03-09T12:00:00Z", "count": 2});
    let response = app.post("/api/v1/schedules/preview", body).await;
    let preview = response.assert_status(200);
    // 2030-03-10 springs forward at 02:00: the skipped 02:30 fires at 03:00 EDT.
    assert_eq!(preview["fires"], json!(["2030-03-10T03:00:00-04:00", "2030-03-11T02:30:00-04:00"]));
    let bad = app.post("/api/v1/schedules/preview", json!({"when": "@daily", "count": 0})).await;
    bad.assert_error(422, "invalid_field", Some("count"));
}
