//! Memory's storage on both databases: episodes added once, an ingestion
//! applied once, names resolved to one entity with merges recorded,
//! contradictions closing facts without deleting them, forgetting audited,
//! full text and embeddings scoped to their user, core blocks, episodes
//! listed after a watermark, facts drawn from several episodes, a turn's
//! neighbours in its thread, and the text log the in-process full-text
//! index follows.

use chrono::{Duration, TimeZone, Utc};
use steward_domain::Clock;
use steward_domain::memory::temporal::visible;
use steward_domain::memory::{EpisodeSource, FactKind, ItemKey, ItemKind, NewEpisode};
use steward_domain::{EpisodeId, EventSubject, FactId, UserId};
use steward_store::memory::{
    EmbeddingTarget, EpisodeFilter, IngestionPlan, MergeMethod, PlannedEmbedding, PlannedEntity, PlannedFact,
    Resolution,
};
use steward_store::{Store, StoreError};
use steward_test_support::{TestStore, store_tests};

use crate::helpers::{USER, agent_named, event_kinds};

fn episode(reference: &str, content: &str, day: u32) -> NewEpisode {
    NewEpisode {
        user_id: USER,
        agent_id: None,
        source: EpisodeSource::Feedback,
        source_ref: Some(reference.into()),
        thread: None,
        content: content.into(),
        reference_time: Some(Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap()),
    }
}

fn entity(name: &str) -> PlannedEntity {
    PlannedEntity {
        name: name.into(),
        labels: vec!["Person".into()],
        summary: String::new(),
        resolution: Resolution::New,
    }
}

fn preference(statement: &str, contradicts: Vec<FactId>) -> PlannedFact {
    PlannedFact {
        kind: FactKind::Preference,
        subject: 0,
        object: None,
        relation: "prefers".into(),
        statement: statement.into(),
        valid_at: None,
        invalid_at: None,
        duplicate_of: None,
        contradicts,
        also_from: Vec::new(),
    }
}

fn plan(entities: Vec<PlannedEntity>, facts: Vec<PlannedFact>) -> IngestionPlan {
    IngestionPlan { entities, facts, ..IngestionPlan::default() }
}

async fn ingest(store: &dyn Store, reference: &str, content: &str, day: u32, plan: IngestionPlan) -> EpisodeId {
    let (stored, _) = store.add_episode(episode(reference, content, day)).await.unwrap();
    let report = store.apply_ingestion(USER, stored.id, plan).await.unwrap();
    assert!(!report.already_ingested);
    stored.id
}

async fn an_episode_is_added_once_per_source_reference(t: TestStore) {
    let store = t.store.as_ref();
    let (first, created) = store.add_episode(episode("m1", "We ship on Fridays.", 1)).await.unwrap();
    assert!(created);
    assert_eq!(first.ingested_at, None);
    let (again, created) = store.add_episode(episode("m1", "something else", 2)).await.unwrap();
    assert_eq!((again.id, created, again.content.as_str()), (first.id, false, "We ship on Fridays."));
    let error = store.add_episode(episode("m2", "   ", 1)).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid(invalid) if invalid.field == "content"), "{error:?}");
    assert_eq!(store.get_episodes(UserId(2), &[first.id]).await.unwrap(), vec![], "another user's");
}

async fn an_ingestion_is_applied_once(t: TestStore) {
    let store = t.store.as_ref();
    let (stored, _) = store.add_episode(episode("m1", "Ann prefers plain prose.", 1)).await.unwrap();
    let plan = plan(vec![entity("Ann")], vec![preference("Ann prefers plain prose.", vec![])]);
    let report = store.apply_ingestion(USER, stored.id, plan.clone()).await.unwrap();
    assert_eq!((report.entities_created, report.facts_created), (1, 1));
    let again = store.apply_ingestion(USER, stored.id, plan).await.unwrap();
    assert!(again.already_ingested);
    assert_eq!((again.entities_created, again.facts_created), (0, 0));
    let ann = store.find_entity(USER, "  ANN ").await.unwrap().unwrap();
    let facts = store.facts_touching(USER, &[ann.id]).await.unwrap();
    assert_eq!(facts.len(), 1, "a retried ingestion adds nothing");
    assert_eq!(facts[0].episodes, vec![stored.id]);
    assert_eq!(facts[0].valid_at, stored.reference_time, "no stated date: the episode's time");
    assert_eq!(event_kinds(store, EventSubject::Episode, stored.id.get()).await, ["memory.episode_ingested"]);
}

