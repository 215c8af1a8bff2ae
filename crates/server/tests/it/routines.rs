//! Routines in-process: added from a built-in template with its schedule,
//! previewed (nothing started or sent; a failing source named as missing),
//! fired (a run and one delivery per destination), replayed (delivering
//! only when asked, never resending unless told), removed with its
//! schedule; refusals name the field (a template error its line). Inbound
//! triggers: a signed webhook and a Slack slash command, with auth required,
//! firing once per signed request and refusing bad signatures and stale
//! timestamps.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};
use steward_domain::Clock;
use steward_runtime::deliveries::signature::{sign, sign_slack};
use steward_server::TriggerSecrets;

use crate::support::{TestApp, TestResponse, api_tests};

api_tests!(
    a_routine_is_previewed_fired_replayed_and_removed,
    refusals_name_the_field,
    a_routine_is_edited_with_its_schedule,
    a_refused_edit_changes_nothing,
);

async fn add_morning(app: &TestApp, priorities: &std::path::Path) -> Value {
    let agent = app.agent("Planner").await;
    let body = json!({
        "name": "morning", "agent_id": agent, "template": "morning-plan", "tz": "Europe/Paris",
        "calendars": ["/nonexistent/work.ics"], "priorities": priorities.to_str().unwrap(),
        "deliver": ["slack:#plans", "webhook:$PLAN_HOOK"],
    });
    app.post("/api/v1/routines", body).await.assert_status(201).clone()
}

async fn a_routine_is_previewed_fired_replayed_and_removed(app: TestApp) {
    let directory = tempfile::tempdir().unwrap();
    let priorities = directory.path().join("priorities.md");
    std::fs::write(&priorities, "1. Ship the launch post\n").unwrap();
    let added = add_morning(&app, &priorities).await;
    assert_eq!(added["schedules"].as_array().unwrap().len(), 1, "{added}");
    assert_eq!(app.get("/api/v1/schedules/morning").await.assert_status(200)["target"]["routine"], "morning");

    let dry = app.post("/api/v1/routines/morning/run", json!({"dry_run": true})).await;
    let preview = &dry.assert_status(200)["preview"];
    let prompt = preview["prompt"].as_str().unwrap();
    assert!(prompt.contains("1. Ship the launch post"), "{prompt}");
    assert!(prompt.contains("- calendar: MISSING ("), "{prompt}");
    let missing: Vec<&str> =
        preview["missing"].as_array().unwrap().iter().map(|m| m["source"].as_str().unwrap()).collect();
    assert_eq!(missing, ["calendar", "outputs"]);
    assert_eq!(preview["destinations"], json!(["slack:#plans", "webhook:$PLAN_HOOK"]));
    assert!(app.get("/api/v1/runs").await.body["runs"].as_array().unwrap().is_empty(), "a dry run starts nothing");
    assert!(app.get("/api/v1/deliveries").await.body["deliveries"].as_array().unwrap().is_empty());

    let fired = app.post("/api/v1/routines/morning/run", json!({})).await;
    let fire = fired.assert_status(200)["fire"].clone();
    let (fire_id, run) = (fire["id"].as_i64().unwrap(), fire["run_id"].as_i64().unwrap());
    assert_eq!(fire["trigger"], "manual");
    assert_eq!(fire["deliveries"].as_array().unwrap().len(), 2);
    assert_eq!(fire["missing"][0]["source"], "calendar");
    let stored_run = app.get(&format!("/api/v1/runs/{run}")).await;
    assert!(stored_run.assert_status(200)["instruction"].as_str().unwrap().contains("calendar: MISSING"));
    let listed = app.get("/api/v1/routines").await;
    assert_eq!(listed.assert_status(200)["routines"][0]["last_fire"]["id"], fire_id);

    let replayed = app.post(&format!("/api/v1/routine-fires/{fire_id}/replay"), json!({})).await;
    let replay = replayed.assert_status(200);
    assert_eq!((replay["trigger"].as_str(), replay["replay_of"].as_i64()), (Some("replay"), Some(fire_id)));
    assert!(replay["deliveries"].as_array().unwrap().is_empty(), "no delivery unless asked");
    assert_eq!(replay["inputs"], fire["inputs"], "the stored inputs");
    let again = app.post(&format!("/api/v1/routine-fires/{fire_id}/replay"), json!({"deliver": true})).await;
    let ids = |fire: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> =
            fire["deliveries"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids(again.assert_status(200)), ids(&fire), "what was recorded is not sent again");
    let resent =
        app.post(&format!("/api/v1/routine-fires/{fire_id}/replay"), json!({"deliver": true, "resend": true})).await;
    let resent_ids = ids(resent.assert_status(200));
    assert_eq!(resent_ids.len(), 2);
    assert!(resent_ids.iter().all(|id| !ids(&fire).contains(id)), "--resend sends anew");

    let removed = app.request(Method::DELETE, "/api/v1/routines/morning", None).await;
    assert_eq!(removed.assert_status(200)["name"], "morning");
    app.get("/api/v1/schedules/morning").await.assert_error(404, "not_found", None);
    app.get(&format!("/api/v1/routine-fires/{fire_id}")).await.assert_error(404, "not_found", None);
    let kept = app.get(&format!("/api/v1/deliveries?run_id={run}")).await;
    assert_eq!(kept.assert_status(200)["deliveries"].as_array().unwrap().len(), 2, "deliveries stay");
}

