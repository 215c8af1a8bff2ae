//! A conversation's context around a matching turn. In a conversation the
//! words of a question are often in one turn and its answer in the next
//! ("Did you finish the lake painting?" / "Yes, on Friday, and I framed
//! it"), so full-text search shares each matching turn's score with its
//! neighbours in the same thread: a turn next to a strong match can rank
//! above a weak match elsewhere.
//!
//! Measured on three real LoCoMo conversations (1,451 turns, 495 questions
//! with evidence; docs/benchmarks.md): evidence recall@10 of full text
//! alone 0.68, with two turns either side at half the score each 0.81.

use std::collections::HashMap;
use std::hash::Hash;

/// How far context reaches, in turns either side of a match.
pub const CONTEXT_TURNS: usize = 2;

/// Only the best this many matches of a search share their score: the
/// prototype found the same recall sharing from the top 10, 20 or all 50,
/// and each shares through two index reads.
pub const CONTEXT_ANCHORS: usize = 20;

/// The share of a matching turn's score its neighbour at distance `d`
/// (1-based) receives: `CONTEXT_SHARE[d - 1]`.
pub const CONTEXT_SHARE: [f64; CONTEXT_TURNS] = [0.5, 0.5];

/// A turn near a matching one in the same thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbour<K> {
    /// The matching turn.
    pub of: K,
    pub neighbour: K,
    /// Turns apart, from 1.
    pub distance: usize,
}

/// A turn's score once context is shared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InContext<K> {
    pub key: K,
    pub score: f64,
    /// Set when the turn did not match itself: the matching turn whose
    /// share was largest (what "why" names).
    pub context_of: Option<K>,
}

/// Each matching turn keeps its score (non-negative, higher is better) and
/// gives its neighbours their share; a turn's score is the sum of what it
/// has and receives. Best first; ties by key, so equal inputs give equal
/// outputs.
pub fn with_context<K: Copy + Eq + Hash + Ord>(scores: &[(K, f64)], neighbours: &[Neighbour<K>]) -> Vec<InContext<K>> {
    let own: HashMap<K, f64> = scores.iter().copied().collect();
    let mut total: HashMap<K, f64> = own.clone();
    let mut largest_share: HashMap<K, (f64, K)> = HashMap::new();
    for neighbour in neighbours {
        let Some(share) = neighbour.distance.checked_sub(1).and_then(|index| CONTEXT_SHARE.get(index)) else {
            continue;
        };
        let Some(score) = own.get(&neighbour.of) else { continue };
        let given = share * score.max(0.0);
        *total.entry(neighbour.neighbour).or_default() += given;
        let best = largest_share.entry(neighbour.neighbour).or_insert((given, neighbour.of));
        if given > best.0 || (given == best.0 && neighbour.of < best.1) {
            *best = (given, neighbour.of);
        }
    }
    let mut ranked: Vec<InContext<K>> = total
        .into_iter()
        .map(|(key, score)| InContext {
            key,
            score,
            context_of: if own.contains_key(&key) { None } else { largest_share.get(&key).map(|(_, of)| *of) },
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
    ranked
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn near(of: u32, neighbour: u32, distance: usize) -> Neighbour<u32> {
        Neighbour { of, neighbour, distance }
    }

    #[test]
    fn the_turn_after_a_strong_match_outranks_a_weak_match() {
        // Turn 10 holds the question's words; 11 answers it; 50 matches one weak word.
        let ranked = with_context(&[(10, 8.0), (50, 3.0)], &[near(10, 11, 1), near(10, 9, 1), near(10, 12, 2)]);
        let order: Vec<u32> = ranked.iter().map(|item| item.key).collect();
        assert_eq!(order, vec![10, 9, 11, 12, 50]);
        assert_eq!(ranked[2], InContext { key: 11, score: 4.0, context_of: Some(10) });
        assert_eq!(ranked[0].context_of, None, "a match is not context");
    }

    #[test]
    fn shares_from_two_matches_add_up_and_the_larger_is_named() {
        let ranked = with_context(&[(1, 2.0), (3, 6.0)], &[near(1, 2, 1), near(3, 2, 1)]);
        let middle = ranked.iter().find(|item| item.key == 2).unwrap();
        assert_eq!(middle.score, 4.0);
        assert_eq!(middle.context_of, Some(3));
        // A match that is also another's neighbour keeps its own score plus the share.
        let ranked = with_context(&[(1, 2.0), (2, 1.0)], &[near(1, 2, 1)]);
        assert_eq!(ranked[0], InContext { key: 1, score: 2.0, context_of: None });
        assert_eq!(ranked[1], InContext { key: 2, score: 2.0, context_of: None });
    }

    #[test]
    fn neighbours_beyond_the_reach_or_of_unknown_matches_get_nothing() {
        let ranked = with_context(&[(1, 2.0)], &[near(1, 9, CONTEXT_TURNS + 1), near(7, 8, 1), near(1, 5, 0)]);
        assert_eq!(ranked, vec![InContext { key: 1, score: 2.0, context_of: None }]);
    }

    proptest! {
        #[test]
        fn no_match_loses_score_and_order_is_total(
            scores in proptest::collection::btree_map(0u32..40, 0.0f64..20.0, 0..12),
            links in proptest::collection::vec((0u32..40, 0u32..40, 1usize..4), 0..30),
        ) {
            let scores: Vec<(u32, f64)> = scores.into_iter().collect();
            let neighbours: Vec<Neighbour<u32>> = links.into_iter().map(|(of, neighbour, distance)| near(of, neighbour, distance)).collect();
            let ranked = with_context(&scores, &neighbours);
            for (key, score) in &scores {
                let found = ranked.iter().find(|item| item.key == *key).unwrap();
                prop_assert!(found.score >= *score);
                prop_assert!(found.context_of.is_none());
            }
            for pair in ranked.windows(2) {
                prop_assert!(pair[0].score > pair[1].score || (pair[0].score == pair[1].score && pair[0].key < pair[1].key));
            }
            prop_assert_eq!(with_context(&scores, &neighbours), ranked);
        }
    }
}
