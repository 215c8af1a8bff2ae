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
