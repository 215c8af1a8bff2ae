//! Request extractors whose rejections are in the API's error shape.

pub mod json;
pub mod path;
pub mod query;

pub use json::{ApiJson, ApiJsonOrEmpty, RawBody};
pub use path::IdPath;
pub use query::QueryParams;
