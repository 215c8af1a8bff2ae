//! Memory's ingestion and search with the fake provider scripting the
//! extraction replies (OpenAI protocol, which also serves embeddings):
//! entities deduplicated across episodes, a contradiction closing the old
//! fact, a retried ingestion adding nothing twice, and hybrid search with
//! provenance and `as_of`.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use steward_domain::memory::text::query_terms;
use steward_domain::memory::{EpisodeSource, FactKind, ItemKind, NewEpisode};
use steward_domain::{EpisodeId, ManualClock};
use steward_fake_llm::{Endpoint, FakeLlm, Fault, Reply};
use steward_llm::{LlmConfig, ModelRegistry, RetryConfig};
use steward_runtime::SharedClock;
use steward_runtime::memory::{Item, Memory, SearchQuery};
use steward_store::{Store, StoreOptions};
use steward_test_support::TestDatabase;

use crate::support::USER;

pub(crate) struct Setup {
    pub(crate) fake: FakeLlm,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) memory: Memory,
    pub(crate) clock: Arc<ManualClock>,
    _database: TestDatabase,
}

pub(crate) async fn setup(with_embeddings: bool) -> Setup {
    let fake = FakeLlm::start().await.unwrap();
    let config = LlmConfig {
        default_model: Some("openai/gpt-4o-mini".into()),
        retry: RetryConfig { max_retries: 0, ..RetryConfig::default() },
        ..LlmConfig::default()
    };
    let base_url = fake.openai_base_url();
    let environment = move |name: &str| match name {
        "OPENAI_API_KEY" => Some("sk-test-memory".to_string()),
        "OPENAI_BASE_URL" => Some(base_url.clone()),
        _ => None,
    };
    let models = ModelRegistry::new(&config, &environment).unwrap();
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap()));
    let database = TestDatabase::sqlite();
    let store = database.open(StoreOptions { clock: clock.clone(), ..StoreOptions::default() }).await;
    let embedder = with_embeddings.then(|| models.embedding_model("openai/text-embedding-3-small").unwrap());
    let memory = Memory::new(
        store.clone(),
        SharedClock::new(clock.clone()),
        Some(models.default_chat_model().unwrap()),
        embedder,
    );
    Setup { fake, store, memory, clock, _database: database }
}

pub(crate) fn feedback(reference: &str, content: &str, day: u32) -> NewEpisode {
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

fn entities(names: &[&str]) -> Reply {
    let entities: Vec<Value> = names.iter().map(|name| json!({"name": name, "labels": ["Thing"]})).collect();
    Reply::json(&json!({ "entities": entities }))
}

fn fact(subject: &str, kind: &str, statement: &str, contradicts: &[i64]) -> Value {
    json!({"subject": subject, "relation": "prefers", "kind": kind, "fact": statement, "contradicts": contradicts})
}

async fn add(setup: &Setup, episode: NewEpisode) -> EpisodeId {
    setup.store.add_episode(episode).await.unwrap().0.id
}

/// The user texts of chat requests (embeddings excluded), in order.
fn prompts(fake: &FakeLlm) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|request| request.endpoint != Endpoint::OpenAiEmbeddings)
        .map(|request| request.user_texts().join("\n"))
        .collect()
}

#[tokio::test]
async fn entities_are_deduplicated_across_episodes() {
    let setup = setup(false).await;
    let first = add(&setup, feedback("e1", "Acme Corp wants plain prose.", 1)).await;
    setup.fake.push(entities(&["Acme Corp"]));
    setup
        .fake
        .push(Reply::json(&json!({"facts": [fact("Acme Corp", "preference", "Acme Corp wants plain prose.", &[])]})));
    let report = setup.memory.ingest(USER, first).await.unwrap();
    assert_eq!((report.entities_created, report.facts_created), (1, 1));

    let second = add(&setup, feedback("e2", "ACME corp. also wants short posts.", 2)).await;
    setup.fake.push(entities(&["ACME corp.", "Acme Corpp"]));
    setup.fake.push(Reply::json(&json!({"facts": [fact("ACME corp.", "preference", "Acme wants short posts.", &[])]})));
    let report = setup.memory.ingest(USER, second).await.unwrap();
    assert_eq!((report.entities_created, report.entities_merged, report.facts_created), (0, 1, 1), "{report:?}");
    let names = setup.store.entity_names(USER).await.unwrap();
    assert_eq!(names.len(), 1, "one Acme: {names:?}");
    let merges = setup.store.entity_merges(USER, names[0].0).await.unwrap();
    assert_eq!((merges[0].alias.as_str(), merges[0].method.as_str()), ("Acme Corpp", "fuzzy"));
    // The fact call was shown the existing fact by id.
    let fact_prompt = prompts(&setup.fake).pop().unwrap();
    assert!(fact_prompt.contains("Acme Corp wants plain prose."), "{fact_prompt}");
}

