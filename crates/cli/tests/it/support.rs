//! Running the real `steward` binary: `ServerProcess` is a `steward serve`
//! child process on a free port with its own home (restartable, killable
//! with SIGKILL, killed on drop), and `steward(...)` runs a CLI command
//! against it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

/// The binary under test.
pub const STEWARD: &str = env!("CARGO_BIN_EXE_steward");

/// How long a server may take to start, or a command to answer.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// What `steward serve` prints once it listens.
const READY_PREFIX: &str = "Steward is running at ";

/// A `steward serve` child process.
pub struct ServerProcess {
    child: Option<Child>,
    url: String,
    home: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Keeps a temporary home alive for the server's lifetime.
    _temporary_home: Option<TempDir>,
}

/// How to start a server: extra arguments and environment, and optionally
/// a home to reuse.
#[derive(Default)]
pub struct ServerOptions {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub home: Option<PathBuf>,
}

impl ServerOptions {
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    pub fn start(self) -> ServerProcess {
        ServerProcess::start_with(self)
    }
}

impl ServerProcess {
    /// A server with a fresh home and default settings.
    pub fn start() -> ServerProcess {
        ServerProcess::start_with(ServerOptions::default())
    }

    pub fn start_with(options: ServerOptions) -> ServerProcess {
        let (home, temporary_home) = match options.home {
            Some(home) => (home, None),
            None => {
                let directory = tempfile::tempdir().expect("temporary home");
                (directory.path().to_path_buf(), Some(directory))
            }
        };
        let mut server = ServerProcess {
            child: None,
            url: String::new(),
            home,
            args: options.args,
            env: options.env,
            _temporary_home: temporary_home,
        };
        server.spawn();
        server
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The server's log (its stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("serve.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `kill -9`: no shutdown, no cleanup, like a crash.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the process to exit (a graceful shutdown).
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(status) = child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "the server did not stop within {PATIENCE:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server hard if it runs, and starts it again on the same home
    /// with the same arguments (on a new port: read [`ServerProcess::url`] again).
    pub fn restart(&mut self) {
        self.kill_hard();
        self.spawn();
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("serve.log"))
            .expect("open the server log");
        let mut command = Command::new(STEWARD);
        command
            .arg("serve")
            .arg("--bind")
            .arg("127.0.0.1:0")
            .arg("--home")
            .arg(&self.home)
            .args(&self.args)
            // The tests decide the database, not the caller's environment.
            .env_remove("STEWARD_DATABASE_URL")
            .env_remove("STEWARD_BIND")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start steward serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = mpsc::channel();
        // Reads until the ready line, then keeps draining so the child never
        // blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sender = Some(sender);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix(READY_PREFIX)
                    && let Some(sender) = sender.take()
                {
                    let url = rest.split_whitespace().next().unwrap_or_default().trim_end_matches('/').to_string();
                    let _ = sender.send(url);
                }
            }
        });
        self.child = Some(child);
        match receiver.recv_timeout(PATIENCE) {
            Ok(url) => self.url = url,
            Err(_) => {
                self.kill_hard();
                panic!("steward serve did not print its URL within {PATIENCE:?}; its log:\n{}", self.log());
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// What a CLI command did.
#[derive(Debug)]
pub struct CliOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert!(self.success, "the command failed:\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        &self.stdout
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.stdout))
    }

    /// Asserts the command failed, and returns its stderr.
    #[track_caller]
    pub fn failed(&self) -> &str {
        assert!(!self.success, "the command succeeded but should not have:\nstdout: {}", self.stdout);
        &self.stderr
    }
}

/// Runs `steward --server URL ARGS…` with no terminal on stdin.
pub fn steward(server_url: &str, args: &[&str]) -> CliOutput {
    let output = Command::new(STEWARD)
        .arg("--server")
        .arg(server_url)
        .args(args)
        .env_remove("STEWARD_SERVER")
        .stdin(Stdio::null())
        .output()
        .expect("run steward");
    CliOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `steward --server URL ARGS…` with `input` on stdin (not a
/// terminal), as a person's answers typed ahead.
pub fn steward_with_input(server_url: &str, args: &[&str], input: &str) -> CliOutput {
    use std::io::Write;
    let mut child = Command::new(STEWARD)
        .arg("--server")
        .arg(server_url)
        .args(args)
        .env_remove("STEWARD_SERVER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run steward");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let output = child.wait_with_output().expect("wait for steward");
    CliOutput {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs a command that needs no server (`user add`, `token create` with
/// `--home`), with `input` on stdin; asserts it succeeds and returns stdout.
#[track_caller]
pub fn steward_offline(args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(STEWARD)
        .args(args)
        .env_remove("STEWARD_SERVER")
        .env_remove("STEWARD_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run steward");
    child.stdin.take().expect("piped stdin").write_all(input.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("wait for steward");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into()
}

/// A local address nothing listens on.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}")
}

/// Waits until `condition` holds, polling; panics after [`PATIENCE`].
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `git ARGS` in `repo` as a person would (a fixed author, no
/// signing); panics unless it succeeds. Its standard output.
pub fn git(repo: &Path, args: &[&str]) -> String {
    run_git(Command::new("git").current_dir(repo), args)
}

/// Runs `git ARGS` with `command`'s directory and environment.
pub fn run_git(command: &mut Command, args: &[&str]) -> String {
    let output = command
        .args(["-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("run git");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "git {args:?}: {text}{}", String::from_utf8_lossy(&output.stderr));
    text
}
