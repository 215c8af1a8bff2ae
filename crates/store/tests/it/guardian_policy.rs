//! The guardian per project and bounded by budgets: a project's own policy
//! kept with it (checked, cleared); a person applying a pause or cancel
//! the policy only proposed; and the guardian's looks counted in the
//! agent's spend and in each run's candidate record.

use steward_domain::oversight::{
    AssessmentStatus, GuardianOverride, GuardianPolicy, GuardianVerdict, Intervention, NewAssessment, Progress,
    apply_policy,
};
use steward_domain::project::NewProject;
use steward_domain::{Clock, EventSubject, RunId, RunStatus, StepKind, UserId};
use steward_store::{ConflictKind, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, ad_hoc_run, agent_named, claim_and_begin, event_kinds, model_call, step};

fn look(run: RunId, steps: u32, alignment: f64, intervention: Intervention, policy: &GuardianPolicy) -> NewAssessment {
    let verdict =
        GuardianVerdict { alignment, drift_reason: "reads about cats".into(), intervention, message: String::new() };
    NewAssessment {
        run_id: run,
        progress: Progress { steps, tokens: u64::from(steps) * 100 },
        decision: apply_policy(&verdict, policy),
        verdict,
        model: "anthropic/claude-haiku-4-5".into(),
        input_tokens: 900,
        output_tokens: 60,
        cost_usd: Some(0.25),
    }
}

async fn a_project_keeps_its_own_guardian_policy(t: TestStore) {
    let store = t.store.as_ref();
    let strict = GuardianOverride { guardian: Some(true), auto_cancel: Some(true), ..GuardianOverride::default() };
    let new = NewProject { guardian: strict, ..NewProject::from_brief("Shop", "") };
    let created = store.create_project(USER, new).await.unwrap().project;
    assert_eq!(created.guardian, strict);
    assert_eq!(store.get_project(USER, created.id).await.unwrap().project.guardian, strict);

    let thresholds = GuardianOverride {
        steer_below: Some(0.9),
        pause_below: Some(0.6),
        cancel_below: Some(0.4),
        auto_pause: Some(false),
        ..GuardianOverride::default()
    };
    let changed = store.set_project_guardian(USER, created.id, thresholds).await.unwrap();
    assert_eq!(changed.guardian, thresholds);
    assert_eq!(store.list_projects(USER).await.unwrap()[0].guardian, thresholds);

    let partial = GuardianOverride { steer_below: Some(0.9), ..GuardianOverride::default() };
    match store.set_project_guardian(USER, created.id, partial).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "guardian.pause_below"),
        other => panic!("expected the thresholds refused, got {other:?}"),
    }
    let refused = NewProject { guardian: partial, ..NewProject::from_brief("Other", "") };
    assert!(matches!(store.create_project(USER, refused).await, Err(StoreError::Invalid(_))));
    assert_eq!(store.get_project(USER, created.id).await.unwrap().project.guardian, thresholds, "unchanged");

    let cleared = store.set_project_guardian(USER, created.id, GuardianOverride::default()).await.unwrap();
    assert!(cleared.guardian.is_empty());
    let kinds = event_kinds(store, EventSubject::Project, created.id.get()).await;
    assert_eq!(kinds.iter().filter(|kind| *kind == "project.guardian_set").count(), 2, "set and cleared: {kinds:?}");
    let other = store.set_project_guardian(UserId(999), created.id, strict).await.unwrap_err();
    assert!(matches!(other, StoreError::NotFound { .. }), "{other:?}");
}

