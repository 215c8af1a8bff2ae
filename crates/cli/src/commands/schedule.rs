//! `steward schedule`: schedules. `preview` computes the next fire times of a
//! *when* in a time zone on the spot — no server needed — with the same code
//! the scheduler uses; the other subcommands talk to a running server
//! ([`super::schedule_manage`]).

use anyhow::{Context, anyhow};
use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use clap::Subcommand;
use serde_json::json;
use steward_domain::schedule::{ScheduleZone, When};
use steward_domain::{Clock, SystemClock};

use crate::options::GlobalOptions;
use crate::output::{print_json, say};

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Print the next fire times of a *when*, one per line, in RFC 3339 with the zone's offset.
    Preview(PreviewArgs),
    /// Add a schedule: each fire starts a run of an agent or on an action, a routine or a job.
    Add(Box<super::schedule_manage::AddArgs>),
    /// List schedules with their next fire, in their zone and in local time.
    List,
    /// Show one schedule (by name or id).
    Show { name: String },
    /// Pause a schedule: no slot fires until it is resumed.
    Pause { name: String },
    /// Resume a schedule; slots passed while paused follow its missed-run policy.
    Resume { name: String },
    /// Remove a schedule and its history.
    Remove {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Fire a schedule now (recorded as manual).
    RunNow { name: String },
    /// Fire the slots of a past interval not fired yet (at most 500).
    Backfill {
        name: String,
        /// RFC 3339, or a local date and time.
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// A schedule's recorded slots, newest first: slot, fired at, status, job, run, outcome.
    History {
        name: String,
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
}

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// Cron (5 fields, or 6 with seconds first), @daily, "daily at 08:00", "weekdays at 08:00",
    /// "mondays at 09:00", "every 15 minutes", "every 2 hours" or "at 2030-01-31T09:00".
    pub when: String,

    /// IANA time zone the *when* is read in, e.g. Europe/London.
    #[arg(long = "tz", value_name = "ZONE", default_value = "UTC")]
    pub zone: String,

    /// List fire times after this instant: RFC 3339, or a date and time in --tz (default: now).
    #[arg(long, value_name = "RFC3339")]
    pub from: Option<String>,

    /// How many fire times to print.
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
}

pub async fn run(command: ScheduleCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    use super::schedule_manage as manage;
    match command {
        ScheduleCommand::Preview(args) => preview(args, global),
        ScheduleCommand::Add(args) => manage::add(*args, global).await,
        ScheduleCommand::List => manage::list(global).await,
        ScheduleCommand::Show { name } => manage::show(&name, global).await,
        ScheduleCommand::Pause { name } => manage::change(&name, "pause", false, global).await,
        ScheduleCommand::Resume { name } => manage::change(&name, "resume", false, global).await,
        ScheduleCommand::Remove { name, yes } => manage::change(&name, "remove", yes, global).await,
        ScheduleCommand::RunNow { name } => manage::run_now(&name, global).await,
        ScheduleCommand::Backfill { name, from, to } => manage::backfill(&name, &from, &to, global).await,
        ScheduleCommand::History { name, limit } => manage::history(&name, limit, global).await,
    }
}

fn preview(args: PreviewArgs, global: &GlobalOptions) -> anyhow::Result<()> {
    let zone = ScheduleZone::parse("--tz", &args.zone).map_err(|error| anyhow!("{error}"))?;
    let when = When::parse(&args.when).map_err(|error| anyhow!("{error}"))?;
    let after = match &args.from {
        Some(text) => parse_from(text, zone)?,
        None => SystemClock.now(),
    };
    when.check_fires_after(zone, after).map_err(|error| anyhow!("{error}"))?;
    let fires: Vec<String> = when
        .fire_times(zone, after)
        .take(args.count as usize)
        .map(|fire| fire.with_timezone(&zone.tz()).to_rfc3339())
        .collect();
    if global.json {
        print_json(&json!({
            "when": when.as_str(),
            "time_zone": zone.name(),
            "after": after.with_timezone(&zone.tz()).to_rfc3339(),
            "fire_times": fires,
        }));
    } else {
        for fire in fires {
            say!("{fire}");
        }
    }
    Ok(())
}

/// An RFC 3339 instant, or a wall-clock date and time in the schedule's zone.
fn parse_from(text: &str, zone: ScheduleZone) -> anyhow::Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    let problem = || format!("--from: `{text}` is not a time; use 2030-01-31T09:00:00Z, or 2030-01-31T09:00 in --tz");
    let wall = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .with_context(problem)?;
    match zone.tz().from_local_datetime(&wall) {
        LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => Ok(instant.with_timezone(&Utc)),
        LocalResult::None => Err(anyhow!("--from: `{text}` does not exist in {zone} (the clocks skip it)")),
    }
}
