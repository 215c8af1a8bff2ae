//! Duplicate work: which open items (an agent's actions, a project's
//! tasks) say the same thing. Text first — the larger of the token Jaccard
//! of the normalised words (stop words left out) and the Jaccard of
//! character trigrams, which forgives word forms and typos. When the
//! caller has embeddings of the items, their cosine is a second score with
//! thresholds of its own (a cosine runs higher than a Jaccard for the same
//! likeness). A pair is flagged when either score reaches its `flag_at`;
//! below that, a pair reaching either `ask_from` is a close candidate a
//! caller may settle with a model call. A flag keeps both scores, so it
//! says why it matched; its `similarity` is the larger of the two.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::ids::{DuplicateId, ProjectId, UserId};
use crate::text_enum::text_enum;
use crate::validation::ValidationError;

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
    /// How it was found: `text`, `embedding` (the cosine reached its
    /// threshold) or `model` (a close candidate a model confirmed).
    pub method: String,
    pub text_similarity: f64,
    /// `None` without embeddings.
    pub embedding_similarity: Option<f64>,
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
    /// `None` on flags from before both scores were kept.
    pub text_similarity: Option<f64>,
    pub embedding_similarity: Option<f64>,
    pub status: DuplicateStatus,
    /// The ref kept by a merge.
    pub kept: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl Duplicate {
    /// Why the pair was flagged, for a person: how it was found and the
    /// scores it had.
    pub fn why(&self) -> String {
        why(&self.method, self.text_similarity.unwrap_or(self.similarity), self.embedding_similarity)
    }
}

/// `how: text 0.81, embedding 0.93`: the method and the scores of a pair.
pub fn why(method: &str, text: f64, embedding: Option<f64>) -> String {
    let how = match method {
        TEXT => "the texts are alike",
        EMBEDDING => "the embeddings are alike",
        MODEL => "a model said it is the same work",
        other => other,
    };
    match embedding {
        Some(cosine) => format!("{how}: text {text:.2}, embedding {cosine:.2}"),
        None => format!("{how}: text {text:.2}"),
    }
}

/// A pair found by its text similarity.
pub const TEXT: &str = "text";
/// A pair found by the cosine of its embeddings.
pub const EMBEDDING: &str = "embedding";
/// A close candidate a model confirmed.
pub const MODEL: &str = "model";

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

/// A pair of items and how alike they are (each score 0..=1).
#[derive(Clone, Debug, PartialEq)]
pub struct SimilarPair<K> {
    pub first: K,
    pub second: K,
    /// The larger of the two scores.
    pub similarity: f64,
    pub text: f64,
    /// The cosine of their embeddings, when there are some.
    pub embedding: Option<f64>,
    pub closeness: Closeness,
    /// [`TEXT`] or [`EMBEDDING`]: the score that reached its threshold
    /// (text when both did).
    pub method: &'static str,
}

/// The thresholds of the comparison: text scores, and the cosines of
/// embeddings, each in 0..=1 with `ask_from` ≤ `flag_at`. The embedding
/// defaults suit all-MiniLM-L6-v2, measured: the same task in other words
/// 0.55–0.85, related but different work about 0.5, unrelated work below
/// 0.1 — so 0.8 flags, and from 0.55 a model is asked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DuplicateThresholds {
    pub flag_at: f64,
    pub ask_from: f64,
    pub embedding_flag_at: f64,
    pub embedding_ask_from: f64,
}

impl Default for DuplicateThresholds {
    fn default() -> Self {
        DuplicateThresholds { flag_at: 0.75, ask_from: 0.5, embedding_flag_at: 0.8, embedding_ask_from: 0.55 }
    }
}

impl DuplicateThresholds {
    /// Checks each threshold is within 0..=1 and `ask_from` ≤ `flag_at`,
    /// naming the field at fault.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let fields = [
            ("duplicate_flag_at", self.flag_at),
            ("duplicate_ask_from", self.ask_from),
            ("duplicate_embedding_flag_at", self.embedding_flag_at),
            ("duplicate_embedding_ask_from", self.embedding_ask_from),
        ];
        for (field, value) in fields {
            if !(0.0..=1.0).contains(&value) {
                return Err(ValidationError::new(field, format!("is {value}; it must be between 0 and 1")));
            }
        }
        if self.ask_from > self.flag_at {
            return Err(ValidationError::new(
                "duplicate_ask_from",
                format!("is {}; it must be at most duplicate_flag_at ({})", self.ask_from, self.flag_at),
            ));
        }
        if self.embedding_ask_from > self.embedding_flag_at {
            return Err(ValidationError::new(
                "duplicate_embedding_ask_from",
                format!(
                    "is {}; it must be at most duplicate_embedding_flag_at ({})",
                    self.embedding_ask_from, self.embedding_flag_at
                ),
            ));
        }
        Ok(())
    }

    /// How close a pair with these scores is, and by which score; `None`
    /// when neither reaches its `ask_from`.
    pub fn classify(&self, text: f64, embedding: Option<f64>) -> Option<(Closeness, &'static str)> {
        let cosine = embedding.unwrap_or(f64::NEG_INFINITY);
        if text >= self.flag_at {
            Some((Closeness::Duplicate, TEXT))
        } else if cosine >= self.embedding_flag_at {
            Some((Closeness::Duplicate, EMBEDDING))
        } else if text >= self.ask_from {
            Some((Closeness::Candidate, TEXT))
        } else if cosine >= self.embedding_ask_from {
            Some((Closeness::Candidate, EMBEDDING))
        } else {
            None
        }
    }
}