async fn a_person_applies_a_pause_or_cancel_the_policy_only_proposed(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Write the launch post")).await.unwrap();
    claim_and_begin(store, run.id).await;
    let asks = GuardianPolicy { auto_pause: false, auto_cancel: false, ..GuardianPolicy::default() };

    // Nothing proposed yet: nothing to apply.
    let nothing = store.apply_intervention(USER, run.id, None, Intervention::Pause).await.unwrap_err();
    assert!(matches!(nothing, StoreError::Conflict { kind: ConflictKind::IllegalTransition, .. }), "{nothing:?}");

    let proposed = store.record_assessment(look(run.id, 2, 0.3, Intervention::Pause, &asks)).await.unwrap();
    assert_eq!((proposed.intervention, proposed.status), (Intervention::Pause, AssessmentStatus::Proposed));
    assert!(store.deliver_interventions(run.id, 3).await.unwrap().now.is_empty(), "a proposal is not delivered");
    let steer = store.apply_intervention(USER, run.id, Some(proposed.id), Intervention::Steer).await.unwrap_err();
    assert!(matches!(&steer, StoreError::Invalid(error) if error.field == "intervention"), "{steer:?}");

    let paused = store.apply_intervention(USER, run.id, None, Intervention::Pause).await.unwrap();
    assert_eq!((paused.id, paused.status), (proposed.id, AssessmentStatus::Pending));
    let twice = store.apply_intervention(USER, run.id, Some(proposed.id), Intervention::Pause).await.unwrap_err();
    assert!(matches!(twice, StoreError::Conflict { .. }), "{twice:?}");
    let delivered = store.deliver_interventions(run.id, 3).await.unwrap();
    assert_eq!(
        delivered.now.iter().map(|a| (a.id, a.intervention)).collect::<Vec<_>>(),
        [(proposed.id, Intervention::Pause)]
    );

    // A cancel waiting for a person is applied, and the run cancelled with it.
    let cancel = store.record_assessment(look(run.id, 4, 0.1, Intervention::Cancel, &asks)).await.unwrap();
    assert_eq!((cancel.status, cancel.needs_person), (AssessmentStatus::Pending, true));
    let unknown = store
        .apply_intervention(USER, run.id, Some(steward_domain::AssessmentId(9999)), Intervention::Cancel)
        .await
        .unwrap_err();
    assert!(matches!(&unknown, StoreError::Invalid(error) if error.field == "assessment"), "{unknown:?}");
    let other = store.apply_intervention(UserId(999), run.id, None, Intervention::Cancel).await.unwrap_err();
    assert!(matches!(other, StoreError::NotFound { .. }), "{other:?}");
    let applied = store.apply_intervention(USER, run.id, None, Intervention::Cancel).await.unwrap();
    assert_eq!(
        (applied.id, applied.intervention, applied.status),
        (cancel.id, Intervention::Cancel, AssessmentStatus::Applied)
    );
    let run = store.get_run(USER, run.id).await.unwrap();
    assert!(run.cancel_requested || run.status == RunStatus::Finished, "{run:?}");
    let kinds = event_kinds(store, EventSubject::Run, run.id.get()).await;
    assert_eq!(kinds.iter().filter(|kind| *kind == "run.assessed").count(), 4, "{kinds:?}");
}

async fn the_guardians_looks_count_in_the_agents_spend(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Write")).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.append_step(step(&t.clock, run.id, 0, StepKind::Instruction)).await.unwrap();
    store.append_step(model_call(&t.clock, run.id, 1, 1000, 500, Some(0.5))).await.unwrap();
    let before = store.agent_spend(USER, agent, None).await.unwrap();
    assert!((before.cost_usd - 0.5).abs() < 1e-9, "{before:?}");

    store.record_assessment(look(run.id, 2, 0.9, Intervention::Continue, &GuardianPolicy::default())).await.unwrap();
    let mut unpriced = look(run.id, 3, 0.9, Intervention::Continue, &GuardianPolicy::default());
    unpriced.cost_usd = None;
    store.record_assessment(unpriced).await.unwrap();
    let after = store.agent_spend(USER, agent, None).await.unwrap();
    assert!((after.cost_usd - 0.75).abs() < 1e-9, "{after:?}");
    assert_eq!(after.unknown_cost_calls, 1, "a look of unknown cost is counted as such, never as $0");
    let later = t.clock.now() + chrono::Duration::seconds(1);
    assert_eq!(store.agent_spend(USER, agent, Some(later)).await.unwrap().cost_usd, 0.0);
    let metrics = store.agent_metrics(USER, agent).await.unwrap();
    assert!((metrics.spend_total.cost_usd - 0.75).abs() < 1e-9, "{metrics:?}");

    let candidates = store.guardian_candidates(t.clock.now()).await.unwrap();
    assert_eq!(candidates.len(), 1);
    assert!((candidates[0].spent.cost_usd - 0.25).abs() < 1e-9, "{:?}", candidates[0].spent);
    assert_eq!(candidates[0].spent.unknown_cost_calls, 1);
}

store_tests!(
    a_project_keeps_its_own_guardian_policy,
    a_person_applies_a_pause_or_cancel_the_policy_only_proposed,
    the_guardians_looks_count_in_the_agents_spend,
);
