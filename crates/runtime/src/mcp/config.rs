//! The `[mcp]` table: the MCP servers agents may use, each a stdio command
//! (with arguments, environment and working directory) or a streamable-HTTP
//! URL (with headers), global or for the agents it names, with allow and
//! deny globs over its tool names, the tools that need a person's approval,
//! a per-call timeout and a cap on a result's size.
//!
//! ```toml
//! [mcp.servers.everything]
//! command = "npx"
//! args = ["-y", "@modelcontextprotocol/server-everything"]
//! env = { API_KEY = "secret:everything-key" }
//! agents = ["researcher"]          # absent: every agent
//! deny = ["*Long*"]
//! require_approval = ["write_*"]
//!
//! [mcp.servers.search]
//! url = "https://search.example/mcp"
//! headers = { Authorization = "secret:search-auth" }
//! elicitation = "defaults"         # answer its forms with their defaults
//!
//! [mcp.servers.tracker]
//! url = "https://tracker.example/mcp"
//! auth = "oauth"                   # OAuth 2.1 with PKCE (`oauth.rs`)
//! client_id = "steward"            # optional: a pre-registered client
//! client_secret = "secret:tracker-oauth"
//! ```
//!
//! A value of `env`, `headers` or `client_secret` written `secret:NAME` is
//! the secret of that name (`steward secret set NAME`), looked up when the
//! server starts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::elicitation::ElicitationPolicy;
use super::glob::Glob;

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct McpConfig {
    /// By name; the name is the middle of the tools' names (`mcp.NAME.tool`).
    pub servers: BTreeMap<String, McpServerConfig>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct McpServerConfig {
    /// The program of a stdio server; give this or `url`.
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
    /// The endpoint of a streamable-HTTP server; give this or `command`.
    pub url: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// The agents (by name) that get this server's tools; empty: every agent.
    pub agents: Vec<String>,
    /// Globs over the server's tool names (`*`, `?`); empty: every tool.
    pub allow: Vec<String>,
    /// Tools never offered, whatever `allow` says.
    pub deny: Vec<String>,
    /// Tools whose calls wait for a person's approval (`["*"]`: all).
    pub require_approval: Vec<String>,
    /// Time limit of one call (and of starting the server).
    pub timeout_secs: u64,
    /// Most characters of a result the agent sees; the rest is cut, and said so.
    pub max_result_chars: usize,
    /// The protocol era: `auto` (try 2026-07-28's `server/discover`, fall
    /// back to 2025-11-25's `initialize`), `2025-11-25` or `2026-07-28`.
    pub protocol: String,
    /// How a server's request for input is answered: `decline` (no
    /// elicitation capability declared) or `defaults` (a form is accepted
    /// with the defaults its schema gives; see `elicitation.rs`).
    pub elicitation: String,
    /// How an HTTP server is authorized: `none` (its `headers`, if any) or
    /// `oauth` (OAuth 2.1 with PKCE, see `oauth.rs`).
    pub auth: String,
    /// A client registered with the server's authorization server ahead of
    /// time; absent: a client ID metadata document (`client_metadata_url`)
    /// or dynamic registration.
    pub client_id: Option<String>,
    /// The pre-registered client's secret (`secret:NAME`); absent: a public
    /// client.
    pub client_secret: Option<String>,
    /// An https URL where Steward's client metadata document is published,
    /// used as the client ID by authorization servers that accept them.
    pub client_metadata_url: Option<String>,
}

impl Default for McpServerConfig {
    fn default() -> Self {
        McpServerConfig {
            command: None,
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            url: None,
            headers: BTreeMap::new(),
            agents: Vec::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            require_approval: Vec::new(),
            timeout_secs: 60,
            max_result_chars: 50_000,
            protocol: "auto".to_string(),
            elicitation: "decline".to_string(),
            auth: "none".to_string(),
            client_id: None,
            client_secret: None,
            client_metadata_url: None,
        }
    }
}

/// A setting of `[mcp]` that cannot work, named by its key.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("mcp.servers.{server}.{key}: {problem}")]
pub struct McpConfigError {
    pub server: String,
    pub key: &'static str,
    pub problem: String,
}

impl McpConfig {
    /// Checks every server, so a bad setting is reported when Steward
    /// starts rather than at an agent's first run.
    pub fn validate(&self) -> Result<(), McpConfigError> {
        for (name, server) in &self.servers {
            server.validate(name)?;
        }
        Ok(())
    }
}

impl McpServerConfig {
    /// The `elicitation` setting (checked by `validate`; `decline` otherwise).
    pub fn elicitation_policy(&self) -> ElicitationPolicy {
        ElicitationPolicy::parse(&self.elicitation).unwrap_or(ElicitationPolicy::Decline)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    fn validate(&self, name: &str) -> Result<(), McpConfigError> {
        let error = |key: &'static str, problem: &str| McpConfigError {
            server: name.to_string(),
            key,
            problem: problem.to_string(),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(error("name", "a server's name is letters, digits, '-' and '_' (it is part of tool names)"));
        }
        match (&self.command, &self.url) {
            (Some(_), Some(_)) => return Err(error("url", "give `command` (stdio) or `url` (HTTP), not both")),
            (None, None) => return Err(error("command", "give `command` (stdio) or `url` (HTTP)")),
            (Some(command), None) if command.trim().is_empty() => return Err(error("command", "must not be empty")),
            (None, Some(url)) => match url::Url::parse(url) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
                _ => return Err(error("url", "must be an http:// or https:// URL")),
            },
            _ => {}
        }
        if self.timeout_secs == 0 {
            return Err(error("timeout_secs", "must be at least 1"));
        }
        if self.max_result_chars == 0 {
            return Err(error("max_result_chars", "must be at least 1"));
        }
        if !matches!(self.protocol.as_str(), "auto" | "2025-11-25" | "2026-07-28") {
            return Err(error("protocol", "must be auto, 2025-11-25 or 2026-07-28"));
        }
        if ElicitationPolicy::parse(&self.elicitation).is_none() {
            return Err(error("elicitation", "must be decline or defaults"));
        }
        match self.auth.as_str() {
            "none" => {}
            "oauth" if self.url.is_none() => return Err(error("auth", "oauth is for HTTP servers (`url`)")),
            "oauth" => {}
            _ => return Err(error("auth", "must be none or oauth")),
        }
        if self.auth != "oauth" && (self.client_id.is_some() || self.client_metadata_url.is_some()) {
            return Err(error("client_id", "is used with auth = \"oauth\" only"));
        }
        if self.client_secret.is_some() && self.client_id.is_none() {
            return Err(error("client_secret", "needs the client_id it belongs to"));
        }
        if let Some(url) = &self.client_metadata_url
            && !url::Url::parse(url).is_ok_and(|url| url.scheme() == "https" && url.path() != "/")
        {
            return Err(error("client_metadata_url", "must be an https:// URL with a path"));
        }
        for (key, header) in [("headers", &self.headers), ("env", &self.env)] {
            if let Some(name) = header.keys().find(|name| name.is_empty()) {
                return Err(error(key, &format!("a name is empty ({name:?})")));
            }
        }
        Ok(())
    }

    /// Whether `agent` (by name) gets this server's tools.
    pub fn serves(&self, agent: &str) -> bool {
        self.agents.is_empty() || self.agents.iter().any(|name| name.eq_ignore_ascii_case(agent))
    }

    /// Whether the server's tool `tool` is offered.
    pub fn offers(&self, tool: &str) -> bool {
        let allowed = self.allow.is_empty() || self.allow.iter().any(|glob| Glob::new(glob).matches(tool));
        allowed && !self.deny.iter().any(|glob| Glob::new(glob).matches(tool))
    }

    /// Whether calls of `tool` wait for a person.
    pub fn needs_approval(&self, tool: &str) -> bool {
        self.require_approval.iter().any(|glob| Glob::new(glob).matches(tool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio() -> McpServerConfig {
        McpServerConfig { command: Some("npx".into()), ..McpServerConfig::default() }
    }

    #[test]
    fn a_server_is_a_command_or_a_url() {
        let config = |server| McpConfig { servers: [("s".to_string(), server)].into() }.validate();
        assert_eq!(config(stdio()), Ok(()));
        let both = McpServerConfig { url: Some("http://x/mcp".into()), ..stdio() };
        assert_eq!(config(both).unwrap_err().key, "url");
        assert_eq!(config(McpServerConfig::default()).unwrap_err().key, "command");
        let ftp = McpServerConfig { url: Some("ftp://x".into()), ..McpServerConfig::default() };
        assert_eq!(config(ftp).unwrap_err().to_string(), "mcp.servers.s.url: must be an http:// or https:// URL");
        let bad_name = McpConfig { servers: [("a.b".to_string(), stdio())].into() }.validate();
        assert_eq!(bad_name.unwrap_err().key, "name");
        let asking = McpServerConfig { elicitation: "ask".into(), ..stdio() };
        assert_eq!(config(asking).unwrap_err().key, "elicitation");
    }

    #[test]
    fn oauth_is_for_http_servers_and_a_secret_needs_its_client() {
        let config = |server| McpConfig { servers: [("s".to_string(), server)].into() }.validate();
        let http = || McpServerConfig { url: Some("https://x/mcp".into()), auth: "oauth".into(), ..Default::default() };
        assert_eq!(config(http()), Ok(()));
        let stdio_oauth = McpServerConfig { auth: "oauth".into(), ..stdio() };
        assert_eq!(config(stdio_oauth).unwrap_err().key, "auth");
        let lonely_secret = McpServerConfig { client_secret: Some("secret:s".into()), ..http() };
        assert_eq!(config(lonely_secret).unwrap_err().key, "client_secret");
        let plain_metadata = McpServerConfig { client_metadata_url: Some("http://x/client.json".into()), ..http() };
        assert_eq!(config(plain_metadata).unwrap_err().key, "client_metadata_url");
        let unknown = McpServerConfig { auth: "basic".into(), ..http() };
        assert_eq!(config(unknown).unwrap_err().to_string(), "mcp.servers.s.auth: must be none or oauth");
    }

    #[test]
    fn globs_choose_the_tools_offered_and_those_approved() {
        let server = McpServerConfig {
            allow: vec!["get_*".into(), "echo".into()],
            deny: vec!["get_secret*".into()],
            require_approval: vec!["*".into()],
            agents: vec!["Writer".into()],
            ..stdio()
        };
        assert!(server.offers("echo"));
        assert!(server.offers("get_weather"));
        assert!(!server.offers("get_secret_key"));
        assert!(!server.offers("add"));
        assert!(server.needs_approval("echo"));
        assert!(server.serves("writer"));
        assert!(!server.serves("reader"));
        assert!(stdio().serves("anyone"));
    }
}
