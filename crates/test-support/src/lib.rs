//! Helpers for Steward's tests: a fresh database per test on either backend,
//! and (in later modules) running servers and fakes of outside services.
//! A dev-dependency only; nothing here ships in the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod database;
pub mod fakes;

pub use database::{TestDatabase, TestStore};
