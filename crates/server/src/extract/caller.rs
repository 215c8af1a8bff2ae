//! `Caller`: whose data a request reaches, decided in one place for every
//! route. The authentication middleware put the [`Principal`] in the
//! request; an administrator naming one resource by id (the route template
//! says which kind, `domain::access::ResourceKind::of_route`) acts on its
//! owner's data, found by the store's `owner_of`. Everyone else acts on
//! their own. Handlers pass `caller.user` to the store, whose every query is
//! scoped by it, so another user's resource is not found (404). Lists show
//! `caller.owners()`: an administrator's show every user's items.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams};
use axum::http::request::Parts;
use steward_domain::UserId;
use steward_domain::access::{Owners, Resource, ResourceKind, acting_user};
use steward_domain::auth::Principal;

use crate::AppState;
use crate::api::ErrorCode;
use crate::error::ApiError;

#[derive(Clone, Debug)]
pub struct Caller {
    /// The user whose data the request reads and changes.
    pub user: UserId,
    /// Whether the principal is an administrator, whose lists show everyone's.
    pub admin: bool,
}

impl Caller {
    /// Whose items a list shows: everyone's for an administrator, else the user's.
    pub fn owners(&self) -> Owners {
        if self.admin { Owners::Everyone } else { Owners::One(self.user) }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "this request needs a credential"))?;
        let mut owner = None;
        if principal.is_admin()
            && let Some(resource) = named_resource(parts, state).await
        {
            owner = state.store.owner_of(resource).await?;
        }
        Ok(Caller { user: acting_user(&principal, owner), admin: principal.is_admin() })
    }
}

/// The resource the route names by a numeric id, if any.
async fn named_resource(parts: &mut Parts, state: &AppState) -> Option<Resource> {
    let template = parts.extensions.get::<MatchedPath>()?.as_str().to_string();
    let kind = ResourceKind::of_route(&template)?;
    let params = RawPathParams::from_request_parts(parts, state).await.ok()?;
    let (_, raw) = params.iter().next()?;
    let id = raw.parse::<i64>().ok().filter(|id| *id > 0)?;
    Some(Resource { kind, id })
}
