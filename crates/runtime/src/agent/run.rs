//! Executing a run: the step loop. Each step is stored before the next one
//! starts, so a run taken up again after a crash replays its stored steps and
//! goes on from the first step it had not stored: no completed model call is
//! made twice, no stored tool result is produced twice.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use steward_domain::project::DiscoveredTasks;
use steward_domain::{
    Agent, Approval, JobId, NewApproval, Run, RunId, RunOutcome, RunStep, StepKind, TokenUsage, UserId,
};
use steward_llm::{ChatModel, ChatRequest, ChatResponse, ErrorKind, LlmError, Message, ToolDefinition};
use steward_store::{ActionFilter, ApprovalFilter, RunFinish, StoreError};
use tokio_util::sync::CancellationToken;

use super::context::{SkillSummary, estimate_tokens, system_prompt};
use super::failures::{model_job_error, store_failure};
use super::interventions::{BeforeModelCall, stopped_by_person};
use super::limits::{EffectiveLimits, Stop, check_limits};
use super::model_calls::ModelCallEnd;
use super::runtime::AgentRuntime;
use super::steps::{
    InstructionContent, ModelCallContent, NextMove, RequestedCall, SummaryContent, new_step, replay,
    replay_with_guidance, summary_boundary,
};
use super::tool_calls::{ToolRound, ToolRoundInput, run_tool_round};
use crate::handlers::JobError;
use crate::telemetry::RunTrace;
use crate::tools::project_tasks::AddProjectTask;
use crate::tools::wire_name;

/// How a job's turn with a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunProgress {
    /// The run finished (stored as such).
    Finished(RunOutcome),
    /// The run waits for approvals; a decision resumes it with a new job.
    AwaitingApproval,
    /// The run was already finished; nothing was done.
    AlreadyFinished,
}

