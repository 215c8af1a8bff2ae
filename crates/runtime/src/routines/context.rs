//! Building a fire's inputs: each source the routine names is read (the
//! calendar of the fire's day in the routine's zone, open actions and their
//! deadlines, runs since the previous fire, a priorities file, the latest
//! output of other routines, a repository's commits since its document's
//! last sync — `living_docs.rs`). A source that fails is recorded as missing
//! with the reason; the prompt says so (see `template.rs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use steward_domain::routine::{CalendarSpan, FireInputs, Routine, SourceValue};
use steward_domain::{ActionState, RunOutcome, RunStatus, UserId};
use steward_store::{ActionFilter, RunFilter, Store};

use crate::calendar::{CalendarSource, Instance, When, instances};

/// Longest priorities file read, in bytes.
const MAX_PRIORITIES_BYTES: u64 = 256 * 1024;
/// Most runs listed as "since the last fire".
const MAX_RUNS: usize = 50;
/// Longest excerpt of a run's output in the context.
const RUN_OUTPUT_CHARS: usize = 500;

/// What reading sources needs.
pub struct ContextReader<'a> {
    pub store: &'a dyn Store,
    pub calendar: Option<&'a CalendarSource>,
}

/// The routine's zone (stored ones were checked when added).
pub fn zone_of(routine: &Routine) -> Tz {
    routine.zone.parse().unwrap_or(Tz::UTC)
}

impl ContextReader<'_> {
    /// Reads every source of `routine` for a fire at `at`.
    pub async fn inputs(&self, user: UserId, routine: &Routine, at: DateTime<Utc>, input: Option<Value>) -> FireInputs {
        let zone = zone_of(routine);
        let today = at.with_timezone(&zone).date_naive();
        let sources_of = &routine.sources;
        let mut sources = BTreeMap::new();
        if !sources_of.calendars.is_empty() {
            let last = match sources_of.calendar_span {
                CalendarSpan::Day => today,
                CalendarSpan::Week => today.checked_add_days(Days::new(6)).unwrap_or(today),
            };
            sources.insert("calendar".into(), self.calendar(&sources_of.calendars, today, last, zone).await);
        }
        if sources_of.actions {
            sources.insert("actions".into(), self.actions(user).await);
        }
        if sources_of.runs {
            sources.insert("runs".into(), self.runs(user, routine, at).await);
        }
        if let Some(path) = &sources_of.priorities {
            sources.insert("priorities".into(), priorities(path).await);
        }
        if !sources_of.outputs.is_empty() {
            sources.insert("outputs".into(), self.outputs(user, &sources_of.outputs, at).await);
        }
        if let Some(repo) = &sources_of.repo {
            sources.insert(super::living_docs::SOURCE.into(), super::living_docs::read(repo).await);
        }
        FireInputs { at, zone: zone.name().to_string(), today, input, sources }
    }

    async fn calendar(&self, calendars: &[String], first: NaiveDate, last: NaiveDate, zone: Tz) -> SourceValue {
        let Some(reader) = self.calendar else {
            return SourceValue::Missing("this server reads no calendars".into());
        };
        let mut events: Vec<Instance> = Vec::new();
        let mut problems = Vec::new();
        for calendar in calendars {
            match reader.read(calendar).await {
                Ok(fetched) => match instances(&fetched.text, first, last, zone) {
                    Ok(found) => events.extend(found),
                    Err(error) => problems.push(format!("{calendar}: {error}")),
                },
                Err(error) => problems.push(error.to_string()),
            }
        }
        if !problems.is_empty() {
            return SourceValue::Missing(problems.join("; "));
        }
        events.sort_by_key(|event| sort_key(&event.start));
        SourceValue::Value(Value::Array(events.iter().map(event_json).collect()))
    }

    async fn actions(&self, user: UserId) -> SourceValue {
        let open = ActionState::ALL.iter().copied().filter(|state| !state.is_final());
        let filter = ActionFilter { agent_id: None, states: open.collect() };
        match self.store.list_actions(user.into(), filter).await {
            Ok(mut actions) => {
                actions.sort_by_key(|action| (action.scheduled_for.is_none(), action.scheduled_for, action.id));
                let listed = actions.iter().map(|action| {
                    json!({
                        "id": action.id, "title": action.title, "priority": action.priority.as_str(),
                        "state": action.state.as_str(),
                        "deadline": action.scheduled_for.map(|at| at.to_rfc3339()),
                    })
                });
                SourceValue::Value(Value::Array(listed.collect()))
            }
            Err(error) => SourceValue::Missing(format!("open actions: {error}")),
        }
    }

    async fn runs(&self, user: UserId, routine: &Routine, at: DateTime<Utc>) -> SourceValue {
        let since = match self.store.list_fires(user, routine.id, 1).await {
            Ok(fires) => fires.first().map(|fire| fire.created_at),
            Err(error) => return SourceValue::Missing(format!("the previous fire: {error}")),
        };
        let filter = RunFilter { limit: MAX_RUNS, statuses: vec![RunStatus::Finished], ..RunFilter::default() };
        match self.store.list_runs(user.into(), filter).await {
            Ok(runs) => {
                let recent = runs.iter().filter(|run| {
                    let finished = run.finished_at.unwrap_or(run.updated_at);
                    finished <= at && since.is_none_or(|since| finished > since)
                });
                let listed = recent.map(|run| {
                    json!({
                        "id": run.id, "instruction": excerpt(&run.instruction),
                        "outcome": run.outcome.map(RunOutcome::as_str),
                        "output": run.output.as_deref().map(excerpt),
                    })
                });
                SourceValue::Value(Value::Array(listed.collect()))
            }
            Err(error) => SourceValue::Missing(format!("runs: {error}")),
        }
    }

    /// The latest completed output of each named routine before `at`.
    async fn outputs(&self, user: UserId, names: &[String], at: DateTime<Utc>) -> SourceValue {
        let mut outputs = serde_json::Map::new();
        let mut problems = Vec::new();
        for name in names {
            match self.latest_output(user, name, at).await {
                Ok(Some(found)) => {
                    outputs.insert(name.clone(), found);
                }
                Ok(None) => problems.push(format!("{name}: no completed fire yet")),
                Err(problem) => problems.push(format!("{name}: {problem}")),
            }
        }
        if problems.is_empty() {
            SourceValue::Value(Value::Object(outputs))
        } else {
            SourceValue::Missing(problems.join("; "))
        }
    }

    async fn latest_output(&self, user: UserId, name: &str, at: DateTime<Utc>) -> Result<Option<Value>, String> {
        let routine = self.store.find_routine(user, name).await.map_err(|error| error.to_string())?;
        let fires = self.store.list_fires(user, routine.id, 20).await.map_err(|error| error.to_string())?;
        for fire in fires.iter().filter(|fire| fire.created_at <= at) {
            let Some(run_id) = fire.run_id else { continue };
            let run = self.store.get_run(user, run_id).await.map_err(|error| error.to_string())?;
            if let (Some(RunOutcome::Completed), Some(output)) = (run.outcome, run.output) {
                let when = run.finished_at.unwrap_or(fire.created_at);
                return Ok(Some(json!({ "text": output, "at": when.to_rfc3339(), "fire": fire.id })));
            }
        }
        Ok(None)
    }
}

