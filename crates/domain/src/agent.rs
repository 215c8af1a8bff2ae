//! Agents: a goal, how success is judged, a timeline, and how the agent works
//! (model, instructions). Status moves between active and paused; archiving
//! is final.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::ids::{AgentId, UserId};
use crate::run::RunLimits;
use crate::validation::{ValidationError, check_display_name, check_machine_name, check_optional_text, check_text};

pub mod limits {
    pub const NAME_CHARS: usize = 80;
    pub const GOAL_CHARS: usize = 4000;
    pub const CRITERION_CHARS: usize = 1000;
    pub const CRITERIA_COUNT: usize = 50;
    pub const TIMELINE_CHARS: usize = 500;
    pub const MODEL_CHARS: usize = 200;
    pub const INSTRUCTIONS_CHARS: usize = 50_000;
    pub const TOOLS_COUNT: usize = 100;
}

/// What an agent may spend on model calls, in US dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budget {
    /// Per UTC day.
    pub daily_usd: Option<f64>,
    /// Over the agent's whole life.
    pub total_usd: Option<f64>,
}

impl Budget {
    pub fn is_unlimited(&self) -> bool {
        self.daily_usd.is_none() && self.total_usd.is_none()
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        for (field, value) in [("budget.daily_usd", self.daily_usd), ("budget.total_usd", self.total_usd)] {
            if let Some(value) = value
                && !(value.is_finite() && value >= 0.0)
            {
                return Err(ValidationError::new(field, "must be a number of dollars, 0 or more"));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    Active,
    Paused,
    Archived,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 3] = [AgentStatus::Active, AgentStatus::Paused, AgentStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "active",
            AgentStatus::Paused => "paused",
            AgentStatus::Archived => "archived",
        }
    }
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AgentStatus {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgentStatus::ALL.into_iter().find(|status| status.as_str() == s).ok_or_else(|| {
            ValidationError::new("status", format!("unknown status {s:?}; expected active, paused or archived"))
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub user_id: UserId,
    pub name: String,
    /// The North-Star goal.
    pub goal: String,
    pub success_criteria: Vec<String>,
    /// When the goal should be reached, in the user's words ("by the end of Q1").
    pub timeline: Option<String>,
    pub status: AgentStatus,
    /// `provider/model`; `None` uses the configured default.
    pub model: Option<String>,
    pub instructions: String,
    /// The tools the agent may use; `None` means the default set. Tools not
    /// allowed are not shown to the model and refused if called anyway.
    pub tools: Option<Vec<String>>,
    /// Limits for its runs (a run may override them).
    pub limits: RunLimits,
    pub budget: Budget,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct NewAgent {
    pub name: String,
    pub goal: String,
    pub success_criteria: Vec<String>,
    pub timeline: Option<String>,
    pub model: Option<String>,
    pub instructions: String,
    pub tools: Option<Vec<String>>,
    pub limits: RunLimits,
    pub budget: Budget,
}

impl NewAgent {
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_name(&self.name)?;
        check_text("goal", &self.goal, limits::GOAL_CHARS)?;
        check_criteria(&self.success_criteria)?;
        if let Some(timeline) = &self.timeline {
            check_optional_text("timeline", timeline, limits::TIMELINE_CHARS)?;
        }
        if let Some(model) = &self.model {
            check_model(model)?;
        }
        check_optional_text("instructions", &self.instructions, limits::INSTRUCTIONS_CHARS)?;
        if let Some(tools) = &self.tools {
            check_tools(tools)?;
        }
        self.limits.validate().map_err(|error| error.within("limits"))?;
        self.budget.validate()
    }
}

/// A partial update; `None` leaves a field unchanged. `timeline` and `model`
/// use a nested option so they can be cleared (`Some(None)`).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub goal: Option<String>,
    pub success_criteria: Option<Vec<String>>,
    pub timeline: Option<Option<String>>,
    pub status: Option<AgentStatus>,
    pub model: Option<Option<String>>,
    pub instructions: Option<String>,
    /// `Some(None)` goes back to the default tool set.
    pub tools: Option<Option<Vec<String>>>,
    pub limits: Option<RunLimits>,
    pub budget: Option<Budget>,
}

impl AgentPatch {
    pub fn is_empty(&self) -> bool {
        *self == AgentPatch::default()
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        if let Some(goal) = &self.goal {
            check_text("goal", goal, limits::GOAL_CHARS)?;
        }
        if let Some(criteria) = &self.success_criteria {
            check_criteria(criteria)?;
        }
        if let Some(Some(timeline)) = &self.timeline {
            check_optional_text("timeline", timeline, limits::TIMELINE_CHARS)?;
        }
        if self.status == Some(AgentStatus::Archived) {
            return Err(ValidationError::new(
                "status",
                "archive an agent with the archive operation; an update may only set active or paused",
            ));
        }
        if let Some(Some(model)) = &self.model {
            check_model(model)?;
        }
        if let Some(instructions) = &self.instructions {
            check_optional_text("instructions", instructions, limits::INSTRUCTIONS_CHARS)?;
        }
        if let Some(Some(tools)) = &self.tools {
            check_tools(tools)?;
        }
        if let Some(limits) = &self.limits {
            limits.validate().map_err(|error| error.within("limits"))?;
        }
        if let Some(budget) = &self.budget {
            budget.validate()?;
        }
        Ok(())
    }

    /// Applies the patch to `agent` (already validated).
    pub fn apply_to(&self, agent: &mut Agent) {
        if let Some(name) = &self.name {
            agent.name = name.trim().to_string();
        }
        if let Some(goal) = &self.goal {
            agent.goal = goal.clone();
        }
        if let Some(criteria) = &self.success_criteria {
            agent.success_criteria = criteria.clone();
        }
        if let Some(timeline) = &self.timeline {
            agent.timeline = timeline.clone();
        }
        if let Some(status) = self.status {
            agent.status = status;
        }
        if let Some(model) = &self.model {
            agent.model = model.clone();
        }
        if let Some(instructions) = &self.instructions {
            agent.instructions = instructions.clone();
        }
        if let Some(tools) = &self.tools {
            agent.tools = tools.clone();
        }
        if let Some(limits) = self.limits {
            agent.limits = limits;
        }
        if let Some(budget) = self.budget {
            agent.budget = budget;
        }
    }
}

fn check_tools(tools: &[String]) -> Result<(), ValidationError> {
    if tools.len() > limits::TOOLS_COUNT {
        return Err(ValidationError::new(
            "tools",
            format!("has {} entries; the limit is {}", tools.len(), limits::TOOLS_COUNT),
        ));
    }
    for (index, tool) in tools.iter().enumerate() {
        check_machine_name(&format!("tools[{index}]"), tool)?;
        if tools[..index].contains(tool) {
            return Err(ValidationError::new(format!("tools[{index}]"), format!("{tool:?} is listed twice")));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), ValidationError> {
    check_display_name("name", name, limits::NAME_CHARS)
}

fn check_criteria(criteria: &[String]) -> Result<(), ValidationError> {
    if criteria.len() > limits::CRITERIA_COUNT {
        return Err(ValidationError::new(
            "success_criteria",
            format!("has {} entries; the limit is {}", criteria.len(), limits::CRITERIA_COUNT),
        ));
    }
    for (index, criterion) in criteria.iter().enumerate() {
        check_text(&format!("success_criteria[{index}]"), criterion, limits::CRITERION_CHARS)?;
    }
    Ok(())
}

/// A model is named `provider/model`, e.g. `anthropic/claude-sonnet-4-5`.
pub fn check_model(model: &str) -> Result<(), ValidationError> {
    check_text("model", model, limits::MODEL_CHARS)?;
    match model.split_once('/') {
        Some((provider, name)) if !provider.is_empty() && !name.is_empty() && !model.contains(char::is_whitespace) => {
            Ok(())
        }
        _ => Err(ValidationError::new(
            "model",
            format!("{model:?} is not of the form provider/model (e.g. anthropic/claude-sonnet-4-5)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> NewAgent {
        NewAgent {
            name: "Launch".into(),
            goal: "Ship the beta".into(),
            success_criteria: vec!["100 users".into()],
            timeline: Some("by March".into()),
            model: Some("anthropic/claude-sonnet-4-5".into()),
            instructions: String::new(),
            ..NewAgent::default()
        }
    }

    #[test]
    fn a_complete_agent_is_valid() {
        assert_eq!(valid().validate(), Ok(()));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut agent = valid();
        agent.name = "   ".into();
        assert_eq!(agent.validate().unwrap_err().field, "name");

        let mut agent = valid();
        agent.success_criteria = vec!["ok".into(), "".into()];
        assert_eq!(agent.validate().unwrap_err().field, "success_criteria[1]");

        let mut agent = valid();
        agent.model = Some("gpt-4".into());
        let error = agent.validate().unwrap_err();
        assert_eq!(error.field, "model");
        assert!(error.message.contains("provider/model"));
    }

    #[test]
    fn tools_limits_and_budgets_are_checked() {
        let mut agent = valid();
        agent.tools = Some(vec!["workspace.read".into(), "workspace.read".into()]);
        assert_eq!(agent.validate().unwrap_err().field, "tools[1]");
        let mut agent = valid();
        agent.limits.max_steps = Some(0);
        assert_eq!(agent.validate().unwrap_err().field, "limits.max_steps");
        let mut agent = valid();
        agent.budget.daily_usd = Some(f64::NAN);
        assert_eq!(agent.validate().unwrap_err().field, "budget.daily_usd");
    }

    #[test]
    fn a_patch_cannot_archive() {
        let patch = AgentPatch { status: Some(AgentStatus::Archived), ..AgentPatch::default() };
        assert_eq!(patch.validate().unwrap_err().field, "status");
    }
}
