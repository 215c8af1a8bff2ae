//! The loop every streamed call runs, whatever the protocol: send the
//! request, feed each server-sent event to the protocol's decoder, time the
//! first token, and finish with usage and cost — or with an error if the
//! stream breaks or ends early.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use eventsource_stream::Event;
use futures::StreamExt;
use reqwest::RequestBuilder;
use tokio::time::Instant;

use crate::error::{ErrorKind, LlmError};
use crate::event::{ChatStream, Finish, StopReason, StreamEvent, Usage};
use crate::http::{EventSource, Transport};
use crate::model::ModelId;
use crate::pricing::ModelPrice;

/// What a protocol decoder makes of one server-sent event.
#[derive(Debug)]
pub enum Decoded {
    Event(StreamEvent),
    /// The reply is complete. `usage` is `None` if the provider never reported it.
    Done {
        stop_reason: StopReason,
        usage: Option<Usage>,
    },
}

/// Reads one protocol's server-sent events.
pub trait EventDecoder: Send + 'static {
    /// Handles one event, pushing what it means onto `out`.
    fn decode(&mut self, event: &Event, out: &mut Vec<Decoded>) -> Result<(), LlmError>;
}

/// Everything needed to make one streamed call.
pub struct StreamedCall {
    pub transport: Arc<Transport>,
    pub request: RequestBuilder,
    pub model: ModelId,
    pub price: Option<ModelPrice>,
}

enum Phase<D> {
    NotSent(Box<StreamedCall>, D),
    Receiving { events: EventSource, decoder: D, model: ModelId, price: Option<ModelPrice>, source_name: String },
    Ended,
}

struct Driver<D> {
    phase: Phase<D>,
    ready: VecDeque<Result<StreamEvent, LlmError>>,
    started: Option<Instant>,
    first_output_at: Option<Instant>,
}

/// Runs a streamed call; the returned stream does nothing until polled.
pub fn run_streamed_call<D: EventDecoder>(call: StreamedCall, decoder: D) -> ChatStream {
    let driver = Driver {
        phase: Phase::NotSent(Box::new(call), decoder),
        ready: VecDeque::new(),
        started: None,
        first_output_at: None,
    };
    Box::pin(futures::stream::unfold(driver, |mut driver| async move {
        let item = driver.next_item().await?;
        Some((item, driver))
    }))
}

/// How long a finished reply's remaining bytes are waited for. A prompt
/// server sends the end of the body with the last event, so this is rarely
/// waited out; one that dawdles costs a new connection, not latency.
const DRAIN_LIMIT: Duration = Duration::from_millis(5);

/// Reads what is left of a complete reply — normally only the end of the
/// HTTP body, already received — so the connection goes back to the pool
/// for the next call instead of being closed. Gives up quickly rather than
/// hold back the final event.
async fn drain_the_rest(events: &mut EventSource) {
    let _ = tokio::time::timeout(DRAIN_LIMIT, async { while events.next().await.is_some() {} }).await;
}

impl<D: EventDecoder> Driver<D> {
    async fn next_item(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            match std::mem::replace(&mut self.phase, Phase::Ended) {
                Phase::Ended => return None,
                Phase::NotSent(call, decoder) => {
                    let started = Instant::now();
                    self.started = Some(started);
                    match call.transport.open_event_stream(call.request, started).await {
                        Ok(events) => {
                            let source_name = call.transport.source_name().to_owned();
                            self.phase =
                                Phase::Receiving { events, decoder, model: call.model, price: call.price, source_name };
                        }
                        Err(error) => return Some(Err(error)),
                    }
                }
                Phase::Receiving { mut events, mut decoder, model, price, source_name } => match events.next().await {
                    None => {
                        let message = "the reply stream ended before it was complete";
                        return Some(Err(LlmError::new(ErrorKind::Connection, source_name, message)));
                    }
                    Some(Err(error)) => return Some(Err(error)),
                    Some(Ok(event)) => {
                        let mut decoded = Vec::new();
                        if let Err(error) = decoder.decode(&event, &mut decoded) {
                            return Some(Err(error));
                        }
                        let finished = self.queue_decoded(decoded, &model, price.as_ref());
                        if finished {
                            drain_the_rest(&mut events).await;
                        } else {
                            self.phase = Phase::Receiving { events, decoder, model, price, source_name };
                        }
                    }
                },
            }
        }
    }

    /// Queues decoded events; returns whether the reply is complete.
    fn queue_decoded(&mut self, decoded: Vec<Decoded>, model: &ModelId, price: Option<&ModelPrice>) -> bool {
        for item in decoded {
            match item {
                Decoded::Event(event) => {
                    let is_first_output =
                        matches!(event, StreamEvent::TextDelta { .. } | StreamEvent::ToolCallStarted { .. });
                    if is_first_output && self.first_output_at.is_none() {
                        self.first_output_at = Some(Instant::now());
                    }
                    self.ready.push_back(Ok(event));
                }
                Decoded::Done { stop_reason, usage } => {
                    let now = Instant::now();
                    let started = self.started.unwrap_or(now);
                    // Without reported usage the cost is unknown, not zero.
                    let cost_usd = match (price, usage) {
                        (Some(price), Some(usage)) => Some(price.cost_usd(&usage)),
                        _ => None,
                    };
                    self.ready.push_back(Ok(StreamEvent::Finished(Finish {
                        stop_reason,
                        usage: usage.unwrap_or_default(),
                        cost_usd,
                        model: model.clone(),
                        time_to_first_token: self.first_output_at.map(|at| at - started),
                        elapsed: now - started,
                    })));
                    return true;
                }
            }
        }
        false
    }
}
