//! Several Steward processes sharing one PostgreSQL database, played by
//! several `PostgresStore`s on one schema: claims stay disjoint, queue
//! limits hold across them, dependencies and idempotency keys survive
//! concurrent writers, and a reader following the event log misses nothing
//! they write (wake-ups are in `notifications`). These only make sense on
//! PostgreSQL (a SQLite file belongs to one process), so they are skipped
//! when `STEWARD_TEST_DATABASE_URL` is not set.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::json;
use steward_domain::{EventId, JobId, JobRef, JobState, ManualClock, NewJob};
use steward_store::{
    ClaimRequest, ConflictKind, EventQuery, JobFilter, RetryDecision, Store, StoreError, StoreOptions,
};
use steward_test_support::TestDatabase;
use tokio::sync::Barrier;

use crate::helpers::{LEASE, USER, WORKER, completed, failed, keyed, noop};

/// How long a test waits for something that should happen within
/// milliseconds before it calls it a failure.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Two stores on one fresh schema and one manual clock, as two nodes would be.
pub async fn two_nodes() -> Option<(TestDatabase, Arc<dyn Store>, Arc<dyn Store>)> {
    let database = TestDatabase::postgres().await?;
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()));
    let options = StoreOptions { clock, ..StoreOptions::default() };
    let first = database.open(options.clone()).await;
    let second = database.open(options).await;
    Some((database, first, second))
}

async fn enqueue_many(store: &dyn Store, count: usize, job: impl Fn() -> NewJob) {
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        store.enqueue(USER, chunk.iter().map(|_| job()).collect()).await.unwrap();
    }
}

