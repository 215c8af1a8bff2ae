//! The rules of artifacts, written once for both databases: a relative
//! path that stays in its folder, a storable size, and the run's action.

use steward_domain::artifact::check_relative_path;
use steward_domain::{ActionId, NewArtifact, RunId};

use crate::StoreError;

/// Checks a recorded file: a relative path that stays in its folder, and a
/// size both databases can store.
pub(crate) fn check_artifact(artifact: &NewArtifact) -> Result<(), StoreError> {
    check_relative_path("path", &artifact.path)?;
    if i64::try_from(artifact.bytes).is_err() {
        return Err(StoreError::invalid("bytes", "is too large to store"));
    }
    Ok(())
}

/// The artifact's action is its run's; naming another is a mistake.
pub(crate) fn check_artifact_action(
    run: RunId,
    run_action: Option<ActionId>,
    named: Option<ActionId>,
) -> Result<(), StoreError> {
    match named {
        Some(named) if Some(named) != run_action => Err(StoreError::invalid(
            "action_id",
            match run_action {
                Some(action) => format!("run {run} works on action {action}, not {named}"),
                None => format!("run {run} works on no action, not action {named}"),
            },
        )),
        _ => Ok(()),
    }
}
