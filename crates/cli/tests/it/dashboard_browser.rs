//! The web dashboard in a real browser: headless Chromium (Debian's, driven
//! by `playwright-core` from `ui/node_modules`) runs `ui/e2e/journeys.mjs`
//! against a real `steward serve` whose model provider is the fake. The
//! journeys: an agent created through the setup chat, a chat whose reply
//! streams in and proposes a draft card, the draft defined and scheduled,
//! the action crossing the kanban live, an illegal drag refused with the
//! server's message, the run's trace waterfall, a paused tool call
//! approved, the command palette, a schedule paused and fired, memory
//! (a remembered preference found, forgotten with a reason and seen closed
//! in its entity's history, a core block written and edited), a routine previewed and fired with
//! its delivery's status shown and then edited (a refused *when* named, then its schedule, prompt
//! and destinations changed), a drifting run steered by the guardian with its assessment shown,
//! a project's guardian policy set from its card (refusals shown at their fields), a run whose
//! pause the guardian proposed paused and resumed through its page's buttons,
//! an OpenAI client's completion seen in the
//! agent's chat, a project's requirements sent back with a comment and then
//! approved at their gate, its task graph shown, a quick project's three
//! documents approved together at one gate; then screenshots of every main page at
//! 1280 and 390 px (`target/ui-screenshots/`) and axe-core checks.
//!
//! The script asks for the fake to hold and release replies ("@@
//! pause_replies") on its stdout and waits for "ok" on its stdin, so the
//! action is seen in progress before its run may finish. Node, Chromium
//! and `npm ci` in `ui/` are required: without them the test fails, saying
//! what to install.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;
use steward_fake_llm::{FakeLlm, ReceivedRequest, Reply, Script};

use crate::support::ServerOptions;

const KEY: &str = "sk-ant-browser-0123456789abcdef";
const STRUCTURED: &str = "structured_output";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole browser run; generous, as a 2-core machine may be busy.
const BROWSER_PATIENCE: Duration = Duration::from_secs(420);

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root")
}

/// What the fake model answers, decided from each request alone (the
/// person's last message and how many tool results came back), so the
/// browser's pace does not matter.
fn reply_for(request: &ReceivedRequest) -> Option<Script> {
    if let Some(extraction) = memory_extraction(request) {
        return Some(extraction.into());
    }
    let said = request.last_user_text().unwrap_or_default();
    let tool_results = request.tool_result_count();
    if request.system_text().unwrap_or_default().contains("three documents of a small spec-driven project") {
        return Some(Reply::tool_call(STRUCTURED, &quick_documents()).into());
    }
    if request.system_text().unwrap_or_default().contains("You supervise an AI agent") {
        // The guardian: the oversight journey's run drifts; every other run is on course.
        let verdict = if said.contains("oversight journey") {
            json!({"alignment": 0.5, "drift_reason": "lists actions instead of writing",
                   "intervention": "steer", "message": "Back to the launch post."})
        } else if said.contains("pause journey") {
            // Below `pause_below`: this server only proposes the pause, for a person to apply.
            json!({"alignment": 0.3, "drift_reason": "keeps listing actions", "intervention": "pause", "message": ""})
        } else {
            json!({"alignment": 0.9, "drift_reason": "", "intervention": "continue", "message": ""})
        };
        return Some(Reply::tool_call(STRUCTURED, &verdict).into());
    }
    let reply = if said.contains("oversight journey") && tool_results < 4 {
        // Slow enough for the guardian (after 1 s, every 1 s) to look.
        Reply::tool_call("actions__list", &json!({})).with_first_byte_delay(Duration::from_millis(700))
    } else if said.contains("pause journey") && tool_results < 20 {
        // Long enough (about 14 s of calls) for the browser to see the proposed pause and apply it
        // while the run works, and to finish soon after it is resumed.
        Reply::tool_call("actions__list", &json!({})).with_first_byte_delay(Duration::from_millis(700))
    } else if said.contains("A post, 500 readers, by Friday") {
        Reply::tool_call(
            STRUCTURED,
            &json!({
                "reply": "Goal: a launch post people share. Criteria: published, 500 readers. By Friday. Create it?",
                "ready": true,
                "agent": {"name": "Launch writer", "goal": "Publish a launch post people share",
                          "success_criteria": ["Post published", "500 readers in a week"], "timeline": "by Friday"}
            }),
        )
    } else if said.contains("Help me launch") {
        Reply::tool_call(
            STRUCTURED,
            &json!({"reply": "What should the launch achieve, and by when?", "ready": false, "agent": null}),
        )
    } else if said.contains("What first?") && tool_results == 0 {
        // Paced like a real model, so the browser sees the reply grow.
        Reply::text("Start with the post itself.")
            .then_tool_call(
                "propose_action",
                &json!({"title": "Draft the launch post", "description": "600 words, one image.",
                        "priority": "high", "mode": "scheduled"}),
            )
            .with_chunk_chars(3)
            .with_delay_between_chunks(Duration::from_millis(40))
    } else if said.contains("What first?") {
        Reply::text(" I filed it as a draft.")
    } else if said.contains("Draft the launch post") && tool_results == 0 {
        Reply::tool_call("artifacts__write", &json!({"path": "post.md", "content": "# We launched\n"}))
    } else if said.contains("Draft the launch post") {
        Reply::text("The post is in post.md.")
    } else if said.contains("approval journey") && tool_results == 0 {
        Reply::tool_call("workspace__write", &json!({"path": "a.txt", "content": "x"}))
    } else if said.contains("from an OpenAI client") {
        Reply::text("Hello, OpenAI client.")
    } else {
        Reply::text("Done.")
    };
    Some(reply.into())
}

