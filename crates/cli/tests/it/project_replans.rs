//! Spec-driven projects through the binary, the agents played by the fake
//! provider, where the spec or the model's graph is not what the work was
//! started on. An approved requirement edited while its task's run is at
//! work (hung on the model) restarts the task: the run is stopped, the task
//! is pending again, and the next run is told the new text; only that
//! run's work is validated and marks the task done. Edited while the
//! validator is still judging the old run's work, the verdict that lands
//! after the edit is refused and the task runs again on the new text. A task graph with a
//! cycle goes back to the agent with the cycle named, each refusal in the
//! project's events; a graph that keeps its cycle fails the phase, the
//! cycle in the project's failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Fault, ReceivedRequest, Reply, Script};

use crate::project_agents::{json_of, task_of, until};
use crate::support::{ServerOptions, ServerProcess};

const KEY: &str = "sk-ant-replans-0123456789abcdef";
/// The tool the Anthropic client uses for structured replies.
const STRUCTURED: &str = "structured_output";
const OLD: &str = "WHEN an item is added THE SYSTEM SHALL list it";
const NEW: &str = "WHEN an item is added THE SYSTEM SHALL list it with its price";
/// A brief whose agent never untangles its task graph.
const TANGLED: &str = "A shop planned in circles";

fn server_with(fake: &FakeLlm) -> ServerProcess {
    ServerOptions::default().env("ANTHROPIC_API_KEY", KEY).env("ANTHROPIC_BASE_URL", fake.anthropic_base_url()).start()
}

fn requirements(criterion: &str) -> Value {
    json!({"title": "Shop", "introduction": "Things to buy.", "open_questions": [], "requirements": [{
        "id": "R1", "title": "List items", "story": "As a shopper, I want a list, so that I buy what I need",
        "criteria": [{"id": "R1.1", "text": criterion}]
    }]})
}

fn design() -> Value {
    json!({"title": "Shop", "architecture": "A list kept in a file.", "data_model": "One item a line.",
           "error_handling": "A write that fails is retried.", "diagrams": [],
           "properties": [{"id": "P1", "text": "Every added item is listed", "requirements": ["R1.1"]}]})
}

/// Two tasks; with `cycle`, each depends on the other.
fn tasks(cycle: bool) -> Value {
    let task = |id: &str, after: &str| {
        json!({"id": id, "title": format!("Write {id}"), "requirements": ["R1.1"], "done_when": format!("{id} is written"),
               "parallel": false, "depends_on": if after.is_empty() { json!([]) } else { json!([after]) }})
    };
    let first = task("T001", if cycle { "T002" } else { "" });
    json!({"title": "Shop", "tasks": [first, task("T002", "T001")]})
}

/// The documents by phase: the tasks document has a cycle in the first
/// reply (and in every reply for the tangled brief), fixed when re-asked.
fn document(request: &ReceivedRequest) -> Value {
    let asked = request.user_texts().into_iter().next().unwrap_or_default();
    if asked.contains("Write the requirements document") {
        requirements(OLD)
    } else if asked.contains("Write the design document") {
        design()
    } else {
        let reasked = request.user_texts().len() > 1;
        tasks(asked.contains(TANGLED) || !reasked)
    }
}

fn is_validation(request: &ReceivedRequest) -> bool {
    request.system_text().unwrap_or_default().contains("You are the validator")
}

/// A run told the old text hangs on the model (it is at work when the spec
/// is edited); a run told the new text writes the priced list. The
/// validator passes only the priced list.
fn respond(request: &ReceivedRequest, hung: &AtomicBool) -> Option<Script> {
    let system = request.system_text().unwrap_or_default();
    if system.contains("one document of a spec-driven project") {
        return Some(Reply::tool_call(STRUCTURED, &document(request)).into());
    }
    if is_validation(request) {
        let pass = request.mentions("priced");
        let feedback = if pass { "The list has its prices." } else { "The prices are missing." };
        return Some(Reply::tool_call(STRUCTURED, &json!({"pass": pass, "feedback": feedback})).into());
    }
    let task = task_of(request)?;
    if request.tool_result_count() > 0 {
        return Some(Reply::text(format!("Wrote {task}.txt, priced.")).into());
    }
    if !request.mentions(NEW) {
        hung.store(true, Ordering::SeqCst);
        return Some(Fault::hang().into());
    }
    let write = json!({"path": format!("{task}.txt"), "content": "milk 1.20\n"});
    Some(Reply::tool_call("workspace__write", &write).into())
}

