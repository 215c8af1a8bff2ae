//! The wall-clock check: "now" comes from an injected clock, so code above
//! the domain can be tested by moving time. Only the system clock's own
//! implementation may call `Utc::now()`.

use std::path::Path;

use crate::problem::Problem;

/// The one file allowed to read the system clock: `SystemClock` itself.
const CLOCK_IMPLEMENTATION: &str = "crates/domain/src/time.rs";

/// Where the check applies: every crate whose "now" is injected.
/// `crates/store` takes its clock from `StoreOptions` too; it joins this list
/// once its own tests stop reading the system clock.
const CHECKED_CRATES: &[&str] = &[
    "crates/domain/",
    "crates/llm/",
    "crates/runtime/",
    "crates/server/",
    "crates/cli/",
    "crates/fake-llm/",
    "crates/test-support/",
];

/// Adds a problem for every line of `text` (the file at `relative`, from the
/// workspace root, with `/` separators) that reads the system clock.
pub fn check(relative: &Path, text: &str, problems: &mut Vec<Problem>) {
    let path = relative.to_string_lossy().replace('\\', "/");
    if path == CLOCK_IMPLEMENTATION || !CHECKED_CRATES.iter().any(|prefix| path.starts_with(prefix)) {
        return;
    }
    for (index, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        if code.contains("Utc::now(") {
            problems.push(Problem {
                path: relative.to_path_buf(),
                message: format!(
                    "line {}: reads the system clock with `Utc::now()`; take \"now\" from the injected clock \
                     (`SharedClock`, `AppState::clock`, or `SystemClock` where the system clock is meant)",
                    index + 1
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(path: &str, text: &str) -> Vec<String> {
        let mut problems = Vec::new();
        check(Path::new(path), text, &mut problems);
        problems.into_iter().map(|problem| problem.to_string()).collect()
    }

    #[test]
    fn a_runtime_file_reading_the_system_clock_is_a_problem() {
        let found = problems("crates/runtime/src/a.rs", "//! A.\nfn f() {\n    let now = chrono::Utc::now();\n}\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("crates/runtime/src/a.rs: line 3: reads the system clock"), "{found:?}");
    }

    #[test]
    fn the_clock_implementation_comments_and_other_crates_are_not() {
        assert!(problems(CLOCK_IMPLEMENTATION, "fn now() { Utc::now() }\n").is_empty());
        assert!(problems("crates/server/src/a.rs", "// never `Utc::now()` here\n").is_empty());
        assert!(problems("xtask/src/a.rs", "let now = Utc::now();\n").is_empty());
    }
}
