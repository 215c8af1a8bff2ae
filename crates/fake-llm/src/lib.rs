//! A fake model provider: a real HTTP server on a loopback port that speaks
//! the Anthropic Messages and OpenAI Chat Completions wire protocols
//! (streamed and not, tool calls, usage, errors in each provider's own JSON)
//! plus OpenAI embeddings.
//!
//! Tests script its answers — a FIFO queue of [`Script`]s, a [`Responder`]
//! closure that picks an answer from the request, or both — inject
//! [`Fault`]s, and read back every [`ReceivedRequest`]. Unscripted requests
//! get a sensible default reply, so the binary is useful on its own; a
//! [`ToolLoop`] answers every conversation with a few tool calls and then a
//! final answer, for load tests of an agent loop.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use steward_fake_llm::{FakeLlm, Fault, Reply, ReplyUsage};
//! let fake = FakeLlm::start().await?;
//! fake.push(Fault::rate_limited(2));
//! fake.push(Reply::text("Hello!").with_usage(ReplyUsage { input_tokens: 10, output_tokens: 3, ..Default::default() }));
//! fake.set_responder(|request| request.mentions("conversation-7").then(|| Reply::text("seven").into()));
//! // Point a client at fake.anthropic_base_url() or fake.openai_base_url() …
//! assert!(fake.requests().len() <= 2);
//! # Ok(()) }
//! ```
//!
//! Architecture invariant: this crate does not depend on `steward-llm`; it
//! writes its own wire JSON so a serialization bug in our client is not
//! mirrored here, and it is checked against the official SDKs instead.

mod anthropic;
mod behaviour;
mod conversation_script;
mod defaults;
mod delivery;
mod openai;
mod received;
mod render;
mod script;
mod server;
mod state;
mod tool_loop;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::serve::ListenerExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use behaviour::BehaviourOptions;
pub use conversation_script::ConversationScript;
pub use defaults::example_for_schema;
pub use openai::DEFAULT_EMBEDDING_DIMENSIONS;
pub use received::{Endpoint, Protocol, ReceivedRequest};
pub use script::{ErrorSpec, Fault, Reply, ReplyBlock, ReplyUsage, Script, StopKind};
pub use state::{FakeStats, Responder};
pub use tool_loop::{TOOL_LOOP_ANSWER, ToolLoop};

use state::FakeState;

/// Pending connections the kernel may queue before the fake accepts them; a
/// burst of thousands of clients connecting at once must not be refused.
const LISTEN_BACKLOG: u32 = 4096;

/// A running fake provider. Dropping it shuts the server down and releases
/// any request held by [`Fault::Hang`].
pub struct FakeLlm {
    address: SocketAddr,
    state: Arc<FakeState>,
    shutdown: watch::Sender<bool>,
    server_task: JoinHandle<()>,
}

impl std::fmt::Debug for FakeLlm {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("FakeLlm").field("address", &self.address).finish_non_exhaustive()
    }
}

impl FakeLlm {
    /// Starts on a free loopback port.
    pub async fn start() -> io::Result<FakeLlm> {
        FakeLlm::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts on the given address (port 0 picks a free one).
    pub async fn start_on(address: SocketAddr) -> io::Result<FakeLlm> {
        let socket = if address.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        let listener: TcpListener = socket.listen(LISTEN_BACKLOG)?;
        let address = listener.local_addr()?;
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let state = Arc::new(FakeState::new(shutdown_receiver.clone()));
        let app = server::router(Arc::clone(&state));
        let server_task = tokio::spawn(async move {
            let mut shutdown_receiver = shutdown_receiver;
            // Without TCP_NODELAY, Nagle's algorithm holds back the small end-of-body
            // chunk until the client's delayed ACK, adding ~40 ms to every reply.
            let listener = listener.tap_io(|connection| {
                let _ = connection.set_nodelay(true);
            });
            let serving = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move { delivery::wait_for_shutdown(&mut shutdown_receiver).await });
            if let Err(error) = serving.await {
                eprintln!("steward-fake-llm: server stopped: {error}");
            }
        });
        Ok(FakeLlm { address, state, shutdown, server_task })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The base URL as the Anthropic SDKs want it (they append `/v1/messages`).
    pub fn anthropic_base_url(&self) -> String {
        self.base_url()
    }

    /// The base URL as the OpenAI SDKs want it (they append `/chat/completions`).
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// Queues an answer for the next request (FIFO). Embedding requests only
    /// take a queued [`Fault`].
    pub fn push(&self, script: impl Into<Script>) {
        self.state.push(script.into());
    }

    /// Queues several answers in order.
    pub fn push_all(&self, scripts: impl IntoIterator<Item = Script>) {
        for script in scripts {
            self.state.push(script);
        }
    }

    /// Answers still queued.
    pub fn queued(&self) -> usize {
        self.state.queued()
    }

    /// Sets the closure consulted when the queue is empty; it may be called
    /// from many requests at once.
    pub fn set_responder(&self, responder: impl Fn(&ReceivedRequest) -> Option<Script> + Send + Sync + 'static) {
        self.state.set_responder(Some(Arc::new(responder)));
    }

    /// Answers every conversation with a scripted tool loop (see [`ToolLoop`])
    /// when the queue is empty; replaces the responder.
    pub fn set_tool_loop(&self, tool_loop: ToolLoop) {
        self.set_responder(move |request| Some(tool_loop.reply_for(request).into()));
    }

    /// Plays `script` when the queue is empty (see [`ConversationScript`]);
    /// requests it does not match get the default reply. Replaces the
    /// responder.
    pub fn set_script(&self, script: ConversationScript) {
        self.set_responder(move |request| script.reply_for(request).map(Into::into));
    }

    pub fn clear_responder(&self) {
        self.state.set_responder(None);
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.state.received()
    }

    /// Like [`FakeLlm::requests`], and forgets them.
    pub fn take_requests(&self) -> Vec<ReceivedRequest> {
        self.state.take_received()
    }

    /// Stops (or resumes) keeping received requests, for long benchmarks.
    pub fn set_recording(&self, enabled: bool) {
        self.state.set_recording(enabled);
    }

    /// Holds every reply this long before answering (in addition to any
    /// per-reply delay), as a slow model would.
    pub fn set_reply_delay(&self, delay: Duration) {
        self.state.set_reply_delay(delay);
    }

    /// Holds every reply until [`FakeLlm::resume_replies`]; requests are still
    /// received, recorded and counted as in flight meanwhile.
    pub fn pause_replies(&self) {
        self.state.set_paused(true);
    }

    pub fn resume_replies(&self) {
        self.state.set_paused(false);
    }

    /// Answers 401 unless the request presents this key.
    pub fn require_api_key(&self, key: impl Into<String>) {
        self.state.set_expected_api_key(Some(key.into()));
    }

    pub fn stats(&self) -> FakeStats {
        self.state.stats()
    }

    /// When the last piece of the most recent complete stream was handed to
    /// the HTTP server for sending.
    pub fn last_stream_piece_at(&self) -> Option<Instant> {
        self.state.last_stream_piece_at()
    }

    /// Stops the server (the same as dropping it).
    pub fn shutdown(self) {
        drop(self);
    }

    /// Runs until Ctrl-C, then shuts down.
    pub async fn run_until_ctrl_c(self) -> io::Result<()> {
        tokio::signal::ctrl_c().await?;
        self.shutdown();
        Ok(())
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.server_task.abort();
    }
}