/// Runs answer at once (writing the priced list only when told the new
/// text); the validator's first verdict, a pass, is slow, so the spec can
/// be edited while it is on its way. `validating` says it was asked.
fn respond_slowly_validated(request: &ReceivedRequest, validating: &AtomicBool) -> Option<Script> {
    let system = request.system_text().unwrap_or_default();
    if system.contains("one document of a spec-driven project") {
        return Some(Reply::tool_call(STRUCTURED, &document(request)).into());
    }
    if is_validation(request) {
        let verdict = Reply::tool_call(STRUCTURED, &json!({"pass": true, "feedback": "Looks done."}));
        if validating.swap(true, Ordering::SeqCst) {
            return Some(verdict.into());
        }
        return Some(verdict.with_first_byte_delay(std::time::Duration::from_secs(3)).into());
    }
    let task = task_of(request)?;
    if request.tool_result_count() > 0 {
        return Some(Reply::text(format!("Wrote {task}.txt.")).into());
    }
    let content = if request.mentions(NEW) { "milk 1.20\n" } else { "milk\n" };
    Some(Reply::tool_call("workspace__write", &json!({"path": format!("{task}.txt"), "content": content})).into())
}

/// A server whose agent wrote the project's documents through automatic
/// gates, and the project's id, its tasks queued by `project run`.
fn running_project(fake: &FakeLlm) -> (ServerProcess, String) {
    let server = server_with(fake);
    json_of(&server, &["agent", "create", "Builder", "--goal", "Build the shop"]);
    let created =
        json_of(&server, &["project", "new", "Shop", "--brief", "A small shop", "--agent", "Builder", "--automatic"]);
    let id = created["id"].to_string();
    until(&server, &id, "the documents pass their automatic gates", || {
        json_of(&server, &["project", "show", &id])["phase"] == "execution"
    });
    json_of(&server, &["project", "run", &id]);
    (server, id)
}

/// `steward project edit` with the criterion R1.1 reworded as `criterion`.
fn edit_requirements(server: &ServerProcess, id: &str, criterion: &str) -> Value {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("requirements.json");
    std::fs::write(&file, requirements(criterion).to_string()).unwrap();
    json_of(server, &["project", "edit", id, "--phase", "requirements", &file.display().to_string()])
}

