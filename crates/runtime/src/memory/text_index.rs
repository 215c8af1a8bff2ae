//! The in-process full-text index: per user, every episode, entity and
//! fact in a BM25 index (`domain::memory::bm25`), brought up to date before
//! each search from the store's text log. The log's head is one row read;
//! when it has grown, only the items logged since are read and indexed, so
//! items another process committed are found too.
//!
//! Why not the databases' own ranking: FTS5 and `ts_rank` score every
//! matching row through their generic APIs (a document-size read and the
//! match's positions per row), which was most of a search's time once a
//! question's common words matched a thousand turns (`docs/benchmarks.md`).
//! Here a match is one addition. Memory: the stemmed words of every item,
//! about 700 bytes an item of a dozen words (74 MiB for 100,000 facts and
//! 6,000 turns); past a few million items per user a disk-based index is
//! the next step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use steward_domain::UserId;
use steward_domain::memory::bm25::TextIndex;
use steward_domain::memory::{ItemKey, ItemKind};
use steward_store::{Result, Store, StoreError};

/// One user's index and the last log number it holds.
#[derive(Default)]
struct Synced {
    seq: i64,
    index: TextIndex,
}

#[derive(Default)]
pub struct TextCache {
    users: Mutex<HashMap<UserId, Arc<RwLock<Synced>>>>,
}

impl TextCache {
    /// The best `limit` items of each of `kinds` for `terms` (stemmed:
    /// `bm25::search_terms`), after reading what the store logged since
    /// the last search.
    pub async fn search(
        &self,
        store: &dyn Store,
        user: UserId,
        terms: &[String],
        kinds: &[ItemKind],
        limit: usize,
    ) -> Result<Vec<(ItemKey, f64)>> {
        let synced = self.user(user)?;
        let head = store.text_watermark(user).await?;
        let held = synced.read().map_err(|_| poisoned())?.seq;
        if head > held {
            let entries = store.text_since(user, held).await?;
            let mut synced = synced.write().map_err(|_| poisoned())?;
            // Another search may have caught up meanwhile: apply only what
            // is newer than what the index holds now.
            let from = synced.seq;
            for entry in entries.iter().filter(|entry| entry.seq > from) {
                synced.index.upsert(entry.key, &entry.text);
                synced.seq = synced.seq.max(entry.seq);
            }
        }
        let synced = synced.read().map_err(|_| poisoned())?;
        Ok(synced.index.search(terms, kinds, limit))
    }

    fn user(&self, user: UserId) -> Result<Arc<RwLock<Synced>>> {
        let mut users = self.users.lock().map_err(|_| poisoned())?;
        Ok(users.entry(user).or_default().clone())
    }
}

fn poisoned() -> StoreError {
    StoreError::Database("the full-text index's lock was poisoned".into())
}
