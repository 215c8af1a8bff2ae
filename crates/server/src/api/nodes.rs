//! The nodes sharing the database on the wire: `/api/v1/nodes`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use steward_store::Node;
use utoipa::ToSchema;

/// One `steward serve` process, as it last said.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NodeResponse {
    /// Its worker id: the `lease_owner` of the jobs it runs.
    pub id: String,
    /// Where its API listens.
    pub address: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// `alive`, `silent` (no beat for longer than its lease: its jobs go to
    /// other nodes) or `stopped`.
    pub state: String,
    /// Jobs running under its leases, including those it claimed ahead.
    pub running_jobs: u64,
}

impl From<Node> for NodeResponse {
    fn from(node: Node) -> Self {
        NodeResponse {
            id: node.id,
            address: node.address,
            started_at: node.started_at,
            heartbeat_at: node.heartbeat_at,
            stopped_at: node.stopped_at,
            state: node.state.as_str().to_string(),
            running_jobs: node.running_jobs,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NodeListResponse {
    /// Those alive first, then by latest beat.
    pub nodes: Vec<NodeResponse>,
}
