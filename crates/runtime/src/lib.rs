//! The work engine: a pool of workers that claims jobs from the durable queue
//! and runs each with the handler registered for its kind; the built-in tools
//! and skills agents use. Later: the agent loop, the scheduler.
//!
//! Architecture invariant: the runtime talks to storage only through the
//! `steward_store` traits, so tests can run it against any backend.

pub mod agent;
pub mod handlers;
pub mod skills;
pub mod tools;
pub mod worker;

pub use handlers::{HandlerRegistry, JobContext, JobError, JobHandler};
pub use worker::{ShutdownReport, WorkerPool, WorkerPoolConfig};
