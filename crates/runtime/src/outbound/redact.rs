//! Keeps secrets out of what is stored: trace steps, run errors and events.
//! Known secret values (the API keys Steward was given) are replaced
//! wherever they appear, as are things that look like credentials (bearer
//! tokens, `sk-…` keys, values of fields named like passwords or tokens).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

const MASK: &str = "[redacted]";

/// `sk-…`/`sk-ant-…` style keys, bearer tokens, and `key=value` credentials.
static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"\bsk-[A-Za-z0-9_\-]{16,}",
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
            if redacted.contains(secret.as_str()) {
                redacted = redacted.replace(secret.as_str(), MASK);
            }
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
    fn secret_fields_are_masked_in_json() {
        let redactor = Redactor::default();
        let value = json!({ "url": "https://x.test?password=correct-horse", "headers": { "X-Api-Key": "k", "Accept": "text/html" } });
        let redacted = redactor.value(&value);
        assert_eq!(redacted["headers"]["X-Api-Key"], "[redacted]");
        assert_eq!(redacted["headers"]["Accept"], "text/html");
        assert_eq!(redacted["url"], "https://x.test?[redacted]");
    }
}
