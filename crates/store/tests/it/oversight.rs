//! The guardian's records: the runs it may look at with their last look,
//! assessments recorded with their event, pending interventions delivered
//! to the run's loop once, oversight's cost apart from the runs' own, and
//! what agents' liveness is read from.

use steward_domain::oversight::duplicates::{DuplicateKind, DuplicateStatus, NewDuplicate};
use steward_domain::oversight::{
    AssessmentStatus, GuardianPolicy, GuardianVerdict, Intervention, Liveness, NewAssessment, Progress, STUCK_AFTER,
    apply_policy, liveness,
};
use steward_domain::{Clock, EventSubject, RunId, RunOutcome, UserId};
use steward_store::{ConflictKind, CostPurpose, NewOversightCall, OversightCallPurpose, RunFinish, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{LEASE, USER, ad_hoc_run, agent_named, claim_and_begin, event_kinds, model_call, step};

fn assessment(run: RunId, steps: u32, alignment: f64, intervention: Intervention) -> NewAssessment {
    let verdict = GuardianVerdict {
        alignment,
        drift_reason: "reads about cats".into(),
        intervention,
        message: "Back to the launch post.".into(),
    };
    let decision = apply_policy(&verdict, &GuardianPolicy::default());
    NewAssessment {
        run_id: run,
        progress: Progress { steps, tokens: 1500 },
        verdict,
        decision,
        model: "anthropic/claude-haiku-4-5".into(),
        input_tokens: 900,
        output_tokens: 60,
        cost_usd: Some(0.0012),
    }
}

async fn assessments_are_recorded_delivered_once_and_costed_as_oversight(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Write the launch post")).await.unwrap();
    claim_and_begin(store, run.id).await;
    store.append_step(step(&t.clock, run.id, 0, steward_domain::StepKind::Instruction)).await.unwrap();
    store.append_step(model_call(&t.clock, run.id, 1, 1000, 500, Some(0.01))).await.unwrap();

    // A run that started after the cut-off is not a candidate yet.
    let earlier = t.clock.now() - chrono::Duration::minutes(2);
    assert!(store.guardian_candidates(earlier).await.unwrap().is_empty());
    let candidates = store.guardian_candidates(t.clock.now()).await.unwrap();
    assert_eq!(candidates.len(), 1);
    assert_eq!((candidates[0].run.id, candidates[0].last), (run.id, None));

    t.clock.advance(chrono::Duration::minutes(3));
    let steer = store.record_assessment(assessment(run.id, 2, 0.5, Intervention::Steer)).await.unwrap();
    assert_eq!((steer.intervention, steer.status), (Intervention::Steer, AssessmentStatus::Pending));
    assert_eq!((steer.agent_id, steer.user_id, steer.created_at), (agent, USER, t.clock.now()));
    assert_eq!(steer.message, "Back to the launch post.");
    let candidates = store.guardian_candidates(t.clock.now()).await.unwrap();
    assert_eq!(candidates[0].last, Some((t.clock.now(), Progress { steps: 2, tokens: 1500 })));
    assert!(event_kinds(store, EventSubject::Run, run.id.get()).await.contains(&"run.assessed".to_string()));

    // A second look at the same progress (another node's guardian) is refused.
    let again = store.record_assessment(assessment(run.id, 2, 0.9, Intervention::Continue)).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict { kind: ConflictKind::Stale, .. }), "{again:?}");

    // A look that finds the run on course delivers nothing.
    let mut on_course = assessment(run.id, 2, 0.9, Intervention::Continue);
    on_course.progress.tokens += 100;
    let fine = store.record_assessment(on_course).await.unwrap();
    assert_eq!(fine.status, AssessmentStatus::Recorded);

    // The loop takes the steer before step 2, once; later calls see it as earlier.
    let first = store.deliver_interventions(run.id, 2).await.unwrap();
    assert!(first.earlier.is_empty());
    assert_eq!(first.now.len(), 1);
    assert_eq!((first.now[0].id, first.now[0].delivered_before_step), (steer.id, Some(2)));
    let again = store.deliver_interventions(run.id, 4).await.unwrap();
    assert!(again.now.is_empty());
    assert_eq!(
        again.earlier.iter().map(|a| (a.id, a.delivered_before_step)).collect::<Vec<_>>(),
        [(steer.id, Some(2))]
    );
    let listed = store.list_assessments(USER, run.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|a| a.status).collect::<Vec<_>>(),
        [AssessmentStatus::Delivered, AssessmentStatus::Recorded]
    );

    // Oversight's two looks are counted apart from the run's own call.
    let costs = store.cost_entries(USER, t.clock.now() - chrono::Duration::days(1)).await.unwrap();
    let work: Vec<_> = costs.iter().filter(|entry| entry.purpose == CostPurpose::Work).collect();
    let oversight: Vec<_> = costs.iter().filter(|entry| entry.purpose == CostPurpose::Oversight).collect();
    assert_eq!(work.len(), 1, "{costs:?}");
    assert_eq!((work[0].model_calls, work[0].input_tokens), (1, 1000));
    assert_eq!(oversight.len(), 1, "{costs:?}");
    assert_eq!(oversight[0].model.as_deref(), Some("anthropic/claude-haiku-4-5"));
    assert_eq!((oversight[0].model_calls, oversight[0].input_tokens, oversight[0].output_tokens), (2, 1800, 120));
    assert!((oversight[0].cost_usd - 0.0024).abs() < 1e-9);

    // Another user does not see them; a finished run takes no more.
    assert!(matches!(store.list_assessments(UserId(999), run.id).await, Err(StoreError::NotFound { .. })));
    store
        .finish_run(run.id, RunFinish { outcome: RunOutcome::Completed, output: Some("done".into()), error: None })
        .await
        .unwrap();
    let refused = store.record_assessment(assessment(run.id, 3, 0.5, Intervention::Steer)).await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict { .. }), "{refused:?}");
    assert!(store.guardian_candidates(t.clock.now()).await.unwrap().is_empty());
}

