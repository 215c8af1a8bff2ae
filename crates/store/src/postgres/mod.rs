//! The PostgreSQL backend (being written; see the store test suite).

use std::sync::Arc;

use crate::{Result, Store, StoreError, StoreOptions};

pub struct PostgresStore;

impl PostgresStore {
    pub async fn connect(_url: &str, _options: StoreOptions) -> Result<Arc<dyn Store>> {
        Err(StoreError::Database("the PostgreSQL backend is not built yet".into()))
    }
}
