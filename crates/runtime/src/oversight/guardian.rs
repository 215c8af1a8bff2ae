//! The guardian: at each tick it lists the runs working longer than
//! `guardian_after` and looks at those that made progress since their last
//! look (and not within `guardian_every`): one structured call to a cheap
//! model scores the trajectory against the goal, the policy decides, and
//! the assessment is recorded. A steer or pause is picked up by the run's
//! own loop at its next model call; a cancel the policy applies alone is
//! applied here. A run waiting for a person makes no progress and is never
//! looked at, so a paused run costs nothing however long it waits.
//!
//! Which policy, and whether to look at all, is the run's project's, else
//! its agent's, else the table's. A look is a model call like the run's
//! own: traced in the run's trace (`steward.purpose = oversight`), counted
//! against the agent's budget (a look is skipped once the budget is spent),
//! and, with `guardian_budget_usd`, bounded per run.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use steward_domain::oversight::{
    Assessment, AssessmentStatus, GuardianPolicy, GuardianVerdict, Intervention, LookDecision, NewAssessment, Progress,
    apply_policy, should_look,
};
use steward_domain::project::Phase;
use steward_domain::{Agent, ProjectId, Run, RunStatus};
use steward_llm::{ChatModel, ChatRequest, LlmError, StructuredOptions, complete_typed};
use steward_store::{ConflictKind, GuardianCandidate, Store, StoreError};
use tokio_util::sync::CancellationToken;

use super::config::GuardianSettings;
use super::prompt::{Goal, SYSTEM, assessment_prompt};
use crate::agent::AgentRuntime;
use crate::telemetry::{ChatCall, ChatEnd};

/// Most tokens of the guardian's reply (a score and a few sentences).
const REPLY_TOKENS: u32 = 1024;
/// Longest wait between ticks of [`Guardian::run`].
const TICK_AT_MOST: std::time::Duration = std::time::Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum GuardianError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the guardian's model: {0}")]
    Model(#[from] LlmError),
}

/// What one tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs looked at (one model call each, re-asks aside).
    pub looked: u32,
    /// Runs left alone because nothing happened since their last look, or
    /// because they wait for a person.
    pub idle: u32,
    /// Looks that failed (logged; tried again at a later tick).
    pub failed: u32,
    /// Runs the guardian does not look at: off for their project or agent.
    pub off: u32,
    /// Looks skipped because the agent's budget or the run's
    /// `guardian_budget_usd` is spent (or cannot be counted: the guardian's
    /// model has no known price).
    pub over_budget: u32,
}

/// The model's answer, as it writes it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct VerdictReply {
    /// 0 (lost) to 1 (squarely on the goal).
    alignment: f64,
    /// What the run does instead of its goal; empty when on course.
    drift_reason: String,
    intervention: InterventionReply,
    /// What to tell the agent; empty for continue.
    message: String,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum InterventionReply {
    Continue,
    Steer,
    Pause,
    Cancel,
}

impl From<InterventionReply> for Intervention {
    fn from(reply: InterventionReply) -> Self {
        match reply {
            InterventionReply::Continue => Intervention::Continue,
            InterventionReply::Steer => Intervention::Steer,
            InterventionReply::Pause => Intervention::Pause,
            InterventionReply::Cancel => Intervention::Cancel,
        }
    }
}

pub struct Guardian {
    store: Arc<dyn Store>,
    runtime: Arc<AgentRuntime>,
    settings: GuardianSettings,
}

impl Guardian {
    pub fn new(store: Arc<dyn Store>, runtime: Arc<AgentRuntime>, settings: GuardianSettings) -> Guardian {
        Guardian { store, runtime, settings }
    }

