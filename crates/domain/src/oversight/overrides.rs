//! A project's guardian policy: what it changes of the agent's or the
//! configured one (`[oversight]`). Precedence is project > agent > global:
//! each field a project sets wins; what it leaves unset falls back. The
//! three thresholds are set together or not at all, so a project's
//! thresholds are ordered whatever the configuration says.

use serde::{Deserialize, Serialize};

use super::guardian::GuardianPolicy;
use crate::validation::ValidationError;

/// A project's changes to the guardian's policy; all `None` changes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardianOverride {
    /// Whether the guardian looks at the project's runs at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardian: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steer_below: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_below: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_below: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_pause: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_cancel: Option<bool>,
}

impl GuardianOverride {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == GuardianOverride::default()
    }

    /// Checks the thresholds: all three or none, each 0 to 1, ordered.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match (self.steer_below, self.pause_below, self.cancel_below) {
            (None, None, None) => Ok(()),
            (Some(steer_below), Some(pause_below), Some(cancel_below)) => {
                GuardianPolicy { steer_below, pause_below, cancel_below, ..GuardianPolicy::default() }.validate()
            }
            (steer, pause, _) => {
                let missing = if steer.is_none() {
                    "steer_below"
                } else if pause.is_none() {
                    "pause_below"
                } else {
                    "cancel_below"
                };
                Err(ValidationError::new(
                    missing,
                    "is missing; a project sets steer_below, pause_below and cancel_below together or none of them",
                ))
            }
        }
    }

    /// Whether the guardian looks, given whether it would without this.
    pub fn enabled_over(&self, base: bool) -> bool {
        self.guardian.unwrap_or(base)
    }

    /// `base` (the agent's or the configured policy) with these changes.
    pub fn over(&self, base: GuardianPolicy) -> GuardianPolicy {
        let thresholds = match (self.steer_below, self.pause_below, self.cancel_below) {
            (Some(steer), Some(pause), Some(cancel)) => (steer, pause, cancel),
            _ => (base.steer_below, base.pause_below, base.cancel_below),
        };
        GuardianPolicy {
            steer_below: thresholds.0,
            pause_below: thresholds.1,
            cancel_below: thresholds.2,
            auto_pause: self.auto_pause.unwrap_or(base.auto_pause),
            auto_cancel: self.auto_cancel.unwrap_or(base.auto_cancel),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_project_sets_wins_and_the_rest_falls_back() {
        let base = GuardianPolicy { auto_pause: false, ..GuardianPolicy::default() };
        let change = GuardianOverride {
            steer_below: Some(0.9),
            pause_below: Some(0.6),
            cancel_below: Some(0.5),
            auto_cancel: Some(true),
            ..GuardianOverride::default()
        };
        let policy = change.over(base);
        assert_eq!((policy.steer_below, policy.pause_below, policy.cancel_below), (0.9, 0.6, 0.5));
        assert!(policy.auto_cancel && !policy.auto_pause);
        assert_eq!(GuardianOverride::default().over(base), base);
        assert!(!GuardianOverride { guardian: Some(false), ..change }.enabled_over(true));
        assert!(change.enabled_over(true) && !change.enabled_over(false));
    }

    #[test]
    fn thresholds_come_together_and_ordered() {
        let partial = GuardianOverride { steer_below: Some(0.8), cancel_below: Some(0.1), ..Default::default() };
        assert_eq!(partial.validate().unwrap_err().field, "pause_below");
        let disordered = GuardianOverride {
            steer_below: Some(0.3),
            pause_below: Some(0.5),
            cancel_below: Some(0.1),
            ..GuardianOverride::default()
        };
        assert!(disordered.validate().is_err());
        let out_of_range = GuardianOverride { steer_below: Some(1.5), ..disordered };
        assert_eq!(out_of_range.validate().unwrap_err().field, "steer_below");
        assert!(GuardianOverride { guardian: Some(false), ..GuardianOverride::default() }.validate().is_ok());
    }

    #[test]
    fn it_reads_and_writes_only_what_it_sets() {
        let change: GuardianOverride = serde_json::from_str(r#"{"guardian": false, "auto_cancel": true}"#).unwrap();
        assert_eq!(change.guardian, Some(false));
        assert_eq!(serde_json::to_string(&change).unwrap(), r#"{"guardian":false,"auto_cancel":true}"#);
        assert!(serde_json::from_str::<GuardianOverride>(r#"{"auto_stop": true}"#).is_err());
    }
}