async fn names_resolve_to_one_entity_and_merges_are_recorded(t: TestStore) {
    let store = t.store.as_ref();
    let first = ingest(store, "m1", "Acme Corp signed.", 1, plan(vec![entity("Acme Corp")], vec![])).await;
    let acme = store.find_entity(USER, "acme corp").await.unwrap().unwrap();
    // The same normalised name, planned as new, is the same entity.
    ingest(store, "m2", "The ACME corp. renewed.", 2, plan(vec![entity("The ACME corp.")], vec![])).await;
    // A similar name resolved by similarity is merged, and the merge kept.
    let mut similar = entity("Acme Corpp");
    similar.resolution = Resolution::Merge { entity: acme.id, method: MergeMethod::Fuzzy, similarity: 0.97 };
    let third = ingest(store, "m3", "Acme Corpp paid.", 3, plan(vec![similar], vec![])).await;
    assert_eq!(store.entity_names(USER).await.unwrap(), vec![(acme.id, "acme corp".to_string())]);
    let merges = store.entity_merges(USER, acme.id).await.unwrap();
    assert_eq!(merges.len(), 1);
    assert_eq!(
        (merges[0].alias.as_str(), merges[0].method.as_str(), merges[0].episode_id),
        ("Acme Corpp", "fuzzy", third)
    );
    assert_ne!(first, third);
    // A resolution to an entity the user does not have is refused by field.
    let mut stranger = entity("Zed");
    stranger.resolution = Resolution::Existing(steward_domain::EntityId(acme.id.get() + 1000));
    let (fourth, _) = store.add_episode(episode("m4", "Zed.", 4)).await.unwrap();
    let error = store.apply_ingestion(USER, fourth.id, plan(vec![stranger], vec![])).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid(invalid) if invalid.field == "entities[0]"), "{error:?}");
    assert_eq!(store.get_episodes(USER, &[fourth.id]).await.unwrap()[0].ingested_at, None, "nothing half-written");
}

async fn a_contradiction_closes_the_old_fact_and_keeps_it(t: TestStore) {
    let store = t.store.as_ref();
    let old_plan = plan(vec![entity("Brand")], vec![preference("Exclamation marks are fine.", vec![])]);
    ingest(store, "f1", "Exclamation marks are fine!", 1, old_plan).await;
    let brand = store.find_entity(USER, "brand").await.unwrap().unwrap();
    let old = store.facts_touching(USER, &[brand.id]).await.unwrap().remove(0);
    t.clock.advance(Duration::hours(1));
    let new_plan = plan(vec![entity("Brand")], vec![preference("Never use exclamation marks.", vec![old.id])]);
    ingest(store, "f2", "Never use exclamation marks.", 5, new_plan).await;
    let history = store.facts_touching(USER, &[brand.id]).await.unwrap();
    assert_eq!(history.len(), 2, "closed, not deleted");
    let (closed, new) = (&history[0], &history[1]);
    assert_eq!(closed.invalid_at, Some(new.valid_at));
    assert_eq!(closed.expired_at, Some(t.clock.now()));
    let before = Utc.with_ymd_and_hms(2026, 3, 3, 0, 0, 0).unwrap();
    let now = t.clock.now();
    let seen = |at| history.iter().filter(|fact| visible(fact, at, now)).map(|fact| fact.id).collect::<Vec<_>>();
    assert_eq!(seen(Some(before)), vec![closed.id], "as of before the change: the old one");
    assert_eq!(seen(None), vec![new.id], "now: the new one");
    // The same statement again merges its provenance instead.
    let again = plan(vec![entity("brand")], vec![preference("never use exclamation marks", vec![])]);
    let third = ingest(store, "f3", "Again: never use exclamation marks.", 6, again).await;
    let history = store.facts_touching(USER, &[brand.id]).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].episodes.last(), Some(&third));
    // A contradiction naming a fact that is not the user's is refused.
    let (fourth, _) = store.add_episode(episode("f4", "x", 7)).await.unwrap();
    let bad = plan(vec![entity("Brand")], vec![preference("y", vec![FactId(9_999)])]);
    let error = store.apply_ingestion(USER, fourth.id, bad).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid(invalid) if invalid.field == "facts[0].contradicts"), "{error:?}");
}

