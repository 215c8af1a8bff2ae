//! The bubblewrap command line of a sandbox: a read-only view of the
//! system's programs and libraries, the workspace read-write at
//! `/workspace`, a private `/tmp`, new PID, IPC, UTS (and, unless allowed,
//! network) namespaces, and the limits applied inside by `prlimit`.
//!
//! When Steward runs as root, bubblewrap runs privileged and `setpriv`
//! drops the command to the unprivileged `sandbox_uid` with no
//! capabilities: a root command could remount its view, and the kernel does
//! not apply a process limit to root. Otherwise bubblewrap makes a user
//! namespace, and the command has no capabilities outside it.

use std::ffi::OsString;
use std::path::Path;

use super::super::config::ShellToolConfig;

/// Folders of the host shown read-only (a symbolic link, as on merged-`/usr`
/// systems, is recreated as one). Homes, `/root`, `/var`, `/opt`, `/srv`,
/// `/mnt`, `/run` and Steward's own home are not there at all.
const SYSTEM_FOLDERS: [&str; 8] = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"];

/// Where the workspace appears inside, and the command's current folder.
pub const INSIDE_WORKSPACE: &str = "/workspace";

/// What one sandboxed command gets.
pub struct Jail<'a> {
    pub config: &'a ShellToolConfig,
    /// Bound read-write at [`INSIDE_WORKSPACE`]; `None` for the availability
    /// probe, which writes nothing.
    pub workspace: Option<&'a Path>,
    pub network: bool,
    /// Steward runs as root: drop to `sandbox_uid` inside.
    pub as_root: bool,
}

impl Jail<'_> {
    /// The arguments of `bwrap` that run `command` with `/bin/sh -c`.
    pub fn arguments(&self, command: &str) -> Vec<OsString> {
        let mut arguments: Vec<OsString> = Vec::new();
        let mut push = |items: &[&str]| arguments.extend(items.iter().map(OsString::from));
        for name in SYSTEM_FOLDERS {
            let host = Path::new("/").join(name);
            let Ok(metadata) = std::fs::symlink_metadata(&host) else { continue };
            let host = host.to_string_lossy().into_owned();
            if metadata.file_type().is_symlink() {
                if let Ok(target) = std::fs::read_link(&host) {
                    push(&["--symlink", &target.to_string_lossy(), &host]);
                }
            } else if metadata.is_dir() {
                push(&["--ro-bind", &host, &host]);
            }
        }
        push(&["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", "--dir", INSIDE_WORKSPACE]);
        if let Some(workspace) = self.workspace {
            push(&["--bind", &workspace.to_string_lossy(), INSIDE_WORKSPACE]);
        }
        push(&["--remount-ro", "/", "--chdir", INSIDE_WORKSPACE]);
        push(&["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]);
        if !self.network {
            push(&["--unshare-net"]);
        }
        if !self.as_root {
            push(&["--unshare-user", "--disable-userns"]);
        }
        push(&["--die-with-parent", "--new-session", "--clearenv"]);
        for (name, value) in [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("HOME", INSIDE_WORKSPACE),
            ("TMPDIR", "/tmp"),
            ("LANG", "C.UTF-8"),
        ] {
            push(&["--setenv", name, value]);
        }
        push(&["--"]);
        let config = self.config;
        if self.as_root {
            let uid = config.sandbox_uid.to_string();
            push(&["/usr/bin/setpriv", "--reuid", &uid, "--regid", &uid, "--clear-groups"]);
            push(&["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]);
        }
        let cpu = format!("--cpu={}", config.cpu_secs);
        let memory = format!("--as={}", config.memory_mib.saturating_mul(1024 * 1024));
        let processes = format!("--nproc={}", config.max_processes);
        push(&["/usr/bin/prlimit", &cpu, &memory, &processes, "--core=0", "--", "/bin/sh", "-c", command]);
        arguments
    }
}
