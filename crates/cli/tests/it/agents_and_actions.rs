//! `steward agent …` and `steward action …`.

use crate::support::{ServerOptions, ServerProcess, steward};

#[test]
fn agents_are_created_listed_updated_and_archived() {
    // The agent names an Anthropic model, which needs the provider's key.
    let server = ServerOptions::default().env("ANTHROPIC_API_KEY", "not-used").start();
    let url = server.url();
    let created = steward(
        url,
        &[
            "agent",
            "create",
            "Launch",
            "--goal",
            "Ship the beta",
            "--criterion",
            "100 users",
            "--criterion",
            "NPS 40",
            "--model",
            "anthropic/claude-sonnet-4-5",
        ],
    );
    let text = created.ok();
    assert!(text.contains("Created agent 1 \"Launch\"") && text.contains("• NPS 40"), "{text}");

    let list = steward(url, &["agent", "list"]);
    assert!(list.ok().contains("Launch") && list.stdout.contains("anthropic/claude-sonnet-4-5"), "{}", list.stdout);
    let json = steward(url, &["agent", "get", "1", "--json"]).json();
    assert_eq!(json["success_criteria"][1], "NPS 40");

    let updated = steward(url, &["agent", "update", "1", "--status", "paused", "--clear-model", "--json"]).json();
    assert_eq!(updated["status"], "paused");
    assert_eq!(updated["model"], serde_json::Value::Null);
    let stderr = steward(url, &["agent", "update", "1"]).failed().to_string();
    assert!(stderr.contains("nothing to change"), "{stderr}");

    // Without a terminal to ask on, archiving needs --yes, and nothing happens without it.
    let stderr = steward(url, &["agent", "archive", "1"]).failed().to_string();
    assert!(
        stderr.contains("refusing to archive agent 1 without confirmation") && stderr.contains("--yes"),
        "{stderr}"
    );
    assert_eq!(steward(url, &["agent", "get", "1", "--json"]).json()["status"], "paused");
    let archived = steward(url, &["agent", "archive", "1", "--yes"]);
    assert!(archived.ok().contains("Archived agent 1"), "{}", archived.stdout);
    assert!(steward(url, &["agent", "list"]).ok().contains("No agents"));
    let archived = steward(url, &["agent", "list", "--status", "archived", "--json"]).json();
    assert_eq!(archived["agents"][0]["status"], "archived");
}

#[test]
fn bad_agent_input_prints_the_field_and_the_problem() {
    // An empty key is no key, whatever the environment of the tests holds.
    let server = ServerOptions::default().env("OPENAI_API_KEY", "").start();
    let output = steward(server.url(), &["agent", "create", " ", "--goal", "G"]);
    assert_eq!(output.failed().trim(), "error: name: must not be empty");
    let output = steward(server.url(), &["agent", "create", "A", "--goal", "G", "--model", "gpt-5"]);
    assert!(
        output.failed().starts_with("error: model: \"gpt-5\" is not of the form provider/model"),
        "{}",
        output.stderr
    );
    // Typos in tools and models are caught before anything is stored.
    let output = steward(server.url(), &["agent", "create", "A", "--goal", "G", "--tool", "workspace.raed"]);
    assert!(
        output.failed().starts_with("error: tools[0]: unknown tool `workspace.raed` (did you mean `workspace.read`?)"),
        "{}",
        output.stderr
    );
    let output =
        steward(server.url(), &["agent", "create", "A", "--goal", "G", "--model", "antropic/claude-sonnet-4-5"]);
    assert!(output.failed().contains("unknown provider `antropic`"), "{}", output.stderr);
    let output = steward(server.url(), &["agent", "create", "A", "--goal", "G", "--model", "openai/gpt-4.1"]);
    assert!(output.failed().contains("provider openai has no API key on this server"), "{}", output.stderr);
    assert!(steward(server.url(), &["agent", "list"]).ok().contains("No agents"), "nothing was stored");
    let output = steward(server.url(), &["agent", "get", "42"]);
    assert_eq!(output.failed().trim(), "error: there is no agent 42");
    let output = steward(server.url(), &["agent", "get", "forty-two"]);
    assert_eq!(output.failed().trim(), "error: there is no agent named \"forty-two\" (see: steward agent list)");
    let output = steward(server.url(), &["agent", "get", "0"]);
    assert!(output.failed().contains("is not an id"), "{}", output.stderr);
}

