//! The light path through the binary, the agent played by the fake
//! provider: `project quick "BRIEF"` gets requirements, design and tasks
//! from one model call, says what was written, and the three wait at one
//! gate; sent back with a comment, one call (the comment in its prompt)
//! writes the three again; approved once, the tasks run to done. A reply
//! whose task graph has a cycle is sent back to the model with the cycle
//! named, and when it never fits nothing is stored; with `--auto` the three
//! pass the gates alone.

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, ReceivedRequest, Reply, Script};

use crate::support::{ServerOptions, ServerProcess, steward};

const KEY: &str = "sk-ant-quick-0123456789abcdef";
/// The tool the Anthropic client uses for structured replies.
const STRUCTURED: &str = "structured_output";
/// What the light path's system prompt says.
const QUICK: &str = "three documents of a small spec-driven project in one go";
const COMMENT: &str = "Remember the reader's choice";

fn json_of(server: &ServerProcess, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    steward(server.url(), &all).json()
}

/// The three documents; revised, a second requirement; `cycle`, T001 and
/// T002 wait for each other.
fn three(revised: bool, cycle: bool) -> Value {
    let mut requirements = vec![json!({
        "id": "R1", "title": "Switch", "story": "As a reader, I want a dark page, so that my eyes rest",
        "criteria": [{"id": "R1.1", "text": "WHEN the switch is on THE SYSTEM SHALL show the dark theme"},
                     {"id": "R1.2", "text": "WHEN the switch is off THE SYSTEM SHALL show the light theme"}]
    })];
    if revised {
        requirements.push(json!({
            "id": "R2", "title": "Remember", "story": "As a reader, I want my choice kept",
            "criteria": [{"id": "R2.1", "text": "WHEN the page reloads THE SYSTEM SHALL keep the theme chosen"}]
        }));
    }
    let task = |id: &str, depends_on: &[&str], parallel: bool| {
        json!({"id": id, "title": format!("Write {id}.txt"), "requirements": ["R1.1"],
               "done_when": format!("{id}.txt exists"), "parallel": parallel, "depends_on": depends_on})
    };
    let first = if cycle { task("T001", &["T003"], false) } else { task("T001", &[], false) };
    json!({
        "requirements": {"title": "Dark mode", "requirements": requirements, "open_questions": []},
        "design": {"title": "Dark mode", "architecture": "A CSS class on the body.", "data_model": "One flag.",
                   "error_handling": "Unknown values fall back to light.",
                   "diagrams": [{"title": "Switching", "mermaid": "sequenceDiagram\n  Reader->>Page: switch"}],
                   "properties": [{"id": "P1", "text": "The theme follows the switch", "requirements": ["R1.1"]}]},
        "tasks": {"title": "Dark mode", "tasks": [
            first,
            task("T002", &["T001"], true),
            task("T003", &["T001"], true),
            task("T004", &["T002", "T003"], false),
        ]}
    })
}

/// The task a run works on, from its instruction.
fn task_of(request: &ReceivedRequest) -> Option<String> {
    let instruction = request.user_texts().into_iter().next()?;
    let at = instruction.find("Your task: ")? + "Your task: ".len();
    Some(instruction[at..].split_whitespace().next()?.to_string())
}

/// The agent: the three documents (revised when the comment is in the
/// prompt, with a cycle when the brief asks for one); a task's run writes
/// its file; the validator passes everything.
fn respond(request: &ReceivedRequest) -> Option<Script> {
    let system = request.system_text().unwrap_or_default();
    let asked = request.user_texts().into_iter().next().unwrap_or_default();
    if system.contains(QUICK) {
        let documents = three(asked.contains(COMMENT), asked.contains("tangled"));
        return Some(Reply::tool_call(STRUCTURED, &documents).into());
    }
    if system.contains("You are the validator") {
        return Some(Reply::tool_call(STRUCTURED, &json!({"pass": true, "feedback": "Done as asked."})).into());
    }
    let task = task_of(request)?;
    if request.tool_result_count() > 0 {
        return Some(Reply::text(format!("Wrote {task}.txt.")).into());
    }
    Some(Reply::tool_call("workspace__write", &json!({"path": format!("{task}.txt"), "content": "ok\n"})).into())
}

fn quick_calls(fake: &FakeLlm) -> Vec<ReceivedRequest> {
    fake.requests()
        .into_iter()
        .filter(|request| request.system_text().is_some_and(|text| text.contains(QUICK)))
        .collect()
}

fn server_with(fake: &FakeLlm) -> ServerProcess {
    ServerOptions::default().env("ANTHROPIC_API_KEY", KEY).env("ANTHROPIC_BASE_URL", fake.anthropic_base_url()).start()
}

