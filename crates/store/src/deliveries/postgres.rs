//! Deliveries on PostgreSQL: the same behaviour as on SQLite. Two requests
//! recording the same (fire, destination) at once both find no row; the
//! unique index `deliveries_key` stops the second, whose transaction runs
//! again and returns the first's row. Attempts lock the row (`FOR UPDATE`).

use crate::ownership::{list_condition, list_parameter};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use steward_domain::access::Owners;
use steward_domain::delivery::{AttemptResult, Delivery, DeliveryStatus, NewDeliveries};
use steward_domain::{DeliveryId, FireId, JobId, RunId, UserId};

use crate::deliveries::{DeliveryAttempt, DeliveryFilter, DeliveryStore, MAX_PAGE, decide};
use crate::jobs::postgres::enqueue;
use crate::postgres::PostgresStore;
use crate::postgres::connection::to_bigint;
use crate::postgres::rows::parsed;
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::runs::postgres as runs;
use crate::{Entity, Result, StoreError};

macro_rules! columns {
    () => {
        "id, user_id, run_id, fire_id, destination, kind, idempotency_key, job_id, status, attempts, \
         http_status, response_excerpt, error, external_id, created_at, updated_at, sent_at"
    };
}

fn row(row: &PgRow) -> Result<Delivery, sqlx::Error> {
    Ok(Delivery {
        id: DeliveryId(row.try_get(0)?),
        user_id: UserId(row.try_get(1)?),
        run_id: RunId(row.try_get(2)?),
        fire_id: row.try_get::<Option<i64>, _>(3)?.map(FireId),
        destination: row.try_get(4)?,
        kind: row.try_get(5)?,
        idempotency_key: row.try_get(6)?,
        job_id: row.try_get::<Option<i64>, _>(7)?.map(JobId),
        status: parsed(row, 8)?,
        attempts: u32::try_from(row.try_get::<i32, _>(9)?).unwrap_or(0),
        http_status: row.try_get::<Option<i32>, _>(10)?.and_then(|status| u16::try_from(status).ok()),
        response_excerpt: row.try_get(11)?,
        error: row.try_get(12)?,
        external_id: row.try_get(13)?,
        created_at: row.try_get(14)?,
        updated_at: row.try_get(15)?,
        sent_at: row.try_get(16)?,
    })
}

async fn load(connection: &mut PgConnection, user: Option<UserId>, id: DeliveryId, lock: bool) -> Result<Delivery> {
    let query = if lock {
        concat!(
            "SELECT ",
            columns!(),
            " FROM deliveries WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2) FOR UPDATE"
        )
    } else {
        concat!("SELECT ", columns!(), " FROM deliveries WHERE id = $1 AND ($2::bigint IS NULL OR user_id = $2)")
    };
    let found = sqlx::query(query).bind(id.get()).bind(user.map(UserId::get)).fetch_optional(connection).await?;
    Ok(row(&found.ok_or_else(|| StoreError::not_found(Entity::Delivery, id))?)?)
}

pub(crate) async fn create(
    transaction: &mut Transaction,
    user: UserId,
    new: &NewDeliveries,
    now: DateTime<Utc>,
) -> TransactionResult<Vec<Delivery>> {
    let rows = decide::new_rows(new)?;
    let run = runs::load(transaction.connection(), user, new.run_id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for new_row in rows {
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM deliveries WHERE user_id = $1 AND idempotency_key = $2")
                .bind(user.get())
                .bind(&new_row.key)
                .fetch_optional(transaction.connection())
                .await?;
        if let Some(id) = existing {
            out.push(load(transaction.connection(), Some(user), DeliveryId(id), false).await?);
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deliveries (user_id, run_id, fire_id, destination, kind, idempotency_key, status, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) RETURNING id",
        )
        .bind(user.get())
        .bind(run.id.get())
        .bind(new.fire_id.map(FireId::get))
        .bind(new_row.destination.to_string())
        .bind(new_row.destination.kind())
        .bind(&new_row.key)
        .bind(now)
        .fetch_one(transaction.connection())
        .await?;
        let id = DeliveryId(id);
        let outcomes = enqueue::enqueue(transaction, user, vec![decide::send_job(id, &new_row.key, &run)], now).await?;
        sqlx::query("UPDATE deliveries SET job_id = $1 WHERE id = $2")
            .bind(decide::job_id(&outcomes)?.get())
            .bind(id.get())
            .execute(transaction.connection())
            .await?;
        out.push(load(transaction.connection(), Some(user), id, false).await?);
    }
    Ok(out)
}

async fn store(connection: &mut PgConnection, delivery: &Delivery, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = $2, http_status = $3, response_excerpt = $4, error = $5, \
         external_id = $6, job_id = $7, updated_at = $8, \
         sent_at = CASE WHEN $1 = 'sent' THEN coalesce(sent_at, $8) ELSE sent_at END WHERE id = $9",
    )
    .bind(delivery.status.as_str())
    .bind(i32::try_from(delivery.attempts).unwrap_or(i32::MAX))
    .bind(delivery.http_status.map(i32::from))
    .bind(&delivery.response_excerpt)
    .bind(&delivery.error)
    .bind(&delivery.external_id)
    .bind(delivery.job_id.map(JobId::get))
    .bind(now)
    .bind(delivery.id.get())
    .execute(connection)
    .await?;
    Ok(())
}

