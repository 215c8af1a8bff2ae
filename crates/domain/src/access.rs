//! Whose data a request reaches, decided once for every route: a user acts
//! on their own data; an administrator acts on the owner's data when they
//! name one resource by id. What a request reaches is then always a query
//! scoped by one user id, so a user who names another user's resource
//! finds nothing (404), exactly as if it did not exist.
//!
//! Also who made a change (the [`Actor`] an event records).

use crate::auth::{Principal, Scope};
use crate::ids::UserId;

/// The kinds of owned resources a route can name by id. Each is a table with
/// a `user_id` column; the store answers who owns one (`owner_of`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Agent,
    Action,
    Run,
    Approval,
    Job,
    Schedule,
    Delivery,
    Artifact,
    Conversation,
    Fact,
    Token,
    Routine,
    Fire,
    Project,
    Idea,
    Duplicate,
}

impl ResourceKind {
    /// The resource a route's path names: the collection after `/api/v1/`
    /// (`/api/v1/runs/{id}/trace` names a run). `None` for paths that name
    /// no owned resource by id (lists, creation, memory searches).
    pub fn of_route(template: &str) -> Option<ResourceKind> {
        let rest = template.strip_prefix("/api/v1/")?;
        let segments: Vec<&str> = rest.split('/').collect();
        let kind = match segments.as_slice() {
            ["agents", "setup-chat", "{id}", ..] => ResourceKind::Conversation,
            ["agents", "{id}", ..] => ResourceKind::Agent,
            ["actions", "{id}", ..] => ResourceKind::Action,
            ["runs", "{id}", ..] => ResourceKind::Run,
            ["approvals", "{id}", ..] => ResourceKind::Approval,
            ["jobs", "{id}", ..] => ResourceKind::Job,
            ["schedules", "{schedule}", ..] => ResourceKind::Schedule,
            ["deliveries", "{id}", ..] => ResourceKind::Delivery,
            ["artifacts", "{id}", ..] => ResourceKind::Artifact,
            ["memory", "facts", "{id}", ..] => ResourceKind::Fact,
            ["tokens", "{id}", ..] => ResourceKind::Token,
            ["routines", "{routine}", ..] => ResourceKind::Routine,
            ["routine-fires", "{id}", ..] => ResourceKind::Fire,
            ["projects", "{id}", ..] => ResourceKind::Project,
            ["ideas", "{id}", ..] => ResourceKind::Idea,
            ["duplicates", "{id}", ..] => ResourceKind::Duplicate,
            _ => return None,
        };
        Some(kind)
    }
}

/// One owned resource, named by its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    pub kind: ResourceKind,
    pub id: i64,
}

impl Principal {
    /// Administrators (a token with the `admin` scope, which only an
    /// administrator's token can carry, or the token-free local owner)
    /// reach every user's resources.
    pub fn is_admin(&self) -> bool {
        self.scope.includes(Scope::Admin)
    }

    /// Who this principal's changes are recorded as.
    pub fn actor(&self) -> Actor {
        Actor { user: self.user, token_id: self.token_id }
    }
}

/// The user whose data a request reaches: the resource's owner for an
/// administrator naming an existing resource, otherwise the principal. A
/// non-administrator naming someone else's resource stays scoped to
/// themselves, and so finds nothing.
pub fn acting_user(principal: &Principal, owner: Option<UserId>) -> UserId {
    match owner {
        Some(owner) if principal.is_admin() => owner,
        _ => principal.user,
    }
}

/// Whose items a list shows: one user's, or everyone's (an administrator's
/// lists, so a person who administers a shared server sees what each user
/// has, and reaches each item by id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owners {
    One(UserId),
    Everyone,
}

impl Owners {
    /// The owner ids a list keeps, as an inclusive range: one id, or all.
    /// One statement (`user_id BETWEEN ? AND ?`) serves both, and an index
    /// on `user_id` still applies, which `? IS NULL OR user_id = ?` defeats.
    pub fn id_range(self) -> (i64, i64) {
        match self {
            Owners::One(user) => (user.get(), user.get()),
            Owners::Everyone => (i64::MIN, i64::MAX),
        }
    }
}

impl From<UserId> for Owners {
    fn from(user: UserId) -> Owners {
        Owners::One(user)
    }
}

/// Who made a change: the user and the token (or session) they used; no
/// token for the local owner on loopback. Changes the system makes by
/// itself (workers, the scheduler) have no actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub token_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenKind;

    fn principal(user: i64, scope: Scope) -> Principal {
        Principal { user: UserId(user), user_name: "u".into(), token_id: Some(3), scope, kind: Some(TokenKind::Api) }
    }

    #[test]
    fn routes_name_their_resource() {
        assert_eq!(ResourceKind::of_route("/api/v1/runs/{id}/trace"), Some(ResourceKind::Run));
        assert_eq!(ResourceKind::of_route("/api/v1/schedules/{schedule}/fires"), Some(ResourceKind::Schedule));
        assert_eq!(ResourceKind::of_route("/api/v1/memory/facts/{id}/forget"), Some(ResourceKind::Fact));
        let confirm = ResourceKind::of_route("/api/v1/agents/setup-chat/{id}/confirm");
        assert_eq!(confirm, Some(ResourceKind::Conversation));
        assert_eq!(ResourceKind::of_route("/api/v1/agents/{id}/setup-chat"), Some(ResourceKind::Agent));
        for none in ["/api/v1/agents", "/api/v1/schedules/preview", "/api/v1/memory/facts", "/api/v1/health"] {
            assert_eq!(ResourceKind::of_route(none), None, "{none}");
        }
    }

    #[test]
    fn only_administrators_reach_other_owners() {
        let writer = principal(2, Scope::Write);
        assert_eq!(acting_user(&writer, Some(UserId(5))), UserId(2));
        assert_eq!(acting_user(&writer, None), UserId(2));
        let admin = principal(2, Scope::Admin);
        assert_eq!(acting_user(&admin, Some(UserId(5))), UserId(5));
        assert_eq!(acting_user(&admin, None), UserId(2));
        assert!(Principal::local_owner().is_admin());
        assert_eq!(admin.actor(), Actor { user: UserId(2), token_id: Some(3) });
    }
}