impl AgentRuntime {
    /// Executes (or resumes) run `run_id` as job `job`, until it finishes,
    /// pauses for approval, or `cancel` fires.
    pub async fn execute_run(
        &self,
        run_id: RunId,
        job: JobId,
        cancel: CancellationToken,
    ) -> Result<RunProgress, JobError> {
        let begun = self.clock.now();
        let run = match self.store.begin_run(run_id, job).await {
            Ok(run) => run,
            Err(StoreError::Conflict { .. }) => return Ok(RunProgress::AlreadyFinished),
            Err(StoreError::NotFound { .. }) => {
                return Err(JobError::permanent(format!("run {run_id} does not exist")));
            }
            Err(error) => return Err(store_failure(error)),
        };
        let user = run.user_id;
        let agent = self.store.get_agent(user, run.agent_id).await.map_err(store_failure)?;
        // The agent's tools and skills are taken once per job: assembling its
        // registry binds the skill catalog and applies the configured
        // approvals, too much to redo before every model call, and the job
        // then sees one consistent set (the skills index in its prompt is
        // what `skills.open` can open). MCP servers' tools come with their
        // servers' own allowlists; a server that cannot be used is a note
        // in the trace and the prompt, not a failure.
        let registry = self.tools.registry_for(&agent);
        let mut allowed = registry.allowed(agent.tools.as_deref());
        let mcp = self.mcp_tools_for(&agent).await;
        allowed.extend(mcp.tools.iter().cloned());
        // A run working on a project's task may add the tasks it discovers.
        let task = self.store.task_of_run(user, run.id).await.map_err(store_failure)?;
        // A run the guardian does not look at has no interventions to take:
        // its model calls skip reading them.
        let watched = self.guardian_watches(&agent, task.as_ref().map(|(project, _)| &project.guardian));
        if let Some((project, task)) = task {
            let needs_approval = project.discovered_tasks == DiscoveredTasks::Approve;
            allowed.push(Arc::new(AddProjectTask { project: project.id, from_task: task, needs_approval }));
        }
        let mut steps = self.store.list_steps(user, run.id).await.map_err(store_failure)?;
        let trace = self.run_trace(&run, &agent);
        self.trace_resumed(&trace, &steps, begun);
        if steps.is_empty() {
            let now = self.clock.now();
            let instruction = new_step(
                run.id,
                0,
                StepKind::Instruction,
                "instruction",
                json!(InstructionContent { text: run.instruction.clone(), notes: mcp.problems.clone() }),
                now,
                now,
            );
            self.store.append_step(instruction.clone()).await.map_err(store_failure)?;
            steps.push(instruction);
        }
        // The run is running, so none of its approvals is pending and none
        // can be decided while this job holds it; a new request ends the job.
        // So the approvals read once here hold for every step of this job.
        let approvals = self
            .store
            .list_approvals(user.into(), ApprovalFilter { run_id: Some(run.id), statuses: Vec::new() })
            .await
            .map_err(store_failure)?;
        let waited_for_approvals = time_waited_for(&approvals);
        if let Some(reason) = stopped_by_person(&approvals) {
            return self.finish(run.id, RunOutcome::Cancelled, None, Some(reason)).await;
        }
        let limits = EffectiveLimits::resolve(run.limits, agent.limits, self.settings.default_limits);
        let skills = self.skills.index(&agent);
        let model = match self.model_for(&agent) {
            Ok(model) => model,
            Err(error) => return self.finish(run.id, RunOutcome::Failed, None, Some(error.to_string())).await,
        };
        // The run's workspace and artifact folders are made by the tools that
        // use them, when first used: most runs need neither, and making both
        // up front was two directory creations (and thread hops) per run.
        // `run` is always as the store last returned it — from `begin_run`,
        // the latest `append_step`, or a read after a tool round — so its
        // `cancel_requested` is as fresh as a read would be at each boundary.
        let mut run = run;
        loop {
            if cancel.is_cancelled() || run.cancel_requested {
                return self.finish(run.id, RunOutcome::Cancelled, None, Some("cancelled by request".into())).await;
            }
            let replayed = replay(&steps).map_err(|error| JobError::permanent(format!("run {}: {error}", run.id)))?;
            match replayed.next {
                NextMove::Finish { answer } => {
                    return self.finish(run.id, RunOutcome::Completed, Some(answer), None).await;
                }
                NextMove::RunTools { model_step, calls } => {
                    let tools = self.tools_for(&agent, &allowed, replayed.open_skill.as_deref());
                    let round = ToolRoundInput {
                        model_step,
                        calls,
                        first_sequence: replayed.next_sequence,
                        trace: trace.clone(),
                    };
                    match run_tool_round(self, &run, &registry, &tools, &approvals, round, &cancel).await? {
                        ToolRound::Stored(new_steps) => steps.extend(new_steps),
                        ToolRound::NeedsApproval { stored, requests } => {
                            steps.extend(stored);
                            self.request_approvals(run.id, requests).await?;
                            return Ok(RunProgress::AwaitingApproval);
                        }
                        ToolRound::Cancelled => {
                            return self
                                .finish(run.id, RunOutcome::Cancelled, None, Some("cancelled by request".into()))
                                .await;
                        }
                    }
                    run = self.store.get_run(user, run.id).await.map_err(store_failure)?;
                }
                NextMove::CallModel => {
                    if let Some(stop) =
                        self.must_stop(&run, &agent, &limits, model.as_ref(), waited_for_approvals).await?
                    {
                        return self.finish(run.id, stop.outcome, None, Some(stop.reason)).await;
                    }
                    let before = if watched {
                        self.take_interventions(run.id, replayed.next_sequence).await?
                    } else {
                        BeforeModelCall::default()
                    };
                    if let Some(hold) = before.hold {
                        let last_step = replayed.next_sequence.saturating_sub(1);
                        self.hold_for_person(run.id, last_step, &hold).await?;
                        return Ok(RunProgress::AwaitingApproval);
                    }
                    let messages = if before.guidance.is_empty() {
                        replayed.messages
                    } else {
                        replay_with_guidance(&steps, &before.guidance)
                            .map_err(|error| JobError::permanent(format!("run {}: {error}", run.id)))?
                            .messages
                    };
                    let tools = self.tools_for(&agent, &allowed, replayed.open_skill.as_deref());
                    let definitions: Vec<ToolDefinition> = tools
                        .iter()
                        .map(|tool| {
                            ToolDefinition::new(wire_name(tool.name()), tool.description(), tool.input_schema())
                        })
                        .collect();
                    let system = self.system_prompt_for(&agent, user, &skills, &run.instruction, &mcp.problems).await?;
                    let estimated_input_tokens = estimate_tokens(&system, &messages, &definitions);
                    if estimated_input_tokens > self.settings.context_budget_tokens
                        && let Some(boundary) = summary_boundary(&steps, self.settings.keep_recent_turns)
                    {
                        let summary = self
                            .summarise(
                                &trace,
                                model.as_ref(),
                                &system,
                                &steps,
                                boundary,
                                replayed.next_sequence,
                                &cancel,
                            )
                            .await?;
                        let Some(summary) = summary else {
                            return self
                                .finish(run.id, RunOutcome::Cancelled, None, Some("cancelled by request".into()))
                                .await;
                        };
                        run = self.store.append_step(summary.clone()).await.map_err(store_failure)?;
                        steps.push(summary);
                        continue;
                    }
                    let request = ChatRequest::new(messages)
                        .with_system(system)
                        .with_cached_system_prompt()
                        .with_tools(definitions)
                        .with_max_tokens(self.settings.max_output_tokens);
                    let started = self.clock.now();
                    let sequence = replayed.next_sequence;
                    let response = match self
                        .call_model(&trace, sequence, model.as_ref(), request, estimated_input_tokens, &cancel)
                        .await?
                    {
                        ModelCallEnd::Reply(response) => response,
                        ModelCallEnd::Failed(error) => return self.model_failed(run.id, error).await,
                        ModelCallEnd::Cancelled => {
                            return self
                                .finish(run.id, RunOutcome::Cancelled, None, Some("cancelled by request".into()))
                                .await;
                        }
                    };
                    let stored = self.model_step(run.id, replayed.next_sequence, &response, started);
                    run = self.store.append_step(stored.clone()).await.map_err(store_failure)?;
                    steps.push(stored);
                }
            }
        }
    }