#[test]
fn actions_move_through_their_lifecycle() {
    let server = ServerProcess::start();
    let url = server.url();
    steward(url, &["agent", "create", "Writer", "--goal", "Write"]).ok();
    // An agent can be named by its name wherever the CLI takes one.
    assert_eq!(steward(url, &["agent", "get", "Writer", "--json"]).json()["id"], 1);
    let created =
        steward(url, &["action", "create", "--agent", "Writer", "Draft the plan", "--priority", "high", "--json"])
            .json();
    assert_eq!(created["agent_id"], 1);
    assert_eq!(created["state"], "draft");
    assert_eq!(created["priority"], "high");

    let output = steward(url, &["action", "define", "1"]);
    assert!(output.ok().contains("is now defined"), "{}", output.stdout);
    // Scheduling starts a run of the agent; this one waits for its time.
    let output = steward(url, &["action", "schedule", "1", "--at", "2099-01-01T09:00:00Z", "--json"]).json();
    assert_eq!(
        (output["action"]["state"].as_str(), output["run"]["status"].as_str()),
        (Some("scheduled"), Some("queued"))
    );
    let output = steward(url, &["action", "schedule", "1"]);
    assert!(output.failed().contains("cannot go from scheduled"), "{}", output.stderr);
    // Run 1 works on the action now: the person cannot start it by hand.
    let output = steward(url, &["action", "start", "1"]);
    assert_eq!(
        output.failed().trim(),
        "error: to: run 1 is working on this action; cancel it first (steward runs cancel 1)"
    );
    // Taking the action back cancels its run.
    let output = steward(url, &["action", "define", "1"]);
    assert!(output.ok().contains("is now defined"), "{}", output.stdout);
    let run = steward(url, &["runs", "get", "1", "--json"]).json();
    assert_eq!((run["status"].as_str(), run["outcome"].as_str()), (Some("finished"), Some("cancelled")));
    assert_eq!(run["error"], "cancelled: action 1 was moved back to defined");
    let output = steward(url, &["action", "complete", "1"]);
    assert_eq!(
        output.failed().trim(),
        "error: to: cannot go from defined to completed; from defined it can become draft, scheduled, dismissed"
    );
    // Dismissing a scheduled action cancels its run too.
    let output = steward(url, &["action", "schedule", "1", "--at", "2099-01-01T09:00:00Z", "--json"]).json();
    assert_eq!(output["run"]["id"], 2);
    let dismissed = steward(url, &["action", "dismiss", "1", "--yes", "--reason", "plan changed", "--json"]).json();
    assert_eq!(
        (dismissed["state"].as_str(), dismissed["state_reason"].as_str()),
        (Some("dismissed"), Some("plan changed"))
    );
    let run = steward(url, &["runs", "get", "2", "--json"]).json();
    assert_eq!((run["status"].as_str(), run["outcome"].as_str()), (Some("finished"), Some("cancelled")));
    assert_eq!(run["error"], "cancelled: action 1 was dismissed");

    steward(url, &["action", "create", "--agent", "1", "Second"]).ok();
    let stderr = steward(url, &["action", "dismiss", "2"]).failed().to_string();
    assert!(stderr.contains("refusing to dismiss action 2"), "{stderr}");
    let stderr = steward(url, &["action", "transition", "2", "dismissed"]).failed().to_string();
    assert!(stderr.contains("--yes"), "{stderr}");
    steward(url, &["action", "dismiss", "2", "--yes", "--reason", "not needed"]).ok();

    let list = steward(url, &["action", "list", "--state", "completed,dismissed"]);
    assert!(list.ok().contains("Draft the plan") && list.stdout.contains("Second"), "{}", list.stdout);
    let updated = steward(url, &["action", "update", "1", "--title", "late"]);
    assert!(updated.failed().contains("final"), "{}", updated.stderr);
    let output = steward(url, &["action", "list", "--state", "done"]);
    assert!(output.failed().contains("unknown value \"done\""), "{}", output.stderr);
}

/// `steward --server URL ARGS…` in the time zone `zone`.
fn steward_in_zone(server_url: &str, zone: &str, args: &[&str]) -> crate::support::CliOutput {
    let output = std::process::Command::new(crate::support::STEWARD)
        .arg("--server")
        .arg(server_url)
        .args(args)
        .env("TZ", zone)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    crate::support::CliOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn scheduling_says_when_in_the_users_zone_and_refuses_the_past() {
    let server = ServerProcess::start();
    let url = server.url();
    steward(url, &["agent", "create", "Writer", "--goal", "Write"]).ok();
    for title in ["Summer post", "Late post", "Old post"] {
        let id = steward(url, &["action", "create", "--agent", "Writer", title, "--json"]).json()["id"].to_string();
        steward(url, &["action", "define", &id]).ok();
    }
    // A local time is read in the user's zone and shown back in it and in UTC.
    let output = steward_in_zone(url, "Europe/London", &["action", "schedule", "1", "--at", "2030-07-01 09:00"]);
    let text = output.ok();
    assert!(
        text.starts_with(
            "Action 1 \"Summer post\" is scheduled; run 1 starts at 2030-07-01 09:00 Europe/London \
             (2030-07-01 08:00 UTC), in "
        ),
        "{text}"
    );
    // A time in the past would start a run at once: refused, nothing changes.
    let output = steward_in_zone(url, "Europe/London", &["action", "schedule", "2", "--at", "2020-01-31 09:00"]);
    let stderr = output.failed();
    assert!(
        stderr.starts_with("error: --at 2020-01-31 09:00 Europe/London (2020-01-31 09:00 UTC) is in the past (")
            && stderr.contains("use --at now to start it now, or --allow-past to schedule it anyway"),
        "{stderr}"
    );
    assert_eq!(steward(url, &["action", "get", "2", "--json"]).json()["state"], "defined");
    let output = steward_in_zone(url, "Europe/London", &["action", "schedule", "2", "--at", "now"]);
    assert!(output.ok().starts_with("Action 2 \"Late post\" is scheduled; run 2 starts now."), "{}", output.stdout);
    let output = steward(url, &["action", "schedule", "3", "--at", "2020-01-31T09:00:00Z", "--allow-past", "--json"]);
    let scheduled = output.json();
    assert_eq!(scheduled["starts_at"], "2020-01-31T09:00:00Z");
    assert_eq!(scheduled["action"]["state"], "scheduled");
}
