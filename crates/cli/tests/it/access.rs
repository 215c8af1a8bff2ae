//! Users, tokens and `steward login` end to end: a server bound beyond
//! loopback without an administrator refuses to start and says how to make
//! one; with one, requests need a token, which `steward login` stores
//! (mode 0600) and every later command sends.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{STEWARD, ServerOptions};

/// Runs `steward ARGS…` with `input` on stdin and the CLI's config dir in `config`.
fn run(args: &[&str], input: &str, config: &std::path::Path) -> (bool, String, String) {
    let mut child = Command::new(STEWARD)
        .args(args)
        .env_remove("STEWARD_SERVER")
        .env_remove("STEWARD_URL")
        .env_remove("STEWARD_TOKEN")
        .env_remove("STEWARD_DATABASE_URL")
        .env("XDG_CONFIG_HOME", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run steward");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

#[test]
fn a_public_server_needs_an_admin_and_the_cli_logs_in_with_a_token() {
    let home = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let home_arg = home.path().to_str().unwrap();
    let (started, _, stderr) = run(&["serve", "--bind", "0.0.0.0:0", "--home", home_arg], "", config.path());
    assert!(!started, "serve started on 0.0.0.0 without authentication");
    assert!(stderr.contains("steward user add NAME --admin"), "{stderr}");

    let (ok, _, stderr) =
        run(&["user", "add", "ada", "--admin", "--home", home_arg], "a long password\n", config.path());
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = run(
        &["--json", "token", "create", "--user", "ada", "--name", "cli", "--scope", "admin", "--home", home_arg],
        "",
        config.path(),
    );
    assert!(ok, "{stderr}");
    let token = serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("stw_"));
    let database = std::fs::read(home.path().join("steward.db")).unwrap_or_default();
    let wal = std::fs::read(home.path().join("steward.db-wal")).unwrap_or_default();
    let needle = token.as_bytes();
    assert!(
        !database.windows(needle.len()).chain(wal.windows(needle.len())).any(|window| window == needle),
        "the token is stored in clear"
    );

    let server = ServerOptions::default().home(home.path()).env("STEWARD_SERVER__REQUIRE_AUTH", "true").start();
    let url = server.url().to_string();
    let (ok, _, stderr) = run(&["--server", &url, "agent", "list"], "", config.path());
    assert!(!ok && stderr.contains("requires authentication"), "{stderr}");
    let (ok, _, stderr) = run(&["--server", &url, "login"], "stw_wrong\n", config.path());
    assert!(!ok, "a wrong token was accepted: {stderr}");
    let (ok, stdout, stderr) = run(&["--server", &url, "login"], &format!("{token}\n"), config.path());
    assert!(ok, "{stderr}");
    assert!(stdout.contains("as ada"), "{stdout}");
    let stored = config.path().join("steward").join("credentials.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let (ok, _, stderr) = run(&["--server", &url, "agent", "create", "Logged", "--goal", "G"], "", config.path());
    assert!(ok, "{stderr}");
    let (ok, stdout, _) = run(&["--json", "--server", &url, "agent", "list"], "", config.path());
    assert!(ok && stdout.contains("Logged"), "{stdout}");
}