    /// Limits of the run, then the agent's budget.
    async fn must_stop(
        &self,
        run: &Run,
        agent: &Agent,
        limits: &EffectiveLimits,
        model: &dyn ChatModel,
        waited_for_approvals: chrono::Duration,
    ) -> Result<Option<Stop>, JobError> {
        let working = working_time(run, waited_for_approvals, self.clock.now());
        if let Some(stop) = check_limits(limits, &run.usage, working) {
            return Ok(Some(stop));
        }
        self.budget_stop(run.user_id, agent, model.id()).await.map_err(store_failure)
    }

    async fn system_prompt_for(
        &self,
        agent: &Agent,
        user: UserId,
        skills: &[SkillSummary],
        task: &str,
        unavailable: &[String],
    ) -> Result<String, JobError> {
        let filter = ActionFilter { agent_id: Some(agent.id), states: Vec::new() };
        let actions = self.store.list_actions(user.into(), filter).await.map_err(store_failure)?;
        let mut prompt = system_prompt(agent, skills, &actions, self.clock.now());
        prompt.push_str(&self.memory_for(user, agent, task).await.map_err(store_failure)?);
        prompt.push_str(&self.living_docs_for(agent).await);
        for problem in unavailable {
            prompt.push_str(&format!("\n(Unavailable in this run: {problem}.)\n"));
        }
        Ok(prompt)
    }

    /// Summarises the steps up to `boundary` into one summary step (not yet
    /// stored). `None` when cancelled.
    #[allow(clippy::too_many_arguments)]
    async fn summarise(
        &self,
        trace: &RunTrace,
        model: &dyn ChatModel,
        system: &str,
        steps: &[RunStep],
        boundary: u32,
        sequence: u32,
        cancel: &CancellationToken,
    ) -> Result<Option<RunStep>, JobError> {
        let covered: Vec<RunStep> = steps.iter().filter(|step| step.sequence <= boundary).cloned().collect();
        let earlier = replay(&covered).map_err(|error| JobError::permanent(error.to_string()))?;
        let mut messages = earlier.messages;
        messages.push(Message::user(
            "Summarise the work above for yourself, to continue from it: what was asked, what you did, what you \
             found (facts, names, numbers, file paths), decisions made and what is left. Be complete but brief. \
             Reply with the summary only.",
        ));
        let estimated_input_tokens = estimate_tokens(system, &messages, &[]);
        let request = ChatRequest::new(messages).with_system(system).with_max_tokens(self.settings.max_output_tokens);
        let started = self.clock.now();
        let response = match self.call_model(trace, sequence, model, request, estimated_input_tokens, cancel).await? {
            ModelCallEnd::Reply(response) => response,
            ModelCallEnd::Failed(error) => return Err(model_job_error(&error)),
            ModelCallEnd::Cancelled => return Ok(None),
        };
        let content = SummaryContent { text: response.text(), covers_through: boundary };
        let mut summary = self.model_step(trace.run_id(), sequence, &response, started);
        summary.kind = StepKind::Summary;
        summary.content = json!(content);
        Ok(Some(summary))
    }

