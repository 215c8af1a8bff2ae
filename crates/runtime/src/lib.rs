//! The work engine: the use cases the API and CLI call ([`usecases`]); a pool
//! of workers that claims jobs from the durable queue and runs each with the
//! handler registered for its kind ([`worker`], [`handlers`]); the agent loop,
//! chats and the setup chat ([`agent`]); the tools and skills agents use; the
//! outbound-I/O policy ([`outbound`]), runs' OpenTelemetry traces ([`telemetry`]) and
//! the injected clock ([`clock`]).
//!
//! Architecture invariant: the runtime talks to storage only through the
//! `steward_store` traits, so tests can run it against any backend, and reads
//! "now" only from its injected clock, so tests can set the time.

pub mod agent;
pub mod calendar;
pub mod clock;
pub mod confined;
pub mod deliveries;
pub mod handlers;
pub mod living_docs;
pub mod living_docs_jobs;
pub mod mcp;
pub mod memory;
pub mod metrics;
pub mod node;
pub mod outbound;
pub mod oversight;
pub mod projects;
pub mod routines;
pub mod scheduler;
pub mod skills;
pub mod telemetry;
pub mod tools;
pub mod use_case_error;
pub mod usecases;
pub mod worker;

pub use clock::SharedClock;
pub use handlers::{HandlerRegistry, JobContext, JobError, JobHandler};
pub use scheduler::Scheduler;
pub use usecases::{UseCaseError, UseCases};
pub use worker::{ShutdownReport, WorkerPool, WorkerPoolConfig};
