//! `steward skills list` and `steward skills check`, run as the real binary
//! on a home with good and malformed skills and an agent's own folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

use crate::support::STEWARD;

fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A home whose `skills/` has a good skill and two malformed ones, and an
/// agent folder with a good skill and one whose name clashes.
fn home_with_skills() -> (TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let skills = root.path().join("home/skills");
    write(skills.join("research/SKILL.md"), "---\nname: research\ndescription: Research a topic.\n---\nSteps.\n");
    write(skills.join("broken/SKILL.md"), "---\nname: broken\ndescription: [unclosed\n---\n");
    write(skills.join("headless/SKILL.md"), "Just Markdown.\n");
    let agent = root.path().join("agent-skills");
    write(agent.join("summarise/SKILL.md"), "---\nname: summarise\ndescription: Summarise a text.\n---\nShort.\n");
    write(agent.join("research/SKILL.md"), "---\nname: research\ndescription: Again.\n---\n");
    (root, agent)
}

fn steward(home: &Path, arguments: &[&str]) -> Output {
    Command::new(STEWARD).env_clear().env("STEWARD_HOME", home).args(arguments).stdin(Stdio::null()).output().unwrap()
}

fn text(bytes: &[u8], root: &Path) -> String {
    String::from_utf8_lossy(bytes).replace(&format!("{}/", root.display()), "")
}

#[test]
fn list_shows_the_skills_that_load_from_the_home_and_extra_folders() {
    let (root, agent) = home_with_skills();
    let home = root.path().join("home");
    let output = steward(&home, &["skills", "list", "--dir", agent.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = text(&output.stdout, root.path());
    for expected in ["research", "Research a topic.", "home/skills/research", "summarise", "agent-skills/summarise"] {
        assert!(stdout.contains(expected), "{expected} in:\n{stdout}");
    }
    assert!(stdout.contains("3 skill problem(s) left skills out; `steward skills check` shows them."), "{stdout}");

    let output = steward(&home, &["skills", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed["skills"].as_array().unwrap().len(), 1);
    assert_eq!(listed["skills"][0]["name"], "research");
    assert_eq!(listed["problems"][0]["line"], 3);
}

#[test]
fn check_prints_each_problem_with_file_and_line_and_fails() {
    let (root, agent) = home_with_skills();
    let home = root.path().join("home");
    let output = steward(&home, &["skills", "check", "--dir", agent.to_str().unwrap()]);
    assert!(!output.status.success());
    assert_eq!(
        text(&output.stdout, root.path()),
        "home/skills/broken/SKILL.md:3: bad YAML in the front matter: expected string scalar\n\
         home/skills/headless/SKILL.md:1: no front matter: SKILL.md must start with a `---` line, then `name:` and `description:`, then `---`\n\
         agent-skills/research/SKILL.md:2: the name `research` is already used by home/skills/research/SKILL.md; this skill is skipped\n\
         2 skill(s) load, 3 problem(s).\n"
    );
    assert_eq!(text(&output.stderr, root.path()), "error: 3 skill problem(s) found\n");
}

#[test]
fn check_passes_on_good_skills_and_a_home_without_skills() {
    let home = tempfile::tempdir().unwrap();
    let output = steward(home.path(), &["skills", "check"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "0 skill(s) load, 0 problem(s).\n");

    write(home.path().join("skills/tidy/SKILL.md"), "---\nname: tidy\ndescription: Tidy up.\n---\n");
    let output = steward(home.path(), &["skills", "check"]);
    assert!(output.status.success(), "{output:?}");

    let output = steward(home.path(), &["skills", "list", "--dir", "/no/such/folder"]);
    assert!(!output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "error: --dir /no/such/folder: no such directory\n");
}

#[test]
fn a_long_description_is_a_warning_that_fails_only_a_strict_check() {
    let home = tempfile::tempdir().unwrap();
    let description = format!("Build apps with the Claude API. {}", "Covers streaming, tools and caching. ".repeat(28));
    let length = description.trim().chars().count();
    assert!(length > 1024);
    write(
        home.path().join("skills/claude-api/SKILL.md"),
        &format!(
            "---\nname: claude-api\ndescription: {description}\nlicense: Complete terms in LICENSE.txt\n---\n# Use\n"
        ),
    );
    let warning = format!(
        "skills/claude-api/SKILL.md:3: warning: the description is {length} characters; the Agent Skills format \
         allows 1024 (loaded anyway)\n"
    );

    let output = steward(home.path(), &["skills", "check"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stdout, home.path()), format!("{warning}1 skill(s) load, 0 problem(s), 1 warning(s).\n"));

    let output = steward(home.path(), &["skills", "check", "--strict"]);
    assert!(!output.status.success());
    assert_eq!(text(&output.stderr, home.path()), "error: 1 skill warning(s) found (--strict)\n");

    let output = steward(home.path(), &["skills", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed["skills"][0]["name"], "claude-api");
    assert_eq!(listed["problems"][0]["severity"], "warning");
}
