//! Schedules fired by real `steward serve` processes: stopped across several
//! slots and restarted, each missed-run policy is applied exactly; killed
//! with `kill -9` just before and just after a slot, no slot fires twice and
//! none is lost under `run_all`; two processes on one PostgreSQL database
//! fire each slot of a one-second schedule once; a one-shot fires once.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use steward_domain::{Clock, SystemClock};
use steward_store::DatabaseUrl;
use steward_test_support::TestDatabase;

use crate::support::{ServerOptions, ServerProcess, eventually, steward};

/// Adds a job schedule firing every second.
fn every_second(server: &ServerProcess, name: &str, missed: &str, overlap: &str) {
    let args =
        ["schedule", "add", name, "--when", "* * * * * *", "--missed", missed, "--overlap", overlap, "--job", "noop"];
    steward(server.url(), &args).ok();
}

/// One recorded slot: (slot, fired_at, status, job, detail).
type Fire = (DateTime<Utc>, DateTime<Utc>, String, Option<i64>, String);

/// A schedule's recorded slots, oldest first.
fn fires(server: &ServerProcess, name: &str) -> Vec<Fire> {
    let history = steward(server.url(), &["--json", "schedule", "history", name, "--limit", "1000"]).json();
    let time = |value: &Value| value.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    let mut fires: Vec<_> = history["fires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fire| {
            (
                time(&fire["slot"]),
                time(&fire["fired_at"]),
                fire["status"].as_str().unwrap().to_string(),
                fire["job_id"].as_i64(),
                fire["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    fires.sort_by_key(|fire| fire.0);
    fires
}

/// Every second from the first recorded slot to the last is recorded once.
fn assert_every_slot_once(fires: &[Fire], what: &str) {
    for pair in fires.windows(2) {
        assert_eq!((pair[1].0 - pair[0].0).num_seconds(), 1, "{what}: slots {} then {}", pair[0].0, pair[1].0);
    }
}

/// Sleeps until `offset` past the next whole second of the wall clock.
fn sleep_until_second_plus(offset: Duration) {
    let into_second = u64::from(SystemClock.now().timestamp_subsec_nanos()).min(999_999_999);
    std::thread::sleep(Duration::from_nanos(1_000_000_000 - into_second) + offset);
}

#[test]
fn heavy_each_missed_run_policy_is_applied_after_a_stop() {
    let mut server = ServerProcess::start();
    every_second(&server, "once", "catch_up_once", "allow");
    every_second(&server, "skip", "skip", "allow");
    every_second(&server, "all", "run_all:3", "allow");
    eventually("each schedule fired", || ["once", "skip", "all"].iter().all(|name| !fires(&server, name).is_empty()));
    server.terminate();
    let stopped_at = SystemClock.now();
    // Down across several slots: at least 6 pass.
    std::thread::sleep(Duration::from_millis(6_500));
    server.restart();
    let after_stop = |name: &str| -> Vec<_> {
        fires(&server, name).into_iter().filter(|fire| fire.0 > stopped_at).collect::<Vec<_>>()
    };
    eventually("the restart handled the missed slots", || {
        ["once", "skip", "all"].iter().all(|name| after_stop(name).len() >= 6)
    });
    for (name, expected_fired, not_fired) in [("once", 1, "coalesced"), ("skip", 1, "missed"), ("all", 4, "missed")] {
        assert_every_slot_once(&fires(&server, name), name);
        // The slots the restart found due were all recorded in its first pass.
        let after = after_stop(name);
        let pass: Vec<_> = after.iter().filter(|fire| fire.1 == after[0].1).collect();
        assert!(pass.len() >= 6, "{name}: {pass:?}");
        let fired: Vec<_> = pass.iter().filter(|fire| fire.2 == "fired").collect();
        assert_eq!(fired.len(), expected_fired, "{name}: {pass:?}");
        assert!(fired.iter().all(|fire| fire.3.is_some()), "{name}: each fire has its job");
        // The fired ones are the newest slots; every older one is `not_fired`.
        let newest_fired = pass.len() - expected_fired;
        assert!(pass[..newest_fired].iter().all(|fire| fire.2 == not_fired), "{name}: {pass:?}");
        assert!(pass[newest_fired..].iter().all(|fire| fire.2 == "fired"), "{name}: {pass:?}");
    }
    let all = fires(&server, "all");
    assert!(all.iter().any(|fire| fire.4.contains("over_run_all_limit")), "{all:?}");
}

#[test]
fn heavy_kill_9_before_and_after_a_slot_fires_no_slot_twice_and_loses_none() {
    let mut server = ServerProcess::start();
    every_second(&server, "tick", "run_all:500", "allow");
    for cycle in 0..6 {
        eventually("a fire after the restart", || fires(&server, "tick").len() > cycle);
        // Alternately a few milliseconds after a slot and just before one.
        let offset = if cycle % 2 == 0 { Duration::from_millis(3) } else { Duration::from_millis(995) };
        sleep_until_second_plus(offset);
        server.kill_hard();
        std::thread::sleep(Duration::from_millis(1_200));
        server.restart();
    }
    std::thread::sleep(Duration::from_millis(1_500));
    let fires = fires(&server, "tick");
    assert!(fires.len() >= 10, "{fires:?}");
    assert_every_slot_once(&fires, "tick");
    assert!(fires.iter().all(|fire| fire.2 == "fired" && fire.3.is_some()), "none lost under run_all: {fires:?}");
    let mut jobs: Vec<i64> = fires.iter().filter_map(|fire| fire.3).collect();
    jobs.sort_unstable();
    jobs.dedup();
    assert_eq!(jobs.len(), fires.len(), "one job per slot");
}

#[test]
fn heavy_a_one_shot_fires_once_and_is_done() {
    let mut server = ServerProcess::start();
    let at = (SystemClock.now() + chrono::Duration::seconds(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    steward(server.url(), &["schedule", "add", "once", "--when", &format!("at {at}"), "--job", "noop"]).ok();
    eventually("the one-shot fired", || fires(&server, "once").len() == 1);
    server.restart();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fires(&server, "once").len(), 1, "fired once, across a restart");
    let shown = steward(server.url(), &["--json", "schedule", "show", "once"]).json();
    assert!(shown["next_fire_at"].is_null(), "{shown}");
    let listed = steward(server.url(), &["schedule", "list"]).ok().to_string();
    assert!(listed.contains("done"), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_two_processes_on_postgresql_fire_each_slot_once() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let DatabaseUrl::Postgres(url) = &database.url else { unreachable!("a PostgreSQL database") };
    let options = || ServerOptions::default().arg("--database").arg(url.clone());
    let first = options().start();
    let second = options().start();
    every_second(&first, "beat", "run_all:500", "allow");
    std::thread::sleep(Duration::from_secs(60));
    let fires = fires(&second, "beat");
    assert!(fires.len() >= 55, "about a minute of slots: {}", fires.len());
    assert_every_slot_once(&fires, "beat");
    assert!(fires.iter().all(|fire| fire.2 == "fired" && fire.3.is_some()), "{fires:?}");
    let jobs: BTreeMap<i64, usize> = fires.iter().filter_map(|fire| fire.3).fold(BTreeMap::new(), |mut jobs, job| {
        *jobs.entry(job).or_default() += 1;
        jobs
    });
    assert!(jobs.values().all(|count| *count == 1), "one job per slot");
    drop((first, second));
}
