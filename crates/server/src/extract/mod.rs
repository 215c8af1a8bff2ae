//! Request extractors whose rejections are in the API's error shape.

pub mod caller;
pub mod json;
pub mod path;
pub mod query;

pub use caller::Caller;
pub use json::{ApiJson, ApiJsonOrEmpty, RawBody};
pub use path::IdPath;
pub use query::QueryParams;