/// A quick project's three documents, written in one reply: one
/// requirement, a design, two tasks in a chain.
fn quick_documents() -> serde_json::Value {
    let task = |id: &str, depends_on: &[&str]| {
        json!({"id": id, "title": format!("Do {id}"), "requirements": ["R1.1"], "done_when": format!("{id} is done"),
               "parallel": false, "depends_on": depends_on})
    };
    json!({
        "requirements": {"title": "Dark mode", "open_questions": [], "requirements": [{"id": "R1", "title": "Switch",
            "story": "As a reader, I want a dark page",
            "criteria": [{"id": "R1.1", "text": "WHEN the switch is on THE SYSTEM SHALL show the dark theme"}]}]},
        "design": {"title": "Dark mode", "architecture": "A CSS class.", "data_model": "One flag.",
                   "error_handling": "Light by default.", "diagrams": [], "properties": []},
        "tasks": {"title": "Dark mode", "tasks": [task("T001", &[]), task("T002", &["T001"])]}
    })
}

/// Memory's two extraction calls: "the user", and a preference from any
/// episode about the brand voice.
fn memory_extraction(request: &ReceivedRequest) -> Option<Reply> {
    let system = request.system_text().unwrap_or_default();
    if system.contains("You extract the entities") {
        return Some(Reply::tool_call(STRUCTURED, &json!({"entities": [{"name": "the user", "labels": ["Person"]}]})));
    }
    if !system.contains("You extract facts") {
        return None;
    }
    let facts = if request.last_user_text().unwrap_or_default().contains("brand voice") {
        json!([{"subject": "the user", "relation": "prefers", "kind": "preference",
                "fact": "The user's brand voice is plain: no exclamation marks."}])
    } else {
        json!([])
    };
    Some(Reply::tool_call(STRUCTURED, &json!({ "facts": facts })))
}

