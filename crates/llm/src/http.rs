//! The HTTP layer both providers share: one pooled client per provider, the
//! three timeouts (connect, first byte, stream idle), SSE decoding, and
//! turning transport failures into classified errors with no key in them.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use reqwest::RequestBuilder;
use reqwest::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::classify;
use crate::error::{ErrorKind, LlmError, TimeoutPhase};
use crate::secret::ApiKey;

/// How long to wait at each stage of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    pub connect: Duration,
    /// From sending the request to the first byte of the reply body. Long,
    /// because a big prompt can take a while before the first token.
    pub first_byte: Duration,
    /// Longest silence allowed between two pieces of a streamed reply.
    pub stream_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(120),
            stream_idle: Duration::from_secs(90),
        }
    }
}

/// Server-sent events from a reply body, with timeouts applied.
pub type EventSource = Pin<Box<dyn Stream<Item = Result<Event, LlmError>> + Send>>;

const STEWARD_USER_AGENT: &str = concat!("steward/", env!("CARGO_PKG_VERSION"));

/// One provider's connection pool, key and timeouts.
#[derive(Debug)]
pub struct Transport {
    client: reqwest::Client,
    timeouts: Timeouts,
    /// Names the provider in error messages.
    source_name: String,
    api_key: Option<ApiKey>,
}

impl Transport {
    pub fn new(source_name: impl Into<String>, api_key: Option<ApiKey>, timeouts: Timeouts) -> Result<Self, LlmError> {
        let source_name = source_name.into();
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .tcp_nodelay(true)
            // Retries are ours (`retry.rs`, with backoff and the provider's
            // hints). reqwest's own policy would only retry HTTP/2 refusals,
            // yet it keeps a copy of every request — headers and body — for
            // as long as the call lasts, which for thousands of calls waiting
            // on a model is several kilobytes each.
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .build()
            .map_err(|error| {
                LlmError::new(ErrorKind::NotConfigured, &source_name, format!("cannot build the HTTP client: {error}"))
            })?;
        Ok(Transport { client, timeouts, source_name, api_key })
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// `text` with the API key scrubbed out.
    pub fn redact(&self, text: &str) -> String {
        match &self.api_key {
            Some(key) => key.redact_from(text),
            None => text.to_owned(),
        }
    }

    /// A header value holding a secret: marked sensitive so it is never
    /// printed by the HTTP library's own `Debug` output either.
    pub fn secret_header(&self, prefix: &str) -> Option<HeaderValue> {
        let key = self.api_key.as_ref()?;
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", key.expose())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    pub fn post(&self, url: &str) -> RequestBuilder {
        self.client.post(url).header(USER_AGENT, STEWARD_USER_AGENT)
    }

    /// A POST of a JSON body. The body is handed over as a one-shot body
    /// (still sent with its Content-Length), because reqwest keeps a copy of
    /// a replayable body until the response headers arrive, to follow a 307
    /// redirect no provider sends: kilobytes per call (the system prompt and
    /// every tool schema) for as long as a model takes to start answering.
    /// A retry builds its request anew.
    pub fn post_json(&self, url: &str, json: String) -> RequestBuilder {
        self.post(url).header(CONTENT_TYPE, "application/json").body(reqwest::Body::wrap(json))
    }

    fn transport_error(&self, error: &reqwest::Error, phase: TimeoutPhase, context: &str) -> LlmError {
        let kind = if error.is_timeout() {
            ErrorKind::Timeout(if error.is_connect() { TimeoutPhase::Connect } else { phase })
        } else {
            ErrorKind::Connection
        };
        LlmError::new(kind, &self.source_name, self.redact(&format!("{context}: {}", describe_chain(error))))
    }

    fn timeout_error(&self, phase: TimeoutPhase) -> LlmError {
        let waited = match phase {
            TimeoutPhase::Connect => self.timeouts.connect,
            TimeoutPhase::FirstByte => self.timeouts.first_byte,
            TimeoutPhase::StreamIdle => self.timeouts.stream_idle,
        };
        LlmError::new(
            ErrorKind::Timeout(phase),
            &self.source_name,
            format!("no answer within {} ms", waited.as_millis()),
        )
    }

    /// Sends the request and waits for the response headers within the
    /// first-byte budget; a non-success status becomes a classified error.
    async fn send(&self, request: RequestBuilder, started: Instant) -> Result<reqwest::Response, LlmError> {
        let deadline = started + self.timeouts.first_byte;
        let response = match tokio::time::timeout_at(deadline, request.send()).await {
            Err(_elapsed) => return Err(self.timeout_error(TimeoutPhase::FirstByte)),
            Ok(Err(error)) => {
                return Err(self.transport_error(&error, TimeoutPhase::FirstByte, "sending the request failed"));
            }
            Ok(Ok(response)) => response,
        };
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match tokio::time::timeout(self.timeouts.stream_idle, response.text()).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) | Err(_) => String::new(),
        };
        Err(classify::http_error(&self.source_name, status, &headers, &body, |text| self.redact(text)))
    }

    /// Sends a request that expects a JSON reply and returns it parsed.
    pub async fn post_for_json(&self, request: RequestBuilder) -> Result<Value, LlmError> {
        let started = Instant::now();
        let response = self.send(request, started).await?;
        let bytes = match tokio::time::timeout(self.timeouts.stream_idle, response.bytes()).await {
            Err(_elapsed) => return Err(self.timeout_error(TimeoutPhase::StreamIdle)),
            Ok(Err(error)) => {
                return Err(self.transport_error(&error, TimeoutPhase::StreamIdle, "reading the reply failed"));
            }
            Ok(Ok(bytes)) => bytes,
        };
        serde_json::from_slice(&bytes).map_err(|error| {
            LlmError::new(
                ErrorKind::MalformedResponse,
                &self.source_name,
                format!("the reply is not valid JSON: {error}"),
            )
        })
    }

    /// Sends a streaming request and returns its server-sent events. The first
    /// body bytes must arrive within the first-byte budget (counted from
    /// `started`), and each later piece within the stream-idle timeout.
    pub async fn open_event_stream(
        self: &std::sync::Arc<Self>,
        request: RequestBuilder,
        started: Instant,
    ) -> Result<EventSource, LlmError> {
        let response = self.send(request, started).await?;
        let transport = std::sync::Arc::clone(self);
        let body = TimedBody {
            chunks: Box::pin(response.bytes_stream()),
            first_chunk_deadline: Some(started + self.timeouts.first_byte),
            stream_idle: self.timeouts.stream_idle,
            finished: false,
            transport,
        };
        let source_name = self.source_name.clone();
        let events = body.into_stream().eventsource().map(move |item| {
            item.map_err(|error| match error {
                EventStreamError::Transport(error) => error,
                EventStreamError::Utf8(error) => LlmError::new(
                    ErrorKind::MalformedResponse,
                    &source_name,
                    format!("the event stream is not UTF-8: {error}"),
                ),
                EventStreamError::Parser(error) => LlmError::new(
                    ErrorKind::MalformedResponse,
                    &source_name,
                    format!("the event stream is malformed: {error}"),
                ),
            })
        });
        Ok(Box::pin(events))
    }
}

