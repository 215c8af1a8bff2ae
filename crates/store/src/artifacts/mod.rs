//! Recording the files agents produce.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use steward_domain::{ActionId, Artifact, ArtifactId, NewArtifact, RunId, UserId};

use crate::Result;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArtifactFilter {
    pub action_id: Option<ActionId>,
    pub run_id: Option<RunId>,
}

#[async_trait]
pub trait ArtifactStore {
    /// Records a file written by a run; writing the same path again (same
    /// action, or same run when there is no action) updates its size and
    /// time. The path must be relative and stay inside (`..` refused,
    /// naming the field `path`). Event `artifact.written`.
    async fn record_artifact(&self, artifact: NewArtifact) -> Result<Artifact>;

    /// The user's artifact `id` (`NotFound` otherwise).
    async fn get_artifact(&self, user: UserId, id: ArtifactId) -> Result<Artifact>;

    /// Artifacts matching `filter`, by path.
    async fn list_artifacts(&self, user: UserId, filter: ArtifactFilter) -> Result<Vec<Artifact>>;
}
