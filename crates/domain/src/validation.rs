//! Validation errors that name the offending field, so every layer above can
//! tell a user exactly what to fix.

use std::fmt;

/// One problem with one field of some input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// Path of the field, e.g. `name` or `jobs[3].depends_on[0]`.
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError { field: field.into(), message: message.into() }
    }

    /// The same error, with its field nested under `prefix`
    /// (`depends_on[0]` under `jobs[2]` becomes `jobs[2].depends_on[0]`).
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_string()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// Several validation problems; the first is the one reported when only one
/// can be shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ValidationError::new(field, message));
    }

    /// `Ok(())` when nothing was pushed, else the first error.
    pub fn into_result(self) -> Result<(), ValidationError> {
        match self.0.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

/// Checks a required, trimmed, bounded text field.
pub fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    check_optional_text(field, value, max_chars)
}

/// Checks a bounded text field that may be empty.
pub fn check_optional_text(field: &str, value: &str, max_chars: usize) -> Result<(), ValidationError> {
    let length = value.chars().count();
    if length > max_chars {
        return Err(ValidationError::new(field, format!("is {length} characters long; the limit is {max_chars}")));
    }
    if value.chars().any(|c| c == '\0') {
        return Err(ValidationError::new(field, "must not contain NUL characters"));
    }
    Ok(())
}

/// Characters that reorder or hide text when displayed: the Unicode
/// bidirectional embeddings, overrides and isolates, and the direction marks.
/// A name holding one can show as another name (`Trojan Source`).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Checks a name people read (an agent's name, an action's title): required,
/// bounded, and free of control and bidirectional-override characters.
pub fn check_display_name(field: &str, value: &str, max_chars: usize) -> Result<(), ValidationError> {
    check_text(field, value, max_chars)?;
    if let Some(bad) = value.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        let kind = if bad.is_control() { "control" } else { "bidirectional-override" };
        return Err(ValidationError::new(
            field,
            format!("must not contain {kind} characters (found U+{:04X})", u32::from(bad)),
        ));
    }
    Ok(())
}

/// The largest count or duration (in seconds) the databases store: both keep
/// them as signed 64-bit integers.
pub const MAX_STORED_INTEGER: u64 = i64::MAX as u64;

/// Checks that an optional count fits what the databases store; a larger
/// value is refused, never clamped.
pub fn check_storable(field: &str, value: Option<u64>) -> Result<(), ValidationError> {
    match value {
        Some(value) if value > MAX_STORED_INTEGER => {
            Err(ValidationError::new(field, format!("is {value}; the largest accepted is {MAX_STORED_INTEGER}")))
        }
        _ => Ok(()),
    }
}

/// Checks a machine name such as a queue or job kind: 1–64 characters of
/// lowercase ASCII letters, digits, `_`, `-`, `.` and `:`.
pub fn check_machine_name(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if value.len() > 64 {
        return Err(ValidationError::new(field, "must be at most 64 characters"));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | ':');
    if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        return Err(ValidationError::new(
            field,
            format!("contains {bad:?}; use lowercase letters, digits, '_', '-', '.' or ':'"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_refuse_control_and_bidi_characters() {
        assert!(check_display_name("name", "Research \u{e9}crivain", 80).is_ok());
        let error = check_display_name("name", "invoice\u{202E}fdp.exe", 80).unwrap_err();
        assert_eq!(error.field, "name");
        assert!(error.message.contains("bidirectional-override") && error.message.contains("U+202E"), "{error}");
        for bad in ["a\u{2066}b", "a\u{200F}b", "a\u{061C}b", "a\tb", "a\u{7}b"] {
            assert!(check_display_name("name", bad, 80).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn counts_beyond_a_signed_64_bit_integer_are_refused() {
        assert!(check_storable("max_tokens", Some(i64::MAX as u64)).is_ok());
        let error = check_storable("max_tokens", Some(9_223_372_036_854_775_808)).unwrap_err();
        assert_eq!(error.message, "is 9223372036854775808; the largest accepted is 9223372036854775807");
    }

    #[test]
    fn nested_fields_read_like_paths() {
        let error = ValidationError::new("depends_on[0]", "no such job").within("jobs[2]");
        assert_eq!(error.field, "jobs[2].depends_on[0]");
        let error = ValidationError::new("[1]", "bad").within("jobs");
        assert_eq!(error.field, "jobs[1]");
    }

    #[test]
    fn machine_names_reject_spaces_and_capitals() {
        assert!(check_machine_name("queue", "default").is_ok());
        assert!(check_machine_name("queue", "agent.runs:v2").is_ok());
        let error = check_machine_name("queue", "My Queue").unwrap_err();
        assert!(error.message.contains("'M'"), "{error}");
        assert!(check_machine_name("queue", "").is_err());
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(check_text("name", "ééé", 3).is_ok());
        assert!(check_text("name", "éééé", 3).is_err());
        assert_eq!(check_text("name", "  ", 3).unwrap_err().message, "must not be empty");
    }
}
