//! The `[oversight]` table: when the guardian looks at runs, with which
//! model, and its policy (defaults, and per agent by name).
//!
//! ```toml
//! [oversight]
//! guardian_after = "2m"      # runs younger than this are left alone
//! guardian_every = "1m"      # at most one look per run this often
//! guardian_model = "anthropic/claude-haiku-4-5"   # default: the agent's model
//! auto_cancel = false        # a cancel then waits for a person
//!
//! [oversight.agents.Scribe]
//! auto_cancel = true
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use steward_domain::ValidationError;
use steward_domain::oversight::{GuardianPolicy, parse_span};

/// One agent's policy, each field falling back to the table's.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverride {
    pub steer_below: Option<f64>,
    pub pause_below: Option<f64>,
    pub cancel_below: Option<f64>,
    pub auto_pause: Option<bool>,
    pub auto_cancel: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OversightConfig {
    /// Whether the guardian looks at long runs at all.
    pub guardian: bool,
    pub guardian_after: String,
    pub guardian_every: String,
    /// `provider/model` of the looks; unset, each run's agent's model.
    pub guardian_model: Option<String>,
    pub steer_below: f64,
    pub pause_below: f64,
    pub cancel_below: f64,
    pub auto_pause: bool,
    pub auto_cancel: bool,
    /// Per agent (by name, any case).
    pub agents: BTreeMap<String, PolicyOverride>,
}

impl Default for OversightConfig {
    fn default() -> Self {
        let policy = GuardianPolicy::default();
        OversightConfig {
            guardian: true,
            guardian_after: "2m".into(),
            guardian_every: "1m".into(),
            guardian_model: None,
            steer_below: policy.steer_below,
            pause_below: policy.pause_below,
            cancel_below: policy.cancel_below,
            auto_pause: policy.auto_pause,
            auto_cancel: policy.auto_cancel,
            agents: BTreeMap::new(),
        }
    }
}

/// The guardian's settings, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct GuardianSettings {
    pub after: Duration,
    pub every: Duration,
    pub model: Option<String>,
    pub policy: GuardianPolicy,
    /// By lower-cased agent name.
    pub agents: BTreeMap<String, GuardianPolicy>,
}

impl GuardianSettings {
    /// The policy for the agent named `name`.
    pub fn policy_for(&self, name: &str) -> GuardianPolicy {
        self.agents.get(&name.to_lowercase()).copied().unwrap_or(self.policy)
    }
}

impl OversightConfig {
    /// The guardian's settings, or the field at fault (`oversight.…`).
    pub fn settings(&self) -> Result<GuardianSettings, ValidationError> {
        let prefixed =
            |error: ValidationError| ValidationError::new(format!("oversight.{}", error.field), error.message);
        let after = parse_span("guardian_after", &self.guardian_after).map_err(prefixed)?;
        let every = parse_span("guardian_every", &self.guardian_every).map_err(prefixed)?;
        let policy = GuardianPolicy {
            steer_below: self.steer_below,
            pause_below: self.pause_below,
            cancel_below: self.cancel_below,
            auto_pause: self.auto_pause,
            auto_cancel: self.auto_cancel,
        };
        policy.validate().map_err(prefixed)?;
        let mut agents = BTreeMap::new();
        for (name, change) in &self.agents {
            let agent = GuardianPolicy {
                steer_below: change.steer_below.unwrap_or(policy.steer_below),
                pause_below: change.pause_below.unwrap_or(policy.pause_below),
                cancel_below: change.cancel_below.unwrap_or(policy.cancel_below),
                auto_pause: change.auto_pause.unwrap_or(policy.auto_pause),
                auto_cancel: change.auto_cancel.unwrap_or(policy.auto_cancel),
            };
            agent.validate().map_err(|error| {
                ValidationError::new(format!("oversight.agents.{name}.{}", error.field), error.message)
            })?;
            agents.insert(name.to_lowercase(), agent);
        }
        Ok(GuardianSettings { after, every, model: self.guardian_model.clone(), policy, agents })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_spans_and_per_agent_policies() {
        let mut config =
            OversightConfig { guardian_after: "5m".into(), guardian_every: "30s".into(), ..OversightConfig::default() };
        config.agents.insert("Scribe".into(), PolicyOverride { auto_cancel: Some(true), ..PolicyOverride::default() });
        let settings = config.settings().unwrap();
        assert_eq!(settings.after, Duration::from_secs(300));
        assert_eq!(settings.every, Duration::from_secs(30));
        assert!(settings.policy_for("scribe").auto_cancel);
        assert!(!settings.policy_for("Other").auto_cancel);
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let config = OversightConfig { guardian_every: "often".into(), ..OversightConfig::default() };
        assert_eq!(config.settings().unwrap_err().field, "oversight.guardian_every");
        let mut config = OversightConfig::default();
        config.agents.insert("Scribe".into(), PolicyOverride { cancel_below: Some(0.9), ..PolicyOverride::default() });
        assert_eq!(config.settings().unwrap_err().field, "oversight.agents.Scribe.cancel_below");
    }
}
