//! Journey J4 inside the runtime: feedback on a first deliverable becomes a
//! remembered preference that the next run's prompt carries (as the fake
//! model receives it); a later contradicting preference supersedes it, and
//! a search `as_of` the earlier date still finds the old one.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use steward_domain::memory::ItemKind;
use steward_domain::{ActionMode, ActionPriority, Agent, ManualClock, NewAction, RunLimits};
use steward_fake_llm::Reply;
use steward_runtime::SharedClock;
use steward_runtime::memory::{Item, Memory, SearchQuery};
use steward_runtime::tools::ToolRegistry;
use steward_store::memory::EpisodeFilter;
use tokio::sync::mpsc;

use crate::agent_support::Harness;
use crate::support::USER;

const STRUCTURED: &str = "structured_output";
const PLAIN: &str = "Never use exclamation marks; the brand voice is plain.";
const ONE_ALLOWED: &str = "One exclamation mark is fine in a headline.";

/// Says `text` in the action's thread, then ingests the episode it made,
/// with the fake answering the two extraction calls with `facts`.
async fn give_feedback(
    h: &Harness,
    memory: &Memory,
    action: steward_domain::ActionId,
    text: &str,
    facts: serde_json::Value,
) {
    h.fake.push(Reply::text("Noted."));
    let (sender, mut receiver) = mpsc::channel(64);
    h.runtime.chat_about_action(USER, action, text.into(), sender).await.unwrap();
    while receiver.recv().await.is_some() {}
    let pending = EpisodeFilter { pending: true, limit: 10, ..EpisodeFilter::default() };
    let episodes = h.store.list_episodes(USER, pending).await.unwrap();
    assert_eq!(episodes.len(), 1, "the feedback became one episode");
    assert!(episodes[0].content.contains(text));
    h.fake.push(Reply::tool_call(STRUCTURED, &json!({"entities": [{"name": "the user", "labels": ["Person"]}]})));
    h.fake.push(Reply::tool_call(STRUCTURED, &json!({ "facts": facts })));
    memory.ingest(USER, episodes[0].id).await.unwrap();
}

async fn run_prompt(h: &Harness, agent: &Agent) -> String {
    h.fake.take_requests();
    h.fake.push(Reply::text("Here is the post."));
    let run = h.start_run(agent, "Write the next launch post", RunLimits::default()).await;
    h.execute(&run).await;
    h.fake.requests()[0].system_text().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_shapes_the_next_run_and_a_later_preference_supersedes_it() {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()));
    let h = Harness::on_clock(ToolRegistry::default(), clock.clone()).await;
    let agent = h.agent(|_| {}).await;
    let memory = Memory::new(
        h.store.clone(),
        SharedClock::new(clock.clone()),
        Some(h.runtime.models().default_chat_model().unwrap()),
        None,
    );
    let new_action = NewAction {
        agent_id: agent.id,
        title: "Launch post".into(),
        description: String::new(),
        priority: ActionPriority::Medium,
        mode: ActionMode::Interactive,
        scheduled_for: None,
    };
    let action = h.store.create_action(USER, new_action).await.unwrap();

    let first = run_prompt(&h, &agent).await;
    assert!(!first.contains("exclamation"), "nothing remembered yet: {first}");

    let plain = json!([{"subject": "the user", "relation": "prefers", "kind": "preference", "fact": PLAIN}]);
    give_feedback(&h, &memory, action.id, "never use exclamation marks; our brand voice is plain", plain).await;
    let second = run_prompt(&h, &agent).await;
    assert!(second.contains(PLAIN), "the next run's prompt carries the preference: {second}");

    clock.advance(Duration::days(10));
    let old = h.store.list_facts(USER, &[], 10).await.unwrap().remove(0);
    let one = json!([{"subject": "the user", "relation": "prefers", "kind": "preference", "fact": ONE_ALLOWED,
                      "contradicts": [old.id.get()]}]);
    give_feedback(&h, &memory, action.id, "actually, one exclamation mark in a headline is fine", one).await;
    let third = run_prompt(&h, &agent).await;
    assert!(third.contains(ONE_ALLOWED) && !third.contains(PLAIN), "superseded: {third}");

    let mut query = SearchQuery::new(USER, "exclamation marks");
    query.kinds = vec![ItemKind::Fact];
    let facts = |outcome: steward_runtime::memory::SearchOutcome| -> Vec<String> {
        outcome
            .results
            .into_iter()
            .filter_map(|result| match result.item {
                Item::Fact(fact) => Some(fact.statement),
                _ => None,
            })
            .collect()
    };
    assert_eq!(facts(memory.search(&query).await.unwrap()), [ONE_ALLOWED]);
    query.as_of = Some(Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap());
    assert_eq!(facts(memory.search(&query).await.unwrap()), [PLAIN], "as of 5 March: the old preference");
}
