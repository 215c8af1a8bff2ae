//! The in-process vector index: per user, every stored embedding of the
//! current embedding model in a brute-force cosine index, reloaded when the
//! store's watermark (count and highest id) changes, which also notices
//! rows another process committed (embeddings are never deleted).
//!
//! Scale: a query costs one dot product per stored vector (1,536 floats for
//! OpenAI's small model): about 1 ms per 10,000 vectors on one core here, so
//! it is enough to a few hundred thousand items per user; a reload reads
//! every vector (`docs/benchmarks.md`). Past that an ANN index (HNSW) or
//! sqlite-vec is the next step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use steward_domain::UserId;
use steward_domain::memory::ItemKey;
use steward_domain::memory::vector::CosineIndex;
use steward_store::{Result, Store};

struct Loaded {
    watermark: (i64, i64),
    index: Arc<CosineIndex<ItemKey>>,
}

#[derive(Default)]
pub struct VectorCache {
    users: Mutex<HashMap<(UserId, String), Loaded>>,
}

impl VectorCache {
    /// The user's index for `model`, reloaded if the store changed.
    pub async fn index(&self, store: &dyn Store, user: UserId, model: &str) -> Result<Arc<CosineIndex<ItemKey>>> {
        let watermark = store.embedding_watermark(user).await?;
        if let Some(loaded) = self.users.lock().map_err(|_| poisoned())?.get(&(user, model.to_string()))
            && loaded.watermark == watermark
        {
            return Ok(loaded.index.clone());
        }
        let stored = store.embeddings(user).await?;
        let dimensions = stored.iter().find(|embedding| embedding.model == model).map_or(0, |e| e.vector.len());
        let mut index = CosineIndex::new(dimensions);
        for embedding in stored.iter().filter(|embedding| embedding.model == model) {
            index.push(embedding.key, &embedding.vector);
        }
        let index = Arc::new(index);
        let loaded = Loaded { watermark, index: index.clone() };
        self.users.lock().map_err(|_| poisoned())?.insert((user, model.to_string()), loaded);
        Ok(index)
    }
}

fn poisoned() -> steward_store::StoreError {
    steward_store::StoreError::Database("the vector cache's lock was poisoned".into())
}
