//! Journey J3 through the binary, the agents played by the fake provider:
//! a brief → requirements written by the project's agent → sent back with
//! a comment → revised (the comment in the agent's prompt) → approved →
//! design → approved → a task graph of four (one chain, two parallel
//! tasks) → `project run` in worktrees of a temporary git repository → the
//! validator sends one task back once with feedback, it is fixed → done,
//! each task's work committed on its own branch. In the middle of the
//! execution the server is killed with `kill -9`; `project run` again
//! resumes, and the fake sees no further calls for the tasks already done.
//! The finished project's export matches its snapshots and imports back as
//! the same task graph. The same gates wait in the approvals inbox: sent
//! back and approved there with `steward approvals`, the project moves on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use steward_fake_llm::{FakeLlm, Fault, ReceivedRequest, Reply, Script};

use crate::support::{ServerOptions, ServerProcess, git, steward};

const KEY: &str = "sk-ant-projects-0123456789abcdef";
/// The tool the Anthropic client uses for structured replies.
const STRUCTURED: &str = "structured_output";
const COMMENT: &str = "Say what happens when the shop is offline";
const FEEDBACK: &str = "T003.txt must say the prices are checked";

pub(crate) fn json_of(server: &ServerProcess, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    steward(server.url(), &all).json()
}

fn requirements(revised: bool) -> Value {
    let mut requirements = vec![json!({
        "id": "R1", "title": "List items", "story": "As a shopper, I want a list, so that I buy what I need",
        "criteria": [{"id": "R1.1", "text": "WHEN an item is added THE SYSTEM SHALL list it"}]
    })];
    if revised {
        requirements.push(json!({
            "id": "R2", "title": "Work offline", "story": "As a shopper, I want to keep working offline",
            "criteria": [{"id": "R2.1", "text": "WHEN the shop is offline THE SYSTEM SHALL queue changes"}]
        }));
    }
    json!({"title": "Shop", "introduction": "A small shop.", "requirements": requirements, "open_questions": []})
}

fn design() -> Value {
    json!({"title": "Shop", "architecture": "A list kept in files.", "data_model": "One item a line.",
           "error_handling": "A write that fails is retried.",
           "diagrams": [{"title": "Adding", "mermaid": "sequenceDiagram\n  User->>Shop: add"}],
           "properties": [{"id": "P1", "text": "Every added item is listed", "requirements": ["R1.1"]}]})
}

fn tasks() -> Value {
    let task = |id: &str, depends_on: &[&str], parallel: bool| {
        json!({"id": id, "title": format!("Write {id}.txt"), "requirements": ["R1.1"],
               "done_when": format!("{id}.txt exists"), "parallel": parallel, "depends_on": depends_on})
    };
    json!({"title": "Shop", "tasks": [
        task("T001", &[], false),
        task("T002", &["T001"], true),
        task("T003", &["T001"], true),
        task("T004", &["T002", "T003"], false),
    ]})
}

/// The task a run works on, from its instruction.
pub(crate) fn task_of(request: &ReceivedRequest) -> Option<String> {
    let instruction = request.user_texts().into_iter().next()?;
    let at = instruction.find("Your task: ")? + "Your task: ".len();
    Some(instruction[at..].split_whitespace().next()?.to_string())
}

/// What each agent says: documents by phase, a task's run writes its file
/// (T003's first attempt leaves out the prices), the validator passes a
/// file unless it is T003's first. T004's first call hangs once, so the
/// server can be killed while it works.
fn respond(request: &ReceivedRequest, hung: &AtomicBool) -> Option<Script> {
    let system = request.system_text().unwrap_or_default();
    let asked = request.user_texts().into_iter().next().unwrap_or_default();
    if system.contains("one document of a spec-driven project") {
        let document = if asked.contains("Write the requirements document") {
            requirements(asked.contains(COMMENT))
        } else if asked.contains("Write the design document") {
            design()
        } else {
            tasks()
        };
        return Some(Reply::tool_call(STRUCTURED, &document).into());
    }
    if system.contains("You are the validator") {
        let pass = !asked.contains("Task T003") || asked.contains("prices checked");
        let feedback = if pass { "Done as asked." } else { FEEDBACK };
        return Some(Reply::tool_call(STRUCTURED, &json!({"pass": pass, "feedback": feedback})).into());
    }
    let task = task_of(request)?;
    if request.tool_result_count() > 0 {
        return Some(Reply::text(format!("Wrote {task}.txt.")).into());
    }
    if task == "T004" && !hung.swap(true, Ordering::SeqCst) {
        return Some(Fault::hang().into());
    }
    let fixed = request.user_texts()[0].contains(FEEDBACK);
    let content = if fixed { format!("{task}: prices checked\n") } else { format!("{task}\n") };
    Some(Reply::tool_call("workspace__write", &json!({"path": format!("{task}.txt"), "content": content})).into())
}

