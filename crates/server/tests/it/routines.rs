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

api_tests!(a_routine_is_previewed_fired_replayed_and_removed, refusals_name_the_field);

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
