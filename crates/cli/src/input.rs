//! Parsing what people type on the command line: durations (`500ms`, `2m`),
//! times (RFC 3339, or a local `2030-01-31 09:00`), job references (an id or
//! an idempotency key), JSON payloads (inline or `@file`) and the API's
//! states and modes.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use steward_domain::ValidationError;
use steward_server::api::JobReference;

/// `500ms`, `1.5s`, `2m`, `1h`, `1d`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration; e.g. 500ms, 30s, 5m, 2h"))?;
    let seconds_per_unit = match unit.trim() {
        "ms" => 0.001,
        "" | "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => return Err(format!("unknown unit {other:?} in {text:?}; use ms, s, m, h or d")),
    };
    Duration::try_from_secs_f64(number * seconds_per_unit).map_err(|_| format!("{text:?} is out of range"))
}

/// An RFC 3339 time, or a local date and time (`2030-01-31 09:00`,
/// `2030-01-31T09:00:00`).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Local
                .from_local_datetime(&naive)
                .earliest()
                .map(|time| time.with_timezone(&Utc))
                .ok_or_else(|| format!("{text:?} does not exist in the local time zone (a DST gap)"));
        }
    }
    Err(format!("{text:?} is not a time; use 2030-01-31T09:00:00Z or a local 2030-01-31 09:00"))
}

/// A job id, or an idempotency key (`key:123` forces a key that looks like a number).
pub fn parse_job_reference(text: &str) -> Result<JobReference, String> {
    if let Some(key) = text.strip_prefix("key:") {
        return Ok(JobReference::Key(key.to_string()));
    }
    match text.parse::<i64>() {
        Ok(id) => Ok(JobReference::Id(id)),
        Err(_) => Ok(JobReference::Key(text.to_string())),
    }
}

/// Inline JSON, or `@path` to read it from a file.
pub fn parse_payload(text: &str) -> Result<Value, String> {
    let (source, json) = match text.strip_prefix('@') {
        Some(path) => {
            (path.to_string(), std::fs::read_to_string(path).map_err(|error| format!("cannot read {path}: {error}"))?)
        }
        None => ("the payload".to_string(), text.to_string()),
    };
    serde_json::from_str(&json).map_err(|error| format!("{source} is not valid JSON: {error}"))
}

/// One of the API's enumerations in its wire spelling (`in_progress`); the
/// error lists the accepted values.
pub fn parse_wire<T: FromStr<Err = ValidationError>>(text: &str) -> Result<T, String> {
    text.parse::<T>().map_err(|error| error.message)
}

/// A positive integer id.
pub fn parse_id(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!("{text:?} is not an id (a positive integer)")),
    }
}

/// An agent named on the command line by id (`12`) or by name (`Launch`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentRef {
    Id(i64),
    Name(String),
}

impl std::fmt::Display for AgentRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentRef::Id(id) => write!(f, "{id}"),
            AgentRef::Name(name) => write!(f, "{name:?}"),
        }
    }
}

/// A positive integer is an id; anything else is a name.
pub fn parse_agent(text: &str) -> Result<AgentRef, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("give an agent's id or name".into());
    }
    Ok(match text.parse::<i64>() {
        Ok(id) if id > 0 => AgentRef::Id(id),
        Ok(_) => return Err(format!("{text:?} is not an id (a positive integer)")),
        Err(_) => AgentRef::Name(text.to_string()),
    })
}

/// The id of the agent `reference` names, asking the server for a name.
pub async fn resolve_agent(client: &crate::client::ApiClient, reference: &AgentRef) -> anyhow::Result<i64> {
    match reference {
        AgentRef::Id(id) => Ok(*id),
        AgentRef::Name(name) => {
            let reply =
                client.get::<steward_server::api::AgentListResponse>("/agents", &[("name", name.clone())]).await?;
            match reply.body.agents.first() {
                Some(agent) => Ok(agent.id.get()),
                None => anyhow::bail!("there is no agent named {name:?} (see: steward agent list)"),
            }
        }
    }
}

/// Reads one line from stdin, showing `prompt` on stderr when stdin is a
/// terminal; `None` at the end of input. Without the trailing newline.
pub async fn read_line(prompt: &str) -> anyhow::Result<Option<String>> {
    use std::io::{BufRead, IsTerminal, Write};
    let prompt = prompt.to_string();
    tokio::task::spawn_blocking(move || {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            let mut stderr = std::io::stderr();
            write!(stderr, "{prompt}")?;
            stderr.flush()?;
        }
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()))
    })
    .await?
}

/// The routine's API path, its name percent-encoded.
pub fn routine_path(name: &str) -> String {
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("/routines/{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_named_by_id_or_name() {
        assert_eq!(parse_agent("12"), Ok(AgentRef::Id(12)));
        assert_eq!(parse_agent(" Launch plan "), Ok(AgentRef::Name("Launch plan".into())));
        assert!(parse_agent("0").is_err());
        assert!(parse_agent("").is_err());
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("5 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn times_are_rfc_3339_or_local() {
        assert_eq!(parse_time("2030-01-01T10:00:00+02:00").unwrap().to_rfc3339(), "2030-01-01T08:00:00+00:00");
        assert!(parse_time("2030-01-01 10:00").is_ok());
        assert!(parse_time("tomorrow").is_err());
    }

    #[test]
    fn references_are_ids_unless_they_are_not_numbers() {
        assert_eq!(parse_job_reference("12"), Ok(JobReference::Id(12)));
        assert_eq!(parse_job_reference("fetch"), Ok(JobReference::Key("fetch".into())));
        assert_eq!(parse_job_reference("key:12"), Ok(JobReference::Key("12".into())));
    }
}
