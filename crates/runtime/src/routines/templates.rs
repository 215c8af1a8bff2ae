//! The built-in templates: each makes an editable routine with
//! `steward routine add NAME --template TEMPLATE --agent AGENT`, with its
//! sources and (for some) a schedule. To add one, write its text beside the
//! others in `builtin/` and add an entry to [`BUILTINS`].

use steward_domain::ValidationError;
use steward_domain::routine::{CalendarSpan, RepoSource, RoutineSources};

/// A template a routine can start from.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinTemplate {
    pub name: &'static str,
    pub description: &'static str,
    /// When its routine fires, in the scheduler's *when* grammar.
    pub when: Option<&'static str>,
    pub text: &'static str,
    pub actions: bool,
    pub runs: bool,
    pub calendar_span: CalendarSpan,
    /// Routines whose latest output it reads.
    pub outputs: &'static [&'static str],
    /// It folds a git repository's commits into a document: a routine made
    /// from it must name the repository.
    pub repo: bool,
}

impl BuiltinTemplate {
    /// Its sources, with the calendars, priorities file and repository a person names.
    pub fn sources(
        &self,
        calendars: Vec<String>,
        priorities: Option<String>,
        repo: Option<RepoSource>,
    ) -> Result<RoutineSources, ValidationError> {
        if self.repo && repo.is_none() {
            return Err(ValidationError::new(
                "repo",
                format!("the {} template folds a git repository's commits into a document; name it", self.name),
            ));
        }
        Ok(RoutineSources {
            calendars,
            calendar_span: self.calendar_span,
            actions: self.actions,
            runs: self.runs,
            priorities,
            outputs: self.outputs.iter().map(|name| (*name).to_string()).collect(),
            repo,
        })
    }
}

const fn template(name: &'static str, description: &'static str, text: &'static str) -> BuiltinTemplate {
    BuiltinTemplate {
        name,
        description,
        when: None,
        text,
        actions: true,
        runs: false,
        calendar_span: CalendarSpan::Day,
        outputs: &[],
        repo: false,
    }
}

pub const BUILTINS: &[BuiltinTemplate] = &[
    BuiltinTemplate {
        when: Some("weekdays at 08:00"),
        outputs: &["evening-summary"],
        ..template(
            "morning-plan",
            "today's calendar, open actions and deadlines, priorities, yesterday's evening summary",
            include_str!("builtin/morning-plan.j2"),
        )
    },
    BuiltinTemplate {
        when: Some("weekdays at 12:30"),
        runs: true,
        outputs: &["morning-plan"],
        ..template("midday-check", "the morning's plan against what happened", include_str!("builtin/midday-check.j2"))
    },
    BuiltinTemplate {
        when: Some("weekdays at 18:00"),
        runs: true,
        ..template("evening-summary", "what got done and what slipped", include_str!("builtin/evening-summary.j2"))
    },
    BuiltinTemplate {
        when: Some("mondays at 09:00"),
        runs: true,
        calendar_span: CalendarSpan::Week,
        ..template(
            "weekly-review",
            "the week's calendar and work against priorities",
            include_str!("builtin/weekly-review.j2"),
        )
    },
    BuiltinTemplate {
        runs: true,
        actions: false,
        ..template(
            "strategy",
            "progress on objectives and key results (the priorities file)",
            include_str!("builtin/strategy.j2"),
        )
    },
    BuiltinTemplate {
        actions: false,
        ..template(
            "discovery",
            "themes in feedback from a file or the trigger's input",
            include_str!("builtin/discovery.j2"),
        )
    },
    BuiltinTemplate {
        runs: true,
        ..template("stakeholder", "a communication draft from recent work", include_str!("builtin/stakeholder.j2"))
    },
    BuiltinTemplate {
        when: Some("weekdays at 18:00"),
        actions: false,
        repo: true,
        ..template(
            "living-docs",
            "a repository's commits since the last sync, folded into ARCHITECTURE.md or DESIGN.md",
            include_str!("builtin/living-docs.j2"),
        )
    },
];

/// The built-in template of this name.
pub fn builtin(name: &str) -> Option<&'static BuiltinTemplate> {
    BUILTINS.iter().find(|template| template.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_names_are_unique() {
        for (index, template) in BUILTINS.iter().enumerate() {
            super::super::template::check(template.text).unwrap_or_else(|error| panic!("{}: {error}", template.name));
            assert!(BUILTINS[..index].iter().all(|other| other.name != template.name));
            if let Some(when) = template.when {
                steward_domain::schedule::When::parse(when).unwrap();
            }
        }
        assert_eq!(builtin("weekly-review").unwrap().when, Some("mondays at 09:00"));
    }
}
