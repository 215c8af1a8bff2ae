//! The rules of memory's writes, once for both databases: a plan's checks,
//! which entity a planned name comes to, and whether a planned fact merges
//! its provenance into an existing one or is inserted, closing what it
//! contradicts (the temporal rules themselves are the domain's).

use chrono::{DateTime, Utc};
use steward_domain::memory::temporal::{self, Closing, Interval};
use steward_domain::memory::text::{normalize_name, normalize_statement};
use steward_domain::memory::{Episode, Fact};
use steward_domain::{EntityId, FactId};

use super::{EmbeddingTarget, IngestionPlan, MergeMethod, PlannedEntity, PlannedFact, Resolution};
use crate::StoreError;

const MAX_NAME: usize = 200;
const MAX_STATEMENT: usize = 2_000;

/// Checks a plan before anything is written: names, statements, relations
/// and the entity indexes facts use.
pub(crate) fn check_plan(plan: &IngestionPlan) -> Result<(), StoreError> {
    for (index, entity) in plan.entities.iter().enumerate() {
        let name = normalize_name(&entity.name);
        if name.is_empty() || entity.name.len() > MAX_NAME {
            return Err(StoreError::invalid(
                format!("entities[{index}].name"),
                format!("must have a letter or digit and at most {MAX_NAME} bytes"),
            ));
        }
    }
    for (index, fact) in plan.facts.iter().enumerate() {
        let field = |name: &str| format!("facts[{index}].{name}");
        if fact.statement.trim().is_empty() || fact.statement.len() > MAX_STATEMENT {
            return Err(StoreError::invalid(field("fact"), format!("must be 1 to {MAX_STATEMENT} bytes")));
        }
        if fact.relation.trim().is_empty() || fact.relation.len() > MAX_NAME {
            return Err(StoreError::invalid(field("relation"), format!("must be 1 to {MAX_NAME} bytes")));
        }
        if fact.subject >= plan.entities.len() {
            return Err(StoreError::invalid(field("subject"), "names no entity of the episode"));
        }
        if fact.object.is_some_and(|object| object >= plan.entities.len()) {
            return Err(StoreError::invalid(field("object"), "names no entity of the episode"));
        }
        if let (Some(valid), Some(invalid)) = (fact.valid_at, fact.invalid_at)
            && invalid < valid
        {
            return Err(StoreError::invalid(field("invalid_at"), "is before valid_at"));
        }
    }
    if !plan.embeddings.is_empty() && plan.embedding_model.as_deref().is_none_or(str::is_empty) {
        return Err(StoreError::invalid("embedding_model", "is required with embeddings"));
    }
    for (index, embedding) in plan.embeddings.iter().enumerate() {
        let target_exists = match embedding.target {
            EmbeddingTarget::Episode => true,
            EmbeddingTarget::Entity(entity) => entity < plan.entities.len(),
            EmbeddingTarget::Fact(fact) => fact < plan.facts.len(),
        };
        if !target_exists {
            return Err(StoreError::invalid(format!("embeddings[{index}].target"), "names nothing in the plan"));
        }
        if embedding.vector.is_empty() || embedding.vector.iter().any(|value| !value.is_finite()) {
            return Err(StoreError::invalid(format!("embeddings[{index}].vector"), "must be finite numbers"));
        }
    }
    Ok(())
}

/// Where a planned name goes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum EntityWrite {
    Use(EntityId),
    Insert {
        normalized_name: String,
    },
    /// Use `entity` and record the merge of the name into it.
    Merge {
        entity: EntityId,
        method: MergeMethod,
        similarity: f64,
    },
}

/// Decides a planned entity, given the entity the database holds under its
/// normalised name now (`same_name`) and whether the entity the plan
/// resolved it to is the user's (`resolved_is_known`).
pub(crate) fn entity_write(
    index: usize,
    planned: &PlannedEntity,
    same_name: Option<EntityId>,
    resolved_is_known: bool,
) -> Result<EntityWrite, StoreError> {
    let unknown = || StoreError::invalid(format!("entities[{index}]"), "resolves to an entity the user does not have");
    match (&planned.resolution, same_name) {
        // An exact name wins: it may have been inserted since the plan.
        (_, Some(existing)) => Ok(EntityWrite::Use(existing)),
        (Resolution::New, None) => Ok(EntityWrite::Insert { normalized_name: normalize_name(&planned.name) }),
        (Resolution::Existing(entity), None) if resolved_is_known => Ok(EntityWrite::Use(*entity)),
        (Resolution::Merge { entity, method, similarity }, None) if resolved_is_known => {
            Ok(EntityWrite::Merge { entity: *entity, method: *method, similarity: *similarity })
        }
        _ => Err(unknown()),
    }
}

/// Where a planned fact goes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FactWrite {
    /// The same fact exists: the episode joins its provenance.
    MergeProvenance(FactId),
    Insert {
        valid_at: DateTime<Utc>,
        invalid_at: Option<DateTime<Utc>>,
        close: Vec<Closing>,
    },
}

/// Decides a planned fact. `subject_facts` are the facts whose subject is
/// the fact's subject (closed ones too); `named` the facts the plan names as
/// duplicate or contradicted that belong to the user.
pub(crate) fn fact_write(
    index: usize,
    planned: &PlannedFact,
    object: Option<EntityId>,
    episode: &Episode,
    subject_facts: &[Fact],
    named: &[Fact],
) -> Result<FactWrite, StoreError> {
    let find = |id: FactId, field: &str| {
        named.iter().find(|fact| fact.id == id).ok_or_else(|| {
            StoreError::invalid(format!("facts[{index}].{field}"), format!("fact {id} is not one of the user's facts"))
        })
    };
    if let Some(duplicate) = planned.duplicate_of {
        return Ok(FactWrite::MergeProvenance(find(duplicate, "duplicate_of")?.id));
    }
    let statement = normalize_statement(&planned.statement);
    if let Some(same) = subject_facts.iter().find(|fact| {
        fact.expired_at.is_none() && fact.object == object && normalize_statement(&fact.statement) == statement
    }) {
        return Ok(FactWrite::MergeProvenance(same.id));
    }
    let valid_at = temporal::valid_from(planned.valid_at, episode.reference_time);
    let mut contradicted = Vec::new();
    for id in &planned.contradicts {
        let fact = find(*id, "contradicts")?;
        contradicted.push((fact.id, fact.interval()));
    }
    let outcome = temporal::supersede(Interval { valid_at, invalid_at: planned.invalid_at }, &contradicted);
    Ok(FactWrite::Insert { valid_at, invalid_at: outcome.new_invalid_at, close: outcome.close })
}

/// What forgetting a fact sets: closed now, unless it already ended.
pub(crate) fn invalidation(fact: &Fact, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if fact.expired_at.is_some() {
        return None;
    }
    let invalid_at = fact.invalid_at.map_or(now, |end| end.min(now));
    Some((invalid_at.max(fact.valid_at), now))
}

#[cfg(test)]
mod tests;
