//! The `--json` contract, walked over every subcommand against a real
//! server and the fake model provider: each prints exactly one compact JSON
//! document and a newline on stdout — the answer, or `{"error": {"code",
//! "message", "field"}}` — with the exit status of its error class. The
//! table names every leaf subcommand; `every_subcommand_is_walked` (a unit
//! test in `src/cli.rs`) fails when a new one is not in it.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Reply};

use crate::support::{STEWARD, ServerOptions, closed_port_url};

const KEY: &str = "sk-ant-json-walk-0123456789abcdef";

/// What a row expects: an answer, or an error with this code.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Answer,
    Error(&'static str),
}
use Expect::{Answer, Error};

/// Commands that never print one JSON document, and why.
pub const NOT_WALKED: &[(&str, &str)] = &[
    ("serve", "runs until stopped; prints where it listens"),
    ("completions", "prints a shell script"),
    ("dev fake-llm", "runs until stopped"),
    ("dev mcp-conformance-client", "the MCP conformance suite's client; prints a log"),
    ("mcp serve", "speaks MCP on standard I/O until its client leaves"),
    ("bench queue", "a measurement that takes minutes; prints a table"),
    ("bench llm", "a measurement; needs Python SDKs"),
    ("bench agents", "a measurement that takes minutes"),
    ("bench schedules", "a measurement that takes a minute; prints a summary"),
];

/// A Kiro spec folder `project import` is walked with.
const KIRO_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../domain/tests/fixtures/kiro");

/// The small LoCoMo-format dataset `memory bench` is walked with.
const MEMORY_DATASET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/memory/locomo-mini.json");

