//! Generated facts for `steward memory bench --facts N`: search measured
//! over a large graph. Entities get made-up names and facts templated
//! sentences from a small vocabulary (so full text finds many of them),
//! written through the store's ingestion in batches of 1,000 facts, ten per
//! entity, a tenth of them preferences or decisions.

use steward_domain::memory::{EpisodeSource, FactKind, NewEpisode};
use steward_store::Store;
use steward_store::memory::{IngestionPlan, PlannedEntity, PlannedFact, Resolution};

use super::bench_support::USER;

const FACTS_PER_ENTITY: usize = 10;
const FACTS_PER_BATCH: usize = 1_000;
const SYLLABLES: [&str; 16] =
    ["ka", "lo", "mi", "ren", "sa", "to", "vel", "dor", "an", "bri", "cu", "fen", "gal", "ho", "jun", "pe"];
const RELATIONS: [&str; 8] = ["works_with", "prefers", "owns", "decided", "visited", "wrote", "likes", "manages"];
const TOPICS: [&str; 24] = [
    "launch",
    "newsletter",
    "budget",
    "design",
    "pricing",
    "hiring",
    "roadmap",
    "logo",
    "bakery",
    "coffee",
    "garden",
    "travel",
    "concert",
    "recipe",
    "marathon",
    "podcast",
    "invoice",
    "contract",
    "website",
    "festival",
    "library",
    "meeting",
    "holiday",
    "workshop",
];

/// A pronounceable made-up name for number `n`, unique per `n`.
fn name(mut n: usize) -> String {
    let mut name = String::new();
    loop {
        name.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 {
            break;
        }
    }
    let mut letters = name.chars();
    letters.next().map(|first| first.to_uppercase().chain(letters).collect()).unwrap_or_default()
}

/// Stores `count` generated facts for the bench's user.
pub async fn store_facts(store: &dyn Store, count: usize) -> anyhow::Result<()> {
    let mut written = 0;
    let mut batch = 0;
    while written < count {
        let facts = FACTS_PER_BATCH.min(count - written);
        let first_entity = written / FACTS_PER_ENTITY;
        let entities = facts.div_ceil(FACTS_PER_ENTITY);
        let episode = NewEpisode {
            user_id: USER,
            agent_id: None,
            source: EpisodeSource::Document,
            source_ref: Some(format!("bench-facts:{batch}")),
            thread: None,
            content: format!("Generated facts, batch {batch}."),
            reference_time: None,
        };
        let (stored, _) = store.add_episode(episode).await?;
        let mut plan = IngestionPlan::default();
        for index in 0..entities {
            plan.entities.push(PlannedEntity {
                name: format!("{} {}", name(first_entity + index), name(7 * (first_entity + index) + 3)),
                labels: vec!["Person".into()],
                summary: String::new(),
                resolution: Resolution::New,
            });
        }
        for index in 0..facts {
            let n = written + index;
            let subject = index / FACTS_PER_ENTITY;
            let object = (subject + 1 + n % 7) % entities;
            let relation = RELATIONS[n % RELATIONS.len()];
            let (topic, other) = (TOPICS[n % TOPICS.len()], TOPICS[(n / TOPICS.len()) % TOPICS.len()]);
            let kind = match n % 20 {
                0 => FactKind::Preference,
                1 => FactKind::Decision,
                _ => FactKind::Relation,
            };
            plan.facts.push(PlannedFact {
                kind,
                subject,
                object: (object != subject).then_some(object),
                relation: relation.into(),
                statement: format!(
                    "{} {} {} about the {topic} and the {other} ({n}).",
                    plan.entities[subject].name,
                    relation.replace('_', " "),
                    plan.entities[object].name
                ),
                valid_at: None,
                invalid_at: None,
                duplicate_of: None,
                contradicts: Vec::new(),
                also_from: Vec::new(),
            });
        }
        store.apply_ingestion(USER, stored.id, plan).await?;
        written += facts;
        batch += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_pronounceable() {
        let names: std::collections::BTreeSet<String> = (0..5_000).map(name).collect();
        assert_eq!(names.len(), 5_000);
        assert_eq!(name(0), "Ka");
        assert_eq!(name(17), "Lolo");
    }
}
