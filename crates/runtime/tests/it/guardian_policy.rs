//! The guardian per project, within budgets, and acted on by a person,
//! against the fake model provider and the real store: a project's policy
//! comes before the configured one (it cancels where the table would ask a
//! person, or turns the guardian off, and then its runs never read
//! interventions); a spent budget skips the look; a pause the policy only
//! proposed is applied by a person, who later resumes the run; and a
//! cancel the guardian asks for is applied by approving it in the inbox.

use std::sync::Arc;

use steward_domain::oversight::{
    AssessmentStatus, GuardianOverride, GuardianPolicy, GuardianVerdict, Intervention, NewAssessment, Progress,
    apply_policy,
};
use steward_domain::project::{
    Criterion, DesignDocument, NewProject, PhaseDocument, PhaseGates, Requirement, RequirementsDocument, TaskSpec,
    TaskState, TasksDocument,
};
use steward_domain::{Agent, Budget, ProjectId, Run, RunLimits, RunOutcome, RunStatus};
use steward_fake_llm::Reply;
use steward_runtime::SharedClock;
use steward_runtime::agent::RunProgress;
use steward_runtime::agent::interventions::{CANCEL_TOOL, PAUSE_TOOL};
use steward_runtime::oversight::{OversightConfig, TickReport};
use steward_runtime::usecases::{PersonIntervention, UseCases};
use steward_store::TaskUpdate;
use tokio_util::sync::CancellationToken;

use crate::agent_support::Harness;
use crate::oversight::{Setup, browse, guardian, setup, verdict};
use crate::support::USER;

/// A project in execution whose task T001 is done when the post is written.
async fn project(h: &Harness, agent: &Agent, guardian: GuardianOverride) -> ProjectId {
    let requirements = RequirementsDocument {
        title: "Launch".into(),
        requirements: vec![Requirement {
            id: "R1".into(),
            title: "Post".into(),
            criteria: vec![Criterion { id: "R1.1".into(), text: "WHEN launched THE SYSTEM SHALL have a post".into() }],
            ..Requirement::default()
        }],
        ..RequirementsDocument::default()
    };
    let task = TaskSpec {
        id: "T001".into(),
        title: "Write the post".into(),
        requirements: vec!["R1.1".into()],
        done_when: "the launch post is in post.md".into(),
        ..TaskSpec::default()
    };
    let new = NewProject {
        gates: PhaseGates::AUTOMATIC,
        agent_id: Some(agent.id),
        guardian,
        documents: vec![
            PhaseDocument::Requirements(requirements),
            PhaseDocument::Design(DesignDocument { title: "Launch".into(), ..DesignDocument::default() }),
            PhaseDocument::Tasks(TasksDocument {
                title: "Launch".into(),
                tasks: vec![task],
                ..TasksDocument::default()
            }),
        ],
        ..NewProject::from_brief("Launch", "")
    };
    h.store.create_project(USER, new).await.unwrap().project.id
}

/// Starts a run working on the project's task T001.
async fn task_run(h: &Harness, agent: &Agent, project: ProjectId) -> Run {
    let run = h.start_run(agent, "Draft the launch post", RunLimits::default()).await;
    let attach = TaskUpdate { run_id: Some(run.id), ..TaskUpdate::to(TaskState::Running) };
    h.store.update_task(USER, project, "T001", attach).await.unwrap();
    run
}

fn spawn_execution(h: &Harness, run: &Run) -> tokio::task::JoinHandle<RunProgress> {
    let runtime = h.runtime.clone();
    let (store, id) = (h.store.clone(), run.id);
    tokio::spawn(async move {
        let job = store.get_run(USER, id).await.unwrap().job_id.unwrap();
        runtime.execute_run(id, job, CancellationToken::new()).await.unwrap()
    })
}