async fn an_alignment_outside_zero_to_one_is_refused(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let run = store.start_run(USER, ad_hoc_run(agent, "Go")).await.unwrap();
    claim_and_begin(store, run.id).await;
    let mut new = assessment(run.id, 1, 0.5, Intervention::Steer);
    new.verdict.alignment = 1.5;
    match store.record_assessment(new).await.unwrap_err() {
        StoreError::Invalid(error) => assert_eq!(error.field, "alignment"),
        other => panic!("expected the alignment refused, got {other:?}"),
    }
}

async fn liveness_is_read_from_running_runs_leases_and_the_last_outcome(t: TestStore) {
    let store = t.store.as_ref();
    let writer = agent_named(store, "Writer").await;
    let idle = agent_named(store, "Idler").await;
    let run = store.start_run(USER, ad_hoc_run(writer, "Write")).await.unwrap();
    claim_and_begin(store, run.id).await;
    let facts = store.liveness_facts(USER).await.unwrap();
    assert!(!facts.contains_key(&idle), "an agent without runs is idle: {facts:?}");
    let of_writer = &facts[&writer];
    assert_eq!(of_writer.running.len(), 1);
    let lease = of_writer.running[0].lease_expires_at.expect("a worker holds the run's job");
    assert!(lease > t.clock.now());
    assert_eq!(liveness(of_writer, t.clock.now(), STUCK_AFTER).0, Liveness::Active);

    // Its worker stops beating: past the lease the agent is stuck.
    t.clock.advance(chrono::Duration::from_std(LEASE).unwrap() + chrono::Duration::seconds(1));
    let facts = store.liveness_facts(USER).await.unwrap();
    assert_eq!(liveness(&facts[&writer], t.clock.now(), STUCK_AFTER).0, Liveness::Stuck);

    store
        .finish_run(run.id, RunFinish { outcome: RunOutcome::Failed, output: None, error: Some("boom".into()) })
        .await
        .unwrap();
    let facts = store.liveness_facts(USER).await.unwrap();
    assert!(facts[&writer].running.is_empty());
    assert_eq!(facts[&writer].last_finished.map(|(outcome, _)| outcome), Some(RunOutcome::Failed));
    assert_eq!(liveness(&facts[&writer], t.clock.now(), STUCK_AFTER).0, Liveness::Failed);
}

fn pair(first: &str, second: &str) -> NewDuplicate {
    NewDuplicate {
        kind: DuplicateKind::Action,
        project_id: None,
        first: first.into(),
        second: second.into(),
        first_title: format!("Write post {first}"),
        second_title: format!("Write post {second}"),
        similarity: 0.9,
        method: "text".into(),
        text_similarity: 0.9,
        embedding_similarity: None,
    }
}

async fn duplicates_are_flagged_once_and_decided_once(t: TestStore) {
    let store = t.store.as_ref();
    let flagged = store.flag_duplicates(USER, vec![pair("1", "2"), pair("3", "4")]).await.unwrap();
    assert_eq!(flagged.len(), 2);
    assert_eq!((flagged[0].status, flagged[0].kept.as_deref()), (DuplicateStatus::Open, None));
    let again = store.flag_duplicates(USER, vec![pair("1", "2")]).await.unwrap();
    assert!(again.is_empty(), "a pair is flagged once");
    let open = store.list_duplicates(USER, Some(DuplicateStatus::Open)).await.unwrap();
    assert_eq!(open.iter().map(|d| d.first.as_str()).collect::<Vec<_>>(), ["3", "1"], "newest first");

    let id = flagged[0].id;
    let refused = store.decide_duplicate(USER, id, Some("9".into())).await.unwrap_err();
    assert!(matches!(&refused, StoreError::Invalid(error) if error.field == "keep"), "{refused:?}");
    let merged = store.decide_duplicate(USER, id, Some("1".into())).await.unwrap();
    assert_eq!(
        (merged.status, merged.kept.as_deref(), merged.decided_at),
        (DuplicateStatus::Merged, Some("1"), Some(t.clock.now()))
    );
    let twice = store.decide_duplicate(USER, id, None).await.unwrap_err();
    assert!(matches!(twice, StoreError::Conflict { .. }), "{twice:?}");
    let kept = store.decide_duplicate(USER, flagged[1].id, None).await.unwrap();
    assert_eq!(kept.status, DuplicateStatus::KeptBoth);
    assert!(store.list_duplicates(USER, Some(DuplicateStatus::Open)).await.unwrap().is_empty());
    assert_eq!(store.list_duplicates(USER, None).await.unwrap().len(), 2);
    assert!(matches!(store.get_duplicate(UserId(999), id).await, Err(StoreError::NotFound { .. })));
    let kinds = event_kinds(store, EventSubject::Action, 1).await;
    assert_eq!(kinds, ["duplicate.flagged", "duplicate.decided"]);
}

