//! The use cases on real stores and a manual clock: delays count from the
//! injected "now", a scheduled action's run is told what to deliver, bad
//! input names its field, and work that needs the agent runtime is refused
//! without one while cancelling is not.

use std::sync::Arc;

use chrono::Duration;
use steward_domain::{
    ActionMode, ActionPriority, ActionState, AgentId, ApprovalId, Clock, NewAction, NewAgent, RunLimits, UserId,
};
use steward_llm::{LlmConfig, ModelRegistry};
use steward_runtime::agent::redact::Redactor;
use steward_runtime::agent::{AgentRuntime, NoSkills, RuntimeSettings};
use steward_runtime::tools::ToolRegistry;
use steward_runtime::usecases::{ScheduleAction, StartRun, instruction_for};
use steward_runtime::{SharedClock, UseCaseError, UseCases};
use steward_store::{Store, StoreError};
use steward_test_support::{TestStore, store_tests};
use tempfile::TempDir;

const USER: UserId = UserId::LOCAL_OWNER;

store_tests!(
    a_delay_counts_from_the_injected_clock,
    a_scheduled_action_tells_its_run_what_to_deliver,
    bad_input_names_the_field_as_requests_do,
    starting_work_needs_the_agent_runtime_but_cancelling_does_not,
    a_rejection_needs_a_reason,
);

/// Use cases on the test store, its manual clock, and an agent runtime with
/// no model (these use cases queue work; none calls a model).
fn use_cases(test: &TestStore, home: &TempDir) -> UseCases {
    let models = ModelRegistry::new(&LlmConfig::default(), &|_: &str| None).unwrap();
    let runtime = AgentRuntime::new(
        test.store.clone(),
        Arc::new(models),
        Arc::new(ToolRegistry::default()),
        Arc::new(NoSkills),
        RuntimeSettings::new(home.path().to_path_buf()),
        Redactor::new(Vec::<String>::new()),
    );
    let clock = SharedClock::new(test.clock.clone());
    UseCases::new(test.store.clone(), clock.clone()).with_agents(Some(Arc::new(runtime.with_clock(clock))))
}

async fn agent(store: &dyn Store) -> AgentId {
    let agent = NewAgent { name: "Scribe".into(), goal: "Write the launch post".into(), ..NewAgent::default() };
    store.create_agent(USER, agent).await.unwrap().id
}

async fn a_delay_counts_from_the_injected_clock(test: TestStore) {
    let home = tempfile::tempdir().unwrap();
    let use_cases = use_cases(&test, &home);
    let agent = agent(test.store.as_ref()).await;
    let delayed = StartRun { instruction: "Draft it".into(), delay_ms: Some(90_000), ..StartRun::default() };
    for _ in 0..2 {
        let now = test.clock.now();
        let run = use_cases.start_run(USER, agent, delayed.clone()).await.unwrap();
        let job = test.store.get_job(USER, run.job_id.unwrap()).await.unwrap();
        assert_eq!(job.run_at, now + Duration::seconds(90), "due 90 s after the clock's now");
        test.clock.advance(Duration::hours(5));
    }
}

async fn a_scheduled_action_tells_its_run_what_to_deliver(test: TestStore) {
    let home = tempfile::tempdir().unwrap();
    let use_cases = use_cases(&test, &home);
    let agent = agent(test.store.as_ref()).await;
    let later = test.clock.now() + Duration::days(2);
    let new = NewAction {
        agent_id: agent,
        title: "  Launch post ".into(),
        description: "Six hundred words, friendly.".into(),
        priority: ActionPriority::High,
        mode: ActionMode::Scheduled,
        scheduled_for: Some(later),
    };
    let action = test.store.create_action(USER, new).await.unwrap();
    let defined = use_cases.transition_action(USER, action.id, ActionState::Defined, None).await.unwrap();
    assert_eq!(defined.state, ActionState::Defined);

    // Moving it to `scheduled` is scheduling it with the defaults.
    let scheduled = use_cases.transition_action(USER, action.id, ActionState::Scheduled, None).await.unwrap();
    assert_eq!(scheduled.state, ActionState::Scheduled);
    let runs = test
        .store
        .list_runs(
            USER.into(),
            steward_store::RunFilter { action_id: Some(action.id), limit: 10, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].instruction,
        format!(
            "Deliver action #{}, \"Launch post\", and say when it is done.\n\nSix hundred words, friendly.",
            action.id
        )
    );
    assert_eq!(runs[0].instruction, instruction_for(&scheduled));
    let job = test.store.get_job(USER, runs[0].job_id.unwrap()).await.unwrap();
    assert_eq!(job.run_at, later, "without `at`, the run waits for the action's scheduled_for");
}

