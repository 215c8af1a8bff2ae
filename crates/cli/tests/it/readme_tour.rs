//! The README tour, run as written: every `sh` block between `<!-- tour -->`
//! and `<!-- /tour -->` in README.md is run in order through `sh`, with the
//! built `steward` first on the PATH and the fake provider playing
//! `examples/tour.yaml`. A command fails the test when it exits non-zero, or
//! when its output lacks a line of the `text` block the README shows after
//! it. So the README and the code cannot drift apart.
//!
//! What the test changes, so tours can run side by side: the ports (the
//! README's 8089 for the fake, and the server's address through
//! `STEWARD_BIND`; the CLI finds the server through the home, as it does in
//! a terminal), and the home (`STEWARD_HOME`, a fresh folder; the working
//! directory is a fresh folder too, holding a copy of `examples/`). `export` lines set the environment of the commands after
//! them, as they would in a terminal; a command ending in `&` keeps running
//! in the background, and the test waits until it listens.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::STEWARD;

const README: &str = include_str!("../../../../README.md");
const TOUR_SCRIPT: &str = include_str!("../../../../examples/tour.yaml");

/// Longest a tour command may take (a run followed with `--wait` included).
const COMMAND_PATIENCE: Duration = Duration::from_secs(60);

/// One command of the tour and the lines its output must contain.
#[derive(Debug, Default, PartialEq)]
struct Step {
    command: String,
    expected: Vec<String>,
}

/// The tour's commands, in order, each with the `text` block after it.
fn tour_steps(readme: &str) -> Vec<Step> {
    let start = readme.find("<!-- tour -->").expect("README.md marks its tour with <!-- tour -->");
    let end = readme[start..].find("<!-- /tour -->").expect("the tour ends with <!-- /tour -->") + start;
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = readme[start..end].lines();
    while let Some(line) = lines.next() {
        let fence = line.trim();
        if fence != "```sh" && fence != "```text" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|line| line.trim() != "```").collect();
        if fence == "```text" {
            let step = steps.last_mut().expect("a text block follows a command");
            assert!(step.expected.is_empty(), "two text blocks after `{}`", step.command);
            step.expected = block.iter().map(|line| line.trim().to_string()).filter(|line| !line.is_empty()).collect();
            continue;
        }
        let mut command = String::new();
        for line in block {
            match line.trim_end().strip_suffix('\\') {
                Some(continued) => command.push_str(continued),
                None => {
                    command.push_str(line);
                    let finished = std::mem::take(&mut command);
                    if !finished.trim().is_empty() && !finished.trim_start().starts_with('#') {
                        steps.push(Step { command: finished.trim().to_string(), expected: Vec::new() });
                    }
                }
            }
        }
    }
    steps
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_until_listening(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + COMMAND_PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on port {port}; its output:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where the tour runs, and what it leaves running.
struct Tour {
    folder: tempfile::TempDir,
    environment: BTreeMap<String, String>,
    fake_port: u16,
    server_port: u16,
    background: Vec<Child>,
}

impl Drop for Tour {
    fn drop(&mut self) {
        for child in &mut self.background {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Tour {
    fn new() -> Tour {
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir(folder.path().join("examples")).unwrap();
        std::fs::write(folder.path().join("examples/tour.yaml"), TOUR_SCRIPT).unwrap();
        let (fake_port, server_port) = (free_port(), free_port());
        let binaries = PathBuf::from(STEWARD).parent().unwrap().to_path_buf();
        let path = format!("{}:{}", binaries.display(), std::env::var("PATH").unwrap_or_default());
        let environment = BTreeMap::from([
            ("PATH".to_string(), path),
            ("HOME".to_string(), folder.path().display().to_string()),
            ("STEWARD_HOME".to_string(), folder.path().join("home").display().to_string()),
            ("STEWARD_BIND".to_string(), format!("127.0.0.1:{server_port}")),
            ("TZ".to_string(), "UTC".to_string()),
            ("NO_COLOR".to_string(), "1".to_string()),
        ]);
        Tour { folder, environment, fake_port, server_port, background: Vec::new() }
    }

    fn command(&self, text: &str) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(text).current_dir(self.folder.path()).env_clear().envs(&self.environment);
        command
    }

    fn run(&mut self, step: &Step) {
        let text = step.command.replace("8089", &self.fake_port.to_string());
        if let Some(assignments) = text.strip_prefix("export ") {
            for assignment in assignments.split('#').next().unwrap_or_default().split_whitespace() {
                let (name, value) = assignment.split_once('=').expect("export NAME=value");
                self.environment.insert(name.to_string(), value.to_string());
            }
            return;
        }
        if let Some(background) = text.strip_suffix('&') {
            let log = self.folder.path().join(format!("background-{}.log", self.background.len()));
            let output = std::fs::File::create(&log).unwrap();
            // `exec`: the shell becomes the command, so killing the child at
            // the end stops the server itself rather than orphaning it.
            let child = self
                .command(&format!("exec {background}"))
                .stdin(Stdio::null())
                .stdout(output.try_clone().unwrap())
                .stderr(output)
                .spawn()
                .unwrap();
            self.background.push(child);
            let port = if background.contains("fake-llm") { self.fake_port } else { self.server_port };
            wait_until_listening(port, &step.command, &log);
            return;
        }
        let stdout = self.folder.path().join("stdout");
        let stderr = self.folder.path().join("stderr");
        let mut child = self
            .command(&text)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + COMMAND_PATIENCE;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("`{}` did not finish within {COMMAND_PATIENCE:?}", step.command);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = std::fs::read_to_string(stdout).unwrap();
        let stderr = std::fs::read_to_string(stderr).unwrap();
        assert!(status.success(), "`{}` failed ({status}):\nstdout:\n{stdout}\nstderr:\n{stderr}", step.command);
        for line in &step.expected {
            assert!(
                stdout.contains(line.as_str()),
                "the README says `{}` shows\n  {line}\nbut it printed:\n{stdout}\nstderr:\n{stderr}",
                step.command
            );
        }
    }
}

#[test]
fn the_readme_tour_runs_as_written() {
    let steps = tour_steps(README);
    assert!(steps.len() >= 10, "the tour has its commands: {steps:#?}");
    assert!(steps.iter().any(|step| step.command.contains("steward serve")), "the tour starts a server");
    let mut tour = Tour::new();
    for step in &steps {
        tour.run(step);
    }
}

#[test]
fn tour_blocks_are_read_as_commands_and_expected_lines() {
    let readme = "intro\n```sh\nnot in the tour\n```\n<!-- tour -->\n```sh\n# a comment\nsteward a \\\n  --flag\n\nsteward b &\n```\n\n```text\nshows this\n\n  and this\n```\n<!-- /tour -->\n";
    assert_eq!(
        tour_steps(readme),
        [
            Step { command: "steward a   --flag".into(), expected: Vec::new() },
            Step { command: "steward b &".into(), expected: vec!["shows this".into(), "and this".into()] },
        ]
    );
}
