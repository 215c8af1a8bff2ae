//! `/api/v1/jobs`: enqueue one or a batch, idempotency, dependencies, lists
//! and counts, attempt history, cancel and retry, and every refusal.

use std::time::Duration;

use serde_json::{Value, json};
use steward_store::{ClaimRequest, JobOutcome, RetryDecision, Settlement};

use crate::support::{TestApp, api_tests, assert_api_snapshot};

api_tests!(
    one_job_is_created_then_found_by_its_key,
    a_batch_resolves_keys_in_any_order_and_is_atomic,
    bad_job_input_names_the_field_and_writes_nothing,
    dependency_problems_are_named,
    lists_filter_page_and_count,
    a_job_shows_its_attempts_and_timings,
    cancel_and_retry_follow_the_state_machine,
);

async fn one_job_is_created_then_found_by_its_key(app: TestApp) {
    let body = json!({
        "kind": "sleep", "payload": {"ms": 5}, "queue": "mail", "priority": 7, "delay_ms": 1500,
        "max_attempts": 3, "timeout_ms": 2000, "idempotency_key": "send-1",
    });
    let response = app.post("/api/v1/jobs", body.clone()).await;
    let created = response.assert_status(201).clone();
    assert_eq!(created["created"], true);
    assert_api_snapshot!(created);
    let run_at = created["job"]["run_at"].as_str().unwrap();
    assert_eq!(run_at, "2030-01-01T00:00:01.500Z", "delay_ms counts from the server's now");

    let again = app.post("/api/v1/jobs", body).await;
    assert_eq!(again.assert_status(200)["created"], false, "the same key returns the existing job");
    assert_eq!(again.body["job"]["id"], created["job"]["id"]);

    let defaults = app.post("/api/v1/jobs", json!({"kind": "noop"})).await;
    let job = &defaults.assert_status(201)["job"];
    assert_eq!((job["queue"].as_str(), job["priority"].as_i64()), (Some("default"), Some(0)));
    assert_eq!((job["max_attempts"].as_u64(), job["timeout_ms"].as_u64()), (Some(5), Some(300_000)));
    assert_eq!(job["payload"], json!({}));
    assert_eq!(job["state"], "queued");
}

async fn a_batch_resolves_keys_in_any_order_and_is_atomic(app: TestApp) {
    let body = json!({"jobs": [
        {"kind": "noop", "idempotency_key": "report", "depends_on": ["fetch", "parse"]},
        {"kind": "noop", "idempotency_key": "fetch"},
        {"kind": "noop", "idempotency_key": "parse", "depends_on": ["fetch"]},
    ]});
    let response = app.post("/api/v1/jobs/batch", body.clone()).await;
    let created = response.assert_status(201).clone();
    assert_eq!((created["created"].as_u64(), created["existing"].as_u64()), (Some(3), Some(0)));
    assert_api_snapshot!(created);
    let fetch = created["jobs"][1]["job"]["id"].as_i64().unwrap();
    let parse = created["jobs"][2]["job"]["id"].as_i64().unwrap();
    assert_eq!(created["jobs"][0]["job"]["depends_on"], json!([fetch, parse]));
    assert_eq!(created["jobs"][0]["job"]["state"], "blocked");

    let again = app.post("/api/v1/jobs/batch", body).await;
    assert_eq!(again.assert_status(200)["existing"], 3);

    // One bad job refuses the whole batch.
    let before = app.get("/api/v1/jobs").await.body["counts"]["total"].clone();
    let body = json!({"jobs": [{"kind": "noop"}, {"kind": "noop"}, {"kind": "noop", "depends_on": [9999]}]});
    let response = app.refused(app.post("/api/v1/jobs/batch", body)).await;
    response.assert_error(422, "invalid_field", Some("jobs[2].depends_on[0]"));
    assert_eq!(app.get("/api/v1/jobs").await.body["counts"]["total"], before);
}

