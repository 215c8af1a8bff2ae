//! A person's changes to a project's settings on PostgreSQL: which tasks
//! an agent may add and the check commands (`update`), and the guardian's
//! policy for its runs (`set_guardian`).

use chrono::{DateTime, Utc};
use steward_domain::oversight::GuardianOverride;
use steward_domain::project::{Project, ProjectPatch};
use steward_domain::{NewEvent, ProjectId, UserId};

use super::load_project;
use crate::postgres::transaction::{Transaction, TransactionResult};
use crate::projects::decide;

pub(super) async fn update(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    patch: &ProjectPatch,
    now: DateTime<Utc>,
) -> TransactionResult<Project> {
    let project = load_project(transaction.connection(), user, id, true).await?;
    let discovered = patch.discovered_tasks.unwrap_or(project.discovered_tasks);
    let checks = patch.checks.as_ref().unwrap_or(&project.checks);
    sqlx::query("UPDATE projects SET discovered_tasks = $2, checks = $3::jsonb, updated_at = $4 WHERE id = $1")
        .bind(id.get())
        .bind(discovered.as_str())
        .bind(serde_json::to_string(checks)?)
        .bind(now)
        .execute(transaction.connection())
        .await?;
    transaction.record(user, now, decide::settings_event(id, patch));
    Ok(load_project(transaction.connection(), user, id, false).await?)
}

pub(super) async fn set_guardian(
    transaction: &mut Transaction,
    user: UserId,
    id: ProjectId,
    guardian: GuardianOverride,
    now: DateTime<Utc>,
) -> TransactionResult<Project> {
    guardian.validate().map_err(|error| error.within("guardian"))?;
    load_project(transaction.connection(), user, id, true).await?;
    sqlx::query("UPDATE projects SET guardian = $1::jsonb, updated_at = $2 WHERE id = $3 AND user_id = $4")
        .bind(serde_json::to_string(&guardian)?)
        .bind(now)
        .bind(id.get())
        .bind(user.get())
        .execute(transaction.connection())
        .await?;
    transaction.record(user, now, NewEvent::ProjectGuardianSet { project: id, guardian });
    Ok(load_project(transaction.connection(), user, id, false).await?)
}