/// `(subcommand, arguments, expected)`, in the order they run; `{agent}`,
/// `{action}`, `{draft}`, `{run}`, `{job}` and `{home}` are filled in as the
/// walk creates them.
const WALK: &[(&str, &[&str], Expect)] = &[
    ("status", &["status"], Answer),
    ("models", &["models"], Answer),
    ("nodes", &["nodes"], Answer),
    ("agent create", &["agent", "create", "Walker", "--goal", "Walk every command"], Answer),
    ("agent list", &["agent", "list"], Answer),
    ("agent get", &["agent", "get", "{agent}"], Answer),
    ("agent update", &["agent", "update", "{agent}", "--goal", "Walk them all"], Answer),
    ("agent new", &["agent", "new", "--yes", "--message", "Help me walk"], Answer),
    ("action create", &["action", "create", "Walk", "--agent", "{agent}"], Answer),
    ("action list", &["action", "list"], Answer),
    ("action get", &["action", "get", "{action}"], Answer),
    ("action update", &["action", "update", "{action}", "--title", "Walk on"], Answer),
    ("action refine", &["action", "refine", "{action}", "Shorter, please"], Answer),
    ("action define", &["action", "define", "{action}"], Answer),
    ("action schedule", &["action", "schedule", "{action}"], Answer),
    ("action artifacts", &["action", "artifacts", "{action}"], Answer),
    ("action start", &["action", "start", "{draft}"], Error("illegal_transition")),
    ("action complete", &["action", "complete", "{draft}"], Error("illegal_transition")),
    ("action fail", &["action", "fail", "{draft}"], Error("illegal_transition")),
    ("action transition", &["action", "transition", "{draft}", "defined"], Answer),
    ("action dismiss", &["action", "dismiss", "{draft}", "--yes"], Answer),
    ("chat", &["chat", "{agent}", "Hello"], Answer),
    ("run", &["run", "{agent}", "Say hello", "--wait"], Answer),
    ("runs", &["runs"], Answer),
    ("sync install-hook", &["sync", "install-hook", "{repo}", "--agent", "Walker", "--home", "{home}"], Answer),
    ("sync record-commit", &["sync", "record-commit", "{repo}"], Answer),
    ("sync run", &["sync", "run", "{repo}", "--agent", "{agent}"], Answer),
    ("sync status", &["sync", "status", "{repo}"], Answer),
    ("sync apply", &["sync", "apply", "{repo}"], Answer),
    ("runs get", &["runs", "get", "{run}"], Answer),
    ("runs assessments", &["runs", "assessments", "{run}"], Answer),
    ("runs intervene", &["runs", "intervene", "987654", "resume"], Error("not_found")),
    ("duplicates scan", &["duplicates", "scan"], Answer),
    ("duplicates", &["duplicates"], Answer),
    ("duplicates merge", &["duplicates", "merge", "999", "--keep", "1"], Error("not_found")),
    ("duplicates keep", &["duplicates", "keep", "999"], Error("not_found")),
    ("runs cancel", &["runs", "cancel", "{run}", "--yes"], Error("illegal_transition")),
    ("trace", &["trace", "{run}"], Answer),
    ("approvals", &["approvals"], Answer),
    ("approvals approve", &["approvals", "approve", "987654"], Error("not_found")),
    ("approvals reject", &["approvals", "reject", "987654", "--reason", "no"], Error("not_found")),
    ("job enqueue", &["job", "enqueue", "--kind", "noop"], Answer),
    ("job list", &["job", "list"], Answer),
    ("job get", &["job", "get", "{job}"], Answer),
    ("job cancel", &["job", "cancel", "987654", "--yes"], Error("not_found")),
    ("job retry", &["job", "retry", "987654"], Error("not_found")),
    ("calendar events", &["calendar", "events", "/nonexistent/steward.ics", "--home", "{home}"], Error("failed")),
    ("delivery list", &["delivery", "list", "--status", "failed"], Answer),
    ("delivery retry", &["delivery", "retry", "987654"], Error("not_found")),
    ("idea add", &["idea", "add", "Walk to the sea"], Answer),
    ("idea list", &["idea", "list"], Answer),
    ("project new", &["project", "new", "Walkway", "--brief", "A path"], Answer),
    ("project quick", &["project", "quick", "A short path", "--agent", "{agent}", "--wait", "0"], Answer),
    ("project list", &["project", "list"], Answer),
    ("project import", &["project", "import", KIRO_SPEC], Answer),
    ("project show", &["project", "show", "987654"], Error("not_found")),
    ("project status", &["project", "status", "987654"], Error("not_found")),
    ("project set", &["project", "set", "987654", "--discovered-tasks", "allow"], Error("not_found")),
    ("project policy", &["project", "policy", "987654"], Error("not_found")),
    ("project propose", &["project", "propose", "987654", "--phase", "design", "/nonexistent"], Error("failed")),
    ("project edit", &["project", "edit", "987654", "--phase", "design", "/nonexistent"], Error("failed")),
    ("project approve", &["project", "approve", "987654"], Error("not_found")),
    ("project reject", &["project", "reject", "987654", "--comment", "no"], Error("not_found")),
    ("project export", &["project", "export", "987654", "{home}/spec"], Error("not_found")),
    ("project run", &["project", "run", "987654"], Error("not_found")),
    ("routine templates", &["routine", "templates"], Answer),
    ("routine add", ROUTINE_ADD, Answer),
    ("routine list", &["routine", "list"], Answer),
    ("routine show", &["routine", "show", "walkabout"], Answer),
    ("routine edit", ROUTINE_EDIT, Answer),
    ("routine run", &["routine", "run", "Walkabout", "--dry-run"], Answer),
    ("routine replay", &["routine", "replay", "987654"], Error("not_found")),
    ("routine remove", &["routine", "remove", "Walkabout", "--yes"], Answer),
    ("events", &["events"], Answer),
    ("memory add", &["memory", "add", "Walkers prefer plain prose", "--source", "feedback"], Answer),
    ("memory search", &["memory", "search", "plain prose"], Answer),
    ("memory facts", &["memory", "facts", "nobody we know"], Error("not_found")),
    ("memory forget", &["memory", "forget", "987654"], Error("not_found")),
    ("memory bench", &["memory", "bench", "--dataset", MEMORY_DATASET, "--k", "3"], Answer),
    ("memory import", &["memory", "import", MEMORY_DATASET], Answer),
    ("secret set", &["secret", "set", "walk-key", "--home", "{home}"], Error("invalid_parameter")),
    ("secret list", &["secret", "list", "--home", "{home}"], Answer),
    ("secret remove", &["secret", "remove", "walk-key", "--home", "{home}"], Error("not_found")),
    ("schedule preview", &["schedule", "preview", "daily at 08:00", "-n", "3"], Answer),
    ("schedule add", &["schedule", "add", "Walk", "--when", "@daily", "--job", "noop"], Answer),
    ("schedule list", &["schedule", "list"], Answer),
    ("schedule show", &["schedule", "show", "walk"], Answer),
    ("schedule pause", &["schedule", "pause", "Walk"], Answer),
    ("schedule resume", &["schedule", "resume", "Walk"], Answer),
    ("schedule run-now", &["schedule", "run-now", "Walk"], Answer),
    ("schedule backfill", BACKFILL, Answer),
    ("schedule history", &["schedule", "history", "Walk"], Answer),
    ("schedule remove", &["schedule", "remove", "Nonesuch", "--yes"], Error("not_found")),
    ("tools", &["tools", "--home", "{home}"], Answer),
    ("mcp list", &["mcp", "list", "{agent}"], Answer),
    ("mcp call", &["mcp", "call", "nonesuch", "echo", "--home", "{home}"], Error("not_found")),
    ("skills list", &["skills", "list", "--home", "{home}"], Answer),
    ("skills check", &["skills", "check", "--home", "{home}"], Answer),
    ("migrate", &["migrate", "--home", "{home}/walk"], Answer),
    ("backup", &["backup", "{home}/walk.tar", "--home", "{home}"], Answer),
    ("restore", &["restore", "{home}/walk.tar", "--home", "{home}/restored"], Answer),
    ("service install", &["service", "install", "--user", "--print", "--home", "{home}"], Answer),
    ("user add", &["user", "add", "walker", "--admin", "--home", "{home}/walk"], Answer),
    ("user list", &["user", "list", "--home", "{home}/walk"], Answer),
    ("token create", &["token", "create", "--user", "walker", "--name", "walk", "--home", "{home}/walk"], Answer),
    ("token list", &["token", "list", "--home", "{home}/walk"], Answer),
    ("token revoke", &["token", "revoke", "1", "--home", "{home}/walk"], Answer),
    ("user remove", &["user", "remove", "walker", "--yes", "--home", "{home}/walk"], Answer),
    ("login", &["login"], Error("invalid_parameter")),
    ("ask", &["ask", "One line, please"], Answer),
    ("agent archive", &["agent", "archive", "{agent}", "--yes"], Answer),
];

