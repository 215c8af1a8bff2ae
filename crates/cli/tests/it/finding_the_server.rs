//! How CLI commands find their server without `--server`: `STEWARD_URL`,
//! the address a running `steward serve` wrote into the home, then `bind`
//! in the home's config.toml. A file left by a killed server is ignored.
//! `steward models` asks that server what it has configured.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{STEWARD, ServerOptions, ServerProcess, closed_port_url};

/// `steward --json status` with only the given environment to go by.
fn status(environment: &[(&str, &Path)]) -> (Option<i32>, Value) {
    let mut command = Command::new(STEWARD);
    command
        .args(["--json", "status"])
        .env_remove("STEWARD_URL")
        .env_remove("STEWARD_SERVER")
        .env_remove("STEWARD_BIND");
    for (name, value) in environment {
        command.env(name, value);
    }
    let output = command.stdin(Stdio::null()).output().expect("run steward");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let document = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"));
    (output.status.code(), document)
}

fn running_url(home: &Path) -> Option<String> {
    let text = std::fs::read_to_string(home.join("server.json")).ok()?;
    let running: Value = serde_json::from_str(&text).ok()?;
    running["url"].as_str().map(str::to_string)
}

#[test]
fn commands_find_the_server_running_on_their_home() {
    let home = tempfile::tempdir().unwrap();
    let nowhere = closed_port_url();
    let bind = nowhere.trim_start_matches("http://");
    std::fs::write(home.path().join("config.toml"), format!("bind = \"{bind}\"\n")).unwrap();

    let mut server = ServerOptions::default().home(home.path()).start();
    assert_eq!(running_url(home.path()).as_deref(), Some(server.url()), "serve wrote its actual address");
    let (code, document) = status(&[("STEWARD_HOME", home.path())]);
    assert_eq!((code, document["status"].as_str()), (Some(0), Some("ok")), "{document}");

    // A graceful stop removes the file; the config's bind is next in line.
    assert!(server.terminate().success());
    assert_eq!(running_url(home.path()), None);
    let (code, document) = status(&[("STEWARD_HOME", home.path())]);
    assert_eq!(code, Some(5), "{document}");
    assert!(document["error"]["message"].as_str().unwrap().contains(&nowhere), "{document}");

    // A server killed without cleaning up leaves the file; it names a dead process and is ignored.
    let mut server = ServerOptions::default().home(home.path()).start();
    let killed_url = server.url().to_string();
    server.kill_hard();
    assert_eq!(running_url(home.path()).as_deref(), Some(killed_url.as_str()), "the file is left behind");
    let (code, document) = status(&[("STEWARD_HOME", home.path())]);
    assert_eq!(code, Some(5), "{document}");
    let message = document["error"]["message"].as_str().unwrap();
    assert!(message.contains(&nowhere) && !message.contains(&killed_url), "{message}");
}

#[test]
fn steward_url_wins_over_the_home() {
    let server = ServerProcess::start();
    let other_home = tempfile::tempdir().unwrap();
    let output = Command::new(STEWARD)
        .args(["--json", "status"])
        .env("STEWARD_URL", server.url())
        .env("STEWARD_HOME", other_home.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["status"], "ok", "{document}");
}

/// `steward models` describes the server's providers — the keys its agents
/// use — not the CLI's own environment, and never shows a key.
#[test]
fn models_reports_what_the_server_has_not_the_cli() {
    const KEY: &str = "sk-ant-server-side-0123456789abcdef";
    let server = ServerOptions::default().env("ANTHROPIC_API_KEY", KEY).start();
    let run = |arguments: &[&str]| {
        let output = Command::new(STEWARD)
            .args(["--server", server.url()])
            .args(arguments)
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let table = run(&["models"]);
    assert!(table.contains("set (ANTHROPIC_API_KEY)") && table.contains("missing: set OPENAI_API_KEY"), "{table}");
    assert!(table.contains("Default model: anthropic/"), "{table}");
    let document: Value = serde_json::from_str(&run(&["--json", "models"])).unwrap();
    let anthropic = document["providers"].as_array().unwrap().iter().find(|provider| provider["name"] == "anthropic");
    assert_eq!(anthropic.unwrap()["key"], "present", "{document}");
    let price = &anthropic.unwrap()["models"][0]["price_per_million_tokens"]["input"];
    assert!(price.is_string(), "prices are decimal strings: {document}");
    assert!(!document.to_string().contains(KEY));
    // --offline reads the CLI's own environment, which has no key.
    let offline: Value = serde_json::from_str(&run(&["--json", "models", "--offline"])).unwrap();
    let anthropic = offline["providers"].as_array().unwrap().iter().find(|provider| provider["name"] == "anthropic");
    assert_eq!(anthropic.unwrap()["key"], "missing", "{offline}");
}
