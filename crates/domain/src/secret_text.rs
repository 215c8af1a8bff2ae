//! Masking a known secret inside text, including a truncated copy of it: a
//! provider that echoes `sk-canary-12…` of a key leaks its first characters,
//! so any run of 8 or more characters that starts the secret is masked too.
//! Written once for the model clients (`llm`) and the runtime's redactor.

/// The shortest secret prefix that is masked: shorter runs would mask
/// ordinary words that happen to start a key (`sk-`, `Bearer`).
pub const MIN_SECRET_PREFIX: usize = 8;

/// `text` with every occurrence of `secret`, and of any prefix of it at
/// least [`MIN_SECRET_PREFIX`] bytes long, replaced by `mask`. Secrets
/// shorter than that are left alone (test values like `x` would shred
/// ordinary text).
pub fn mask_secret(text: &str, secret: &str, mask: &str) -> String {
    let secret = secret.as_bytes();
    if secret.len() < MIN_SECRET_PREFIX || text.len() < MIN_SECRET_PREFIX {
        return text.to_owned();
    }
    let head = &secret[..MIN_SECRET_PREFIX];
    let bytes = text.as_bytes();
    let mut masked = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at + MIN_SECRET_PREFIX <= bytes.len() {
        if &bytes[at..at + MIN_SECRET_PREFIX] == head {
            let mut end = at + MIN_SECRET_PREFIX;
            while end < bytes.len() && end - at < secret.len() && bytes[end] == secret[end - at] {
                end += 1;
            }
            // Secrets are text; a match that would end inside a character
            // is widened to the character's end.
            while !text.is_char_boundary(end) {
                end += 1;
            }
            if text.is_char_boundary(at) {
                masked.push_str(&text[copied..at]);
                masked.push_str(mask);
                copied = end;
                at = end;
                continue;
            }
        }
        at += 1;
    }
    masked.push_str(&text[copied..]);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-canary-1234567890abcdef";

    #[test]
    fn whole_keys_and_echoed_prefixes_are_masked() {
        assert_eq!(mask_secret(&format!("bad key {KEY}."), KEY, "[redacted]"), "bad key [redacted].");
        assert_eq!(
            mask_secret("Incorrect API key provided: sk-canary-12…", KEY, "[redacted]"),
            "Incorrect API key provided: [redacted]…"
        );
        assert_eq!(mask_secret("sk-canaX and sk-canar", KEY, "#"), "sk-canaX and #");
        assert_eq!(mask_secret("twice: sk-canary-1 sk-canary-12", KEY, "#"), "twice: # #");
    }

    #[test]
    fn short_runs_and_short_secrets_are_left_alone() {
        assert_eq!(mask_secret("sk-cana is short", KEY, "#"), "sk-cana is short");
        assert_eq!(mask_secret("the word x", "x", "#"), "the word x");
        assert_eq!(mask_secret("émoji é sk-canary-1", KEY, "#"), "émoji é #");
    }
}
