//! The guardian against the fake model provider over a real socket and the
//! real store: a drifting run is steered (the message reaches its next
//! model call), then cancelled by policy; a run the guardian paused waits a
//! simulated day without a single model call, and resumes when a person
//! approves.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeZone;
use serde_json::{Value, json};
use steward_domain::oversight::{AssessmentStatus, Intervention};
use steward_domain::{Clock, Decision, ManualClock, RunLimits, RunOutcome, RunStatus};
use steward_fake_llm::Reply;
use steward_runtime::agent::RunProgress;
use steward_runtime::agent::interventions::PAUSE_TOOL;
use steward_runtime::oversight::{Guardian, OversightConfig, PolicyOverride, TickReport};
use steward_runtime::tools::{Tool, ToolContext, ToolError, ToolOutput, ToolRegistry};
use steward_store::CostPurpose;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::agent_support::Harness;
use crate::support::USER;

/// The tool through which the client asks Anthropic models for structured output.
pub(crate) const STRUCTURED: &str = "structured_output";

/// A tool that tells the test it was entered and waits to be let go, so the
/// test can look at the run while it works.
struct Gate {
    entered: mpsc::UnboundedSender<()>,
    release: Arc<Semaphore>,
}

#[async_trait]
impl Tool for Gate {
    fn name(&self) -> &str {
        "web.browse"
    }

    fn description(&self) -> &str {
        "Opens a web page."
    }

    fn input_schema(&self) -> Arc<Value> {
        Arc::new(json!({ "type": "object", "properties": { "url": { "type": "string" } } }))
    }

    async fn call(&self, _context: &ToolContext, _input: Value) -> Result<ToolOutput, ToolError> {
        let _ = self.entered.send(());
        if let Ok(permit) = self.release.acquire().await {
            permit.forget();
        }
        Ok(ToolOutput::text("A page of cat pictures."))
    }
}

pub(crate) struct Setup {
    pub h: Harness,
    pub clock: Arc<ManualClock>,
    pub entered: mpsc::UnboundedReceiver<()>,
    pub release: Arc<Semaphore>,
}

pub(crate) async fn setup() -> Setup {
    let start = chrono::Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let (sender, entered) = mpsc::unbounded_channel();
    let release = Arc::new(Semaphore::new(0));
    let mut tools = ToolRegistry::default();
    tools.register(Gate { entered: sender, release: release.clone() });
    let h = Harness::on_clock(tools, clock.clone()).await;
    Setup { h, clock, entered, release }
}

pub(crate) fn guardian(h: &Harness, configure: impl FnOnce(&mut OversightConfig)) -> Guardian {
    let mut config = OversightConfig::default();
    configure(&mut config);
    Guardian::new(h.store.clone(), h.runtime.clone(), config.settings().unwrap())
}

pub(crate) fn verdict(alignment: f64, intervention: &str, drift: &str, message: &str) -> Reply {
    Reply::tool_call(
        STRUCTURED,
        &json!({ "alignment": alignment, "drift_reason": drift, "intervention": intervention, "message": message }),
    )
}

