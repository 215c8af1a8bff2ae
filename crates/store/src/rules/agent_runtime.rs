//! The agent runtime's storage rules that do not depend on the database:
//! the job that executes a run and its idempotency key, what a step adds to
//! its run's totals, how a run's end moves its action, the checks of
//! approvals, conversations and artifacts, and the refusals with their
//! messages. Both backends call these, so they accept, refuse and record
//! the same things.

use chrono::{DateTime, Utc};
use steward_domain::artifact::check_relative_path;
use steward_domain::run::execution;
use steward_domain::validation::{check_machine_name, check_optional_text, check_text};
use steward_domain::{
    ActionId, ActionState, AgentId, ApprovalId, ApprovalStatus, Conversation, ConversationId, ConversationKind, Job,
    NewApproval, NewArtifact, NewConversation, NewJob, NewRunStep, RunId, RunOutcome, RunStatus, StepKind,
};

use super::{storable_error, storable_result};
use crate::jobs::EnqueueOutcome;
use crate::runs::RunFinish;
use crate::{ConflictKind, StoreError};

/// Why a job of a run is enqueued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunJobPurpose {
    Start,
    /// The run's `number`-th resume after approvals (1 for the first).
    Resume {
        number: u32,
    },
}

/// The job that executes `run` for `purpose`. Its idempotency key names the
/// run and the purpose, so enqueueing the same start or resume twice (a
/// transaction run again after a transient failure, two deciders racing on
/// PostgreSQL) finds the first job instead of creating a second.
pub(crate) fn run_job(run: RunId, purpose: RunJobPurpose, run_at: Option<DateTime<Utc>>) -> NewJob {
    let key = match purpose {
        RunJobPurpose::Start => format!("run:{run}:start"),
        RunJobPurpose::Resume { number } => format!("run:{run}:resume:{number}"),
    };
    let mut job = NewJob::new(execution::JOB_KIND, execution::payload(run))
        .with_queue(execution::QUEUE)
        .with_max_attempts(execution::MAX_ATTEMPTS)
        .with_timeout(execution::JOB_TIMEOUT)
        .with_key(key);
    job.run_at = run_at;
    job
}

/// The job an enqueue of [`run_job`] returned, unless its key was already
/// taken by a job that does not execute this run (a person could enqueue a
/// job with any key): then the run would never execute, so it is refused.
pub(crate) fn job_of_run(run: RunId, mut outcomes: Vec<EnqueueOutcome>) -> Result<Job, StoreError> {
    let outcome = outcomes.pop().ok_or_else(|| StoreError::Database("enqueue returned no job".into()))?;
    let job = outcome.job;
    let executes_run = job.kind == execution::JOB_KIND && execution::run_of(&job.payload) == Some(run);
    if outcome.created || executes_run {
        return Ok(job);
    }
    Err(StoreError::conflict(
        ConflictKind::AlreadyExists,
        Some("idempotency_key"),
        format!(
            "the idempotency key {:?} of run {run}'s job is taken by job {}, which does not execute the run; \
             cancel or rename that job",
            job.idempotency_key.as_deref().unwrap_or_default(),
            job.id
        ),
    ))
}

/// A run's `action_id` must name an action of the run's agent.
pub(crate) fn action_of_other_agent(action: ActionId, owner: AgentId, agent: AgentId) -> StoreError {
    StoreError::invalid("action_id", format!("action {action} belongs to agent {owner}, not agent {agent}"))
}

pub(crate) fn missing_action(field: &str, action: ActionId) -> StoreError {
    StoreError::invalid(field, format!("no action {action}"))
}

/// `schedule_action` starts the run of the action it schedules.
pub(crate) fn check_scheduled_run(action: ActionId, run_action: Option<ActionId>) -> Result<(), StoreError> {
    match run_action {
        Some(named) if named == action => Ok(()),
        Some(named) => {
            Err(StoreError::invalid("action_id", format!("is {named}; it must be the scheduled action {action}")))
        }
        None => Err(StoreError::invalid("action_id", format!("must be the scheduled action {action}"))),
    }
}

pub(crate) fn run_is_finished(run: RunId, outcome: Option<RunOutcome>) -> StoreError {
    let outcome = outcome.map_or("finished", RunOutcome::as_str);
    StoreError::conflict(
        ConflictKind::IllegalTransition,
        None,
        format!("run {run} is finished ({outcome}); it can no longer change — start a new run instead"),
    )
}

