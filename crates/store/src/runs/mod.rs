//! Storing agent runs: starting a run (with the job that executes it),
//! appending its steps as durable checkpoints, finishing it, cancelling it,
//! pausing it for approvals and resuming it, and what agents have spent.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;
pub(crate) mod steps;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use steward_domain::access::Owners;
use steward_domain::{
    Action, ActionId, AgentId, Approval, ApprovalId, ApprovalStatus, JobId, ModelCallStarted, NewApproval, NewRun,
    NewRunStep, Run, RunId, RunOutcome, RunStatus, RunStep, Spend, UserId,
};

use crate::Result;

/// The most runs one page lists.
pub const MAX_PAGE: usize = 500;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFilter {
    pub agent_id: Option<AgentId>,
    pub action_id: Option<ActionId>,
    /// Empty means every status.
    pub statuses: Vec<RunStatus>,
    /// Only runs with a smaller id (newest first paging).
    pub before: Option<RunId>,
    pub limit: usize,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFinish {
    pub outcome: RunOutcome,
    /// The final answer, for a completed run.
    pub output: Option<String>,
    /// Why it stopped, in words, for every other outcome.
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApprovalFilter {
    pub run_id: Option<RunId>,
    /// Empty means every status.
    pub statuses: Vec<ApprovalStatus>,
}

/// An agent's numbers; spending as [`RunStore::agent_spend`] counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AgentMetrics {
    pub spend_total: Spend,
    /// Since midnight UTC.
    pub spend_today: Spend,
    pub runs: u64,
    pub actions_total: u64,
    pub actions_completed: u64,
}

#[async_trait]
pub trait RunStore {
    /// Creates a queued run and enqueues the job that executes it (kind
    /// `domain::run::execution::JOB_KIND`, payload `{"run_id": id}`, on
    /// `execution::QUEUE`, not before `run.run_at`), in one transaction.
    /// The agent must exist and not be archived; an `action_id` must name an
    /// action of that agent. Event `run.queued`.
    async fn start_run(&self, user: UserId, run: NewRun) -> Result<Run>;

    /// Schedules a `defined` (or `failed`, to try again) action: moves it to
    /// `scheduled` and starts `run` for it (`run.action_id` must be `id` and
    /// `run.agent_id` its agent; the run's job waits until `run.run_at`), in
    /// one transaction; the action records the run's job. Events
    /// `action.transitioned`, `run.queued`.
    async fn schedule_action(&self, user: UserId, id: ActionId, run: NewRun) -> Result<(Action, Run)>;

    async fn get_run(&self, user: UserId, id: RunId) -> Result<Run>;

    /// Runs matching `filter`, newest first.
    async fn list_runs(&self, owners: Owners, filter: RunFilter) -> Result<Vec<Run>>;

    /// Called by the job executing the run as it starts or resumes: sets the
    /// run running with `job` as its job (and `started_at` the first time);
    /// a run working on an action moves the action from `scheduled` to
    /// `in_progress` if it is the action's latest run (an action in another
    /// state, or rescheduled with a newer run, is left alone). A finished
    /// run is refused (`Conflict`), so a stray job cannot revive it — the
    /// worker takes that as "nothing to do", not as a failure to retry.
    /// Event `run.started`.
    async fn begin_run(&self, id: RunId, job: JobId) -> Result<Run>;

    /// Stores one completed step and adds its tokens, cost (or unknown cost)
    /// and call counts to the run's totals, in one transaction; returns the
    /// run as it is now. `step.sequence` must be the run's next sequence
    /// (its current step count), else `Conflict`: the caller's view of the
    /// run is stale. Event `run.step`.
    async fn append_step(&self, step: NewRunStep) -> Result<Run>;

    /// Records on the run, before its model call is sent, that the call for
    /// step `started.sequence` (the run's next) is in flight, with its
    /// estimated input tokens and cost. Storing that step clears it. A run
    /// begun (resumed) or finished while a call is still recorded stores
    /// it as an interrupted model-call step (stop reason `interrupted`) with
    /// the estimates, counted in the run's totals, `estimated_calls`, and
    /// the agent's spending — so a call lost to a crash is never missing
    /// from budgets. Committed before it returns.
    async fn model_call_started(&self, run: RunId, started: ModelCallStarted) -> Result<()>;

    /// Forgets the run's in-flight call: it failed with an error before any
    /// reply (which providers do not bill), and the job will try again.
    async fn model_call_failed(&self, run: RunId) -> Result<()>;

    /// The run's steps in sequence order: what a resumed run replays, and
    /// its trace.
    async fn list_steps(&self, user: UserId, run: RunId) -> Result<Vec<RunStep>>;

    /// Finishes the run, in one transaction with what follows from it: a run
    /// working on an action completes the action (outcome `completed`) or
    /// fails it with the error as reason (any other outcome), if the action
    /// is still `scheduled` or `in_progress` and this is its latest run; an
    /// action a person dismissed or moved back meanwhile (which cancelled
    /// the run, see [`ActionStore::transition_action`]) is left where it
    /// is, and the run still finishes. Approvals still pending are
    /// withdrawn. Finishing a finished run is refused (`Conflict`), which the
    /// worker takes as done. Event `run.finished` (and
    /// `action.transitioned`).
    ///
    /// [`ActionStore::transition_action`]: crate::ActionStore::transition_action
    async fn finish_run(&self, id: RunId, finish: RunFinish) -> Result<Run>;

    /// Asks the run to stop. A queued run, or one awaiting approval, is
    /// finished at once as `cancelled` (its queued job cancelled, its
    /// approvals withdrawn); a running run gets `cancel_requested`, and its
    /// job is cancelled so the worker learns at its next heartbeat, and the
    /// loop then finishes the run at the next step boundary. Asking again
    /// while a running run's request is pending finishes it at once: its
    /// worker may have died after the job was cancelled, and nothing else
    /// would. A finished run is refused (`Conflict`). Event
    /// `run.cancel_requested` or `run.finished`.
    async fn cancel_run(&self, user: UserId, id: RunId) -> Result<Run>;

    /// What the agent's model calls cost since `since` (all time for
    /// `None`): its runs' steps, counted from their finish times, and the
    /// replies in its conversations — its chat, its actions' threads, and
    /// the setup chat that created it (attached to it once confirmed) —
    /// counted from the times they were stored — and the guardian's looks
    /// at its runs (`purpose: oversight` in costs). Calls of unknown cost are
    /// counted in `unknown_cost_calls`, never as $0. Budgets and metrics
    /// read this.
    async fn agent_spend(&self, user: UserId, agent: AgentId, since: Option<DateTime<Utc>>) -> Result<Spend>;

    async fn agent_metrics(&self, user: UserId, agent: AgentId) -> Result<AgentMetrics>;

    /// Pauses the running run for approvals: records the requests and sets
    /// the run `awaiting_approval`, in one transaction. (The job that ran it
    /// then completes; a decision starts a new one.) A request made again
    /// for the same step and call id (a run replaying its steps after a
    /// crash) returns the stored approval, decided or not; the run pauses
    /// only while one of its approvals is pending. Events
    /// `approval.requested`, `run.awaiting_approval`.
    async fn request_approvals(&self, id: RunId, requests: Vec<NewApproval>) -> Result<Vec<Approval>>;

    async fn get_approval(&self, user: UserId, id: ApprovalId) -> Result<Approval>;

    /// Approvals matching `filter`, oldest first.
    async fn list_approvals(&self, owners: Owners, filter: ApprovalFilter) -> Result<Vec<Approval>>;
}
