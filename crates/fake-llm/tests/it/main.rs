//! Integration tests of the fake provider: its scripting, its faults, its
//! capacity, and its faithfulness to the official SDKs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod concurrency;
mod faults;
mod official_sdks;
mod scripting;
mod tool_loop;