async fn bad_job_input_names_the_field_and_writes_nothing(app: TestApp) {
    let cases = [
        (json!({}), "kind", "is required"),
        (json!({"kind": "teleport"}), "kind", "this server runs: fail, noop, sleep"),
        (json!({"kind": "Bad Kind"}), "kind", "lowercase"),
        (json!({"kind": "noop", "queue": ""}), "queue", "must not be empty"),
        (json!({"kind": "noop", "priority": "high"}), "priority", "expected a 32-bit integer"),
        (json!({"kind": "noop", "priority": 5000}), "priority", "between -1000 and 1000"),
        (json!({"kind": "noop", "max_attempts": 0}), "max_attempts", "between 1 and 100"),
        (json!({"kind": "noop", "max_attempts": -1}), "max_attempts", "invalid value"),
        (json!({"kind": "noop", "timeout_ms": 0}), "timeout_ms", "between 1 ms and 7 days"),
        (json!({"kind": "noop", "run_at": "2030-13-01"}), "run_at", "RFC 3339"),
        (json!({"kind": "noop", "run_at": "2030-01-02T00:00:00Z", "delay_ms": 5}), "delay_ms", "not both"),
        (json!({"kind": "noop", "delay_ms": -5}), "delay_ms", "invalid value"),
        (json!({"kind": "noop", "idempotency_key": ""}), "idempotency_key", "must not be empty"),
        (
            json!({"kind": "noop", "depends_on": [true]}),
            "depends_on[0]",
            "a job id (a positive integer) or an idempotency key",
        ),
        (json!({"kind": "noop", "depends_on": [0]}), "depends_on[0]", "positive"),
        (json!({"kind": "noop", "depends_on": "x"}), "depends_on", "expected an array"),
        (json!({"kind": "noop", "priorty": 1}), "priorty", "unknown field"),
    ];
    for (body, field, fragment) in cases {
        let response = app.refused(app.post("/api/v1/jobs", body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(fragment), "{body}: {message}");
    }

    let batch_cases = [
        (json!({"jobs": []}), "jobs", "at least one"),
        (
            json!({"jobs": [{"kind": "noop"}, {"kind": "noop"}, {"kind": "noop", "priority": "high"}]}),
            "jobs[2].priority",
            "integer",
        ),
        (json!({"jobs": [{"kind": "noop"}, {"kind": "nope"}]}), "jobs[1].kind", "unknown job kind"),
        (
            json!({"jobs": [{"kind": "noop", "delay_ms": 1, "run_at": "2030-01-01T00:00:00Z"}]}),
            "jobs[0].delay_ms",
            "not both",
        ),
        (
            json!({"jobs": [{"kind": "noop", "idempotency_key": "a"}, {"kind": "noop", "idempotency_key": "a"}]}),
            "jobs[1].idempotency_key",
            "also the key of jobs[0]",
        ),
        (json!({"job": []}), "job", "unknown field"),
    ];
    for (body, field, fragment) in batch_cases {
        let response = app.refused(app.post("/api/v1/jobs/batch", body.clone())).await;
        let message = response.assert_error(422, "invalid_field", Some(field));
        assert!(message.contains(fragment), "{body}: {message}");
    }
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"kind": "noop"})).collect();
    let response = app.refused(app.post("/api/v1/jobs/batch", json!({ "jobs": too_many }))).await;
    let message = response.assert_error(422, "invalid_field", Some("jobs"));
    assert!(message.contains("the limit is 1000"), "{message}");
    assert_eq!(app.get("/api/v1/jobs").await.body["counts"]["total"], 0);
}

