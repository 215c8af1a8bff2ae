//! Artifacts on PostgreSQL: the files runs write, one row per path of an
//! action's folder (or of an ad-hoc run's).
//!
//! Two runs of one action writing the same new path at once both find no
//! row and both insert; the unique index `artifacts_action_path` (or
//! `artifacts_run_path`) stops the second, whose transaction runs again and
//! updates the first's row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use steward_domain::{ActionId, Artifact, ArtifactId, NewArtifact, NewEvent, RunId, UserId};

use crate::artifacts::decide;
use crate::artifacts::{ArtifactFilter, ArtifactStore};
use crate::postgres::PostgresStore;
use crate::postgres::runtime_rows::{self, artifact_columns};
use crate::postgres::transaction::{Begin, Transaction, TransactionResult};
use crate::runs::postgres as runs;
use crate::{Entity, Result, StoreError};

async fn record(
    transaction: &mut Transaction,
    artifact: &NewArtifact,
    now: DateTime<Utc>,
) -> TransactionResult<Artifact> {
    let user = artifact.user_id;
    let run = runs::load(transaction.connection(), user, artifact.run_id).await?;
    decide::check_artifact_action(run.id, run.action_id, artifact.action_id)?;
    // The folder is the action's when the run works on one, so a later run
    // of the same action updates the same file. One statement per case, so
    // each uses its own unique index.
    let existing: Option<i64> = match run.action_id {
        Some(action) => {
            sqlx::query_scalar("SELECT id FROM artifacts WHERE action_id = $1 AND path = $2 FOR UPDATE")
                .bind(action.get())
                .bind(&artifact.path)
                .fetch_optional(transaction.connection())
                .await?
        }
        None => {
            sqlx::query_scalar(
                "SELECT id FROM artifacts WHERE run_id = $1 AND action_id IS NULL AND path = $2 FOR UPDATE",
            )
            .bind(run.id.get())
            .bind(&artifact.path)
            .fetch_optional(transaction.connection())
            .await?
        }
    };
    let bytes = i64::try_from(artifact.bytes).unwrap_or(i64::MAX);
    let row = match existing {
        Some(id) => {
            sqlx::query(concat!(
                "UPDATE artifacts SET bytes = $1, run_id = $2, updated_at = $3 WHERE id = $4 RETURNING ",
                artifact_columns!()
            ))
            .bind(bytes)
            .bind(run.id.get())
            .bind(now)
            .bind(id)
            .fetch_one(transaction.connection())
            .await?
        }
        None => {
            sqlx::query(concat!(
                "INSERT INTO artifacts (user_id, run_id, action_id, path, bytes, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
                artifact_columns!()
            ))
            .bind(user.get())
            .bind(run.id.get())
            .bind(run.action_id.map(ActionId::get))
            .bind(&artifact.path)
            .bind(bytes)
            .bind(now)
            .fetch_one(transaction.connection())
            .await?
        }
    };
    let recorded = runtime_rows::artifact(&row)?;
    transaction.record(
        user,
        now,
        NewEvent::ArtifactWritten {
            artifact: recorded.id,
            run_id: run.id,
            action_id: run.action_id,
            path: artifact.path.clone(),
            bytes: artifact.bytes,
            created: existing.is_none(),
        },
    );
    Ok(recorded)
}

#[async_trait]
impl ArtifactStore for PostgresStore {
    async fn record_artifact(&self, artifact: NewArtifact) -> Result<Artifact> {
        decide::check_artifact(&artifact)?;
        let now = self.now();
        self.write(Begin::Plain, |transaction| {
            let artifact = artifact.clone();
            Box::pin(async move { record(transaction, &artifact, now).await })
        })
        .await
    }

    async fn get_artifact(&self, user: UserId, id: ArtifactId) -> Result<Artifact> {
        let row =
            sqlx::query(concat!("SELECT ", artifact_columns!(), " FROM artifacts WHERE id = $1 AND user_id = $2"))
                .bind(id.get())
                .bind(user.get())
                .fetch_optional(&self.pool)
                .await?;
        Ok(runtime_rows::artifact(&row.ok_or_else(|| StoreError::not_found(Entity::Artifact, id))?)?)
    }

    async fn list_artifacts(&self, user: UserId, filter: ArtifactFilter) -> Result<Vec<Artifact>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            artifact_columns!(),
            " FROM artifacts WHERE user_id = $1 AND ($2::bigint IS NULL OR action_id = $2) \
              AND ($3::bigint IS NULL OR run_id = $3) ORDER BY path, id"
        ))
        .bind(user.get())
        .bind(filter.action_id.map(ActionId::get))
        .bind(filter.run_id.map(RunId::get))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(runtime_rows::artifact).collect::<Result<_, _>>()?)
    }
}
