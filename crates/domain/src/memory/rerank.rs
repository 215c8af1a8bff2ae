//! Optional rerankers of fused search results, each a reordering of the
//! candidates that passed the filters:
//! - **MMR** (maximal marginal relevance): each next pick maximises
//!   `λ·relevance − (1−λ)·similarity to what was picked`, similarity being
//!   the Jaccard overlap of their words, so near-duplicates spread out;
//! - **centre distance**: fewest graph hops from a chosen entity first;
//! - **mentions**: items cited by more episodes first.
//!
//! Ties keep the fused order, so a reranker never hides why a result came.

use std::collections::BTreeSet;

/// What a reranker knows of one candidate, in fused order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RerankCandidate {
    /// The fused score (higher is better).
    pub score: f64,
    /// The item's words (`text::query_terms` of its text).
    pub words: BTreeSet<String>,
    /// Hops from the centre entity; `None`: not reached.
    pub hops: Option<usize>,
    /// Episodes that mention it.
    pub mentions: usize,
}

/// MMR's balance: 1.0 is plain relevance, 0.0 pure diversity.
pub const MMR_LAMBDA: f64 = 0.7;

/// The order (indices into `candidates`) MMR picks them in.
pub fn mmr(candidates: &[RerankCandidate], lambda: f64) -> Vec<usize> {
    let top = candidates.iter().map(|candidate| candidate.score).fold(f64::MIN, f64::max);
    let relevance = |index: usize| if top > 0.0 { candidates[index].score / top } else { 0.0 };
    let mut left: Vec<usize> = (0..candidates.len()).collect();
    let mut picked: Vec<usize> = Vec::with_capacity(candidates.len());
    while !left.is_empty() {
        let value = |index: usize| {
            let redundancy = picked
                .iter()
                .map(|chosen| jaccard(&candidates[index].words, &candidates[*chosen].words))
                .fold(0.0, f64::max);
            lambda * relevance(index) - (1.0 - lambda) * redundancy
        };
        let mut best = 0;
        for position in 1..left.len() {
            if value(left[position]) > value(left[best]) {
                best = position;
            }
        }
        picked.push(left.remove(best));
    }
    picked
}

/// Nearest to the centre entity first; unreached ones last.
pub fn by_centre_distance(candidates: &[RerankCandidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|index| candidates[*index].hops.unwrap_or(usize::MAX));
    order
}

/// Most mentioned first.
pub fn by_mentions(candidates: &[RerankCandidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|index| std::cmp::Reverse(candidates[*index].mentions));
    order
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 { 0.0 } else { a.intersection(b).count() as f64 / union as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(score: f64, words: &str) -> RerankCandidate {
        RerankCandidate { score, words: words.split(' ').map(String::from).collect(), ..RerankCandidate::default() }
    }

    #[test]
    fn mmr_moves_a_near_duplicate_below_a_different_result() {
        let candidates = [
            candidate(1.0, "brand voice plain"),
            candidate(0.95, "brand voice plain please"),
            candidate(0.9, "posts go out tuesdays"),
        ];
        assert_eq!(mmr(&candidates, MMR_LAMBDA), [0, 2, 1]);
        assert_eq!(mmr(&candidates, 1.0), [0, 1, 2], "λ = 1 is the fused order");
        assert_eq!(mmr(&[], MMR_LAMBDA), Vec::<usize>::new());
    }

    #[test]
    fn centre_distance_and_mentions_keep_the_fused_order_on_ties() {
        let hops = [None, Some(2), Some(1), Some(1)];
        let candidates: Vec<RerankCandidate> =
            hops.iter().map(|hops| RerankCandidate { hops: *hops, ..RerankCandidate::default() }).collect();
        assert_eq!(by_centre_distance(&candidates), [2, 3, 1, 0]);
        let mentions = [1, 3, 0, 3];
        let candidates: Vec<RerankCandidate> = mentions
            .iter()
            .map(|mentions| RerankCandidate { mentions: *mentions, ..RerankCandidate::default() })
            .collect();
        assert_eq!(by_mentions(&candidates), [1, 3, 0, 2]);
    }
}