#[tokio::test]
async fn a_contradiction_closes_the_old_fact_and_as_of_still_sees_it() {
    let setup = setup(true).await;
    let first = add(&setup, feedback("f1", "Exclamation marks are fine in our posts!", 1)).await;
    setup.fake.push(entities(&["the user"]));
    setup
        .fake
        .push(Reply::json(&json!({"facts": [fact("the user", "preference", "Exclamation marks are fine.", &[])]})));
    setup.memory.ingest(USER, first).await.unwrap();
    let old = setup.store.list_facts(USER, &[], 10).await.unwrap().remove(0);

    setup.clock.advance(chrono::Duration::days(1));
    let second = add(&setup, feedback("f2", "Never use exclamation marks; our brand voice is plain.", 10)).await;
    setup.fake.push(entities(&["the user"]));
    let statement = "Never use exclamation marks; the brand voice is plain.";
    setup.fake.push(Reply::json(&json!({"facts": [fact("the user", "preference", statement, &[old.id.get()])]})));
    let report = setup.memory.ingest(USER, second).await.unwrap();
    assert_eq!((report.facts_created, report.facts_closed), (1, 1));

    let mut query = SearchQuery::new(USER, "exclamation marks");
    query.kinds = vec![ItemKind::Fact];
    let now = setup.memory.search(&query).await.unwrap();
    assert!(now.vectors_used);
    let statements: Vec<&str> = now
        .results
        .iter()
        .filter_map(|result| match &result.item {
            Item::Fact(fact) => Some(fact.statement.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(statements, [statement], "now: only the new preference");
    let why = &now.results[0].why;
    assert!(why.iter().any(|reason| reason.starts_with("text rank")), "{why:?}");
    assert_eq!(now.results[0].provenance[0].episode.id, second, "provenance: the feedback");

    query.as_of = Some(Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap());
    let then = setup.memory.search(&query).await.unwrap();
    let old_statements: Vec<&str> = then
        .results
        .iter()
        .filter_map(|result| match &result.item {
            Item::Fact(fact) => Some(fact.statement.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(old_statements, ["Exclamation marks are fine."], "as of 5 March: the old one");
    let kinds = setup.store.list_facts(USER, &[FactKind::Preference], 10).await.unwrap().len();
    assert_eq!(kinds, 2, "nothing deleted");
}

#[tokio::test]
async fn a_retried_ingestion_adds_nothing_twice() {
    let setup = setup(true).await;
    let episode = add(&setup, feedback("r1", "Ann decided to launch in May.", 1)).await;
    // The first attempt fails at the fact call: nothing is written.
    setup.fake.push(entities(&["Ann"]));
    setup.fake.push(Fault::server_error());
    assert!(setup.memory.ingest(USER, episode).await.is_err());
    assert_eq!(setup.store.entity_names(USER).await.unwrap(), vec![]);
    // The retry writes once; a third run finds the episode ingested and
    // asks the model nothing.
    setup.fake.push(entities(&["Ann"]));
    setup.fake.push(Reply::json(&json!({"facts": [fact("Ann", "decision", "Ann decided to launch in May.", &[])]})));
    let report = setup.memory.ingest(USER, episode).await.unwrap();
    assert_eq!((report.entities_created, report.facts_created), (1, 1));
    let calls = setup.fake.requests().len();
    let again = setup.memory.ingest(USER, episode).await.unwrap();
    assert!(again.already_ingested);
    assert_eq!(setup.fake.requests().len(), calls, "no model call for an ingested episode");
    assert_eq!(setup.store.list_facts(USER, &[], 10).await.unwrap().len(), 1);
    let (count, _) = setup.store.embedding_watermark(USER).await.unwrap();
    assert_eq!(count, 3, "the episode, Ann and the fact, each once");
}

#[tokio::test]
async fn without_an_embedder_search_uses_text_and_the_graph_and_says_so() {
    let setup = setup(false).await;
    let episode = add(&setup, feedback("g1", "Bea manages the Berlin office.", 1)).await;
    setup.fake.push(entities(&["Bea", "Berlin office"]));
    setup.fake.push(Reply::json(&json!({"facts": [
        {"subject": "Bea", "object": "Berlin office", "relation": "manages", "kind": "relation", "fact": "Bea manages the Berlin office."}
    ]})));
    setup.memory.ingest(USER, episode).await.unwrap();
    let found = setup.memory.search(&SearchQuery::new(USER, "Who runs things for Bea?")).await.unwrap();
    assert!(!found.vectors_used);
    let fact = found.results.iter().find(|result| matches!(result.item, Item::Fact(_))).unwrap();
    assert!(fact.why.iter().any(|reason| reason.starts_with("graph rank 1 (1 hop)")), "{:?}", fact.why);
}

#[tokio::test]
async fn the_answer_after_a_matching_question_is_found_through_its_thread() {
    let setup = setup(false).await;
    let turn = |reference: &str, thread: &str, minute: u32, content: &str| NewEpisode {
        thread: Some(thread.into()),
        reference_time: Some(Utc.with_ymd_and_hms(2026, 3, 2, 9, minute, 0).unwrap()),
        ..feedback(reference, content, 2)
    };
    // The answer ("Yes, on Friday") shares no word with the question; the
    // turn before it does. A weaker match elsewhere shares one word.
    add(&setup, turn("t1", "chat-1", 0, "Did you finish the lake painting for the gallery?")).await;
    let answer = add(&setup, turn("t2", "chat-1", 1, "Yes, on Friday, and I framed it too.")).await;
    add(&setup, turn("u1", "chat-2", 0, "The gallery opens at nine.")).await;
    add(&setup, turn("u2", "chat-2", 1, "Bring an umbrella tomorrow.")).await;
    let query =
        SearchQuery { limit: 3, ..SearchQuery::new(USER, "When was the lake painting for the gallery finished?") };
    let found = setup.memory.search(&query).await.unwrap();
    let order: Vec<i64> = found.results.iter().map(|result| result.key.id).collect();
    let position = order.iter().position(|id| *id == answer.get()).expect("the answer is in the top 3");
    let weak = found
        .results
        .iter()
        .position(|result| matches!(&result.item, Item::Episode(e) if e.source_ref.as_deref() == Some("u1")));
    assert!(weak.is_none_or(|weak| position < weak), "the answer ranks above the one-word match: {order:?}");
    let why = &found.results[position].why;
    assert!(why.iter().any(|reason| reason.contains("context of episode")), "{why:?}");
    // Without a thread the same answer would not be found by full text.
    let unthreaded = setup.store.text_search(USER, &query_terms(&query.text), &[ItemKind::Episode], 10).await.unwrap();
    assert!(unthreaded.iter().all(|(key, _)| key.id != answer.get()), "{unthreaded:?}");
}

#[tokio::test]
async fn search_finds_what_another_process_wrote_since_its_last_search() {
    let setup = setup(false).await;
    add(&setup, feedback("p1", "The Lisbon office opens in June.", 1)).await;
    // A second `Memory` on the same database stands for another process.
    let other = Memory::new(setup.store.clone(), SharedClock::new(setup.clock.clone()), None, None);
    let query = SearchQuery::new(USER, "When does the Lisbon office open?");
    assert_eq!(other.search(&query).await.unwrap().results.len(), 1);

    let later = add(&setup, feedback("p2", "Lisbon moved its opening to July.", 2)).await;
    let found = other.search(&query).await.unwrap();
    let ids: Vec<i64> = found.results.iter().map(|result| result.key.id).collect();
    assert!(ids.contains(&later.get()), "the index read the new episode from the log: {ids:?}");
    assert!(found.results.iter().all(|result| result.why.iter().any(|reason| reason.starts_with("text rank"))));
}