fn use_cases(h: &Harness, clock: &Arc<steward_domain::ManualClock>) -> UseCases {
    UseCases::new(h.store.clone(), SharedClock::new(clock.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projects_policy_cancels_where_the_configured_one_would_ask_a_person() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |config| config.auto_cancel = false);
    let strict = GuardianOverride { auto_cancel: Some(true), ..GuardianOverride::default() };
    let project = project(&h, &agent, strict).await;
    h.fake.push(browse());
    h.fake.push(verdict(0.1, "cancel", "browsing cat pictures", ""));
    let run = task_run(&h, &agent, project).await;
    let execution = spawn_execution(&h, &run);
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap(), TickReport { looked: 1, ..TickReport::default() });
    let shown = h.fake.requests()[1].body["messages"].to_string();
    assert!(shown.contains("it is done when: the launch post is in post.md"), "the task's done-when: {shown}");
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::Finished(RunOutcome::Cancelled));
    let assessments = h.store.list_assessments(USER, run.id).await.unwrap();
    assert_eq!(
        assessments.iter().map(|a| (a.intervention, a.status, a.needs_person)).collect::<Vec<_>>(),
        [(Intervention::Cancel, AssessmentStatus::Applied, false)],
        "the project's auto_cancel applied it without a person"
    );
    assert!(h.pending_approvals(&run).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_turns_the_guardian_off_and_its_runs_never_read_interventions() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |_| {});
    let off = GuardianOverride { guardian: Some(false), ..GuardianOverride::default() };
    let project = project(&h, &agent, off).await;
    h.fake.push(browse());
    let run = task_run(&h, &agent, project).await;
    let execution = spawn_execution(&h, &run);
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap(), TickReport { off: 1, ..TickReport::default() });
    assert_eq!(h.fake.requests().len(), 1, "no look at a run the guardian is off for");

    // A steer left from before (the policy was changed since) is never
    // read: the run's model calls skip the guardian's interventions.
    let verdict = GuardianVerdict {
        alignment: 0.5,
        drift_reason: "cats".into(),
        intervention: Intervention::Steer,
        message: "Leave the cats alone.".into(),
    };
    let stale = NewAssessment {
        run_id: run.id,
        progress: Progress { steps: 2, tokens: 1 },
        decision: apply_policy(&verdict, &GuardianPolicy::default()),
        verdict,
        model: "anthropic/claude-haiku-4-5".into(),
        input_tokens: 1,
        output_tokens: 1,
        cost_usd: Some(0.0),
    };
    let stale = h.store.record_assessment(stale).await.unwrap();
    h.fake.push(Reply::text("The post is in post.md."));
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::Finished(RunOutcome::Completed));
    let sent = h.fake.requests()[1].body["messages"].to_string();
    assert!(!sent.contains("Leave the cats alone."), "{sent}");
    let assessments = h.store.list_assessments(USER, run.id).await.unwrap();
    assert_eq!((assessments[0].id, assessments[0].status), (stale.id, AssessmentStatus::Pending));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_budget_skips_the_look() {
    let Setup { h, clock, mut entered, release } = setup().await;
    // The agent's budget is spent by its run's first call: the guardian's
    // look would spend more of it, so there is none.
    let agent = h.agent(|agent| agent.budget = Budget { daily_usd: None, total_usd: Some(0.000_001) }).await;
    let guardian = guardian(&h, |_| {});
    h.fake.push(browse());
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    let execution = spawn_execution(&h, &run);
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap(), TickReport { over_budget: 1, ..TickReport::default() });
    assert_eq!(h.fake.requests().len(), 1);
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::Finished(RunOutcome::BudgetExceeded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guardian_budget_usd_bounds_the_looks_at_one_run() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |config| config.guardian_budget_usd = Some(0.000_001));
    h.fake.push(browse());
    h.fake.push(verdict(0.9, "continue", "", ""));
    h.fake.push(browse());
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    let execution = spawn_execution(&h, &run);
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap().looked, 1);
    release.add_permits(1);
    entered.recv().await.unwrap();
    // The run moved on, but its one look already cost the run's allowance.
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap(), TickReport { over_budget: 1, ..TickReport::default() });
    assert_eq!(h.fake.requests().len(), 3, "browse, look, browse: no second look");
    h.fake.push(Reply::text("The post is in post.md."));
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::Finished(RunOutcome::Completed));
    let costs: Vec<_> = h.store.list_assessments(USER, run.id).await.unwrap().iter().map(|a| a.cost_usd).collect();
    assert!(matches!(costs.as_slice(), [Some(cost)] if *cost > 0.000_001), "{costs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_applies_a_proposed_pause_then_resumes_the_run() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |config| config.auto_pause = false);
    let people = use_cases(&h, &clock);
    h.fake.push(browse());
    h.fake.push(verdict(0.3, "pause", "browsing instead of writing", "A person should look."));
    h.fake.push(browse());
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    let execution = spawn_execution(&h, &run);
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap().looked, 1);
    let proposed = h.store.list_assessments(USER, run.id).await.unwrap().remove(0);
    assert_eq!((proposed.status, proposed.needs_person), (AssessmentStatus::Proposed, true));

    // Only proposed: the run goes on to its next call.
    release.add_permits(1);
    entered.recv().await.unwrap();
    assert_eq!(h.reload(&run).await.status, RunStatus::Running);
    let resumed_too_early = people.intervene(USER, run.id, PersonIntervention::Resume, None, None).await;
    assert!(resumed_too_early.is_err(), "nothing holds the run yet");

    // A person applies it: the run holds at its next model call.
    let applied = people.intervene(USER, run.id, PersonIntervention::Pause, None, None).await.unwrap();
    let assessment = applied.assessment.unwrap();
    assert_eq!((assessment.id, assessment.status), (proposed.id, AssessmentStatus::Pending));
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::AwaitingApproval);
    let pending = h.pending_approvals(&run).await;
    assert_eq!(pending.iter().map(|a| a.tool.as_str()).collect::<Vec<_>>(), [PAUSE_TOOL]);
    assert_eq!(h.fake.requests().len(), 3, "no model call after the pause");

    // Then resumes it: the pause is approved and the run finishes.
    let resumed =
        people.intervene(USER, run.id, PersonIntervention::Resume, None, Some("fine, go on".into())).await.unwrap();
    assert_ne!(resumed.run.status, RunStatus::AwaitingApproval);
    assert!(h.pending_approvals(&run).await.is_empty());
    h.fake.push(Reply::text("The post is in post.md."));
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Completed));
    let statuses: Vec<_> = h.store.list_assessments(USER, run.id).await.unwrap().iter().map(|a| a.status).collect();
    assert_eq!(statuses, [AssessmentStatus::Delivered]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_the_guardians_cancel_in_the_inbox_cancels_the_run() {
    let Setup { h, clock, mut entered, release } = setup().await;
    let agent = h.agent(|_| {}).await;
    let guardian = guardian(&h, |config: &mut OversightConfig| config.auto_cancel = false);
    h.fake.push(browse());
    h.fake.push(verdict(0.1, "cancel", "lost in cat pictures", ""));
    let run = h.start_run(&agent, "Draft the launch post", RunLimits::default()).await;
    let execution = spawn_execution(&h, &run);
    entered.recv().await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    assert_eq!(guardian.tick().await.unwrap().looked, 1);
    release.add_permits(1);
    assert_eq!(execution.await.unwrap(), RunProgress::AwaitingApproval);
    let pending = h.pending_approvals(&run).await;
    assert_eq!(pending.iter().map(|a| a.tool.as_str()).collect::<Vec<_>>(), [CANCEL_TOOL]);
    assert_eq!(pending[0].arguments["drift_reason"], "lost in cat pictures");

    // The inbox's approve, as `POST /approvals/{id}/approve` does it.
    use_cases(&h, &clock).approve(USER, pending[0].id, Some("agreed".into())).await.unwrap();
    assert_eq!(h.execute(&run).await, RunProgress::Finished(RunOutcome::Cancelled));
    let run = h.reload(&run).await;
    assert_eq!(run.error.as_deref(), Some("cancelled by a person at the guardian's request: agreed"));
    assert_eq!(h.fake.requests().len(), 2, "no model call after the guardian's look");
}
