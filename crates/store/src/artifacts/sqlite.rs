//! Artifacts on SQLite: the files runs write, one row per path of an
//! action's folder (or of an ad-hoc run's).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use steward_domain::{ActionId, Artifact, ArtifactId, NewArtifact, NewEvent, RunId, UserId};

use crate::artifacts::decide;
use crate::artifacts::{ArtifactFilter, ArtifactStore};
use crate::events::sqlite::append;
use crate::runs::sqlite as runs;
use crate::sqlite::SqliteStore;
use crate::sqlite::connection::to_micros;
use crate::sqlite::rows::optional;
use crate::sqlite::runtime_rows::{self, ARTIFACT_COLUMNS};
use crate::sqlite::writer::Effects;
use crate::{Entity, Result, StoreError};

fn load(connection: &Connection, id: ArtifactId) -> Result<Artifact> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE id = ?1"))?;
    Ok(statement.query_row([id.get()], runtime_rows::artifact)?)
}

/// The user's artifact `id`.
fn load_for_user(connection: &Connection, user: UserId, id: ArtifactId) -> Result<Artifact> {
    let mut statement = connection
        .prepare_cached(&format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE id = ?1 AND user_id = ?2"))?;
    optional(statement.query_row(params![id.get(), user.get()], runtime_rows::artifact))?
        .ok_or_else(|| StoreError::not_found(Entity::Artifact, id))
}

fn record(
    connection: &Connection,
    effects: &mut Effects,
    artifact: &NewArtifact,
    now: DateTime<Utc>,
) -> Result<Artifact> {
    let user = artifact.user_id;
    let run = runs::load(connection, user, artifact.run_id)?;
    decide::check_artifact_action(run.id, run.action_id, artifact.action_id)?;
    // The folder is the action's when the run works on one, so a later run
    // of the same action updates the same file.
    let existing: Option<i64> = optional(connection.query_row(
        "SELECT id FROM artifacts WHERE path = ?1 \
         AND CASE WHEN ?2 IS NULL THEN action_id IS NULL AND run_id = ?3 ELSE action_id = ?2 END",
        params![artifact.path, run.action_id.map(ActionId::get), run.id.get()],
        |row| row.get(0),
    ))?;
    let bytes = i64::try_from(artifact.bytes).unwrap_or(i64::MAX);
    let id = match existing {
        Some(id) => {
            connection.execute(
                "UPDATE artifacts SET bytes = ?1, run_id = ?2, updated_at = ?3 WHERE id = ?4",
                params![bytes, run.id.get(), to_micros(now), id],
            )?;
            ArtifactId(id)
        }
        None => {
            connection.execute(
                "INSERT INTO artifacts (user_id, run_id, action_id, path, bytes, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    user.get(),
                    run.id.get(),
                    run.action_id.map(ActionId::get),
                    artifact.path,
                    bytes,
                    to_micros(now)
                ],
            )?;
            ArtifactId(connection.last_insert_rowid())
        }
    };
    append(
        connection,
        effects,
        user,
        now,
        NewEvent::ArtifactWritten {
            artifact: id,
            run_id: run.id,
            action_id: run.action_id,
            path: artifact.path.clone(),
            bytes: artifact.bytes,
            created: existing.is_none(),
        },
    )?;
    load(connection, id)
}

fn list(connection: &Connection, user: UserId, filter: &ArtifactFilter) -> Result<Vec<Artifact>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE user_id = ?1 AND (?2 IS NULL OR action_id = ?2) \
         AND (?3 IS NULL OR run_id = ?3) ORDER BY path, id"
    ))?;
    let artifacts = statement
        .query_map(
            params![user.get(), filter.action_id.map(ActionId::get), filter.run_id.map(RunId::get)],
            runtime_rows::artifact,
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(artifacts)
}

#[async_trait]
impl ArtifactStore for SqliteStore {
    async fn record_artifact(&self, artifact: NewArtifact) -> Result<Artifact> {
        decide::check_artifact(&artifact)?;
        let now = self.now();
        self.writer.write(move |connection, effects| record(connection, effects, &artifact, now)).await
    }

    async fn get_artifact(&self, user: UserId, id: ArtifactId) -> Result<Artifact> {
        self.readers.read(move |connection| load_for_user(connection, user, id)).await
    }

    async fn list_artifacts(&self, user: UserId, filter: ArtifactFilter) -> Result<Vec<Artifact>> {
        self.readers.read(move |connection| list(connection, user, &filter)).await
    }
}
