//! Okapi BM25 over memory's items, in process: an inverted index of stemmed
//! words per user, scored with the same formula and constants as SQLite
//! FTS5's `bm25()` (k1 = 1.2, b = 0.75, a word in more than half the items
//! counting almost nothing). The databases' full-text ranking reads a
//! document-size record and the match's positions for every matching row,
//! which is most of a search when a query's common words match a thousand
//! turns; here a match costs one addition (`docs/benchmarks.md`).
//!
//! Words are the letters and digits `text::words` finds, lower case, and
//! stemmed (Snowball English, so "opens" finds "opened"); a document's
//! length counts every word, as FTS5 does, stop words too.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use super::text::{query_terms, words};
use super::{ItemKey, ItemKind};

/// Term-frequency saturation.
const K1: f64 = 1.2;
/// Length normalisation.
const B: f64 = 0.75;
/// What a word in more than half the items still adds (FTS5's floor).
const IDF_FLOOR: f64 = 1e-6;

/// A stemmer for English words; cheap to build, not `Sync`-free to share.
fn stemmer() -> Stemmer {
    Stemmer::create(Algorithm::English)
}

/// The stemmed words of `text`, every occurrence, in order.
pub fn index_terms(text: &str) -> Vec<String> {
    let stemmer = stemmer();
    words(text).map(|word| stemmer.stem(&word).into_owned()).collect()
}

/// A query's stemmed search words: stop words dropped, each once.
pub fn search_terms(query: &str) -> Vec<String> {
    let stemmer = stemmer();
    let mut terms: Vec<String> = Vec::new();
    for term in query_terms(query) {
        let stemmed = stemmer.stem(&term).into_owned();
        if !terms.contains(&stemmed) {
            terms.push(stemmed);
        }
    }
    terms
}

#[derive(Clone, Debug)]
struct Document {
    key: ItemKey,
    /// Words in the item, stop words included.
    length: u32,
    /// Each distinct term once, to take the item out of their postings.
    terms: Vec<u32>,
}

/// One user's items, searchable by BM25. Items are added or replaced by
/// key; `search` ranks the items of each kind separately.
#[derive(Clone, Debug, Default)]
pub struct TextIndex {
    /// Term → id in `postings`.
    term_ids: HashMap<String, u32>,
    /// Per term: (document slot, occurrences in it).
    postings: Vec<Vec<(u32, u32)>>,
    documents: Vec<Document>,
    slots: HashMap<ItemKey, u32>,
    total_length: u64,
}

impl TextIndex {
    pub fn new() -> Self {
        TextIndex::default()
    }