#[async_trait]
impl DeliveryStore for PostgresStore {
    async fn create_deliveries(&self, user: UserId, new: NewDeliveries) -> Result<Vec<Delivery>> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let new = new.clone();
            Box::pin(async move { create(transaction, user, &new, now).await })
        })
        .await
    }

    async fn get_delivery(&self, user: UserId, id: DeliveryId) -> Result<Delivery> {
        let mut connection = self.pool.acquire().await?;
        load(&mut connection, Some(user), id, false).await
    }

    async fn list_deliveries(&self, owners: Owners, filter: DeliveryFilter) -> Result<Vec<Delivery>> {
        let limit = if filter.limit == 0 { MAX_PAGE } else { filter.limit.min(MAX_PAGE) };
        let rows = sqlx::query(AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                columns!(),
                " FROM deliveries WHERE {owner} AND ($2::text IS NULL OR status = $2) \
                  AND ($3::bigint IS NULL OR run_id = $3) AND ($4::bigint IS NULL OR fire_id = $4) \
                  AND ($5::bigint IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
            ),
            owner = list_condition(owners, "$1::bigint")
        )))
        .bind(list_parameter(owners))
        .bind(filter.status.map(DeliveryStatus::as_str))
        .bind(filter.run_id.map(RunId::get))
        .bind(filter.fire_id.map(FireId::get))
        .bind(filter.before.map(DeliveryId::get))
        .bind(to_bigint(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    async fn begin_delivery_attempt(&self, id: DeliveryId) -> Result<DeliveryAttempt> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move {
                let attempt = decide::begin(load(transaction.connection(), None, id, true).await?);
                if let DeliveryAttempt::Started { delivery, .. } = &attempt {
                    store(transaction.connection(), delivery, now).await?;
                }
                Ok(attempt)
            })
        })
        .await
    }

    async fn finish_delivery_attempt(&self, id: DeliveryId, result: AttemptResult) -> Result<Delivery> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let result = result.clone();
            Box::pin(async move {
                let delivery = load(transaction.connection(), None, id, true).await?;
                let user = delivery.user_id;
                let (delivery, event) = decide::finish(delivery, result);
                store(transaction.connection(), &delivery, now).await?;
                transaction.record(user, now, event);
                Ok(load(transaction.connection(), None, id, false).await?)
            })
        })
        .await
    }

    async fn retry_delivery(&self, user: UserId, id: DeliveryId) -> Result<Delivery> {
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            Box::pin(async move {
                let mut delivery = load(transaction.connection(), Some(user), id, true).await?;
                decide::check_retry(&delivery)?;
                let outcomes = enqueue::enqueue(transaction, user, vec![decide::retry_job(&delivery)], now).await?;
                delivery.status = DeliveryStatus::Pending;
                delivery.error = None;
                delivery.job_id = Some(decide::job_id(&outcomes)?);
                store(transaction.connection(), &delivery, now).await?;
                Ok(load(transaction.connection(), Some(user), id, false).await?)
            })
        })
        .await
    }
}
