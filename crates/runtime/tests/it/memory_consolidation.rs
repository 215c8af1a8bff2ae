//! Consolidation with the fake provider counting the calls: new episodes
//! are folded into a preference (citing every episode it came from) in one
//! call per agent scope; with nothing new since, no model is called at all;
//! a later fold is shown the standing preference by id and closes it.

use serde_json::json;
use steward_domain::NewAgent;
use steward_domain::memory::{EpisodeSource, FactKind, NewEpisode};
use steward_fake_llm::Reply;
use steward_runtime::memory::ConsolidationReport;

use crate::memory::{feedback, setup};
use crate::support::USER;

fn folded(statement: &str, contradicts: &[i64]) -> Reply {
    Reply::json(&json!({"facts": [
        {"subject": "the user", "relation": "prefers", "kind": "preference", "fact": statement,
         "contradicts": contradicts},
        {"subject": "the user", "relation": "mentions", "kind": "relation", "fact": "Not a preference."}
    ]}))
}

#[tokio::test]
async fn consolidation_folds_new_episodes_and_costs_nothing_without_them() {
    let setup = setup(false).await;
    let nothing = setup.memory.consolidate(USER).await.unwrap();
    assert_eq!(nothing, ConsolidationReport::default());
    assert_eq!(setup.fake.requests().len(), 0, "no episodes: no call");

    let mut ids = Vec::new();
    for (reference, text, day) in
        [("c1", "Too many exclamation marks again.", 1), ("c2", "Please keep the voice plain.", 2)]
    {
        ids.push(setup.store.add_episode(feedback(reference, text, day)).await.unwrap().0.id);
    }
    setup.fake.push(folded("The user wants a plain voice without exclamation marks.", &[]));
    let first = setup.memory.consolidate(USER).await.unwrap();
    assert_eq!((first.episodes, first.model_calls, first.facts_created), (2, 1, 1), "{first:?}");
    let prompt = setup.fake.requests()[0].user_texts().join("\n");
    assert!(prompt.contains("Too many exclamation marks") && prompt.contains("keep the voice plain"), "{prompt}");
    let facts = setup.store.list_facts(USER, &[], 10).await.unwrap();
    assert_eq!(facts.len(), 1, "relations are not consolidation's to make: {facts:?}");
    assert_eq!(facts[0].kind, FactKind::Preference);
    assert_eq!(&facts[0].episodes[..2], &ids[..], "it cites the folded episodes");

    for _ in 0..3 {
        let again = setup.memory.consolidate(USER).await.unwrap();
        assert_eq!(again, ConsolidationReport::default(), "nothing new");
    }
    assert_eq!(setup.fake.requests().len(), 1, "nothing new costs no call");

    // Later episodes of two scopes: one call each; the shared one contradicts.
    setup.clock.advance(chrono::Duration::days(10));
    let later = feedback("c3", "One exclamation mark in a headline is fine now.", 20);
    setup.store.add_episode(later).await.unwrap();
    let scribe = NewAgent { name: "Scribe".into(), goal: "Write".into(), ..NewAgent::default() };
    let scribe = setup.store.create_agent(USER, scribe).await.unwrap();
    let agent_scoped = NewEpisode {
        agent_id: Some(scribe.id),
        source: EpisodeSource::Correction,
        ..feedback("c4", "We decided to post on Tuesdays.", 21)
    };
    setup.store.add_episode(agent_scoped).await.unwrap();
    setup.fake.push(folded("One exclamation mark is fine in a headline.", &[facts[0].id.get()]));
    setup.fake.push(Reply::json(&json!({"facts": [
        {"subject": "the user", "relation": "decided", "kind": "decision", "fact": "Posts go out on Tuesdays."}
    ]})));
    let second = setup.memory.consolidate(USER).await.unwrap();
    assert_eq!((second.episodes, second.model_calls, second.facts_created, second.facts_closed), (2, 2, 2, 1));
    let shown = setup.fake.requests()[1].user_texts().join("\n");
    assert!(shown.contains(&format!("id {}: [preference]", facts[0].id)), "the standing one by id: {shown}");
    let old = setup.store.get_facts(USER, &[facts[0].id]).await.unwrap().remove(0);
    assert!(old.expired_at.is_some(), "closed by the later fold");
    assert_eq!(setup.memory.consolidate(USER).await.unwrap(), ConsolidationReport::default());
    assert_eq!(setup.fake.requests().len(), 3);
}