async fn bad_input_names_the_field_as_requests_do(test: TestStore) {
    let home = tempfile::tempdir().unwrap();
    let use_cases = use_cases(&test, &home);
    let agent = agent(test.store.as_ref()).await;
    let no_steps = StartRun {
        instruction: "Draft it".into(),
        limits: RunLimits { max_steps: Some(0), ..RunLimits::default() },
        ..StartRun::default()
    };
    let both = StartRun {
        instruction: "Draft it".into(),
        at: Some(test.clock.now()),
        delay_ms: Some(1),
        ..StartRun::default()
    };
    for (request, field) in [(no_steps, "limits.max_steps"), (both, "delay_ms")] {
        match use_cases.start_run(USER, agent, request).await {
            Err(UseCaseError::Invalid(error)) => assert_eq!(error.field, field, "{error}"),
            other => panic!("expected a refusal naming {field}, got {other:?}"),
        }
    }
    let schedule = ScheduleAction { delay_ms: Some(u64::MAX), ..ScheduleAction::default() };
    let action = NewAction {
        agent_id: agent,
        title: "Launch post".into(),
        description: String::new(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Scheduled,
        scheduled_for: None,
    };
    let action = test.store.create_action(USER, action).await.unwrap();
    match use_cases.schedule_action(USER, action.id, schedule).await {
        Err(UseCaseError::Invalid(error)) => {
            assert_eq!(error.field, "delay_ms");
            assert!(error.message.contains("more than a year"), "{error}");
        }
        other => panic!("expected a refusal of the delay, got {other:?}"),
    }
    let runs =
        test.store.list_runs(USER.into(), steward_store::RunFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert!(runs.is_empty(), "nothing was started: {runs:?}");
}

async fn starting_work_needs_the_agent_runtime_but_cancelling_does_not(test: TestStore) {
    let home = tempfile::tempdir().unwrap();
    let agent = agent(test.store.as_ref()).await;
    let run = use_cases(&test, &home)
        .start_run(USER, agent, StartRun { instruction: "Draft it".into(), ..StartRun::default() })
        .await
        .unwrap();
    let without = UseCases::new(test.store.clone(), SharedClock::new(test.clock.clone()));
    let refused = without.start_run(USER, agent, StartRun { instruction: "Again".into(), ..StartRun::default() });
    assert!(matches!(refused.await, Err(UseCaseError::NoAgentRuntime)));
    let refused = without.schedule_action(USER, steward_domain::ActionId(1), ScheduleAction::default()).await;
    assert!(matches!(refused, Err(UseCaseError::NoAgentRuntime)));
    let cancelled = without.cancel_run(USER, run.id).await.unwrap();
    assert_eq!(cancelled.outcome, Some(steward_domain::RunOutcome::Cancelled));
}

async fn a_rejection_needs_a_reason(test: TestStore) {
    let home = tempfile::tempdir().unwrap();
    let use_cases = use_cases(&test, &home);
    match use_cases.reject(USER, ApprovalId(1), "  ".into()).await {
        Err(UseCaseError::Invalid(error)) => {
            assert_eq!(error.field, "reason");
            assert!(error.message.contains("say why"), "{error}");
        }
        other => panic!("expected a refusal naming reason, got {other:?}"),
    }
    let missing = use_cases.approve(USER, ApprovalId(999), Some(" ".into())).await;
    assert!(matches!(missing, Err(UseCaseError::Store(StoreError::NotFound { .. }))), "{missing:?}");
}
