//! Small conveniences shared by the store tests.

use std::time::Duration;

use serde_json::{Value, json};
use steward_domain::{
    Action, ActionMode, ActionPriority, ActionState, AgentId, Clock, EventSubject, Job, JobId, ManualClock, NewAction,
    NewAgent, NewJob, NewRun, NewRunStep, Run, RunId, RunLimits, StepKind, TokenUsage, UserId,
};
use steward_store::{
    ClaimRequest, ClaimedJob, EventQuery, JobOutcome, RetryDecision, SettleOutcome, Settlement, Store,
};

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

/// An agent of `USER` named `name`.
pub async fn agent_named(store: &dyn Store, name: &str) -> AgentId {
    let agent = NewAgent { name: name.into(), goal: "Publish a weekly newsletter".into(), ..NewAgent::default() };
    store.create_agent(USER, agent).await.unwrap().id
}

/// A draft action of `agent`.
pub async fn draft_action(store: &dyn Store, agent: AgentId) -> Action {
    let action = NewAction {
        agent_id: agent,
        title: "Outline issue #1".into(),
        description: String::new(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Scheduled,
        scheduled_for: None,
    };
    store.create_action(USER, action).await.unwrap()
}

/// An action of `agent` moved to `defined`, ready to schedule.
pub async fn defined_action(store: &dyn Store, agent: AgentId) -> Action {
    let action = draft_action(store, agent).await;
    store.transition_action(USER, action.id, ActionState::Defined, None).await.unwrap()
}

pub fn ad_hoc_run(agent: AgentId, instruction: &str) -> NewRun {
    NewRun {
        agent_id: agent,
        action_id: None,
        instruction: instruction.into(),
        limits: RunLimits::default(),
        run_at: None,
    }
}

pub fn run_of_action(action: &Action) -> NewRun {
    NewRun { action_id: Some(action.id), ..ad_hoc_run(action.agent_id, "Work on the action") }
}

/// Claims the run's job and begins the run with it, as a worker does.
pub async fn claim_and_begin(store: &dyn Store, run: RunId) -> (ClaimedJob, Run) {
    let claimed = claim(store, 1).await.pop().expect("the run's job is ready");
    assert_eq!(claimed.payload, json!({ "run_id": run }));
    let begun = store.begin_run(run, claimed.id).await.unwrap();
    (claimed, begun)
}

/// A step of `kind` at `sequence`, timed by `clock`.
pub fn step(clock: &ManualClock, run: RunId, sequence: u32, kind: StepKind) -> NewRunStep {
    let now = clock.now();
    NewRunStep {
        run_id: run,
        sequence,
        kind,
        name: match kind {
            StepKind::ToolCall => "workspace.write".into(),
            StepKind::ModelCall => "anthropic/claude-sonnet-4-5".into(),
            _ => String::new(),
        },
        content: json!({ "sequence": sequence }),
        usage: None,
        cost_usd: None,
        time_to_first_token: None,
        stop_reason: None,
        error: None,
        started_at: now,
        finished_at: now,
    }
}

/// A model-call step that used `input` and `output` tokens and cost
/// `cost_usd` (`None`: unknown).
pub fn model_call(
    clock: &ManualClock,
    run: RunId,
    sequence: u32,
    input: u64,
    output: u64,
    cost_usd: Option<f64>,
) -> NewRunStep {
    NewRunStep {
        usage: Some(TokenUsage { input_tokens: input, output_tokens: output, ..TokenUsage::default() }),
        cost_usd,
        time_to_first_token: Some(Duration::from_millis(350)),
        stop_reason: Some("tool_use".into()),
        ..step(clock, run, sequence, StepKind::ModelCall)
    }
}

pub async fn event_kinds(store: &dyn Store, subject: EventSubject, id: i64) -> Vec<String> {
    let query = EventQuery { subject: Some((subject, Some(id))), limit: 1000, ..EventQuery::default() };
    store.list_events(USER, query).await.unwrap().into_iter().map(|event| event.kind).collect()
}
