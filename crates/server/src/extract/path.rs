//! `IdPath<T>`: the `{id}` of a path, checked to be a positive integer so
//! `/jobs/abc` and `/jobs/0` are refused with a 400 naming `id` instead of
//! reaching the store.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::query::positive_integer;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy)]
pub struct IdPath<T>(pub T);

impl<T, S> FromRequestParts<S> for IdPath<T>
where
    T: From<i64>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::invalid_parameter("id", rejection.body_text()))?;
        let id = positive_integer(&raw).map_err(|message| ApiError::invalid_parameter("id", message))?;
        Ok(IdPath(T::from(id)))
    }
}
