//! Serde helpers for request fields: partial updates that tell "absent"
//! from `null`, and timestamps with an error message a person can act on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

/// The example every timestamp error shows.
const TIME_EXAMPLE: &str = "2030-01-31T09:00:00Z";

fn parse_time<E: serde::de::Error>(text: &str) -> Result<DateTime<Utc>, E> {
    DateTime::parse_from_rfc3339(text.trim()).map(|time| time.with_timezone(&Utc)).map_err(|_| {
        E::custom(format!("{text:?} is not an RFC 3339 time such as {TIME_EXAMPLE} (with a Z or an offset)"))
    })
}

/// A field of a partial update that may be left out but not set to `null`
/// (it cannot be cleared): absent → `None`, a value → `Some(value)`.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A field of a partial update that can be cleared: absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(value))`. Use with
/// `#[serde(default)]` so an absent field stays `None`.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An optional RFC 3339 timestamp (any offset, stored in UTC).
pub(crate) fn optional_time<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<String>::deserialize(deserializer)? {
        Some(text) => parse_time(&text).map(Some),
        None => Ok(None),
    }
}

/// A required RFC 3339 timestamp (any offset, stored in UTC).
pub(crate) fn time<'de, D>(deserializer: D) -> Result<DateTime<Utc>, D::Error>
where
    D: Deserializer<'de>,
{
    parse_time(&String::deserialize(deserializer)?)
}

/// A timestamp of a partial update that can be cleared with `null`.
pub(crate) fn nullable_time<'de, D>(deserializer: D) -> Result<Option<Option<DateTime<Utc>>>, D::Error>
where
    D: Deserializer<'de>,
{
    optional_time(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Patch {
        #[serde(default, deserialize_with = "super::nullable")]
        timeline: Option<Option<String>>,
        #[serde(default, deserialize_with = "super::present")]
        name: Option<String>,
        #[serde(default, deserialize_with = "super::nullable_time")]
        at: Option<Option<chrono::DateTime<chrono::Utc>>>,
    }

    #[test]
    fn absent_null_and_value_are_three_different_things() {
        let patch: Patch = serde_json::from_str("{}").unwrap();
        assert_eq!(patch, Patch { timeline: None, name: None, at: None });
        let patch: Patch = serde_json::from_str(r#"{"timeline": null, "at": null}"#).unwrap();
        assert_eq!(patch.timeline, Some(None));
        assert_eq!(patch.at, Some(None));
        let patch: Patch = serde_json::from_str(r#"{"timeline": "Q1", "at": "2030-01-01T10:00:00+02:00"}"#).unwrap();
        assert_eq!(patch.timeline, Some(Some("Q1".into())));
        assert_eq!(patch.at.unwrap().unwrap().to_rfc3339(), "2030-01-01T08:00:00+00:00");
    }

    #[test]
    fn null_is_refused_where_a_field_cannot_be_cleared() {
        let error = serde_json::from_str::<Patch>(r#"{"name": null}"#).unwrap_err();
        assert!(error.to_string().contains("null"), "{error}");
    }

    #[test]
    fn a_bad_time_says_what_a_good_one_looks_like() {
        let error = serde_json::from_str::<Patch>(r#"{"at": "tomorrow"}"#).unwrap_err();
        assert!(error.to_string().contains("RFC 3339"), "{error}");
    }
}
