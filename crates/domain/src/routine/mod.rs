//! Routines: a trigger, an agent, a prompt template, context sources and
//! deliveries. A routine is fired by a schedule (a schedule whose target is
//! the routine), by hand, by a signed webhook or Slack slash command, or by
//! the completion of another routine (`after`); each fire is recorded with
//! the inputs it had ([`fire`]), so it can be shown and replayed.

pub mod fire;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::delivery::Destination;
use crate::ids::{AgentId, RoutineId, UserId};
use crate::schedule::{NewSchedule, ScheduleZone};
use crate::validation::{ValidationError, check_display_name, check_text};

pub use fire::{FireInputs, FireTrigger, NewFire, RoutineFire, SourceValue};

pub mod limits {
    pub const NAME_CHARS: usize = 80;
    pub const TEMPLATE_CHARS: usize = 50_000;
    pub const SOURCE_CHARS: usize = 2_000;
    pub const MAX_CALENDARS: usize = 10;
    pub const MAX_OUTPUTS: usize = 10;
    pub const MAX_DELIVERIES: usize = 10;
}

/// How many days of calendar a fire reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarSpan {
    /// The fire's day in the routine's zone.
    #[default]
    Day,
    /// The fire's day and the six after it.
    Week,
}

/// What a fire reads before it renders the template. Each is a template
/// variable of the same name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutineSources {
    /// iCalendar files (paths) or feeds (http(s) URLs).
    pub calendars: Vec<String>,
    pub calendar_span: CalendarSpan,
    /// Open actions and their deadlines.
    pub actions: bool,
    /// Runs since the routine's previous fire.
    pub runs: bool,
    /// A Markdown file of priorities.
    pub priorities: Option<String>,
    /// Routines whose latest completed output is read (`evening-summary`).
    pub outputs: Vec<String>,
    /// A git repository whose commits since a document's last sync are
    /// folded into it by the fire's run (`living-docs`).
    pub repo: Option<RepoSource>,
}

/// The repository of a `living-docs` routine and the document it keeps current.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSource {
    /// The repository's working tree (any folder inside it).
    pub path: String,
    /// The document, relative to the repository's root; by default
    /// ARCHITECTURE.md, or DESIGN.md when only that one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Write the agent's text at once; otherwise it is kept as a proposal
    /// (shown as a diff by `steward sync status`, written by `steward sync apply`).
    #[serde(default)]
    pub apply: bool,
}

impl RoutineSources {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.calendars.len() > limits::MAX_CALENDARS {
            return Err(ValidationError::new("sources.calendars", format!("at most {}", limits::MAX_CALENDARS)));
        }
        for (index, calendar) in self.calendars.iter().enumerate() {
            check_text(&format!("sources.calendars[{index}]"), calendar, limits::SOURCE_CHARS)?;
        }
        if let Some(path) = &self.priorities {
            check_text("sources.priorities", path, limits::SOURCE_CHARS)?;
        }
        if self.outputs.len() > limits::MAX_OUTPUTS {
            return Err(ValidationError::new("sources.outputs", format!("at most {}", limits::MAX_OUTPUTS)));
        }
        for (index, name) in self.outputs.iter().enumerate() {
            check_display_name(&format!("sources.outputs[{index}]"), name, limits::NAME_CHARS)?;
        }
        if let Some(repo) = &self.repo {
            check_text("sources.repo.path", &repo.path, limits::SOURCE_CHARS)?;
            if let Some(document) = &repo.document {
                check_text("sources.repo.document", document, limits::SOURCE_CHARS)?;
            }
        }
        Ok(())
    }
}

/// A stored routine.
#[derive(Clone, Debug, PartialEq)]
pub struct Routine {
    pub id: RoutineId,
    pub user_id: UserId,
    pub name: String,
    pub agent_id: AgentId,
    /// A minijinja template; the sources are its variables.
    pub template: String,
    pub sources: RoutineSources,
    /// Destination URIs (`slack:#plans`, `mailto:…`), each parsed on use.
    pub deliveries: Vec<String>,
    /// The IANA zone the routine's day is read in.
    pub zone: String,
    /// Fires when this routine's run completes.
    pub after: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Routine {
    /// The parsed destinations (stored ones were checked when added).
    pub fn destinations(&self) -> Result<Vec<Destination>, ValidationError> {
        parse_destinations(&self.deliveries)
    }
}

/// An edit of a routine: each field given replaces the stored one. The
/// store writes it, with the schedule change, in one transaction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoutineChange {
    pub agent_id: Option<AgentId>,
    pub template: Option<String>,
    pub sources: Option<RoutineSources>,
    pub deliveries: Option<Vec<String>>,
    pub zone: Option<String>,
    /// Replaces the routine's own schedule (the one of its name); `Some(None)` removes it.
    pub schedule: Option<Option<NewSchedule>>,
    /// Resumes (`true`) or pauses (`false`) every schedule that fires it.
    pub enabled: Option<bool>,
}

