//! Spec-driven projects through the binary: a spec-kit folder imported
//! (the lines it cannot read reported by number), exported with its boxes
//! and dependency lines, and the export imported again into the same
//! project; a project's requirements sent back with a comment, revised and
//! approved through its gate, then edited; a project's settings changed,
//! and two duplicate tasks flagged by a scan and merged into one.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{ServerProcess, steward};

const SPEC_KIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../domain/tests/fixtures/spec-kit");

/// The parts of a project an import must reproduce.
fn graph(project: &Value) -> Value {
    let tasks: Vec<Value> = project["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| json!([task["id"], task["state"], task["depends_on"], task["parallel"], task["requirements"]]))
        .collect();
    let documents: Vec<Value> =
        project["documents"].as_array().unwrap().iter().map(|d| d["document"].clone()).collect();
    json!({ "tasks": tasks, "documents": documents, "phase": project["phase"] })
}

#[test]
fn an_imported_spec_exports_and_imports_back_the_same() {
    let server = ServerProcess::start();
    let url = server.url();
    let imported = steward(url, &["--json", "project", "import", SPEC_KIT]).json();
    let lines: Vec<i64> =
        imported["problems"].as_array().unwrap().iter().map(|p| p["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [21, 29], "{imported}");
    let first = imported["project"]["id"].as_i64().unwrap();
    assert_eq!(imported["project"]["phase"], "execution");

    let human = steward(url, &["project", "import", SPEC_KIT]).ok().to_string();
    assert!(human.contains("tasks.md:21: a checkbox without a task id"), "{human}");

    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("albums");
    let dir_text = dir.to_string_lossy().to_string();
    steward(url, &["--json", "project", "export", &first.to_string(), &dir_text]).json();
    let tasks = std::fs::read_to_string(dir.join("tasks.md")).unwrap();
    assert!(tasks.contains("- [x] T001 Create project structure"), "{tasks}");
    assert!(tasks.contains("- [ ] T005 [P] [US1] Photo model"), "{tasks}");
    assert!(tasks.contains("- T001 before T002, T003, T004, T005, T006"), "{tasks}");
    assert!(Path::new(&dir.join("spec.md")).exists() && Path::new(&dir.join("plan.md")).exists());

    let again = steward(url, &["--json", "project", "import", &dir_text]).json();
    let second = again["project"]["id"].as_i64().unwrap();
    let show = |id: i64| steward(url, &["--json", "project", "show", &id.to_string()]).json();
    assert_eq!(graph(&show(second)), graph(&show(first)), "the export imports back as the same project");
}

#[test]
fn requirements_sent_back_with_a_comment_are_revised_then_approved() {
    let server = ServerProcess::start();
    let url = server.url();
    steward(url, &["--json", "idea", "add", "Todo CLI"]).json();
    let created = steward(url, &["--json", "project", "new", "Todo", "--brief", "a todo list", "--idea", "1"]).json();
    let id = created["id"].as_i64().unwrap().to_string();
    let folder = tempfile::tempdir().unwrap();
    let write = |name: &str, criterion: &str| {
        let document = json!({"title": "Todo", "requirements": [{"id": "R1", "title": "Add", "story": "As a user…",
            "criteria": [{"id": "R1.1", "text": criterion}]}]});
        let path = folder.path().join(name);
        std::fs::write(&path, document.to_string()).unwrap();
        path.to_string_lossy().to_string()
    };
    let first = write("v1.json", "it adds");
    steward(url, &["--json", "project", "propose", &id, "--phase", "requirements", &first]).json();
    let rejected = steward(url, &["--json", "project", "reject", &id, "--comment", "say WHEN, in EARS"]).json();
    assert_eq!(rejected["documents"][0]["comment"], "say WHEN, in EARS");
    let second = write("v2.json", "WHEN the user adds an item THE SYSTEM SHALL keep it");
    steward(url, &["--json", "project", "propose", &id, "--phase", "requirements", &second]).json();
    let approved = steward(url, &["--json", "project", "approve", &id]).json();
    assert_eq!(approved["phase"], "design");
    let shown = steward(url, &["project", "show", &id]).ok().to_string();
    assert!(shown.contains("requirements v1 rejected: say WHEN, in EARS"), "{shown}");
    assert!(shown.contains("requirements v2 approved"), "{shown}");
    let ideas = steward(url, &["--json", "idea", "list"]).json();
    assert_eq!(ideas["ideas"][0]["state"], "promoted");

    // A person edits the approved requirements: a new approved version,
    // the project stays where it is.
    let third = write("v3.json", "WHEN the user adds an item THE SYSTEM SHALL keep it in a file");
    let edited = steward(url, &["--json", "project", "edit", &id, "--phase", "requirements", &third]).json();
    assert_eq!(edited["phase"], "design");
    let latest = edited["documents"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((latest["version"].clone(), latest["status"].clone()), (json!(3), json!("approved")));
    let unchanged = steward(url, &["project", "edit", &id, "--phase", "requirements", &third]);
    assert!(unchanged.failed().contains("nothing to edit"), "an unchanged edit is refused: {}", unchanged.stderr);
}

const KIRO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../domain/tests/fixtures/kiro");

/// A Kiro plan whose tasks 2 and 3 are the same work.
const TWICE_PLANNED: &str = "# Implementation Plan

- [ ] 1. Set up the project files
  - _Requirements: 1.1_
- [ ] 2. Write the item list page
  - _Requirements: 1.1_
  - _Depends on: 1_
- [ ] 3. Write the item list page
  - _Requirements: 1.2_
  - _Depends on: 1_
- [ ] 4. Check the todo file end to end
  - _Requirements: 2.1_
  - _Depends on: 2, 3_
";

#[test]
fn settings_change_and_duplicate_tasks_merge_through_the_binary() {
    let server = ServerProcess::start();
    let url = server.url();
    let spec = tempfile::tempdir().unwrap();
    for file in ["requirements.md", "design.md"] {
        std::fs::copy(Path::new(KIRO).join(file), spec.path().join(file)).unwrap();
    }
    std::fs::write(spec.path().join("tasks.md"), TWICE_PLANNED).unwrap();
    let imported = steward(url, &["--json", "project", "import", spec.path().to_str().unwrap()]).json();
    let id = imported["project"]["id"].as_i64().unwrap().to_string();
    assert_eq!(imported["project"]["discovered_tasks"], "approve");

    let set = steward(url, &["--json", "project", "set", &id, "--discovered-tasks", "allow", "--check", "cargo test"]);
    let set = set.json();
    assert_eq!((set["discovered_tasks"].as_str(), set["checks"].clone()), (Some("allow"), json!(["cargo test"])));
    let cleared = steward(url, &["--json", "project", "set", &id, "--no-checks"]).json();
    assert_eq!((cleared["discovered_tasks"].as_str(), cleared["checks"].clone()), (Some("allow"), json!([])));
    let shown = steward(url, &["project", "show", &id]).ok().to_string();
    assert!(shown.contains("Discovered tasks") && shown.contains("allow"), "{shown}");
    let refused = steward(url, &["--json", "project", "set", &id, "--discovered-tasks", "sometimes"]);
    assert!(refused.stdout.contains("discovered_tasks"), "{}", refused.stdout);

    let flagged = steward(url, &["--json", "duplicates", "scan"]).json();
    let flags = flagged["duplicates"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{flagged}");
    let (kept, dropped) = (format!("{id}/2"), format!("{id}/3"));
    assert_eq!(
        (flags[0]["first"].as_str(), flags[0]["second"].as_str()),
        (Some(kept.as_str()), Some(dropped.as_str()))
    );
    assert_eq!(flags[0]["why"], "the texts are alike: text 1.00", "{flagged}");
    let listed = steward(url, &["duplicates"]).ok().to_string();
    assert!(listed.contains("the texts are alike: text 1.00"), "{listed}");

    let flag = flags[0]["id"].as_i64().unwrap().to_string();
    let merged = steward(url, &["--json", "duplicates", "merge", &flag, "--keep", &kept]).json();
    assert_eq!((merged["status"].as_str(), merged["kept"].as_str()), (Some("merged"), Some(kept.as_str())));
    let project = steward(url, &["--json", "project", "show", &id]).json();
    let tasks = project["tasks"].as_array().unwrap();
    let ids: Vec<&str> = tasks.iter().map(|task| task["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "4"], "{project}");
    assert_eq!(tasks[1]["requirements"], json!(["R1.1", "R1.2"]));
    assert_eq!(tasks[2]["depends_on"], json!(["2"]));
    let events = steward(url, &["--json", "events"]).ok().to_string();
    assert!(events.contains("project.settings_changed") && events.contains("duplicate.decided"), "{events}");
}
