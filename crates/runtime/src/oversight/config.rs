//! The `[oversight]` table: when the guardian looks at runs, with which
//! model, what it may spend, and its policy (defaults, and per agent by
//! name; a project's own policy, stored with the project, comes first:
//! project > agent > global); how often duplicate work is looked for, and
//! how alike two items must be.
//!
//! ```toml
//! [oversight]
//! guardian_after = "2m"      # runs younger than this are left alone
//! guardian_every = "1m"      # at most one look per run this often
//! guardian_model = "anthropic/claude-haiku-4-5"   # default: the agent's model
//! guardian_budget_usd = 0.05 # the most its looks at one run may cost
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
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use steward_domain::ValidationError;
use steward_domain::oversight::duplicates::DuplicateThresholds;
use steward_domain::oversight::{GuardianOverride, GuardianPolicy, parse_span};

use crate::agent::GuardianWatch;

/// One agent's policy, each field falling back to the table's.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverride {
    /// Whether the guardian looks at the agent's runs (the table's `guardian` when unset).
    pub guardian: Option<bool>,
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
    /// The most the guardian's looks at one run may cost, in USD; past it
    /// the run is not looked at again. Unset, a run's looks are bounded by
    /// its steps (a look needs progress) and the agent's budget.
    pub guardian_budget_usd: Option<f64>,
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
            guardian_budget_usd: None,
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
    /// Whether the guardian looks at runs that neither their agent nor
    /// their project says otherwise of.
    pub enabled: bool,
    pub after: Duration,
    pub every: Duration,
    pub model: Option<String>,
    /// The most its looks at one run may cost.
    pub budget_usd: Option<f64>,
    pub policy: GuardianPolicy,
    /// By lower-cased agent name.
    pub agents: BTreeMap<String, AgentPolicy>,
}

/// One agent's policy with the table's filled in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AgentPolicy {
    pub enabled: bool,
    pub policy: GuardianPolicy,
}

impl Default for GuardianSettings {
    /// As an empty `[oversight]` table reads.
    fn default() -> Self {
        GuardianSettings {
            enabled: true,
            after: Duration::from_secs(120),
            every: Duration::from_secs(60),
            model: None,
            budget_usd: None,
            policy: GuardianPolicy::default(),
            agents: BTreeMap::new(),
        }
    }
}

impl GuardianSettings {
    /// The policy for the agent named `name`.
    pub fn policy_for(&self, name: &str) -> GuardianPolicy {
        self.agent(name).policy
    }

    fn agent(&self, name: &str) -> AgentPolicy {
        self.agents
            .get(&name.to_lowercase())
            .copied()
            .unwrap_or(AgentPolicy { enabled: self.enabled, policy: self.policy })
    }

    /// Whether the guardian looks at a run, for the agent runtime, which
    /// skips reading interventions of runs it does not look at.
    pub fn watch(&self) -> GuardianWatch {
        let settings = self.clone();
        Arc::new(move |agent, project| settings.resolve(agent, project).is_some())
    }

    /// The policy for a run of the agent named `agent`, with its project's
    /// changes when it works on a project's task: project > agent > global.
    /// `None` when the guardian does not look at the run at all.
    pub fn resolve(&self, agent: &str, project: Option<&GuardianOverride>) -> Option<GuardianPolicy> {
        let base = self.agent(agent);
        match project {
            Some(change) => change.enabled_over(base.enabled).then(|| change.over(base.policy)),
            None => base.enabled.then_some(base.policy),
        }
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
        if let Some(budget) = self.guardian_budget_usd
            && !(budget.is_finite() && budget > 0.0)
        {
            return Err(ValidationError::new(
                "oversight.guardian_budget_usd",
                format!("is {budget}; a budget is a positive amount of USD"),
            ));
        }
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
            agents.insert(
                name.to_lowercase(),
                AgentPolicy { enabled: change.guardian.unwrap_or(self.guardian), policy: agent },
            );
        }
        Ok(GuardianSettings {
            enabled: self.guardian,
            after,
            every,
            model: self.guardian_model.clone(),
            budget_usd: self.guardian_budget_usd,
            policy,
            agents,
        })
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
    fn a_project_comes_before_its_agent_and_the_agent_before_the_table() {
        let mut config = OversightConfig { guardian: false, auto_pause: false, ..OversightConfig::default() };
        let scribe = PolicyOverride { guardian: Some(true), auto_cancel: Some(true), ..PolicyOverride::default() };
        config.agents.insert("Scribe".into(), scribe);
        let settings = config.settings().unwrap();
        assert_eq!(settings.resolve("Other", None), None, "off in the table");
        let agent = settings.resolve("scribe", None).unwrap();
        assert!(agent.auto_cancel && !agent.auto_pause);
        let project = GuardianOverride { auto_cancel: Some(false), auto_pause: Some(true), ..Default::default() };
        let policy = settings.resolve("Scribe", Some(&project)).unwrap();
        assert!(!policy.auto_cancel && policy.auto_pause, "the project's fields win");
        assert_eq!(settings.resolve("Scribe", Some(&GuardianOverride { guardian: Some(false), ..project })), None);
        let on = GuardianOverride { guardian: Some(true), ..GuardianOverride::default() };
        assert_eq!(settings.resolve("Other", Some(&on)), Some(settings.policy), "a project turns it on");
    }

    #[test]
    fn the_default_settings_are_an_empty_tables() {
        assert_eq!(GuardianSettings::default(), OversightConfig::default().settings().unwrap());
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let config = OversightConfig { guardian_every: "often".into(), ..OversightConfig::default() };
        assert_eq!(config.settings().unwrap_err().field, "oversight.guardian_every");
        let mut config = OversightConfig::default();
        config.agents.insert("Scribe".into(), PolicyOverride { cancel_below: Some(0.9), ..PolicyOverride::default() });
        assert_eq!(config.settings().unwrap_err().field, "oversight.agents.Scribe.cancel_below");
        let config = OversightConfig { guardian_budget_usd: Some(-1.0), ..OversightConfig::default() };
        assert_eq!(config.settings().unwrap_err().field, "oversight.guardian_budget_usd");
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
