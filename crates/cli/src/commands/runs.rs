//! `steward run <agent> "instruction"` (an ad-hoc run, `--wait` to follow
//! it step by step), `steward runs` (list, show, cancel, the guardian's
//! assessments and a person's intervention on them) and `steward trace
//! <run>`: every step of a run with its model, tokens, cost and timings, or
//! its tool, arguments and result size.

use std::time::Duration;

use steward_server::api::{
    AssessmentListResponse, AssessmentResponse, CreateRunRequest, InterveneRequest, InterveneResponse, LimitsBody,
    RunListResponse, RunResponse, RunStatus, SpanResponse, StepKind, TraceResponse,
};

use crate::client::ApiClient;
use crate::commands::agent::RunLimitFlags;
use crate::commands::llm_setup::format_cost;
use crate::failure::AlreadyShown;
use crate::input::{AgentRef, parse_agent, parse_id, parse_time, parse_wire, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{self, confirm, local_time, optional_time, or_dash, print_json, say, truncate};

/// How often `--wait` looks at the run.
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The agent (id or name).
    #[arg(value_parser = parse_agent, value_name = "AGENT")]
    pub agent: AgentRef,
    /// What the agent should do.
    pub instruction: String,
    /// Follow the run step by step until it finishes; exits non-zero unless it completed.
    #[arg(long)]
    pub wait: bool,
    /// Start not before this time (2030-01-31T09:00:00Z, or a local 2030-01-31 09:00).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// Send the output there once the run finishes (repeat for several): slack:#channel,
    /// slack:@USERID, slack-webhook:URL, webhook:URL, mailto:ADDRESS, file:PATH.
    #[arg(long, value_name = "URI")]
    pub deliver: Vec<String>,
    /// This run's limits, over the agent's.
    #[command(flatten)]
    pub limits: RunLimitFlags,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    /// Only the runs of this agent (id or name).
    #[arg(long, value_parser = parse_agent)]
    pub agent: Option<AgentRef>,
    /// Only the runs working on this action.
    #[arg(long, value_parser = parse_id, value_name = "ID")]
    pub action: Option<i64>,
    /// Only runs in this status (queued, running, awaiting_approval, finished; repeat or separate with commas).
    #[arg(long, value_delimiter = ',', value_parser = parse_wire::<RunStatus>)]
    pub status: Vec<RunStatus>,
    /// How many runs to show (newest first).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, clap::Subcommand)]
pub enum RunsCommand {
    /// Show one run: status, outcome, usage, cost, answer.
    Get {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// The guardian's assessments of a run: score, drift, intervention, cost.
    Assessments {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// Act on the guardian's assessment: pause (apply a proposed pause), cancel (apply a proposed
    /// pause or cancel: the run is cancelled) or resume (a run the guardian holds goes on).
    Intervene {
        #[arg(value_parser = parse_id)]
        id: i64,
        #[arg(value_parser = ["pause", "cancel", "resume"])]
        intervention: String,
        /// The assessment acted on (the run's latest one waiting for a person by default).
        #[arg(long, value_parser = parse_id, value_name = "ID")]
        assessment: Option<i64>,
        /// Why (kept with the approval a resume decides).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Stop a run at its next step boundary (asks first).
    Cancel {
        #[arg(value_parser = parse_id)]
        id: i64,
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The run's id.
    #[arg(value_parser = parse_id)]
    pub run: i64,
    /// Show each step's stored content (the model's text, tool arguments and results) in full.
    #[arg(long)]
    pub full: bool,
}

pub async fn run(args: RunArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let agent = resolve_agent(&client, &args.agent).await?;
    let request = CreateRunRequest {
        instruction: args.instruction,
        limits: args.limits.over(LimitsBody::default()),
        at: args.at,
        delay_ms: None,
        deliver: args.deliver,
    };
    let created = client.post::<_, RunResponse>(&format!("/agents/{agent}/runs"), &request).await?;
    let id = created.body.id;
    if !args.wait {
        if global.json {
            print_json(&created.raw);
        } else {
            say!("Started run {id}. Follow it: steward trace {id} · steward runs get {id}");
        }
        return Ok(());
    }
    if !global.json {
        say!("Run {id} started; following it (Ctrl-C stops following, not the run).");
    }
    let trace = follow(&client, id.get(), !global.json).await?;
    if global.json {
        print_json(&serde_json::to_value(&trace.run)?);
    } else {
        print_ending(&trace.run);
    }
    match trace.run.outcome {
        Some(steward_server::api::RunOutcome::Completed) => Ok(()),
        _ => {
            let message = format!("run {id} did not complete: {}", describe_outcome(&trace.run));
            if global.json { Err(AlreadyShown { message }.into()) } else { Err(anyhow::anyhow!(message)) }
        }
    }
}

/// Polls the run's trace until it finishes, printing new steps as they land.
pub(crate) async fn follow(client: &ApiClient, id: i64, print: bool) -> anyhow::Result<TraceResponse> {
    let mut shown = 0;
    let mut said_waiting = false;
    loop {
        let trace = client.get::<TraceResponse>(&format!("/runs/{id}/trace"), &[]).await?.body;
        if print {
            for span in trace.spans.iter().skip(shown) {
                say!("{}", span_line(span));
            }
            if trace.run.status == RunStatus::AwaitingApproval && !said_waiting {
                say!("  … waiting for approval: steward approvals");
            }
        }
        said_waiting = trace.run.status == RunStatus::AwaitingApproval;
        shown = trace.spans.len();
        if trace.run.status == RunStatus::Finished {
            return Ok(trace);
        }
        tokio::time::sleep(POLL).await;
    }
}

pub async fn runs(args: RunsArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    match args.command {
        Some(RunsCommand::Get { id }) => {
            let reply = client.get::<RunResponse>(&format!("/runs/{id}"), &[]).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_run(&reply.body);
            }
        }
        Some(RunsCommand::Assessments { id }) => {
            let reply = client.get::<AssessmentListResponse>(&format!("/runs/{id}/assessments"), &[]).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_assessments(id, &reply.body.assessments);
            }
        }
        Some(RunsCommand::Intervene { id, intervention, assessment, reason }) => {
            let request = InterveneRequest {
                intervention: intervention.clone(),
                assessment: assessment.map(steward_domain::AssessmentId),
                reason,
            };
            let reply = client.post::<_, InterveneResponse>(&format!("/runs/{id}/intervene"), &request).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                let on = reply.body.assessment.as_ref().map(|a| format!(" (assessment {})", a.id)).unwrap_or_default();
                let now = match (intervention.as_str(), reply.body.run.status) {
                    (_, RunStatus::Finished) => "it is finished".to_string(),
                    ("pause", _) => "it pauses at its next model call, waiting for a person".to_string(),
                    ("cancel", _) => "it stops at its next step".to_string(),
                    _ => "it goes on".to_string(),
                };
                say!("Run {id}: {intervention} applied{on}; {now}.");
            }
        }
        Some(RunsCommand::Cancel { id, yes }) => {
            // Looked up before asking, so a wrong id is told as such.
            let run = client.get::<RunResponse>(&format!("/runs/{id}"), &[]).await?.body;
            let question = format!("Cancel run {id} ({})?", truncate(&run.instruction, 60));
            confirm(&question, &format!("cancel run {id}"), yes)?;
            let reply = client.post_empty::<RunResponse>(&format!("/runs/{id}/cancel")).await?;
            if global.json {
                print_json(&reply.raw);
            } else if reply.body.status == RunStatus::Finished {
                say!("Run {id} is cancelled.");
            } else {
                say!("Run {id} will stop at its next step.");
            }
        }
        None => {
            let mut query = vec![("limit", args.limit.to_string())];
            if let Some(agent) = &args.agent {
                query.push(("agent_id", resolve_agent(&client, agent).await?.to_string()));
            }
            if let Some(action) = args.action {
                query.push(("action_id", action.to_string()));
            }
            if !args.status.is_empty() {
                let statuses: Vec<String> = args.status.iter().map(ToString::to_string).collect();
                query.push(("status", statuses.join(",")));
            }
            let reply = client.get::<RunListResponse>("/runs", &query).await?;
            if global.json {
                print_json(&reply.raw);
            } else {
                print_list(&reply.body.runs);
            }
        }
    }
    Ok(())
}

pub async fn trace(args: TraceArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.get::<TraceResponse>(&format!("/runs/{}/trace", args.run), &[]).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    let trace = reply.body;
    say!("Run {} of agent {}: {}", trace.run.id, trace.run.agent_id, truncate(&trace.run.instruction, 100));
    let mut table =
        output::table(["#", "STEP", "NAME", "TOKENS IN/OUT (CACHE R/W)", "COST", "FIRST TOKEN", "TOOK", "NOTE"]);
    for span in &trace.spans {
        table.add_row(span_row(span, args.full));
    }
    say!("{table}");
    print_ending(&trace.run);
    Ok(())
}

fn span_row(span: &SpanResponse, full: bool) -> [String; 8] {
    let (tokens, cost, first_token) = match &span.model_call {
        Some(call) => (
            format!(
                "{}/{} ({}/{})",
                call.input_tokens, call.output_tokens, call.cache_read_tokens, call.cache_write_tokens
            ),
            format_cost(call.cost_usd),
            output::optional_duration(call.time_to_first_token_ms),
        ),
        None => ("—".into(), "—".into(), "—".into()),
    };
    let note = match (&span.error, &span.tool_call) {
        // Errors are shown whole: they are what a failed run is read for.
        (Some(error), Some(call)) => format!("{}\nerror: {error}", excerpt(&call.arguments.to_string(), full)),
        (Some(error), None) => format!("error: {error}"),
        (None, Some(call)) => {
            let result = span.content["result"].as_str().unwrap_or_default();
            format!(
                "{} → {} ({} bytes)",
                excerpt(&call.arguments.to_string(), full),
                excerpt(result, full),
                call.result_bytes.unwrap_or(0)
            )
        }
        (None, None) => describe_content(span, full),
    };
    [
        span.sequence.to_string(),
        span.kind.to_string(),
        span.name.clone(),
        tokens,
        cost,
        first_token,
        output::duration(span.duration_ms),
        note,
    ]
}

/// All of `text` with `--full`, else its first line cut to 60 characters.
fn excerpt(text: &str, full: bool) -> String {
    if full { text.to_string() } else { truncate(text, 60) }
}

/// A step's text in a word: the instruction, the model's words or stop reason.
fn describe_content(span: &SpanResponse, full: bool) -> String {
    let text = match span.kind {
        StepKind::Instruction | StepKind::Summary => span.content["text"].as_str().unwrap_or_default().to_string(),
        _ => {
            let stop = span.model_call.as_ref().and_then(|call| call.stop_reason.clone()).unwrap_or_default();
            // The reply's text parts (its tool calls are the next steps).
            let parts = span.content["content"].as_array().into_iter().flatten();
            let text: Vec<&str> = parts.filter_map(|part| part["text"].as_str()).collect();
            let text = text.join(" ");
            if text.is_empty() { stop } else { format!("{stop}: {text}") }
        }
    };
    if full { text } else { truncate(&text, 60) }
}

/// One line per step, for `run --wait`.
fn span_line(span: &SpanResponse) -> String {
    let [sequence, kind, name, tokens, cost, _, took, note] = span_row(span, false);
    match span.kind {
        StepKind::ModelCall | StepKind::Summary => {
            format!("  #{sequence} {kind} {name}: {tokens} tokens, {cost}, {took} — {note}")
        }
        StepKind::Instruction => format!("  #{sequence} {kind}: {note}"),
        _ => format!("  #{sequence} {kind} {name}: {took} — {note}"),
    }
}

pub(crate) fn print_ending(run: &RunResponse) {
    let usage = &run.usage;
    let mut cost = if usage.cost_known {
        format_cost(Some(usage.cost_usd))
    } else {
        format!("{} + unknown ({} calls without a price)", format_cost(Some(usage.cost_usd)), usage.unknown_cost_calls)
    };
    if usage.estimated_calls > 0 {
        cost.push_str(&format!(" ({} interrupted calls counted as estimates)", usage.estimated_calls));
    }
    say!(
        "{}: {} model calls, {} tool calls, {} tokens in, {} out, {cost}",
        describe_outcome(run),
        usage.model_calls,
        usage.tool_calls,
        usage.input_tokens,
        usage.output_tokens
    );
    if let Some(output) = &run.output {
        say!("{output}");
    }
}

pub(crate) fn describe_outcome(run: &RunResponse) -> String {
    match (&run.outcome, &run.error) {
        (Some(outcome), Some(error)) => format!("{outcome} ({error})"),
        (Some(outcome), None) => outcome.to_string(),
        (None, _) => run.status.to_string(),
    }
}

fn print_list(runs: &[RunResponse]) {
    if runs.is_empty() {
        say!("No runs. Start one with: steward run AGENT \"instruction\"");
        return;
    }
    let mut table =
        output::table(["ID", "AGENT", "ACTION", "STATUS", "OUTCOME", "STEPS", "COST", "INSTRUCTION", "CREATED"]);
    for run in runs {
        table.add_row([
            run.id.to_string(),
            run.agent_id.to_string(),
            run.action_id.map(|id| id.to_string()).unwrap_or_else(|| "—".into()),
            run.status.to_string(),
            run.outcome.map(|outcome| outcome.to_string()).unwrap_or_else(|| "—".into()),
            run.steps.to_string(),
            run_cost(run),
            truncate(&run.instruction, 40),
            local_time(run.created_at),
        ]);
    }
    say!("{table}");
}

fn print_assessments(run: i64, assessments: &[AssessmentResponse]) {
    if assessments.is_empty() {
        say!("The guardian has not looked at run {run}.");
        return;
    }
    let mut table = output::table([
        "ID",
        "AT",
        "STEPS",
        "ALIGNMENT",
        "RECOMMENDED",
        "INTERVENTION",
        "STATUS",
        "DRIFT",
        "MESSAGE",
        "COST",
    ]);
    for assessment in assessments {
        table.add_row([
            assessment.id.to_string(),
            local_time(assessment.created_at),
            assessment.steps_seen.to_string(),
            format!("{:.2}", assessment.alignment),
            assessment.recommended.clone(),
            assessment.intervention.clone(),
            assessment.status.clone(),
            or_dash(Some(&truncate(&assessment.drift_reason, 40))),
            or_dash(Some(&truncate(&assessment.message, 40))),
            format_cost(assessment.cost_usd),
        ]);
    }
    say!("{table}");
}

fn run_cost(run: &RunResponse) -> String {
    let cost = format_cost(Some(run.usage.cost_usd));
    if run.usage.cost_known { cost } else { format!("{cost} + unknown") }
}

fn print_run(run: &RunResponse) {
    let usage = &run.usage;
    let rows = vec![
        ("id", run.id.to_string()),
        ("agent", run.agent_id.to_string()),
        ("action", run.action_id.map(|id| id.to_string()).unwrap_or_else(|| "—".into())),
        ("job", run.job_id.map(|id| id.to_string()).unwrap_or_else(|| "—".into())),
        ("status", run.status.to_string()),
        ("outcome", describe_outcome(run)),
        ("instruction", run.instruction.clone()),
        ("steps", run.steps.to_string()),
        ("model calls", usage.model_calls.to_string()),
        ("tool calls", usage.tool_calls.to_string()),
        (
            "tokens",
            format!(
                "{} in, {} out, {} cache read, {} cache write",
                usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens
            ),
        ),
        ("cost", run_cost(run)),
        ("answer", or_dash(run.output.as_deref())),
        ("cancel requested", if run.cancel_requested { "yes".into() } else { "no".into() }),
        ("created", local_time(run.created_at)),
        ("started", optional_time(run.started_at)),
        ("finished", optional_time(run.finished_at)),
    ];
    say!("{}", output::record(rows));
}
