//! The run loop against the fake model provider: tools, checkpoints,
//! limits, budgets, refused tools, approvals, cancellation and resuming.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use steward_domain::{Budget, Decision, Run, RunLimits, RunOutcome, RunStatus, StepKind};
use steward_fake_llm::{Reply, ReplyUsage};
use steward_runtime::agent::RunProgress;
use steward_runtime::tools::ToolRegistry;
use steward_store::{ApprovalFilter, ArtifactFilter};
use tokio_util::sync::CancellationToken;

use crate::agent_support::{API_KEY, Effect, Harness};
use crate::support::{USER, eventually};

fn kinds(steps: &[steward_domain::RunStep]) -> Vec<StepKind> {
    steps.iter().map(|step| step.kind).collect()
}

fn tool_names(request: &Value) -> Vec<String> {
    request["tools"].as_array().map_or_else(Vec::new, |tools| {
        tools.iter().filter_map(|tool| tool["name"].as_str().map(str::to_string)).collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_calls_tools_stores_every_step_and_completes() {
    let h = Harness::start().await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(
        Reply::text("Writing it now.")
            .then_tool_call("artifacts__write", &json!({ "path": "post.md", "content": "# Launch" })),
    );
    h.fake.push(Reply::text("The post is in post.md."));
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));

    let run = h.reload(&run).await;
    assert_eq!((run.status, run.outcome), (RunStatus::Finished, Some(RunOutcome::Completed)));
    assert_eq!(run.output.as_deref(), Some("The post is in post.md."));
    assert_eq!((run.usage.model_calls, run.usage.tool_calls), (2, 1));
    assert!(run.usage.cost_usd > 0.0 && run.usage.unknown_cost_calls == 0, "{:?}", run.usage);
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    assert_eq!(kinds(&steps), [StepKind::Instruction, StepKind::ModelCall, StepKind::ToolCall, StepKind::ModelCall]);
    assert_eq!(steps[2].name, "artifacts.write");

    let file = h.home.path().join("artifacts/runs").join(run.id.to_string()).join("post.md");
    assert_eq!(std::fs::read_to_string(file).unwrap(), "# Launch");
    let artifacts = h
        .store
        .list_artifacts(USER, ArtifactFilter { run_id: Some(run.id), ..ArtifactFilter::default() })
        .await
        .unwrap();
    assert_eq!(artifacts.iter().map(|artifact| artifact.path.as_str()).collect::<Vec<_>>(), ["post.md"]);

    let requests = h.fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(tool_names(&requests[0].body).contains(&"artifacts__write".to_string()));
    assert!(requests[1].body.to_string().contains("tool_result"), "the second call carries the tool's result");
    let stored = serde_json::to_string(&steps.iter().map(|step| step.content.clone()).collect::<Vec<_>>()).unwrap();
    assert!(!stored.contains(API_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_tool_calls_run_together_with_their_own_keys() {
    let effect = Effect::new("notes.add", false);
    let (calls, keys) = effect.handles();
    let mut tools = ToolRegistry::default();
    tools.register(effect);
    let h = Harness::with_tools(tools).await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(
        Reply::default()
            .then_tool_call("notes__add", &json!({ "what": "a" }))
            .then_tool_call("notes__add", &json!({ "what": "b" })),
    );
    h.fake.push(Reply::text("Both added."));
    let run = h.start_run(&agent, "Add two notes", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let mut keys = keys.lock().unwrap().clone();
    keys.sort();
    assert_eq!(keys, [format!("run-{}-step-1-call-0", run.id), format!("run-{}-step-1-call-1", run.id)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_limit_stops_the_run() {
    let h = Harness::start().await;
    let agent = h.agent(|agent| agent.limits.max_steps = Some(2)).await;
    h.fake.set_responder(|_| Some(Reply::tool_call("actions__list", &json!({})).into()));
    let run = h.start_run(&agent, "Keep busy", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::MaxSteps));
    assert_eq!(h.fake.requests().len(), 2, "exactly the allowed model calls");
    let run = h.reload(&run).await;
    assert!(run.error.unwrap().contains("2 steps"));
    // A run's own limit wins over its agent's.
    let run = h.start_run(&agent, "Again", RunLimits { max_steps: Some(1), ..RunLimits::default() }).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::MaxSteps));
    assert_eq!(h.fake.requests().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_limit_stops_the_run() {
    let h = Harness::start().await;
    let agent = h.agent(|_| {}).await;
    let usage = ReplyUsage { input_tokens: 600, output_tokens: 100, ..ReplyUsage::default() };
    h.fake.set_responder(move |_| Some(Reply::tool_call("actions__list", &json!({})).with_usage(usage).into()));
    let run = h.start_run(&agent, "Think a lot", RunLimits { max_tokens: Some(1000), ..RunLimits::default() }).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::MaxTokens));
    assert_eq!(h.fake.requests().len(), 2, "stopped once 1,400 tokens passed the 1,000 limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_stops_the_run_one_step_past_the_cap_at_most() {
    let h = Harness::start().await;
    // Each call: 10,000 input and 1,000 output tokens of claude-sonnet-4-5 (priced), about $0.045.
    let agent = h.agent(|agent| agent.budget = Budget { daily_usd: Some(0.05), total_usd: None }).await;
    let usage = ReplyUsage { input_tokens: 10_000, output_tokens: 1000, ..ReplyUsage::default() };
    h.fake.set_responder(move |_| Some(Reply::tool_call("actions__list", &json!({})).with_usage(usage).into()));
    let run = h.start_run(&agent, "Spend", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::BudgetExceeded));
    let run = h.reload(&run).await;
    assert_eq!(run.usage.model_calls, 2, "the second call went over $0.05; the third was refused");
    assert!(run.usage.cost_usd > 0.05 && run.usage.cost_usd < 0.1, "{}", run.usage.cost_usd);
    // Another run of the same agent the same day does not start.
    let again = h.start_run(&agent, "More", RunLimits::default()).await;
    assert_eq!(h.execute(&again).await, RunProgress::Finished(RunOutcome::BudgetExceeded));
    assert_eq!(h.reload(&again).await.usage.model_calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_cannot_be_enforced_for_a_model_without_a_price() {
    let h = Harness::start().await;
    let agent = h
        .agent(|agent| {
            agent.model = Some("anthropic/claude-unpriced-test".into());
            agent.budget = Budget { daily_usd: Some(1.0), total_usd: None };
        })
        .await;
    let run = h.start_run(&agent, "Go", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Failed));
    assert!(h.reload(&run).await.error.unwrap().contains("price of anthropic/claude-unpriced-test is unknown"));
    assert!(h.fake.requests().is_empty(), "no model call was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_outside_the_allowlist_are_not_offered_and_are_refused() {
    let h = Harness::start().await;
    let agent = h.agent(|agent| agent.tools = Some(vec!["actions.list".into()])).await;
    h.fake.push(Reply::tool_call("artifacts__write", &json!({ "path": "x.md", "content": "sneaky" })));
    h.fake.push(Reply::text("Understood."));
    let run = h.start_run(&agent, "Write a file", RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    let requests = h.fake.requests();
    assert_eq!(tool_names(&requests[0].body), ["actions__list"]);
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    let refused = &steps[2];
    assert_eq!(refused.kind, StepKind::ToolCall);
    assert!(refused.error.as_deref().unwrap().contains("not available to this agent"), "{refused:?}");
    assert!(!h.home.path().join("artifacts/runs").join(run.id.to_string()).join("x.md").exists());
}

/// A run whose model asks to `mail.send` `what` (a tool needing approval),
/// then answers `answer`: executed until it pauses for the approval.
async fn paused_to_send(what: &str, answer: &str) -> (Harness, Arc<AtomicUsize>, Run) {
    let effect = Effect::new("mail.send", true);
    let (calls, _) = effect.handles();
    let mut tools = ToolRegistry::default();
    tools.register(effect);
    let h = Harness::with_tools(tools).await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::tool_call("mail__send", &json!({ "what": what })));
    h.fake.push(Reply::text(answer));
    let run = h.start_run(&agent, &format!("Send {what}"), RunLimits::default()).await;
    assert_eq!(h.execute(&run).await, RunProgress::AwaitingApproval);
    (h, calls, run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_needing_approval_pauses_the_run_until_approved() {
    let (h, calls, run) = paused_to_send("the newsletter", "Sent.").await;
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing is sent before a person approves");
    assert_eq!(h.reload(&run).await.status, RunStatus::AwaitingApproval);
    let pending = h.pending_approvals(&run).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].tool, "mail.send");
    assert_eq!(pending[0].arguments, json!({ "what": "the newsletter" }));

    let first_job = h.current_job(&run).await;
    h.store.decide_approval(USER, pending[0].id, Decision { approve: true, reason: None }).await.unwrap();
    let resumed = h.reload(&run).await;
    assert_eq!(resumed.status, RunStatus::Queued);
    assert_ne!(resumed.job_id, Some(first_job), "a new job resumes the run");
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(h.fake.requests().len(), 2, "the first model call was not repeated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_reaches_the_model_as_the_tools_error() {
    let (h, calls, run) = paused_to_send("everyone", "I will not send it.").await;
    let approval = h.store.list_approvals(USER.into(), ApprovalFilter::default()).await.unwrap().remove(0);
    let decision = Decision { approve: false, reason: Some("not to the whole list".into()) };
    h.store.decide_approval(USER, approval.id, decision).await.unwrap();
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let second = h.fake.requests().remove(1).body.to_string();
    assert!(second.contains("rejected by a person: not to the whole list"), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_the_run_at_the_next_step_boundary() {
    let h = Harness::start().await;
    let agent = h.agent(|_| {}).await;
    h.fake.set_responder(|_| {
        Some(Reply::tool_call("actions__list", &json!({})).with_first_byte_delay(Duration::from_millis(50)).into())
    });
    let run =
        h.start_run(&agent, "Loop until stopped", RunLimits { max_steps: Some(500), ..RunLimits::default() }).await;
    let job = h.current_job(&run).await;
    let runtime = h.runtime.clone();
    let execution = tokio::spawn(async move { runtime.execute_run(run.id, job, CancellationToken::new()).await });
    eventually("the run made a few steps", || async { h.store.list_steps(USER, run.id).await.unwrap().len() >= 4 })
        .await;
    let asked = h.store.cancel_run(USER, run.id).await.unwrap();
    assert!(asked.cancel_requested);
    assert_eq!(execution.await.unwrap().unwrap(), RunProgress::Finished(RunOutcome::Cancelled));
    let run = h.reload(&run).await;
    assert_eq!(run.outcome, Some(RunOutcome::Cancelled));
    assert!(run.usage.model_calls < 50, "stopped early: {} calls", run.usage.model_calls);
}

/// A tool that blocks its first call until released, to stand for a crash
/// in the middle of a tool call.
struct Blocking {
    calls: Arc<std::sync::atomic::AtomicUsize>,
    keys: Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl steward_runtime::tools::Tool for Blocking {
    fn name(&self) -> &str {
        "slow.work"
    }

    fn description(&self) -> &str {
        "Slow work."
    }

    fn input_schema(&self) -> Arc<Value> {
        Arc::new(json!({ "type": "object" }))
    }

    async fn call(
        &self,
        context: &steward_runtime::tools::ToolContext,
        _input: Value,
    ) -> Result<steward_runtime::tools::ToolOutput, steward_runtime::tools::ToolError> {
        self.keys.lock().unwrap().push(context.idempotency_key.clone());
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            std::future::pending::<()>().await;
        }
        Ok(steward_runtime::tools::ToolOutput::text("worked"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_interrupted_mid_tool_resumes_without_repeating_its_model_call() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let keys = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tools = ToolRegistry::default();
    tools.register(Blocking { calls: calls.clone(), keys: keys.clone() });
    let h = Harness::with_tools(tools).await;
    let agent = h.agent(|_| {}).await;
    h.fake.push(Reply::tool_call("slow__work", &json!({})));
    h.fake.push(Reply::text("All done."));
    let run = h.start_run(&agent, "Do the slow work", RunLimits::default()).await;
    let job = h.current_job(&run).await;
    let runtime = h.runtime.clone();
    let first = tokio::spawn(async move { runtime.execute_run(run.id, job, CancellationToken::new()).await });
    eventually("the tool is running", || async { calls.load(Ordering::SeqCst) == 1 }).await;
    // The process dies: the execution is dropped mid-call, nothing more is stored.
    first.abort();
    let _ = first.await;
    assert_eq!(kinds(&h.store.list_steps(USER, run.id).await.unwrap()), [StepKind::Instruction, StepKind::ModelCall]);

    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    assert_eq!(h.fake.requests().len(), 2, "the stored model call was replayed, not repeated");
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 2, "the unfinished tool call ran again");
    assert_eq!(keys[0], keys[1], "with the same idempotency key, so its side effect can happen once");
}

/// A tool that takes `by` of the clock's time, as a slow call would.
struct TakesTime {
    clock: Arc<steward_domain::ManualClock>,
    by: chrono::Duration,
}

#[async_trait::async_trait]
impl steward_runtime::tools::Tool for TakesTime {
    fn name(&self) -> &str {
        "slow.work"
    }

    fn description(&self) -> &str {
        "Takes a while."
    }

    fn input_schema(&self) -> Arc<Value> {
        Arc::new(json!({ "type": "object" }))
    }

    async fn call(
        &self,
        _context: &steward_runtime::tools::ToolContext,
        _input: Value,
    ) -> Result<steward_runtime::tools::ToolOutput, steward_runtime::tools::ToolError> {
        self.clock.advance(self.by);
        Ok(steward_runtime::tools::ToolOutput::text("done"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_time_limit_reads_the_injected_clock() {
    use chrono::TimeZone;
    let start = chrono::Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let clock = Arc::new(steward_domain::ManualClock::new(start));
    let mut tools = ToolRegistry::default();
    tools.register(TakesTime { clock: clock.clone(), by: chrono::Duration::minutes(2) });
    let h = Harness::on_clock(tools, clock.clone()).await;
    let agent = h.agent(|_| {}).await;
    h.fake.set_responder(|_| Some(Reply::tool_call("slow__work", &json!({})).into()));
    let limits = RunLimits { max_wall_time: Some(Duration::from_secs(60)), ..RunLimits::default() };
    let run = h.start_run(&agent, "Work slowly", limits).await;
    // No real time passes: only the tool moves the clock, by two minutes.
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::MaxWallTime));
    assert_eq!(h.fake.requests().len(), 1, "the second model call is past the limit");
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    assert_eq!(kinds(&steps), [StepKind::Instruction, StepKind::ModelCall, StepKind::ToolCall]);
    assert_eq!(steps[0].started_at, start, "steps are stamped by the injected clock");
    assert_eq!(steps[2].finished_at, start + chrono::Duration::minutes(2));
}
