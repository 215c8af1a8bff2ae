//! `shell.run` through the run loop: an agent that lists it gets it, the
//! call waits for a person's approval (nothing runs before), and once
//! approved it runs in the run's workspace and its result is a step of the
//! run. Without bubblewrap, an agent is refused the tool, naming the field.

use std::sync::Arc;

use serde_json::json;
use steward_domain::{Decision, RunLimits, RunOutcome, RunStatus, StepKind};
use steward_fake_llm::Reply;
use steward_runtime::agent::{EquipmentProblemKind, RunProgress};
use steward_runtime::skills::SkillCatalog;
use steward_runtime::tools::{ToolRegistry, ToolsConfig};

use crate::agent_support::Harness;
use crate::support::USER;
use crate::tool_support::sandbox_config;

fn registry(config: &ToolsConfig) -> ToolRegistry {
    ToolRegistry::with_builtins(config, Arc::new(SkillCatalog::default())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shell_call_waits_for_approval_then_runs_in_the_workspace() {
    let h = Harness::with_tools(registry(&sandbox_config(|_| {}))).await;
    let agent = h.agent(|agent| agent.tools = Some(vec!["shell.run".into()])).await;
    let command = "echo built > out.txt && wc -c out.txt";
    h.fake.push(Reply::tool_call("shell__run", &json!({ "command": command })));
    h.fake.push(Reply::text("Built it."));
    let run = h.start_run(&agent, "Build it", RunLimits::default()).await;

    assert_eq!(h.execute(&run).await, RunProgress::AwaitingApproval);
    assert_eq!(h.reload(&run).await.status, RunStatus::AwaitingApproval);
    let workspace = h.runtime.workspace_of(run.id);
    assert!(!workspace.join("out.txt").exists(), "nothing runs before a person approves");
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    assert!(steps.iter().all(|step| step.kind != StepKind::ToolCall), "{steps:?}");
    let pending = h.pending_approvals(&run).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].tool, "shell.run");
    assert_eq!(pending[0].arguments, json!({ "command": command }));

    h.store.decide_approval(USER, pending[0].id, Decision { approve: true, reason: None }).await.unwrap();
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    assert_eq!(std::fs::read_to_string(workspace.join("out.txt")).unwrap(), "built\n");
    let steps = h.store.list_steps(USER, run.id).await.unwrap();
    let call = steps.iter().find(|step| step.kind == StepKind::ToolCall).expect("the call is a step of the run");
    assert_eq!(call.name, "shell.run");
    assert_eq!(call.content["arguments"], json!({ "command": command }));
    assert_eq!(call.content["result"], "exit status 0\n--- stdout ---\n6 out.txt\n");
    assert_eq!(call.error, None);
    let second = h.fake.requests().remove(1).body.to_string();
    assert!(second.contains("6 out.txt"), "the model read the output: {second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_bubblewrap_an_agent_is_refused_the_tool_naming_the_field() {
    let mut config = ToolsConfig::default();
    config.shell.bwrap = "/nonexistent/bwrap".into();
    let h = Harness::with_tools(registry(&config)).await;
    let tools = ["workspace.read".to_string(), "shell.run".to_string()];
    let problem = h.runtime.check_equipment(None, Some(&tools)).unwrap_err();
    assert_eq!(problem.kind, EquipmentProblemKind::Unavailable);
    assert_eq!(problem.field, "tools[1]");
    assert!(problem.message.contains("apt-get install bubblewrap"), "{}", problem.message);
    assert!(h.runtime.check_equipment(None, Some(&tools[..1])).is_ok());
}
