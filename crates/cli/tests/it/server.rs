//! `steward status`, reaching (or not) the server, and the server process
//! itself: data survives a `kill -9` and restart; SIGTERM stops it cleanly.

use crate::support::{ServerOptions, ServerProcess, closed_port_url, steward};

#[test]
fn status_shows_the_server_and_its_jobs() {
    let server = ServerProcess::start();
    let output = steward(server.url(), &["status"]);
    let text = output.ok();
    assert!(text.contains(&format!("at {} is ok", server.url())), "{text}");
    assert!(text.contains("sqlite") && text.contains("noop"), "{text}");

    let json = steward(server.url(), &["status", "--json"]).json();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["jobs"]["total"], 0);
}

#[test]
fn an_unreachable_server_is_explained() {
    let url = closed_port_url();
    let stderr = steward(&url, &["job", "list"]).failed().to_string();
    assert_eq!(
        stderr.trim(),
        format!("error: cannot reach Steward at {url} — is `steward serve` running? (set --server or STEWARD_SERVER)")
    );
    let stderr = steward("not a url", &["status"]).failed().to_string();
    assert!(stderr.contains("--server"), "{stderr}");
}

#[test]
fn data_survives_a_hard_kill_and_sigterm_stops_the_server() {
    let mut server = ServerProcess::start();
    steward(server.url(), &["agent", "create", "Survivor", "--goal", "Live on"]).ok();
    let first_pid = server.pid();
    server.restart();
    assert_ne!(server.pid(), first_pid, "a new process");
    let list = steward(server.url(), &["agent", "list", "--json"]).json();
    assert_eq!(list["agents"][0]["name"], "Survivor");

    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}\n{}", server.log());
    assert!(server.log().contains("shutting down"), "{}", server.log());
}

#[test]
fn a_server_takes_extra_arguments_environment_and_a_given_home() {
    let home = tempfile::tempdir().unwrap();
    let server = ServerOptions::default()
        .home(home.path())
        .arg("--dev-handlers")
        .env("STEWARD_WORKERS__CONCURRENCY", "2")
        .start();
    assert_eq!(server.home(), home.path());
    let status = steward(server.url(), &["status", "--json"]).json();
    assert!(status["job_kinds"].as_array().unwrap().contains(&"effect".into()), "{status}");
    assert!(home.path().join("steward.db").exists());
}
