//! `steward job …`: enqueue, list (with counts by state), show (with the
//! attempt history), cancel and retry jobs of the durable queue.

use std::time::Duration;

use chrono::Utc;
use steward_domain::{Clock, SystemClock};
use steward_server::api::{
    EnqueueJobRequest, EnqueuedJob, JobCounts, JobDetailResponse, JobListResponse, JobReference, JobResponse, JobState,
};

use crate::client::ApiClient;
use crate::input::{parse_duration, parse_id, parse_job_reference, parse_payload, parse_time, parse_wire};
use crate::options::GlobalOptions;
use crate::output::{
    self, confirm, duration, local_time, optional_duration, optional_time, or_dash, print_json, say,
    time_with_distance, truncate,
};

#[derive(Debug, clap::Subcommand)]
pub enum JobCommand {
    /// Put a job in the queue.
    Enqueue(EnqueueArgs),
    /// List jobs, newest first, with counts by state.
    List(ListArgs),
    /// Show a job with its attempts and timings.
    Get {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
    /// Cancel a blocked, queued or running job, and the jobs depending on it (asks first).
    Cancel {
        #[arg(value_parser = parse_id)]
        id: i64,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Run a dead or cancelled job again, with fresh attempts.
    Retry {
        #[arg(value_parser = parse_id)]
        id: i64,
    },
}

#[derive(Debug, clap::Args)]
pub struct EnqueueArgs {
    /// The job kind (see `steward status` for the kinds the server runs).
    #[arg(long)]
    pub kind: String,
    /// JSON for the handler, inline or @file.json (default {}).
    #[arg(long, value_parser = parse_payload, value_name = "JSON")]
    pub payload: Option<serde_json::Value>,
    /// Queue name (default "default").
    #[arg(long)]
    pub queue: Option<String>,
    /// Higher runs first, -1000…1000 (default 0).
    #[arg(long, allow_negative_numbers = true)]
    pub priority: Option<i32>,
    /// Start no sooner than this from now: 500ms, 30s, 5m, 2h.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub delay: Option<Duration>,
    /// Start no sooner than this time: 2030-01-31T09:00:00Z, or a local 2030-01-31 09:00.
    #[arg(long, value_parser = parse_time, value_name = "TIME", conflicts_with = "delay")]
    pub run_at: Option<chrono::DateTime<Utc>>,
    /// Attempts before the job is dead, 1…100 (default 5).
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// How long one attempt may run: 30s, 5m (default 5m).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Idempotency key: enqueueing again with it returns the existing job.
    #[arg(long)]
    pub key: Option<String>,
    /// A job that must complete first: an id, or an idempotency key (repeat for several).
    #[arg(long, value_parser = parse_job_reference, value_name = "ID|KEY")]
    pub depends_on: Vec<JobReference>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only jobs in this state (repeat, or separate with commas).
    #[arg(long, value_delimiter = ',', value_parser = parse_wire::<JobState>)]
    pub state: Vec<JobState>,
    #[arg(long)]
    pub queue: Option<String>,
    #[arg(long)]
    pub kind: Option<String>,
    /// How many jobs to show (1…1000).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Only jobs older than this id (the next page).
    #[arg(long, value_parser = parse_id)]
    pub before: Option<i64>,
}

pub async fn run(command: JobCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    match command {
        JobCommand::Enqueue(args) => {
            let request = EnqueueJobRequest {
                queue: args.queue,
                kind: args.kind,
                payload: args.payload,
                priority: args.priority,
                run_at: args.run_at,
                delay_ms: args.delay.map(|delay| u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
                max_attempts: args.max_attempts,
                timeout_ms: args.timeout.map(|timeout| u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
                idempotency_key: args.key,
                depends_on: args.depends_on,
            };
            let reply = client.post::<_, EnqueuedJob>("/jobs", &request).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            let job = &reply.body.job;
            if reply.body.created {
                say!("Enqueued job {} ({}, {}).", job.id, job.kind, job.state);
            } else {
                say!(
                    "Job {} already exists with key {:?}; nothing was enqueued.",
                    job.id,
                    job.idempotency_key.as_deref().unwrap_or_default()
                );
            }
            print_job(job);
        }
        JobCommand::List(args) => {
            let mut query: Vec<(&str, String)> = vec![("limit", args.limit.to_string())];
            if !args.state.is_empty() {
                let states: Vec<&str> = args.state.iter().map(|state| state.as_str()).collect();
                query.push(("state", states.join(",")));
            }
            for (name, value) in [("queue", args.queue), ("kind", args.kind)] {
                if let Some(value) = value {
                    query.push((name, value));
                }
            }
            if let Some(before) = args.before {
                query.push(("before", before.to_string()));
            }
            let reply = client.get::<JobListResponse>("/jobs", &query).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            print_list(&reply.body);
        }
        JobCommand::Get { id } => {
            let reply = client.get::<JobDetailResponse>(&format!("/jobs/{id}"), &[]).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            print_detail(&reply.body);
        }
        JobCommand::Cancel { id, yes } => {
            // Look the job up before asking anything: a wrong id is told as
            // "there is no job …", not met with a question or a demand for --yes.
            let job = client.get::<JobDetailResponse>(&format!("/jobs/{id}"), &[]).await?.body.job;
            let question =
                format!("Cancel job {id} ({}, {})? Jobs that depend on it are cancelled too.", job.kind, job.state);
            confirm(&question, &format!("cancel job {id}"), yes)?;
            let reply = client.post_empty::<JobResponse>(&format!("/jobs/{id}/cancel")).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            say!("Cancelled job {id} ({}).", reply.body.kind);
        }
        JobCommand::Retry { id } => {
            let reply = client.post_empty::<JobResponse>(&format!("/jobs/{id}/retry")).await?;
            if global.json {
                print_json(&reply.raw);
                return Ok(());
            }
            say!(
                "Job {id} ({}) is {} again, with {} fresh attempts.",
                reply.body.kind,
                reply.body.state,
                reply.body.max_attempts
            );
        }
    }
    Ok(())
}

/// `queued 3 · running 1 · …`, leaving out states with no jobs.
pub fn counts_line(counts: &JobCounts) -> String {
    let mut parts: Vec<String> = JobState::ALL
        .iter()
        .filter(|state| counts.get(**state) > 0)
        .map(|state| format!("{state} {}", counts.get(*state)))
        .collect();
    parts.push(format!("total {}", counts.total));
    parts.join(" · ")
}

fn print_list(list: &JobListResponse) {
    say!("{}", counts_line(&list.counts));
    if list.jobs.is_empty() {
        say!("No jobs match.");
        return;
    }
    let now = SystemClock.now();
    let mut table = output::table(["ID", "STATE", "KIND", "QUEUE", "PRIORITY", "ATTEMPTS", "WHEN", "LAST ERROR"]);
    for job in &list.jobs {
        let when = match job.state {
            JobState::Queued | JobState::Blocked => format!("due {}", time_with_distance(job.run_at, now)),
            JobState::Running => format!("started {}", optional_time(job.started_at)),
            _ => format!("ended {}", optional_time(job.finished_at)),
        };
        table.add_row([
            job.id.to_string(),
            job.state.to_string(),
            job.kind.clone(),
            job.queue.clone(),
            job.priority.to_string(),
            format!("{}/{}", job.attempts, job.max_attempts),
            when,
            job.last_error.as_deref().map(|error| truncate(error, 40)).unwrap_or_else(|| "—".to_string()),
        ]);
    }
    say!("{table}");
    if let Some(before) = list.next_before {
        say!("More: steward job list --before {before}");
    }
}

fn job_rows(job: &JobResponse) -> Vec<(&'static str, String)> {
    let now = SystemClock.now();
    let depends_on = if job.depends_on.is_empty() {
        "—".to_string()
    } else {
        let ids: Vec<String> = job.depends_on.iter().map(ToString::to_string).collect();
        format!("{} ({} not completed)", ids.join(", "), job.pending_dependencies)
    };
    let state = match &job.state_reason {
        Some(reason) => format!("{} ({reason})", job.state),
        None => job.state.to_string(),
    };
    vec![
        ("id", job.id.to_string()),
        ("state", state),
        ("kind", job.kind.clone()),
        ("queue", job.queue.clone()),
        ("priority", job.priority.to_string()),
        ("payload", truncate(&job.payload.to_string(), 200)),
        ("attempts", format!("{} of {}", job.attempts, job.max_attempts)),
        ("timeout", duration(job.timeout_ms)),
        ("run at", time_with_distance(job.run_at, now)),
        ("idempotency key", or_dash(job.idempotency_key.as_deref())),
        ("depends on", depends_on),
        ("worker", or_dash(job.lease_owner.as_deref())),
        ("last error", or_dash(job.last_error.as_deref())),
        (
            "result",
            job.result.as_ref().map(|result| truncate(&result.to_string(), 200)).unwrap_or_else(|| "—".to_string()),
        ),
        ("created", local_time(job.created_at)),
        ("finished", optional_time(job.finished_at)),
    ]
}

fn print_job(job: &JobResponse) {
    say!("{}", output::record(job_rows(job)));
}

fn print_detail(detail: &JobDetailResponse) {
    let mut rows = job_rows(&detail.job);
    rows.push(("waited", optional_duration(detail.timings.wait_ms)));
    rows.push(("ran", optional_duration(detail.timings.run_ms)));
    rows.push(("total", optional_duration(detail.timings.total_ms)));
    say!("{}", output::record(rows));
    if detail.attempt_history.is_empty() {
        say!("No attempts yet.");
        return;
    }
    let mut table = output::table(["ATTEMPT", "WORKER", "STARTED", "DURATION", "OUTCOME", "ERROR"]);
    for attempt in &detail.attempt_history {
        let outcome = match attempt.retry_at {
            Some(retry_at) => format!("{} (retry at {})", attempt.outcome.as_str(), local_time(retry_at)),
            None => attempt.outcome.as_str().to_string(),
        };
        table.add_row([
            attempt.attempt.to_string(),
            or_dash(attempt.worker.as_deref()),
            local_time(attempt.started_at),
            optional_duration(attempt.duration_ms),
            outcome,
            attempt.error.as_deref().map(|error| truncate(error, 60)).unwrap_or_else(|| "—".to_string()),
        ]);
    }
    say!("{table}");
}
