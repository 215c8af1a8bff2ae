//! The guardian's rules. A run that has worked longer than `guardian_after`
//! is looked at every `guardian_every`, but only when it has made progress
//! (new steps or tokens) since the last look, so a paused or idle run costs
//! no model call. A look asks a model for a [`GuardianVerdict`]; the
//! [`GuardianPolicy`] turns it into the intervention that is applied, or
//! left to a person.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ids::{AgentId, AssessmentId, RunId, UserId};
use crate::text_enum::text_enum;
use crate::validation::ValidationError;

text_enum!(
    /// What the guardian does about a run, mildest first.
    Intervention, "intervention", {
        /// Nothing: the run is on course.
        Continue => "continue",
        /// A message is put in the run's conversation before its next model call.
        Steer => "steer",
        /// The run stops at its next model call and waits for a person
        /// (an approval named `oversight.pause`; approving resumes it).
        Pause => "pause",
        /// The run is cancelled.
        Cancel => "cancel",
    }
);

text_enum!(
    /// Where an assessment's intervention is.
    AssessmentStatus, "status", {
        /// Nothing to apply (continue), or a recommendation stronger than
        /// the policy allows, kept for the record.
        Recorded => "recorded",
        /// Waiting for the run's next model call, which delivers it.
        Pending => "pending",
        /// The run delivered it: the message is in its conversation, or it
        /// paused for a person.
        Delivered => "delivered",
        /// The guardian applied it itself (a cancel).
        Applied => "applied",
        /// Left to a person: the policy does not apply it automatically.
        Proposed => "proposed",
        /// The run ended before the intervention reached it.
        Dropped => "dropped",
    }
);

/// What the model answers when asked about a run's trajectory.
#[derive(Clone, Debug, PartialEq)]
pub struct GuardianVerdict {
    /// 0 (lost) to 1 (squarely on the goal).
    pub alignment: f64,
    /// Why the run drifts, or empty.
    pub drift_reason: String,
    pub intervention: Intervention,
    /// The steering message to the agent, or empty.
    pub message: String,
}

/// What the guardian may do on its own. Thresholds are alignment scores:
/// below `steer_below` the run may be steered, below `pause_below` paused,
/// below `cancel_below` cancelled; the model's recommendation is lowered to
/// what the score allows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuardianPolicy {
    pub steer_below: f64,
    pub pause_below: f64,
    pub cancel_below: f64,
    /// A pause is applied without asking anyone.
    pub auto_pause: bool,
    /// A cancel is applied without asking anyone; otherwise the run pauses
    /// with an approval named `oversight.cancel` (approving cancels it).
    pub auto_cancel: bool,
}

impl Default for GuardianPolicy {
    fn default() -> Self {
        GuardianPolicy { steer_below: 0.7, pause_below: 0.4, cancel_below: 0.2, auto_pause: true, auto_cancel: false }
    }
}

impl GuardianPolicy {
    /// Checks the thresholds: each in 0..=1, and ordered.
    pub fn validate(&self) -> Result<(), ValidationError> {
        for (field, value) in
            [("steer_below", self.steer_below), ("pause_below", self.pause_below), ("cancel_below", self.cancel_below)]
        {
            if !(0.0..=1.0).contains(&value) {
                return Err(ValidationError::new(field, format!("is {value}; an alignment threshold is 0 to 1")));
            }
        }
        if self.pause_below > self.steer_below || self.cancel_below > self.pause_below {
            return Err(ValidationError::new(
                "cancel_below",
                "thresholds must be ordered: cancel_below <= pause_below <= steer_below",
            ));
        }
        Ok(())
    }

    /// The strongest intervention an alignment score allows.
    fn allowed(&self, alignment: f64) -> Intervention {
        if alignment < self.cancel_below {
            Intervention::Cancel
        } else if alignment < self.pause_below {
            Intervention::Pause
        } else if alignment < self.steer_below {
            Intervention::Steer
        } else {
            Intervention::Continue
        }
    }
}

/// What the policy makes of a verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDecision {
    pub intervention: Intervention,
    pub status: AssessmentStatus,
    /// The message the run receives (steering), never empty for a steer.
    pub message: String,
    /// A person decides (a cancel the policy does not apply alone).
    pub needs_person: bool,
}

