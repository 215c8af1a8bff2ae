//! Property tests of the job state machine, run against the real store:
//! under any sequence of operations,
//! - each job's events replay through the domain's transition table, chain
//!   (`from` of one is `to` of the previous) and end in the stored state, so
//!   a job is never in two states;
//! - attempts never exceed the maximum;
//! - a job never starts before every dependency completed;
//! - a job is running exactly when it has a lease owner;
//! - the only errors are the refusals the API documents.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use steward_domain::job::JobTransition;
use steward_domain::{JobId, JobRef, JobState, NewJob};
use steward_store::{ClaimRequest, ClaimedJob, JobFilter, JobOutcome, RetryDecision, Settlement, Store, StoreError};
use steward_test_support::TestStore;

use crate::helpers::{LEASE, USER, WORKER};

#[derive(Clone, Debug)]
enum Operation {
    Enqueue { dependencies: Vec<usize>, max_attempts: u32 },
    Claim { limit: usize },
    Complete { pick: usize },
    Fail { pick: usize, permanent: bool },
    Cancel { pick: usize },
    Retry { pick: usize },
    Release { pick: usize },
    Heartbeat,
    Advance { seconds: u32 },
    ReclaimExpired,
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        3 => (proptest::collection::vec(0usize..64, 0..3), 1u32..4)
            .prop_map(|(dependencies, max_attempts)| Operation::Enqueue { dependencies, max_attempts }),
        3 => (1usize..4).prop_map(|limit| Operation::Claim { limit }),
        3 => any::<usize>().prop_map(|pick| Operation::Complete { pick }),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(pick, permanent)| Operation::Fail { pick, permanent }),
        1 => any::<usize>().prop_map(|pick| Operation::Cancel { pick }),
        1 => any::<usize>().prop_map(|pick| Operation::Retry { pick }),
        1 => any::<usize>().prop_map(|pick| Operation::Release { pick }),
        1 => Just(Operation::Heartbeat),
        2 => (1u32..40).prop_map(|seconds| Operation::Advance { seconds }),
        1 => Just(Operation::ReclaimExpired),
    ]
}

/// What the test's single worker believes it holds.
struct Model {
    jobs: Vec<JobId>,
    held: Vec<ClaimedJob>,
}

async fn apply(t: &TestStore, model: &mut Model, operation: &Operation) {
    let store = t.store.as_ref();
    let settle =
        |job: &ClaimedJob, outcome: JobOutcome| Settlement { lease: job.lease(), worker_id: WORKER.into(), outcome };
    let result: Result<(), StoreError> = match operation {
        Operation::Enqueue { dependencies, max_attempts } => {
            let mut job = NewJob::new("noop", json!({})).with_max_attempts(*max_attempts);
            if !model.jobs.is_empty() {
                let mut chosen: Vec<JobId> =
                    dependencies.iter().map(|index| model.jobs[index % model.jobs.len()]).collect();
                chosen.sort();
                chosen.dedup();
                for id in chosen {
                    job = job.depending_on(JobRef::Id(id));
                }
            }
            store.enqueue(USER, vec![job]).await.map(|mut outcomes| model.jobs.push(outcomes.remove(0).job.id))
        }
        Operation::Claim { limit } => {
            store.claim(ClaimRequest::new(WORKER, *limit, LEASE)).await.map(|response| model.held.extend(response.jobs))
        }
        Operation::Complete { pick } if !model.held.is_empty() => {
            let job = model.held.remove(pick % model.held.len());
            store.settle(vec![settle(&job, JobOutcome::Completed { result: json!(null) })]).await.map(drop)
        }
        Operation::Fail { pick, permanent } if !model.held.is_empty() => {
            let job = model.held.remove(pick % model.held.len());
            let retry = if *permanent { RetryDecision::Permanent } else { RetryDecision::Retryable { after: None } };
            let outcome = JobOutcome::Failed { error: "boom".into(), retry };
            store.settle(vec![settle(&job, outcome)]).await.map(drop)
        }
        Operation::Release { pick } if !model.held.is_empty() => {
            let job = model.held.remove(pick % model.held.len());
            store.release(WORKER, vec![job.lease()]).await.map(drop)
        }
        Operation::Cancel { pick } if !model.jobs.is_empty() => {
            store.cancel_job(USER, model.jobs[pick % model.jobs.len()]).await.map(drop)
        }
        Operation::Retry { pick } if !model.jobs.is_empty() => {
            store.retry_job(USER, model.jobs[pick % model.jobs.len()]).await.map(drop)
        }
        Operation::Heartbeat if !model.held.is_empty() => {
            let leases = model.held.iter().map(ClaimedJob::lease).collect();
            store.heartbeat(WORKER, leases, LEASE).await.map(drop)
        }
        Operation::Advance { seconds } => {
            t.clock.advance(chrono::Duration::seconds(i64::from(*seconds)));
            Ok(())
        }
        Operation::ReclaimExpired => store.reclaim_expired_leases().await.map(drop),
        _ => Ok(()),
    };
    match result {
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(other) => panic!("{operation:?} failed unexpectedly: {other}"),
    }
}

