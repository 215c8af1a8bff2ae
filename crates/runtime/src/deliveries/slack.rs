//! Slack: the Web API with a bot token (`chat.postMessage`; a DM opened
//! with `conversations.open`) and incoming webhooks. Each message carries
//! the delivery's idempotency key in its metadata, so a later attempt can
//! look for what an earlier one posted (`conversations.history`) and post
//! only the parts that are missing.

use serde_json::{Value, json};
use steward_domain::delivery::slack_blocks::{SlackMessage, slack_messages};
use steward_domain::delivery::{AttemptFailure, FailureClass, Sent, classify_slack_error, excerpt};

use super::content::Content;
use super::http::{answer, refused, unreached};

/// The metadata event type our messages carry.
pub const EVENT_TYPE: &str = "steward_delivery";

pub(super) struct SlackApi<'a> {
    pub client: &'a reqwest::Client,
    pub base: &'a str,
    pub token: &'a str,
}

impl SlackApi<'_> {
    /// Calls a Web API method: writes as a JSON POST, reads (`conversations.list`,
    /// `.history`) as a GET with the fields in the query, as Slack takes them.
    /// A 200 with `"ok": false` is classified by its `error`.
    async fn call(&self, method: &str, body: &Value) -> Result<(u16, Value, String), AttemptFailure> {
        let url = format!("{}/{method}", self.base.trim_end_matches('/'));
        let request = if matches!(method, "conversations.list" | "conversations.history") {
            let mut url = url::Url::parse(&url)
                .map_err(|_| AttemptFailure::permanent("deliveries.slack_api_base is not a URL"))?;
            for (name, value) in body.as_object().into_iter().flatten() {
                let value = value.as_str().map_or_else(|| value.to_string(), str::to_string);
                url.query_pairs_mut().append_pair(name, &value);
            }
            self.client.get(url)
        } else {
            self.client.post(url).json(body)
        };
        let response = request
            .bearer_auth(self.token)
            .send()
            .await
            .map_err(|error| unreached(&format!("slack {method}"), error))?;
        let (status, retry_after, text) = answer(response).await;
        if !(200..300).contains(&status) {
            return Err(refused(&format!("slack {method}"), status, retry_after, &text));
        }
        let value: Value = serde_json::from_str(&text).map_err(|_| {
            AttemptFailure::transient(format!("slack {method}: the answer is not JSON")).with_response(status, &text)
        })?;
        if value["ok"] != json!(true) {
            let code = value["error"].as_str().unwrap_or("unknown_error").to_string();
            let reason = format!("slack {method}: {code}");
            let failure = match classify_slack_error(&code) {
                FailureClass::Transient => AttemptFailure::transient(reason),
                FailureClass::Permanent => AttemptFailure::permanent(reason),
            };
            return Err(AttemptFailure { retry_after, ..failure.with_response(status, &text) });
        }
        Ok((status, value, text))
    }

    /// The channel to post to: a DM's id for a person, else as given.
    async fn channel(&self, user: Option<&str>, channel: &str) -> Result<String, AttemptFailure> {
        match user {
            Some(user) => {
                let (_, value, _) = self.call("conversations.open", &json!({ "users": user })).await?;
                value["channel"]["id"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| AttemptFailure::transient("slack conversations.open: no channel id in the answer"))
            }
            None => Ok(channel.to_string()),
        }
    }

    /// A `#name` as an id (history needs one), through `conversations.list`.
    async fn channel_id(&self, channel: &str) -> Result<String, AttemptFailure> {
        let Some(name) = channel.strip_prefix('#') else { return Ok(channel.to_string()) };
        let mut cursor = String::new();
        for _ in 0..50 {
            let body = json!({ "types": "public_channel,private_channel", "limit": 1000, "cursor": cursor });
            let (_, value, _) = self.call("conversations.list", &body).await?;
            let channels = value["channels"].as_array().cloned().unwrap_or_default();
            if let Some(found) = channels.iter().find(|c| c["name"] == json!(name)) {
                return Ok(found["id"].as_str().unwrap_or_default().to_string());
            }
            cursor = value["response_metadata"]["next_cursor"].as_str().unwrap_or_default().to_string();
            if cursor.is_empty() {
                break;
            }
        }
        Err(AttemptFailure::permanent(format!("slack: channel {channel} not found")))
    }

    /// The parts of this delivery already in the channel (by metadata key).
    async fn posted_parts(&self, channel: &str, key: &str) -> Result<Vec<u64>, AttemptFailure> {
        let id = self.channel_id(channel).await?;
        let body = json!({ "channel": id, "limit": 200, "include_all_metadata": true });
        let (_, value, _) = self.call("conversations.history", &body).await?;
        let messages = value["messages"].as_array().cloned().unwrap_or_default();
        Ok(messages
            .iter()
            .filter(|m| {
                m["metadata"]["event_type"] == json!(EVENT_TYPE) && m["metadata"]["event_payload"]["key"] == json!(key)
            })
            .filter_map(|m| m["metadata"]["event_payload"]["part"].as_u64())
            .collect())
    }

    /// Posts every part not posted yet; `look_first` when an earlier attempt may have posted some.
    pub async fn post(
        &self,
        user: Option<&str>,
        channel: &str,
        content: &Content,
        key: &str,
        look_first: bool,
    ) -> Result<Sent, AttemptFailure> {
        let channel = self.channel(user, channel).await?;
        let messages = slack_messages(&content.markdown, &content.footer());
        let posted = if look_first { self.posted_parts(&channel, key).await? } else { Vec::new() };
        let mut last =
            Sent { http_status: Some(200), response_excerpt: Some("already posted".into()), external_id: None };
        for (part, message) in messages.iter().enumerate() {
            let part = part as u64;
            if posted.contains(&part) {
                continue;
            }
            let body = post_body(&channel, message, key, part, messages.len());
            let (status, value, text) = self.call("chat.postMessage", &body).await?;
            last = Sent {
                http_status: Some(status),
                response_excerpt: Some(excerpt(&text)),
                external_id: value["ts"].as_str().map(str::to_string).or(last.external_id),
            };
        }
        Ok(last)
    }
}

fn post_body(channel: &str, message: &SlackMessage, key: &str, part: u64, parts: usize) -> Value {
    json!({
        "channel": channel,
        "text": message.text,
        "blocks": message.blocks,
        "unfurl_links": false,
        "metadata": { "event_type": EVENT_TYPE, "event_payload": { "key": key, "part": part, "parts": parts } },
    })
}

/// Posts to an incoming webhook, part by part (it answers `ok` as text).
pub(super) async fn post_webhook(
    client: &reqwest::Client,
    url: &str,
    content: &Content,
) -> Result<Sent, AttemptFailure> {
    let mut last = None;
    for message in slack_messages(&content.markdown, &content.footer()) {
        let body = json!({ "text": message.text, "blocks": message.blocks, "unfurl_links": false });
        let response =
            client.post(url).json(&body).send().await.map_err(|error| unreached("slack incoming webhook", error))?;
        let (status, retry_after, text) = answer(response).await;
        if !(200..300).contains(&status) {
            return Err(refused("slack incoming webhook", status, retry_after, &text));
        }
        last = Some(Sent { http_status: Some(status), response_excerpt: Some(excerpt(&text)), external_id: None });
    }
    last.ok_or_else(|| AttemptFailure::permanent("nothing to post"))
}
