//! Small conveniences shared by the store tests.

use std::time::Duration;

use serde_json::{Value, json};
use steward_domain::{Job, JobId, NewJob, UserId};
use steward_store::{ClaimRequest, ClaimedJob, JobOutcome, RetryDecision, SettleOutcome, Settlement, Store};

pub const USER: UserId = UserId::LOCAL_OWNER;
pub const WORKER: &str = "worker-a";
pub const LEASE: Duration = Duration::from_secs(30);

pub async fn enqueue_one(store: &dyn Store, job: NewJob) -> Job {
    let mut outcomes = store.enqueue(USER, vec![job]).await.unwrap();
    outcomes.remove(0).job
}

pub async fn claim(store: &dyn Store, limit: usize) -> Vec<ClaimedJob> {
    claim_as(store, WORKER, limit).await
}

pub async fn claim_as(store: &dyn Store, worker: &str, limit: usize) -> Vec<ClaimedJob> {
    store.claim(ClaimRequest::new(worker, limit, LEASE)).await.unwrap().jobs
}

pub async fn claim_ids(store: &dyn Store, limit: usize) -> Vec<JobId> {
    claim(store, limit).await.into_iter().map(|job| job.id).collect()
}

pub fn completed(job: &ClaimedJob, result: Value) -> Settlement {
    Settlement { lease: job.lease(), worker_id: WORKER.into(), outcome: JobOutcome::Completed { result } }
}

pub fn failed(job: &ClaimedJob, retry: RetryDecision) -> Settlement {
    Settlement {
        lease: job.lease(),
        worker_id: WORKER.into(),
        outcome: JobOutcome::Failed { error: format!("attempt {} failed", job.attempt), retry },
    }
}

pub async fn settle(store: &dyn Store, settlement: Settlement) -> SettleOutcome {
    store.settle(vec![settlement]).await.unwrap().remove(0)
}

pub async fn complete(store: &dyn Store, job: &ClaimedJob) -> SettleOutcome {
    settle(store, completed(job, json!({"ok": true}))).await
}

/// Claims and completes exactly the job `id` (which must be the only ready one).
pub async fn run_to_completion(store: &dyn Store, id: JobId) {
    let claimed = claim(store, 10).await;
    assert_eq!(claimed.iter().map(|job| job.id).collect::<Vec<_>>(), [id]);
    complete(store, &claimed[0]).await;
}

pub fn noop() -> NewJob {
    NewJob::new("noop", json!({}))
}

pub fn keyed(key: &str) -> NewJob {
    noop().with_key(key)
}

pub async fn kinds_of_events(store: &dyn Store, job: JobId) -> Vec<String> {
    store.job_events(USER, job).await.unwrap().into_iter().map(|event| event.kind).collect()
}
