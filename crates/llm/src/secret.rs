//! An API key that cannot leak by accident: its `Debug` and `Display` print a
//! placeholder, it has no `Serialize`, and only this crate can read it.

use std::fmt;

/// What a key prints as, wherever it is formatted.
pub const REDACTED: &str = "[redacted]";

/// A provider API key. Keys only ever come from the environment (or a secret
/// store), never from the config file.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the one place that needs it: the request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of this key, or of a prefix of 8 or more
    /// of its characters, replaced by [`REDACTED`]; used on provider error
    /// messages, which sometimes quote the key back, whole or cut short.
    pub(crate) fn redact_from(&self, text: &str) -> String {
        steward_domain::secret_text::mask_secret(text, &self.0, REDACTED)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ApiKey({REDACTED})")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_key() {
        let key = ApiKey::new("sk-ant-very-secret-value");
        assert_eq!(format!("{key}"), REDACTED);
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        assert_eq!(format!("{:?}", Some(&key)), "Some(ApiKey([redacted]))");
        assert_eq!(key.expose(), "sk-ant-very-secret-value");
    }

    #[test]
    fn redacts_the_key_from_text() {
        let key = ApiKey::new("sk-ant-very-secret-value");
        assert_eq!(
            key.redact_from("Incorrect API key provided: sk-ant-very-secret-value."),
            "Incorrect API key provided: [redacted]."
        );
    }
}