async fn priorities(path: &str) -> SourceValue {
    let read = async {
        let metadata = tokio::fs::metadata(path).await?;
        if metadata.len() > MAX_PRIORITIES_BYTES {
            return Err(std::io::Error::other(format!("larger than {MAX_PRIORITIES_BYTES} bytes")));
        }
        tokio::fs::read_to_string(path).await
    };
    match read.await {
        Ok(text) => SourceValue::Value(Value::String(text)),
        Err(error) => SourceValue::Missing(format!("{path}: {error}")),
    }
}

fn excerpt(text: &str) -> String {
    if text.chars().count() <= RUN_OUTPUT_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(RUN_OUTPUT_CHARS).collect();
    cut.push('…');
    cut
}

fn sort_key(when: &When) -> (i64, bool) {
    match when {
        When::Date(date) => (date.and_hms_opt(0, 0, 0).map(|at| at.and_utc().timestamp()).unwrap_or(0), false),
        When::At(at) => (at.timestamp(), true),
    }
}

/// An event as the template sees it: its fields, and `time` to show
/// (`09:00–09:30` in the user's zone, or `all day`).
fn event_json(event: &Instance) -> Value {
    let time = match (&event.start, &event.end) {
        (When::At(start), When::At(end)) => format!("{}–{}", start.format("%H:%M"), end.format("%H:%M")),
        _ => "all day".to_string(),
    };
    json!({
        "summary": event.summary, "start": event.start.to_string(), "end": event.end.to_string(),
        "all_day": event.all_day, "location": event.location, "time": time, "uid": event.uid,
    })
}
