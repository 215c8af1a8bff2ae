//! The `steward serve` processes sharing the database: each records itself
//! at start, beats while it runs and says when it stops, so an operator sees
//! who is working (`steward nodes`, `GET /api/v1/nodes`). A node's id is its
//! worker id, the `lease_owner` of the jobs it runs, so its running jobs are
//! counted from the queue itself.
//!
//! Nothing depends on these rows for correctness: a node that stops beating
//! stops renewing its leases too, and any node reclaims its jobs once they
//! expire. Rows of nodes silent for a day are forgotten at the next beat.

mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use self::decide::NodeState;
use crate::Result;

/// What a node says about itself at each beat.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeBeat {
    pub id: String,
    /// Where its API listens.
    pub address: String,
    pub started_at: DateTime<Utc>,
    /// Its job leases; silent after this long without a beat.
    pub lease: Duration,
}

/// A node as recorded, with what the queue says it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: String,
    pub address: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub state: NodeState,
    /// Jobs running under its leases now (including those claimed ahead
    /// into its local queue).
    pub running_jobs: u64,
}

#[async_trait]
pub trait NodeStore {
    /// Records that the node is alive now; the first beat records it.
    async fn beat_node(&self, beat: NodeBeat) -> Result<()>;

    /// Records that the node stopped (a graceful shutdown).
    async fn stop_node(&self, id: &str) -> Result<()>;

    /// Every node recorded, those alive first, then by latest beat.
    async fn list_nodes(&self) -> Result<Vec<Node>>;
}

/// How long a silent or stopped node's row is kept.
pub(crate) const FORGET_AFTER: chrono::Duration = chrono::Duration::days(1);
