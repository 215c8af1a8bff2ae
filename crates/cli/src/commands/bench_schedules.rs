//! `steward bench schedules`: the firing loop in this process, on a scratch
//! database. (1) Fire delay: N schedules share one slot a few seconds ahead;
//! each fire's delay is the time from its slot until its commit was
//! signalled (the events wake-up, then counting the `schedule.fired` events
//! it made visible) — p50, p99, max. (2) Idle cost: M schedules spread over
//! the day are registered, and the loop runs with nothing due: resident
//! memory and CPU per second of wall time.
//!
//! Run it built with `--release`; numbers from a debug build mean little.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat};
use serde_json::json;
use steward_domain::schedule::{NewSchedule, SchedulePolicies, ScheduleTarget, ScheduleZone, When};
use steward_domain::{Clock, EventId, SystemClock};
use steward_runtime::outbound::AddressPolicy;
use steward_runtime::scheduler::PreconditionChecker;
use steward_runtime::{Scheduler, SharedClock};
use steward_store::{EventQuery, Store, StoreOptions};
use tokio_util::sync::CancellationToken;

use super::bench_support::{Scratch, USER, describe, peak_rss_mb, process_cpu_seconds};
use crate::output::{print_json, say};

#[derive(Debug, clap::Args)]
pub struct SchedulesBenchArgs {
    /// Schedules due in the same second (fire delay).
    #[arg(long, default_value_t = 1_000)]
    pub due: usize,
    /// Schedules registered for the idle measurement.
    #[arg(long, default_value_t = 100_000)]
    pub registered: usize,
    /// Seconds the idle loop is watched.
    #[arg(long, default_value_t = 20)]
    pub idle_secs: u64,
    /// Database: a SQLite file in a temporary directory unless a URL is
    /// given; a PostgreSQL URL gets a fresh schema that is dropped after.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

fn schedule(name: String, when: &str) -> anyhow::Result<NewSchedule> {
    Ok(NewSchedule {
        user_id: USER,
        name,
        when: When::parse(when)?,
        zone: ScheduleZone::UTC,
        target: ScheduleTarget::Job { job_kind: "noop".into(), payload: json!({}) },
        policies: SchedulePolicies::default(),
        precondition: None,
    })
}

/// Creates schedules with 32 requests in flight (the SQLite writer commits
/// what is queued together). Each is built as it is sent: a list of them
/// all, held at once, would be what the RSS measured.
async fn create_all(
    store: &Arc<dyn Store>,
    schedules: impl Iterator<Item = anyhow::Result<NewSchedule>>,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    let mut pending = futures::stream::iter(schedules.map(|schedule| {
        let store = store.clone();
        async move { Ok::<_, anyhow::Error>(store.create_schedule(schedule?).await?) }
    }))
    .buffer_unordered(32);
    while let Some(created) = pending.next().await {
        created?;
    }
    Ok(())
}

pub async fn run(args: SchedulesBenchArgs, json_output: bool) -> anyhow::Result<()> {
    let scratch = Scratch::create(args.database.as_deref()).await?;
    let store = steward_store::open(&scratch.url, StoreOptions::default()).await?;
    store.migrate().await?;
    let checker = PreconditionChecker::new(store.clone(), Arc::new(AddressPolicy::default()));
    let stop = CancellationToken::new();
    let loop_task = Scheduler::new(store.clone(), SharedClock::system(), checker).start(stop.clone());

    // 1. Fire delay of `due` schedules sharing one slot.
    let now = SystemClock.now();
    let slot = DateTime::from_timestamp(now.timestamp() + 4, 0).unwrap_or(now);
    let at = slot.to_rfc3339_opts(SecondsFormat::Secs, true);
    create_all(&store, (0..args.due).map(|index| schedule(format!("due-{index}"), &format!("at {at}")))).await?;
    anyhow::ensure!(SystemClock.now() < slot, "creating {} schedules took past their slot; use fewer", args.due);
    let mut delays = Vec::with_capacity(args.due);
    let mut events = store.wakeups().subscribe_events();
    let mut cursor: Option<EventId> = store.latest_event_id(USER).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while delays.len() < args.due && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(100), events.changed()).await;
        let seen = SystemClock.now();
        loop {
            let query = EventQuery {
                after: cursor,
                limit: 1000,
                kind_prefix: Some("schedule.fired".into()),
                ..EventQuery::default()
            };
            let page = store.list_events(USER, query).await?;
            let Some(last) = page.last() else { break };
            cursor = Some(last.id);
            delays.extend(page.iter().map(|_| (seen - slot).num_microseconds().unwrap_or(0).max(0) as u64));
        }
    }
    delays.sort_unstable();

    // 2. Idle: `registered` schedules spread over the minutes of a day.
    let started = Instant::now();
    let spread = (0..args.registered).map(|index| {
        let minute = (index % 1440) as u32;
        schedule(format!("idle-{index}"), &format!("daily at {:02}:{:02}", minute / 60, minute % 60))
    });
    create_all(&store, spread).await?;
    let registering_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu_before, wall_before) = (process_cpu_seconds(), Instant::now());
    tokio::time::sleep(Duration::from_secs(args.idle_secs)).await;
    let idle_cpu_percent = (process_cpu_seconds() - cpu_before) / wall_before.elapsed().as_secs_f64() * 100.0;
    let rss_mb = current_rss_mb();
    let peak_mb = peak_rss_mb(None);

    stop.cancel();
    let _ = loop_task.await;
    store.close().await;
    let database = describe(&scratch.url);
    scratch.remove().await;
    let p = |quantile: f64| percentile(&delays, quantile);
    if json_output {
        print_json(&json!({
            "database": database,
            "due": args.due, "fired": delays.len(),
            "fire_delay_ms": { "p50": p(0.5), "p99": p(0.99), "max": p(1.0) },
            "registered": args.registered, "registering_secs": registering_secs,
            "idle_secs": args.idle_secs, "idle_cpu_percent_of_a_core": idle_cpu_percent,
            "rss_mb": rss_mb, "peak_rss_mb": peak_mb,
        }));
    } else {
        say!("database {database}");
        say!(
            "fire delay, {} schedules due in one second ({} fired): p50 {:.1} ms · p99 {:.1} ms · max {:.1} ms",
            args.due,
            delays.len(),
            p(0.5),
            p(0.99),
            p(1.0)
        );
        say!(
            "{} schedules registered in {registering_secs:.1} s; idle for {} s: CPU {idle_cpu_percent:.2}% of a core, \
              RSS {rss_mb:.1} MiB (peak {peak_mb:.1} MiB)",
            args.registered,
            args.idle_secs
        );
    }
    Ok(())
}

fn percentile(sorted_micros: &[u64], quantile: f64) -> f64 {
    if sorted_micros.is_empty() {
        return 0.0;
    }
    let index = ((sorted_micros.len() as f64 * quantile).ceil() as usize).clamp(1, sorted_micros.len()) - 1;
    sorted_micros[index] as f64 / 1000.0
}

/// Resident memory (VmRSS) of this process now, in MiB.
fn current_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib / 1024.0)
        })
        .unwrap_or(0.0)
}
