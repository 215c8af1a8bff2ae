//! The `[oversight]` table: when the guardian looks at runs, with which
//! model, and its policy (defaults, and per agent by name); how often
//! duplicate work is looked for, and how alike two items must be.
//!
//! ```toml
//! [oversight]
//! guardian_after = "2m"      # runs younger than this are left alone
//! guardian_every = "1m"      # at most one look per run this often
//! guardian_model = "anthropic/claude-haiku-4-5"   # default: the agent's model
//! auto_cancel = false        # a cancel then waits for a person
//! duplicate_scan_every = "10m"   # "off" for `steward duplicates scan` only
//! duplicate_flag_at = 0.75       # text similarity that flags a pair
//! duplicate_ask_from = 0.5       # text similarity that asks a model
//! duplicate_embedding_flag_at = 0.8   # the same for embeddings' cosine,
//! duplicate_embedding_ask_from = 0.55   # when memory has an embedding model
//!
//! [oversight.agents.Scribe]
//! auto_cancel = true
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use steward_domain::ValidationError;
use steward_domain::oversight::duplicates::DuplicateThresholds;
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
    /// How often duplicate work is looked for on its own (`"off"`: only
    /// when asked). A scan finding nothing changed since the last costs nothing.
    pub duplicate_scan_every: String,
    pub duplicate_flag_at: f64,
    pub duplicate_ask_from: f64,
    pub duplicate_embedding_flag_at: f64,
    pub duplicate_embedding_ask_from: f64,
}

impl Default for OversightConfig {
    fn default() -> Self {
        let policy = GuardianPolicy::default();
        let thresholds = DuplicateThresholds::default();
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
            duplicate_scan_every: "10m".into(),
            duplicate_flag_at: thresholds.flag_at,
            duplicate_ask_from: thresholds.ask_from,
            duplicate_embedding_flag_at: thresholds.embedding_flag_at,
            duplicate_embedding_ask_from: thresholds.embedding_ask_from,
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
    /// The thresholds of duplicate scans, or the field at fault.
    pub fn duplicate_thresholds(&self) -> Result<DuplicateThresholds, ValidationError> {
        let thresholds = DuplicateThresholds {
            flag_at: self.duplicate_flag_at,
            ask_from: self.duplicate_ask_from,
            embedding_flag_at: self.duplicate_embedding_flag_at,
            embedding_ask_from: self.duplicate_embedding_ask_from,
        };
        thresholds
            .validate()
            .map_err(|error| ValidationError::new(format!("oversight.{}", error.field), error.message))?;
        Ok(thresholds)
    }

    /// How often duplicate work is looked for on its own; `None` when off.
    pub fn duplicate_scan_every(&self) -> Result<Option<Duration>, ValidationError> {
        if self.duplicate_scan_every.trim().eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        parse_span("oversight.duplicate_scan_every", &self.duplicate_scan_every).map(Some)
    }

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
        let config = OversightConfig { duplicate_scan_every: "sometimes".into(), ..OversightConfig::default() };
        assert_eq!(config.duplicate_scan_every().unwrap_err().field, "oversight.duplicate_scan_every");
        let config = OversightConfig { duplicate_embedding_flag_at: 2.0, ..OversightConfig::default() };
        assert_eq!(config.duplicate_thresholds().unwrap_err().field, "oversight.duplicate_embedding_flag_at");
    }

    #[test]
    fn duplicate_scans_run_every_ten_minutes_unless_turned_off() {
        let config = OversightConfig::default();
        assert_eq!(config.duplicate_scan_every().unwrap(), Some(Duration::from_secs(600)));
        assert_eq!(config.duplicate_thresholds().unwrap(), DuplicateThresholds::default());
        let off = OversightConfig { duplicate_scan_every: "off".into(), ..OversightConfig::default() };
        assert_eq!(off.duplicate_scan_every().unwrap(), None);
    }
}