async fn forgetting_closes_a_fact_once_and_is_audited(t: TestStore) {
    let store = t.store.as_ref();
    ingest(store, "f1", "Ann likes tea.", 1, plan(vec![entity("Ann")], vec![preference("Ann likes tea.", vec![])]))
        .await;
    let fact = store.list_facts(USER, &[FactKind::Preference], 10).await.unwrap().remove(0);
    let forgotten = store.invalidate_fact(USER, fact.id, "wrong".into()).await.unwrap();
    assert_eq!((forgotten.invalid_at, forgotten.expired_at), (Some(t.clock.now()), Some(t.clock.now())));
    t.clock.advance(Duration::minutes(1));
    let again = store.invalidate_fact(USER, fact.id, "again".into()).await.unwrap();
    assert_eq!(again.expired_at, forgotten.expired_at, "closed once");
    assert_eq!(event_kinds(store, EventSubject::Fact, fact.id.get()).await, ["memory.fact_invalidated"]);
    assert!(matches!(store.invalidate_fact(UserId(2), fact.id, "x".into()).await, Err(StoreError::NotFound { .. })));
    assert_eq!(store.list_facts(USER, &[FactKind::Decision], 10).await.unwrap(), vec![]);
}

async fn full_text_and_embeddings_are_the_users(t: TestStore) {
    let store = t.store.as_ref();
    let mut with_vectors =
        plan(vec![entity("Berlin office")], vec![preference("The Berlin office opens in May.", vec![])]);
    with_vectors.embedding_model = Some("fake/embed".into());
    with_vectors.embeddings = vec![
        PlannedEmbedding { target: EmbeddingTarget::Episode, vector: vec![1.0, 0.0] },
        PlannedEmbedding { target: EmbeddingTarget::Fact(0), vector: vec![0.0, 1.0] },
    ];
    let episode = ingest(store, "d1", "We are opening offices in Berlin.", 1, with_vectors).await;
    let terms = vec!["berlin".to_string(), "opening".to_string()];
    let kinds = [ItemKind::Episode, ItemKind::Entity, ItemKind::Fact];
    let found = store.text_search(USER, &terms, &kinds, 10).await.unwrap();
    let found_kinds: Vec<ItemKind> = found.iter().map(|(key, _)| key.kind).collect();
    assert_eq!(found_kinds, kinds, "one of each kind: {found:?}");
    assert!(found.contains(&(ItemKey { kind: ItemKind::Episode, id: episode.get() }, found[0].1)));
    // Stemming: "opens" and "opening" meet.
    let stemmed = store.text_search(USER, &["opens".to_string()], &[ItemKind::Episode], 10).await.unwrap();
    assert_eq!(stemmed.len(), 1);
    assert_eq!(store.text_search(UserId(2), &terms, &kinds, 10).await.unwrap(), vec![]);
    let (count, highest) = store.embedding_watermark(USER).await.unwrap();
    assert_eq!(count, 2);
    let vectors = store.embeddings(USER).await.unwrap();
    assert_eq!(vectors.last().unwrap().id, highest);
    assert_eq!(vectors[0].vector, vec![1.0, 0.0]);
    assert_eq!(store.embedding_watermark(UserId(2)).await.unwrap(), (0, 0));
    let missing_model = IngestionPlan {
        embeddings: vec![PlannedEmbedding { target: EmbeddingTarget::Episode, vector: vec![1.0] }],
        ..IngestionPlan::default()
    };
    let (other, _) = store.add_episode(self::episode("d2", "x", 2)).await.unwrap();
    let error = store.apply_ingestion(USER, other.id, missing_model).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid(invalid) if invalid.field == "embedding_model"), "{error:?}");
}

