//! `ApiError`: how a failed request is answered. Every error the server can
//! meet (bad input, a store error, a panic) becomes one of the codes of
//! [`crate::api::ErrorCode`], with the HTTP status that code maps to.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use steward_domain::ValidationError;
use steward_runtime::UseCaseError;
use steward_runtime::agent::ChatError;
use steward_store::{ConflictKind, StoreError};

use crate::api::{ErrorBody, ErrorCode, ErrorResponse};

#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidField, message).with_field(field)
    }

    pub fn invalid_parameter(name: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidParameter, message).with_field(name)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Internal, message)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Makes field names relative to one job of a batch: the single-job
    /// endpoint reports `depends_on[0]`, not `jobs[0].depends_on[0]`.
    pub fn strip_field_prefix(mut self, prefix: &str) -> Self {
        if let Some(field) = &self.field
            && let Some(rest) = field.strip_prefix(prefix)
            && (rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
        {
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            self.field = (!rest.is_empty()).then(|| rest.to_string());
        }
        self
    }

    /// The response body. The message passes the redactor's credential
    /// shapes, so a provider key quoted back by a failing call (even cut
    /// short) never reaches a client.
    pub fn body(&self) -> ErrorResponse {
        let message = steward_runtime::outbound::Redactor::default().text(&self.message);
        ErrorResponse { error: ErrorBody { code: self.code, message, field: self.field.clone() } }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {field}: {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = %self.code, message = %self.message, "request failed");
        } else {
            tracing::debug!(code = %self.code, field = ?self.field, message = %self.message, "request refused");
        }
        (status, Json(self.body())).into_response()
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        ApiError::invalid_field(error.field, error.message)
    }
}

/// Every store error maps to exactly one code; database details are logged
/// (by `into_response`) and summarised for the client. By reference too, for
/// the CLI's commands that open the store themselves and report its refusals
/// with the same codes.
impl From<&StoreError> for ApiError {
    fn from(error: &StoreError) -> Self {
        match error {
            StoreError::NotFound { entity, id } => {
                ApiError::new(ErrorCode::NotFound, format!("there is no {entity} {id}"))
            }
            StoreError::Invalid(error) => error.clone().into(),
            StoreError::Conflict { kind, field, message } => {
                let code = match kind {
                    ConflictKind::IllegalTransition => ErrorCode::IllegalTransition,
                    ConflictKind::AlreadyExists => ErrorCode::AlreadyExists,
                    ConflictKind::DependencyFailed => ErrorCode::DependencyFailed,
                    ConflictKind::Archived => ErrorCode::Archived,
                    ConflictKind::Stale => ErrorCode::Stale,
                };
                ApiError { code, message: message.clone(), field: field.clone() }
            }
            StoreError::Database(message) => {
                ApiError::internal(format!("the database failed: {message}; see the server log"))
            }
            StoreError::Migration(message) => {
                ApiError::internal(format!("the database schema is not usable: {message}"))
            }
            StoreError::Closed => {
                ApiError::new(ErrorCode::Unavailable, "Steward is shutting down and no longer accepts requests")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::from(&error)
    }
}

/// A use case's refusal, answered the way its cause is.
impl From<UseCaseError> for ApiError {
    fn from(error: UseCaseError) -> Self {
        match error {
            UseCaseError::Store(error) => error.into(),
            UseCaseError::Invalid(error) => error.into(),
            UseCaseError::NoAgentRuntime => ApiError::new(ErrorCode::NoAgentRuntime, error.to_string()),
        }
    }
}

/// The API error for a failed chat; `refused` is the code for the runtime's
/// own refusals (an archived agent, a setup chat that already created its
/// agent).
pub(crate) fn chat_error(error: ChatError, refused: ErrorCode) -> ApiError {
    match error {
        ChatError::Store(error) => error.into(),
        ChatError::Model(error) if error.kind() == steward_llm::ErrorKind::NotConfigured => {
            ApiError::new(ErrorCode::ModelNotConfigured, error.to_string())
        }
        ChatError::Model(error) => {
            let retry = if error.is_retryable() { "; this may pass, try again shortly" } else { "" };
            ApiError::new(ErrorCode::ModelFailed, format!("{error}{retry}"))
        }
        ChatError::NotAllowed(message) => ApiError::new(refused, message),
        ChatError::OverBudget(message) => ApiError::new(ErrorCode::BudgetExceeded, message),
        ChatError::Invalid(error) => error.into(),
        ChatError::NoSetupChat(message) => ApiError::new(ErrorCode::NotFound, message),
        error @ ChatError::SetupChatClosed { .. } => {
            ApiError::new(ErrorCode::AlreadyExists, error.to_string()).with_field("conversation_id")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_store::Entity;

    #[test]
    fn store_errors_keep_their_field_and_get_their_code() {
        let error = ApiError::from(StoreError::conflict(ConflictKind::AlreadyExists, Some("name"), "taken"));
        assert_eq!((error.code, error.field.as_deref()), (ErrorCode::AlreadyExists, Some("name")));
        assert_eq!(error.status(), StatusCode::CONFLICT);
        let error = ApiError::from(StoreError::not_found(Entity::Job, 7));
        assert_eq!(error.message, "there is no job 7");
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        assert_eq!(ApiError::from(StoreError::Closed).status(), StatusCode::SERVICE_UNAVAILABLE);
        let error = ApiError::from(StoreError::conflict(ConflictKind::Stale, Some("sequence"), "out of date"));
        assert_eq!((error.code, error.status()), (ErrorCode::Stale, StatusCode::CONFLICT));
    }

    #[test]
    fn batch_prefixes_are_stripped_for_the_single_job_endpoint() {
        let error = ApiError::invalid_field("jobs[0].depends_on[1]", "no such job").strip_field_prefix("jobs[0]");
        assert_eq!(error.field.as_deref(), Some("depends_on[1]"));
        let error = ApiError::invalid_field("jobs[0]", "bad").strip_field_prefix("jobs[0]");
        assert_eq!(error.field, None);
        let error = ApiError::invalid_field("jobs[10].kind", "bad").strip_field_prefix("jobs[1]");
        assert_eq!(error.field.as_deref(), Some("jobs[10].kind"), "only a whole segment is stripped");
    }
}