    /// Ticks until `shutdown`, every `guardian_every` (at most 15 s apart).
    pub async fn run(self, shutdown: CancellationToken) {
        let pause = self.settings.every.min(TICK_AT_MOST);
        loop {
            if let Err(error) = self.tick().await {
                tracing::warn!(%error, "the guardian could not list runs");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Looks at every run that is due, once.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let now = self.runtime.clock().now();
        let after = chrono::Duration::from_std(self.settings.after).unwrap_or(chrono::Duration::MAX);
        let candidates = self.store.guardian_candidates(now - after).await?;
        let mut report = TickReport::default();
        for candidate in candidates {
            let run = &candidate.run;
            let Some(started_at) = run.started_at else { continue };
            // A run waiting for a person makes no progress until one decides.
            if run.status == RunStatus::AwaitingApproval {
                report.idle += 1;
                continue;
            }
            let current = Progress { steps: run.steps, tokens: run.usage.total_tokens() };
            match should_look(started_at, now, self.settings.after, self.settings.every, candidate.last, current) {
                LookDecision::Look => {}
                LookDecision::NoProgress => {
                    report.idle += 1;
                    continue;
                }
                LookDecision::TooYoung | LookDecision::NotDue => continue,
            }
            let watch = match self.watch(&candidate).await {
                Ok(Watch::Look(watch)) => watch,
                Ok(Watch::Off) => {
                    report.off += 1;
                    continue;
                }
                Ok(Watch::OverBudget(reason)) => {
                    tracing::debug!(run = %run.id, %reason, "the guardian skips a look");
                    report.over_budget += 1;
                    continue;
                }
                Err(error) => {
                    tracing::warn!(run = %run.id, %error, "the guardian could not read a run's policy");
                    report.failed += 1;
                    continue;
                }
            };
            match self.look(run, current, &watch).await {
                Ok(_) => report.looked += 1,
                // Another node looked at the same progress first; its look stands.
                Err(GuardianError::Store(StoreError::Conflict { kind: ConflictKind::Stale, .. })) => report.idle += 1,
                Err(error) => {
                    tracing::warn!(run = %run.id, %error, "the guardian could not assess a run");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Whether and how to look at `candidate` now: the policy that applies
    /// to it (none: off), and whether the agent's budget and the run's
    /// `guardian_budget_usd` leave room for a look.
    async fn watch(&self, candidate: &GuardianCandidate) -> Result<Watch, GuardianError> {
        let run = &candidate.run;
        let agent = self.store.get_agent(run.user_id, run.agent_id).await?;
        let task = self.store.task_of_run(run.user_id, run.id).await?;
        let Some(policy) = self.settings.resolve(&agent.name, task.as_ref().map(|(project, _)| &project.guardian))
        else {
            return Ok(Watch::Off);
        };
        let model: Arc<dyn ChatModel> = match &self.settings.model {
            Some(name) => self.runtime.models().chat_model(name)?,
            None => self.runtime.model_for(&agent)?,
        };
        if let Some(budget) = self.settings.budget_usd {
            if !self.runtime.price_known(model.id()) || candidate.spent.unknown_cost_calls > 0 {
                return Ok(Watch::OverBudget(format!(
                    "guardian_budget_usd is set, but the price of {} is unknown, so a look's cost cannot be counted",
                    model.id()
                )));
            }
            if candidate.spent.cost_usd >= budget {
                return Ok(Watch::OverBudget(format!(
                    "the guardian's looks at run {} cost ${:.4}; guardian_budget_usd is ${budget:.4}",
                    run.id, candidate.spent.cost_usd
                )));
            }
        }
        if let Some(stop) = self.runtime.budget_stop(run.user_id, &agent, model.id()).await? {
            return Ok(Watch::OverBudget(stop.reason));
        }
        let done_when = task.and_then(|(project, key)| {
            matches!(project.phase, Phase::Execution | Phase::Validation).then_some(key).map(|key| (project.id, key))
        });
        Ok(Watch::Look(Box::new(Looking { agent, model, policy, done_when })))
    }

    /// Assesses `run`, records the assessment and applies what the guardian
    /// applies itself.
    async fn look(&self, run: &Run, progress: Progress, watch: &Looking) -> Result<Assessment, GuardianError> {
        let Looking { agent, model, policy, done_when } = watch;
        let steps = self.store.list_steps(run.user_id, run.id).await?;
        let done_when = self.done_when_of(run, done_when.as_ref()).await?;
        let prompt = assessment_prompt(&Goal::of(agent, done_when.as_deref()), &run.instruction, &steps);
        let request = ChatRequest::from_user_text(prompt).with_system(SYSTEM).with_max_tokens(REPLY_TOKENS);
        let trace = self.runtime.run_trace(run, agent).for_oversight();
        let shown = trace.captures_content().then(|| request.clone());
        let started = self.runtime.clock().now();
        let answer = complete_typed::<VerdictReply>(model.as_ref(), request, StructuredOptions::default()).await;
        let ended = self.runtime.clock().now();
        let (model_id, request) = (model.id(), shown.as_ref());
        let reply = match answer {
            Ok(reply) => reply,
            Err(error) => {
                let end = ChatEnd::Failed(&error);
                trace.chat(ChatCall { started, ended, model: model_id, max_tokens: REPLY_TOKENS, request, end });
                return Err(error.into());
            }
        };
        // One span per look, its usage summed over the re-asks it took.
        let mut answered = reply.response.clone();
        answered.usage = reply.total_usage;
        let end = ChatEnd::Reply(&answered);
        trace.chat(ChatCall { started, ended, model: model_id, max_tokens: REPLY_TOKENS, request, end });
        let alignment = if reply.value.alignment.is_finite() { reply.value.alignment.clamp(0.0, 1.0) } else { 0.0 };
        let verdict = GuardianVerdict {
            alignment,
            drift_reason: reply.value.drift_reason.trim().to_string(),
            intervention: reply.value.intervention.into(),
            message: reply.value.message.trim().to_string(),
        };
        let decision = apply_policy(&verdict, policy);
        let applies_cancel =
            decision.intervention == Intervention::Cancel && decision.status == AssessmentStatus::Applied;
        let assessment = self
            .store
            .record_assessment(NewAssessment {
                run_id: run.id,
                progress,
                verdict,
                decision,
                model: reply.response.model.to_string(),
                input_tokens: reply.total_usage.total_input_tokens(),
                output_tokens: reply.total_usage.output_tokens,
                cost_usd: reply.total_cost_usd,
            })
            .await?;
        if applies_cancel {
            match self.store.cancel_run(run.user_id, run.id).await {
                // Finished meanwhile: nothing left to cancel.
                Ok(_) | Err(StoreError::Conflict { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(assessment)
    }

    /// The done-when of the project task `run` works on, if it works on one
    /// in execution or validation.
    async fn done_when_of(&self, run: &Run, task: Option<&(ProjectId, String)>) -> Result<Option<String>, StoreError> {
        let Some((project, _)) = task else { return Ok(None) };
        let record = self.store.get_project(run.user_id, *project).await?;
        Ok(record.tasks.iter().find(|task| task.run_id == Some(run.id)).map(|task| task.spec.done_when.clone()))
    }
}

/// What a tick does with a candidate.
enum Watch {
    Look(Box<Looking>),
    /// The guardian is off for the run (its project or agent says so).
    Off,
    /// A budget leaves no room for a look (why).
    OverBudget(String),
}

/// What a look at a run needs, decided before it.
struct Looking {
    agent: Agent,
    model: Arc<dyn ChatModel>,
    policy: GuardianPolicy,
    /// The project and task key the run works on, while it is executed.
    done_when: Option<(ProjectId, String)>,
}