pub(crate) fn run_is_not_running(run: RunId, status: RunStatus) -> StoreError {
    StoreError::conflict(
        ConflictKind::IllegalTransition,
        None,
        format!("run {run} is {status}; only a running run can wait for approval"),
    )
}

/// `append_step` takes the run's next sequence only; anything else means
/// the caller's view is out of date (another worker appended meanwhile).
pub(crate) fn check_step_sequence(run: RunId, stored_steps: u32, sequence: u32) -> Result<(), StoreError> {
    if sequence == stored_steps {
        return Ok(());
    }
    Err(StoreError::conflict(
        ConflictKind::Stale,
        Some("sequence"),
        format!(
            "run {run} has {stored_steps} steps, so the next is step {stored_steps}, not {sequence}: \
             the caller's view of the run is stale (is another worker running it?)"
        ),
    ))
}

/// Checks a step's fields before it is stored.
pub(crate) fn check_step(step: &NewRunStep) -> Result<(), StoreError> {
    check_optional_text("name", &step.name, 200)?;
    if let Some(cost) = step.cost_usd
        && !(cost.is_finite() && cost >= 0.0)
    {
        return Err(StoreError::invalid("cost_usd", "must be a number of dollars, 0 or more (None when unknown)"));
    }
    if step.finished_at < step.started_at {
        return Err(StoreError::invalid("finished_at", "must not be before started_at"));
    }
    if let Some(usage) = step.usage {
        let counts = [usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens];
        if counts.into_iter().any(|tokens| i64::try_from(tokens).is_err()) {
            return Err(StoreError::invalid("usage", "token counts must fit in 63 bits"));
        }
    }
    Ok(())
}

/// A step as stored: its free text and JSON cleaned like a job's result
/// ([`storable_result`]), since they come from a model or tool that
/// already ran and losing the step over a NUL character would be worse.
pub(crate) fn storable_step(mut step: NewRunStep) -> NewRunStep {
    step.content = storable_result(&step.content);
    step.error = step.error.as_deref().map(storable_error);
    step.stop_reason = step.stop_reason.as_deref().map(storable_error);
    step.started_at = steward_domain::time::truncate_to_micros(step.started_at);
    step.finished_at = steward_domain::time::truncate_to_micros(step.finished_at);
    step
}

/// Whether a step made a model call: a model-call step, or any step that
/// used tokens (a summary is written by the model too). Its cost counts in
/// the run's cost when known, in `unknown_cost_calls` when not.
pub(crate) fn made_model_call(step: &NewRunStep) -> bool {
    step.kind == StepKind::ModelCall || step.usage.is_some()
}

/// What one step adds to its run's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct StepTotals {
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub cost_usd: f64,
    pub unknown_cost_calls: i32,
    pub model_calls: i32,
    pub tool_calls: i32,
}

pub(crate) fn step_totals(step: &NewRunStep) -> StepTotals {
    let usage = step.usage.unwrap_or_default();
    let tokens = |count: u64| i64::try_from(count).unwrap_or(i64::MAX);
    let model_call = made_model_call(step);
    StepTotals {
        input_tokens: tokens(usage.input_tokens),
        output_tokens: tokens(usage.output_tokens),
        cache_read_tokens: tokens(usage.cache_read_tokens),
        cache_write_tokens: tokens(usage.cache_write_tokens),
        cost_usd: if model_call { step.cost_usd.unwrap_or(0.0) } else { 0.0 },
        unknown_cost_calls: i32::from(model_call && step.cost_usd.is_none()),
        model_calls: i32::from(model_call),
        tool_calls: i32::from(step.kind == StepKind::ToolCall),
    }
}

/// A finish as stored: the answer and the error cleaned of NUL characters,
/// the error kept to a storable size.
pub(crate) fn storable_finish(finish: RunFinish) -> RunFinish {
    RunFinish {
        outcome: finish.outcome,
        output: finish.output.map(|output| output.replace('\0', "\u{fffd}")),
        error: finish.error.as_deref().map(storable_error),
    }
}

/// The error a cancelled run records.
pub(crate) const CANCELLED_BY_REQUEST: &str = "cancelled by request";

