//! Names and queries as memory compares them: normalised entity names,
//! fuzzy name similarity for entity resolution, a fact sentence's
//! normalised form for duplicate detection, and a query's search terms.

/// Fuzzy resolution merges two names only at this Jaro-Winkler similarity
/// or above (of their normalised forms): "Acme Corp" and "Acme Corp." are
/// one company, "Alice" and "Alicia" stay two people.
pub const FUZZY_NAME_THRESHOLD: f64 = 0.95;

/// Words too common to help a search; removed from queries.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "before", "but",
    "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "him", "his", "how",
    "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our", "she", "so", "that", "the",
    "their", "them", "then", "there", "they", "this", "to", "was", "we", "were", "what", "when", "where", "which",
    "who", "why", "will", "with", "would", "you", "your",
];

/// Lower case, words separated by single spaces, punctuation dropped, a
/// leading articles dropped (one word always stays): `"  The ACME, Corp. "`
/// → `"acme corp"`. Normalising a normalised name changes nothing.
pub fn normalize_name(name: &str) -> String {
    let words: Vec<String> = words(name).collect();
    let is_article = |word: &String| matches!(word.as_str(), "the" | "a" | "an");
    let articles = words.iter().take_while(|word| is_article(word)).count().min(words.len().saturating_sub(1));
    words[articles..].join(" ")
}

/// A fact sentence's comparable form: its words, lower case.
pub fn normalize_statement(statement: &str) -> String {
    words(statement).collect::<Vec<_>>().join(" ")
}

/// Letters and digits, lower case; anything else separates words. A
/// letter whose lower case brings a mark along (`İ` is `i` and a combining
/// dot) keeps only the letters, so a word holds nothing but letters and
/// digits and splitting again changes nothing.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase().filter(|lower| lower.is_alphanumeric()));
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.into_iter()
}

/// Similarity of two normalised names in `[0, 1]`.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// How an extracted name resolves against known entities.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NameMatch<K> {
    /// Same normalised name.
    Exact(K),
    /// Close enough by [`FUZZY_NAME_THRESHOLD`]; the similarity.
    Fuzzy(K, f64),
    None,
}

/// Resolves `name` against `(key, normalised name)` candidates: an exact
/// match first, else the most similar above the threshold.
pub fn match_name<K: Copy>(name: &str, candidates: &[(K, String)]) -> NameMatch<K> {
    let normalized = normalize_name(name);
    if normalized.is_empty() {
        return NameMatch::None;
    }
    if let Some((key, _)) = candidates.iter().find(|(_, candidate)| *candidate == normalized) {
        return NameMatch::Exact(*key);
    }
    candidates
        .iter()
        .map(|(key, candidate)| (*key, name_similarity(&normalized, candidate)))
        .filter(|(_, similarity)| *similarity >= FUZZY_NAME_THRESHOLD)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(NameMatch::None, |(key, similarity)| NameMatch::Fuzzy(key, similarity))
}

/// A query's search terms: lower-case words without stopwords, each once,
/// in order. Only letters and digits, so they are safe inside FTS5 and
/// `to_tsquery` syntax.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in words(query) {
        if !STOPWORDS.contains(&word.as_str()) && !terms.contains(&word) {
            terms.push(word);
        }
    }
    terms
}

/// A rough token count for budgeting prompt text (four characters a token).
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(normalize_name("  The ACME, Corp. "), "acme corp");
        assert_eq!(normalize_name("The"), "the");
        assert_eq!(normalize_name("Zoë  O'Neil"), "zoë o neil");
        assert_eq!(normalize_name("the the x"), "x");
        assert_eq!(normalize_name("The The"), "the");
        assert_eq!(normalize_name("İstanbul"), "istanbul");
    }

    #[test]
    fn exact_then_fuzzy_then_none() {
        let known = vec![(1, "acme corp".to_string()), (2, "alice".to_string())];
        assert_eq!(match_name("ACME Corp.", &known), NameMatch::Exact(1));
        assert!(matches!(match_name("Acme Corpp", &known), NameMatch::Fuzzy(1, _)));
        assert_eq!(match_name("Alicia", &known), NameMatch::None);
        assert_eq!(match_name("!!", &known), NameMatch::None);
    }

    #[test]
    fn query_terms_drop_stopwords_and_punctuation() {
        assert_eq!(query_terms("What did she prefer before March?"), vec!["prefer", "march"]);
        assert_eq!(query_terms("\"drop\" OR table; -- x*"), vec!["drop", "table", "x"]);
        assert!(query_terms("İ").iter().all(|term| term.chars().all(char::is_alphanumeric)));
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(name in "\\PC{0,40}") {
            let once = normalize_name(&name);
            prop_assert_eq!(normalize_name(&once), once.clone());
        }

        #[test]
        fn query_terms_are_plain_words(query in "\\PC{0,80}") {
            for term in query_terms(&query) {
                prop_assert!(!term.is_empty() && term.chars().all(char::is_alphanumeric));
            }
        }
    }
}
