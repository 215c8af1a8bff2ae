//! The dashboard's side of the server: the embedded app at `/` (content
//! types, caching, compression, the CSP, pages as `index.html`, the API's
//! error shape kept for unknown API paths) and the read-only reports it
//! draws (`/api/v1/costs`, `/api/v1/events/latest`).

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use steward_domain::{Clock, NewRunStep, RunId, StepKind, TokenUsage};
use steward_fake_llm::{Reply, ReplyUsage};
use tower::ServiceExt;

use crate::support::{TestApp, TestResponse, api_tests};

api_tests!(
    the_app_is_served_with_its_headers,
    pages_get_the_app_and_unknown_api_paths_keep_the_error_shape,
    costs_are_split_by_utc_day_agent_and_model,
    bad_cost_spans_name_the_parameter,
    the_latest_event_id_is_where_the_log_ends,
);

async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::builder().method(Method::GET).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// The body's bytes as sent (compressed or not).
async fn body_bytes(app: &TestApp, path: &str, accept_encoding: &str) -> usize {
    let request = Request::get(path).header("accept-encoding", accept_encoding).body(Body::empty()).unwrap();
    let response = app.router().oneshot(request).await.unwrap();
    axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().len()
}

fn header<'a>(response: &'a TestResponse, name: &str) -> &'a str {
    response.headers.get(name).map(|value| value.to_str().unwrap()).unwrap_or_default()
}

/// The script `index.html` loads, e.g. `/assets/index-abc123.js`.
fn script_of(index: &str) -> String {
    let start = index.find("src=\"/assets/").expect("index.html loads a script from /assets/") + 5;
    let end = start + index[start..].find('"').unwrap();
    index[start..end].to_string()
}