    fn model_step(&self, run: RunId, sequence: u32, response: &ChatResponse, started: DateTime<Utc>) -> RunStep {
        let tool_calls: Vec<RequestedCall> = response
            .tool_calls
            .iter()
            .map(|call| RequestedCall {
                id: call.id.clone(),
                wire_name: call.name.clone(),
                input: call.input.clone(),
                malformed_input: call.malformed_input.clone(),
            })
            .collect();
        let content = ModelCallContent { content: response.content.clone(), tool_calls };
        let mut stored = new_step(
            run,
            sequence,
            StepKind::ModelCall,
            &response.model.to_string(),
            self.redactor.value(&json!(content)),
            started,
            self.clock.now(),
        );
        stored.usage = Some(TokenUsage {
            input_tokens: response.usage.input_tokens,
            output_tokens: response.usage.output_tokens,
            cache_read_tokens: response.usage.cache_read_tokens,
            cache_write_tokens: response.usage.cache_write_tokens,
        });
        stored.cost_usd = response.cost_usd;
        stored.time_to_first_token = response.time_to_first_token;
        stored.stop_reason = Some(response.stop_reason.as_str().to_string());
        stored
    }

    async fn request_approvals(&self, run: RunId, requests: Vec<NewApproval>) -> Result<(), JobError> {
        let requests: Vec<NewApproval> = requests
            .into_iter()
            .map(|request| NewApproval { arguments: self.redactor.value(&request.arguments), ..request })
            .collect();
        self.store.request_approvals(run, requests).await.map_err(store_failure)?;
        Ok(())
    }

    /// A model call failed after the client's own retries: a passing problem
    /// (rate limit, overload, outage, timeout) gives the job back to the
    /// queue to resume later; anything else ends the run.
    async fn model_failed(&self, run: RunId, error: LlmError) -> Result<RunProgress, JobError> {
        if error.is_retryable() {
            return Err(model_job_error(&error));
        }
        let message = match error.kind() {
            ErrorKind::ContextTooLong => format!("the conversation no longer fits the model's context: {error}"),
            _ => error.to_string(),
        };
        self.finish(run, RunOutcome::Failed, None, Some(message)).await
    }

    pub(crate) async fn finish(
        &self,
        run: RunId,
        outcome: RunOutcome,
        output: Option<String>,
        error: Option<String>,
    ) -> Result<RunProgress, JobError> {
        let finish = RunFinish { outcome, output, error: error.map(|error| self.redactor.text(&error)) };
        match self.store.finish_run(run, finish).await {
            Ok(finished) => {
                self.trace_finished(&finished).await;
                Ok(RunProgress::Finished(outcome))
            }
            // Finished meanwhile (cancelled while we worked): that stands.
            Err(StoreError::Conflict { .. }) => Ok(RunProgress::Finished(outcome)),
            Err(error) => Err(store_failure(error)),
        }
    }
}

/// Time the run has worked: since it first started, without the time it
/// spent waiting for people to decide on approvals.
fn working_time(run: &Run, waited_for_approvals: chrono::Duration, now: DateTime<Utc>) -> Duration {
    let Some(started) = run.started_at else { return Duration::ZERO };
    (now - started - waited_for_approvals).to_std().unwrap_or_default()
}

/// How long the run waited for people, over all its decided approvals.
fn time_waited_for(approvals: &[Approval]) -> chrono::Duration {
    approvals.iter().filter_map(|approval| approval.decided_at.map(|decided| decided - approval.created_at)).sum()
}
