//! Integration tests of the `steward` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod llm_commands;