/// How many of the fake's requests were a run's or the validator's calls about `task`.
fn calls_about(fake: &FakeLlm, task: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|request| {
            task_of(request).as_deref() == Some(task)
                || request.user_texts().first().is_some_and(|text| text.starts_with(&format!("Task {task} ")))
        })
        .count()
}

/// Waits until `condition` holds; on a timeout, says what the server saw.
pub(crate) fn until(server: &ServerProcess, id: &str, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    while !condition() {
        if std::time::Instant::now() > deadline {
            let project = json_of(server, &["project", "show", id]);
            let jobs = steward(server.url(), &["job", "list"]).stdout;
            let log = server.log();
            let tail: String =
                log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
            panic!("timed out waiting until {what}\nproject: {project}\njobs:\n{jobs}\nlog:\n{tail}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn task_states(project: &Value) -> Vec<(String, String)> {
    project["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| (task["id"].as_str().unwrap().to_string(), task["state"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_j3_a_brief_becomes_validated_work_in_worktrees_and_resumes_after_kill_9() {
    let fake = FakeLlm::start().await.unwrap();
    let hung = Arc::new(AtomicBool::new(false));
    let responder_hung = hung.clone();
    fake.set_responder(move |request| respond(request, &responder_hung));
    let mut server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();

    let folder = tempfile::tempdir().unwrap();
    let repo = folder.path();
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "# Shop\n").unwrap();
    git(repo, &["add", "README.md"]);
    git(repo, &["commit", "-q", "-m", "Start the shop"]);

    json_of(&server, &["agent", "create", "Builder", "--goal", "Build the shop"]);
    let at = repo.display().to_string();
    let created = json_of(
        &server,
        &[
            "project",
            "new",
            "Shop",
            "--brief",
            "A small shop",
            "--agent",
            "Builder",
            "--repo",
            &at,
            "--max-rounds",
            "1",
        ],
    );
    let id = created["id"].to_string();
    let show = |server: &ServerProcess| json_of(server, &["project", "show", &id]);
    let waiting = |phase: &str, version: u64| {
        let phase = phase.to_string();
        move |project: &Value| {
            project["documents"].as_array().unwrap().iter().any(|document| {
                document["phase"] == phase.as_str()
                    && document["version"] == version
                    && document["status"] == "proposed"
            })
        }
    };

    // Requirements: written by the agent, sent back with a comment, revised.
    let first = waiting("requirements", 1);
    until(&server, &id, "the agent proposes requirements", || first(&show(&server)));
    json_of(&server, &["project", "reject", &id, "--comment", COMMENT]);
    let second = waiting("requirements", 2);
    until(&server, &id, "the agent proposes revised requirements", || second(&show(&server)));
    let revision = fake.requests().into_iter().rfind(|request| request.mentions("Write the requirements")).unwrap();
    assert!(revision.mentions(COMMENT), "the reviewer's comment reaches the agent");
    let revised = show(&server);
    let latest = revised["documents"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(latest["document"]["requirements"][1]["id"], "R2", "{latest}");
    json_of(&server, &["project", "approve", &id]);

    // Design, then the task graph.
    let design_waits = waiting("design", 1);
    until(&server, &id, "the agent proposes a design", || design_waits(&show(&server)));
    json_of(&server, &["project", "approve", &id]);
    let tasks_wait = waiting("tasks", 1);
    until(&server, &id, "the agent proposes the tasks", || tasks_wait(&show(&server)));
    let approved = json_of(&server, &["project", "approve", &id]);
    assert_eq!(approved["phase"], "execution");
    assert_eq!(task_states(&approved).len(), 4);

    // Execution: T001, then T002 and T003 side by side, then T004, whose
    // first call hangs; the server dies there.
    let ran = json_of(&server, &["project", "run", &id]);
    assert!(ran["tasks"].as_array().unwrap().iter().all(|task| task["job_id"].is_i64()), "{ran}");
    until(&server, &id, "T004's run is at work", || hung.load(Ordering::SeqCst));
    let before = show(&server);
    let states = task_states(&before);
    assert_eq!(&states[..3], [("T001", "done"), ("T002", "done"), ("T003", "done")].map(|(a, b)| (a.into(), b.into())));
    let t003 = &before["tasks"][2];
    assert_eq!((t003["rounds"].as_u64(), t003["feedback"].as_str()), (Some(1), Some("Done as asked.")));
    let sent_back =
        fake.requests().iter().any(|request| task_of(request).as_deref() == Some("T003") && request.mentions(FEEDBACK));
    assert!(sent_back, "T003's second run was told the validator's feedback");
    let calls: Vec<usize> = ["T001", "T002", "T003"].iter().map(|task| calls_about(&fake, task)).collect();
    server.kill_hard();

    server.restart();
    let resumed = json_of(&server, &["project", "run", &id]);
    assert_eq!(task_states(&resumed)[0].1, "done");
    until(&server, &id, "the project is done", || show(&server)["phase"] == "done");
    let after: Vec<usize> = ["T001", "T002", "T003"].iter().map(|task| calls_about(&fake, task)).collect();
    assert_eq!(after, calls, "no task done before the crash was asked about again");
    let done = show(&server);
    assert!(task_states(&done).iter().all(|(_, state)| state == "done"), "{done}");

    // Each task's work is on its own branch; T004 built on T002's.
    let branches = git(repo, &["branch", "--format=%(refname:short)"]);
    let prefix = format!("steward/project-{id}/");
    let names: Vec<&str> = branches.lines().filter(|name| name.starts_with("steward/")).collect();
    assert_eq!(names, ["T001", "T002", "T003", "T004"].map(|task| format!("{prefix}{task}")), "{branches}");
    let fixed = git(repo, &["show", &format!("{prefix}T003:T003.txt")]);
    assert_eq!(fixed, "T003: prices checked\n");
    let t004 = git(repo, &["ls-tree", "--name-only", &format!("{prefix}T004")]);
    assert_eq!(t004.lines().collect::<Vec<_>>(), ["README.md", "T001.txt", "T002.txt", "T004.txt"]);
    assert_eq!(git(repo, &["status", "--porcelain"]), "", "the repository's own checkout is untouched");

    // The export matches its snapshots, and imports back as the same graph:
    // task ids, dependencies, parallel marks, requirements and states.
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("shop").display().to_string();
    json_of(&server, &["project", "export", &id, &dir]);
    for name in ["requirements.md", "design.md", "tasks.md"] {
        let text = std::fs::read_to_string(std::path::Path::new(&dir).join(name)).unwrap();
        insta::assert_snapshot!(format!("j3_export_{name}"), text);
    }
    let imported = json_of(&server, &["project", "import", &dir]);
    let again = json_of(&server, &["project", "show", &imported["project"]["id"].to_string()]);
    let graph = |project: &Value| -> Vec<Value> {
        let tasks = project["tasks"].as_array().unwrap();
        tasks.iter().map(|t| json!([t["id"], t["state"], t["depends_on"], t["parallel"], t["requirements"]])).collect()
    };
    assert_eq!(graph(&again), graph(&done), "the export imports back as the same task graph");
    assert_eq!(imported["problems"], json!([]), "every line of the export is read back");
}

/// The requirements gate decided in the approvals inbox: sent back with a
/// comment (which reaches the agent's revision), the revision approved
/// there, and the project moves on to design, whose gate then waits in the
/// inbox too; `project approve` resolves that one, leaving nothing stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requirements_gate_is_sent_back_and_approved_through_the_approvals_inbox() {
    let fake = FakeLlm::start().await.unwrap();
    let never_hangs = Arc::new(AtomicBool::new(true));
    fake.set_responder(move |request| respond(request, &never_hangs));
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    json_of(&server, &["agent", "create", "Builder", "--goal", "Build the shop"]);
    let created = json_of(&server, &["project", "new", "Shop", "--brief", "A small shop", "--agent", "Builder"]);
    let id = created["id"].to_string();
    let pending = || json_of(&server, &["approvals"])["approvals"].as_array().cloned().unwrap_or_default();
    let gate_waits = |phase: &str, version: u64| {
        let found = pending();
        let gate = found.iter().find(|approval| {
            approval["tool"] == "project.gate"
                && approval["arguments"]["phase"] == phase
                && approval["arguments"]["version"] == version
        });
        gate.cloned()
    };

    until(&server, &id, "the requirements wait in the inbox", || gate_waits("requirements", 1).is_some());
    let first = gate_waits("requirements", 1).unwrap();
    assert_eq!(first["project_id"].to_string(), id, "{first}");
    assert_eq!((&first["run_id"], &first["arguments"]["title"]), (&Value::Null, &json!("Shop")), "{first}");
    let listed = steward(server.url(), &["approvals"]);
    assert!(listed.ok().contains(&format!("project {id}")), "the list names the project: {}", listed.stdout);
    let first_id = first["id"].to_string();
    let sent_back = steward(server.url(), &["approvals", "reject", &first_id, "--reason", COMMENT]);
    assert!(sent_back.ok().contains("requirements document"), "{}", sent_back.stdout);

    until(&server, &id, "the agent's revision waits in the inbox", || gate_waits("requirements", 2).is_some());
    let revision = fake.requests().into_iter().rfind(|request| request.mentions("Write the requirements")).unwrap();
    assert!(revision.mentions(COMMENT), "the comment given in the inbox reaches the agent");
    let project = json_of(&server, &["project", "show", &id]);
    assert_eq!(
        (&project["documents"][0]["status"], &project["documents"][0]["comment"]),
        (&json!("rejected"), &json!(COMMENT))
    );
    let late = steward(server.url(), &["approvals", "approve", &first_id]);
    assert!(late.failed().contains("already rejected"), "{}", late.stderr);
    let second = gate_waits("requirements", 2).unwrap();
    json_of(&server, &["approvals", "approve", &second["id"].to_string()]);

    until(&server, &id, "the design waits in the inbox", || gate_waits("design", 1).is_some());
    let moved_on = json_of(&server, &["project", "show", &id]);
    assert_eq!(moved_on["phase"], "design");
    assert_eq!(moved_on["documents"][1]["status"], "approved", "{moved_on}");
    json_of(&server, &["project", "approve", &id]);
    assert!(gate_waits("design", 1).is_none(), "project approve resolves the inbox's approval");
    let decided = json_of(&server, &["approvals", "--all"])["approvals"].clone();
    let statuses: Vec<(String, String)> = decided
        .as_array()
        .unwrap()
        .iter()
        // The tasks document may wait already: the agent writes it once the design passes.
        .filter(|approval| approval["status"] != "pending")
        .map(|approval| (approval["call_id"].as_str().unwrap().into(), approval["status"].as_str().unwrap().into()))
        .collect();
    let expected = [("requirements-v1", "rejected"), ("requirements-v2", "approved"), ("design-v1", "approved")];
    assert_eq!(statuses, expected.map(|(call, status)| (call.to_string(), status.to_string())));
    let events = steward(server.url(), &["--json", "events", "--limit", "200"]).json().to_string();
    assert!(events.contains("approval.requested") && events.contains("approval.decided"), "{events}");
}

/// An all-automatic project writes its documents alone; a design reply that
/// never fits the schema is recorded on the project, and the phase waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_gates_let_the_agent_s_documents_through_and_a_bad_reply_is_recorded() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(|request| {
        let asked = request.user_texts().into_iter().next().unwrap_or_default();
        let document = if asked.contains("Write the requirements document") {
            requirements(false)
        } else {
            json!({"title": "Shop", "architecture": 42})
        };
        Some(Reply::tool_call(STRUCTURED, &document).into())
    });
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    json_of(&server, &["agent", "create", "Planner", "--goal", "Plan the shop"]);
    let created =
        json_of(&server, &["project", "new", "Shop", "--brief", "A shop", "--agent", "Planner", "--automatic"]);
    let id = created["id"].to_string();
    until(&server, &id, "the design's failure is recorded", || {
        json_of(&server, &["project", "show", &id])["failure"].is_string()
    });
    let project = json_of(&server, &["project", "show", &id]);
    assert_eq!(project["phase"], "design", "the requirements passed their automatic gate: {project}");
    assert_eq!(project["documents"][0]["status"], "approved");
    let failure = project["failure"].as_str().unwrap();
    assert!(failure.starts_with("the agent's design document did not match the schema: after 3 attempts"), "{failure}");
    assert!(failure.contains("/architecture"), "the problem is named: {failure}");
    let shown = steward(server.url(), &["project", "show", &id]);
    assert!(shown.ok().contains("did not match the schema"), "{}", shown.stdout);
    let asked = json_of(&server, &["approvals", "--all"]);
    assert_eq!(asked["approvals"], json!([]), "an automatic gate asks no one");
}