fn require_tools(root: &Path) -> String {
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|output| output.status.success()),
        "the dashboard's browser tests need Node.js 20.19 or newer (`apt-get install nodejs`): {node:?}"
    );
    assert!(
        Path::new(CHROMIUM).exists(),
        "the dashboard's browser tests need Debian's Chromium at {CHROMIUM}: `apt-get install chromium chromium-driver`"
    );
    assert!(
        root.join("ui/node_modules/playwright-core").exists() && root.join("ui/node_modules/axe-core").exists(),
        "the dashboard's browser tests need ui/node_modules: run `npm ci` in {}",
        root.join("ui").display()
    );
    String::from_utf8_lossy(&node.unwrap().stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_the_dashboard_journeys_in_a_real_browser() {
    let root = repository_root();
    let node_version = require_tools(&root);
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(reply_for);
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .env("STEWARD_TOOLS__REQUIRE_APPROVAL", "workspace.write")
        .env("STEWARD_MEMORY__EXTRACTION_MODEL", "default")
        // The journey's schedule is the first one.
        .env("STEWARD_MEMORY__CONSOLIDATION", "off")
        .env("STEWARD_OVERSIGHT__GUARDIAN_AFTER", "1s")
        .env("STEWARD_OVERSIGHT__GUARDIAN_EVERY", "1s")
        // A pause the guardian decides is proposed to a person, who applies it from the run's page.
        .env("STEWARD_OVERSIGHT__AUTO_PAUSE", "false")
        .start();
    let screenshots = root.join("target/ui-screenshots");

    let mut child = Command::new("node")
        .arg(root.join("ui/e2e/journeys.mjs"))
        .current_dir(root.join("ui"))
        .env("STEWARD_URL", server.url())
        .env("STEWARD_SCREENSHOTS", &screenshots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut commands = child.stdin.take().expect("piped stdin");
    let (lines, received) = mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let stderr = child.stderr.take().expect("piped stderr");
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());

    let deadline = Instant::now() + BROWSER_PATIENCE;
    let mut output = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match received.recv_timeout(left) {
            Ok(line) => {
                if let Some(command) = line.strip_prefix("@@ ") {
                    match command {
                        "pause_replies" => fake.pause_replies(),
                        "resume_replies" => fake.resume_replies(),
                        _ => {}
                    }
                    if !command.starts_with("state ") {
                        writeln!(commands, "ok").expect("answer the browser script");
                    }
                }
                output.push(line);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("the browser journeys did not finish within {BROWSER_PATIENCE:?}:\n{}", output.join("\n"));
            }
        }
    }
    fake.resume_replies();
    let status = child.wait().expect("wait for node");
    let errors = errors.join().unwrap_or_default();
    let printed = output.join("\n");
    assert!(
        status.success(),
        "the browser journeys failed (node {node_version}):\n{printed}\n{errors}\nthe server's log:\n{}",
        server.log()
    );
    assert!(printed.contains("1 passed, 0 failed"), "{printed}\n{errors}");
    for page in ["home", "kanban", "run", "costs", "graph", "timeline"] {
        for width in [1280, 390] {
            let file = screenshots.join(format!("{page}-{width}.png"));
            assert!(file.metadata().is_ok_and(|metadata| metadata.len() > 0), "{} was saved", file.display());
        }
    }
}

/// The dashboard on a server that requires authentication (`ui/e2e/login.mjs`):
/// the login page, a wrong password refused, a change made through the
/// session (with its CSRF token), and logging out.
#[test]
fn heavy_the_dashboard_behind_a_login() {
    let root = repository_root();
    let node_version = require_tools(&root);
    let home = tempfile::tempdir().unwrap();
    let home_arg = home.path().to_str().unwrap();
    let steward = crate::support::steward_offline;
    steward(&["user", "add", "ada", "--admin", "--home", home_arg], "a browser password\n");
    let created = steward(
        &["--json", "token", "create", "--user", "ada", "--name", "e2e", "--scope", "admin", "--home", home_arg],
        "",
    );
    let token = serde_json::from_str::<serde_json::Value>(&created).expect("json")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let server = ServerOptions::default().home(home.path()).env("STEWARD_SERVER__REQUIRE_AUTH", "true").start();
    let output = Command::new("node")
        .arg(root.join("ui/e2e/login.mjs"))
        .current_dir(root.join("ui"))
        .env("STEWARD_URL", server.url())
        .env("STEWARD_TOKEN", &token)
        .env("STEWARD_USER", "ada")
        .env("STEWARD_PASSWORD", "a browser password")
        .output()
        .expect("run node");
    assert!(
        output.status.success(),
        "the login journey failed (node {node_version}):\n{}\n{}\nthe server's log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
}