    /// How many items are indexed.
    pub fn len(&self) -> usize {
        self.documents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// Indexes `text` as `key`'s, replacing what `key` had.
    pub fn upsert(&mut self, key: ItemKey, text: &str) {
        let words = index_terms(text);
        let mut counts: Vec<(u32, u32)> = Vec::new();
        for word in &words {
            let next = u32::try_from(self.term_ids.len()).unwrap_or(u32::MAX);
            let term = *self.term_ids.entry(word.clone()).or_insert(next);
            if term as usize == self.postings.len() {
                self.postings.push(Vec::new());
            }
            match counts.iter_mut().find(|(seen, _)| *seen == term) {
                Some((_, count)) => *count += 1,
                None => counts.push((term, 1)),
            }
        }
        let length = u32::try_from(words.len()).unwrap_or(u32::MAX);
        let slot = match self.slots.get(&key) {
            Some(&slot) => {
                self.remove_postings(slot);
                slot
            }
            None => {
                let slot = u32::try_from(self.documents.len()).unwrap_or(u32::MAX);
                self.documents.push(Document { key, length: 0, terms: Vec::new() });
                self.slots.insert(key, slot);
                slot
            }
        };
        for &(term, count) in &counts {
            self.postings[term as usize].push((slot, count));
        }
        let document = &mut self.documents[slot as usize];
        document.length = length;
        document.terms = counts.into_iter().map(|(term, _)| term).collect();
        self.total_length += u64::from(length);
    }

    fn remove_postings(&mut self, slot: u32) {
        let document = &mut self.documents[slot as usize];
        self.total_length -= u64::from(document.length);
        for term in std::mem::take(&mut document.terms) {
            self.postings[term as usize].retain(|(of, _)| *of != slot);
        }
        document.length = 0;
    }

    /// The best `limit` items of each kind in `kinds` matching any of
    /// `terms` (stemmed: `search_terms`), kind by kind in the order asked,
    /// best first within each, with their BM25 score (higher is better).
    pub fn search(&self, terms: &[String], kinds: &[ItemKind], limit: usize) -> Vec<(ItemKey, f64)> {
        if self.documents.is_empty() || limit == 0 {
            return Vec::new();
        }
        let count = self.documents.len() as f64;
        let average_length = (self.total_length as f64 / count).max(1.0);
        let mut scores = vec![0.0f64; self.documents.len()];
        let mut touched: Vec<u32> = Vec::new();
        for term in terms {
            let Some(&id) = self.term_ids.get(term) else { continue };
            let postings = &self.postings[id as usize];
            let matching = postings.len() as f64;
            let idf = (((count - matching + 0.5) / (matching + 0.5)).ln()).max(IDF_FLOOR);
            for &(slot, occurrences) in postings {
                let length = f64::from(self.documents[slot as usize].length);
                let tf = f64::from(occurrences);
                let weight = idf * (tf * (K1 + 1.0)) / (tf + K1 * (1.0 - B + B * length / average_length));
                let score = &mut scores[slot as usize];
                if *score == 0.0 {
                    touched.push(slot);
                }
                *score += weight;
            }
        }
        let mut found = Vec::new();
        for kind in kinds {
            let mut of_kind: Vec<(ItemKey, f64)> = touched
                .iter()
                .map(|&slot| (self.documents[slot as usize].key, scores[slot as usize]))
                .filter(|(key, _)| key.kind == *kind)
                .collect();
            let best_first = |a: &(ItemKey, f64), b: &(ItemKey, f64)| b.1.total_cmp(&a.1).then(a.0.id.cmp(&b.0.id));
            if of_kind.len() > limit {
                of_kind.select_nth_unstable_by(limit - 1, best_first);
                of_kind.truncate(limit);
            }
            of_kind.sort_by(best_first);
            found.extend(of_kind);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn episode(id: i64) -> ItemKey {
        ItemKey { kind: ItemKind::Episode, id }
    }

    fn fact(id: i64) -> ItemKey {
        ItemKey { kind: ItemKind::Fact, id }
    }

    #[test]
    fn stemmed_words_match_other_forms() {
        let mut index = TextIndex::new();
        index.upsert(episode(1), "The bakery opened on Monday");
        index.upsert(episode(2), "We sold rye bread");
        let found = index.search(&search_terms("When does the bakery open?"), &[ItemKind::Episode], 10);
        assert_eq!(found.iter().map(|(key, _)| key.id).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn a_rare_word_outranks_a_common_one_and_kinds_are_ranked_apart() {
        let mut index = TextIndex::new();
        for id in 1..=8 {
            index.upsert(episode(id), "Lena talked about her day");
        }
        index.upsert(episode(9), "Lena bought a telescope");
        index.upsert(fact(1), "Lena owns a telescope");
        let found = index.search(&search_terms("Lena telescope"), &[ItemKind::Episode, ItemKind::Fact], 3);
        assert_eq!(found.len(), 4, "three episodes, then the one fact: {found:?}");
        assert_eq!(found[0].0, episode(9));
        assert_eq!(found[3].0, fact(1));
        assert!(found[0].1 > found[1].1);
    }

    #[test]
    fn a_replaced_text_is_found_by_its_new_words_only() {
        let mut index = TextIndex::new();
        index.upsert(episode(1), "Acme, a bakery");
        index.upsert(episode(1), "Acme, a shipyard");
        assert!(index.search(&search_terms("bakery"), &[ItemKind::Episode], 10).is_empty());
        assert_eq!(index.search(&search_terms("shipyard"), &[ItemKind::Episode], 10).len(), 1);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn scores_follow_fts5_bm25() {
        // Three documents, one matching once in a document of 4 words:
        // idf = ln((3 - 1 + 0.5) / 1.5), avgdl = 12 / 3 = 4.
        let mut index = TextIndex::new();
        index.upsert(episode(1), "alpha beta gamma delta");
        index.upsert(episode(2), "one two three four");
        index.upsert(episode(3), "five six seven eight");
        let found = index.search(&search_terms("alpha"), &[ItemKind::Episode], 10);
        let idf = (2.5f64 / 1.5).ln();
        let expected = idf * (1.0 * (K1 + 1.0)) / (1.0 + K1);
        assert!((found[0].1 - expected).abs() < 1e-12, "{found:?} vs {expected}");
    }

    proptest! {
        /// Whatever was indexed and replaced, a search returns each item
        /// once, of the kinds asked, at most `limit` of each, best first.
        #[test]
        fn results_are_distinct_bounded_and_ordered(
            texts in proptest::collection::vec((0i64..12, "[a-d ]{0,20}"), 0..40),
            query in "[a-d ]{1,8}",
            limit in 1usize..5,
        ) {
            let mut index = TextIndex::new();
            for (id, text) in &texts {
                let key = if id % 2 == 0 { episode(*id) } else { fact(*id) };
                index.upsert(key, text);
            }
            let found = index.search(&search_terms(&query), &[ItemKind::Fact, ItemKind::Episode], limit);
            let mut seen = std::collections::BTreeSet::new();
            for (key, _) in &found {
                prop_assert!(seen.insert(*key));
            }
            for kind in [ItemKind::Fact, ItemKind::Episode] {
                let scores: Vec<f64> = found.iter().filter(|(key, _)| key.kind == kind).map(|(_, s)| *s).collect();
                prop_assert!(scores.len() <= limit);
                prop_assert!(scores.windows(2).all(|pair| pair[0] >= pair[1]));
            }
            let first_episode = found.iter().position(|(key, _)| key.kind == ItemKind::Episode).unwrap_or(found.len());
            prop_assert!(found[first_episode..].iter().all(|(key, _)| key.kind == ItemKind::Episode));
        }
    }
}
