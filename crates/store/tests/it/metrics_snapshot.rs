//! The numbers `/metrics` reads from the database: jobs by state and queue,
//! steps by kind, model calls by agent and model, tool calls and errors.

use steward_domain::StepKind;
use steward_store::ModelUsage;
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, ad_hoc_run, agent_named, claim_and_begin, model_call, step};

async fn the_snapshot_counts_jobs_steps_models_and_tools(t: TestStore) {
    let store = t.store.as_ref();
    let clock = t.clock.as_ref();
    let agent = agent_named(store, "Counter").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    let queued = store.start_run(USER, ad_hoc_run(agent, "Later")).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.append_step(step(clock, run.id, 0, StepKind::Instruction)).await.unwrap();
    store.append_step(model_call(clock, run.id, 1, 1000, 100, Some(0.0045))).await.unwrap();
    let mut failed = step(clock, run.id, 2, StepKind::ToolCall);
    failed.error = Some("no such file".into());
    store.append_step(failed).await.unwrap();
    store.append_step(step(clock, run.id, 3, StepKind::ToolCall)).await.unwrap();

    let snapshot = store.metrics_snapshot().await.unwrap();
    let jobs: Vec<(&str, &str, u64)> =
        snapshot.jobs.iter().map(|(state, queue, count)| (state.as_str(), queue.as_str(), *count)).collect();
    assert!(jobs.contains(&("running", "agents", 1)), "{jobs:?} (run {} claimed)", run.id);
    assert!(jobs.contains(&("queued", "agents", 1)), "{jobs:?} (run {} queued)", queued.id);
    let steps: Vec<(&str, u64)> = snapshot.steps.iter().map(|(kind, count)| (kind.as_str(), *count)).collect();
    assert_eq!(steps, [("instruction", 1), ("model_call", 1), ("tool_call", 2)]);
    assert_eq!(
        snapshot.models,
        [ModelUsage {
            agent_id: agent,
            agent_name: "Counter".into(),
            model: "anthropic/claude-sonnet-4-5".into(),
            calls: 1,
            estimated_calls: 0,
            input_tokens: 1000,
            output_tokens: 100,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            cost_usd: 0.0045,
            unknown_cost_calls: 0,
        }]
    );
    assert_eq!(snapshot.tools, [("workspace.write".to_string(), 2, 1)]);
}

store_tests!(the_snapshot_counts_jobs_steps_models_and_tools);