impl RoutineChange {
    /// The names of the fields it changes, as the event lists them.
    pub fn fields(&self) -> Vec<&'static str> {
        let given = [
            ("agent", self.agent_id.is_some()),
            ("template", self.template.is_some()),
            ("sources", self.sources.is_some()),
            ("deliver", self.deliveries.is_some()),
            ("tz", self.zone.is_some()),
            ("when", self.schedule.is_some()),
            ("enabled", self.enabled.is_some()),
        ];
        given.into_iter().filter(|(_, given)| *given).map(|(name, _)| name).collect()
    }

    /// The routine as it would be after the change, to validate whole.
    pub fn applied_to(&self, routine: &Routine) -> NewRoutine {
        NewRoutine {
            name: routine.name.clone(),
            agent_id: self.agent_id.unwrap_or(routine.agent_id),
            template: self.template.clone().unwrap_or_else(|| routine.template.clone()),
            sources: self.sources.clone().unwrap_or_else(|| routine.sources.clone()),
            deliveries: self.deliveries.clone().unwrap_or_else(|| routine.deliveries.clone()),
            zone: self.zone.clone().unwrap_or_else(|| routine.zone.clone()),
            after: routine.after.clone(),
        }
    }
}

/// A routine to add.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRoutine {
    pub name: String,
    pub agent_id: AgentId,
    pub template: String,
    pub sources: RoutineSources,
    pub deliveries: Vec<String>,
    pub zone: String,
    pub after: Option<String>,
}

impl NewRoutine {
    /// Checks what needs no lookup; the template's syntax is checked by the
    /// runtime, which renders it.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_display_name("name", &self.name, limits::NAME_CHARS)?;
        check_text("template", &self.template, limits::TEMPLATE_CHARS)?;
        self.sources.validate()?;
        if self.deliveries.len() > limits::MAX_DELIVERIES {
            return Err(ValidationError::new("deliver", format!("at most {} destinations", limits::MAX_DELIVERIES)));
        }
        parse_destinations(&self.deliveries)?;
        ScheduleZone::parse("tz", &self.zone)?;
        if let Some(after) = &self.after {
            check_display_name("after", after, limits::NAME_CHARS)?;
            if after.eq_ignore_ascii_case(&self.name) {
                return Err(ValidationError::new("after", "a routine cannot follow itself"));
            }
        }
        Ok(())
    }
}

/// Parses destination URIs, naming the bad one `deliver[N]`.
pub fn parse_destinations(uris: &[String]) -> Result<Vec<Destination>, ValidationError> {
    uris.iter().enumerate().map(|(index, uri)| Destination::parse(&format!("deliver[{index}]"), uri)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routine() -> NewRoutine {
        NewRoutine {
            name: "morning-plan".into(),
            agent_id: AgentId(1),
            template: "Plan {{ today }}".into(),
            sources: RoutineSources { calendars: vec!["work.ics".into()], ..RoutineSources::default() },
            deliveries: vec!["slack:#plans".into()],
            zone: "Europe/Paris".into(),
            after: None,
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert!(routine().validate().is_ok());
        let field = |change: fn(&mut NewRoutine)| {
            let mut routine = routine();
            change(&mut routine);
            routine.validate().unwrap_err().field
        };
        assert_eq!(field(|r| r.name = " ".into()), "name");
        assert_eq!(field(|r| r.template = String::new()), "template");
        assert_eq!(field(|r| r.deliveries.push("pager:1".into())), "deliver[1]");
        assert_eq!(field(|r| r.zone = "Mars/Olympus".into()), "tz");
        assert_eq!(field(|r| r.sources.calendars.push(String::new())), "sources.calendars[1]");
        assert_eq!(field(|r| r.after = Some("Morning-Plan".into())), "after");
        assert_eq!(field(|r| r.sources.repo = Some(RepoSource::default())), "sources.repo.path");
    }

    #[test]
    fn sources_refuse_unknown_fields() {
        let parsed = serde_json::from_value::<RoutineSources>(serde_json::json!({"calendar": ["x.ics"]}));
        assert!(parsed.unwrap_err().to_string().contains("unknown field `calendar`"));
    }
}
