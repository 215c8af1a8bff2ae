//! Whether `shell.run` can work on this machine: bubblewrap is installed and
//! can make namespaces here. Found out by running the real sandbox once (per
//! `bwrap` program, per process) around `true`.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{LazyLock, Mutex, PoisonError};

use super::super::config::ShellToolConfig;
use super::jail::Jail;

/// How to get bubblewrap, for every message saying it is missing.
pub fn install_hint() -> &'static str {
    "shell.run needs bubblewrap: install it with `apt-get install bubblewrap` (Debian and Ubuntu; the package is \
     `bubblewrap` on other distributions too) and restart Steward"
}

pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `Err` says why no sandbox can be made and how to fix it.
pub fn check(config: &ShellToolConfig) -> Result<(), String> {
    static CHECKED: LazyLock<Mutex<HashMap<String, Result<(), String>>>> = LazyLock::new(Mutex::default);
    if let Some(known) = CHECKED.lock().unwrap_or_else(PoisonError::into_inner).get(&config.bwrap) {
        return known.clone();
    }
    let outcome = probe(config);
    CHECKED.lock().unwrap_or_else(PoisonError::into_inner).insert(config.bwrap.clone(), outcome.clone());
    outcome
}

fn probe(config: &ShellToolConfig) -> Result<(), String> {
    let jail = Jail { config, workspace: None, network: false, as_root: running_as_root() };
    let output =
        Command::new(&config.bwrap).args(jail.arguments("true")).stdin(Stdio::null()).output().map_err(|error| {
            format!("bubblewrap (`{}`) cannot be started: {error}; {}", config.bwrap, install_hint())
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "bubblewrap (`{}`) cannot make a sandbox here ({}: {}); it needs user namespaces, or Steward running as root, \
         and `setpriv` and `prlimit` (util-linux); {}",
        config.bwrap,
        output.status,
        stderr.trim(),
        install_hint()
    ))
}
