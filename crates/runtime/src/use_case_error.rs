//! Why a use case refused or failed: one error for every operation people
//! and programs ask for (`usecases`, `routines`), mapped once to the API's
//! error codes.

use steward_domain::ValidationError;
use steward_store::StoreError;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Bad input, naming the field as the request names it.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Starting work needs the agent runtime, and this process has none.
    #[error(
        "this server runs without an agent runtime, so it cannot chat with agents, start runs or serve their \
         files; use a server started with `steward serve`"
    )]
    NoAgentRuntime,
}
