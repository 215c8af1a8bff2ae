//! `steward schedule add | list | show | pause | resume | remove | run-now |
//! backfill | history`: schedules kept by a running server, named by name
//! (or id). `list` shows each next fire in the schedule's zone and in local
//! time.

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward_server::api::{
    BackfillRequest, CreateScheduleRequest, FireListResponse, FireResponse, ScheduleListResponse, ScheduleResponse,
    TargetBody,
};

use crate::client::ApiClient;
use crate::input::{AgentRef, parse_agent, parse_duration, parse_id, parse_time, resolve_agent};
use crate::options::GlobalOptions;
use crate::output::{self, confirm, local_time, optional_time, or_dash, print_json, say, truncate};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["agent", "action", "routine", "job"])))]
pub struct AddArgs {
    /// Unique among your schedules (case does not matter).
    pub name: String,
    /// Cron (5 fields, or 6 with seconds first), @daily, "daily at 08:00", "weekdays at 08:00",
    /// "every 15 minutes" or "at 2030-01-31T09:00".
    #[arg(long)]
    pub when: String,
    /// IANA time zone the *when* is read in (default UTC).
    #[arg(long = "tz", value_name = "ZONE")]
    pub zone: Option<String>,
    /// Missed slots: catch_up_once (default), skip, run_all or run_all:N.
    #[arg(long)]
    pub missed: Option<String>,
    /// Late slots older than this are missed whatever the policy (default 1d), e.g. 6h.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub catchup_window: Option<std::time::Duration>,
    /// While the previous fire's work runs: skip (default), buffer_one, buffer_all, cancel_running, allow.
    #[arg(long)]
    pub overlap: Option<String>,
    /// Fire each slot up to this much later (the same for a slot everywhere), e.g. 30s.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub jitter: Option<std::time::Duration>,
    /// Pause after this many failed fires in a row.
    #[arg(long, value_name = "N")]
    pub pause_after_failures: Option<u32>,
    /// A check made without any model call before each fire, as JSON, e.g.
    /// '{"kind":"new_events","kinds":["action.created"]}'.
    #[arg(long, value_name = "JSON")]
    pub precondition: Option<String>,
    /// Each fire starts a run of this agent (id or name); with --instruction.
    #[arg(long, value_parser = parse_agent, requires = "instruction")]
    pub agent: Option<AgentRef>,
    /// What the agent is told (with --agent; optional with --action).
    #[arg(long)]
    pub instruction: Option<String>,
    /// Each fire starts a run working on this action.
    #[arg(long, value_parser = parse_id, value_name = "ID")]
    pub action: Option<i64>,
    /// Each fire runs this routine.
    #[arg(long, value_name = "NAME")]
    pub routine: Option<String>,
    /// Each fire enqueues a job of this kind (with --payload).
    #[arg(long, value_name = "KIND")]
    pub job: Option<String>,
    /// The job's payload, JSON (default {}).
    #[arg(long, value_name = "JSON", requires = "job")]
    pub payload: Option<String>,
}

/// A schedule's name or id in a path.
fn path(schedule: &str, rest: &str) -> String {
    let encoded: String = schedule
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect();
    format!("/schedules/{encoded}{rest}")
}

fn json_argument(flag: &str, text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).map_err(|error| anyhow::anyhow!("{flag}: not JSON ({error})"))
}

fn seconds(duration: Option<std::time::Duration>) -> Option<i64> {
    duration.map(|duration| i64::try_from(duration.as_secs()).unwrap_or(i64::MAX))
}

pub async fn add(args: AddArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let agent_id = match &args.agent {
        Some(agent) => Some(resolve_agent(&client, agent).await?.into()),
        None => None,
    };
    let request = CreateScheduleRequest {
        name: args.name,
        when: args.when,
        tz: args.zone,
        missed: args.missed,
        catchup_window_secs: seconds(args.catchup_window),
        overlap: args.overlap,
        jitter_secs: seconds(args.jitter),
        pause_on_failures: args.pause_after_failures,
        agent_id,
        instruction: args.instruction,
        action_id: args.action.map(Into::into),
        routine: args.routine,
        job: args.job,
        payload: args.payload.as_deref().map(|text| json_argument("--payload", text)).transpose()?,
        precondition: args.precondition.as_deref().map(|text| json_argument("--precondition", text)).transpose()?,
    };
    let reply = client.post::<_, ScheduleResponse>("/schedules", &request).await?;
    if global.json {
        print_json(&reply.raw);
    } else {
        let schedule = &reply.body;
        say!("Added schedule {} ({}): {} in {}.", schedule.name, schedule.id, schedule.when, schedule.tz);
        say!("Next fire: {}", next_fire(schedule));
    }
    Ok(())
}

fn next_fire(schedule: &ScheduleResponse) -> String {
    match (&schedule.next_fire_local, schedule.next_fire_at) {
        (Some(zoned), Some(at)) => format!("{zoned} ({} local)", local_time(at)),
        _ => "never (done)".to_string(),
    }
}

fn state(schedule: &ScheduleResponse) -> &'static str {
    match (schedule.paused, schedule.next_fire_at) {
        (true, _) => "paused",
        (false, None) => "done",
        (false, Some(_)) => "active",
    }
}

fn target(target: &TargetBody) -> String {
    match target {
        TargetBody::Agent { agent_id, instruction } => format!("agent {agent_id}: {}", truncate(instruction, 40)),
        TargetBody::Action { action_id, .. } => format!("action {action_id}"),
        TargetBody::Routine { routine } => format!("routine {routine}"),
        TargetBody::Job { job, .. } => format!("job {job}"),
    }
}

