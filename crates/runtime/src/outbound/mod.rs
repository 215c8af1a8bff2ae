//! The policy every outbound connection keeps, in one place so `http.fetch`,
//! and the deliveries, calendar feeds and MCP clients to come, share it: the
//! addresses a connection may reach ([`address_policy`]), an HTTP client
//! that applies that policy to every connection it makes ([`client`]), and
//! the redaction that keeps secrets out of everything stored ([`redact`]).

pub mod address_policy;
pub mod client;
pub mod redact;

pub use address_policy::{AddressPolicy, BlockedAddress, GuardedResolver, InvalidAllowEntry, non_public_range};
pub use client::{GuardedClient, Redirects, UrlRefused, blocked_address_in, check_url};
pub use redact::Redactor;