async fn the_app_is_served_with_its_headers(app: TestApp) {
    let index = app.get("/").await;
    index.assert_status(200);
    assert_eq!(header(&index, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&index, "cache-control"), "no-cache", "index.html is revalidated every time");
    let csp = header(&index, "content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("http") && !csp.contains('*') && !csp.contains("unsafe"), "no other origin: {csp}");
    assert_eq!(header(&index, "x-content-type-options"), "nosniff");
    assert!(index.text.contains("<div id=\"app\">"), "{}", index.text);
    assert!(!index.text.contains("https://") && !index.text.contains("http://"), "nothing from elsewhere");

    // Revalidation: the same ETag answers 304 with no body.
    let etag = header(&index, "etag").to_string();
    assert!(etag.starts_with('"'), "{etag}");
    let again = get_with(&app, "/", &[("if-none-match", &etag)]).await;
    assert_eq!((again.status.as_u16(), again.text.as_str()), (304, ""));

    // A hashed script: cached for good, brotli or gzip as accepted.
    let script = script_of(&index.text);
    let plain = app.get(&script).await;
    plain.assert_status(200);
    assert_eq!(header(&plain, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&plain, "cache-control"), "public, max-age=31536000, immutable");
    assert_eq!(header(&plain, "content-encoding"), "");
    let brotli = get_with(&app, &script, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(header(&brotli, "content-encoding"), "br");
    let (plain_bytes, brotli_bytes) =
        (body_bytes(&app, &script, "identity").await, body_bytes(&app, &script, "br").await);
    assert!(brotli_bytes < plain_bytes / 2, "the brotli copy is smaller: {brotli_bytes} of {plain_bytes} bytes");
    let gzip = get_with(&app, &script, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    assert_eq!(header(&gzip, "vary"), "Accept-Encoding");
    let icon = app.get("/favicon.svg").await;
    assert_eq!((icon.status.as_u16(), header(&icon, "content-type")), (200, "image/svg+xml"));
}

async fn pages_get_the_app_and_unknown_api_paths_keep_the_error_shape(app: TestApp) {
    let index = app.get("/").await.text;
    for page in ["/agents/3", "/runs", "/kanban?mode=jobs", "/agents/3/chat"] {
        let response = app.get(page).await;
        response.assert_status(200);
        assert_eq!(response.text, index, "{page} is drawn by the app");
        assert_eq!(header(&response, "cache-control"), "no-cache");
    }
    for path in ["/api/v1/nothing", "/api", "/api/v2/jobs", "/assets/missing.js", "/assets/missing", "/robots.txt"] {
        let message = app.get(path).await.assert_error(404, "route_not_found", None).to_string();
        assert!(message.contains(path.split('?').next().unwrap()), "{message}");
    }
    // The compressed copies are not files of their own.
    let script = script_of(&index);
    app.get(&format!("{script}.br")).await.assert_error(404, "route_not_found", None);
    // Writes to a page path are not the dashboard's.
    app.request(Method::POST, "/agents", None).await.assert_error(404, "route_not_found", None);
}

/// A model call of `run` finishing at `at`.
fn model_call(run: RunId, sequence: u32, model: &str, cost_usd: Option<f64>, at: chrono::DateTime<Utc>) -> NewRunStep {
    NewRunStep {
        run_id: run,
        sequence,
        kind: StepKind::ModelCall,
        name: model.into(),
        content: json!({"content": [], "tool_calls": []}),
        usage: Some(TokenUsage { input_tokens: 1000, output_tokens: 100, cache_read_tokens: 0, cache_write_tokens: 0 }),
        cost_usd,
        time_to_first_token: None,
        stop_reason: Some("end_turn".into()),
        error: None,
        started_at: at - Duration::seconds(1),
        finished_at: at,
    }
}

async fn costs_are_split_by_utc_day_agent_and_model(app: TestApp) {
    let empty = app.get("/api/v1/costs").await;
    assert_eq!(empty.assert_status(200), &json!({"since": "2029-12-03", "days": 30, "entries": []}));

    let writer = app.agent("Writer").await;
    let reader = app.agent("Reader").await;
    // Writer's run: two priced calls on 1 January (UTC) with two models, one
    // of unknown price on 2 January.
    let started = app.post(&format!("/api/v1/agents/{writer}/runs"), json!({"instruction": "Write"})).await;
    let run = RunId(started.body["id"].as_i64().unwrap());
    app.store.begin_run(run, steward_domain::JobId(started.body["job_id"].as_i64().unwrap())).await.unwrap();
    let new_year = Utc.with_ymd_and_hms(2030, 1, 1, 23, 0, 0).unwrap();
    app.store.append_step(model_call(run, 0, "anthropic/claude-a", Some(0.5), new_year)).await.unwrap();
    app.store.append_step(model_call(run, 1, "openai/gpt-b", Some(0.25), new_year)).await.unwrap();
    app.store.append_step(model_call(run, 2, "anthropic/claude-a", None, new_year + Duration::hours(2))).await.unwrap();
    // Reader's chat reply on 2 January: priced by the runtime from the fake's usage.
    app.clock.set(Utc.with_ymd_and_hms(2030, 1, 2, 8, 0, 0).unwrap());
    app.fake().push(Reply::text("Noted.").with_usage(ReplyUsage {
        input_tokens: 1_000_000,
        output_tokens: 0,
        ..Default::default()
    }));
    app.post(&format!("/api/v1/agents/{reader}/chat"), json!({"message": "Hello"})).await.assert_status(200);

    let report = app.get("/api/v1/costs?days=2").await;
    let body = report.assert_status(200);
    assert_eq!((body["since"].as_str(), body["days"].as_u64()), (Some("2030-01-01"), Some(2)));
    let entries = body["entries"].as_array().unwrap();
    let summary: Vec<(&str, i64, Option<&str>, u64, u64)> = entries
        .iter()
        .map(|entry| {
            (
                entry["day"].as_str().unwrap(),
                entry["agent_id"].as_i64().unwrap(),
                entry["model"].as_str(),
                entry["model_calls"].as_u64().unwrap(),
                entry["unknown_cost_calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("2030-01-01", writer, Some("anthropic/claude-a"), 1, 0),
            ("2030-01-01", writer, Some("openai/gpt-b"), 1, 0),
            ("2030-01-02", writer, Some("anthropic/claude-a"), 1, 1),
            ("2030-01-02", reader, None, 1, 0),
        ]
    );
    assert_eq!(entries[0]["cost_usd"], 0.5);
    assert_eq!((entries[0]["input_tokens"].as_u64(), entries[0]["output_tokens"].as_u64()), (Some(1000), Some(100)));
    assert_eq!(entries[2]["cost_usd"], 0.0, "an unknown price is counted apart, not as $0");
    let chat_cost = entries[3]["cost_usd"].as_f64().unwrap();
    assert!(chat_cost > 0.0, "the chat reply is priced: {}", entries[3]);
    // The same spending the agents' metrics count.
    let metrics = app.get(&format!("/api/v1/agents/{reader}/metrics")).await;
    assert_eq!(metrics.body["cost_usd_total"].as_f64(), Some(chat_cost));

    // Today only: 2 January.
    let today = app.get("/api/v1/costs?days=1").await;
    let days: Vec<&str> =
        today.body["entries"].as_array().unwrap().iter().map(|entry| entry["day"].as_str().unwrap()).collect();
    assert_eq!(days, ["2030-01-02", "2030-01-02"]);
    assert_eq!(app.clock.now().date_naive().to_string(), "2030-01-02");
}

async fn bad_cost_spans_name_the_parameter(app: TestApp) {
    for query in ["days=0", "days=367", "days=week", "days=-1", "days=1&days=2"] {
        app.get(&format!("/api/v1/costs?{query}")).await.assert_error(400, "invalid_parameter", Some("days"));
    }
    app.get("/api/v1/costs?agent=1").await.assert_error(400, "invalid_parameter", Some("agent"));
    app.get("/api/v1/costs?days=366").await.assert_status(200);
}

async fn the_latest_event_id_is_where_the_log_ends(app: TestApp) {
    assert_eq!(app.get("/api/v1/events/latest").await.assert_status(200), &json!({"id": null}));
    app.agent("Writer").await;
    let latest = app.get("/api/v1/events/latest").await.body["id"].as_i64().unwrap();
    let events = app.get("/api/v1/events?limit=1000").await;
    let last = events.body["events"].as_array().unwrap().last().unwrap()["id"].as_i64().unwrap();
    assert_eq!(latest, last);
    app.get("/api/v1/events/latest?after=1").await.assert_error(400, "invalid_parameter", Some("after"));
}
