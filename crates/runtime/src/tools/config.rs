//! Settings of the built-in tools: the `[tools]` table of Steward's
//! configuration (limits of the workspace tools, the `http.fetch` allowlist,
//! the `shell.run` sandbox, which tools need a person's approval).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outbound::{AddressPolicy, InvalidAllowEntry};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ToolsConfig {
    /// Names of tools whose calls wait for a person's approval
    /// (`["http.fetch", "workspace.write"]`), on top of the tools that
    /// always ask.
    pub require_approval: Vec<String>,
    pub workspace: WorkspaceToolsConfig,
    pub http: HttpToolConfig,
    pub shell: ShellToolConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WorkspaceToolsConfig {
    /// Most bytes `workspace.read` (and `skills.read_resource`) returns in one
    /// call; a larger file is read in parts with `offset`.
    pub max_read_bytes: u64,
    /// Largest file `workspace.write` writes.
    pub max_write_bytes: u64,
    /// Most entries `workspace.list` returns.
    pub max_list_entries: usize,
    /// Most matching lines `workspace.search` returns.
    pub max_search_results: usize,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HttpToolConfig {
    /// Hosts, addresses and CIDR ranges `http.fetch` may reach even though
    /// they are loopback, private or otherwise not public:
    /// `["127.0.0.1", "10.0.0.0/8", "internal.example"]`.
    pub allow: Vec<String>,
    /// Most bytes of a response body read; the rest is cut off (and said so).
    pub max_response_bytes: u64,
    /// Time limit of a whole fetch, redirects and body included.
    pub timeout_secs: u64,
    /// Most redirects followed.
    pub max_redirects: usize,
}

/// `shell.run`: commands under bubblewrap, for agents whose tool list names
/// it (it is in no default set).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ShellToolConfig {
    /// The bubblewrap program (`apt-get install bubblewrap`).
    pub bwrap: String,
    /// Calls wait for a person's approval; on unless turned off here.
    pub require_approval: bool,
    /// Ids of the agents whose commands may use the network; every other
    /// agent's run in a network namespace of their own, with no interface but
    /// loopback.
    pub network_agents: Vec<i64>,
    /// The user id commands run as when Steward runs as root (the default
    /// is `nobody`); the workspace is handed to it before each command.
    pub sandbox_uid: u32,
    /// CPU seconds each process of a command may use.
    pub cpu_secs: u64,
    /// Address space of each process of a command, in MiB.
    pub memory_mib: u64,
    /// Most processes at once (the user's, for `sandbox_uid` when root).
    pub max_processes: u64,
    /// Wall-clock limit of a command; then its whole sandbox is killed.
    pub timeout_secs: u64,
    /// Most bytes of standard output, and of standard error, returned; the
    /// rest is read and dropped (and said so).
    pub max_output_bytes: u64,
}

impl Default for ShellToolConfig {
    fn default() -> Self {
        ShellToolConfig {
            bwrap: "bwrap".into(),
            require_approval: true,
            network_agents: Vec::new(),
            sandbox_uid: 65534,
            cpu_secs: 30,
            memory_mib: 1024,
            max_processes: 256,
            timeout_secs: 60,
            max_output_bytes: 64 * 1024,
        }
    }
}

impl Default for WorkspaceToolsConfig {
    fn default() -> Self {
        WorkspaceToolsConfig {
            max_read_bytes: 256 * 1024,
            max_write_bytes: 10 * 1024 * 1024,
            max_list_entries: 1000,
            max_search_results: 100,
        }
    }
}

impl Default for HttpToolConfig {
    fn default() -> Self {
        HttpToolConfig { allow: Vec::new(), max_response_bytes: 256 * 1024, timeout_secs: 30, max_redirects: 5 }
    }
}

impl HttpToolConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// A setting of `[tools]` that cannot work, named by its key.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ToolsConfigError {
    #[error("tools.http.allow: {0}")]
    Allow(#[from] InvalidAllowEntry),
    #[error("the HTTP client for http.fetch cannot start: {0}")]
    HttpClient(String),
    #[error("tools.{key} must be at least 1")]
    Zero { key: &'static str },
    #[error("tools.shell.sandbox_uid must not be 0: commands would run as root")]
    RootSandbox,
}

impl ToolsConfig {
    /// Checks every setting, so a bad one is reported when Steward starts
    /// rather than at the first tool call.
    pub fn validate(&self) -> Result<(), ToolsConfigError> {
        AddressPolicy::from_allowlist(&self.http.allow)?;
        if self.shell.sandbox_uid == 0 {
            return Err(ToolsConfigError::RootSandbox);
        }
        let positive = [
            ("workspace.max_read_bytes", self.workspace.max_read_bytes == 0),
            ("workspace.max_write_bytes", self.workspace.max_write_bytes == 0),
            ("workspace.max_list_entries", self.workspace.max_list_entries == 0),
            ("workspace.max_search_results", self.workspace.max_search_results == 0),
            ("http.max_response_bytes", self.http.max_response_bytes == 0),
            ("http.timeout_secs", self.http.timeout_secs == 0),
            ("shell.cpu_secs", self.shell.cpu_secs == 0),
            ("shell.memory_mib", self.shell.memory_mib == 0),
            ("shell.max_processes", self.shell.max_processes == 0),
            ("shell.timeout_secs", self.shell.timeout_secs == 0),
            ("shell.max_output_bytes", self.shell.max_output_bytes == 0),
        ];
        match positive.into_iter().find(|(_, is_zero)| *is_zero) {
            Some((key, _)) => Err(ToolsConfigError::Zero { key }),
            None => Ok(()),
        }
    }
}
