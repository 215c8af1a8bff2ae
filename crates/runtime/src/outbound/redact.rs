//! Keeps secrets out of what is stored: trace steps, run errors and events.
//! Known secret values (the API keys Steward was given) are replaced
//! wherever they appear, whole or as a prefix of 8 or more characters (a
//! provider may echo `sk-canary-12…`), as are things that look like
//! credentials (bearer tokens, provider keys such as `sk-…`, `xoxb-…`,
//! `ghp_…`, `AKIA…`, values of fields named like passwords or tokens).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;
use steward_domain::secret_text::mask_secret;

const MASK: &str = "[redacted]";

/// Provider keys (`sk-…`, `sk-ant-…`, Slack, GitHub, AWS, Google), bearer
/// tokens, and `key=value` credentials. A key cut short in an error message
/// is still masked from its first few characters.
static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"\bsk-[A-Za-z0-9_\-]{6,}",
        r"\bxox[abposr]-[A-Za-z0-9\-]{6,}",
        r"\bgh[pousr]_[A-Za-z0-9]{6,}",
        r"\bAKIA[0-9A-Z]{12,}",
        r"\bAIza[0-9A-Za-z_\-]{12,}",
        r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{12,}=*",
        r"(?i)\b(api[_-]?key|password|passwd|secret|token)=[^\s&]{6,}",
    ]
    .iter()
    .filter_map(|pattern| Regex::new(pattern).ok())
    .collect()
});

/// Field names whose values are secrets whatever they look like.
fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace(['-', '_'], "");
    ["apikey", "password", "passwd", "secret", "token", "authorization", "xapikey", "accesstoken"]
        .iter()
        .any(|secret| name == *secret || name.ends_with(secret))
}

#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Exact values to mask, longest first (so a value containing another is
    /// masked whole).
    secrets: Vec<String>,
}

impl Redactor {
    /// Masks the given secret values (too short values are ignored: masking
    /// a 3-letter string everywhere would mangle ordinary text).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|secret| secret.len() >= 8).collect();
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn text(&self, text: &str) -> String {
        let mut redacted = text.to_string();
        for secret in &self.secrets {
            redacted = mask_secret(&redacted, secret, MASK);
        }
        for pattern in PATTERNS.iter() {
            if pattern.is_match(&redacted) {
                redacted = pattern.replace_all(&redacted, MASK).into_owned();
            }
        }
        redacted
    }

    /// Redacts every string in `value`, and the values of secret-named fields.
    pub fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => Value::Array(items.iter().map(|item| self.value(item)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| {
                        let item = if is_secret_field(key) && !item.is_null() {
                            Value::String(MASK.into())
                        } else {
                            self.value(item)
                        };
                        (key.clone(), item)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn known_values_and_credential_shapes_are_masked() {
        let redactor = Redactor::new(["hunter2-very-secret".to_string(), "abc".to_string()]);
        let text = "key hunter2-very-secret, sk-ant-0123456789abcdefghij, Authorization: Bearer abcdefghijklmnop, abc";
        let redacted = redactor.text(text);
        assert!(!redacted.contains("hunter2"), "{redacted}");
        assert!(!redacted.contains("sk-ant-0123"), "{redacted}");
        assert!(!redacted.contains("abcdefghijklmnop"), "{redacted}");
        assert!(redacted.ends_with("abc"), "short values are left alone: {redacted}");
    }

    #[test]
    fn echoed_prefixes_and_key_shapes_are_masked() {
        let redactor = Redactor::new(["canary-0123456789abcdef".to_string()]);
        let redacted = redactor.text("provider said: invalid key canary-0123… (status 401)");
        assert_eq!(redacted, "provider said: invalid key [redacted]… (status 401)");
        let text = "keys sk-canary-12… xoxb-1234567890 ghp_abcdef123456 AKIAIOSFODNN7EXAMPLE end";
        assert_eq!(Redactor::default().text(text), "keys [redacted]… [redacted] [redacted] [redacted] end");
        assert_eq!(Redactor::default().text("sk-learn is fine"), "sk-learn is fine");
    }

    #[test]
    fn secret_fields_are_masked_in_json() {
        let redactor = Redactor::default();
        let value = json!({ "url": "https://x.test?password=correct-horse", "headers": { "X-Api-Key": "k", "Accept": "text/html" } });
        let redacted = redactor.value(&value);
        assert_eq!(redacted["headers"]["X-Api-Key"], "[redacted]");
        assert_eq!(redacted["headers"]["Accept"], "text/html");
        assert_eq!(redacted["url"], "https://x.test?[redacted]");
    }
}
