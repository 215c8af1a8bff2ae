//! Integration tests of the LLM client against the fake provider, over real
//! sockets: streaming, tool calls, structured output, faults and retries,
//! costs, the exact requests we send, and keeping keys secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod boundary;
mod costs;
mod embeddings;
mod faults;
#[cfg(feature = "local-embeddings")]
mod local_embeddings;
mod registry;
mod secrets;
mod streaming;
mod structured;
mod support;
mod timeouts;