/// The cosine of two vectors, clamped to 0..=1 (opposite is as unlike as
/// unrelated); 0 for vectors of different lengths or no length.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut norm_a, mut norm_b) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    if norm_a == 0.0 || norm_b == 0.0 {
        return 0.0;
    }
    (dot / (norm_a.sqrt() * norm_b.sqrt())).clamp(0.0, 1.0)
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

/// Every pair of `items` close enough by text or, with `vectors` (one per
/// item, in order, `None` for an item without one), by embedding; most
/// alike first.
pub fn similar_pairs<K: Clone>(
    items: &[WorkText<K>],
    vectors: Option<&[Option<Vec<f32>>]>,
    thresholds: DuplicateThresholds,
) -> Vec<SimilarPair<K>> {
    let vector = |index: usize| vectors.and_then(|vectors| vectors.get(index)).and_then(Option::as_ref);
    let mut pairs = Vec::new();
    for (index, first) in items.iter().enumerate() {
        for (offset, second) in items[index + 1..].iter().enumerate() {
            let text = similarity(&first.text, &second.text);
            let embedding = match (vector(index), vector(index + 1 + offset)) {
                (Some(a), Some(b)) => Some(cosine(a, b)),
                _ => None,
            };
            let Some((closeness, method)) = thresholds.classify(text, embedding) else { continue };
            pairs.push(SimilarPair {
                first: first.key.clone(),
                second: second.key.clone(),
                similarity: text.max(embedding.unwrap_or(0.0)),
                text,
                embedding,
                closeness,
                method,
            });
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
        let pairs = similar_pairs(&items, None, DuplicateThresholds::default());
        let keys: Vec<(i32, i32, Closeness)> =
            pairs.iter().map(|pair| (pair.first, pair.second, pair.closeness)).collect();
        assert!(keys.contains(&(1, 2, Closeness::Duplicate)), "{pairs:?}");
        assert!(keys.iter().any(|(a, b, _)| (*a, *b) == (1, 4)), "word forms are forgiven by trigrams: {pairs:?}");
        assert!(!keys.iter().any(|(a, b, _)| *a == 3 || *b == 3), "{pairs:?}");
        assert_eq!(similarity("Write the post", "write post"), 1.0);
        assert_eq!(similarity("", ""), 0.0);
    }

    #[test]
    fn embeddings_flag_a_paraphrase_the_text_misses_and_say_so() {
        let items = [
            WorkText { key: 1, text: "Fix the login page".into() },
            WorkText { key: 2, text: "Repair sign-in screen".into() },
            WorkText { key: 3, text: "Order office chairs".into() },
        ];
        let vectors = [Some(vec![1.0, 0.1, 0.0]), Some(vec![0.8, 0.3, 0.1]), Some(vec![0.0, 0.0, 1.0])];
        let thresholds = DuplicateThresholds::default();
        assert!(similar_pairs(&items, None, thresholds).is_empty(), "the texts share nothing");
        let pairs = similar_pairs(&items, Some(&vectors), thresholds);
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!((pairs[0].first, pairs[0].second, pairs[0].closeness), (1, 2, Closeness::Duplicate));
        assert_eq!(pairs[0].method, EMBEDDING);
        assert!(pairs[0].text < 0.5 && pairs[0].embedding.unwrap() > 0.95, "{pairs:?}");
        assert_eq!(pairs[0].similarity, pairs[0].embedding.unwrap());
        let said = why(pairs[0].method, pairs[0].text, pairs[0].embedding);
        assert!(said.starts_with("the embeddings are alike: text 0.") && said.contains("embedding 0.96"), "{said}");

        let missing = [Some(vec![1.0, 0.1, 0.0]), None, Some(vec![0.0, 0.0, 1.0])];
        assert!(similar_pairs(&items, Some(&missing), thresholds).is_empty(), "an item without a vector: text only");
        assert_eq!(thresholds.classify(0.6, Some(0.72)), Some((Closeness::Candidate, TEXT)));
        assert_eq!(thresholds.classify(0.1, Some(0.72)), Some((Closeness::Candidate, EMBEDDING)));
        assert_eq!(thresholds.classify(0.8, Some(0.1)), Some((Closeness::Duplicate, TEXT)));
        assert_eq!(thresholds.classify(0.1, Some(0.1)), None);
        assert_eq!(cosine(&[1.0, 0.0], &[-1.0, 0.0]), 0.0, "opposite counts as unrelated");
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn thresholds_out_of_range_or_out_of_order_name_their_field() {
        assert_eq!(DuplicateThresholds::default().validate(), Ok(()));
        let high = DuplicateThresholds { flag_at: 1.5, ..DuplicateThresholds::default() };
        assert_eq!(high.validate().unwrap_err().field, "duplicate_flag_at");
        let crossed = DuplicateThresholds { embedding_ask_from: 0.9, ..DuplicateThresholds::default() };
        assert_eq!(crossed.validate().unwrap_err().field, "duplicate_embedding_ask_from");
    }
}
