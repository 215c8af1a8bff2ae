//! Reading `config.toml` on its own before it is merged with the other
//! sources, so a mistake in it is reported with the file, the line, the
//! full key and, for a misspelt key, the known key it is closest to.

use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;

use crate::failure::CliFailure;

/// Checks the file's keys and values against the configuration type `C`
/// (`config::Config`, which calls this, so this module does not import it).
pub fn check_file<C: DeserializeOwned>(path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    check_text::<C>(&text).map_err(|problem| {
        let message = format!("{}:{}: {}", path.display(), problem.line, problem.message);
        CliFailure::invalid_config(problem.key, message).into()
    })
}

/// What is wrong with the file, where.
#[derive(Debug, PartialEq)]
struct Problem {
    /// The dotted key at fault (`workers.concurency`), or empty for syntax.
    key: String,
    line: usize,
    message: String,
}

fn check_text<C: DeserializeOwned>(text: &str) -> Result<(), Problem> {
    let deserializer = toml::de::Deserializer::parse(text).map_err(|error| Problem {
        key: String::new(),
        line: line_of(text, error.span()),
        message: format!("not valid TOML: {}", error.message().trim()),
    })?;
    if let Err(error) = serde_path_to_error::deserialize::<_, C>(deserializer) {
        let key = error.path().to_string();
        let inner = error.into_inner();
        let line = line_of(text, inner.span());
        let message = match unknown_key(inner.message()) {
            Some((unknown, known)) => unknown_key_message(&key, &unknown, &known),
            None => format!("{key}: {}", inner.message().trim()),
        };
        return Err(Problem { key, line, message });
    }
    // `home` decides where this file is read from, so it cannot be set here.
    if let Ok(table) = text.parse::<toml::Table>()
        && table.contains_key("home")
    {
        let line = text.lines().position(|line| line.trim_start().starts_with("home")).map_or(1, |index| index + 1);
        return Err(Problem {
            key: "home".into(),
            line,
            message: "home: cannot be set in config.toml, which is read from inside the home; \
                      use --home or STEWARD_HOME instead"
                .into(),
        });
    }
    Ok(())
}

/// `unknown key `concurency` in [workers]; did you mean `concurrency`?`,
/// listing the known keys when none is close.
fn unknown_key_message(path: &str, unknown: &str, known: &[String]) -> String {
    let table = path.rsplit_once('.').map(|(table, _)| format!(" in [{table}]")).unwrap_or_default();
    match closest(unknown, known) {
        Some(suggestion) => format!("unknown key `{unknown}`{table}; did you mean `{suggestion}`?"),
        None => format!("unknown key `{unknown}`{table}; the keys here are: {}", known.join(", ")),
    }
}

/// The known key most like `unknown`, if it is close enough to be a typo.
fn closest<'a>(unknown: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|candidate| (strsim::jaro_winkler(unknown, candidate), candidate))
        .filter(|(similarity, _)| *similarity >= 0.8)
        .max_by(|left, right| left.0.total_cmp(&right.0))
        .map(|(_, candidate)| candidate.as_str())
}

/// Reads serde's "unknown field `x`, expected one of `a`, `b`" (or
/// "expected `a` or `b`") into the unknown key and the known ones.
fn unknown_key(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let known = rest.split('`').skip(1).step_by(2).map(str::to_string).collect();
    Some((unknown.to_string(), known))
}

/// The 1-based line a byte offset is on.
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> usize {
    let offset = span.map_or(0, |span| span.start.min(text.len()));
    text[..offset].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn problem(text: &str) -> Problem {
        check_text::<Config>(text).unwrap_err()
    }

    #[test]
    fn a_misspelt_key_gets_the_closest_known_key() {
        let found = problem("log = \"info\"\n[workers]\nconcurency = 3\n");
        assert_eq!(
            found,
            Problem {
                key: "workers.concurency".into(),
                line: 3,
                message: "unknown key `concurency` in [workers]; did you mean `concurrency`?".into(),
            }
        );
        let found = problem("bnd = \"127.0.0.1:9000\"\n");
        assert_eq!(found.message, "unknown key `bnd`; did you mean `bind`?");
        let found = problem("[llm.retry]\nmax_retires = 3\n");
        assert_eq!(found.key, "llm.retry.max_retires");
        assert!(found.message.ends_with("did you mean `max_retries`?"), "{}", found.message);
    }

    #[test]
    fn a_key_like_nothing_known_lists_the_known_keys() {
        let found = problem("[server]\ncolour = \"blue\"\n");
        assert_eq!(
            found.message,
            "unknown key `colour` in [server]; the keys here are: max_body_bytes, allowed_hosts, max_connections, \
             max_connections_per_address, header_timeout_secs, body_timeout_secs"
        );
    }

    #[test]
    fn home_is_refused_in_the_file_itself() {
        let found = problem("bind = \"127.0.0.1:9000\"\nhome = \"/srv/steward\"\n");
        assert_eq!(found.key, "home");
        assert_eq!(found.line, 2);
        assert!(found.message.contains("use --home or STEWARD_HOME"), "{}", found.message);
    }

    #[test]
    fn bad_values_and_bad_syntax_name_the_key_and_line() {
        let found = problem("[workers]\nconcurrency = \"many\"\n");
        assert_eq!((found.key.as_str(), found.line), ("workers.concurrency", 2));
        assert!(found.message.starts_with("workers.concurrency: invalid type"), "{}", found.message);
        let found = problem("[workers\n");
        assert_eq!(found.line, 1);
        assert!(found.message.starts_with("not valid TOML"), "{}", found.message);
    }

    #[test]
    fn the_example_file_passes_once_home_is_left_to_the_flag() {
        assert_eq!(check_text::<Config>(include_str!("../../../config.example.toml")), Ok(()));
    }
}