/// The policy's decision on `verdict`: the recommendation lowered to what
/// the score allows (a score below `steer_below` steers at least), then
/// applied automatically or left to a person.
pub fn apply_policy(verdict: &GuardianVerdict, policy: &GuardianPolicy) -> PolicyDecision {
    let alignment = if verdict.alignment.is_finite() { verdict.alignment.clamp(0.0, 1.0) } else { 0.0 };
    let allowed = policy.allowed(alignment);
    let mut intervention = verdict.intervention.min(allowed);
    if intervention == Intervention::Continue && allowed > Intervention::Continue {
        intervention = Intervention::Steer;
    }
    let message = if verdict.message.trim().is_empty() {
        let reason = verdict.drift_reason.trim();
        if reason.is_empty() {
            "You are drifting from your goal; return to it.".to_string()
        } else {
            format!("You are drifting from your goal: {reason}. Return to it.")
        }
    } else {
        verdict.message.trim().to_string()
    };
    let (status, needs_person) = match intervention {
        Intervention::Continue => (AssessmentStatus::Recorded, false),
        Intervention::Steer => (AssessmentStatus::Pending, false),
        Intervention::Pause if policy.auto_pause => (AssessmentStatus::Pending, false),
        Intervention::Pause => (AssessmentStatus::Proposed, true),
        Intervention::Cancel if policy.auto_cancel => (AssessmentStatus::Applied, false),
        Intervention::Cancel => (AssessmentStatus::Pending, true),
    };
    let message = if intervention == Intervention::Continue { String::new() } else { message };
    PolicyDecision { intervention, status, message, needs_person }
}

/// How far a run has got: what a look compares with the previous look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub steps: u32,
    pub tokens: u64,
}

/// Whether the guardian looks at a run now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookDecision {
    Look,
    /// It has not worked `guardian_after` yet.
    TooYoung,
    /// Nothing happened since the last look: looking would cost a call for nothing.
    NoProgress,
    /// The last look was less than `guardian_every` ago.
    NotDue,
}

/// Whether to look at a run that started at `started_at` and is at
/// `current`, given the last look (when, and the progress it saw).
pub fn should_look(
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
    after: Duration,
    every: Duration,
    last: Option<(DateTime<Utc>, Progress)>,
    current: Progress,
) -> LookDecision {
    if (now - started_at).to_std().unwrap_or_default() < after {
        return LookDecision::TooYoung;
    }
    match last {
        Some((_, seen)) if seen == current => LookDecision::NoProgress,
        Some((at, _)) if (now - at).to_std().unwrap_or_default() < every => LookDecision::NotDue,
        _ => LookDecision::Look,
    }
}

/// Reads a span of time as config writes it: `90s`, `2m`, `1h`, `1d`.
pub fn parse_span(field: &str, text: &str) -> Result<Duration, ValidationError> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let problem = || ValidationError::new(field, format!("{text:?} is not a span of time; write e.g. 90s, 2m, 1h"));
    let number: u64 = number.parse().map_err(|_| problem())?;
    let seconds = match unit.trim() {
        "s" | "sec" | "secs" | "seconds" => 1,
        "m" | "min" | "mins" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        _ => return Err(problem()),
    };
    let span = Duration::from_secs(number.saturating_mul(seconds));
    if span.is_zero() {
        return Err(ValidationError::new(field, "must be longer than zero"));
    }
    Ok(span)
}

/// An assessment to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAssessment {
    pub run_id: RunId,
    pub progress: Progress,
    pub verdict: GuardianVerdict,
    pub decision: PolicyDecision,
    /// `provider/model` of the guardian's call.
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
}

