//! Outgoing webhooks: a JSON POST signed with HMAC-SHA256 over the
//! timestamp and the body (`signature.rs`), carrying the delivery's
//! idempotency key in `Idempotency-Key` so a receiver drops a repeat.

use serde_json::json;
use steward_domain::delivery::{AttemptFailure, Sent, excerpt};

use super::content::Content;
use super::http::{answer, refused, unreached};
use super::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};

pub(super) struct Webhook<'a> {
    pub client: &'a reqwest::Client,
    pub secret: Option<&'a str>,
    /// Unix seconds, from the injected clock.
    pub now: i64,
}

impl Webhook<'_> {
    pub async fn post(&self, url: &str, content: &Content, key: &str, delivery: i64) -> Result<Sent, AttemptFailure> {
        let Some(secret) = self.secret else {
            return Err(AttemptFailure::permanent(
                "the webhook signing key is not set (deliveries.webhook_secret_env names its environment variable)",
            ));
        };
        let body = json!({
            "delivery": delivery,
            "idempotency_key": key,
            "routine": content.label,
            "run_id": content.run_id,
            "fire_id": content.fire_id,
            "text": content.markdown,
            "cost_usd": content.cost_usd,
            "run_url": content.run_url,
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, self.now.to_string())
            .header(SIGNATURE_HEADER, sign(secret.as_bytes(), self.now, &body))
            .header("idempotency-key", key)
            .body(body)
            .send()
            .await
            .map_err(|error| unreached("webhook", error))?;
        let (status, retry_after, text) = answer(response).await;
        if !(200..300).contains(&status) {
            return Err(refused("webhook", status, retry_after, &text));
        }
        Ok(Sent { http_status: Some(status), response_excerpt: Some(excerpt(&text)), external_id: None })
    }
}
