//! The columns of new jobs, bound as one array per column and read back as
//! the rows of `unnest`: written once for the two statements that insert
//! jobs on PostgreSQL (the general enqueue and the one-statement enqueue of
//! [`crate::jobs::postgres::plain`]).

use std::borrow::Borrow;

use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use steward_domain::Job;

use crate::postgres::connection::{to_integer, to_millis};

/// The columns of a new job that both insert statements take from the caller, in the order of
/// [`incoming_jobs`].
macro_rules! new_job_columns {
    () => {
        "user_id, queue, kind, payload, priority, state, run_at, max_attempts, timeout_ms, idempotency_key, \
         pending_dependencies, has_dependents"
    };
}
pub(crate) use new_job_columns;

/// [`new_job_columns`] read from the rows of [`incoming_jobs`].
macro_rules! incoming_columns {
    () => {
        "incoming.user_id, incoming.queue, incoming.kind, incoming.payload, incoming.priority, incoming.state, \
         incoming.run_at, incoming.max_attempts, incoming.timeout_ms, incoming.idempotency_key, \
         incoming.pending_dependencies, incoming.has_dependents"
    };
}
pub(crate) use incoming_columns;

/// The new jobs bound by [`bind_new_jobs`] as parameters `$1` to `$12`, as
/// rows `incoming` numbered by `position` from 1; a statement's own arrays of
/// the same length (`extra_arrays`, each starting with a comma) join them as
/// the columns `extra_columns`, read row by row with them rather than joined
/// by position.
macro_rules! incoming_jobs {
    ($extra_arrays:literal, $extra_columns:literal) => {
        concat!(
            "unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::integer[], $6::text[], \
                    $7::timestamptz[], $8::integer[], $9::bigint[], $10::text[], $11::integer[], $12::boolean[]",
            $extra_arrays,
            ") WITH ORDINALITY AS incoming(user_id, queue, kind, payload, priority, state, run_at, max_attempts, \
                                           timeout_ms, idempotency_key, pending_dependencies, has_dependents",
            $extra_columns,
            ", position)"
        )
    };
}
pub(crate) use incoming_jobs;

/// Binds the columns of `jobs` as the first twelve parameters, one array per
/// column ([`incoming_jobs`]); `has_dependents` says which of them a job of
/// the same batch waits for.
pub(crate) fn bind_new_jobs<'q, J: Borrow<Job>>(
    query: Query<'q, Postgres, PgArguments>,
    jobs: &[J],
    has_dependents: impl Fn(&Job) -> bool,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(column(jobs, |job| job.user_id.get()))
        .bind(column(jobs, |job| job.queue.as_str()))
        .bind(column(jobs, |job| job.kind.as_str()))
        .bind(column(jobs, |job| &job.payload))
        .bind(column(jobs, |job| job.priority))
        .bind(column(jobs, |job| job.state.as_str()))
        .bind(column(jobs, |job| job.run_at))
        .bind(column(jobs, |job| to_integer(job.max_attempts)))
        .bind(column(jobs, |job| to_millis(job.timeout)))
        .bind(column(jobs, |job| job.idempotency_key.as_deref()))
        .bind(column(jobs, |job| to_integer(job.pending_dependencies)))
        .bind(column(jobs, has_dependents))
}

/// One column of `jobs` as an array to bind.
fn column<'a, J: Borrow<Job>, T>(jobs: &'a [J], value: impl Fn(&'a Job) -> T) -> Vec<T> {
    jobs.iter().map(|job| value(job.borrow())).collect()
}
