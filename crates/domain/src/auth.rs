//! Users and their credentials: API tokens with a scope, and dashboard
//! sessions (a token of kind `session`, held in a cookie). What a request
//! may do is decided here, from its credential and its method, without I/O:
//! the server looks the credential up and asks [`authorize`].
//!
//! Scopes are ordered: `admin` includes `write`, which includes `read`.
//! Reads need `read`, every state change `write`; managing users and tokens
//! is done by `steward user`/`steward token` on the home, which needs access
//! to the machine, not a scope.

use chrono::{DateTime, Utc};

use crate::ids::UserId;
use crate::text_enum::text_enum;
use crate::validation::{ValidationError, check_display_name};

text_enum!(
    /// What a token may do; each includes the ones before it.
    Scope, "scope", {
        /// Read anything.
        Read => "read",
        /// Read, and change anything (start runs, approve, cancel).
        Write => "write",
        /// Everything, including what is kept for administrators.
        Admin => "admin",
    }
);

impl Scope {
    /// Whether a credential with this scope may do what needs `needed`.
    pub fn includes(self, needed: Scope) -> bool {
        self >= needed
    }
}

text_enum!(
    /// A token made by `steward token create`, or a dashboard session.
    TokenKind, "kind", {
        Api => "api",
        Session => "session",
    }
);

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub admin: bool,
    /// Whether the user can log in to the dashboard.
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub name: String,
    pub admin: bool,
}

pub const USER_NAME_CHARS: usize = 64;
pub const TOKEN_NAME_CHARS: usize = 80;

impl NewUser {
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_display_name("name", &self.name, USER_NAME_CHARS)?;
        if let Some(bad) = self.name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))) {
            return Err(ValidationError::new(
                "name",
                format!("contains {bad:?}; a user name is letters, digits, '.', '_', '-' or '@'"),
            ));
        }
        Ok(())
    }
}

/// A token as stored: never the token itself, only its hash.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub user_name: String,
    pub kind: TokenKind,
    pub name: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewToken {
    pub user_id: UserId,
    pub kind: TokenKind,
    pub name: String,
    pub scope: Scope,
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewToken {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        check_display_name("name", &self.name, TOKEN_NAME_CHARS)?;
        if self.expires_at.is_some_and(|expires| expires <= now) {
            return Err(ValidationError::new("expires_at", "must be in the future"));
        }
        Ok(())
    }
}

/// Why a credential was not accepted. The message says what is wrong with
/// the credential, never whether a user exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No credential, and the server requires one.
    Missing,
    /// Not a token this server issued (or a wrong name or password).
    Unknown,
    Expired,
    Revoked,
    /// Valid, but its scope does not include what the request needs.
    Scope {
        has: Scope,
        needs: Scope,
    },
    /// A cookie session's state change without its CSRF token.
    CsrfMissing,
}

impl Refusal {
    /// 401 for a credential that is not accepted, 403 for one that is but may
    /// not do this.
    pub fn is_forbidden(self) -> bool {
        matches!(self, Refusal::Scope { .. } | Refusal::CsrfMissing)
    }

    pub fn message(self) -> String {
        match self {
            Refusal::Missing => "this server requires authentication: send `Authorization: Bearer <token>` \
                                 (create one with `steward token create`, store it with `steward login`) or log \
                                 in to the dashboard"
                .into(),
            Refusal::Unknown => "the credential is not valid".into(),
            Refusal::Expired => "the token has expired; create another with `steward token create`".into(),
            Refusal::Revoked => "the token was revoked".into(),
            Refusal::Scope { has, needs } => format!("the token's scope is {has}; this request needs {needs}"),
            Refusal::CsrfMissing => {
                "a dashboard session's change needs its CSRF token in the X-CSRF-Token header".into()
            }
        }
    }
}

/// Who a request acts for.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub user: UserId,
    pub user_name: String,
    /// The token (or session) used; `None` for the token-free local owner.
    pub token_id: Option<i64>,
    pub scope: Scope,
    pub kind: Option<TokenKind>,
}

impl Principal {
    /// The local owner on a loopback server without required authentication.
    pub fn local_owner() -> Principal {
        Principal {
            user: UserId::LOCAL_OWNER,
            user_name: "local".into(),
            token_id: None,
            scope: Scope::Admin,
            kind: None,
        }
    }
}

/// The scope a request needs: reads `read`, everything else `write`.
pub fn needed_scope(state_changing: bool) -> Scope {
    if state_changing { Scope::Write } else { Scope::Read }
}

/// Decides what a token found by its hash may do at `now`. A session's
/// state changes also need its CSRF token (`csrf_ok`).
pub fn authorize(
    token: &ApiToken,
    now: DateTime<Utc>,
    state_changing: bool,
    csrf_ok: bool,
) -> Result<Principal, Refusal> {
    if token.revoked_at.is_some() {
        return Err(Refusal::Revoked);
    }
    if token.expires_at.is_some_and(|expires| expires <= now) {
        return Err(Refusal::Expired);
    }
    let needs = needed_scope(state_changing);
    if !token.scope.includes(needs) {
        return Err(Refusal::Scope { has: token.scope, needs });
    }
    if token.kind == TokenKind::Session && state_changing && !csrf_ok {
        return Err(Refusal::CsrfMissing);
    }
    Ok(Principal {
        user: token.user_id,
        user_name: token.user_name.clone(),
        token_id: Some(token.id),
        scope: token.scope,
        kind: Some(token.kind),
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn token(scope: Scope, kind: TokenKind) -> ApiToken {
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        ApiToken {
            id: 7,
            user_id: UserId(2),
            user_name: "ada".into(),
            kind,
            name: "laptop".into(),
            scope,
            created_at: at,
            expires_at: Some(at + chrono::Duration::days(1)),
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn scopes_are_ordered_and_checked_by_method() {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
        let read = token(Scope::Read, TokenKind::Api);
        assert_eq!(authorize(&read, now, false, false).unwrap().token_id, Some(7));
        assert_eq!(authorize(&read, now, true, false), Err(Refusal::Scope { has: Scope::Read, needs: Scope::Write }));
        assert!(authorize(&token(Scope::Admin, TokenKind::Api), now, true, false).is_ok());
        assert!(Refusal::Scope { has: Scope::Read, needs: Scope::Write }.is_forbidden());
    }

    #[test]
    fn expired_revoked_and_csrf_less_sessions_are_refused() {
        let now = Utc.with_ymd_and_hms(2030, 1, 3, 0, 0, 0).unwrap();
        assert_eq!(authorize(&token(Scope::Write, TokenKind::Api), now, false, false), Err(Refusal::Expired));
        let mut revoked = token(Scope::Write, TokenKind::Api);
        revoked.revoked_at = Some(now);
        assert_eq!(authorize(&revoked, now, false, false), Err(Refusal::Revoked));
        let earlier = Utc.with_ymd_and_hms(2030, 1, 1, 1, 0, 0).unwrap();
        let session = token(Scope::Write, TokenKind::Session);
        assert_eq!(authorize(&session, earlier, true, false), Err(Refusal::CsrfMissing));
        assert!(authorize(&session, earlier, true, true).is_ok());
        assert!(authorize(&session, earlier, false, false).is_ok(), "reads need no CSRF token");
    }

    #[test]
    fn user_names_are_plain() {
        assert!(NewUser { name: "ada.lovelace@example".into(), admin: true }.validate().is_ok());
        for bad in ["ada lovelace", "ada\u{202E}", "", "a/b"] {
            assert!(NewUser { name: bad.into(), admin: false }.validate().is_err(), "{bad:?}");
        }
    }
}