async fn core_blocks_are_set_replaced_and_removed(t: TestStore) {
    let store = t.store.as_ref();
    let agent = agent_named(store, "Writer").await;
    store.set_core_block(USER, agent, "preferences".into(), "Plain voice.".into()).await.unwrap();
    store.set_core_block(USER, agent, "preferences".into(), "Plain voice, no emoji.".into()).await.unwrap();
    store.set_core_block(USER, agent, "goal_notes".into(), "Launch in May.".into()).await.unwrap();
    let blocks = store.core_blocks(USER, agent).await.unwrap();
    let labels: Vec<(&str, &str)> = blocks.iter().map(|block| (block.label.as_str(), block.value.as_str())).collect();
    assert_eq!(labels, [("goal_notes", "Launch in May."), ("preferences", "Plain voice, no emoji.")]);
    store.set_core_block(USER, agent, "goal_notes".into(), String::new()).await.unwrap();
    assert_eq!(store.core_blocks(USER, agent).await.unwrap().len(), 1);
    let error = store.set_core_block(USER, agent, "Bad Label".into(), "x".into()).await.unwrap_err();
    assert!(matches!(&error, StoreError::Invalid(invalid) if invalid.field == "label"), "{error:?}");
    assert!(matches!(
        store.set_core_block(UserId(2), agent, "x".into(), "y".into()).await,
        Err(StoreError::NotFound { .. })
    ));
}

store_tests!(
    an_episode_is_added_once_per_source_reference,
    an_ingestion_is_applied_once,
    names_resolve_to_one_entity_and_merges_are_recorded,
    a_contradiction_closes_the_old_fact_and_keeps_it,
    forgetting_closes_a_fact_once_and_is_audited,
    full_text_and_embeddings_are_the_users,
    core_blocks_are_set_replaced_and_removed,
    episodes_after_one_come_oldest_first_and_facts_keep_every_source,
    a_turns_context_is_its_thread_in_time_order,
    every_written_text_is_logged_once_in_order,
    a_reader_following_the_text_log_misses_nothing_written_concurrently,
);

async fn a_turns_context_is_its_thread_in_time_order(t: TestStore) {
    let store = t.store.as_ref();
    let at = |minute: i64| Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap() + Duration::minutes(minute);
    let turn = |reference: &str, thread: Option<&str>, minute: i64| NewEpisode {
        thread: thread.map(str::to_string),
        reference_time: Some(at(minute)),
        ..episode(reference, &format!("Turn {reference}."), 1)
    };
    // Two threads interleaved in time, and added out of order: context
    // follows each thread's reference time, not ids or the other thread.
    let mut ids = std::collections::HashMap::new();
    for (reference, thread, minute) in [
        ("a3", Some("a"), 3),
        ("a1", Some("a"), 1),
        ("b1", Some("b"), 2),
        ("a2", Some("a"), 2),
        ("a4", Some("a"), 4),
        ("a5", Some("a"), 5),
        ("a6", Some("a"), 6),
        ("loose", None, 3),
    ] {
        ids.insert(reference, store.add_episode(turn(reference, thread, minute)).await.unwrap().0.id);
    }
    let name = |id: EpisodeId| *ids.iter().find(|(_, known)| **known == id).unwrap().0;
    let mut found: Vec<(&str, &str, usize)> = store
        .episode_context(USER, &[ids["a3"], ids["a1"], ids["b1"], ids["loose"]], 2)
        .await
        .unwrap()
        .into_iter()
        .map(|near| (name(near.of), name(near.neighbour), near.distance))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![("a1", "a2", 1), ("a1", "a3", 2), ("a3", "a1", 2), ("a3", "a2", 1), ("a3", "a4", 1), ("a3", "a5", 2)],
        "a thread of one and an episode without a thread have no context"
    );
    assert_eq!(store.get_episodes(USER, &[ids["a1"]]).await.unwrap()[0].thread.as_deref(), Some("a"));
    assert_eq!(store.episode_context(UserId(2), &[ids["a3"]], 2).await.unwrap(), vec![], "another user's");
    assert_eq!(store.episode_context(USER, &[ids["a3"]], 0).await.unwrap(), vec![]);
    let blank = store.add_episode(turn("blank", Some("  "), 7)).await.unwrap_err();
    assert!(matches!(&blank, StoreError::Invalid(invalid) if invalid.field == "thread"), "{blank:?}");
}