pub async fn list(global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.get::<ScheduleListResponse>("/schedules", &[]).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    if reply.body.schedules.is_empty() {
        say!("No schedules. Add one with: steward schedule add NAME --when \"daily at 08:00\" --job noop");
        return Ok(());
    }
    let mut table = output::table(["NAME", "WHEN", "TZ", "TARGET", "NEXT FIRE (ZONE)", "NEXT FIRE (LOCAL)", "STATE"]);
    for schedule in &reply.body.schedules {
        table.add_row([
            schedule.name.clone(),
            schedule.when.clone(),
            schedule.tz.clone(),
            target(&schedule.target),
            or_dash(schedule.next_fire_local.as_deref()),
            optional_time(schedule.next_fire_at),
            state(schedule).to_string(),
        ]);
    }
    say!("{table}");
    Ok(())
}

pub async fn show(name: &str, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.get::<ScheduleResponse>(&path(name, ""), &[]).await?;
    if global.json {
        print_json(&reply.raw);
        return Ok(());
    }
    let schedule = &reply.body;
    let rows = vec![
        ("name", schedule.name.clone()),
        ("id", schedule.id.to_string()),
        ("when", schedule.when.clone()),
        ("tz", schedule.tz.clone()),
        ("target", target(&schedule.target)),
        ("state", state(schedule).to_string()),
        ("next fire", next_fire(schedule)),
        ("missed", format!("{} (catch-up window {}s)", schedule.missed, schedule.catchup_window_secs)),
        ("overlap", schedule.overlap.clone()),
        ("jitter", format!("{}s", schedule.jitter_secs)),
        ("failures", failures(schedule)),
        ("precondition", schedule.precondition.as_ref().map_or("-".into(), Value::to_string)),
    ];
    say!("{}", output::record(rows));
    Ok(())
}

fn failures(schedule: &ScheduleResponse) -> String {
    match schedule.pause_on_failures {
        Some(limit) => format!("{} in a row (pauses at {limit})", schedule.consecutive_failures),
        None => format!("{} in a row", schedule.consecutive_failures),
    }
}

/// `pause`, `resume` and `remove`: one request, the schedule as answered.
pub async fn change(name: &str, verb: &str, yes: bool, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = match verb {
        "pause" => client.post_empty::<ScheduleResponse>(&path(name, "/pause")).await?,
        "resume" => client.post_empty::<ScheduleResponse>(&path(name, "/resume")).await?,
        _ => {
            confirm(&format!("Remove schedule {name} and its history?"), "remove a schedule", yes)?;
            client.delete::<ScheduleResponse>(&path(name, "")).await?
        }
    };
    if global.json {
        print_json(&reply.raw);
    } else {
        let schedule = &reply.body;
        match verb {
            "pause" => say!("Paused schedule {}; it fires again once resumed.", schedule.name),
            "resume" => say!("Resumed schedule {}. Next fire: {}", schedule.name, next_fire(schedule)),
            _ => say!("Removed schedule {} and its history.", schedule.name),
        }
    }
    Ok(())
}

pub async fn run_now(name: &str, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.post_empty::<FireResponse>(&path(name, "/run")).await?;
    if global.json {
        print_json(&reply.raw);
    } else {
        say!("Fired {name} now: {}", describe(&reply.body));
    }
    Ok(())
}

pub async fn backfill(name: &str, from: &str, to: &str, global: &GlobalOptions) -> anyhow::Result<()> {
    let from: DateTime<Utc> = parse_time(from).map_err(|error| anyhow::anyhow!("--from: {error}"))?;
    let to: DateTime<Utc> = parse_time(to).map_err(|error| anyhow::anyhow!("--to: {error}"))?;
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.post::<_, FireListResponse>(&path(name, "/backfill"), &BackfillRequest { from, to }).await?;
    if global.json {
        print_json(&reply.raw);
    } else {
        say!("Backfilled {} slot(s) of {name}.", reply.body.fires.len());
        print_fires(&reply.body.fires);
    }
    Ok(())
}

pub async fn history(name: &str, limit: u32, global: &GlobalOptions) -> anyhow::Result<()> {
    let client = ApiClient::new(&global.server_url()?)?;
    let reply = client.get::<FireListResponse>(&path(name, "/fires"), &[("limit", limit.to_string())]).await?;
    if global.json {
        print_json(&reply.raw);
    } else if reply.body.fires.is_empty() {
        say!("{name} has not fired yet.");
    } else {
        print_fires(&reply.body.fires);
    }
    Ok(())
}

fn describe(fire: &FireResponse) -> String {
    let work = match (fire.run_id, fire.job_id) {
        (Some(run), _) => format!("run {run}"),
        (None, Some(job)) => format!("job {job}"),
        (None, None) => "nothing started".into(),
    };
    format!("{} slot {}, {work}", fire.status, fire.slot.to_rfc3339())
}

fn print_fires(fires: &[FireResponse]) {
    let mut table = output::table(["SLOT", "FIRED", "STATUS", "JOB", "RUN", "OUTCOME", "DETAIL"]);
    for fire in fires {
        table.add_row([
            local_time(fire.slot),
            local_time(fire.fired_at),
            fire.status.clone(),
            fire.job_id.map_or("-".into(), |job| job.to_string()),
            fire.run_id.map_or("-".into(), |run| run.to_string()),
            or_dash(fire.outcome.as_deref()),
            truncate(fire.detail.as_deref().unwrap_or("-"), 60),
        ]);
    }
    say!("{table}");
}