async fn a_flag_keeps_its_text_and_embedding_scores(t: TestStore) {
    let store = t.store.as_ref();
    let mut by_embedding = pair("5", "6");
    (by_embedding.similarity, by_embedding.method) = (0.91, "embedding".into());
    (by_embedding.text_similarity, by_embedding.embedding_similarity) = (0.2, Some(0.91));
    let flagged = store.flag_duplicates(USER, vec![by_embedding, pair("7", "8")]).await.unwrap();
    let read = store.get_duplicate(USER, flagged[0].id).await.unwrap();
    assert_eq!((read.text_similarity, read.embedding_similarity), (Some(0.2), Some(0.91)));
    assert_eq!(read.why(), "the embeddings are alike: text 0.20, embedding 0.91");
    let text_only = store.get_duplicate(USER, flagged[1].id).await.unwrap();
    assert_eq!((text_only.text_similarity, text_only.embedding_similarity), (Some(0.9), None));
    assert_eq!(text_only.why(), "the texts are alike: text 0.90");
}

fn check_call(agent: steward_domain::AgentId, subject: &str, outcome: &str, cost_usd: Option<f64>) -> NewOversightCall {
    NewOversightCall {
        agent_id: agent,
        purpose: OversightCallPurpose::DuplicateCheck,
        subject: subject.into(),
        outcome: outcome.into(),
        model: "anthropic/claude-haiku-4-5".into(),
        input_tokens: 300,
        output_tokens: 20,
        cost_usd,
    }
}

async fn duplicate_checks_are_oversight_costs_counted_in_the_agents_spending(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    let before = store.agent_spend(USER, agent, None).await.unwrap();
    assert_eq!((before.cost_usd, before.unknown_cost_calls), (0.0, 0));
    store.record_oversight_call(USER, check_call(agent, "action 1 ~ 2 #a", "different", Some(0.25))).await.unwrap();
    store.record_oversight_call(USER, check_call(agent, "action 1 ~ 2 #b", "same", None)).await.unwrap();
    let embedding = NewOversightCall {
        purpose: OversightCallPurpose::DuplicateEmbedding,
        model: "openai/text-embedding-3-small".into(),
        output_tokens: 0,
        ..check_call(agent, "2 work items", "2 vectors", Some(0.01))
    };
    store.record_oversight_call(USER, embedding).await.unwrap();

    let spent = store.agent_spend(USER, agent, Some(t.clock.now() - chrono::Duration::hours(1))).await.unwrap();
    assert!((spent.cost_usd - 0.26).abs() < 1e-9, "{spent:?}");
    assert_eq!(spent.unknown_cost_calls, 1, "a call of unknown price is counted as such");
    let costs = store.cost_entries(USER, t.clock.now() - chrono::Duration::days(1)).await.unwrap();
    assert!(costs.iter().all(|entry| entry.purpose == CostPurpose::Oversight && entry.agent_id == agent), "{costs:?}");
    let checks = costs.iter().find(|entry| entry.model.as_deref() == Some("anthropic/claude-haiku-4-5")).unwrap();
    assert_eq!(
        (checks.model_calls, checks.unknown_cost_calls, checks.input_tokens, checks.output_tokens),
        (2, 1, 600, 40)
    );
    assert!((checks.cost_usd - 0.25).abs() < 1e-9);
    assert!(costs.iter().any(|entry| entry.model.as_deref() == Some("openai/text-embedding-3-small")));

    let answered = store.oversight_outcomes(USER, OversightCallPurpose::DuplicateCheck).await.unwrap();
    assert_eq!(answered.len(), 2);
    assert_eq!(answered.get("action 1 ~ 2 #b").map(String::as_str), Some("same"));
    assert!(store.oversight_outcomes(UserId(999), OversightCallPurpose::DuplicateCheck).await.unwrap().is_empty());
    let foreign = store.record_oversight_call(UserId(999), check_call(agent, "x", "same", None)).await.unwrap_err();
    assert!(matches!(foreign, StoreError::NotFound { .. }), "another user's agent is not charged: {foreign:?}");
}

store_tests!(
    a_flag_keeps_its_text_and_embedding_scores,
    duplicate_checks_are_oversight_costs_counted_in_the_agents_spending,
    duplicates_are_flagged_once_and_decided_once,
    assessments_are_recorded_delivered_once_and_costed_as_oversight,
    an_alignment_outside_zero_to_one_is_refused,
    liveness_is_read_from_running_runs_leases_and_the_last_outcome,
);
