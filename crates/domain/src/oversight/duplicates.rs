//! Duplicate work: which open items (an agent's actions, a project's
//! tasks) say the same thing. Text first — the larger of the token Jaccard
//! of the normalised words (stop words left out) and the Jaccard of
//! character trigrams, which forgives word forms and typos; a pair scoring
//! at or above `flag_at` is flagged, a pair between `ask_from` and
//! `flag_at` is a close candidate a caller may settle with embeddings or a
//! model call (the runtime's scan asks the default model; embeddings are
//! not used yet).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::ids::{DuplicateId, ProjectId, UserId};
use crate::text_enum::text_enum;

text_enum!(
    /// What the flagged items are.
    DuplicateKind, "kind", {
        /// Two open actions (refs are action ids).
        Action => "action",
        /// Two pending tasks of one project (refs are task ids).
        Task => "task",
    }
);

text_enum!(
    /// What a person made of a flag.
    DuplicateStatus, "status", {
        Open => "open",
        /// One kept, the other dropped with a link to it.
        Merged => "merged",
        /// Both are kept: they only looked alike.
        KeptBoth => "kept_both",
    }
);

/// A pair to flag.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDuplicate {
    pub kind: DuplicateKind,
    pub project_id: Option<ProjectId>,
    pub first: String,
    pub second: String,
    pub first_title: String,
    pub second_title: String,
    pub similarity: f64,
    /// How it was found: `text`.
    pub method: String,
}

/// A flagged pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Duplicate {
    pub id: DuplicateId,
    pub user_id: UserId,
    pub kind: DuplicateKind,
    pub project_id: Option<ProjectId>,
    pub first: String,
    pub second: String,
    pub first_title: String,
    pub second_title: String,
    pub similarity: f64,
    pub method: String,
    pub status: DuplicateStatus,
    /// The ref kept by a merge.
    pub kept: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Words that say nothing about what the work is.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "of", "on", "or", "the", "this",
    "to", "with",
];

/// An item of work to compare, by its caller's key.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkText<K> {
    pub key: K,
    pub text: String,
}

/// How sure the text comparison is that two items are one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Closeness {
    /// At or above `flag_at`: a duplicate.
    Duplicate,
    /// Between `ask_from` and `flag_at`: worth a closer look.
    Candidate,
}

/// A pair of items and their text similarity (0..=1).
#[derive(Clone, Debug, PartialEq)]
pub struct SimilarPair<K> {
    pub first: K,
    pub second: K,
    pub similarity: f64,
    pub closeness: Closeness,
}

/// The thresholds of the comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DuplicateThresholds {
    pub flag_at: f64,
    pub ask_from: f64,
}

impl Default for DuplicateThresholds {
    fn default() -> Self {
        DuplicateThresholds { flag_at: 0.75, ask_from: 0.5 }
    }
}

/// Lower-cased words of letters and digits, stop words left out.
pub fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .filter(|word| !STOP_WORDS.contains(&word.as_str()))
        .collect()
}

fn trigrams(text: &str) -> BTreeSet<String> {
    let joined: Vec<char> = words(text).into_iter().collect::<Vec<_>>().join(" ").chars().collect();
    joined.windows(3).map(|window| window.iter().collect()).collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// How alike two texts are, 0 (nothing shared) to 1 (the same words).
pub fn similarity(a: &str, b: &str) -> f64 {
    let by_words = jaccard(&words(a), &words(b));
    let by_trigrams = jaccard(&trigrams(a), &trigrams(b));
    by_words.max(by_trigrams)
}

/// Every pair of `items` at least `ask_from` alike, most alike first.
pub fn similar_pairs<K: Clone>(items: &[WorkText<K>], thresholds: DuplicateThresholds) -> Vec<SimilarPair<K>> {
    let mut pairs = Vec::new();
    for (index, first) in items.iter().enumerate() {
        for second in &items[index + 1..] {
            let similarity = similarity(&first.text, &second.text);
            let closeness = if similarity >= thresholds.flag_at {
                Closeness::Duplicate
            } else if similarity >= thresholds.ask_from {
                Closeness::Candidate
            } else {
                continue;
            };
            pairs.push(SimilarPair { first: first.key.clone(), second: second.key.clone(), similarity, closeness });
        }
    }
    pairs.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_work_in_other_words_is_flagged_and_different_work_is_not() {
        let items = [
            WorkText { key: 1, text: "Write the launch blog post".into() },
            WorkText { key: 2, text: "write launch blog-post".into() },
            WorkText { key: 3, text: "Set up the CI pipeline".into() },
            WorkText { key: 4, text: "Writing the launch blog posts".into() },
        ];
        let pairs = similar_pairs(&items, DuplicateThresholds::default());
        let keys: Vec<(i32, i32, Closeness)> =
            pairs.iter().map(|pair| (pair.first, pair.second, pair.closeness)).collect();
        assert!(keys.contains(&(1, 2, Closeness::Duplicate)), "{pairs:?}");
        assert!(keys.iter().any(|(a, b, _)| (*a, *b) == (1, 4)), "word forms are forgiven by trigrams: {pairs:?}");
        assert!(!keys.iter().any(|(a, b, _)| *a == 3 || *b == 3), "{pairs:?}");
        assert_eq!(similarity("Write the post", "write post"), 1.0);
        assert_eq!(similarity("", ""), 0.0);
    }
}
