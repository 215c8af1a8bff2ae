//! The rules of users and tokens, written once for both databases.

use chrono::{DateTime, Duration, Utc};
use steward_domain::UserId;
use steward_domain::auth::{ApiToken, Scope, User};

use crate::{ConflictKind, Entity, Result, StoreError};

/// A name held by another user (any case) is refused.
pub(crate) fn check_name_free(name: &str, taken: Option<String>) -> Result<()> {
    match taken {
        Some(held) => Err(StoreError::conflict(
            ConflictKind::AlreadyExists,
            Some("name"),
            format!("the user name {name:?} is taken (by {held:?})"),
        )),
        None => Ok(()),
    }
}

/// A token for `user` (whose administrator flag was found, `None` when
/// there is no such user) may carry `scope`: only an administrator's token
/// may carry `admin`, which reaches every user's data.
pub(crate) fn check_token_scope(user: UserId, admin: Option<bool>, scope: Scope) -> Result<()> {
    match admin {
        None => Err(StoreError::not_found(Entity::User, user)),
        Some(false) if scope == Scope::Admin => Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("scope"),
            "only an administrator's token may have the admin scope (see: steward user add --admin)",
        )),
        Some(_) => Ok(()),
    }
}

/// The user to remove, unless it is missing or the local owner.
pub(crate) fn removable(name: &str, user: Option<User>) -> Result<User> {
    let user = user.ok_or_else(|| StoreError::not_found(Entity::User, format!("{name:?}")))?;
    if user.id == UserId::LOCAL_OWNER {
        return Err(StoreError::conflict(
            ConflictKind::IllegalTransition,
            Some("name"),
            "the local owner holds the data made without authentication and cannot be removed",
        ));
    }
    Ok(user)
}

/// Why a user who still owns records (jobs, agents, runs, memory…) cannot
/// be removed: their work would be left without an owner.
pub(crate) fn still_owns_records(name: &str) -> StoreError {
    StoreError::conflict(
        ConflictKind::IllegalTransition,
        Some("name"),
        format!(
            "the user {name:?} still owns jobs, agents or other records; only a user who owns nothing can be removed"
        ),
    )
}

/// The token to revoke; `None` when it already is (revoking is idempotent).
/// A token of another user than `owner` is not found.
pub(crate) fn revocation(owner: Option<UserId>, id: i64, token: Option<ApiToken>) -> Result<Option<ApiToken>> {
    let token = token
        .filter(|token| owner.is_none_or(|owner| token.user_id == owner))
        .ok_or_else(|| StoreError::not_found(Entity::Token, id))?;
    Ok(token.revoked_at.is_none().then_some(token))
}

/// Whether a use is worth writing down: `last_used_at` is kept to the
/// minute, so a busy token does not write on every request.
pub(crate) fn records_use(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|last| now - last >= Duration::minutes(1))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn uses_are_recorded_once_a_minute() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        assert!(records_use(None, now));
        assert!(!records_use(Some(now - Duration::seconds(30)), now));
        assert!(records_use(Some(now - Duration::seconds(60)), now));
    }

    #[test]
    fn only_administrators_hold_admin_tokens() {
        assert!(check_token_scope(UserId(2), Some(false), Scope::Write).is_ok());
        assert!(check_token_scope(UserId(2), Some(true), Scope::Admin).is_ok());
        assert!(matches!(check_token_scope(UserId(2), Some(false), Scope::Admin), Err(StoreError::Conflict { .. })));
        assert!(matches!(check_token_scope(UserId(2), None, Scope::Read), Err(StoreError::NotFound { .. })));
    }

    #[test]
    fn the_local_owner_stays() {
        let owner = User {
            id: UserId::LOCAL_OWNER,
            name: "local".into(),
            admin: false,
            has_password: false,
            created_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
        };
        assert!(removable("local", Some(owner)).is_err());
        assert!(matches!(removable("ghost", None), Err(StoreError::NotFound { .. })));
    }
}
