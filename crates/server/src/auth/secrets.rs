//! The secrets of authentication, made and checked in one place: API tokens
//! and session cookies (32 random bytes, shown once, stored as a SHA-256
//! hash: they are high-entropy, so a fast hash is enough), the CSRF token a
//! session's state changes carry (derived from the session's secret, so it
//! is never stored), and dashboard passwords (argon2id, PHC strings).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every token starts so, which lets scanners and the redactor spot one.
pub const TOKEN_PREFIX: &str = "stw_";

/// A new secret: the prefix and 32 random bytes, base64url.
pub fn new_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database keeps of a token: its SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The CSRF token of a session: only a page that can read the session
/// endpoint's answer (the server's own origin) learns it.
pub fn csrf_token(session_secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("steward-csrf:{session_secret}").as_bytes()))
}

/// Compares without stopping at the first difference.
pub fn same(left: &str, right: &str) -> bool {
    left.len() == right.len() && left.bytes().zip(right.bytes()).fold(0_u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// An argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0_u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|error| error.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

/// Whether `password` matches `hash`. Without a hash (no such user, or no
/// password) a fixed hash is checked anyway, so the answer takes as long
/// either way and does not tell whether the user exists.
pub fn verify_password(hash: Option<&str>, password: &str) -> bool {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password("steward-dummy-password").unwrap_or_default());
    let (hash, real) = match hash {
        Some(hash) => (hash, true),
        None => (DUMMY.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (one, two) = (new_token(), new_token());
        assert_ne!(one, two);
        assert!(one.starts_with(TOKEN_PREFIX) && one.len() == TOKEN_PREFIX.len() + 43, "{one}");
        assert_eq!(hash_token(&one).len(), 64);
        assert_ne!(hash_token(&one), hash_token(&two));
        assert_eq!(csrf_token("a"), csrf_token("a"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(Some(&hash), "correct horse"));
        assert!(!verify_password(Some(&hash), "wrong"));
        assert!(!verify_password(None, "steward-dummy-password"), "no user never verifies");
    }
}
