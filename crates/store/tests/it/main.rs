//! The store test suite: every behaviour of the Store traits, run against
//! SQLite always and PostgreSQL when `STEWARD_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod action_runs;
mod actions;
mod agents;
mod approvals;
mod artifacts;
mod calls_in_flight;
mod cancellation;
mod conversations;
mod deliveries;
mod dependencies;
mod duplicate_merge;
mod enqueue;
mod event_horizon;
mod events;
mod guardian_policy;
mod helpers;
mod job_listing;
mod job_owners;
mod leases;
mod lifecycle;
mod memory;
mod metrics_snapshot;
mod migrations;
mod nodes;
mod notifications;
mod oversight;
mod project_discovery;
mod project_documents;
mod project_edits;
mod project_gates;
mod project_quick;
mod projects;
mod properties;
mod routines;
mod runs;
mod schedule_batches;
mod schedules;
mod schema_parity;
mod shared_database;
mod shared_runs;
mod spending;
mod sqlite_lifecycle;
