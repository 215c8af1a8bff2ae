//! Runtime tests: the worker pool driving real stores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod worker_pool;
