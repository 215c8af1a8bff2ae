//! Runs one command in its sandbox: hands the workspace to the sandbox user
//! when Steward is root, reads standard output and error up to the cap (the
//! rest is read and dropped, so the command never blocks on a full pipe),
//! and kills the sandbox at the wall-clock limit or when the run is
//! cancelled. Killing bubblewrap is enough: `--die-with-parent` takes its
//! PID namespace's first process down, and with it every process inside.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::super::config::ShellToolConfig;
use super::availability::{install_hint, running_as_root};
use super::jail::Jail;

/// How long the pipes may stay open once the sandbox is gone.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Its exit status (bubblewrap reports a command killed by signal N as 128 + N).
    Exited(i32),
    /// Killed at the wall-clock limit.
    TimedOut,
    /// The run was cancelled meanwhile.
    Cancelled,
}

/// Up to the cap of one output stream, and how many bytes there were.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    pub bytes: Vec<u8>,
    pub total: u64,
}

#[derive(Clone, Debug)]
pub struct Finished {
    pub ending: Ending,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// Runs `command` with the workspace at `/workspace`.
pub async fn run_sandboxed(
    config: &ShellToolConfig,
    workspace: &Path,
    network: bool,
    command: &str,
    cancel: &CancellationToken,
) -> Result<Finished, String> {
    let as_root = running_as_root();
    prepare_workspace(workspace, as_root.then_some(config.sandbox_uid)).await?;
    let jail = Jail { config, workspace: Some(workspace), network, as_root };
    let mut child = Command::new(&config.bwrap)
        .args(jail.arguments(command))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("cannot start `{}`: {error}; {}", config.bwrap, install_hint()))?;
    let cap = config.max_output_bytes;
    let stdout = child.stdout.take().map(|pipe| tokio::spawn(read_capped(pipe, cap)));
    let stderr = child.stderr.take().map(|pipe| tokio::spawn(read_capped(pipe, cap)));
    let ending = tokio::select! {
        status = child.wait() => Ending::Exited(code(status.map_err(|error| error.to_string())?)),
        () = tokio::time::sleep(Duration::from_secs(config.timeout_secs)) => Ending::TimedOut,
        () = cancel.cancelled() => Ending::Cancelled,
    };
    if !matches!(ending, Ending::Exited(_)) {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    Ok(Finished { ending, stdout: collect(stdout).await, stderr: collect(stderr).await })
}

fn code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

async fn collect(reader: Option<tokio::task::JoinHandle<Captured>>) -> Captured {
    let Some(reader) = reader else { return Captured::default() };
    match tokio::time::timeout(DRAIN_GRACE, reader).await {
        Ok(Ok(captured)) => captured,
        _ => Captured::default(),
    }
}

async fn read_capped(mut pipe: impl AsyncRead + Unpin, cap: u64) -> Captured {
    let mut captured = Captured::default();
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(read) = pipe.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        let room = usize::try_from(cap.saturating_sub(captured.bytes.len() as u64)).unwrap_or(usize::MAX);
        captured.bytes.extend_from_slice(&buffer[..read.min(room)]);
        captured.total += read as u64;
    }
    captured
}

/// Creates the workspace, and when Steward is root gives its whole tree to
/// `owner` (without following symbolic links), so the unprivileged command
/// can write there, the files the workspace tools wrote included.
async fn prepare_workspace(workspace: &Path, owner: Option<u32>) -> Result<(), String> {
    let workspace = workspace.to_path_buf();
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&workspace).map_err(|error| format!("cannot create the workspace: {error}"))?;
        match owner {
            Some(uid) => hand_over(&workspace, uid).map_err(|error| format!("cannot hand the workspace over: {error}")),
            None => Ok(()),
        }
    })
    .await
    .map_err(|error| error.to_string())?
}

fn hand_over(path: &Path, uid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid))?;
    if std::fs::symlink_metadata(path)?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            hand_over(&entry?.path(), uid)?;
        }
    }
    Ok(())
}
