//! The optional rerankers on a small graph written through the store:
//! distance from a centre entity puts its neighbourhood first (and the
//! unreached last), mentions put the most cited fact first, MMR keeps the
//! same results in a diversity-aware order; each result says so in `why`.

use steward_domain::memory::{FactKind, ItemKind};
use steward_runtime::memory::{Item, Rerank, SearchQuery};
use steward_store::memory::{IngestionPlan, PlannedEntity, PlannedFact, Resolution};

use crate::memory::{feedback, setup};
use crate::support::USER;

fn entity(name: &str) -> PlannedEntity {
    PlannedEntity { name: name.into(), labels: vec![], summary: String::new(), resolution: Resolution::New }
}

fn fact(subject: usize, object: Option<usize>, statement: &str) -> PlannedFact {
    PlannedFact {
        kind: FactKind::Relation,
        subject,
        object,
        relation: "relates".into(),
        statement: statement.into(),
        valid_at: None,
        invalid_at: None,
        duplicate_of: None,
        contradicts: Vec::new(),
        also_from: Vec::new(),
    }
}

fn statements(results: &[steward_runtime::memory::SearchResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|result| match &result.item {
            Item::Fact(fact) => Some(fact.statement.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn rerankers_reorder_the_results_and_say_why() {
    let setup = setup(false).await;
    let (first, _) = setup.store.add_episode(feedback("r1", "The team and their coffee.", 1)).await.unwrap();
    let plan = IngestionPlan {
        entities: vec![entity("Maya"), entity("Sam"), entity("Lena"), entity("Omar")],
        facts: vec![
            fact(0, Some(1), "Maya knows Sam."),
            fact(1, Some(2), "Sam knows Lena."),
            fact(3, None, "Omar drinks coffee every morning."),
            fact(2, None, "Lena drinks coffee after lunch."),
            fact(0, None, "Maya drinks coffee black."),
        ],
        ..IngestionPlan::default()
    };
    setup.store.apply_ingestion(USER, first.id, plan).await.unwrap();
    // Omar's habit is said again: one more episode cites it.
    let (second, _) = setup.store.add_episode(feedback("r2", "Omar and his morning coffee.", 2)).await.unwrap();
    let again = IngestionPlan {
        entities: vec![entity("Omar")],
        facts: vec![fact(0, None, "Omar drinks coffee every morning.")],
        ..IngestionPlan::default()
    };
    setup.store.apply_ingestion(USER, second.id, again).await.unwrap();

    let mut query = SearchQuery::new(USER, "who drinks coffee");
    query.kinds = vec![ItemKind::Fact];
    let plain = setup.memory.search(&query).await.unwrap().results;
    assert_eq!(plain.len(), 3, "{:?}", statements(&plain));

    let lena = setup.store.find_entity(USER, "Lena").await.unwrap().unwrap();
    query.rerank = Some(Rerank::Centre(lena.id));
    let near = setup.memory.search(&query).await.unwrap().results;
    assert_eq!(
        statements(&near),
        ["Lena drinks coffee after lunch.", "Maya drinks coffee black.", "Omar drinks coffee every morning."],
        "Lena herself, then Maya two hops away (Lena–Sam–Maya), then Omar, not reached"
    );
    assert_eq!(near[0].why.last().map(String::as_str), Some("centre 0 hops"));
    assert_eq!(near[1].why.last().map(String::as_str), Some("centre 2 hops"));
    assert_eq!(near[2].why.last().map(String::as_str), Some("centre not reached"));

    query.rerank = Some(Rerank::Mentions);
    let cited = setup.memory.search(&query).await.unwrap().results;
    assert_eq!(statements(&cited)[0], "Omar drinks coffee every morning.");
    assert_eq!(cited[0].why.last().map(String::as_str), Some("mentioned by 2 episode(s)"));

    query.rerank = Some(Rerank::Mmr);
    let diverse = setup.memory.search(&query).await.unwrap().results;
    let mut same = statements(&diverse);
    let mut expected = statements(&plain);
    same.sort();
    expected.sort();
    assert_eq!(same, expected, "MMR reorders, it does not drop");
    for (position, result) in diverse.iter().enumerate() {
        assert_eq!(result.why.last(), Some(&format!("mmr rank {}", position + 1)));
    }

    query.limit = 1;
    query.rerank = Some(Rerank::Centre(lena.id));
    let one = setup.memory.search(&query).await.unwrap().results;
    assert_eq!(statements(&one), ["Lena drinks coffee after lunch."], "reranked before the limit is applied");
}