pub(crate) fn browse() -> Reply {
    Reply::tool_call("web__browse", &json!({ "url": "https://cats.example" }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drifting_run_is_steered_then_cancelled_by_policy() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |config| {
        config.agents.insert("scribe".into(), PolicyOverride { auto_cancel: Some(true), ..PolicyOverride::default() });
    });
    h.fake.push(browse());
    h.fake.push(verdict(0.5, "steer", "browsing cat pictures", "Stop browsing; write the launch post."));
    h.fake.push(browse());
    h.fake.push(verdict(0.1, "cancel", "still browsing cat pictures", ""));
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    let job = h.current_job(&run).await;
    let runtime = h.runtime.clone();
    let execution =
        tokio::spawn(async move { runtime.execute_run(run.id, job, CancellationToken::new()).await.unwrap() });

    // Young runs are left alone; past `guardian_after` one look is made, and
    // no second one until the run moves on.
    entered.recv().await.unwrap();
    assert_eq!(guardian.tick().await.unwrap(), TickReport::default());
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap(), TickReport { looked: 1, ..TickReport::default() });
    clock.advance(chrono::Duration::minutes(5));
    assert_eq!(guardian.tick().await.unwrap(), TickReport { idle: 1, ..TickReport::default() });
    assert_eq!(h.fake.requests().len(), 2);
    let look = &h.fake.requests()[1];
    assert!(look.body["system"].to_string().contains("You supervise an AI agent"), "{}", look.body["system"]);
    let shown = look.body["messages"].to_string();
    assert!(shown.contains("Goal: Write the launch post") && shown.contains("web__browse"), "{shown}");

    // The steer reaches the run's next model call.
    release.add_permits(1);
    entered.recv().await.unwrap();
    let steered = h.fake.requests()[2].body["messages"].to_string();
    assert!(steered.contains("Stop browsing; write the launch post."), "{steered}");

    // Still drifting: the policy lets the guardian cancel it.
    clock.advance(chrono::Duration::minutes(2));
    assert_eq!(guardian.tick().await.unwrap().looked, 1);
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::Finished(RunOutcome::Cancelled));
    assert_eq!(h.fake.requests().len(), 4, "no model call after the cancel");

    let assessments = h.store.list_assessments(USER, run.id).await.unwrap();
    let summary: Vec<_> =
        assessments.iter().map(|a| (a.intervention, a.status, a.delivered_before_step, a.progress.steps)).collect();
    assert_eq!(
        summary,
        [
            (Intervention::Steer, AssessmentStatus::Delivered, Some(3), 2),
            (Intervention::Cancel, AssessmentStatus::Applied, None, 4),
        ]
    );
    assert_eq!(assessments[1].drift_reason, "still browsing cat pictures");
    assert!(assessments.iter().all(|a| a.cost_usd.is_some_and(|cost| cost > 0.0) && a.input_tokens > 0));
    let run = h.reload(&run).await;
    assert_eq!((run.status, run.outcome), (RunStatus::Finished, Some(RunOutcome::Cancelled)));
    assert_eq!(run.usage.model_calls, 2, "the guardian's calls are not the run's");
    let costs = h.store.cost_entries(USER, clock.now() - chrono::Duration::days(1)).await.unwrap();
    let oversight: u64 =
        costs.iter().filter(|entry| entry.purpose == CostPurpose::Oversight).map(|entry| entry.model_calls).sum();
    let work: u64 =
        costs.iter().filter(|entry| entry.purpose == CostPurpose::Work).map(|entry| entry.model_calls).sum();
    assert_eq!((work, oversight), (2, 2), "{costs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_run_costs_no_model_call_for_a_simulated_day() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |_| {});
    h.fake.push(browse());
    h.fake.push(verdict(0.3, "pause", "browsing instead of writing", "A person should look at this."));
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    let job = h.current_job(&run).await;
    let runtime = h.runtime.clone();
    let execution =
        tokio::spawn(async move { runtime.execute_run(run.id, job, CancellationToken::new()).await.unwrap() });
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap().looked, 1);
    release.add_permits(1);
    // The pause stops the run before its next model call, for a person.
    assert_eq!(execution.await.unwrap(), RunProgress::AwaitingApproval);
    let pending = h.pending_approvals(&run).await;
    assert_eq!(pending.iter().map(|a| a.tool.as_str()).collect::<Vec<_>>(), [PAUSE_TOOL]);
    assert_eq!(pending[0].arguments["drift_reason"], "browsing instead of writing");
    assert_eq!(h.fake.requests().len(), 2);

    // A day passes, looked at every ten minutes: not one model call.
    for _ in 0..(24 * 6) {
        clock.advance(chrono::Duration::minutes(10));
        let report = guardian.tick().await.unwrap();
        assert_eq!((report.looked, report.idle), (0, 1));
    }
    assert_eq!(h.fake.requests().len(), 2, "a paused run costs nothing");

    // A person lets it go on: it resumes and finishes.
    h.store.decide_approval(USER, pending[0].id, Decision { approve: true, reason: None }).await.unwrap();
    h.fake.push(Reply::text("The post is in post.md."));
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    let assessments = h.store.list_assessments(USER, run.id).await.unwrap();
    assert_eq!(
        assessments.iter().map(|a| (a.intervention, a.status)).collect::<Vec<_>>(),
        [(Intervention::Pause, AssessmentStatus::Delivered)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejecting_the_guardians_pause_cancels_the_run() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |_| {});
    h.fake.push(browse());
    h.fake.push(verdict(0.3, "pause", "browsing", "Look at this."));
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    let job = h.current_job(&run).await;
    let runtime = h.runtime.clone();
    let execution =
        tokio::spawn(async move { runtime.execute_run(run.id, job, CancellationToken::new()).await.unwrap() });
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    guardian.tick().await.unwrap();
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::AwaitingApproval);
    let pending = h.pending_approvals(&run).await;
    let decision = Decision { approve: false, reason: Some("it is lost".into()) };
    h.store.decide_approval(USER, pending[0].id, decision).await.unwrap();
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Cancelled));
    let run = h.reload(&run).await;
    assert_eq!(run.error.as_deref(), Some("stopped by a person after the guardian paused the run: it is lost"));
    assert_eq!(h.fake.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_actions_are_flagged_and_a_merge_dismisses_one_with_a_link() {
    use steward_domain::oversight::duplicates::DuplicateStatus;
    use steward_domain::{ActionMode, ActionPriority, ActionState, NewAction};
    use steward_runtime::SharedClock;
    use steward_runtime::usecases::UseCases;
    let Setup { h, clock, .. } = setup().await;
    let writer = h.agent(|_| {}).await;
    let other = h.agent(|agent| agent.name = "Editor".into()).await;
    let new = |agent: steward_domain::AgentId, title: &str| NewAction {
        agent_id: agent,
        title: title.into(),
        description: String::new(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Interactive,
        scheduled_for: None,
    };
    let first = h.store.create_action(USER, new(writer.id, "Write the launch blog post")).await.unwrap();
    let second = h.store.create_action(USER, new(other.id, "write launch blog-post")).await.unwrap();
    h.store.create_action(USER, new(other.id, "Set up the CI pipeline")).await.unwrap();
    let use_cases = UseCases::new(h.store.clone(), SharedClock::new(clock.clone()));

    let flagged = use_cases.scan_duplicates(USER).await.unwrap();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!((flagged[0].first.clone(), flagged[0].second.clone()), (first.id.to_string(), second.id.to_string()));
    assert!(use_cases.scan_duplicates(USER).await.unwrap().is_empty(), "flagged once");

    let merged = use_cases.decide_duplicate(USER, flagged[0].id, Some(first.id.to_string())).await.unwrap();
    assert_eq!(merged.status, DuplicateStatus::Merged);
    let dropped = h.store.get_action(USER, second.id).await.unwrap();
    assert_eq!(dropped.state, ActionState::Dismissed);
    assert_eq!(dropped.state_reason, Some(format!("duplicate of action {}", first.id)));
    assert_eq!(h.store.get_action(USER, first.id).await.unwrap().state, ActionState::Draft);
    assert_eq!(h.fake.requests().len(), 0, "text similarity needs no model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_candidate_is_flagged_only_when_the_model_says_it_is_the_same_work() {
    use steward_domain::{ActionMode, ActionPriority, NewAction};
    use steward_runtime::SharedClock;
    use steward_runtime::usecases::UseCases;
    let Setup { h, clock, .. } = setup().await;
    let writer = h.agent(|_| {}).await;
    let new = |title: &str| NewAction {
        agent_id: writer.id,
        title: title.into(),
        description: String::new(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Interactive,
        scheduled_for: None,
    };
    // Alike by text, but not enough to flag without asking.
    h.store.create_action(USER, new("Write the launch blog post")).await.unwrap();
    h.store.create_action(USER, new("Writing the launch blog posts")).await.unwrap();
    let use_cases =
        UseCases::new(h.store.clone(), SharedClock::new(clock.clone())).with_agents(Some(h.runtime.clone()));
    h.fake.push(Reply::tool_call(STRUCTURED, &json!({ "same": true })));
    let flagged = use_cases.scan_duplicates(USER).await.unwrap();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0].method, "model");
    assert!(flagged[0].similarity < 0.75, "{}", flagged[0].similarity);
    assert_eq!(h.fake.requests().len(), 1);
    assert!(h.fake.requests()[0].body.to_string().contains("Writing the launch blog posts"));
    // Flagged pairs are not asked about again.
    assert!(use_cases.scan_duplicates(USER).await.unwrap().is_empty());
    assert_eq!(h.fake.requests().len(), 1);
}
