//! The approvals inbox's decisions: one entry point for every kind of
//! approval, which sends each to the area that owns what it decides — a
//! run's tool call or intervention to `approvals` (which resumes the run),
//! a project's phase gate to `projects` (which decides the document). It
//! sits above both so neither imports the other.

use async_trait::async_trait;
use steward_domain::{Approval, ApprovalId, Decision, UserId};

use crate::Result;

mod postgres;
mod sqlite;

#[async_trait]
pub trait InboxStore {
    /// Records a decision on a pending approval (a decided one is refused,
    /// `Conflict`). Once none of the run's approvals is pending, the run is
    /// queued again with a new job that resumes it (and that its action, if
    /// any, records) — same transaction. Events `approval.decided` (and
    /// `run.queued`). A project's gate (`project_id` set, no run) is decided
    /// as [`crate::ProjectStore::decide_document`] decides it, in the same
    /// transaction, and only while the revision it names waits.
    async fn decide_approval(&self, user: UserId, id: ApprovalId, decision: Decision) -> Result<Approval>;
}
