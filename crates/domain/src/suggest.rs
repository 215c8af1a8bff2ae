//! "Did you mean …?": the known name closest to a mistyped one, for error
//! messages about tool names, model names and the like.

/// How similar (Jaro–Winkler, 0 to 1) a known name must be to be offered.
const SIMILARITY_TO_SUGGEST: f64 = 0.8;

/// The candidate most like `input` (ignoring case), if any is close enough
/// to be a likely meaning; ties go to the earlier candidate.
pub fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted = input.trim().to_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&wanted, &candidate.to_lowercase());
        if score >= SIMILARITY_TO_SUGGEST && best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `" (did you mean `x`?)"`, or nothing when no candidate is close; to be
/// appended to the words naming what is unknown.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    closest(input, candidates).map(|candidate| format!(" (did you mean `{candidate}`?)")).unwrap_or_default()
}

/// A candidate `input` is almost surely a misspelling of: at most two
/// letters off, with the same digits in the same order. Versioned names
/// (`claude-opus-4-1`, `claude-opus-4-5`) differ in digits, so a new version
/// is not taken for a typo of an old one.
pub fn misspelling_of<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let digits = |text: &str| text.chars().filter(char::is_ascii_digit).collect::<String>();
    let wanted = input.trim().to_lowercase();
    candidates
        .into_iter()
        .filter(|candidate| digits(candidate) == digits(&wanted))
        .map(|candidate| (strsim::damerau_levenshtein(&wanted, &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| (1..=2).contains(distance))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOLS: &[&str] = &["http.fetch", "workspace.read", "workspace.write", "actions.create"];

    #[test]
    fn a_typo_finds_the_name_meant() {
        assert_eq!(closest("http.fecth", TOOLS.iter().copied()), Some("http.fetch"));
        assert_eq!(closest("Workspace.Wrte", TOOLS.iter().copied()), Some("workspace.write"));
        assert_eq!(did_you_mean("workspace.raed", TOOLS.iter().copied()), " (did you mean `workspace.read`?)");
    }

    #[test]
    fn a_misspelling_is_told_from_another_version() {
        let models = ["claude-sonnet-4-5", "claude-opus-4-1", "gpt-4.1-mini"];
        assert_eq!(misspelling_of("claude-sonet-4-5", models), Some("claude-sonnet-4-5"));
        assert_eq!(misspelling_of("gpt-4.1-mnii", models), Some("gpt-4.1-mini"));
        assert_eq!(misspelling_of("claude-opus-4-5", models), None, "a newer version, not a typo");
        assert_eq!(misspelling_of("claude-sonnet-4-5", models), None, "an exact name is no misspelling");
        assert_eq!(misspelling_of("llama3.2", models), None);
    }

    #[test]
    fn nothing_close_suggests_nothing() {
        assert_eq!(closest("send_email", TOOLS.iter().copied()), None);
        assert_eq!(did_you_mean("zzz", TOOLS.iter().copied()), "");
        assert_eq!(closest("anything", std::iter::empty()), None);
    }
}
