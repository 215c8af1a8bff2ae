//! A schedule's time zone: an IANA name (`Europe/London`) checked against the
//! tz database compiled into the binary, with close names suggested when a
//! name is unknown.

use std::fmt;
use std::str::FromStr;

use chrono_tz::{TZ_VARIANTS, Tz};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::validation::ValidationError;

/// How many close names an unknown-zone error suggests at most.
const MAX_SUGGESTIONS: usize = 3;

/// Names this similar (Jaro–Winkler, 0–1) or more are offered as suggestions.
const SUGGESTION_SIMILARITY: f64 = 0.85;

/// An IANA time zone. Displays, parses and serialises as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScheduleZone(Tz);

impl ScheduleZone {
    pub const UTC: ScheduleZone = ScheduleZone(Tz::UTC);

    /// Parses a zone name for the input field `field` (`tz`, `time_zone`).
    /// The name is matched exactly, then ignoring case (`europe/london` is
    /// `Europe/London`); an unknown name is an error that suggests close ones.
    pub fn parse(field: &str, text: &str) -> Result<ScheduleZone, ValidationError> {
        let name = text.trim();
        if name.is_empty() {
            return Err(ValidationError::new(field, "must not be empty; use an IANA time zone such as Europe/London"));
        }
        if let Ok(zone) = Tz::from_str(name) {
            return Ok(ScheduleZone(zone));
        }
        if let Some(zone) = TZ_VARIANTS.iter().find(|zone| zone.name().eq_ignore_ascii_case(name)) {
            return Ok(ScheduleZone(*zone));
        }
        let suggestions = close_zone_names(name);
        let hint =
            if suggestions.is_empty() { String::new() } else { format!("; did you mean {}?", suggestions.join(", ")) };
        Err(ValidationError::new(
            field,
            format!("unknown time zone `{name}`{hint} (IANA names such as Europe/London, America/New_York or UTC)"),
        ))
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl From<Tz> for ScheduleZone {
    fn from(zone: Tz) -> Self {
        ScheduleZone(zone)
    }
}

impl Default for ScheduleZone {
    fn default() -> Self {
        ScheduleZone::UTC
    }
}

impl fmt::Display for ScheduleZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScheduleZone {
    type Err = ValidationError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ScheduleZone::parse("time_zone", text)
    }
}

impl Serialize for ScheduleZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ScheduleZone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Zone names close to `name`: those whose last part is `name` (`London`,
/// `new york`), then the most similar spellings of the whole name.
fn close_zone_names(name: &str) -> Vec<&'static str> {
    let wanted = name.to_ascii_lowercase().replace(' ', "_");
    let wanted_city = wanted.rsplit('/').next().unwrap_or(&wanted).to_string();
    let mut suggestions: Vec<&'static str> = TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .filter(|candidate| {
            let candidate = candidate.to_ascii_lowercase();
            candidate == wanted || candidate.rsplit('/').next() == Some(wanted_city.as_str())
        })
        .collect();
    let mut similar: Vec<(f64, &'static str)> = TZ_VARIANTS
        .iter()
        .map(|zone| zone.name())
        .map(|candidate| {
            let lower = candidate.to_ascii_lowercase();
            let city = lower.rsplit('/').next().unwrap_or(&lower).to_string();
            let score = strsim::jaro_winkler(&lower, &wanted).max(strsim::jaro_winkler(&city, &wanted_city));
            (score, candidate)
        })
        .filter(|(score, _)| *score >= SUGGESTION_SIMILARITY)
        .collect();
    similar.sort_by(|left, right| right.0.total_cmp(&left.0).then_with(|| left.1.cmp(right.1)));
    for (_, candidate) in similar {
        if !suggestions.contains(&candidate) {
            suggestions.push(candidate);
        }
    }
    suggestions.truncate(MAX_SUGGESTIONS);
    suggestions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_exactly_or_ignoring_case() {
        assert_eq!(ScheduleZone::parse("tz", "Europe/London").unwrap().name(), "Europe/London");
        assert_eq!(ScheduleZone::parse("tz", " europe/london ").unwrap().name(), "Europe/London");
        assert_eq!(ScheduleZone::parse("tz", "UTC").unwrap(), ScheduleZone::UTC);
    }

    #[test]
    fn an_unknown_zone_names_the_field_and_suggests_close_names() {
        let error = ScheduleZone::parse("tz", "Europe/Londn").unwrap_err();
        assert_eq!(error.field, "tz");
        assert!(error.message.starts_with("unknown time zone `Europe/Londn`; did you mean Europe/London"), "{error}");

        let error = ScheduleZone::parse("time_zone", "New York").unwrap_err();
        assert!(error.message.contains("did you mean America/New_York"), "{error}");

        let error = ScheduleZone::parse("tz", "Mars/Olympus_Mons").unwrap_err();
        assert!(!error.message.contains("did you mean"), "{error}");
        assert!(error.message.contains("IANA names"), "{error}");
    }

    #[test]
    fn zones_serialise_as_their_names() {
        let zone = ScheduleZone::parse("tz", "Australia/Lord_Howe").unwrap();
        assert_eq!(serde_json::to_string(&zone).unwrap(), "\"Australia/Lord_Howe\"");
        let back: ScheduleZone = serde_json::from_str("\"Australia/Lord_Howe\"").unwrap();
        assert_eq!(back, zone);
        assert!(serde_json::from_str::<ScheduleZone>("\"Nowhere\"").is_err());
    }
}