async fn refusals_name_the_field(app: TestApp) {
    let agent = app.agent("Planner").await;
    let add = |body: Value| app.post("/api/v1/routines", body);
    let base = json!({"name": "r", "agent_id": agent, "text": "Plan {{ today }}", "manual": true});
    let with = |change: Value| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        body
    };
    let refused = add(with(json!({"text": "Plan\n{% for e in calendar %}\n{{ e.summary }\n"}))).await;
    let message = refused.assert_error(422, "invalid_field", Some("template"));
    assert!(message.contains("line 3"), "{message}");
    add(with(json!({"text": null, "template": "nightly"}))).await.assert_error(422, "invalid_field", Some("template"));
    add(with(json!({"deliver": ["sms:+3360000"]}))).await.assert_error(422, "invalid_field", Some("deliver[0]"));
    add(with(json!({"tz": "Mars/Olympus"}))).await.assert_error(422, "invalid_field", Some("tz"));
    add(with(json!({"after": "nothing"}))).await.assert_error(422, "invalid_field", Some("after"));
    add(with(json!({"manual": false, "when": "sometimes"}))).await.assert_error(422, "invalid_field", Some("when"));
    assert!(app.get("/api/v1/routines").await.body["routines"].as_array().unwrap().is_empty(), "nothing stored");
    add(base.clone()).await.assert_status(201);
    add(base.clone()).await.assert_error(409, "already_exists", Some("name"));
    app.post("/api/v1/routines/nothing/run", json!({})).await.assert_error(404, "not_found", None);
}

const WEBHOOK_KEY: &[u8] = b"trigger-test-key";
const SLACK_SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";

async fn signed_app() -> TestApp {
    let secrets = TriggerSecrets { webhook: Some(WEBHOOK_KEY.into()), slack: Some(SLACK_SECRET.into()) };
    let mut app =
        TestApp::with(steward_test_support::TestDatabase::sqlite(), |state| state.with_trigger_secrets(secrets)).await;
    let agent = app.agent("Planner").await;
    let body = json!({"name": "digest", "agent_id": agent, "text": "Digest: {{ input }}", "manual": true});
    app.post("/api/v1/routines", body).await.assert_status(201);
    app.state.auth.required = true;
    app
}