/// Why a run that did not complete ended, in words: its error, or its
/// outcome when it gave none. This becomes its action's `state_reason`.
pub(crate) fn reason_of_finish(finish: &RunFinish) -> String {
    match &finish.error {
        Some(error) if !error.trim().is_empty() => error.clone(),
        _ => format!("the run ended: {}", finish.outcome),
    }
}

/// Where a run's start moves its action: a scheduled action is now in
/// progress. Only the action's latest run moves it (`latest_run`): an older
/// run was let go of when the action was taken back or rescheduled, and
/// must not move the action of the run that replaced it. An action in any
/// other state was moved by a person meanwhile (or is being worked on
/// already) and is left alone.
pub(crate) fn action_state_on_begin(current: ActionState, latest_run: bool) -> Option<ActionState> {
    (latest_run && current == ActionState::Scheduled).then_some(ActionState::InProgress)
}

/// Where a run's end moves its action: completed when the run completed,
/// failed otherwise. From `in_progress`, as the lifecycle says; also from
/// `scheduled`, when the run ended before it began (cancelled while queued)
/// — the one move the store makes that a person cannot, so the action can
/// be rescheduled from `failed`. An action a person moved elsewhere
/// meanwhile (dismissed, taken back to defined) is left alone, and so is
/// the action of a run that is not its latest (see
/// [`action_state_on_begin`]); the run still finishes, so its job ends
/// rather than retrying.
pub(crate) fn action_state_on_finish(
    current: ActionState,
    outcome: RunOutcome,
    latest_run: bool,
) -> Option<ActionState> {
    if !latest_run || !matches!(current, ActionState::InProgress | ActionState::Scheduled) {
        return None;
    }
    Some(if outcome == RunOutcome::Completed { ActionState::Completed } else { ActionState::Failed })
}

/// What a person's move of an action does to the runs still working on it
/// (its runs that are not finished).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunsOnManualMove {
    /// Dismissing the action, or taking it back to `defined` or `draft`,
    /// means nobody wants the work done now: the runs are cancelled in the
    /// same transaction, as `cancel_run` cancels them.
    Cancel,
    /// Starting, completing or failing the action by hand would contradict
    /// a run that is still working on it (the run moves the action itself
    /// when it ends): refused until the run is cancelled.
    Refuse,
    /// `scheduled` leaves them alone (a run still stopping after a cancel
    /// does not hold the action back; it no longer moves it).
    Keep,
}

pub(crate) fn runs_on_manual_move(to: ActionState) -> RunsOnManualMove {
    match to {
        ActionState::Draft | ActionState::Defined | ActionState::Dismissed => RunsOnManualMove::Cancel,
        ActionState::InProgress | ActionState::Completed | ActionState::Failed => RunsOnManualMove::Refuse,
        ActionState::Scheduled => RunsOnManualMove::Keep,
    }
}

/// Refuses a person's move of an action to `to` while `run` works on it,
/// saying how to get past it.
pub(crate) fn run_works_on_action(to: ActionState, run: RunId, cancel_requested: bool) -> StoreError {
    let message = if cancel_requested {
        format!(
            "run {run} is still stopping after a cancel, and it moves this action when it ends; wait for it, or \
             end it now (steward runs cancel {run}) before moving the action to {to}"
        )
    } else {
        format!("run {run} is working on this action; cancel it first (steward runs cancel {run})")
    };
    StoreError::conflict(ConflictKind::IllegalTransition, Some("to"), message)
}

/// The error a run records when it is cancelled because a person moved its
/// action to `to`.
pub(crate) fn cancelled_by_action_move(action: ActionId, to: ActionState) -> String {
    match to {
        ActionState::Dismissed => format!("cancelled: action {action} was dismissed"),
        other => format!("cancelled: action {action} was moved back to {other}"),
    }
}

/// Checks a pause for approvals: at least one request, each naming a
/// stored step, a call id and a tool, no call twice.
pub(crate) fn check_approval_requests(requests: &[NewApproval], stored_steps: u32) -> Result<(), StoreError> {
    if requests.is_empty() {
        return Err(StoreError::invalid("requests", "must contain at least one tool call to approve"));
    }
    for (index, request) in requests.iter().enumerate() {
        let field = |name: &str| format!("requests[{index}].{name}");
        if request.step_sequence >= stored_steps {
            return Err(StoreError::invalid(
                field("step_sequence"),
                format!(
                    "is {}, but the run has {stored_steps} steps; name the stored model call",
                    request.step_sequence
                ),
            ));
        }
        check_text(&field("call_id"), &request.call_id, 200)?;
        check_machine_name(&field("tool"), &request.tool)?;
        let twice = requests[..index]
            .iter()
            .any(|other| other.step_sequence == request.step_sequence && other.call_id == request.call_id);
        if twice {
            return Err(StoreError::invalid(field("call_id"), format!("{:?} is requested twice", request.call_id)));
        }
    }
    Ok(())
}