/// Claims `batch` jobs at a time as `worker`, completing each batch in the
/// next claim, until no job is left; returns every job it was given.
async fn drain(store: Arc<dyn Store>, worker: String, batch: usize, start: Arc<Barrier>) -> Vec<JobId> {
    start.wait().await;
    let mut taken = Vec::new();
    let mut request = ClaimRequest::new(worker.clone(), batch, LEASE);
    loop {
        let response = store.claim(request.clone()).await.unwrap();
        if response.jobs.is_empty() {
            return taken;
        }
        taken.extend(response.jobs.iter().map(|job| job.id));
        request.settlements = response
            .jobs
            .iter()
            .map(|job| steward_store::Settlement { worker_id: worker.clone(), ..completed(job, json!(null)) })
            .collect();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_claiming_at_once_take_every_job_exactly_once() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    enqueue_many(first.as_ref(), 2000, noop).await;
    let start = Arc::new(Barrier::new(4));
    let workers: Vec<_> = [(&first, "a1"), (&first, "a2"), (&second, "b1"), (&second, "b2")]
        .into_iter()
        .map(|(store, name)| tokio::spawn(drain(store.clone(), name.to_string(), 25, start.clone())))
        .collect();
    let mut claimed_by_node = [Vec::new(), Vec::new()];
    for (index, worker) in workers.into_iter().enumerate() {
        claimed_by_node[index / 2].extend(worker.await.unwrap());
    }
    let every_claim: Vec<JobId> = claimed_by_node.concat();
    let distinct: HashSet<JobId> = every_claim.iter().copied().collect();
    assert_eq!(every_claim.len(), 2000, "a job was claimed twice or not at all");
    assert_eq!(distinct.len(), 2000);
    assert!(claimed_by_node.iter().all(|claims| !claims.is_empty()), "both nodes took part");
    // Each worker's last, empty claim settled its previous batch.
    let counts = first.count_jobs(USER.into(), JobFilter::default()).await.unwrap();
    assert_eq!(counts[&JobState::Completed], 2000, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_limit_holds_across_nodes() {
    const LIMIT: usize = 3;
    let Some((_database, first, second)) = two_nodes().await else { return };
    enqueue_many(first.as_ref(), 150, || noop().with_queue("limited")).await;
    enqueue_many(first.as_ref(), 50, || noop().with_queue("free")).await;
    // Jobs of the limited queue that some worker holds right now. Each is
    // running in the database from its claim until its settlement commits,
    // so this can only under-count the queue's running jobs.
    let held: Arc<Mutex<BTreeSet<JobId>>> = Arc::default();
    let most_held = Arc::new(Mutex::new(0usize));
    let start = Arc::new(Barrier::new(6));
    let mut workers = Vec::new();
    for (store, name) in
        [(&first, "a1"), (&first, "a2"), (&first, "a3"), (&second, "b1"), (&second, "b2"), (&second, "b3")]
    {
        let (store, held, most_held, start) = (store.clone(), held.clone(), most_held.clone(), start.clone());
        workers.push(tokio::spawn(async move {
            start.wait().await;
            let mut request = ClaimRequest::new(name, 5, LEASE);
            request.queue_limits = BTreeMap::from([("limited".to_string(), LIMIT as u32)]);
            let deadline = tokio::time::Instant::now() + PATIENCE;
            loop {
                let response = store.claim(request.clone()).await.unwrap();
                if response.jobs.is_empty() {
                    let counts = store.count_jobs(USER.into(), JobFilter::default()).await.unwrap();
                    // The deadline ends the test (as a failure, below) if jobs
                    // got stuck instead of spinning forever.
                    if counts[&JobState::Queued] == 0 || tokio::time::Instant::now() > deadline {
                        return;
                    }
                    tokio::task::yield_now().await;
                    continue;
                }
                {
                    let mut held = held.lock().unwrap();
                    held.extend(response.jobs.iter().filter(|job| job.queue == "limited").map(|job| job.id));
                    let mut most = most_held.lock().unwrap();
                    *most = (*most).max(held.len());
                }
                // Hold the jobs for a moment, as real work would.
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                // Settled on their own, not folded into the next claim: the
                // room each settlement opens is then raced for by every
                // idle worker of both nodes.
                let settlements: Vec<_> = response
                    .jobs
                    .iter()
                    .map(|job| steward_store::Settlement { worker_id: name.to_string(), ..completed(job, json!(null)) })
                    .collect();
                {
                    let mut held = held.lock().unwrap();
                    for settlement in &settlements {
                        held.remove(&settlement.lease.job_id);
                    }
                }
                store.settle(settlements).await.unwrap();
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let most_held = *most_held.lock().unwrap();
    assert!(most_held <= LIMIT, "{most_held} jobs of the limited queue ran at once");
    assert_eq!(most_held, LIMIT, "the limit was reached, not just respected by idle workers");
    let counts = first.count_jobs(USER.into(), JobFilter::default()).await.unwrap();
    assert_eq!(counts[&JobState::Completed], 200, "{counts:?}");
}

/// The ordering property under grouped commits: eight writers enqueue small
/// batches (grouped into shared transactions on each node) while a follower
/// on each node pages with `id > cursor`; every follower sees exactly the
/// final log, in order, so no gap it passed was filled later. Half the
/// writers give their jobs keys, so both ways of writing a group interleave:
/// the one statement of jobs without keys and the general transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_misses_no_event_written_concurrently_by_two_nodes() {
    const WRITERS_PER_NODE: usize = 4;
    const JOBS_PER_WRITER: usize = 60;
    let Some((_database, first, second)) = two_nodes().await else { return };
    let start = Arc::new(Barrier::new(2 * WRITERS_PER_NODE + 2));
    let mut writers = Vec::new();
    for (node, store) in [&first, &second].into_iter().enumerate() {
        for writer in 0..WRITERS_PER_NODE {
            let (store, start) = (store.clone(), start.clone());
            writers.push(tokio::spawn(async move {
                start.wait().await;
                for job in 0..JOBS_PER_WRITER {
                    // Small batches of different sizes, so transactions of
                    // different lengths interleave.
                    let batch = (0..1 + (writer + job) % 3)
                        .map(|index| match writer % 2 {
                            0 => noop(),
                            _ => noop().with_key(format!("{node}-{writer}-{job}-{index}")),
                        })
                        .collect();
                    store.enqueue(USER, batch).await.unwrap();
                }
            }));
        }
    }
    let writers_done = Arc::new(AtomicBool::new(false));
    // One follower on each node: each must see the one total order.
    let follow = |store: Arc<dyn Store>| {
        let (start, writers_done) = (start.clone(), writers_done.clone());
        tokio::spawn(async move {
            let mut seen: Vec<EventId> = Vec::new();
            let mut wakeups = store.wakeups().subscribe_events();
            start.wait().await;
            loop {
                // Read before the page: if every writer had finished by then,
                // an empty page means the follower has caught up for good.
                let finished = writers_done.load(Ordering::SeqCst);
                let query = EventQuery { after: seen.last().copied(), limit: 50, ..EventQuery::default() };
                let page = store.list_events(USER, query).await.unwrap();
                if page.is_empty() {
                    if finished {
                        return seen;
                    }
                    // Woken by the next commit of either node (through
                    // NOTIFY for the other); the timeout is only a fallback.
                    let _ = tokio::time::timeout(Duration::from_millis(100), wakeups.changed()).await;
                    continue;
                }
                seen.extend(page.iter().map(|event| event.id));
            }
        })
    };
    let followers = [follow(first.clone()), follow(second.clone())];
    for writer in writers {
        writer.await.unwrap();
    }
    writers_done.store(true, Ordering::SeqCst);
    let mut everything = Vec::new();
    loop {
        let query = EventQuery { after: everything.last().copied(), limit: 1000, ..EventQuery::default() };
        let page = first.list_events(USER, query).await.unwrap();
        if page.is_empty() {
            break;
        }
        everything.extend(page.iter().map(|event| event.id));
    }
    let expected_events: usize = (0..WRITERS_PER_NODE)
        .map(|writer| (0..JOBS_PER_WRITER).map(|job| 1 + (writer + job) % 3).sum::<usize>())
        .sum::<usize>()
        * 2;
    assert_eq!(everything.len(), expected_events);
    for follower in followers {
        let followed = follower.await.unwrap();
        let missed: Vec<&EventId> = everything.iter().filter(|id| !followed.contains(id)).collect();
        assert!(
            missed.is_empty(),
            "a follower skipped {} events, e.g. {:?}",
            missed.len(),
            &missed[..missed.len().min(5)]
        );
        assert_eq!(followed, everything, "each follower saw events in id order, each once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependent_enqueued_while_its_dependency_settles_never_waits_forever() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    for round in 0..30 {
        let dependency = noop().with_queue("dependencies").with_max_attempts(1);
        let dependency = first.enqueue(USER, vec![dependency]).await.unwrap().remove(0).job;
        let mut request = ClaimRequest::new(WORKER, 1, LEASE);
        request.queues = Some(vec!["dependencies".into()]);
        let claimed = first.claim(request).await.unwrap().jobs.remove(0);
        assert_eq!(claimed.id, dependency.id);
        let dies = round % 2 == 1;
        let settlement =
            if dies { failed(&claimed, RetryDecision::Permanent) } else { completed(&claimed, json!(null)) };
        let dependent = noop().depending_on(JobRef::Id(dependency.id));
        let (settled, enqueued) = tokio::join!(first.settle(vec![settlement]), second.enqueue(USER, vec![dependent]));
        settled.unwrap();
        match enqueued {
            Ok(mut outcomes) => {
                let job = first.get_job(USER, outcomes.remove(0).job.id).await.unwrap();
                let expected = if dies { JobState::Cancelled } else { JobState::Queued };
                assert_eq!(job.state, expected, "round {round}: {job:?}");
            }
            // Enqueued after the dependency died: refused instead.
            Err(StoreError::Conflict { kind: ConflictKind::DependencyFailed, .. }) if dies => {}
            Err(other) => panic!("round {round}: {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_on_two_nodes_at_once_makes_one_job() {
    let Some((_database, first, second)) = two_nodes().await else { return };
    for round in 0..40 {
        let key = format!("report-{round}");
        let (a, b) = tokio::join!(first.enqueue(USER, vec![keyed(&key)]), second.enqueue(USER, vec![keyed(&key)]));
        let (a, b) = (a.unwrap().remove(0), b.unwrap().remove(0));
        assert_eq!(a.job.id, b.job.id, "round {round}");
        assert!(a.created != b.created, "round {round}: exactly one enqueue created the job");
    }
    let jobs = first.list_jobs(USER.into(), JobFilter { limit: 1000, ..JobFilter::default() }).await.unwrap();
    assert_eq!(jobs.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_migrate_once() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let first = steward_store::open(&database.url, StoreOptions::default()).await.unwrap();
    let second = steward_store::open(&database.url, StoreOptions::default()).await.unwrap();
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut applied = [a.applied.len(), b.applied.len()];
    applied.sort();
    assert_eq!(applied, [0, steward_store::migrations::POSTGRES.len()]);
    assert_eq!(a.version, b.version);
    first.close().await;
    second.close().await;
}
