//! Artifacts in-process: listed per action and per run, their files served
//! from the runtime's artifact folder, and never a file outside it.

use serde_json::json;
use steward_domain::{ActionId, NewArtifact, RunId};

use crate::support::{TestApp, USER, api_tests};

api_tests!(artifacts_are_listed_and_their_files_served, files_outside_or_gone_are_not_served);

/// Records `path` as written by `run` and writes its file where the runtime keeps it.
async fn written(app: &TestApp, run: RunId, action: Option<ActionId>, path: &str, content: &str) -> i64 {
    let folder = app.state.agents.as_ref().unwrap().artifacts_of(run, action);
    let file = folder.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, content).unwrap();
    let artifact =
        NewArtifact { user_id: USER, run_id: run, action_id: action, path: path.into(), bytes: content.len() as u64 };
    app.store.record_artifact(artifact).await.unwrap().id.get()
}

async fn artifacts_are_listed_and_their_files_served(app: TestApp) {
    let agent = app.agent("Writer").await;
    let action = app.defined_action(agent, "Launch post").await;
    let scheduled = app.post(&format!("/api/v1/actions/{action}/schedule"), json!({})).await;
    let run = RunId(scheduled.assert_status(200)["run"]["id"].as_i64().unwrap());
    let post = written(&app, run, Some(ActionId(action)), "drafts/post.md", "# Launch\n").await;
    let data = written(&app, run, Some(ActionId(action)), "data.json", "{\"a\": 1}").await;

    let listed = app.get(&format!("/api/v1/actions/{action}/artifacts")).await;
    let artifacts = listed.assert_status(200)["artifacts"].as_array().unwrap().clone();
    let paths: Vec<&str> = artifacts.iter().map(|artifact| artifact["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["data.json", "drafts/post.md"], "by path");
    assert_eq!(artifacts[1]["id"], post);
    assert_eq!((artifacts[1]["bytes"].as_u64(), artifacts[1]["run_id"].as_i64()), (Some(9), Some(run.get())));
    assert_eq!(artifacts[1]["action_id"], action);
    assert_eq!(app.get(&format!("/api/v1/runs/{run}/artifacts")).await.body["artifacts"], json!(artifacts));

    let content = app.get(&format!("/api/v1/artifacts/{post}/content")).await;
    assert_eq!((content.status.as_u16(), content.text.as_str()), (200, "# Launch\n"));
    assert_eq!(content.headers["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(content.headers["x-content-type-options"], "nosniff");
    let content = app.get(&format!("/api/v1/artifacts/{data}/content")).await;
    assert_eq!(
        (content.headers["content-type"].to_str().unwrap(), &content.body),
        ("application/json", &json!({"a": 1}))
    );

    // An ad-hoc run has a folder of its own.
    let adhoc = app.post(&format!("/api/v1/agents/{agent}/runs"), json!({"instruction": "Notes"})).await;
    let adhoc = RunId(adhoc.body["id"].as_i64().unwrap());
    let notes = written(&app, adhoc, None, "notes.txt", "plain").await;
    assert_eq!(app.get(&format!("/api/v1/artifacts/{notes}/content")).await.text, "plain");
    let listed = app.get(&format!("/api/v1/runs/{adhoc}/artifacts")).await;
    assert_eq!(listed.body["artifacts"][0]["action_id"], json!(null));
}

async fn files_outside_or_gone_are_not_served(app: TestApp) {
    let agent = app.agent("Writer").await;
    let run = app.post(&format!("/api/v1/agents/{agent}/runs"), json!({"instruction": "x"})).await;
    let run = RunId(run.body["id"].as_i64().unwrap());
    let gone = written(&app, run, None, "gone.md", "soon gone").await;
    let folder = app.state.agents.as_ref().unwrap().artifacts_of(run, None);
    std::fs::remove_file(folder.join("gone.md")).unwrap();
    let response = app.get(&format!("/api/v1/artifacts/{gone}/content")).await;
    assert!(response.assert_error(404, "not_found", None).contains("no longer"), "{}", response.text);

    let secret = app.home().join("secret.txt");
    std::fs::write(&secret, "do not serve").unwrap();
    let link = written(&app, run, None, "link.md", "").await;
    std::fs::remove_file(folder.join("link.md")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&secret, folder.join("link.md")).unwrap();
        let response = app.get(&format!("/api/v1/artifacts/{link}/content")).await;
        assert!(response.assert_error(404, "not_found", None).contains("out of its folder"), "{}", response.text);
        assert!(!response.text.contains("do not serve"));
    }

    app.get("/api/v1/artifacts/999/content").await.assert_error(404, "not_found", None);
    app.get("/api/v1/artifacts/x/content").await.assert_error(400, "invalid_parameter", Some("id"));
    app.get("/api/v1/actions/999/artifacts").await.assert_error(404, "not_found", None);
    app.get("/api/v1/runs/999/artifacts").await.assert_error(404, "not_found", None);
}
