//! Output into a pipe whose reader went away (`steward … | head -1`): the
//! command ends quietly, with status 0 or SIGPIPE's 141, never a panic.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use crate::support::{STEWARD, ServerProcess};

/// Runs `steward ARGS…` with a stdout pipe whose reading end is closed
/// before the command writes, so its first write fails with EPIPE.
#[track_caller]
fn assert_quiet_when_the_reader_is_gone(server_url: Option<&str>, args: &[&str]) {
    let mut command = Command::new(STEWARD);
    if let Some(url) = server_url {
        command.arg("--server").arg(url);
    }
    let mut child = command
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run steward");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().expect("piped stderr").read_to_string(&mut stderr).expect("read stderr");
    let status = child.wait().expect("wait for steward");
    assert!(
        status.success() || status.signal() == Some(13),
        "steward {args:?} into a closed pipe: {status:?}, stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "steward {args:?} panicked: {stderr}");
    assert_eq!(stderr, "", "steward {args:?} into a closed pipe says nothing");
}

#[test]
fn a_closed_pipe_ends_commands_quietly() {
    assert_quiet_when_the_reader_is_gone(None, &["completions", "bash"]);
    assert_quiet_when_the_reader_is_gone(None, &["completions", "zsh"]);
    assert_quiet_when_the_reader_is_gone(None, &["schedule", "preview", "every 15 minutes", "-n", "2000"]);
    assert_quiet_when_the_reader_is_gone(None, &["--help"]);
    assert_quiet_when_the_reader_is_gone(None, &["schedule", "preview", "daily at 08:00", "--json"]);

    let server = ServerProcess::start();
    assert_quiet_when_the_reader_is_gone(Some(server.url()), &["status"]);
    assert_quiet_when_the_reader_is_gone(Some(server.url()), &["job", "list", "--json"]);
}

/// The way a person meets it: the shell's own pipe into `head -1`.
#[test]
fn completions_into_head_print_one_line_and_exit_cleanly() {
    let output = Command::new("bash")
        .arg("-c")
        .arg(r#""$0" completions bash | head -1; echo "status=${PIPESTATUS[0]}" >&2"#)
        .arg(STEWARD)
        .stdin(Stdio::null())
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.starts_with("_steward()"), "{stdout}");
    assert!(stderr == "status=0\n" || stderr == "status=141\n", "{stderr}");
}
