//! The write rules on their own: refusals name the field, an exact name
//! wins over a plan's resolution, duplicates merge, contradictions close.

use chrono::{TimeZone, Utc};
use steward_domain::memory::{Episode, EpisodeSource, Fact, FactKind};
use steward_domain::{EntityId, EpisodeId, FactId, UserId};

use super::*;

fn time(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).unwrap()
}

fn episode() -> Episode {
    Episode {
        id: EpisodeId(1),
        user_id: UserId(1),
        agent_id: None,
        source: EpisodeSource::Feedback,
        source_ref: None,
        thread: None,
        content: "x".into(),
        reference_time: time(10),
        created_at: time(10),
        ingested_at: None,
    }
}

fn stored(id: i64, statement: &str, valid_day: u32) -> Fact {
    Fact {
        id: FactId(id),
        user_id: UserId(1),
        agent_id: None,
        kind: FactKind::Preference,
        subject: EntityId(1),
        object: None,
        relation: "prefers".into(),
        statement: statement.into(),
        valid_at: time(valid_day),
        invalid_at: None,
        created_at: time(valid_day),
        expired_at: None,
        episodes: vec![],
    }
}

fn planned(statement: &str) -> PlannedFact {
    PlannedFact {
        kind: FactKind::Preference,
        subject: 0,
        object: None,
        relation: "prefers".into(),
        statement: statement.into(),
        valid_at: None,
        invalid_at: None,
        duplicate_of: None,
        contradicts: vec![],
        also_from: Vec::new(),
    }
}

fn entity(name: &str, resolution: Resolution) -> PlannedEntity {
    PlannedEntity { name: name.into(), labels: vec![], summary: String::new(), resolution }
}

#[test]
fn a_plan_naming_a_missing_entity_is_refused_by_field() {
    let mut fact = planned("likes tea");
    fact.object = Some(3);
    let plan =
        IngestionPlan { entities: vec![entity("Ann", Resolution::New)], facts: vec![fact], ..Default::default() };
    let error = check_plan(&plan).unwrap_err().to_string();
    assert!(error.contains("facts[0].object"), "{error}");
    let plan = IngestionPlan { entities: vec![entity("  !! ", Resolution::New)], ..Default::default() };
    assert!(check_plan(&plan).unwrap_err().to_string().contains("entities[0].name"));
}

#[test]
fn an_exact_name_in_the_database_wins() {
    let merge = Resolution::Merge { entity: EntityId(5), method: MergeMethod::Fuzzy, similarity: 0.96 };
    assert_eq!(
        entity_write(0, &entity("Acme", merge.clone()), Some(EntityId(2)), true).unwrap(),
        EntityWrite::Use(EntityId(2))
    );
    assert!(matches!(entity_write(0, &entity("Acme", merge.clone()), None, true).unwrap(), EntityWrite::Merge { .. }));
    assert!(entity_write(0, &entity("Acme", merge), None, false).is_err());
    assert_eq!(
        entity_write(0, &entity("The Acme", Resolution::New), None, false).unwrap(),
        EntityWrite::Insert { normalized_name: "acme".into() }
    );
}

#[test]
fn the_same_statement_merges_provenance() {
    let existing = [stored(4, "The brand voice is plain.", 1)];
    let write = fact_write(0, &planned("the brand voice is plain"), None, &episode(), &existing, &[]).unwrap();
    assert_eq!(write, FactWrite::MergeProvenance(FactId(4)));
}

#[test]
fn a_contradiction_closes_the_older_fact_at_the_episode_time() {
    let old = stored(4, "Exclamation marks are welcome.", 1);
    let mut fact = planned("Never use exclamation marks.");
    fact.contradicts = vec![FactId(4)];
    let write = fact_write(0, &fact, None, &episode(), std::slice::from_ref(&old), std::slice::from_ref(&old)).unwrap();
    assert_eq!(
        write,
        FactWrite::Insert {
            valid_at: time(10),
            invalid_at: None,
            close: vec![Closing { fact: FactId(4), invalid_at: time(10) }]
        }
    );
    fact.contradicts = vec![FactId(9)];
    let error = fact_write(3, &fact, None, &episode(), &[], &[]).unwrap_err().to_string();
    assert!(error.contains("facts[3].contradicts"), "{error}");
}

#[test]
fn forgetting_closes_once() {
    let fact = stored(4, "x", 1);
    assert_eq!(invalidation(&fact, time(5)), Some((time(5), time(5))));
    let mut closed = fact;
    closed.expired_at = Some(time(5));
    assert_eq!(invalidation(&closed, time(6)), None);
}
