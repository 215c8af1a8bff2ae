//! `steward events`: a page of the log, and `--follow` receiving live events.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use crate::support::{PATIENCE, STEWARD, ServerProcess, steward};

#[test]
fn events_are_listed_and_filtered() {
    let server = ServerProcess::start();
    let url = server.url();
    steward(url, &["agent", "create", "Logger", "--goal", "Log"]).ok();
    steward(url, &["job", "enqueue", "--kind", "noop", "--delay", "1h"]).ok();
    let page = steward(url, &["events"]);
    let text = page.ok();
    assert!(
        text.contains("agent.created") && text.contains("name \"Logger\"") && text.contains("job.enqueued"),
        "{text}"
    );
    let jobs = steward(url, &["events", "--kind", "job.", "--json"]).json();
    assert_eq!(jobs["events"].as_array().unwrap().len(), 1);
    let first = steward(url, &["events", "--limit", "1"]);
    assert!(first.ok().contains("More: steward events --after 1"), "{}", first.stdout);
    let output = steward(url, &["events", "--subject", "user"]);
    assert!(output.failed().contains("unknown subject"), "{}", output.stderr);
}

/// Starts `steward events --follow ARGS…` and hands its stdout lines to a channel.
fn follow(url: &str, args: &[&str]) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = Command::new(STEWARD)
        .args(["--server", url, "events", "--follow"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    (child, receiver)
}

#[test]
fn follow_prints_new_events_as_json_lines() {
    let server = ServerProcess::start();
    let url = server.url();
    // From the beginning of the log, so no event can slip by before the
    // stream is connected.
    let (mut child, lines) = follow(url, &["--after", "0", "--json"]);
    steward(url, &["agent", "create", "Followed", "--goal", "Be seen"]).ok();
    let line = lines.recv_timeout(PATIENCE).expect("an event line");
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["kind"], "agent.created");
    assert_eq!(event["data"]["name"], "Followed");

    steward(url, &["job", "enqueue", "--kind", "noop"]).ok();
    let kinds: Vec<String> = (0..3)
        .map(|_| {
            let line = lines.recv_timeout(PATIENCE).expect("an event line");
            serde_json::from_str::<serde_json::Value>(&line).unwrap()["kind"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(kinds, ["job.enqueued", "job.started", "job.completed"]);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn follow_prints_lines_for_people_and_survives_a_restart() {
    let mut server = ServerProcess::start();
    let url = server.url().to_string();
    let (mut child, lines) = follow(&url, &["--after", "0", "--kind", "agent."]);
    steward(&url, &["agent", "create", "Visible", "--goal", "G"]).ok();
    let line = lines.recv_timeout(PATIENCE).expect("an event line");
    assert!(line.contains("agent.created") && line.contains("name \"Visible\""), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();

    // A killed and restarted server answers on a new port with the same data.
    server.restart();
    let page = steward(server.url(), &["events", "--kind", "agent.", "--json"]).json();
    assert_eq!(page["events"][0]["data"]["name"], "Visible");
}
