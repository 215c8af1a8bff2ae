//! Deliveries on SQLite: rows keyed by (user, idempotency key), their send
//! jobs enqueued in the same transaction, and each attempt's outcome.

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use steward_domain::access::Owners;
use steward_domain::delivery::{AttemptResult, Delivery, NewDeliveries};
use steward_domain::{DeliveryId, FireId, JobId, RunId, UserId};

use crate::deliveries::{DeliveryAttempt, DeliveryFilter, DeliveryStore, MAX_PAGE, decide};
use crate::events::sqlite::append;
use crate::jobs::sqlite::enqueue;
use crate::runs::sqlite as runs;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::{from_micros, to_micros};
use crate::sqlite::rows::{optional, parsed};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

const COLUMNS: &str = "id, user_id, run_id, fire_id, destination, kind, idempotency_key, job_id, status, attempts, \
     http_status, response_excerpt, error, external_id, created_at, updated_at, sent_at";

fn row(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: DeliveryId(row.get(0)?),
        user_id: UserId(row.get(1)?),
        run_id: RunId(row.get(2)?),
        fire_id: row.get::<_, Option<i64>>(3)?.map(FireId),
        destination: row.get(4)?,
        kind: row.get(5)?,
        idempotency_key: row.get(6)?,
        job_id: row.get::<_, Option<i64>>(7)?.map(JobId),
        status: parsed(row, 8)?,
        attempts: u32::try_from(row.get::<_, i64>(9)?).unwrap_or(0),
        http_status: row.get::<_, Option<i64>>(10)?.and_then(|status| u16::try_from(status).ok()),
        response_excerpt: row.get(11)?,
        error: row.get(12)?,
        external_id: row.get(13)?,
        created_at: from_micros(row.get(14)?),
        updated_at: from_micros(row.get(15)?),
        sent_at: row.get::<_, Option<i64>>(16)?.map(from_micros),
    })
}

fn load(connection: &Connection, user: Option<UserId>, id: DeliveryId) -> Result<Delivery> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {COLUMNS} FROM deliveries WHERE id = ?1 AND (?2 IS NULL OR user_id = ?2)"))?;
    optional(statement.query_row(params![id.get(), user.map(UserId::get)], row))?
        .ok_or_else(|| StoreError::not_found(Entity::Delivery, id))
}

pub(crate) fn create(
    connection: &Connection,
    effects: &mut Effects,
    user: UserId,
    new: &NewDeliveries,
    now: DateTime<Utc>,
) -> Result<Vec<Delivery>> {
    let rows = decide::new_rows(new)?;
    let run = runs::load(connection, user, new.run_id)?;
    let mut out = Vec::with_capacity(rows.len());
    for new_row in rows {
        let existing: Option<i64> = optional(connection.query_row(
            "SELECT id FROM deliveries WHERE user_id = ?1 AND idempotency_key = ?2",
            params![user.get(), new_row.key],
            |row| row.get(0),
        ))?;
        if let Some(id) = existing {
            out.push(load(connection, Some(user), DeliveryId(id))?);
            continue;
        }
        connection.execute(
            "INSERT INTO deliveries (user_id, run_id, fire_id, destination, kind, idempotency_key, status, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7)",
            params![
                user.get(),
                run.id.get(),
                new.fire_id.map(FireId::get),
                new_row.destination.to_string(),
                new_row.destination.kind(),
                new_row.key,
                to_micros(now)
            ],
        )?;
        let id = DeliveryId(connection.last_insert_rowid());
        let outcomes =
            enqueue::enqueue(connection, effects, user, vec![decide::send_job(id, &new_row.key, &run)], now)?;
        connection.execute(
            "UPDATE deliveries SET job_id = ?1 WHERE id = ?2",
            params![decide::job_id(&outcomes)?.get(), id.get()],
        )?;
        out.push(load(connection, Some(user), id)?);
    }
    Ok(out)
}

