//! `AuthSettings`: whether a server requires credentials, how its cookies
//! are marked, and its limits on failed attempts (`limiter.rs`). Apart from
//! the middleware (`auth/`) so the application state can hold them without
//! importing the middleware, which reads the state.

mod hosts;
pub mod limiter;
pub mod signed;

use std::sync::Arc;

pub use hosts::HostPolicy;
pub use limiter::AttemptLimiter;

/// The path the MCP server is mounted at (and protected like the API).
pub const MCP_PATH: &str = "/mcp";

/// Whether credentials are required, and how cookies are marked.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Requests without a credential are refused (401) instead of acting as
    /// the local owner.
    pub required: bool,
    /// Session cookies are marked `Secure` (the server is reached over TLS).
    pub secure_cookies: bool,
    /// Failed attempts per client address.
    pub by_address: Arc<AttemptLimiter>,
    /// Failed passwords per user name.
    pub by_name: Arc<AttemptLimiter>,
    /// Requests that call a model, per token and per client address.
    pub spending: SpendingLimits,
}

/// How many requests that call a model a token, and a client address, may
/// make in a window (`guard/route_limits.rs` counts them).
#[derive(Clone, Debug)]
pub struct SpendingLimits {
    pub by_token: Arc<AttemptLimiter>,
    pub by_address: Arc<AttemptLimiter>,
}

impl SpendingLimits {
    /// At most `per_token` requests per token and `per_address` per address
    /// in each minute.
    pub fn per_minute(per_token: u32, per_address: u32) -> SpendingLimits {
        SpendingLimits {
            by_token: Arc::new(AttemptLimiter::new(per_token, chrono::Duration::minutes(1))),
            by_address: Arc::new(AttemptLimiter::new(per_address, chrono::Duration::minutes(1))),
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            required: false,
            secure_cookies: false,
            by_address: Arc::new(AttemptLimiter::new(20, chrono::Duration::minutes(5))),
            by_name: Arc::new(AttemptLimiter::new(5, chrono::Duration::minutes(5))),
            spending: SpendingLimits::per_minute(60, 120),
        }
    }
}