pub(crate) fn approval_already_decided(id: ApprovalId, status: ApprovalStatus) -> StoreError {
    let message = match status {
        ApprovalStatus::Withdrawn => format!("approval {id} was withdrawn because its run ended; nothing waits for it"),
        other => format!("approval {id} was already {other}; a decision cannot be changed"),
    };
    StoreError::conflict(ConflictKind::IllegalTransition, None, message)
}

/// The reason recorded on approvals withdrawn because their run ended.
pub(crate) use steward_domain::event::WITHDRAWN_REASON;

/// Checks the shape of a new conversation (which fields its kind needs);
/// the agent and action it names are looked up by the backend.
pub(crate) fn check_new_conversation(conversation: &NewConversation) -> Result<(), StoreError> {
    match conversation.kind {
        ConversationKind::Setup if conversation.agent_id.is_some() => {
            Err(StoreError::invalid("agent_id", "a setup conversation has no agent yet; it creates one"))
        }
        ConversationKind::Setup | ConversationKind::Agent if conversation.action_id.is_some() => Err(
            StoreError::invalid("action_id", format!("a {} conversation is not about an action", conversation.kind)),
        ),
        ConversationKind::Agent if conversation.agent_id.is_none() => {
            Err(StoreError::invalid("agent_id", "an agent conversation needs the agent"))
        }
        ConversationKind::Action if conversation.action_id.is_none() => Err(action_thread_needs_action()),
        _ => Ok(()),
    }
}

pub(crate) fn action_thread_needs_action() -> StoreError {
    StoreError::invalid("action_id", "an action conversation needs the action")
}

/// An agent has one chat and an action one thread: `existing`.
pub(crate) fn conversation_already_exists(existing: &Conversation) -> StoreError {
    let (field, subject) = match (existing.action_id, existing.agent_id) {
        (Some(action), _) => ("action_id", format!("action {action}")),
        (None, Some(agent)) => ("agent_id", format!("agent {agent}")),
        (None, None) => ("kind", "it".to_string()),
    };
    StoreError::conflict(
        ConflictKind::AlreadyExists,
        Some(field),
        format!("{subject} already has its {} conversation ({}); continue that one", existing.kind, existing.id),
    )
}

pub(crate) fn setup_is_looked_up(kind: ConversationKind) -> Result<(), StoreError> {
    if kind == ConversationKind::Setup {
        return Err(StoreError::invalid(
            "kind",
            "setup conversations are created one per new agent, not looked up; use agent or action",
        ));
    }
    Ok(())
}

pub(crate) fn not_a_setup_conversation(id: ConversationId, kind: ConversationKind) -> StoreError {
    StoreError::invalid("conversation", format!("conversation {id} is an {kind} conversation, not a setup chat"))
}

pub(crate) fn setup_already_created_agent(id: ConversationId, agent: AgentId) -> StoreError {
    StoreError::conflict(
        ConflictKind::AlreadyExists,
        Some("conversation"),
        format!("setup conversation {id} already created agent {agent}; start a new setup chat for another agent"),
    )
}

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

