//! `/api/v1/sync` in-process, on a real git repository: a repository's
//! documents and what waits, a sync started as a job, and refusals that
//! name the field.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::{TestApp, api_tests};

api_tests!(the_status_of_a_repository_is_read_and_a_sync_is_queued, bad_sync_input_names_the_field);

/// A repository with ARCHITECTURE.md and two commits.
fn repository() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=Ada", "-c", "user.email=ada@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(folder.path())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(folder.path().join("ARCHITECTURE.md"), "# Architecture\n").unwrap();
    git(&["add", "ARCHITECTURE.md"]);
    git(&["commit", "-q", "-m", "Start"]);
    git(&["commit", "-q", "--allow-empty", "-m", "More"]);
    folder
}

fn query(path: &Path) -> String {
    form_urlencoded::byte_serialize(path.to_str().unwrap().as_bytes()).collect()
}

async fn the_status_of_a_repository_is_read_and_a_sync_is_queued(app: TestApp) {
    let repo = repository();
    let response = app.get(&format!("/api/v1/sync/status?repo={}", query(repo.path()))).await;
    let status = response.assert_status(200);
    assert_eq!(status["hook_installed"], false, "{status}");
    assert_eq!(status["documents"][0]["document"], "ARCHITECTURE.md");
    assert_eq!(status["documents"][0]["exists"], true);
    assert_eq!(status["documents"][0]["pending_commits"], 2);
    assert_eq!(status["documents"][0]["last_commit"], serde_json::Value::Null);
    assert_eq!(status["documents"][1]["document"], "DESIGN.md");
    assert_eq!(status["documents"][1]["exists"], false);

    let agent = app.agent("Architect").await;
    let body = json!({"repo": repo.path(), "agent_id": agent, "apply": true});
    let queued = app.post("/api/v1/sync/runs", body).await;
    let job = &queued.assert_status(202)["job"];
    assert_eq!((job["kind"].as_str(), job["max_attempts"].as_u64()), (Some("living_docs.sync"), Some(1)));
    assert_eq!(job["payload"]["agent_id"], agent);
    assert_eq!(job["payload"]["apply"], true);
}

async fn bad_sync_input_names_the_field(app: TestApp) {
    let nowhere = tempfile::tempdir().unwrap();
    let response = app.get(&format!("/api/v1/sync/status?repo={}", query(nowhere.path()))).await;
    response.assert_error(422, "invalid_field", Some("repo"));
    app.get("/api/v1/sync/status").await.assert_error(400, "invalid_parameter", Some("repo"));

    let repo = repository();
    let path = format!("/api/v1/sync/status?repo={}&document=../../etc/passwd", query(repo.path()));
    app.get(&path).await.assert_error(422, "invalid_field", Some("documents[0]"));

    let agent = app.agent("Architect").await;
    let outside = json!({"repo": repo.path(), "agent_id": agent, "documents": ["/etc/passwd"]});
    app.refused(app.post("/api/v1/sync/runs", outside)).await.assert_error(422, "invalid_field", Some("documents[0]"));
    let unknown = json!({"repo": repo.path(), "agent_id": 987654});
    app.refused(app.post("/api/v1/sync/runs", unknown)).await.assert_error(404, "not_found", None);
    let misspelt = json!({"repo": repo.path(), "agent": agent});
    app.refused(app.post("/api/v1/sync/runs", misspelt)).await.assert_error(422, "invalid_field", Some("agent"));
}