async fn dependency_problems_are_named(app: TestApp) {
    let response = app.refused(app.post("/api/v1/jobs", json!({"kind": "noop", "depends_on": [4242]}))).await;
    let message = response.assert_error(422, "invalid_field", Some("depends_on[0]"));
    assert_eq!(message, "there is no job 4242");
    let response = app.refused(app.post("/api/v1/jobs", json!({"kind": "noop", "depends_on": ["ghost"]}))).await;
    response.assert_error(422, "invalid_field", Some("depends_on[0]"));
    let response = app
        .refused(app.post("/api/v1/jobs", json!({"kind": "noop", "idempotency_key": "me", "depends_on": ["me"]})))
        .await;
    let message = response.assert_error(422, "invalid_field", Some("depends_on[0]"));
    assert!(message.contains("cycle"), "{message}");

    let cycle = json!({"jobs": [
        {"kind": "noop", "idempotency_key": "a", "depends_on": ["b"]},
        {"kind": "noop", "idempotency_key": "b", "depends_on": ["c"]},
        {"kind": "noop", "idempotency_key": "c", "depends_on": ["a"]},
    ]});
    let response = app.refused(app.post("/api/v1/jobs/batch", cycle)).await;
    let message = response.assert_error(422, "invalid_field", Some("jobs[0].depends_on[0]"));
    assert!(message.contains("dependency cycle") && message.contains("\"a\""), "{message}");

    let doomed = app.job(json!({"kind": "noop"})).await;
    app.post_empty(&format!("/api/v1/jobs/{doomed}/cancel")).await.assert_status(200);
    let response = app.refused(app.post("/api/v1/jobs", json!({"kind": "noop", "depends_on": [doomed]}))).await;
    let message = response.assert_error(409, "dependency_failed", Some("depends_on[0]"));
    assert!(message.contains("retry it first"), "{message}");
}