async fn check_invariants(store: &dyn Store) {
    let jobs = store.list_jobs(USER.into(), JobFilter { limit: 1000, ..JobFilter::default() }).await.unwrap();
    let mut completed_at: HashMap<JobId, i64> = HashMap::new();
    let mut started_at: HashMap<JobId, Vec<i64>> = HashMap::new();
    for job in &jobs {
        assert!(
            job.attempts <= job.max_attempts,
            "job {} has {} of {} attempts",
            job.id,
            job.attempts,
            job.max_attempts
        );
        assert_eq!(job.state == JobState::Running, job.lease_owner.is_some(), "job {} lease vs state", job.id);
        let mut state: Option<JobState> = None;
        for event in store.job_events(USER, job.id).await.unwrap() {
            let transition = JobTransition::from_event_kind(&event.kind)
                .unwrap_or_else(|| panic!("unknown job event {}", event.kind));
            let from = event.data["from"].as_str().map(|text| text.parse::<JobState>().unwrap());
            let to: JobState = event.data["to"].as_str().unwrap().parse().unwrap();
            assert_eq!(
                from, state,
                "job {}: event {} starts from {from:?} but the job was {state:?}",
                job.id, event.kind
            );
            assert!(transition.allows(from, to), "job {}: {transition:?} may not go {from:?} → {to:?}", job.id);
            match transition {
                JobTransition::Complete => {
                    completed_at.insert(job.id, event.id.get());
                }
                JobTransition::Claim => started_at.entry(job.id).or_default().push(event.id.get()),
                _ => {}
            }
            state = Some(to);
        }
        assert_eq!(state, Some(job.state), "job {}: events end in {state:?}, the row says {}", job.id, job.state);
    }
    for job in &jobs {
        for start in started_at.get(&job.id).into_iter().flatten() {
            for dependency in &job.depends_on {
                let done = completed_at.get(dependency).copied();
                assert!(
                    done.is_some_and(|done| done < *start),
                    "job {} started (event {start}) before its dependency {dependency} completed ({done:?})",
                    job.id
                );
            }
        }
        if job.state == JobState::Blocked {
            let pending = job.depends_on.iter().filter(|dependency| !completed_at.contains_key(dependency)).count();
            assert_eq!(job.pending_dependencies as usize, pending, "job {} pending count", job.id);
        }
    }
}

/// Opens a store and applies the operations, all in one runtime (a store's
/// connections belong to the runtime that opened them).
fn run<F, Fut>(operations: Vec<Operation>, open: F) -> Result<(), TestCaseError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Option<TestStore>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let Some(t) = open().await else { return };
        let mut model = Model { jobs: Vec::new(), held: Vec::new() };
        for operation in &operations {
            apply(&t, &mut model, operation).await;
            check_invariants(t.store.as_ref()).await;
        }
        t.store.close().await;
    });
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_job_state_machine_holds(operations in proptest::collection::vec(operation(), 1..40)) {
        run(operations, || async { Some(TestStore::sqlite().await) })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn postgres_job_state_machine_holds(operations in proptest::collection::vec(operation(), 1..40)) {
        run(operations, TestStore::postgres)?;
    }
}

#[test]
fn lease_is_long_enough_for_the_clock_steps() {
    // Advances are up to 39 s, so a lease (30 s) can expire within one step
    // and reclaiming is exercised.
    assert!(LEASE < Duration::from_secs(39));
}