async fn episodes_after_one_come_oldest_first_and_facts_keep_every_source(t: TestStore) {
    let store = t.store.as_ref();
    let mut ids = Vec::new();
    for (day, reference) in [(1, "m1"), (2, "m2"), (3, "fold_1"), (4, "m3")] {
        ids.push(store.add_episode(episode(reference, &format!("Episode {reference}."), day)).await.unwrap().0.id);
    }
    let after = |id, prefix: Option<&str>| EpisodeFilter {
        after: Some(id),
        source_ref_prefix: prefix.map(String::from),
        limit: 10,
        ..EpisodeFilter::default()
    };
    let listed = store.list_episodes(USER, after(ids[0], None)).await.unwrap();
    assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), ids[1..], "after the first, oldest first");
    let newest = store.list_episodes(USER, EpisodeFilter { limit: 1, ..EpisodeFilter::default() }).await.unwrap();
    assert_eq!(newest[0].id, ids[3], "without `after`, newest first");
    // `_` is no wildcard: the prefix is compared exactly.
    let folds = store.list_episodes(USER, after(EpisodeId(0), Some("fold_"))).await.unwrap();
    assert_eq!(folds.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[2]]);
    assert_eq!(store.list_episodes(USER, after(EpisodeId(0), Some("fold%"))).await.unwrap(), vec![]);

    let mut folded = preference("Ann prefers plain prose.", vec![]);
    folded.also_from = vec![ids[0], ids[1]];
    store.apply_ingestion(USER, ids[2], plan(vec![entity("Ann")], vec![folded])).await.unwrap();
    let ann = store.find_entity(USER, "Ann").await.unwrap().unwrap();
    let facts = store.facts_touching(USER, &[ann.id]).await.unwrap();
    assert_eq!(facts[0].episodes, [ids[0], ids[1], ids[2]], "every episode it was drawn from, oldest first");
}

async fn every_written_text_is_logged_once_in_order(t: TestStore) {
    let store = t.store.as_ref();
    assert_eq!(store.text_watermark(USER).await.unwrap(), 0);
    let mut berlin = entity("Berlin office");
    berlin.summary = "Where the team meets".into();
    let first = ingest(
        store,
        "d1",
        "We are opening offices in Berlin.",
        1,
        plan(vec![berlin], vec![preference("The Berlin office opens in May.", vec![])]),
    )
    .await;
    let logged = store.text_since(USER, 0).await.unwrap();
    let keys: Vec<(ItemKind, String)> = logged.iter().map(|entry| (entry.key.kind, entry.text.clone())).collect();
    assert_eq!(
        keys,
        [
            (ItemKind::Episode, "We are opening offices in Berlin.".to_string()),
            (ItemKind::Entity, "Berlin office Where the team meets".to_string()),
            (ItemKind::Fact, "The Berlin office opens in May.".to_string()),
        ]
    );
    assert_eq!(logged[0].key.id, first.get());
    assert!(logged.windows(2).all(|pair| pair[0].seq < pair[1].seq), "{logged:?}");
    let head = store.text_watermark(USER).await.unwrap();
    assert_eq!(head, logged[2].seq);
    assert_eq!(store.text_since(USER, logged[1].seq).await.unwrap(), logged[2..]);

    // Nothing new: the same episode again, its ingestion again.
    store.add_episode(episode("d1", "We are opening offices in Berlin.", 1)).await.unwrap();
    let again = store.apply_ingestion(USER, first, plan(vec![entity("Berlin office")], vec![])).await.unwrap();
    assert!(again.already_ingested);
    assert_eq!(store.text_watermark(USER).await.unwrap(), head);
    assert_eq!(store.text_since(USER, head).await.unwrap(), vec![]);
    // Another user's log is their own.
    assert_eq!(store.text_watermark(UserId(2)).await.unwrap(), 0);
    assert_eq!(store.text_since(UserId(2), 0).await.unwrap(), vec![]);
}

/// A reader that reads what was logged after the last number it saw,
/// while eight writers add episodes, ends with every episode: no number
/// it passed is committed later.
async fn a_reader_following_the_text_log_misses_nothing_written_concurrently(t: TestStore) {
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let store = t.store.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for turn in 0..25 {
                    let new = episode(&format!("w{writer}-{turn}"), &format!("turn {turn} of writer {writer}"), 1);
                    ids.push(store.add_episode(new).await.unwrap().0.id.get());
                }
                ids
            })
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut held = 0;
    let mut finished = false;
    while !finished {
        finished = writers.iter().all(|writer| writer.is_finished());
        let head = t.store.text_watermark(USER).await.unwrap();
        if head > held {
            for entry in t.store.text_since(USER, held).await.unwrap() {
                assert!(entry.seq > held);
                seen.insert(entry.key.id);
                held = held.max(entry.seq);
            }
        }
        tokio::task::yield_now().await;
    }
    let mut written = std::collections::BTreeSet::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    assert_eq!(written.len(), 200);
    assert_eq!(seen, written, "the reader saw every episode by following the log");
}