/// Waits until `condition` holds about project `id`, or panics with it.
fn until(server: &ServerProcess, id: &str, what: &str, mut condition: impl FnMut(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let project = json_of(server, &["project", "show", id]);
        if condition(&project) {
            return project;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}: {project}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_project_is_written_in_one_call_revised_once_approved_once_and_run() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(respond);
    let server = server_with(&fake);
    json_of(&server, &["agent", "create", "Builder", "--goal", "Build small things"]);

    let brief = "Add a dark mode.\nThe page gets a switch between a light and a dark theme.";
    let out = steward(server.url(), &["project", "quick", brief, "--check", "test -f README.md || true"]);
    let text = out.ok();
    assert_eq!(quick_calls(&fake).len(), 1, "one model call wrote the three documents");
    assert!(text.contains("\"Add a dark mode\": the agent wrote the three documents in one go"), "{text}");
    assert!(text.contains("1 requirement with 2 acceptance criteria"), "{text}");
    assert!(text.contains("1 correctness property, 1 diagram"), "{text}");
    assert!(text.contains("4 tasks, 2 in parallel"), "{text}");
    let id = text.split_whitespace().nth(1).unwrap().to_string();
    assert!(text.contains(&format!("steward project approve {id}")), "the next step is named: {text}");
    assert!(text.contains("decide in the approvals inbox with the rest: steward approvals"), "{text}");

    let shown = steward(server.url(), &["project", "show", &id]).ok().to_string();
    assert!(shown.contains("requirements (quick: the three documents written in one go"), "{shown}");
    assert!(shown.contains(&format!("Decide: steward project approve {id}")), "{shown}");
    assert!(shown.contains("waits in the approvals inbox too: steward approvals"), "{shown}");
    let project = json_of(&server, &["project", "show", &id]);
    assert_eq!(project["quick"], true);
    assert_eq!(project["phase"], "requirements");
    assert_eq!(project["checks"], json!(["test -f README.md || true"]));
    let waiting: Vec<(&str, &str)> = project["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["phase"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    assert_eq!(waiting, [("requirements", "proposed"), ("design", "proposed"), ("tasks", "proposed")]);

    // Sent back with a comment: one call writes the three again, told the comment.
    let rejected = json_of(&server, &["project", "reject", &id, "--comment", COMMENT]);
    assert!(rejected["documents"].as_array().unwrap().iter().all(|d| d["status"] == "rejected"), "{rejected}");
    let revised = until(&server, &id, "the three are written again", |project| {
        project["documents"].as_array().unwrap().iter().filter(|d| d["status"] == "proposed").count() == 3
    });
    let calls = quick_calls(&fake);
    assert_eq!(calls.len(), 2, "one call for the revision");
    assert!(calls[1].mentions(COMMENT), "the reviewer's comment reaches the agent");
    let latest =
        revised["documents"].as_array().unwrap().iter().find(|d| d["phase"] == "requirements" && d["version"] == 2);
    assert_eq!(latest.unwrap()["document"]["requirements"][1]["id"], "R2");

    // One approval: straight to execution-ready tasks, then they run.
    let approved = steward(server.url(), &["project", "approve", &id]);
    assert!(approved.ok().contains(&format!("Next: steward project run {id}")), "{}", approved.stdout);
    let approved = json_of(&server, &["project", "show", &id]);
    assert_eq!(approved["phase"], "execution");
    assert_eq!(approved["tasks"].as_array().unwrap().len(), 4);
    json_of(&server, &["project", "run", &id]);
    let done = until(&server, &id, "the project is done", |project| project["phase"] == "done");
    assert!(done["tasks"].as_array().unwrap().iter().all(|task| task["state"] == "done"), "{done}");
    assert_eq!(quick_calls(&fake).len(), 2, "no document was asked for one phase at a time");

    let events = steward(server.url(), &["--json", "events", "--limit", "500"]).json().to_string();
    for phase in ["design", "tasks", "execution", "done"] {
        assert!(events.contains(&format!("\"to\":\"{phase}\"")), "the project entered {phase}: {events}");
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("dark").display().to_string();
    json_of(&server, &["project", "export", &id, &dir]);
    let tasks = std::fs::read_to_string(std::path::Path::new(&dir).join("tasks.md")).unwrap();
    assert!(tasks.contains("[x]") && tasks.contains("T004"), "the export reads the quick documents: {tasks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_reply_with_a_cycle_is_not_stored_half_and_auto_passes_the_gates() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(respond);
    let server = server_with(&fake);
    json_of(&server, &["agent", "create", "Builder", "--goal", "Build small things"]);
    json_of(&server, &["agent", "create", "Helper", "--goal", "Help"]);

    let alone = steward(server.url(), &["project", "quick", "A tangled plan"]);
    assert!(alone.failed().contains("you have 2 agents"), "{}", alone.stderr);

    let out = steward(server.url(), &["project", "quick", "A tangled plan", "--agent", "Builder"]);
    let stderr = out.failed();
    assert!(stderr.contains("the agent's three documents were refused: after 3 attempts"), "{stderr}");
    assert!(stderr.contains("tasks.tasks") && stderr.contains("cycle"), "the document and field are named: {stderr}");
    let calls = quick_calls(&fake);
    assert_eq!(calls.len(), 3, "the reply was sent back twice before giving up");
    assert!(calls[1].mentions("T001 → T003 → T001") || calls[1].mentions("T003 → T001 → T003"), "the cycle is named");
    let projects = json_of(&server, &["project", "list"]);
    let id = projects["projects"][0]["id"].to_string();
    let project = json_of(&server, &["project", "show", &id]);
    assert_eq!(project["documents"], json!([]), "nothing half-written: {project}");
    assert_eq!(project["phase"], "requirements");

    let text = steward(
        server.url(),
        &["project", "quick", "A dark mode", "--agent", "Builder", "--auto", "--guardian-auto-cancel", "true"],
    )
    .ok()
    .to_string();
    assert!(text.contains("passed the automatic gates; the project is in execution"), "{text}");
    let id = text.split_whitespace().nth(1).unwrap().to_string();
    assert!(text.contains(&format!("Next: steward project run {id}")), "{text}");
    let project = json_of(&server, &["project", "show", &id]);
    assert_eq!(project["tasks"].as_array().unwrap().len(), 4, "{project}");
    assert!(project["documents"].as_array().unwrap().iter().all(|d| d["status"] == "approved"), "{project}");
    assert_eq!(project["guardian"]["auto_cancel"], true, "the quick project keeps its guardian policy: {project}");
}
