//! A stream that may start over: events are held back until the first real
//! output arrives, so an error before that point can be answered with a
//! fresh attempt (a retry, a fallback model) without the caller seeing a
//! half-finished first try. Once output has been passed on, errors pass
//! through: replaying text the caller already showed would duplicate it.

use std::collections::VecDeque;

use futures::StreamExt;
use futures::future::BoxFuture;

use crate::error::LlmError;
use crate::event::{ChatStream, StreamEvent};

/// Decides what to do about an error that arrived before any output.
pub trait NextAttempt: Send + 'static {
    /// The stream of the next attempt, or `None` to give up with `error`.
    fn next_attempt<'a>(&'a mut self, error: &'a LlmError) -> BoxFuture<'a, Option<ChatStream>>;
}

struct Reattempting<P> {
    current: ChatStream,
    planner: P,
    /// Bookkeeping events (started, usage) of the current attempt, not yet passed on.
    held: Vec<StreamEvent>,
    released: VecDeque<Result<StreamEvent, LlmError>>,
    committed: bool,
    ended: bool,
}

pub fn reattempting_stream<P: NextAttempt>(first_attempt: ChatStream, planner: P) -> ChatStream {
    let state = Reattempting {
        current: first_attempt,
        planner,
        held: Vec::new(),
        released: VecDeque::new(),
        committed: false,
        ended: false,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        let item = state.next_item().await?;
        Some((item, state))
    }))
}

impl<P: NextAttempt> Reattempting<P> {
    async fn next_item(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        loop {
            if let Some(item) = self.released.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            match self.current.next().await {
                Some(Ok(event)) if self.committed => return Some(Ok(event)),
                Some(Ok(event)) if event.is_output() => {
                    self.committed = true;
                    self.released.extend(self.held.drain(..).map(Ok));
                    self.released.push_back(Ok(event));
                }
                Some(Ok(event)) => self.held.push(event),
                Some(Err(error)) => {
                    if !self.committed
                        && let Some(next) = self.planner.next_attempt(&error).await
                    {
                        self.current = next;
                        self.held.clear();
                        continue;
                    }
                    self.ended = true;
                    return Some(Err(error));
                }
                None => {
                    self.ended = true;
                    self.released.extend(self.held.drain(..).map(Ok));
                }
            }
        }
    }
}