/// A recorded assessment of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub id: AssessmentId,
    pub user_id: UserId,
    pub run_id: RunId,
    pub agent_id: AgentId,
    pub progress: Progress,
    pub alignment: f64,
    pub drift_reason: String,
    /// What the model recommended.
    pub recommended: Intervention,
    /// What the policy made of it.
    pub intervention: Intervention,
    pub status: AssessmentStatus,
    pub message: String,
    pub needs_person: bool,
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: Option<f64>,
    /// The step whose model call first carried the intervention.
    pub delivered_before_step: Option<u32>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn verdict(alignment: f64, intervention: Intervention) -> GuardianVerdict {
        GuardianVerdict { alignment, drift_reason: "reading cat pictures".into(), intervention, message: String::new() }
    }

    #[test]
    fn a_recommendation_is_lowered_to_what_the_score_allows() {
        let policy = GuardianPolicy::default();
        let decision = apply_policy(&verdict(0.5, Intervention::Cancel), &policy);
        assert_eq!(decision.intervention, Intervention::Steer);
        assert_eq!(decision.status, AssessmentStatus::Pending);
        assert_eq!(decision.message, "You are drifting from your goal: reading cat pictures. Return to it.");
        let decision = apply_policy(&verdict(0.9, Intervention::Pause), &policy);
        assert_eq!((decision.intervention, decision.status), (Intervention::Continue, AssessmentStatus::Recorded));
        assert_eq!(decision.message, "");
    }

    #[test]
    fn a_low_score_steers_even_when_the_model_says_continue() {
        let decision = apply_policy(&verdict(0.6, Intervention::Continue), &GuardianPolicy::default());
        assert_eq!(decision.intervention, Intervention::Steer);
    }

    #[test]
    fn pause_and_cancel_follow_the_policy() {
        let mut policy = GuardianPolicy::default();
        let pause = apply_policy(&verdict(0.3, Intervention::Pause), &policy);
        assert_eq!((pause.status, pause.needs_person), (AssessmentStatus::Pending, false));
        let cancel = apply_policy(&verdict(0.1, Intervention::Cancel), &policy);
        assert_eq!(
            (cancel.intervention, cancel.status, cancel.needs_person),
            (Intervention::Cancel, AssessmentStatus::Pending, true)
        );
        policy.auto_cancel = true;
        policy.auto_pause = false;
        let cancel = apply_policy(&verdict(0.1, Intervention::Cancel), &policy);
        assert_eq!((cancel.status, cancel.needs_person), (AssessmentStatus::Applied, false));
        let pause = apply_policy(&verdict(0.3, Intervention::Pause), &policy);
        assert_eq!((pause.status, pause.needs_person), (AssessmentStatus::Proposed, true));
    }

    #[test]
    fn a_score_that_is_not_a_number_counts_as_lost() {
        let decision = apply_policy(&verdict(f64::NAN, Intervention::Cancel), &GuardianPolicy::default());
        assert_eq!(decision.intervention, Intervention::Cancel);
    }

    #[test]
    fn looks_need_age_progress_and_time_since_the_last_look() {
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        let (after, every) = (Duration::from_secs(120), Duration::from_secs(60));
        let at = |seconds: i64| start + chrono::Duration::seconds(seconds);
        let progress = |steps: u32| Progress { steps, tokens: u64::from(steps) * 100 };
        assert_eq!(should_look(start, at(60), after, every, None, progress(3)), LookDecision::TooYoung);
        assert_eq!(should_look(start, at(120), after, every, None, progress(3)), LookDecision::Look);
        let last = Some((at(120), progress(3)));
        assert_eq!(should_look(start, at(86_400), after, every, last, progress(3)), LookDecision::NoProgress);
        assert_eq!(should_look(start, at(150), after, every, last, progress(4)), LookDecision::NotDue);
        assert_eq!(should_look(start, at(180), after, every, last, progress(4)), LookDecision::Look);
    }

    #[test]
    fn spans_read_like_config() {
        assert_eq!(parse_span("guardian_after", "2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_span("guardian_every", "90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_span("x", "1h").unwrap(), Duration::from_secs(3600));
        let error = parse_span("guardian_every", "soon").unwrap_err();
        assert_eq!(error.field, "guardian_every");
        assert!(parse_span("x", "0s").is_err());
    }

    #[test]
    fn thresholds_must_be_ordered() {
        assert!(GuardianPolicy::default().validate().is_ok());
        let policy = GuardianPolicy { cancel_below: 0.5, pause_below: 0.4, ..GuardianPolicy::default() };
        assert_eq!(policy.validate().unwrap_err().field, "cancel_below");
    }
}
