//! HMAC-SHA256 signatures over a timestamp and a body, for outgoing
//! webhooks and the inbound routine trigger: the signed text is
//! `"{timestamp}.{body}"`, sent as `X-Steward-Timestamp` (Unix seconds) and
//! `X-Steward-Signature: v1=<hex>`. A receiver refuses a timestamp more
//! than five minutes away from its clock, so a captured request cannot be
//! replayed later.
//!
//! Slack signs its requests (slash commands) its own way: `v0=<hex of
//! HMAC-SHA256(signing secret, "v0:{timestamp}:{body}")>` in
//! `X-Slack-Signature`, the timestamp in `X-Slack-Request-Timestamp`
//! ([`verify_slack`]), with the same window.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "x-steward-timestamp";
pub const SIGNATURE_HEADER: &str = "x-steward-signature";
/// How far a signed timestamp may be from the receiver's clock.
pub const REPLAY_WINDOW_SECS: i64 = 300;

/// `v1=<hex of HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a signed request is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the timestamp header is missing or not a number of seconds")]
    BadTimestamp,
    #[error("the timestamp is {0} s from now, outside the 5-minute window")]
    OutsideWindow(i64),
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a signature in constant time, and the timestamp against `now`.
pub fn verify(secret: &[u8], timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now - timestamp;
    if skew.abs() > REPLAY_WINDOW_SECS {
        return Err(SignatureError::OutsideWindow(skew));
    }
    let given =
        signature.trim().strip_prefix("v1=").and_then(|hex| hex::decode(hex).ok()).ok_or(SignatureError::Mismatch)?;
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| SignatureError::Mismatch)
}

pub const SLACK_TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
pub const SLACK_SIGNATURE_HEADER: &str = "x-slack-signature";

/// Slack's `v0=` signature, for tests and senders.
pub fn sign_slack(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a Slack request signature in constant time, and its timestamp.
pub fn verify_slack(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    let skew = now - timestamp;
    if skew.abs() > REPLAY_WINDOW_SECS {
        return Err(SignatureError::OutsideWindow(skew));
    }
    let given =
        signature.trim().strip_prefix("v0=").and_then(|hex| hex::decode(hex).ok()).ok_or(SignatureError::Mismatch)?;
    let mut mac = mac(secret);
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| SignatureError::Mismatch)
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_is_refused() {
        let signature = sign(b"key", 1_700_000_000, b"{\"a\":1}");
        assert!(verify(b"key", "1700000000", &signature, b"{\"a\":1}", 1_700_000_100).is_ok());
        assert_eq!(
            verify(b"key", "1700000000", &signature, b"{\"a\":2}", 1_700_000_100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", "1700000000", &signature, b"{\"a\":1}", 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"key", "1700000001", &signature, b"{\"a\":1}", 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"key", "1700000000", &signature, b"{\"a\":1}", 1_700_000_301),
            Err(SignatureError::OutsideWindow(301))
        );
        assert_eq!(verify(b"key", "soon", &signature, b"", 0), Err(SignatureError::BadTimestamp));
    }

    #[test]
    fn slack_signatures_follow_slacks_example() {
        // The example of Slack's "Verifying requests from Slack" guide.
        let secret = b"8f742231b10e8888abcd99yyyzzz85a5";
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(sign_slack(secret, 1_531_420_618, body), signature);
        assert!(verify_slack(secret, "1531420618", signature, body, 1_531_420_700).is_ok());
        assert_eq!(
            verify_slack(secret, "1531420618", signature, body, 1_531_421_000),
            Err(SignatureError::OutsideWindow(382))
        );
        assert_eq!(
            verify_slack(secret, "1531420618", signature, b"text=x", 1_531_420_618),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_signature_is_the_documented_hmac() {
        // echo -n '1.body' | openssl dgst -sha256 -hmac secret
        assert_eq!(sign(b"secret", 1, b"body"), "v1=842b24d9575dee4b6ec460b7e3af7d683501d84fe6279102340787c79d2e2bab");
    }
}
