//! The built-in templates: each makes an editable routine with
//! `steward routine add NAME --template TEMPLATE --agent AGENT`, with its
//! sources and (for some) a schedule. To add one, write its text beside the
//! others in `builtin/` and add an entry to [`BUILTINS`].

use steward_domain::routine::{CalendarSpan, RoutineSources};

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
}

impl BuiltinTemplate {
    /// Its sources, with the calendars and priorities file a person names.
    pub fn sources(&self, calendars: Vec<String>, priorities: Option<String>) -> RoutineSources {
        RoutineSources {
            calendars,
            calendar_span: self.calendar_span,
            actions: self.actions,
            runs: self.runs,
            priorities,
            outputs: self.outputs.iter().map(|name| (*name).to_string()).collect(),
        }
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
