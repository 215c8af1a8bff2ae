//! Embeddings in memory: the byte form both databases store (little-endian
//! `f32`s), and a brute-force cosine index over L2-normalised vectors.
//!
//! Brute force is exact and has no build step; its cost is one dot product
//! per stored vector per query (`docs/benchmarks.md` measures where it stops
//! being enough; ARCHITECTURE.md records the limit).

/// `f32`s as little-endian bytes.
pub fn to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// The inverse of [`to_bytes`]; `None` when the length is not a multiple of 4.
pub fn from_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])).collect())
}

/// `vector / |vector|`; a zero vector stays zero.
pub fn normalized(vector: &[f32]) -> Vec<f32> {
    let norm = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return vec![0.0; vector.len()];
    }
    vector.iter().map(|value| value / norm).collect()
}

/// Vectors of one dimension with their keys, searched exhaustively.
#[derive(Clone, Debug)]
pub struct CosineIndex<K> {
    dimensions: usize,
    keys: Vec<K>,
    data: Vec<f32>,
}

impl<K: Clone> CosineIndex<K> {
    pub fn new(dimensions: usize) -> Self {
        CosineIndex { dimensions, keys: Vec::new(), data: Vec::new() }
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a vector (normalised here); one of another dimension is skipped
    /// and `false` returned (a model change leaves old vectors behind).
    pub fn push(&mut self, key: K, vector: &[f32]) -> bool {
        if vector.len() != self.dimensions {
            return false;
        }
        self.keys.push(key);
        self.data.extend(normalized(vector));
        true
    }

    /// The `k` most similar keys, best first, with their cosine similarity.
    pub fn top_k(&self, query: &[f32], k: usize) -> Vec<(K, f32)> {
        if query.len() != self.dimensions || k == 0 || self.dimensions == 0 {
            return Vec::new();
        }
        let query = normalized(query);
        let mut scored: Vec<(usize, f32)> = self
            .data
            .chunks_exact(self.dimensions)
            .enumerate()
            .map(|(index, row)| (index, row.iter().zip(&query).map(|(a, b)| a * b).sum::<f32>()))
            .collect();
        let keep = k.min(scored.len());
        if keep < scored.len() {
            scored.select_nth_unstable_by(keep, |a, b| b.1.total_cmp(&a.1));
            scored.truncate(keep);
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.into_iter().map(|(index, score)| (self.keys[index].clone(), score)).collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn nearest_first() {
        let mut index = CosineIndex::new(2);
        assert!(index.push("east", &[1.0, 0.0]));
        assert!(index.push("north", &[0.0, 2.0]));
        assert!(index.push("north-east", &[1.0, 1.0]));
        assert!(!index.push("wrong", &[1.0]));
        let found = index.top_k(&[0.1, 1.0], 2);
        assert_eq!(found.iter().map(|(key, _)| *key).collect::<Vec<_>>(), vec!["north", "north-east"]);
        assert!(index.top_k(&[1.0, 0.0, 0.0], 2).is_empty());
    }

    proptest! {
        #[test]
        fn bytes_round_trip(vector in prop::collection::vec(-1e6f32..1e6, 0..64)) {
            prop_assert_eq!(from_bytes(&to_bytes(&vector)), Some(vector));
        }

        /// top_k agrees with sorting every similarity.
        #[test]
        fn top_k_is_exact(
            vectors in prop::collection::vec(prop::collection::vec(-1f32..1.0, 3), 1..40),
            query in prop::collection::vec(-1f32..1.0, 3),
            k in 1usize..10,
        ) {
            let mut index = CosineIndex::new(3);
            for (key, vector) in vectors.iter().enumerate() {
                index.push(key, vector);
            }
            let found = index.top_k(&query, k);
            let q = normalized(&query);
            let mut all: Vec<f32> = vectors.iter().map(|v| normalized(v).iter().zip(&q).map(|(a, b)| a * b).sum()).collect();
            all.sort_by(|a, b| b.total_cmp(a));
            prop_assert_eq!(found.len(), k.min(vectors.len()));
            for ((_, score), expected) in found.iter().zip(all) {
                prop_assert!((score - expected).abs() < 1e-5);
            }
        }
    }
}