/// A routine from a built-in template, fired only by hand.
const ROUTINE_EDIT: &[&str] =
    &["routine", "edit", "Walkabout", "--when", "weekdays at 13:00", "--add-deliver", "file:/tmp/walk.md"];
const ROUTINE_ADD: &[&str] =
    &["routine", "add", "Walkabout", "--template", "midday-check", "--agent", "{agent}", "--manual"];

/// Two days of a daily schedule's past slots.
const BACKFILL: &[&str] =
    &["schedule", "backfill", "Walk", "--from", "2020-01-01T00:00:00Z", "--to", "2020-01-03T00:00:00Z"];

/// The exit status of each class, as `steward --help` documents it.
fn exit_status_of(code: &str) -> i32 {
    match code {
        "invalid_parameter" | "invalid_field" => 2,
        "not_found" => 3,
        "illegal_transition" | "already_exists" => 4,
        "unreachable" | "unavailable" | "model_not_configured" => 5,
        _ => 1,
    }
}

struct Walker {
    url: String,
    fake_url: String,
    ids: Vec<(&'static str, String)>,
}

impl Walker {
    fn fill(&self, argument: &str) -> String {
        let mut filled = argument.to_string();
        for (name, value) in &self.ids {
            filled = filled.replace(&format!("{{{name}}}"), value);
        }
        assert!(!filled.contains('{'), "{argument} is not known yet");
        filled
    }