async fn lists_filter_page_and_count(app: TestApp) {
    let mut ids = Vec::new();
    for index in 0..5 {
        let queue = if index % 2 == 0 { "even" } else { "odd" };
        ids.push(app.job(json!({"kind": "noop", "queue": queue})).await);
    }
    app.job(json!({"kind": "sleep", "payload": {"ms": 1}})).await;
    app.post_empty(&format!("/api/v1/jobs/{}/cancel", ids[0])).await.assert_status(200);

    let all = app.get("/api/v1/jobs").await;
    let counts = &all.assert_status(200)["counts"];
    assert_eq!(
        (counts["queued"].as_u64(), counts["cancelled"].as_u64(), counts["total"].as_u64()),
        (Some(5), Some(1), Some(6))
    );
    assert_eq!(all.body["jobs"][0]["kind"], "sleep", "newest first");
    assert_eq!(all.body["next_before"], json!(null));

    let even = app.get("/api/v1/jobs?queue=even").await;
    assert_eq!(even.body["jobs"].as_array().unwrap().len(), 3);
    assert_eq!(even.body["counts"]["total"], 3, "counts follow the queue and kind filters");
    let states = app.get("/api/v1/jobs?state=cancelled,blocked").await;
    assert_eq!(states.body["jobs"].as_array().unwrap().len(), 1);
    let states = app.get("/api/v1/jobs?state=cancelled&state=queued&kind=noop").await;
    assert_eq!(states.body["jobs"].as_array().unwrap().len(), 5);

    let first_page = app.get("/api/v1/jobs?limit=4").await;
    assert_eq!(first_page.body["jobs"].as_array().unwrap().len(), 4);
    let before = first_page.body["next_before"].as_i64().unwrap();
    let second_page = app.get(&format!("/api/v1/jobs?limit=4&before={before}")).await;
    let rest: Vec<i64> =
        second_page.body["jobs"].as_array().unwrap().iter().map(|job| job["id"].as_i64().unwrap()).collect();
    assert_eq!(rest, [ids[1], ids[0]]);
    assert_eq!(second_page.body["next_before"], json!(null));

    for (query, parameter) in [
        ("state=finished", "state"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("before=-1", "before"),
        ("queue=", "queue"),
        ("sort=id", "sort"),
        ("limit=1&limit=2", "limit"),
    ] {
        app.get(&format!("/api/v1/jobs?{query}")).await.assert_error(400, "invalid_parameter", Some(parameter));
    }
}

async fn a_job_shows_its_attempts_and_timings(app: TestApp) {
    let id = app.job(json!({"kind": "noop", "max_attempts": 3})).await;
    let lease = Duration::from_secs(30);
    app.clock.advance(chrono::Duration::milliseconds(250));
    let claimed = app.store.claim(ClaimRequest::new("worker-a", 1, lease)).await.unwrap().jobs.remove(0);
    app.clock.advance(chrono::Duration::milliseconds(100));
    let failure = JobOutcome::Failed {
        error: "the network was down".into(),
        retry: RetryDecision::Retryable { after: Some(Duration::from_secs(2)) },
    };
    app.store
        .settle(vec![Settlement { lease: claimed.lease(), worker_id: "worker-a".into(), outcome: failure }])
        .await
        .unwrap();

    app.clock.advance(chrono::Duration::seconds(2));
    let claimed = app.store.claim(ClaimRequest::new("worker-b", 1, lease)).await.unwrap().jobs.remove(0);
    let running = app.get(&format!("/api/v1/jobs/{id}")).await;
    assert_eq!(running.assert_status(200)["attempt_history"][1]["outcome"], "running");
    assert_eq!(running.body["lease_owner"], "worker-b");

    app.clock.advance(chrono::Duration::milliseconds(40));
    let success = JobOutcome::Completed { result: json!({"sent": 3}) };
    app.store
        .settle(vec![Settlement { lease: claimed.lease(), worker_id: "worker-b".into(), outcome: success }])
        .await
        .unwrap();

    let detail = app.get(&format!("/api/v1/jobs/{id}")).await;
    let body = detail.assert_status(200);
    assert_eq!(body["timings"], json!({"wait_ms": 250, "run_ms": 140, "total_ms": 2390}));
    assert_eq!(body["attempt_history"][0]["duration_ms"], 100);
    assert_api_snapshot!(body);

    let missing = app.get(&format!("/api/v1/jobs/{}", id + 100)).await;
    assert_eq!(missing.assert_error(404, "not_found", None), format!("there is no job {}", id + 100));
}

async fn cancel_and_retry_follow_the_state_machine(app: TestApp) {
    let parent = app.job(json!({"kind": "noop", "idempotency_key": "parent"})).await;
    let child = app.job(json!({"kind": "noop", "depends_on": ["parent"]})).await;

    let cancelled = app.post_empty(&format!("/api/v1/jobs/{parent}/cancel")).await;
    assert_eq!(cancelled.assert_status(200)["state"], "cancelled");
    assert_eq!(cancelled.body["state_reason"], "requested");
    let child_state = app.get(&format!("/api/v1/jobs/{child}")).await;
    assert_eq!(child_state.body["state"], "cancelled");
    assert_eq!(child_state.body["state_reason"], "dependency_failed");

    let response = app.refused(app.post_empty(&format!("/api/v1/jobs/{parent}/cancel"))).await;
    let message = response.assert_error(409, "illegal_transition", None);
    assert!(message.contains("only blocked, queued or running jobs can be cancelled"), "{message}");

    let retried = app.post_empty(&format!("/api/v1/jobs/{parent}/retry")).await;
    assert_eq!(retried.assert_status(200)["state"], "queued");
    assert_eq!(app.get(&format!("/api/v1/jobs/{child}")).await.body["state"], "blocked", "the dependent is restored");
    let response = app.refused(app.post_empty(&format!("/api/v1/jobs/{parent}/retry"))).await;
    response.assert_error(409, "illegal_transition", None);

    for path in ["/api/v1/jobs/abc", "/api/v1/jobs/0", "/api/v1/jobs/abc/cancel", "/api/v1/jobs/-1/retry"] {
        let response = if path.ends_with("cancel") || path.ends_with("retry") {
            app.refused(app.post_empty(path)).await
        } else {
            app.get(path).await
        };
        response.assert_error(400, "invalid_parameter", Some("id"));
    }
    app.refused(app.post_empty("/api/v1/jobs/31337/cancel")).await.assert_error(404, "not_found", None);
}
