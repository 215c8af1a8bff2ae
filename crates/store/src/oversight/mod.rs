//! The guardian's records: each assessment of a long run (what the model
//! said, what the policy decided, what the look cost), the runs it may look
//! at with the progress its last look saw, and the hand-over of pending
//! interventions to the run's own loop, which puts them in the
//! conversation at its next model call (`deliver_interventions`); and what
//! agents' liveness is read from; flags of duplicate work and a person's
//! decision on each; and the other model calls made to watch work
//! (duplicate checks), each charged to the agent whose work it looked at.

mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use steward_domain::oversight::Intervention;
use steward_domain::oversight::duplicates::{Duplicate, DuplicateStatus, NewDuplicate};
use steward_domain::oversight::{Assessment, LivenessFacts, NewAssessment, Progress};
use steward_domain::{AgentId, AssessmentId, DuplicateId, Run, RunId, Spend, UserId};

use crate::Result;

/// A run the guardian may look at, with its last look (when, and the
/// progress it saw).
#[derive(Clone, Debug, PartialEq)]
pub struct GuardianCandidate {
    pub run: Run,
    pub last: Option<(DateTime<Utc>, Progress)>,
    /// What the guardian's looks at the run cost so far.
    pub spent: Spend,
}

/// What `deliver_interventions` hands the run's loop.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeliveredInterventions {
    /// Every intervention delivered to the run before, oldest first (the
    /// loop replays their messages where they were delivered).
    pub earlier: Vec<Assessment>,
    /// Those this call delivered, at the step it named.
    pub now: Vec<Assessment>,
}

/// What an oversight call outside the guardian was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OversightCallPurpose {
    /// A model asked whether a close pair is the same work.
    DuplicateCheck,
    /// Embeddings of work items for a duplicate scan.
    DuplicateEmbedding,
}

impl OversightCallPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            OversightCallPurpose::DuplicateCheck => "duplicate_check",
            OversightCallPurpose::DuplicateEmbedding => "duplicate_embedding",
        }
    }
}

/// A model call made to watch work, charged to the agent whose work it
/// looked at: shown as oversight in costs, counted in the agent's spending.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOversightCall {
    pub agent_id: AgentId,
    pub purpose: OversightCallPurpose,
    /// What it looked at (a pair of work items, a batch of texts).
    pub subject: String,
    /// What it found (`same`, `different`, `12 vectors`).
    pub outcome: String,
    /// `provider/model`.
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
}

#[async_trait]
pub trait OversightStore {
    /// Runs working now (running or waiting for approval) that started at
    /// or before `started_before`, every user's, with their last look.
    async fn guardian_candidates(&self, started_before: DateTime<Utc>) -> Result<Vec<GuardianCandidate>>;

    /// Records an assessment of a run, with event `run.assessed`.
    async fn record_assessment(&self, assessment: NewAssessment) -> Result<Assessment>;

    /// The user's run's assessments, oldest first.
    async fn list_assessments(&self, user: UserId, run: RunId) -> Result<Vec<Assessment>>;

    /// A person applies a pause or cancel the guardian proposed for the
    /// user's run: `assessment`, or the run's latest one waiting for a
    /// person. A pause becomes pending (the run holds at its next model
    /// call, on an `oversight.pause` approval); a cancel is applied and the
    /// run cancelled, in one transaction. Event `run.assessed` with the new
    /// status.
    async fn apply_intervention(
        &self,
        user: UserId,
        run: RunId,
        assessment: Option<AssessmentId>,
        intervention: Intervention,
    ) -> Result<Assessment>;

    /// For the run's loop, before the model call it will store as step
    /// `before_step`: pending interventions become delivered there.
    async fn deliver_interventions(&self, run: RunId, before_step: u32) -> Result<DeliveredInterventions>;

    /// What each of the user's agents' liveness is derived from: its
    /// running runs with their jobs' leases, and its latest finished run.
    /// Agents without runs are left out (they are idle).
    async fn liveness_facts(&self, user: UserId) -> Result<BTreeMap<AgentId, LivenessFacts>>;

    /// Flags pairs of duplicate work, each pair once (a pair flagged
    /// before, whatever its status, is left as it is); returns the new
    /// flags, each with event `duplicate.flagged`.
    async fn flag_duplicates(&self, user: UserId, pairs: Vec<NewDuplicate>) -> Result<Vec<Duplicate>>;

    /// The user's flags, newest first, of one status or all.
    async fn list_duplicates(&self, user: UserId, status: Option<DuplicateStatus>) -> Result<Vec<Duplicate>>;

    async fn get_duplicate(&self, user: UserId, id: DuplicateId) -> Result<Duplicate>;

    /// Records a person's decision on an open flag: `kept` (one of its two
    /// refs) for a merge, `None` to keep both; event `duplicate.decided`.
    async fn decide_duplicate(&self, user: UserId, id: DuplicateId, kept: Option<String>) -> Result<Duplicate>;

    /// Records an oversight call; the agent must be the user's.
    async fn record_oversight_call(&self, user: UserId, call: NewOversightCall) -> Result<()>;

    /// The latest outcome of each subject the user's calls of `purpose`
    /// looked at.
    async fn oversight_outcomes(&self, user: UserId, purpose: OversightCallPurpose)
    -> Result<BTreeMap<String, String>>;
}