async fn signed(
    app: &TestApp,
    path: &str,
    headers: [(&str, String); 2],
    content_type: &str,
    body: &str,
) -> TestResponse {
    let mut request = Request::builder().method(Method::POST).uri(path).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_fires_once_and_bad_signatures_are_refused() {
    let app = signed_app().await;
    app.get("/api/v1/routines").await.assert_error(401, "unauthenticated", None);
    let now = app.clock.now().timestamp();
    let body = r#"{"feedback": "the export is slow"}"#;
    let headers = |at: i64, body: &str| {
        [("x-steward-timestamp", at.to_string()), ("x-steward-signature", sign(WEBHOOK_KEY, at, body.as_bytes()))]
    };
    let path = "/api/v1/routines/digest/trigger";
    let first = signed(&app, path, headers(now, body), "application/json", body).await;
    let fire = first.assert_status(200)["fire"].as_i64().unwrap();
    assert_eq!(first.body["created"], true);
    let repeat = signed(&app, path, headers(now, body), "application/json", body).await;
    assert_eq!(
        (repeat.assert_status(200)["fire"].as_i64(), repeat.body["created"].as_bool()),
        (Some(fire), Some(false))
    );

    let mut forged = headers(now, body);
    forged[1].1 = sign(b"another key", now, body.as_bytes());
    let refused = signed(&app, path, forged, "application/json", body).await;
    assert!(refused.assert_error(401, "unauthenticated", None).contains("does not match"));
    let stale = signed(&app, path, headers(now - 301, body), "application/json", body).await;
    assert!(stale.assert_error(401, "unauthenticated", None).contains("5-minute window"));
    let tampered = signed(&app, path, headers(now, body), "application/json", r#"{"feedback": "all good"}"#).await;
    tampered.assert_error(401, "unauthenticated", None);

    app.clock.advance(chrono::TimeDelta::seconds(1));
    let later = app.clock.now().timestamp();
    let second = signed(&app, path, headers(later, body), "application/json", body).await;
    assert_ne!(second.assert_status(200)["fire"].as_i64(), Some(fire), "a new signed request fires again");
    let stored = app.store.get_fire(crate::support::USER, steward_domain::FireId(fire)).await.unwrap();
    assert_eq!(stored.trigger.as_str(), "webhook");
    assert!(stored.prompt.contains("the export is slow"), "{}", stored.prompt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_slash_command_fires_a_routine() {
    let app = signed_app().await;
    let now = app.clock.now().timestamp();
    let form = "token=x&team_id=T1&command=%2Fsteward&text=digest+users+want+CSV&user_id=U2&response_url=x";
    let headers = |body: &str| {
        [
            ("x-slack-request-timestamp", now.to_string()),
            ("x-slack-signature", sign_slack(SLACK_SECRET, now, body.as_bytes())),
        ]
    };
    let path = "/api/v1/slack/commands";
    let form_type = "application/x-www-form-urlencoded";
    let answered = signed(&app, path, headers(form), form_type, form).await;
    let text = answered.assert_status(200)["text"].as_str().unwrap().to_string();
    assert!(text.starts_with("Started digest (fire "), "{text}");
    assert_eq!(answered.body["response_type"], "ephemeral");
    let fires = app.store.find_routine(crate::support::USER, "digest").await.unwrap();
    let fires = app.store.list_fires(crate::support::USER, fires.id, 10).await.unwrap();
    assert_eq!((fires.len(), fires[0].trigger.as_str()), (1, "slack"));
    assert_eq!(fires[0].prompt, "Digest: users want CSV");

    let unknown = "command=%2Fsteward&text=nightly";
    let answered = signed(&app, path, headers(unknown), form_type, unknown).await;
    assert_eq!(answered.assert_status(200)["text"], "There is no routine named nightly.");
    let mut forged = headers(form);
    forged[1].1 = sign_slack(b"not the secret", now, form.as_bytes());
    signed(&app, path, forged, form_type, form).await.assert_error(401, "unauthenticated", None);
    // Other endpoints still refuse a form, signed or not.
    let refused = signed(&app, "/api/v1/routines/digest/run", headers(form), form_type, form).await;
    assert_eq!(refused.status.as_u16(), 415, "{}", refused.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_are_off_without_a_key() {
    let app = TestApp::start(steward_test_support::TestDatabase::sqlite()).await;
    let refused = app.post("/api/v1/routines/digest/trigger", json!({})).await;
    assert!(refused.assert_error(403, "forbidden", None).contains("STEWARD_TRIGGER_SECRET"));
}

/// The routine's own schedule, as the API shows it.
async fn own_schedule(app: &TestApp) -> Value {
    app.get("/api/v1/schedules/morning").await.assert_status(200).clone()
}

async fn a_routine_is_edited_with_its_schedule(app: TestApp) {
    let directory = tempfile::tempdir().unwrap();
    let priorities = directory.path().join("priorities.md");
    std::fs::write(&priorities, "1. Ship\n").unwrap();
    add_morning(&app, &priorities).await;
    let writer = app.agent("Writer").await;
    let before = app.latest_event().await.unwrap();
    let edit = json!({
        "when": "weekdays at 07:30", "agent_id": writer, "text": "Plan for {{ today }}",
        "remove_deliver": ["slack:#plans"], "add_deliver": ["mailto:ada@example.com"],
        "sources": {"calendars": [], "outputs": []},
    });
    let edited = app.patch("/api/v1/routines/morning", edit).await;
    let edited = edited.assert_status(200);
    assert_eq!(
        (edited["agent_id"].as_i64(), edited["template"].as_str()),
        (Some(writer), Some("Plan for {{ today }}"))
    );
    assert_eq!(edited["deliver"], json!(["webhook:$PLAN_HOOK", "mailto:ada@example.com"]));
    assert_eq!(edited["schedules"], json!(["weekdays at 07:30"]));
    let sources = &edited["sources"];
    assert_eq!((&sources["calendars"], &sources["outputs"]), (&json!([]), &json!([])));
    assert_eq!(sources["priorities"], priorities.to_str().unwrap(), "fields not given stay: {sources}");
    assert_eq!(sources["actions"], true, "{sources}");
    let schedule = own_schedule(&app).await;
    assert_eq!((schedule["when"].as_str(), schedule["tz"].as_str()), (Some("weekdays at 07:30"), Some("Europe/Paris")));
    let schedules = app.get("/api/v1/schedules").await;
    assert_eq!(schedules.assert_status(200)["schedules"].as_array().unwrap().len(), 1, "replaced, not added");

    let events = app.get(&format!("/api/v1/events?after={before}")).await;
    let events = events.assert_status(200)["events"].as_array().unwrap().clone();
    let updated: Vec<&Value> = events.iter().filter(|event| event["kind"] == "routine.updated").collect();
    assert_eq!(updated.len(), 1, "{events:?}");
    assert_eq!(updated[0]["data"]["fields"], json!(["agent", "template", "sources", "deliver", "when"]));
    assert_eq!(updated[0]["subject_id"], edited["id"]);
    assert_eq!(updated[0]["actor"]["user_id"], crate::support::USER.get(), "who changed it");
    let kinds: Vec<&str> = events.iter().filter_map(|event| event["kind"].as_str()).collect();
    assert!(kinds.contains(&"schedule.deleted") && kinds.contains(&"schedule.created"), "{kinds:?}");

    let paused = app.patch("/api/v1/routines/morning", json!({"enabled": false})).await;
    assert_eq!(paused.assert_status(200)["enabled"], false);
    assert_eq!(own_schedule(&app).await["paused"], true);
    let moved = app.patch("/api/v1/routines/morning", json!({"when": "daily at 09:00", "tz": "Asia/Tokyo"})).await;
    assert_eq!(moved.assert_status(200)["enabled"], false, "a replaced schedule stays paused");
    let schedule = own_schedule(&app).await;
    assert_eq!((schedule["when"].as_str(), schedule["tz"].as_str()), (Some("daily at 09:00"), Some("Asia/Tokyo")));
    assert_eq!(schedule["paused"], true);
    let resumed = app.patch("/api/v1/routines/morning", json!({"enabled": true})).await;
    assert_eq!(resumed.assert_status(200)["enabled"], true);
    assert_eq!(own_schedule(&app).await["paused"], false);

    let manual = app.patch("/api/v1/routines/morning", json!({"when": null})).await;
    assert_eq!(manual.assert_status(200)["schedules"], json!([]));
    app.get("/api/v1/schedules/morning").await.assert_error(404, "not_found", None);
    let refused = app.patch("/api/v1/routines/morning", json!({"enabled": false})).await;
    refused.assert_error(422, "invalid_field", Some("enabled"));
    app.patch("/api/v1/routines/nothing", json!({"text": "x"})).await.assert_error(404, "not_found", None);
}

async fn a_refused_edit_changes_nothing(app: TestApp) {
    let directory = tempfile::tempdir().unwrap();
    let added = add_morning(&app, &directory.path().join("priorities.md")).await;
    let writer = app.agent("Writer").await;
    let before = app.latest_event().await.unwrap();
    let schedule = own_schedule(&app).await;
    let edit = |change: Value| {
        let mut body = json!({"agent_id": writer, "when": "daily at 06:00", "add_deliver": ["file:/tmp/plan.md"]});
        body.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        app.patch("/api/v1/routines/morning", body)
    };
    let message = edit(json!({"text": "Plan\n{% for e in calendar %}\n{{ e.summary }\n"}))
        .await
        .assert_error(422, "invalid_field", Some("text"))
        .to_string();
    assert!(message.contains("line 3"), "{message}");
    edit(json!({"when": "sometimes"})).await.assert_error(422, "invalid_field", Some("when"));
    edit(json!({"tz": "Mars/Olympus"})).await.assert_error(422, "invalid_field", Some("tz"));
    edit(json!({"deliver": ["sms:+3360000"]})).await.assert_error(422, "invalid_field", Some("deliver[0]"));
    edit(json!({"add_deliver": ["pager:1"]})).await.assert_error(422, "invalid_field", Some("add_deliver[0]"));
    edit(json!({"remove_deliver": ["slack:#nowhere"]})).await.assert_error(
        422,
        "invalid_field",
        Some("remove_deliver[0]"),
    );
    edit(json!({"sources": {"calendar": ["x.ics"]}})).await.assert_error(422, "invalid_field", Some("sources"));
    edit(json!({"sources": {"calendars": [""]}})).await.assert_error(
        422,
        "invalid_field",
        Some("sources.calendars[0]"),
    );
    edit(json!({"agent_id": 999_999})).await.assert_error(404, "not_found", None);
    app.patch("/api/v1/routines/morning", json!({})).await.assert_error(422, "invalid_field", Some("routine"));
    let renamed = app.patch("/api/v1/routines/morning", json!({"name": "evening"})).await;
    assert!(renamed.status.is_client_error(), "a routine is not renamed: {}", renamed.text);

    let after = app.get("/api/v1/routines/morning").await;
    let after = after.assert_status(200);
    for field in ["agent_id", "template", "deliver", "sources", "schedules", "tz", "enabled"] {
        assert_eq!(after[field], added[field], "{field} changed by a refused edit");
    }
    let kept = own_schedule(&app).await;
    assert_eq!((&kept["id"], &kept["when"]), (&schedule["id"], &schedule["when"]), "the schedule was not replaced");
    let events = app.get(&format!("/api/v1/events?after={before}")).await;
    assert_eq!(events.assert_status(200)["events"], json!([]), "no event from a refused edit");
}