/// `(kind, data)` of the project's events, oldest first.
fn project_events(server: &ServerProcess, id: &str) -> Vec<(String, Value)> {
    let page = json_of(server, &["events", "--kind", "project.", "--limit", "500"]);
    let mut events: Vec<&Value> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["subject"] == "project" && event["subject_id"].as_i64() == id.parse().ok())
        .collect();
    events.sort_by_key(|event| event["id"].as_i64());
    events.into_iter().map(|event| (event["kind"].as_str().unwrap().to_string(), event["data"].clone())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_whose_requirement_is_edited_while_it_runs_starts_again_on_the_new_text() {
    let fake = FakeLlm::start().await.unwrap();
    let hung = Arc::new(AtomicBool::new(false));
    let responder_hung = hung.clone();
    fake.set_responder(move |request| respond(request, &responder_hung));
    let (server, id) = running_project(&fake);
    let show = || json_of(&server, &["project", "show", &id]);
    until(&server, &id, "T001's run is at work on the old text", || hung.load(Ordering::SeqCst));
    let running = show();
    assert_eq!(running["tasks"][0]["state"], "running", "{running}");
    let old_run = running["tasks"][0]["run_id"].as_i64().expect("T001's run is attached");

    let edited = edit_requirements(&server, &id, NEW);
    let t001 = &edited["tasks"][0];
    assert_eq!((&t001["state"], &t001["run_id"], &t001["replans"]), (&json!("pending"), &json!(null), &json!(1)));
    assert_eq!(edited["tasks"][1]["state"], "pending");

    until(&server, &id, "the project is done", || show()["phase"] == "done");
    let done = show();
    let t001 = &done["tasks"][0];
    assert_eq!((&t001["state"], &t001["rounds"]), (&json!("done"), &json!(0)), "{done}");
    assert_ne!(t001["run_id"].as_i64(), Some(old_run), "the work that landed is a new run's");
    let told_new =
        fake.requests().iter().any(|request| task_of(request).as_deref() == Some("T001") && request.mentions(NEW));
    assert!(told_new, "T001's next run was told the new text");
    let validations: Vec<ReceivedRequest> = fake.requests().into_iter().filter(is_validation).collect();
    let about_t001: Vec<&ReceivedRequest> =
        validations.iter().filter(|request| request.mentions("Task T001")).collect();
    assert_eq!(about_t001.len(), 1, "only the new run's work was validated");
    assert!(about_t001[0].mentions(NEW) && about_t001[0].mentions("priced"), "checked against the new text");

    let old_run = old_run.to_string();
    until(&server, &id, "the run on the old text is stopped", || {
        json_of(&server, &["runs", "get", &old_run])["outcome"] == "cancelled"
    });
    let events = project_events(&server, &id);
    let restart = events.iter().find(|(kind, data)| kind == "project.task_replanned" && data["task"] == "T001");
    let (_, restart) = restart.expect("T001's re-plan is an event");
    assert_eq!((&restart["from"], &restart["to"]), (&json!("running"), &json!("pending")), "{restart}");
    assert!(restart["reason"].as_str().unwrap().contains("its run is stopped"), "{restart}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_graph_with_a_cycle_goes_back_to_the_agent_with_the_cycle_named() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(|request| respond(request, &AtomicBool::new(false)));
    let server = server_with(&fake);
    json_of(&server, &["agent", "create", "Planner", "--goal", "Plan the shop"]);
    let tasks_asked = |fake: &FakeLlm, brief: &str| -> Vec<ReceivedRequest> {
        let asked = |request: &ReceivedRequest| {
            request
                .user_texts()
                .first()
                .is_some_and(|text| text.contains("Write the tasks document") && text.contains(brief))
        };
        fake.requests().into_iter().filter(asked).collect()
    };

    // Fixed when re-asked: the second reply passes the automatic gate.
    let created =
        json_of(&server, &["project", "new", "Shop", "--brief", "A small shop", "--agent", "Planner", "--automatic"]);
    let id = created["id"].to_string();
    let show = |id: &str| json_of(&server, &["project", "show", id]);
    until(&server, &id, "the fixed graph passes its gate", || show(&id)["phase"] == "execution");
    let project = show(&id);
    assert_eq!(project["tasks"].as_array().unwrap().len(), 2, "{project}");
    assert_eq!(project["failure"], json!(null), "{project}");
    let asked = tasks_asked(&fake, "A small shop");
    assert_eq!(asked.len(), 2, "asked once more after the cycle");
    let cycle_named =
        |request: &ReceivedRequest| request.mentions("T001 → T002 → T001") || request.mentions("T002 → T001 → T002");
    assert!(!cycle_named(&asked[0]) && cycle_named(&asked[1]), "the re-ask names the cycle");
    let refusals: Vec<Value> = project_events(&server, &id)
        .into_iter()
        .filter(|(kind, _)| kind == "project.document_refused")
        .map(|(_, data)| data)
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!((&refusals[0]["phase"], &refusals[0]["attempt"]), (&json!("tasks"), &json!(1)));
    assert!(refusals[0]["problem"].as_str().unwrap().contains("cycle"), "{refusals:?}");

    // Never fixed: three replies, then the phase fails with the cycle named.
    let created =
        json_of(&server, &["project", "new", "Loop", "--brief", TANGLED, "--agent", "Planner", "--automatic"]);
    let id = created["id"].to_string();
    until(&server, &id, "the tangled graph's failure is recorded", || show(&id)["failure"].is_string());
    let project = show(&id);
    assert_eq!(project["phase"], "tasks", "{project}");
    let failure = project["failure"].as_str().unwrap();
    assert!(failure.starts_with("the agent's tasks document was refused: after 3 attempts"), "{failure}");
    assert!(failure.contains("cycle: T00"), "the cycle is named: {failure}");
    assert_eq!(tasks_asked(&fake, TANGLED).len(), 3, "at most two re-asks");
    let events = project_events(&server, &id);
    let kinds: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|kind| **kind == "project.document_refused").count(), 3, "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"project.agent_failed"), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_on_the_old_text_that_lands_after_the_edit_does_not_mark_the_task_done() {
    let fake = FakeLlm::start().await.unwrap();
    let validating = Arc::new(AtomicBool::new(false));
    let responder_validating = validating.clone();
    fake.set_responder(move |request| respond_slowly_validated(request, &responder_validating));
    let (server, id) = running_project(&fake);
    let show = || json_of(&server, &["project", "show", &id]);
    until(&server, &id, "the validator judges T001's first run", || validating.load(Ordering::SeqCst));
    let judged = show();
    assert_eq!(judged["tasks"][0]["state"], "validating", "{judged}");
    let first_run = judged["tasks"][0]["run_id"].as_i64().unwrap();

    let edited = edit_requirements(&server, &id, NEW);
    assert_eq!(edited["tasks"][0]["state"], "pending", "{edited}");

    until(&server, &id, "the project is done", || show()["phase"] == "done");
    let done = show();
    assert_ne!(done["tasks"][0]["run_id"].as_i64(), Some(first_run), "the old run's pass did not make T001 done");
    let runs_told_new = fake
        .requests()
        .iter()
        .filter(|request| task_of(request).as_deref() == Some("T001") && request.mentions(NEW))
        .count();
    assert!(runs_told_new > 0, "T001 ran again on the new text");
    let verdicts = fake.requests().into_iter().filter(is_validation).filter(|r| r.mentions("Task T001")).count();
    assert_eq!(verdicts, 2, "the late verdict was set aside and the new work judged");
    let changes: Vec<Value> = project_events(&server, &id)
        .into_iter()
        .filter(|(kind, data)| kind == "project.task_changed" && data["task"] == "T001" && data["to"] == "done")
        .map(|(_, data)| data)
        .collect();
    assert_eq!(changes.len(), 1, "T001 became done once, for the new text: {changes:?}");
}
