//! Deliveries: a run's output sent to one destination (Slack, a webhook,
//! e-mail, a file), once per fire (or run) and destination.
//!
//! The lifecycle: `pending` (its job waits for the run) → `sending` (an
//! attempt started; written before anything leaves) → `sent`, or
//! `retrying` (a transient failure: 429, 5xx, a timeout) and again, or
//! `dead` (a permanent refusal, or out of attempts) with the reason kept.
//! An attempt that finds its delivery `sending` knows an earlier attempt
//! may have sent before it could record: what it does then is decided in
//! [`in_doubt`].

pub mod destination;
pub mod html;
pub mod markdown;
pub mod outcome;
pub mod slack_blocks;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use destination::{Destination, UrlSource};
pub use outcome::{AttemptFailure, AttemptResult, FailureClass, Sent, classify_http, classify_slack_error, excerpt};

use crate::ids::{DeliveryId, FireId, JobId, RunId, UserId};
use crate::text_enum::text_enum;

text_enum!(
    /// Where a delivery is in its life.
    DeliveryStatus, "status", {
        Pending => "pending",
        Sending => "sending",
        Sent => "sent",
        Retrying => "retrying",
        Dead => "dead",
    }
);

/// The job kind that sends one delivery; its payload is a [`SendPayload`].
pub const JOB_KIND: &str = "delivery.send";

/// A `delivery.send` job's payload: `{"delivery": ID}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SendPayload {
    pub delivery: DeliveryId,
}

impl SendPayload {
    pub fn to_json(self) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        object.insert("delivery".to_string(), self.delivery.0.into());
        serde_json::Value::Object(object)
    }
}
/// The queue deliveries wait in.
pub const QUEUE: &str = "deliveries";
/// Attempts before a delivery is dead (transient failures only).
pub const MAX_ATTEMPTS: u32 = 8;
/// An attempt's time limit (connect, send, read the answer).
pub const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// A delivery as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub user_id: UserId,
    pub run_id: RunId,
    pub fire_id: Option<FireId>,
    /// The URI as given (a secret URL only as `$NAME`); show [`Destination::redacted`].
    pub destination: String,
    pub kind: String,
    /// Unique per (fire or run, destination): `delivery:fire-7:slack:#plans`.
    pub idempotency_key: String,
    pub job_id: Option<JobId>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    /// What the service calls the message (Slack's `ts`), once sent.
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Delivery {
    /// The parsed destination (stored ones always parse).
    pub fn parsed(&self) -> Result<Destination, crate::ValidationError> {
        Destination::parse("destination", &self.destination)
    }

    /// The destination as it may be shown.
    pub fn shown_destination(&self) -> String {
        self.parsed().map_or_else(|_| self.kind.clone(), |destination| destination.redacted())
    }
}

/// Deliveries to record for a run (of a fire): one per destination.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDeliveries {
    pub run_id: RunId,
    pub fire_id: Option<FireId>,
    pub destinations: Vec<Destination>,
}

/// The idempotency key of a (fire or run, destination) pair. A long
/// destination, or one holding a URL (which may be secret), is replaced by
/// a hash, so the key stays short and shows nothing secret.
pub fn idempotency_key(run: RunId, fire: Option<FireId>, destination: &Destination) -> String {
    let owner = match fire {
        Some(fire) => format!("fire-{fire}"),
        None => format!("run-{run}"),
    };
    let uri = destination.to_string();
    if uri.len() <= 120 && uri == destination.redacted() {
        format!("delivery:{owner}:{uri}")
    } else {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in uri.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("delivery:{owner}:{}:{hash:016x}", destination.kind())
    }
}

/// What an attempt does when it finds its delivery `sending`: an earlier
/// attempt started and never recorded its end (a crash, a lost lease).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InDoubt {
    /// Look for the message first (Slack: the channel's recent messages
    /// carry the key in their metadata); send only when it is not there.
    CheckThenSend,
    /// Sending again is harmless: the receiver drops a repeated key
    /// (webhooks carry it in `Idempotency-Key`), or the write replaces the
    /// same file with the same bytes.
    SendAgain,
    /// No way to know (an incoming webhook, e-mail): the delivery is dead
    /// with the reason, and `steward delivery retry ID` sends it again when
    /// a person decides to.
    GiveUp,
}

/// The policy per destination kind.
pub fn in_doubt(destination: &Destination) -> InDoubt {
    match destination {
        Destination::SlackChannel(_) | Destination::SlackUser(_) => InDoubt::CheckThenSend,
        Destination::Webhook(_) | Destination::File(_) => InDoubt::SendAgain,
        Destination::SlackWebhook(_) | Destination::Mail(_) => InDoubt::GiveUp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_as_written() {
        let send = SendPayload { delivery: DeliveryId(42) };
        assert_eq!(send.to_json().to_string(), r#"{"delivery":42}"#);
        assert_eq!(serde_json::from_value::<SendPayload>(send.to_json()).unwrap(), send);
        let routine = crate::schedule::spec::RoutineRunPayload {
            routine: "morning".into(),
            schedule: "weekdays".into(),
            slot: "2030-01-31T08:00:00+01:00".into(),
        };
        assert_eq!(
            serde_json::from_value::<crate::schedule::spec::RoutineRunPayload>(routine.to_json()).unwrap(),
            routine
        );
    }

    #[test]
    fn keys_are_per_fire_or_run_and_destination_and_stay_short() {
        let slack = Destination::parse("d", "slack:#plans").unwrap();
        assert_eq!(idempotency_key(RunId(3), Some(FireId(7)), &slack), "delivery:fire-7:slack:#plans");
        assert_eq!(idempotency_key(RunId(3), None, &slack), "delivery:run-3:slack:#plans");
        let long = Destination::parse("d", &format!("webhook:https://x.example/{}", "a".repeat(300))).unwrap();
        let key = idempotency_key(RunId(3), None, &long);
        assert!(key.len() < 60 && key.starts_with("delivery:run-3:webhook:"), "{key}");
        let other = Destination::parse("d", &format!("webhook:https://x.example/{}", "b".repeat(300))).unwrap();
        assert_ne!(key, idempotency_key(RunId(3), None, &other));
        let secret = Destination::parse("d", "slack-webhook:https://hooks.slack.com/services/T/B/secret").unwrap();
        assert!(!idempotency_key(RunId(3), None, &secret).contains("secret"));
    }
}
