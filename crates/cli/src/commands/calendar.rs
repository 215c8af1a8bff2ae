//! `steward calendar events`: the instances a calendar file or feed holds
//! between two dates, in a zone — what a routine's calendar context sees.
//! No server needed; feeds are fetched on the `[calendar]` address policy
//! and cached in `$STEWARD_HOME/cache/calendar` with their ETag.

use std::path::PathBuf;

use anyhow::anyhow;
use chrono::NaiveDate;
use steward_domain::schedule::ScheduleZone;
use steward_domain::{Clock, SystemClock};

use crate::config::{Config, Overrides};
use crate::options::GlobalOptions;
use crate::output::{print_json, say, table};

#[derive(Debug, clap::Subcommand)]
pub enum CalendarCommand {
    /// The events between two dates, recurrences expanded, in a zone.
    #[command(
        after_help = "Examples:\n  steward calendar events work.ics --tz Europe/London\n  steward calendar events https://example.com/cal.ics --from 2030-01-07 --to 2030-01-13 --json"
    )]
    Events(EventsArgs),
}

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// A .ics file, or an http(s) URL.
    pub source: String,
    /// First day (YYYY-MM-DD; default today in --tz).
    #[arg(long, value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Last day, included (default: --from).
    #[arg(long, value_parser = parse_date)]
    pub to: Option<NaiveDate>,
    /// The IANA zone the days and times are in.
    #[arg(long = "tz", value_name = "ZONE", default_value = "UTC")]
    pub zone: String,
    /// Steward's data directory (its config.toml's [calendar] table, and the feed cache).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD)"))
}

pub async fn run(command: CalendarCommand, global: &GlobalOptions) -> anyhow::Result<()> {
    let CalendarCommand::Events(args) = command;
    let zone = ScheduleZone::parse("--tz", &args.zone).map_err(|error| anyhow!("{error}"))?.tz();
    let from = args.from.unwrap_or_else(|| SystemClock.now().with_timezone(&zone).date_naive());
    let to = args.to.unwrap_or(from);
    if to < from {
        return Err(anyhow!("--to: {to} is before --from {from}"));
    }
    let config = Config::load(&Overrides { home: args.home, ..Overrides::default() })?;
    let source = config.calendar.source(config.home.join("cache").join("calendar")).map_err(|error| anyhow!(error))?;
    let fetched = source.read(&args.source).await?;
    let instances = steward_runtime::calendar::instances(&fetched.text, from, to, zone)?;
    if global.json {
        print_json(&serde_json::to_value(&instances)?);
        return Ok(());
    }
    if instances.is_empty() {
        say!("No events from {from} to {to} ({}).", zone.name());
        return Ok(());
    }
    let mut rows = table(["START", "END", "SUMMARY", "LOCATION"]);
    for instance in &instances {
        rows.add_row([
            instance.start.to_string(),
            instance.end.to_string(),
            instance.summary.clone(),
            instance.location.clone().unwrap_or_else(|| "—".into()),
        ]);
    }
    say!("{rows}");
    Ok(())
}
