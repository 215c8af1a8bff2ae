//! Enqueueing jobs that name no idempotency key and no dependency, on
//! PostgreSQL, in one statement sent outside any `BEGIN`
//! ([`crate::postgres::write_statement`]): the statement draws the jobs'
//! ids, inserts the jobs and appends their `job.enqueued` events, and
//! PostgreSQL commits it before answering. One round trip instead of the
//! general enqueue's five (`BEGIN`, ids, jobs, events, `COMMIT`), which is
//! most of what a caller of a small enqueue waits for besides the WAL flush
//! (docs/benchmarks.md, "One round trip per enqueue").
//!
//! Such jobs need nothing read before they are written: no key to look up,
//! no dependency to lock. Everything else is the general enqueue's
//! ([`crate::jobs::postgres::enqueue`]): the same checks, the same job built
//! by [`decide::new_job`], the same event, the same columns
//! ([`crate::jobs::postgres::new_jobs`]), ids rising in request order.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use steward_domain::access::Actor;
use steward_domain::{Job, JobId, NewEvent, NewJob, UserId};

use crate::jobs::EnqueueOutcome;
use crate::jobs::decide;
use crate::jobs::postgres::new_jobs::{bind_new_jobs, incoming_columns, incoming_jobs, new_job_columns};
use crate::postgres::transaction::{Effects, append_events};
use crate::postgres::write_statement;
use crate::wakeups::Wakeups;
use crate::{Result, StoreError};

/// One caller's jobs, known to name no idempotency key and no dependency
/// (the only way to make one is [`PlainEnqueue::new`]): whose they are, who
/// asked (recorded on the events), and the jobs.
pub(crate) struct PlainEnqueue<'a> {
    user: UserId,
    actor: Option<Actor>,
    jobs: &'a [NewJob],
}

impl<'a> PlainEnqueue<'a> {
    /// `None` when a job names a key or a dependency: those need the general
    /// enqueue, which reads before it writes.
    pub fn new(user: UserId, actor: Option<Actor>, jobs: &'a [NewJob]) -> Option<Self> {
        let plain = jobs.iter().all(|job| job.idempotency_key.is_none() && job.depends_on.is_empty());
        plain.then_some(PlainEnqueue { user, actor, jobs })
    }
}

/// Enqueues the jobs of every request in one statement, all or nothing, and
/// answers each request with its own jobs. Each request must be checked
/// ([`crate::rules::check_batch`]).
pub(crate) async fn enqueue(
    pool: &PgPool,
    wakeups: &Wakeups,
    requests: &[PlainEnqueue<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<Vec<EnqueueOutcome>>> {
    // The id is drawn by the statement; the event's data does not carry it.
    let mut jobs: Vec<Job> = requests
        .iter()
        .flat_map(|request| {
            request.jobs.iter().map(|job| decide::new_job(JobId(0), request.user, job.clone(), Vec::new(), 0, now))
        })
        .collect();
    let events: Vec<NewEvent> = jobs.iter().map(|job| NewEvent::from(decide::enqueued(job))).collect();
    let actors: Vec<Option<Actor>> =
        requests.iter().flat_map(|request| request.jobs.iter().map(|_| request.actor)).collect();

    let effects = Effects { jobs_ready: true, events_appended: true };
    let ids: Vec<i64> = write_statement(pool, wakeups, effects, |connection| {
        let query = bind_new_jobs(sqlx::query(ENQUEUE), &jobs, |_| false)
            .bind(now)
            .bind(events.iter().map(NewEvent::kind).collect::<Vec<_>>())
            .bind(events.iter().map(|event| event.subject().0.as_str()).collect::<Vec<_>>())
            .bind(events.iter().map(NewEvent::data).collect::<Vec<_>>())
            .bind(actors.iter().map(|actor| actor.map(|actor| actor.user.get())).collect::<Vec<_>>())
            .bind(actors.iter().map(|actor| actor.and_then(|actor| actor.token_id)).collect::<Vec<_>>());
        Box::pin(async move {
            let rows = query.fetch_all(connection).await?;
            Ok(rows.iter().map(|row| row.try_get(0)).collect::<std::result::Result<_, sqlx::Error>>()?)
        })
    })
    .await?;
    if ids.len() != jobs.len() {
        return Err(StoreError::Database(format!("{} jobs were sent but {} stored", jobs.len(), ids.len())));
    }
    for (job, id) in jobs.iter_mut().zip(ids) {
        job.id = JobId(id);
    }
    let mut jobs = jobs.into_iter();
    Ok(requests
        .iter()
        .map(|request| {
            jobs.by_ref().take(request.jobs.len()).map(|job| EnqueueOutcome { job, created: true }).collect()
        })
        .collect())
}

/// Draws one id per job and gives them out smallest first in request order
/// (`drawn`, whatever order `nextval` ran in), inserts the jobs, and appends
/// one event per job in request order ([`append_events`]); answers the
/// ids in request order. `$13` is the time; `$14` to `$18` the events'
/// kinds, subjects, data and actors. Every row is read from one `unnest`,
/// and the only joins are with one-row subqueries: PostgreSQL moves this
/// statement to a generic plan (it estimates `unnest` of a parameter at a
/// hundred rows), and a join between two parameter arrays could be planned
/// as a nested loop that is quadratic in the batch.
const ENQUEUE: &str = concat!(
    "WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence('jobs', 'id')::regclass AS id), \
          drawn AS MATERIALIZED ( \
              SELECT array_agg(fresh.id ORDER BY fresh.id) AS ids \
              FROM (SELECT nextval(sequence.id) AS id FROM sequence, unnest($1::bigint[])) AS fresh), \
          new_jobs AS MATERIALIZED ( \
              SELECT drawn.ids[incoming.position] AS id, incoming.* FROM drawn, ",
    incoming_jobs!(
        ", $14::text[], $15::text[], $16::jsonb[], $17::bigint[], $18::bigint[]",
        ", event_kind, event_subject, event_data, actor_user_id, actor_token_id"
    ),
    "), \
          inserted AS ( \
              INSERT INTO jobs (id, ",
    new_job_columns!(),
    ", created_at, updated_at) \
              SELECT incoming.id, ",
    incoming_columns!(),
    ", $13, $13 FROM new_jobs AS incoming), \
          appended AS (",
    append_events!(
        "true",
        "(SELECT user_id, $13 AS occurred_at, event_kind AS kind, event_subject AS subject, id AS subject_id, \
                 event_data AS data, actor_user_id, actor_token_id, position \
          FROM new_jobs) AS appended"
    ),
    ") \
     SELECT id FROM new_jobs ORDER BY position"
);
