//! Where the CLI finds its server, resolved the way `serve` resolves its own
//! address: `--server`, then `STEWARD_URL` (or the older `STEWARD_SERVER`),
//! then the address a running `steward serve` wrote into the home
//! (`STEWARD_HOME`), then `bind` from the home's `config.toml` and
//! `STEWARD_BIND`, then the default `127.0.0.1:8420`.
//!
//! `serve` writes `server.json` into its home once it listens (to a
//! temporary file renamed into place, so a reader never sees half of it) and
//! removes it when it stops. A file left by a process that was killed names
//! a process id that no longer runs, and is ignored.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Overrides};

/// The file in the home that names the running server.
pub const ADDRESS_FILE: &str = "server.json";

/// What `server.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningServer {
    pub url: String,
    pub pid: u32,
}

/// The URL the CLI talks to, from the first source that names one.
pub fn resolve(flag: Option<&str>) -> anyhow::Result<String> {
    if let Some(url) = flag {
        return Ok(url.to_string());
    }
    for variable in ["STEWARD_URL", "STEWARD_SERVER"] {
        if let Some(url) = std::env::var(variable).ok().filter(|url| !url.trim().is_empty()) {
            return Ok(url);
        }
    }
    let config = Config::load(&Overrides::default())?;
    if let Some(running) = read_running(&config.home) {
        return Ok(running.url);
    }
    Ok(url_of(config.bind))
}

/// The URL of a listening address; a wildcard bind is reached on loopback.
pub fn url_of(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// The server named in the home, unless the file is missing, unreadable or
/// left by a process that no longer runs.
pub fn read_running(home: &Path) -> Option<RunningServer> {
    let text = std::fs::read_to_string(home.join(ADDRESS_FILE)).ok()?;
    let running: RunningServer = serde_json::from_str(&text).ok()?;
    process_runs(running.pid).then_some(running)
}

fn process_runs(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else {
        return false;
    };
    // EPERM: the process exists but belongs to someone else.
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

/// `server.json` of a running `serve`; removed when dropped, unless another
/// server has written its own since.
#[derive(Debug)]
pub struct AddressFile {
    path: PathBuf,
    written: RunningServer,
}

impl AddressFile {
    /// Writes the file atomically: a temporary file in the home, renamed.
    pub fn write(home: &Path, address: SocketAddr) -> anyhow::Result<AddressFile> {
        let written = RunningServer { url: url_of(address), pid: std::process::id() };
        let path = home.join(ADDRESS_FILE);
        let mut temporary = tempfile::NamedTempFile::new_in(home)
            .with_context(|| format!("cannot write the server's address into {}", home.display()))?;
        temporary.write_all(serde_json::to_string(&written)?.as_bytes())?;
        temporary.persist(&path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(AddressFile { path, written })
    }
}

impl Drop for AddressFile {
    fn drop(&mut self) {
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| serde_json::from_str::<RunningServer>(&text).ok())
            .is_some_and(|found| found == self.written);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_reached_on_loopback() {
        assert_eq!(url_of("0.0.0.0:9000".parse().unwrap()), "http://127.0.0.1:9000");
        assert_eq!(url_of("[::]:9000".parse().unwrap()), "http://[::1]:9000");
        assert_eq!(url_of("192.0.2.7:80".parse().unwrap()), "http://192.0.2.7:80");
    }

    #[test]
    fn the_address_file_names_this_process_until_dropped() {
        let home = tempfile::tempdir().unwrap();
        let file = AddressFile::write(home.path(), "127.0.0.1:4321".parse().unwrap()).unwrap();
        let running = read_running(home.path()).unwrap();
        assert_eq!(running, RunningServer { url: "http://127.0.0.1:4321".into(), pid: std::process::id() });
        drop(file);
        assert!(!home.path().join(ADDRESS_FILE).exists());
    }

    #[test]
    fn a_file_left_by_a_dead_process_is_ignored() {
        let home = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = RunningServer { url: "http://127.0.0.1:1".into(), pid: dead };
        std::fs::write(home.path().join(ADDRESS_FILE), serde_json::to_string(&stale).unwrap()).unwrap();
        assert_eq!(read_running(home.path()), None);
        std::fs::write(home.path().join(ADDRESS_FILE), "{\"url\": ").unwrap();
        assert_eq!(read_running(home.path()), None, "half a file is ignored");
    }
}