/// A reply body whose pieces must keep coming.
struct TimedBody {
    chunks: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    /// Set until the first piece arrives.
    first_chunk_deadline: Option<Instant>,
    stream_idle: Duration,
    finished: bool,
    transport: std::sync::Arc<Transport>,
}

impl TimedBody {
    fn into_stream(self) -> impl Stream<Item = Result<Bytes, LlmError>> + Send {
        futures::stream::unfold(self, |mut body| async move {
            if body.finished {
                return None;
            }
            let next = match body.first_chunk_deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, body.chunks.next()).await,
                None => tokio::time::timeout(body.stream_idle, body.chunks.next()).await,
            };
            let phase =
                if body.first_chunk_deadline.is_some() { TimeoutPhase::FirstByte } else { TimeoutPhase::StreamIdle };
            match next {
                Err(_elapsed) => {
                    body.finished = true;
                    let error = body.transport.timeout_error(phase);
                    Some((Err(error), body))
                }
                Ok(None) => None,
                Ok(Some(Ok(chunk))) => {
                    body.first_chunk_deadline = None;
                    Some((Ok(chunk), body))
                }
                Ok(Some(Err(error))) => {
                    body.finished = true;
                    let error = body.transport.transport_error(&error, phase, "the reply stream was cut off");
                    Some((Err(error), body))
                }
            }
        })
    }
}

/// An error and its causes, without the URL (which could carry credentials).
fn describe_chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    let top = if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the body could not be read"
    } else {
        "request failed"
    };
    parts.push(top.to_owned());
    while let Some(cause) = current {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        current = cause.source();
    }
    parts.join(": ")
}
