//! Settings of the built-in tools: the `[tools]` table of Steward's
//! configuration (limits of the workspace tools, the `http.fetch` allowlist,
//! which tools need a person's approval).

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
}

impl ToolsConfig {
    /// Checks every setting, so a bad one is reported when Steward starts
    /// rather than at the first tool call.
    pub fn validate(&self) -> Result<(), ToolsConfigError> {
        AddressPolicy::from_allowlist(&self.http.allow)?;
        let positive = [
            ("workspace.max_read_bytes", self.workspace.max_read_bytes == 0),
            ("workspace.max_write_bytes", self.workspace.max_write_bytes == 0),
            ("workspace.max_list_entries", self.workspace.max_list_entries == 0),
            ("workspace.max_search_results", self.workspace.max_search_results == 0),
            ("http.max_response_bytes", self.http.max_response_bytes == 0),
            ("http.timeout_secs", self.http.timeout_secs == 0),
        ];
        match positive.into_iter().find(|(_, is_zero)| *is_zero) {
            Some((key, _)) => Err(ToolsConfigError::Zero { key }),
            None => Ok(()),
        }
    }
}
