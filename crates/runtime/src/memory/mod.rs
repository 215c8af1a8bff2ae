//! Memory's use cases: adding episodes (ingested by `memory.ingest` jobs,
//! `ingest.rs`), folding recent episodes into preferences and decisions
//! (`memory.consolidate` jobs, `consolidate.rs`), hybrid search (`retrieval.rs`), and the in-process vector
//! index (`vectors.rs`). The rules are the domain's (`domain::memory`), the
//! storage the store's (`MemoryStore`); this is where they meet the models.
//!
//! Without an embedding model memory still works, on full text and the
//! graph, and every search says so (`SearchOutcome::vectors_used`).
//! Without an extraction model episodes are stored and searchable as text,
//! but no entities or facts are extracted.

pub mod consolidate;
pub mod extraction;
pub mod ingest;
pub mod retrieval;
pub mod text_index;
pub mod vectors;

use std::sync::Arc;

use serde_json::json;
use steward_domain::memory::{Episode, ItemKey, NewEpisode};
use steward_domain::{NewJob, UserId};
use steward_llm::{ChatModel, EmbeddingModel};
use steward_store::Store;

pub use consolidate::{CONSOLIDATE_JOB_KIND, ConsolidateHandler, ConsolidationReport};
pub use ingest::{INGEST_JOB_KIND, IngestHandler};
pub use retrieval::{Item, Provenance, Rerank, SearchOutcome, SearchQuery, SearchResult};

use crate::SharedClock;
use text_index::TextCache;
use vectors::VectorCache;

/// Stores an episode and enqueues its ingestion (once per episode: the
/// job's idempotency key is the episode's id). What the system writes
/// itself (feedback, corrections) comes through here too.
pub async fn record_episode(store: &dyn Store, episode: NewEpisode) -> steward_store::Result<Episode> {
    let user = episode.user_id;
    let (stored, _) = store.add_episode(episode).await?;
    if stored.ingested_at.is_none() {
        enqueue_ingestion(store, user, &stored).await?;
    }
    Ok(stored)
}

async fn enqueue_ingestion(store: &dyn Store, user: UserId, episode: &Episode) -> steward_store::Result<()> {
    let mut job = NewJob::new(INGEST_JOB_KIND, json!({ "episode_id": episode.id }));
    job.idempotency_key = Some(format!("memory-ingest:{}", episode.id));
    store.enqueue(user, vec![job]).await?;
    Ok(())
}

/// What memory needs: the store, the clock, and the models it may use.
pub struct Memory {
    store: Arc<dyn Store>,
    clock: SharedClock,
    extractor: Option<Arc<dyn ChatModel>>,
    embedder: Option<Arc<dyn EmbeddingModel>>,
    text: TextCache,
    vectors: VectorCache,
}

impl Memory {
    pub fn new(
        store: Arc<dyn Store>,
        clock: SharedClock,
        extractor: Option<Arc<dyn ChatModel>>,
        embedder: Option<Arc<dyn EmbeddingModel>>,
    ) -> Self {
        Memory { store, clock, extractor, embedder, text: TextCache::default(), vectors: VectorCache::default() }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn has_embedder(&self) -> bool {
        self.embedder.is_some()
    }

    /// The embedding model, when memory has one (duplicate scans use it too).
    pub fn embedder(&self) -> Option<Arc<dyn EmbeddingModel>> {
        self.embedder.clone()
    }

    pub fn has_extractor(&self) -> bool {
        self.extractor.is_some()
    }

    /// Stores an episode and enqueues its ingestion (once per episode: the
    /// job's idempotency key is the episode's id); `false` when the same
    /// `(source, source_ref)` was stored before (that episode is returned).
    pub async fn add_episode(&self, episode: NewEpisode) -> steward_store::Result<(Episode, bool)> {
        let user = episode.user_id;
        let (stored, created) = self.store.add_episode(episode).await?;
        if stored.ingested_at.is_none() {
            enqueue_ingestion(self.store.as_ref(), user, &stored).await?;
        }
        Ok((stored, created))
    }

    /// The items most similar to `text` by embedding, or `None` without an
    /// embedder (or when it failed: the search goes on without vectors).
    async fn vector_candidates(&self, user: UserId, text: &str) -> steward_store::Result<Option<Vec<(ItemKey, f32)>>> {
        let Some(embedder) = &self.embedder else { return Ok(None) };
        let query = match embedder.embed(&[text.to_string()]).await {
            Ok(mut embeddings) if !embeddings.vectors.is_empty() => embeddings.vectors.swap_remove(0),
            Ok(_) => return Ok(None),
            Err(error) => {
                tracing::warn!(%error, "memory search without vectors: the embedding model failed");
                return Ok(None);
            }
        };
        let model = embedder.id().to_string();
        let index = self.vectors.index(self.store.as_ref(), user, &model).await?;
        Ok(Some(index.top_k(&query, 50)))
    }
}
