//! A stored secret never leaves in clear: a marker provider key is set
//! with `steward secret set` (from standard input), configuration names it
//! as `secret:anthropic`, and a real `steward serve` uses it against the
//! fake provider — a run that completes, a run and a chat whose provider
//! calls fail with an error that echoes the key — then every API answer,
//! the CLI's output, the server's log and every file of the home are
//! searched for the key and for its first 12 characters.

use std::path::Path;

use serde_json::{Value, json};
use steward_fake_llm::{ErrorSpec, FakeLlm, Fault, Reply};

use crate::support::{PATIENCE, ServerOptions, closed_port_url, steward, steward_with_input};

const MARKER: &str = "sk-ant-marker-5ecr3t-0123456789abcdefXYZ";

fn contains_marker(text: &str) -> bool {
    text.contains(MARKER) || text.contains(&MARKER[..12])
}

/// Every file under `folder`, byte for byte.
fn files_with_marker(folder: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_with_marker(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            if contains_marker(&text) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

async fn get(url: &str, path: &str) -> String {
    reqwest::get(format!("{url}{path}")).await.unwrap().text().await.unwrap()
}

async fn post(url: &str, path: &str, body: Value) -> (u16, String) {
    let response = reqwest::Client::new().post(format!("{url}{path}")).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Polls the run until its outcome is `wanted`, within the suite's patience.
async fn wait_for_run(url: &str, id: i64, wanted: &str) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let run: Value = serde_json::from_str(&get(url, &format!("/api/v1/runs/{id}")).await).unwrap();
        if run["outcome"] == wanted {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "run {id} is not {wanted}: {run}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_secret_never_leaves_in_clear() {
    let fake = FakeLlm::start().await.unwrap();
    fake.require_api_key(MARKER);
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_str().unwrap().to_string();
    let offline = closed_port_url();
    let set =
        steward_with_input(&offline, &["secret", "set", "anthropic", "--home", &home_path], &format!("{MARKER}\n"));
    assert!(!contains_marker(set.ok()), "{}", set.stdout);
    let listed = steward(&offline, &["secret", "list", "--home", &home_path]);
    assert_eq!(listed.ok().trim(), "anthropic");
    let config = format!(
        "[llm]\ndefault_model = \"anthropic/claude-sonnet-4-5\"\n\n[llm.retry]\nmax_retries = 0\n\n\
         [llm.providers.anthropic]\nprotocol = \"anthropic\"\nbase_url = \"{}\"\napi_key_env = \"secret:anthropic\"\n",
        fake.anthropic_base_url()
    );
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let mut server = ServerOptions::default().home(home.path()).env("ANTHROPIC_API_KEY", "").start();
    let url = server.url().to_string();
    let url = url.as_str();
    exercise(url, &fake).await;
    let models = steward(url, &["models", "--json"]);
    assert!(!contains_marker(&models.stdout) && !contains_marker(&models.stderr));
    let presented: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|request| {
            request.headers.iter().find(|(name, _)| name == "x-api-key").map(|(_, value)| value.clone())
        })
        .collect();
    assert!(presented.len() >= 3 && presented.iter().all(|key| key == MARKER), "the provider got the secret");
    server.terminate();
    let log = server.log();
    assert!(log.contains("run") && !contains_marker(&log), "the log names the key: {log}");
    assert_eq!(files_with_marker(home.path()), Vec::<String>::new(), "files of the home hold the key in clear");
}

/// Runs that complete and fail, a failing chat; then every answer read.
async fn exercise(url: &str, fake: &FakeLlm) {
    let (status, agent) = post(url, "/api/v1/agents", json!({"name": "Keyed", "goal": "Use the key"})).await;
    assert_eq!(status, 201, "{agent}");
    let agent = serde_json::from_str::<Value>(&agent).unwrap()["id"].as_i64().unwrap();
    fake.push(Reply::text("Done with the key."));
    let (_, run) = post(url, &format!("/api/v1/agents/{agent}/runs"), json!({"instruction": "Go"})).await;
    let completed = serde_json::from_str::<Value>(&run).unwrap()["id"].as_i64().unwrap();
    wait_for_run(url, completed, "completed").await;
    let failure = ErrorSpec {
        status: 401,
        anthropic_type: "authentication_error".into(),
        openai_type: "invalid_request_error".into(),
        openai_code: None,
        message: format!("invalid x-api-key {MARKER}"),
    };
    fake.push(Fault::http(failure.clone()));
    let (_, run) = post(url, &format!("/api/v1/agents/{agent}/runs"), json!({"instruction": "Fail"})).await;
    let failed = serde_json::from_str::<Value>(&run).unwrap()["id"].as_i64().unwrap();
    wait_for_run(url, failed, "failed").await;
    fake.push(Fault::http(failure));
    let (status, chat) = post(url, &format!("/api/v1/agents/{agent}/chat"), json!({"message": "hello"})).await;
    assert!(status >= 400 && !contains_marker(&chat), "{status} {chat}");
    let mut answers = vec![chat];
    for path in [
        "/api/v1/agents".to_string(),
        format!("/api/v1/agents/{agent}"),
        format!("/api/v1/agents/{agent}/chat"),
        "/api/v1/runs".to_string(),
        format!("/api/v1/runs/{completed}"),
        format!("/api/v1/runs/{failed}"),
        format!("/api/v1/runs/{completed}/trace"),
        format!("/api/v1/runs/{failed}/trace"),
        "/api/v1/events?after=0&limit=1000".to_string(),
        "/api/v1/jobs?limit=1000".to_string(),
        "/api/v1/models".to_string(),
        "/api/v1/health".to_string(),
        "/api/v1/costs?days=7".to_string(),
        "/api/v1/openapi.json".to_string(),
    ] {
        answers.push(get(url, &path).await);
    }
    let failed_run = get(url, &format!("/api/v1/runs/{failed}")).await;
    assert!(failed_run.contains("401") || failed_run.contains("authentication"), "{failed_run}");
    for answer in answers {
        assert!(!contains_marker(&answer), "an API answer holds the key: {answer}");
    }
}
