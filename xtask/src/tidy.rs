//! Tidy checks that keep the structure easy to see:
//! - every Rust module starts with a `//!` line saying what it is for;
//! - no source file is longer than [`MAX_LINES`];
//! - our crates depend on each other only in the allowed direction
//!   (domain ← {store, llm} ← runtime ← server ← cli);
//! - the crates that speak SQL or HTTP stay at the edges;
//! - nothing but the system clock reads the system clock ([`crate::wall_clock`]);
//! - inside each crate, modules import each other one way ([`crate::module_cycles`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::problem::Problem;
use crate::{module_cycles, wall_clock};

/// A file longer than this is a sign to split it by responsibility.
pub const MAX_LINES: usize = 800;

/// Which of our crates each crate may depend on (normal dependencies; test
/// code may use anything through dev-dependencies).
const ALLOWED_INTERNAL: &[(&str, &[&str])] = &[
    ("steward-domain", &[]),
    ("steward-store", &["steward-domain"]),
    ("steward-llm", &["steward-domain"]),
    ("steward-fake-llm", &[]),
    ("steward-runtime", &["steward-domain", "steward-store", "steward-llm"]),
    ("steward-server", &["steward-domain", "steward-store", "steward-llm", "steward-runtime"]),
    (
        "steward-cli",
        &["steward-domain", "steward-store", "steward-llm", "steward-runtime", "steward-server", "steward-fake-llm"],
    ),
    ("steward-test-support", &["steward-domain", "steward-store", "steward-fake-llm"]),
    ("xtask", &[]),
];

/// Outside crates that belong to one layer: who may depend on them.
const EDGE_CRATES: &[(&str, &[&str])] = &[
    ("rusqlite", &["steward-store"]),
    ("sqlx", &["steward-store", "steward-test-support"]),
    ("axum", &["steward-server", "steward-cli", "steward-fake-llm", "steward-test-support"]),
    ("reqwest", &["steward-llm", "steward-cli", "steward-runtime", "steward-test-support"]),
    (
        "tokio",
        &[
            "steward-store",
            "steward-llm",
            "steward-runtime",
            "steward-server",
            "steward-cli",
            "steward-fake-llm",
            "steward-test-support",
        ],
    ),
];

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs every check over the workspace at `root`.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let files = rust_files(root);
    for file in &files {
        check_source(root, file, &mut problems);
    }
    check_dependencies(root, &mut problems);
    check_module_cycles(root, &files, &mut problems);
    problems
}

/// Runs the module-cycle check over each crate's `src/`.
fn check_module_cycles(root: &Path, files: &[PathBuf], problems: &mut Vec<Problem>) {
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    crates.push(root.join("xtask"));
    crates.sort();
    for crate_dir in crates {
        let src = crate_dir.join("src");
        let sources: Vec<PathBuf> = files.iter().filter(|file| file.starts_with(&src)).cloned().collect();
        let relative = crate_dir.strip_prefix(root).unwrap_or(&crate_dir);
        module_cycles::check(relative, &src, &sources, problems);
    }
}

fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = ["crates", "xtask"].iter().map(|dir| root.join(dir)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn check_source(root: &Path, file: &Path, problems: &mut Vec<Problem>) {
    let relative = file.strip_prefix(root).unwrap_or(file).to_path_buf();
    let Ok(text) = std::fs::read_to_string(file) else {
        problems.push(Problem { path: relative, message: "cannot be read".into() });
        return;
    };
    let first = text.lines().find(|line| !line.trim().is_empty()).unwrap_or_default();
    if !first.starts_with("//!") {
        problems.push(Problem {
            path: relative.clone(),
            message: "does not start with a `//!` line saying what the module is for".into(),
        });
    }
    wall_clock::check(&relative, &text, problems);
    let lines = text.lines().count();
    if lines > MAX_LINES {
        problems.push(Problem {
            path: relative,
            message: format!("has {lines} lines; split it by responsibility (limit {MAX_LINES})"),
        });
    }
}

fn check_dependencies(root: &Path, problems: &mut Vec<Problem>) {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED_INTERNAL.iter().copied().collect();
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map(|entries| entries.flatten().map(|entry| entry.path().join("Cargo.toml")).collect())
        .unwrap_or_default();
    manifests.push(root.join("xtask/Cargo.toml"));
    manifests.sort();
    for manifest in manifests.iter().filter(|manifest| manifest.exists()) {
        let relative = manifest.strip_prefix(root).unwrap_or(manifest).to_path_buf();
        let parsed: toml::Table = match std::fs::read_to_string(manifest).map(|text| text.parse()) {
            Ok(Ok(table)) => table,
            _ => {
                problems.push(Problem { path: relative, message: "is not valid TOML".into() });
                continue;
            }
        };
        let name = parsed.get("package").and_then(|package| package.get("name")).and_then(toml::Value::as_str);
        let Some(name) = name else { continue };
        let Some(allowed_internal) = allowed.get(name) else {
            problems.push(Problem {
                path: relative,
                message: format!("crate {name} has no place in the dependency rules of xtask/src/tidy.rs; add it"),
            });
            continue;
        };
        let dependencies = parsed.get("dependencies").and_then(toml::Value::as_table).cloned().unwrap_or_default();
        for dependency in dependencies.keys() {
            if dependency.starts_with("steward-") && !allowed_internal.contains(&dependency.as_str()) {
                problems.push(Problem {
                    path: relative.clone(),
                    message: format!(
                        "{name} must not depend on {dependency} (see the dependency direction in ARCHITECTURE.md)"
                    ),
                });
            }
            if let Some((_, owners)) = EDGE_CRATES.iter().find(|(edge, _)| edge == dependency)
                && !owners.contains(&name)
            {
                problems.push(Problem {
                    path: relative.clone(),
                    message: format!("{name} must not depend on {dependency}; it belongs to {}", owners.join(", ")),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_is_tidy() {
        let problems = check(&workspace_root());
        let report: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(problems.is_empty(), "tidy problems:\n{}", report.join("\n"));
    }

    #[test]
    fn the_checks_catch_what_they_claim_to() {
        let root = tempfile_dir();
        std::fs::create_dir_all(root.join("crates/domain/src")).unwrap();
        std::fs::write(root.join("crates/domain/src/lib.rs"), "pub fn undocumented() {}\n").unwrap();
        std::fs::write(root.join("crates/domain/src/long.rs"), format!("//! Long.\n{}", "\n".repeat(MAX_LINES + 1)))
            .unwrap();
        std::fs::write(
            root.join("crates/domain/Cargo.toml"),
            "[package]\nname = \"steward-domain\"\n[dependencies]\nsteward-store = { path = \"../store\" }\ntokio = \"1\"\n",
        )
        .unwrap();
        let messages: Vec<String> = check(&root).into_iter().map(|problem| problem.to_string()).collect();
        let all = messages.join("\n");
        assert!(all.contains("lib.rs: does not start with a `//!`"), "{all}");
        assert!(all.contains("long.rs: has 802 lines"), "{all}");
        assert!(all.contains("must not depend on steward-store"), "{all}");
        assert!(all.contains("must not depend on tokio"), "{all}");
        std::fs::remove_dir_all(root).ok();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("steward-tidy-{}-{}", std::process::id(), line!()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