/// Discovered work: T001's run adds T002 with `project.add_task`; the
/// project wants a person to approve that, so the call waits in the
/// approvals inbox; once approved, T002 joins the graph after T001, runs,
/// and the project finishes with both. The project's check command runs in
/// each task's workspace after the validator passes it: it fails once for
/// each task (no done.txt yet), sending it back with its output, then passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discovered_task_joins_once_approved_and_a_failing_check_sends_work_back() {
    let fake = FakeLlm::start().await.unwrap();
    fake.set_responder(|request| {
        let system = request.system_text().unwrap_or_default();
        let asked = request.user_texts().into_iter().next().unwrap_or_default();
        if system.contains("one document of a spec-driven project") {
            let document = if asked.contains("Write the requirements document") {
                requirements(false)
            } else if asked.contains("Write the design document") {
                design()
            } else {
                json!({"title": "Shop", "tasks": [{"id": "T001", "title": "Write the list", "requirements": ["R1.1"],
                       "done_when": "the list exists", "parallel": false, "depends_on": []}]})
            };
            return Some(Reply::tool_call(STRUCTURED, &document).into());
        }
        if system.contains("You are the validator") {
            return Some(Reply::tool_call(STRUCTURED, &json!({"pass": true, "feedback": "Done as asked."})).into());
        }
        let task = task_of(request)?;
        let fixed = request.user_texts()[0].contains("missing done.txt");
        if fixed && request.tool_result_count() == 0 {
            return Some(Reply::tool_call("workspace__write", &json!({"path": "done.txt", "content": "ok\n"})).into());
        }
        if task == "T001" && !fixed && request.tool_result_count() == 0 {
            let found = json!({"id": "T002", "title": "Add a fixture", "reason": "the list's tests need one",
                               "done_when": "a fixture exists", "requirements": ["R1.1"], "depends_on": ["T001"]});
            return Some(Reply::tool_call("project__add_task", &found).into());
        }
        Some(Reply::text(format!("Did {task}.")).into())
    });
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    json_of(&server, &["agent", "create", "Builder", "--goal", "Build the shop"]);
    let check = "test -f done.txt || { echo missing done.txt; exit 1; }";
    let created = json_of(
        &server,
        &["project", "new", "Shop", "--brief", "A shop", "--agent", "Builder", "--automatic", "--check", check],
    );
    assert_eq!(created["discovered_tasks"], "approve");
    assert_eq!(created["checks"], json!([check]));
    let id = created["id"].to_string();
    let show = |server: &ServerProcess| json_of(server, &["project", "show", &id]);
    until(&server, &id, "the documents pass their automatic gates", || show(&server)["phase"] == "execution");
    json_of(&server, &["project", "run", &id]);

    let pending = || json_of(&server, &["approvals"])["approvals"].as_array().cloned().unwrap_or_default();
    until(&server, &id, "T001's run asks to add a task", || !pending().is_empty());
    let approval = pending()[0].clone();
    assert_eq!(approval["tool"], "project.add_task", "{approval}");
    assert_eq!(task_states(&show(&server)).len(), 1, "nothing joins the graph before a person approves");
    json_of(&server, &["approvals", "approve", &approval["id"].to_string()]);

    until(&server, &id, "the project is done", || show(&server)["phase"] == "done");
    let done = show(&server);
    let states = task_states(&done);
    assert_eq!(states, [("T001", "done"), ("T002", "done")].map(|(a, b)| (a.to_string(), b.to_string())), "{done}");
    assert_eq!(done["tasks"][1]["depends_on"], json!(["T001"]));
    // Each task passed the validator without done.txt first: the failing
    // check sent it back once, its output's tail the feedback.
    let rounds: Vec<&Value> = done["tasks"].as_array().unwrap().iter().map(|task| &task["rounds"]).collect();
    assert_eq!(rounds, [&json!(1), &json!(1)], "{done}");
    let told = fake
        .requests()
        .iter()
        .any(|request| task_of(request).as_deref() == Some("T002") && request.mentions("The check `test -f done.txt"));
    assert!(told, "the check's failure reached the agent as feedback");
    assert!(calls_about(&fake, "T002") > 0, "T002 was worked on");
    let events = steward(server.url(), &["--json", "events", "--limit", "200"]).json().to_string();
    assert!(events.contains("project.task_discovered") && events.contains("the list's tests need one"), "{events}");
}
