//! The `[deliveries]` table: where Slack's API and the SMTP server are,
//! which environment variables hold the secrets, and which non-public
//! addresses deliveries may reach. Secrets are never in the file.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveriesConfig {
    /// Slack's Web API base (`chat.postMessage` is appended).
    pub slack_api_base: String,
    /// The environment variable holding the Slack bot token (`xoxb-…`).
    pub slack_token_env: String,
    /// The environment variable holding the key outgoing webhooks are signed with.
    pub webhook_secret_env: String,
    /// Hosts, addresses and CIDR ranges deliveries may reach although they
    /// are not public (a Slack stand-in, an internal webhook): `["127.0.0.1"]`.
    pub allow: Vec<String>,
    /// Time limit of one attempt's HTTP request.
    pub timeout_secs: u64,
    /// The dashboard's address, for "view the run" links (empty: no link).
    pub public_url: String,
    pub smtp: SmtpConfig,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587); refused without it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine or a test sink.
    None,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Empty: no authentication.
    pub username: String,
    /// The environment variable holding the SMTP password.
    pub password_env: String,
    /// The sender, `Steward <steward@example.com>`.
    pub from: String,
}

impl Default for DeliveriesConfig {
    fn default() -> Self {
        DeliveriesConfig {
            slack_api_base: "https://slack.com/api".into(),
            slack_token_env: "SLACK_BOT_TOKEN".into(),
            webhook_secret_env: "STEWARD_WEBHOOK_SECRET".into(),
            allow: Vec::new(),
            timeout_secs: 30,
            public_url: String::new(),
            smtp: SmtpConfig::default(),
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: "localhost".into(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: String::new(),
            password_env: "STEWARD_SMTP_PASSWORD".into(),
            from: "Steward <steward@localhost>".into(),
        }
    }
}

impl DeliveriesConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }
}
