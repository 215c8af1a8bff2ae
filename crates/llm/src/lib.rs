//! Model providers: one chat-model trait and its Anthropic and OpenAI
//! implementations, with streaming, tool calls, structured output, retries,
//! fallback, timeouts and cost accounting.
//!
//! The rest of Steward holds an `Arc<dyn ChatModel>` from a
//! [`ModelRegistry`] and either streams [`StreamEvent`]s or waits for a
//! [`ChatResponse`]:
//!
//! ```no_run
//! # async fn example() -> Result<(), steward_llm::LlmError> {
//! use futures::StreamExt;
//! use steward_llm::{ChatRequest, LlmConfig, ModelRegistry, StreamEvent};
//!
//! let registry = ModelRegistry::from_process_environment(&LlmConfig::default())?;
//! let model = registry.chat_model("anthropic/claude-sonnet-4-5")?;
//! let mut stream = model.stream(ChatRequest::from_user_text("Hello").with_system("Be brief."));
//! while let Some(event) = stream.next().await {
//!     match event? {
//!         StreamEvent::TextDelta { text } => print!("{text}"),
//!         StreamEvent::Finished(finish) => println!("\n{:?} {:?}", finish.usage, finish.cost_usd),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Architecture invariant: this crate depends on `steward-domain` only among
//! Steward's crates, and it is the only one that knows provider JSON. API keys
//! live in [`ApiKey`], which cannot be printed, and are scrubbed from provider
//! error messages.

mod classify;
pub mod config;
pub mod error;
pub mod event;
pub mod fallback;
mod http;
#[cfg(feature = "local-embeddings")]
pub mod local;
pub mod message;
pub mod model;
pub mod model_id;
pub mod pricing;
pub mod providers;
mod reattempt;
pub mod registry;
pub mod response;
pub mod retry;
pub mod secret;
mod streaming;
pub mod structured;

pub use classify::retry_after_from_headers;
pub use config::{LlmConfig, ProviderConfig, RetryConfig, TimeoutConfig};
pub use error::{ErrorKind, LlmError, TimeoutPhase};
pub use event::{ChatStream, Finish, StopReason, StreamEvent, ToolCall, Usage};
pub use fallback::FallbackModel;
pub use http::Timeouts;
#[cfg(feature = "local-embeddings")]
pub use local::LocalEmbeddingModel;
pub use message::{ChatRequest, ContentPart, ImageSource, Message, ResponseFormat, Role, ToolChoice, ToolDefinition};
pub use model::{ChatModel, EmbeddingModel, Embeddings, ModelId};
pub use pricing::{ModelPrice, PriceTable};
pub use providers::{Protocol, ProviderClient, TokenLimitField};
pub use registry::{KeyStatus, LOCAL_PREFIX, ModelRegistry, ProviderSummary, local_embedding_model};
pub use response::{ChatResponse, collect_response};
pub use retry::{RecordingSleeper, Retrier, RetryPolicy, RetryingEmbeddingModel, RetryingModel, Sleeper, TokioSleeper};
pub use secret::ApiKey;
pub use structured::{
    JsonSchemaSpec, StructuredOptions, StructuredResponse, complete_checked, complete_json, complete_typed,
};
