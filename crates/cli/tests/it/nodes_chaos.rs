//! Chaos across nodes (issue #16): three `steward serve` processes on one
//! PostgreSQL schema drain keyed jobs while, one node at a time, they are
//! killed with SIGKILL and restarted, and once stopped with SIGTERM (a
//! graceful drain) and restarted. Afterwards every job completed exactly
//! once, each side effect happened once, and every attempt a node started
//! ended exactly one way (completed, released, lease expired, failed).
//!
//! Jobs a killed node held — running or claimed ahead into its local
//! queue — come back after its two-second lease, through another node's
//! reclaim. Skipped when `STEWARD_TEST_DATABASE_URL` is not set.
//!
//! CI drains 2,000 jobs; `STEWARD_CHAOS_JOBS=20000` runs the full
//! size (the killer keeps stopping a node every second or so until the
//! last job completes).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};
use steward_store::DatabaseUrl;
use steward_test_support::TestDatabase;

use crate::support::{ServerOptions, ServerProcess};

/// How many jobs: `STEWARD_CHAOS_JOBS`, else 2,000.
fn jobs() -> usize {
    std::env::var("STEWARD_CHAOS_JOBS").ok().and_then(|text| text.parse().ok()).unwrap_or(2_000)
}
const BATCH: usize = 250;
const NODES: usize = 3;
const MINIMUM_KILLS: usize = 4;

