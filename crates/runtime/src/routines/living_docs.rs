//! The `repo` context source of a `living-docs` routine: a fire reads the
//! commits since its document's last sync with the same preparation as
//! `steward sync` ([`crate::living_docs::sync::prepare`]); the template
//! sees `repo.instruction`, `repo.commits`, `repo.document`,
//! `repo.total_commits`. The fire's run is the agent's answer, and a
//! `living_docs.fold` job after it ([`crate::living_docs::fold`], the one
//! fold of every sync) reads that answer into the document — proposed or
//! applied — and moves its front matter on. A fire with nothing to fold
//! in, or whose repository cannot be read, starts nothing.

use std::path::PathBuf;

use serde_json::Value;
use steward_domain::ValidationError;
use steward_domain::living_docs::DEFAULT_DOCUMENTS;
use steward_domain::routine::{FireInputs, RepoSource, Routine, SourceValue};
use steward_domain::{JobId, NewJob, RunId};

use crate::living_docs::Repo;
use crate::living_docs::fold::{FoldPayload, fold_job};
use crate::living_docs::sync::{self, PreparedSync};

/// The source's name, and its template variable.
pub const SOURCE: &str = "repo";

/// Words in the refusal of a fire with nothing to fold in (a scheduled
/// fire is then skipped, not failed).
pub const UP_TO_DATE: &str = "is up to date with";

/// Reads the document and the commits since its last sync.
pub async fn read(source: &RepoSource) -> SourceValue {
    let source = source.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        let repo = Repo::open(&PathBuf::from(&source.path))?;
        let document = match &source.document {
            Some(document) => document.clone(),
            None => DEFAULT_DOCUMENTS
                .iter()
                .find(|name| repo.root().join(name).is_file())
                .unwrap_or(&DEFAULT_DOCUMENTS[0])
                .to_string(),
        };
        sync::prepare(&repo, &document)
    })
    .await;
    match prepared {
        Ok(Ok(prepared)) => match serde_json::to_value(&prepared) {
            Ok(Value::Object(mut value)) => {
                value.insert("up_to_date".into(), Value::Bool(prepared.up_to_date()));
                SourceValue::Value(Value::Object(value))
            }
            _ => SourceValue::Missing("the prepared sync could not be stored".into()),
        },
        Ok(Err(error)) => SourceValue::Missing(error.to_string()),
        Err(error) => SourceValue::Missing(format!("the git reader stopped: {error}")),
    }
}

/// What the fire's run is to fold in: `None` for a routine without a
/// repository; refused when it could not be read or has nothing new.
pub fn prepared(routine: &Routine, inputs: &FireInputs) -> Result<Option<PreparedSync>, ValidationError> {
    if routine.sources.repo.is_none() {
        return Ok(None);
    }
    let value = match inputs.sources.get(SOURCE) {
        Some(SourceValue::Value(value)) => value,
        Some(SourceValue::Missing(reason)) => return Err(ValidationError::new(SOURCE, reason.clone())),
        None => return Err(ValidationError::new(SOURCE, "the fire did not read the repository")),
    };
    let prepared: PreparedSync =
        serde_json::from_value(value.clone()).map_err(|error| ValidationError::new(SOURCE, error.to_string()))?;
    if prepared.up_to_date() {
        let head = prepared.head.as_deref().map_or("an empty history", |head| head.get(..12).unwrap_or(head));
        return Err(ValidationError::new(
            SOURCE,
            format!("{} {UP_TO_DATE} {head}: no commits since its last sync", prepared.document),
        ));
    }
    Ok(Some(prepared))
}

/// The fold of a fire's run into the document, after the run's job.
pub fn fold(routine: &Routine, prepared: PreparedSync, run: RunId, after: Option<JobId>) -> NewJob {
    let apply = routine.sources.repo.as_ref().is_some_and(|repo| repo.apply);
    fold_job(&FoldPayload { prepared, run_id: run, apply }, after)
}