    /// Runs one row and checks the contract; returns the document.
    fn run(&self, name: &str, arguments: &[&str], expect: Expect) -> Value {
        let arguments: Vec<String> = arguments.iter().map(|argument| self.fill(argument)).collect();
        let output = Command::new(STEWARD)
            .arg("--json")
            .arg("--server")
            .arg(&self.url)
            .args(&arguments)
            .env_remove("STEWARD_URL")
            .env_remove("STEWARD_SERVER")
            .env("ANTHROPIC_API_KEY", KEY)
            .env("ANTHROPIC_BASE_URL", &self.fake_url)
            .stdin(Stdio::null())
            .output()
            .expect("run steward");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let context = format!("`steward --json {}`\nstdout: {stdout}\nstderr: {stderr}", arguments.join(" "));
        assert!(stdout.ends_with('\n') && stdout.matches('\n').count() == 1, "{name}: one line: {context}");
        let document: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{name}: not JSON ({error}): {context}"));
        assert!(document.is_object(), "{name}: an object: {context}");
        let status = output.status.code().expect("an exit status");
        match expect {
            Answer => {
                assert_eq!(status, 0, "{name}: {context}");
                // A run has an `error` field of its own (null here); an error document has a code.
                assert!(!document["error"]["code"].is_string(), "{name}: {context}");
            }
            Error(code) => {
                assert_eq!(document["error"]["code"], code, "{name}: {context}");
                assert!(document["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{context}");
                assert!(document["error"].get("field").is_some(), "{name}: field is present, maybe null: {context}");
                assert_eq!(status, exit_status_of(code), "{name}: {context}");
            }
        }
        document
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_every_subcommand_prints_one_json_document() {
    let fake = FakeLlm::start().await.unwrap();
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    let mut walker = Walker {
        url: server.url().to_string(),
        fake_url: fake.anthropic_base_url(),
        ids: vec![("home", server.home().display().to_string())],
    };
    // A repository with one commit for `sync`.
    let repo = tempfile::tempdir().unwrap();
    for arguments in [
        &["init", "-q"][..],
        &["-c", "user.name=W", "-c", "user.email=w@example.com", "commit", "-q", "--allow-empty", "-m", "Walk"],
    ] {
        let status = Command::new("git").args(arguments).current_dir(repo.path()).status().unwrap();
        assert!(status.success(), "git {arguments:?}");
    }
    walker.ids.push(("repo", repo.path().display().to_string()));
    for (name, arguments, expect) in WALK {
        match *name {
            // The setup chat's one turn drafts the agent at once.
            "agent new" => fake.push(Reply::tool_call(
                "structured_output",
                &json!({"reply": "Here it is.", "ready": true,
                        "agent": {"name": "Second walker", "goal": "Walk again", "success_criteria": ["Walked"],
                                  "timeline": null}}),
            )),
            "sync run" => fake.push(Reply::text("<document>\n# Walk\n</document>")),
            "action create" => {
                // A second action stays a draft for the transitions that are refused.
                let draft = walker.run("action create", &["action", "create", "Draft", "--agent", "{agent}"], Answer);
                walker.ids.push(("draft", draft["id"].to_string()));
            }
            _ => {}
        }
        let document = walker.run(name, arguments, *expect);
        match *name {
            "agent create" => walker.ids.push(("agent", document["id"].to_string())),
            "action create" => walker.ids.push(("action", document["id"].to_string())),
            "run" => {
                walker.ids.push(("run", document["id"].to_string()));
                assert!(document["usage"]["cost_usd"].is_string(), "money is a decimal string: {document}");
            }
            "job enqueue" => walker.ids.push(("job", document["job"]["id"].to_string())),
            _ => {}
        }
    }
    // --pretty is the same document, indented.
    let pretty = Command::new(STEWARD).args(["--pretty", "--server", server.url(), "status"]).output().unwrap();
    let text = String::from_utf8_lossy(&pretty.stdout);
    let document: Value = serde_json::from_str(&text).unwrap();
    assert!(text.lines().count() > 3 && document["status"] == "ok", "{text}");

    let listed: Vec<&str> =
        WALK.iter().map(|(name, _, _)| *name).chain(NOT_WALKED.iter().map(|(name, _)| *name)).collect();
    assert_eq!(listed.len(), listed.iter().collect::<std::collections::BTreeSet<_>>().len(), "no row twice");
}

/// Errors outside the server's answers keep the contract too: a server
/// that does not answer, a flag clap refuses, a configuration key misspelt.
#[test]
fn errors_before_any_answer_are_json_too() {
    let run = |arguments: &[&str], home: &std::path::Path| {
        let output = Command::new(STEWARD)
            .args(arguments)
            .env_remove("STEWARD_URL")
            .env_remove("STEWARD_SERVER")
            .env("STEWARD_HOME", home)
            .stdin(Stdio::null())
            .output()
            .expect("run steward");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(stdout.matches('\n').count(), 1, "one line: {stdout}");
        let document: Value = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"));
        (output.status.code(), document)
    };
    let home = tempfile::tempdir().unwrap();
    let (status, document) = run(&["--json", "--server", &closed_port_url(), "status"], home.path());
    assert_eq!((status, document["error"]["code"].as_str()), (Some(5), Some("unreachable")), "{document}");

    let (status, document) = run(&["job", "list", "--json", "--state", "sideways"], home.path());
    assert_eq!((status, document["error"]["code"].as_str()), (Some(2), Some("invalid_parameter")), "{document}");

    std::fs::write(home.path().join("config.toml"), "[workers]\nconcurency = 3\n").unwrap();
    let (status, document) = run(&["--json", "skills", "list"], home.path());
    assert_eq!(status, Some(2), "{document}");
    assert_eq!(document["error"]["code"], "invalid_field");
    assert_eq!(document["error"]["field"], "workers.concurency");
    let message = document["error"]["message"].as_str().unwrap();
    assert!(
        message.ends_with("config.toml:2: unknown key `concurency` in [workers]; did you mean `concurrency`?"),
        "{message}"
    );
}
