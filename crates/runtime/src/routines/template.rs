//! Rendering a routine's prompt: a minijinja template whose variables are
//! the fire's inputs (`today`, `weekday`, `now`, `zone`, `input`, and each
//! source by name: `calendar`, `actions`, `runs`, `priorities`, `outputs`),
//! plus `missing` (each source that could not be read, with the reason).
//! Whatever the template says, a prompt built with a missing source ends
//! with a "Missing context" section naming it, so the agent is never handed
//! an empty calendar it cannot tell from a free day. Errors name the line.

use minijinja::{Environment, UndefinedBehavior, Value as TemplateValue};
use serde_json::{Map, Value, json};
use steward_domain::ValidationError;
use steward_domain::routine::{FireInputs, SourceValue};

/// The name a template has in error messages.
const NAME: &str = "template";

/// A template that cannot be parsed or rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|line| format!("line {line}: ")).unwrap_or_default())]
pub struct TemplateError {
    pub line: Option<usize>,
    pub message: String,
}

impl From<minijinja::Error> for TemplateError {
    fn from(error: minijinja::Error) -> Self {
        let message = match error.detail() {
            Some(detail) => format!("{}: {detail}", error.kind()),
            None => error.kind().to_string(),
        };
        TemplateError { line: error.line(), message }
    }
}

impl TemplateError {
    /// As a validation error of `field`.
    pub fn of_field(self, field: &str) -> ValidationError {
        ValidationError::new(field, self.to_string())
    }
}

fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    // An undefined variable (or a field of one) renders empty and iterates
    // as nothing: a missing source is named at the end of the prompt instead.
    environment.set_undefined_behavior(UndefinedBehavior::Chainable);
    environment.set_keep_trailing_newline(true);
    environment
}

/// Checks the template's syntax.
pub fn check(template: &str) -> Result<(), TemplateError> {
    let environment = environment();
    environment.template_from_named_str(NAME, template)?;
    Ok(())
}

/// The variables a template sees for these inputs.
pub fn variables(inputs: &FireInputs) -> Value {
    let zone: chrono_tz::Tz = inputs.zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let local = inputs.at.with_timezone(&zone);
    let mut variables = Map::new();
    variables.insert("today".into(), json!(inputs.today.format("%Y-%m-%d").to_string()));
    variables.insert("weekday".into(), json!(inputs.today.format("%A").to_string()));
    variables.insert("now".into(), json!(local.to_rfc3339()));
    variables.insert("zone".into(), json!(inputs.zone));
    variables.insert("input".into(), inputs.input.clone().unwrap_or(Value::Null));
    let mut missing = Vec::new();
    for (name, value) in &inputs.sources {
        match value {
            SourceValue::Value(value) => {
                variables.insert(name.clone(), value.clone());
            }
            SourceValue::Missing(reason) => missing.push(json!({ "source": name, "reason": reason })),
        }
    }
    variables.insert("missing".into(), Value::Array(missing));
    Value::Object(variables)
}

/// Renders the prompt.
pub fn render(template: &str, inputs: &FireInputs) -> Result<String, TemplateError> {
    let environment = environment();
    let compiled = environment.template_from_named_str(NAME, template)?;
    let mut prompt = compiled.render(TemplateValue::from_serialize(variables(inputs)))?;
    let missing = inputs.missing();
    if !missing.is_empty() {
        prompt.push_str("\n\n## Missing context\n\nThese sources could not be read; do not assume they are empty:\n");
        for (source, reason) in missing {
            prompt.push_str(&format!("- {source}: MISSING ({reason})\n"));
        }
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;

    fn inputs(calendar: SourceValue) -> FireInputs {
        FireInputs {
            at: Utc.with_ymd_and_hms(2030, 3, 4, 7, 0, 0).unwrap(),
            zone: "Europe/Paris".into(),
            today: NaiveDate::from_ymd_opt(2030, 3, 4).unwrap(),
            input: None,
            sources: BTreeMap::from([("calendar".to_string(), calendar)]),
        }
    }

    #[test]
    fn sources_are_variables_and_a_missing_one_is_named() {
        let template =
            "{{ weekday }} {{ today }}:\n{% for e in calendar %}- {{ e.time }} {{ e.summary }}\n{% endfor %}";
        let events = json!([{ "time": "09:00–09:30", "summary": "Standup" }]);
        let prompt = render(template, &inputs(SourceValue::Value(events))).unwrap();
        assert_eq!(prompt, "Monday 2030-03-04:\n- 09:00–09:30 Standup\n");
        let prompt = render(template, &inputs(SourceValue::Missing("work.ics: No such file".into()))).unwrap();
        assert!(prompt.ends_with("- calendar: MISSING (work.ics: No such file)\n"), "{prompt}");
    }

    #[test]
    fn errors_name_the_line() {
        let error = check("Plan\n\n{% for e in calendar %}\n{{ e.summary }").unwrap_err();
        assert_eq!(error.line, Some(4), "{error}");
        assert!(error.to_string().starts_with("line 4: syntax error"), "{error}");
        let error = render("ok\n{{ today | nosuchfilter }}", &inputs(SourceValue::Value(json!([])))).unwrap_err();
        assert!(error.to_string().starts_with("line 2: unknown filter"), "{error}");
    }
}