fn store(connection: &Connection, delivery: &Delivery, now: DateTime<Utc>) -> Result<()> {
    connection.execute(
        "UPDATE deliveries SET status = ?1, attempts = ?2, http_status = ?3, response_excerpt = ?4, error = ?5, \
         external_id = ?6, job_id = ?7, updated_at = ?8, \
         sent_at = CASE WHEN ?1 = 'sent' THEN coalesce(sent_at, ?8) ELSE sent_at END WHERE id = ?9",
        params![
            delivery.status.as_str(),
            i64::from(delivery.attempts),
            delivery.http_status.map(i64::from),
            delivery.response_excerpt,
            delivery.error,
            delivery.external_id,
            delivery.job_id.map(JobId::get),
            to_micros(now),
            delivery.id.get()
        ],
    )?;
    Ok(())
}

pub(crate) fn list(connection: &Connection, owners: Owners, filter: &DeliveryFilter) -> Result<Vec<Delivery>> {
    let limit = if filter.limit == 0 { MAX_PAGE } else { filter.limit.min(MAX_PAGE) };
    let owner = list_condition(owners, "?1");
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM deliveries WHERE {owner} AND (?2 IS NULL OR status = ?2) \
         AND (?3 IS NULL OR run_id = ?3) AND (?4 IS NULL OR fire_id = ?4) AND (?5 IS NULL OR id < ?5) \
         ORDER BY id DESC LIMIT ?6"
    ))?;
    let deliveries = statement
        .query_map(
            params![
                list_parameter(owners),
                filter.status.map(|status| status.as_str()),
                filter.run_id.map(RunId::get),
                filter.fire_id.map(FireId::get),
                filter.before.map(DeliveryId::get),
                i64::try_from(limit).unwrap_or(500)
            ],
            row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(deliveries)
}

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn create_deliveries(&self, user: UserId, new: NewDeliveries) -> Result<Vec<Delivery>> {
        let now = self.now();
        self.writer.write(move |connection, effects| create(connection, effects, user, &new, now)).await
    }

    async fn get_delivery(&self, user: UserId, id: DeliveryId) -> Result<Delivery> {
        self.readers.read(move |connection| load(connection, Some(user), id)).await
    }

    async fn list_deliveries(&self, owners: Owners, filter: DeliveryFilter) -> Result<Vec<Delivery>> {
        self.readers.read(move |connection| list(connection, owners, &filter)).await
    }

    async fn begin_delivery_attempt(&self, id: DeliveryId) -> Result<DeliveryAttempt> {
        let now = self.now();
        self.writer
            .write(move |connection, _effects| {
                let attempt = decide::begin(load(connection, None, id)?);
                if let DeliveryAttempt::Started { delivery, .. } = &attempt {
                    store(connection, delivery, now)?;
                }
                Ok(attempt)
            })
            .await
    }

    async fn finish_delivery_attempt(&self, id: DeliveryId, result: AttemptResult) -> Result<Delivery> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let delivery = load(connection, None, id)?;
                let user = delivery.user_id;
                let (delivery, event) = decide::finish(delivery, result.clone());
                store(connection, &delivery, now)?;
                append(connection, effects, user, now, event)?;
                load(connection, None, id)
            })
            .await
    }

    async fn retry_delivery(&self, user: UserId, id: DeliveryId) -> Result<Delivery> {
        let now = self.now();
        self.writer
            .write(move |connection, effects| {
                let mut delivery = load(connection, Some(user), id)?;
                decide::check_retry(&delivery)?;
                let outcomes = enqueue::enqueue(connection, effects, user, vec![decide::retry_job(&delivery)], now)?;
                delivery.status = steward_domain::delivery::DeliveryStatus::Pending;
                delivery.error = None;
                delivery.job_id = Some(decide::job_id(&outcomes)?);
                store(connection, &delivery, now)?;
                load(connection, Some(user), id)
            })
            .await
    }
}