fn key(index: usize) -> String {
    format!("chaos-{index:05}")
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> Option<Value> {
    let response = client.get(format!("{base}{path}")).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

/// The URL of a node that is up now (the killer restarts one at a time).
fn any_url(urls: &Mutex<Vec<String>>, turn: usize) -> String {
    let urls = urls.lock().unwrap();
    urls[turn % urls.len()].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_three_nodes_lose_no_job_and_complete_none_twice() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let jobs_total = jobs();
    let DatabaseUrl::Postgres(database_url) = &database.url else { unreachable!("a PostgreSQL database") };
    // One home for the three nodes, so the effect of a job run again on
    // another node lands in the same place and is made once.
    let home = tempfile::tempdir().unwrap();
    let node = || {
        ServerOptions::default()
            .home(home.path())
            .arg("--database")
            .arg(database_url.clone())
            .arg("--dev-handlers")
            .arg("--workers")
            .arg("4")
            .env("STEWARD_WORKERS__LEASE_SECS", "2")
            .start()
    };
    let nodes: Vec<ServerProcess> = (0..NODES).map(|_| node()).collect();
    let urls = Arc::new(Mutex::new(nodes.iter().map(|node| node.url().to_string()).collect::<Vec<_>>()));
    let nodes = Arc::new(Mutex::new(nodes));
    let effects = home.path().join("dev-effects").join("chaos");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();

    // Enqueued through the first node, before the chaos starts.
    for start in (0..jobs_total).step_by(BATCH) {
        let jobs: Vec<Value> = (start..(start + BATCH).min(jobs_total))
            .map(|index| {
                json!({
                    "kind": "effect",
                    "payload": { "dir": "chaos", "sleep_ms": 20 + (index % 4) as u64 * 10 },
                    "idempotency_key": key(index),
                    "max_attempts": 100,
                })
            })
            .collect();
        let base = any_url(&urls, 0);
        let response =
            client.post(format!("{base}/api/v1/jobs/batch")).json(&json!({ "jobs": jobs })).send().await.unwrap();
        assert!(response.status().is_success(), "enqueue refused: {}", response.text().await.unwrap());
    }

    // The killer: every second or so one node dies (SIGKILL) and comes
    // back, until every job completed (and at least MINIMUM_KILLS + 1
    // times); the third stop is a SIGTERM, which drains gracefully.
    let kills = Arc::new(AtomicUsize::new(0));
    let terms = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let (nodes, urls, kills, terms, done) =
            (nodes.clone(), urls.clone(), kills.clone(), terms.clone(), done.clone());
        std::thread::spawn(move || {
            let mut random = rand::rng();
            let mut stops = 0;
            while !done.load(Ordering::SeqCst) || stops < MINIMUM_KILLS + 1 {
                std::thread::sleep(Duration::from_millis(random.random_range(700..1300)));
                let victim = random.random_range(0..NODES);
                let mut nodes = nodes.lock().unwrap();
                if stops == 2 {
                    let status = nodes[victim].terminate();
                    assert!(status.success(), "a SIGTERM drain exits cleanly: {status}");
                    terms.fetch_add(1, Ordering::SeqCst);
                } else {
                    kills.fetch_add(1, Ordering::SeqCst);
                }
                nodes[victim].restart();
                urls.lock().unwrap()[victim] = nodes[victim].url().to_string();
                stops += 1;
            }
        })
    };

    // About 350 jobs a second drain between the stops; generous for a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(90 + (jobs_total / 50) as u64);
    let mut turn = 0;
    let counts = loop {
        turn += 1;
        let base = any_url(&urls, turn);
        if let Some(health) = get(&client, &base, "/api/v1/health").await {
            let counts: BTreeMap<String, u64> = serde_json::from_value(health["jobs"].clone()).unwrap();
            if counts.get("completed").copied().unwrap_or(0) as usize >= jobs_total {
                done.store(true, Ordering::SeqCst);
                if killer.is_finished() {
                    break counts;
                }
            }
        }
        let log = || std::fs::read_to_string(home.path().join("serve.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "the jobs did not all complete; log:\n{}", log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    killer.join().unwrap();
    assert_eq!(counts["completed"] as usize, jobs_total, "job counts by state: {counts:?}");
    assert_eq!(counts["total"] as usize, jobs_total, "job counts by state: {counts:?}");

    // Each effect once, although executions were repeated.
    let effect_files = std::fs::read_dir(effects.join("effects")).unwrap().count();
    assert_eq!(effect_files, jobs_total, "one effect file per job");

    // Every attempt started ended one way, and each job completed once.
    let base = any_url(&urls, 0);
    let attempts = job_attempts(&client, &base).await;
    assert_eq!(attempts.len(), jobs_total);
    let events = job_events(&client, &base).await;
    let mut repeated = 0;
    for (job, attempts) in &attempts {
        let kinds = events.get(job).cloned().unwrap_or_default();
        let count = |kind: &str| kinds.get(kind).copied().unwrap_or(0);
        assert_eq!(count("job.completed"), 1, "job {job} completed once: {kinds:?}");
        let ended = count("job.completed")
            + count("job.released")
            + count("job.lease_expired")
            + count("job.failed")
            + count("job.dead");
        assert_eq!(count("job.started"), ended, "job {job}: every attempt started ended one way: {kinds:?}");
        assert_eq!(
            count("job.started") - count("job.released"),
            *attempts,
            "job {job}: its attempts are those started and not handed back: {kinds:?}"
        );
        if count("job.started") > 1 {
            repeated += 1;
        }
    }
    let (kills, terms) = (kills.load(Ordering::SeqCst), terms.load(Ordering::SeqCst));
    eprintln!("chaos: {kills} kills, {terms} SIGTERM drains; {repeated} jobs started more than once");
    assert!(kills >= MINIMUM_KILLS && terms == 1, "{kills} kills, {terms} SIGTERM drains");
    assert!(repeated > 0, "no job started twice: the stops hit no held or running job, so this proves nothing");
}

/// Each job's attempts, by id.
async fn job_attempts(client: &reqwest::Client, base: &str) -> BTreeMap<i64, usize> {
    let mut attempts = BTreeMap::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(before) => format!("/api/v1/jobs?limit=1000&before={before}"),
            None => "/api/v1/jobs?limit=1000".to_string(),
        };
        let page = get(client, base, &path).await.expect("list jobs");
        let jobs = page["jobs"].as_array().unwrap();
        if jobs.is_empty() {
            return attempts;
        }
        for job in jobs {
            attempts.insert(job["id"].as_i64().unwrap(), job["attempts"].as_u64().unwrap() as usize);
        }
        before = jobs.last().and_then(|job| job["id"].as_i64());
    }
}

/// How many events of each kind each job has.
async fn job_events(client: &reqwest::Client, base: &str) -> BTreeMap<i64, BTreeMap<String, usize>> {
    let mut counts: BTreeMap<i64, BTreeMap<String, usize>> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = get(client, base, &format!("/api/v1/events?kind=job.&limit=1000&after={after}"))
            .await
            .expect("list events");
        for event in page["events"].as_array().unwrap() {
            let kind = event["kind"].as_str().unwrap().to_string();
            *counts.entry(event["subject_id"].as_i64().unwrap()).or_default().entry(kind).or_default() += 1;
        }
        if !page["has_more"].as_bool().unwrap() {
            return counts;
        }
        after = page["next_after"].as_i64().unwrap();
    }
}
