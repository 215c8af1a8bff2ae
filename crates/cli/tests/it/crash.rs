//! The crash test (issue #2, proof 2): 10,000 jobs whose handler performs a
//! side effect keyed by the job's idempotency key; `steward serve` is killed
//! with SIGKILL at random moments — during the enqueue and while jobs run —
//! at least ten times and restarted each time. Afterwards every job has
//! completed, none was lost or duplicated, and every side effect happened
//! exactly once, although executions were repeated.
//!
//! The `effect` job kind (enabled by `--dev-handlers`) appends each execution
//! to `executions.log` and performs its effect by creating `effects/<key>`
//! exclusively, so the effect is idempotent by key while executions are not.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use crate::support::ServerOptions;

const JOBS: usize = 10_000;
const BATCH: usize = 250;
const MINIMUM_KILLS: usize = 10;

fn key(index: usize) -> String {
    format!("effect-{index:05}")
}

/// Posts `body` to the server at whatever URL it has now, retrying while it
/// is down or restarting.
async fn post_until_accepted(client: &reqwest::Client, url: &Mutex<String>, path: &str, body: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let base = url.lock().unwrap().clone();
        if let Ok(response) = client.post(format!("{base}{path}")).json(body).send().await {
            let status = response.status();
            if status.is_success() {
                return response.json().await.unwrap();
            }
            assert!(status.is_server_error(), "{path} was refused with {status}: {}", response.text().await.unwrap());
        }
        assert!(Instant::now() < deadline, "{path} was not accepted within two minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Option<Value> {
    let response = client.get(format!("{base}{path}")).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_kill9_loses_no_job_and_repeats_no_side_effect() {
    let server = ServerOptions::default()
        .arg("--dev-handlers")
        .arg("--workers")
        .arg("8")
        // Short leases are not needed: on SQLite every job left running by a
        // killed process is taken back at start-up.
        .start();
    let url = Arc::new(Mutex::new(server.url().to_string()));
    // The effect handler writes only under the home's `dev-effects/`.
    let effects = server.home().join("dev-effects").join("crash");
    let server = Arc::new(Mutex::new(server));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let kills = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    // Completed jobs as last seen; the killer keeps going until 90% are done,
    // so crashes land throughout the drain, not only at its start.
    let progress = Arc::new(AtomicUsize::new(0));

    // The killer: SIGKILL at a random moment, restart, repeat.
    let killer = {
        let (server, url, kills, done, progress) =
            (server.clone(), url.clone(), kills.clone(), done.clone(), progress.clone());
        std::thread::spawn(move || {
            let mut random = rand::rng();
            while (kills.load(Ordering::SeqCst) < MINIMUM_KILLS || progress.load(Ordering::SeqCst) < JOBS * 9 / 10)
                && !done.load(Ordering::SeqCst)
            {
                std::thread::sleep(Duration::from_millis(random.random_range(100..600)));
                let mut server = server.lock().unwrap();
                server.restart();
                *url.lock().unwrap() = server.url().to_string();
                kills.fetch_add(1, Ordering::SeqCst);
            }
        })
    };

    // The enqueuer: 10,000 keyed jobs in batches, retried across crashes.
    // The idempotency keys make a retried batch return the jobs it created.
    let dir = "crash";
    for start in (0..JOBS).step_by(BATCH) {
        let jobs: Vec<Value> = (start..(start + BATCH).min(JOBS))
            .map(|index| {
                json!({
                    "kind": "effect",
                    "payload": { "dir": dir, "sleep_ms": (index % 7) as u64 + 1 },
                    "idempotency_key": key(index),
                    "max_attempts": 100,
                })
            })
            .collect();
        post_until_accepted(&client, &url, "/api/v1/jobs/batch", &json!({ "jobs": jobs })).await;
    }
    let work_left_when_enqueued = completed(&client, &url).await.map(|done| JOBS - done);

    // Wait for the killer to finish, then for the queue to drain.
    let deadline = Instant::now() + Duration::from_secs(180);
    while !killer.is_finished() {
        if let Some(completed) = completed(&client, &url).await {
            progress.store(completed, Ordering::SeqCst);
        }
        assert!(Instant::now() < deadline, "the killer did not finish; log:\n{}", server.lock().unwrap().log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let work_left_after_kills = completed(&client, &url).await.map(|done| JOBS - done);
    let deadline = Instant::now() + Duration::from_secs(180);
    let counts = loop {
        let base = url.lock().unwrap().clone();
        if let Some(health) = get(&client, &base, "/api/v1/health").await {
            let counts: BTreeMap<String, u64> = serde_json::from_value(health["jobs"].clone()).unwrap();
            if counts.get("completed").copied().unwrap_or(0) as usize >= JOBS {
                break counts;
            }
        }
        assert!(Instant::now() < deadline, "the jobs did not all complete; log:\n{}", server.lock().unwrap().log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    done.store(true, Ordering::SeqCst);
    let kills = kills.load(Ordering::SeqCst);
    assert!(kills >= MINIMUM_KILLS, "only {kills} kills");
    assert!(
        work_left_after_kills.is_some_and(|left| left > 0),
        "the jobs finished before the last kill ({work_left_after_kills:?} left), so not every kill hit running work"
    );

    // No job lost or duplicated: exactly 10,000 jobs, all completed.
    let by_state: u64 = counts.iter().filter(|(state, _)| *state != "total").map(|(_, count)| count).sum();
    assert_eq!(by_state as usize, JOBS, "job counts by state: {counts:?}");
    assert_eq!(counts["total"] as usize, JOBS, "job counts by state: {counts:?}");
    assert_eq!(counts["completed"] as usize, JOBS, "job counts by state: {counts:?}");

    // Every effect exactly once, and written by the job holding that key.
    let ids_by_key = job_ids_by_key(&client, &url).await;
    assert_eq!(ids_by_key.len(), JOBS);
    let effect_files = std::fs::read_dir(effects.join("effects")).unwrap().count();
    assert_eq!(effect_files, JOBS, "one effect file per job");
    for index in 0..JOBS {
        let written = std::fs::read_to_string(effects.join("effects").join(key(index)))
            .unwrap_or_else(|_| panic!("the effect of {} never happened", key(index)));
        assert_eq!(written, ids_by_key[&key(index)].to_string(), "effect of {} written by another job", key(index));
    }

    // Executions were repeated (that is what the kills do), effects were not.
    let executions = count_executions(&effects);
    let executed_keys = executions.len();
    let repeated: usize = executions.values().filter(|count| **count > 1).count();
    assert_eq!(executed_keys, JOBS);
    eprintln!(
        "crash test: {kills} kills; {} executions for {JOBS} jobs ({repeated} jobs executed more than once); \
         work left when enqueued {work_left_when_enqueued:?}, after the last kill {work_left_after_kills:?}",
        executions.values().sum::<usize>(),
    );
    assert!(repeated > 0, "no job ran twice: the kills did not interrupt running jobs, so this proves nothing");
}

async fn completed(client: &reqwest::Client, url: &Mutex<String>) -> Option<usize> {
    let base = url.lock().unwrap().clone();
    let health = get(client, &base, "/api/v1/health").await?;
    health["jobs"]["completed"].as_u64().map(|count| count as usize)
}

async fn job_ids_by_key(client: &reqwest::Client, url: &Mutex<String>) -> BTreeMap<String, i64> {
    let base = url.lock().unwrap().clone();
    let mut ids = BTreeMap::new();
    let mut before: Option<i64> = None;
    loop {
        let page_path = match before {
            Some(before) => format!("/api/v1/jobs?limit=1000&before={before}"),
            None => "/api/v1/jobs?limit=1000".to_string(),
        };
        let page = get(client, &base, &page_path).await.expect("list jobs");
        let jobs = page["jobs"].as_array().unwrap();
        if jobs.is_empty() {
            break;
        }
        for job in jobs {
            let key = job["idempotency_key"].as_str().unwrap().to_string();
            let id = job["id"].as_i64().unwrap();
            assert!(ids.insert(key.clone(), id).is_none(), "two jobs hold the key {key}");
        }
        before = jobs.last().and_then(|job| job["id"].as_i64());
    }
    ids
}

/// Executions per key, from `executions.log` (one line per execution).
fn count_executions(dir: &Path) -> BTreeMap<String, usize> {
    let log = std::fs::read_to_string(dir.join("executions.log")).unwrap();
    let mut counts = BTreeMap::new();
    for line in log.lines() {
        // A SIGKILL can cut the last line written short; such a fragment is
        // not a complete execution record.
        let mut parts = line.split_whitespace();
        let (Some(_job), Some(_attempt), Some(executed)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if executed.len() == key(0).len() {
            *counts.entry(executed.to_string()).or_insert(0) += 1;
        }
    }
    counts
}