/// Midnight UTC of the day of `now`: where "today's" spending starts (the
/// runtime's budget check uses the same function, so both agree on "today").
pub(crate) use steward_domain::time::start_of_utc_day;

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use steward_domain::TokenUsage;

    use super::*;

    fn step(kind: StepKind, usage: Option<TokenUsage>, cost_usd: Option<f64>) -> NewRunStep {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        NewRunStep {
            run_id: RunId(1),
            sequence: 0,
            kind,
            name: "m".into(),
            content: serde_json::json!({}),
            usage,
            cost_usd,
            time_to_first_token: None,
            stop_reason: None,
            error: None,
            started_at: at,
            finished_at: at,
        }
    }

    #[test]
    fn an_unknown_cost_is_counted_apart_never_as_zero_dollars() {
        let usage = Some(TokenUsage { input_tokens: 10, output_tokens: 5, ..TokenUsage::default() });
        let known = step_totals(&step(StepKind::ModelCall, usage, Some(0.25)));
        assert_eq!((known.cost_usd, known.unknown_cost_calls, known.model_calls), (0.25, 0, 1));
        let unknown = step_totals(&step(StepKind::ModelCall, usage, None));
        assert_eq!((unknown.cost_usd, unknown.unknown_cost_calls, unknown.input_tokens), (0.0, 1, 10));
        let tool = step_totals(&step(StepKind::ToolCall, None, None));
        assert_eq!((tool.unknown_cost_calls, tool.model_calls, tool.tool_calls), (0, 0, 1));
        let summary = step_totals(&step(StepKind::Summary, usage, Some(0.1)));
        assert_eq!(summary.model_calls, 1, "a summary written by the model is a model call");
    }

    #[test]
    fn a_run_moves_its_action_only_from_scheduled_or_in_progress() {
        use ActionState::*;
        assert_eq!(action_state_on_finish(InProgress, RunOutcome::Completed, true), Some(Completed));
        assert_eq!(action_state_on_finish(InProgress, RunOutcome::MaxSteps, true), Some(Failed));
        assert_eq!(action_state_on_finish(Scheduled, RunOutcome::Cancelled, true), Some(Failed));
        assert_eq!(action_state_on_finish(Dismissed, RunOutcome::Failed, true), None);
        assert_eq!(action_state_on_finish(Defined, RunOutcome::Cancelled, true), None);
        assert_eq!(action_state_on_begin(Scheduled, true), Some(InProgress));
        assert_eq!(action_state_on_begin(InProgress, true), None);
    }

    #[test]
    fn only_the_latest_run_of_an_action_moves_it() {
        use ActionState::*;
        assert_eq!(action_state_on_begin(Scheduled, false), None);
        assert_eq!(action_state_on_finish(InProgress, RunOutcome::Completed, false), None);
        assert_eq!(action_state_on_finish(Scheduled, RunOutcome::Cancelled, false), None);
    }

    #[test]
    fn taking_an_action_back_cancels_its_runs_and_moving_it_on_by_hand_is_refused() {
        use ActionState::*;
        for to in [Draft, Defined, Dismissed] {
            assert_eq!(runs_on_manual_move(to), RunsOnManualMove::Cancel, "{to}");
        }
        for to in [InProgress, Completed, Failed] {
            assert_eq!(runs_on_manual_move(to), RunsOnManualMove::Refuse, "{to}");
        }
        assert_eq!(runs_on_manual_move(Scheduled), RunsOnManualMove::Keep);
        let StoreError::Conflict { kind, field, message } = run_works_on_action(Completed, RunId(7), false) else {
            panic!("expected a conflict");
        };
        assert_eq!((kind, field.as_deref()), (ConflictKind::IllegalTransition, Some("to")));
        assert_eq!(message, "run 7 is working on this action; cancel it first (steward runs cancel 7)");
        assert_eq!(cancelled_by_action_move(ActionId(3), Dismissed), "cancelled: action 3 was dismissed");
        assert_eq!(cancelled_by_action_move(ActionId(3), Defined), "cancelled: action 3 was moved back to defined");
    }

    #[test]
    fn conversations_need_the_fields_of_their_kind() {
        let setup = NewConversation { kind: ConversationKind::Setup, agent_id: Some(AgentId(1)), action_id: None };
        assert!(matches!(check_new_conversation(&setup), Err(StoreError::Invalid(error)) if error.field == "agent_id"));
        let action = NewConversation { kind: ConversationKind::Action, agent_id: Some(AgentId(1)), action_id: None };
        assert!(
            matches!(check_new_conversation(&action), Err(StoreError::Invalid(error)) if error.field == "action_id")
        );
        let agent = NewConversation { kind: ConversationKind::Agent, agent_id: Some(AgentId(1)), action_id: None };
        assert!(check_new_conversation(&agent).is_ok());
    }

    #[test]
    fn today_starts_at_midnight_utc() {
        let now = Utc.with_ymd_and_hms(2030, 3, 4, 17, 5, 9).unwrap();
        assert_eq!(start_of_utc_day(now), Utc.with_ymd_and_hms(2030, 3, 4, 0, 0, 0).unwrap());
    }
}
