//! Artifacts on the wire: the files agents produced, listed per action or
//! run (their content is served as is by `GET /artifacts/{id}/content`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_domain::{ActionId, ArtifactId, RunId};
use utoipa::ToSchema;

/// A file a run wrote with `artifacts.write`, in its action's folder (or
/// its own, for an ad-hoc run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ArtifactResponse {
    #[schema(value_type = i64)]
    pub id: ArtifactId,
    /// The run that last wrote it.
    #[schema(value_type = i64)]
    pub run_id: RunId,
    #[schema(value_type = Option<i64>)]
    pub action_id: Option<ActionId>,
    /// Relative to the folder, `/`-separated (`drafts/post.md`).
    pub path: String,
    /// Size when last written.
    pub bytes: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<steward_domain::Artifact> for ArtifactResponse {
    fn from(artifact: steward_domain::Artifact) -> Self {
        ArtifactResponse {
            id: artifact.id,
            run_id: artifact.run_id,
            action_id: artifact.action_id,
            path: artifact.path,
            bytes: artifact.bytes,
            created_at: artifact.created_at,
            updated_at: artifact.updated_at,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ArtifactListResponse {
    /// By path.
    pub artifacts: Vec<ArtifactResponse>,
}
