//! Query parameters, parsed by hand so that unknown parameters are refused
//! (a typo like `?stat=dead` would otherwise silently list every job),
//! repeated and comma-separated values are both accepted
//! (`?state=dead&state=cancelled` or `?state=dead,cancelled`), and every
//! error names the parameter.

use std::str::FromStr;

use steward_domain::ValidationError;

use crate::error::ApiError;

/// The parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Parses `query`, refusing any parameter not in `known`.
    pub fn parse(query: Option<&str>, known: &[&str]) -> Result<QueryParams, ApiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        if let Some((name, _)) = pairs.iter().find(|(name, _)| !known.contains(&name.as_str())) {
            let message = if known.is_empty() {
                "unknown parameter; this endpoint takes none".to_string()
            } else {
                format!("unknown parameter; expected one of {}", known.join(", "))
            };
            return Err(ApiError::invalid_parameter(name.clone(), message));
        }
        Ok(QueryParams { pairs })
    }

    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The parameter's one value, parsed with `parse` (whose error message
    /// is shown as is).
    pub fn single<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, ApiError> {
        let values: Vec<&str> = self.values(name).collect();
        match values.as_slice() {
            [] => Ok(None),
            [value] => parse(value).map(Some).map_err(|message| ApiError::invalid_parameter(name, message)),
            _ => Err(ApiError::invalid_parameter(name, format!("is given {} times; give it once", values.len()))),
        }
    }

    /// Every value of a parameter that may be repeated or comma-separated.
    pub fn list<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, ApiError> {
        self.values(name)
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(|value| parse(value).map_err(|message| ApiError::invalid_parameter(name, message)))
            .collect()
    }
}

/// A positive integer (an id or a cursor).
pub fn positive_integer(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(value) if value > 0 => Ok(value),
        _ => Err(format!("must be a positive integer, not {text:?}")),
    }
}

/// A non-negative integer (a cursor that may start at 0).
pub fn non_negative_integer(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(value) if value >= 0 => Ok(value),
        _ => Err(format!("must be a non-negative integer, not {text:?}")),
    }
}

/// A page size between 1 and `max`.
pub fn page_size(max: usize) -> impl Fn(&str) -> Result<usize, String> {
    move |text| match text.trim().parse::<usize>() {
        Ok(value) if (1..=max).contains(&value) => Ok(value),
        _ => Err(format!("must be an integer from 1 to {max}, not {text:?}")),
    }
}

/// One of an enumeration's wire names.
pub fn enum_value<T: FromStr<Err = ValidationError>>(text: &str) -> Result<T, String> {
    text.parse::<T>().map_err(|error| error.message)
}

/// Any non-empty text.
pub fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() { Err("must not be empty".to_string()) } else { Ok(text.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::JobState;

    #[test]
    fn repeated_and_comma_separated_values_both_count() {
        let params =
            QueryParams::parse(Some("state=dead,cancelled&state=queued&limit=5"), &["state", "limit"]).unwrap();
        let states = params.list("state", enum_value::<JobState>).unwrap();
        assert_eq!(states, vec![JobState::Dead, JobState::Cancelled, JobState::Queued]);
        assert_eq!(params.single("limit", page_size(10)).unwrap(), Some(5));
    }

    #[test]
    fn errors_name_the_parameter() {
        let error = QueryParams::parse(Some("stat=dead"), &["state"]).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("stat"));
        let params =
            QueryParams::parse(Some("state=done&limit=0&after=1&after=2"), &["state", "limit", "after"]).unwrap();
        let error = params.list("state", enum_value::<JobState>).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("state"));
        assert!(error.message.contains("\"done\""), "{}", error.message);
        assert_eq!(params.single("limit", page_size(10)).unwrap_err().field.as_deref(), Some("limit"));
        assert!(params.single("after", positive_integer).unwrap_err().message.contains("once"));
    }
}
