//! Skills from several folders, malformed ones among them: each problem is
//! reported with its file and line, the good skills load, a name clash names
//! both files, and resource files cannot be read from outside the skill.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use steward_runtime::skills::{SkillCatalog, SkillError};
use steward_runtime::tools::{ToolRegistry, ToolsConfig};
use tempfile::TempDir;

use crate::tool_support::{ToolFixture, call, invalid_input, refusal};

fn write(path: PathBuf, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `home/skills` and `agent/skills`, with good and malformed skills.
fn skill_folders() -> (TempDir, PathBuf, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home/skills");
    let agent = root.path().join("agent/skills");
    write(
        home.join("research/SKILL.md"),
        "---\nname: research\ndescription: Research a topic on the web.\nallowed-tools:\n  - http.fetch\n  - workspace.write\n---\n# Research\nFetch, then write notes.\n",
    );
    write(home.join("research/checklist.md"), "1. sources\n2. notes\n");
    write(home.join("research/scripts/score.py"), "print('score')\n");
    write(home.join("plain-markdown/SKILL.md"), "# No front matter here\n");
    write(home.join("unterminated/SKILL.md"), "---\nname: unterminated\ndescription: never closed\n");
    write(home.join("bad-yaml/SKILL.md"), "---\nname: bad-yaml\ndescription: [oops\n---\nbody\n");
    write(home.join("nameless/SKILL.md"), "---\ndescription: no name\n---\nbody\n");
    write(home.join("Shouting/SKILL.md"), "---\nname: Shouting\ndescription: bad name\n---\nbody\n");
    std::fs::create_dir_all(home.join("no-skill-file")).unwrap();
    write(home.join(".hidden/SKILL.md"), "not even looked at");
    write(home.join("README.md"), "files beside the skill folders are ignored");
    write(
        agent.join("research-again/SKILL.md"),
        "---\ndescription: Another research skill.\nname: research\n---\nbody\n",
    );
    write(
        agent.join("summarise/SKILL.md"),
        "---\nname: summarise\ndescription: Summarise a document.\n---\nKeep it short.\n",
    );
    (root, home, agent)
}

fn relative(root: &Path, problem: &str) -> String {
    problem.replace(&format!("{}/", root.display()), "")
}

#[test]
fn malformed_skills_are_reported_with_file_and_line_and_the_good_ones_load() {
    let (root, home, agent) = skill_folders();
    let catalog = SkillCatalog::load(&[home, agent, root.path().join("does-not-exist")]);
    let names: Vec<&str> = catalog.skills().map(|skill| skill.name.as_str()).collect();
    assert_eq!(names, ["research", "summarise"]);
    let problems: Vec<String> =
        catalog.problems().iter().map(|problem| relative(root.path(), &problem.to_string())).collect();
    assert_eq!(
        problems,
        [
            "home/skills/Shouting/SKILL.md:2: invalid name `Shouting`: use only lowercase letters, digits and `-`",
            "home/skills/bad-yaml/SKILL.md:3: bad YAML in the front matter: expected string scalar",
            "home/skills/nameless/SKILL.md:1: the front matter has no `name`",
            "home/skills/no-skill-file: the folder has no SKILL.md",
            "home/skills/plain-markdown/SKILL.md:1: no front matter: SKILL.md must start with a `---` line, then `name:` and `description:`, then `---`",
            "home/skills/unterminated/SKILL.md:1: the front matter opened here is never closed by a `---` line",
            "agent/skills/research-again/SKILL.md:3: the name `research` is already used by home/skills/research/SKILL.md; this skill is skipped",
        ]
    );
}

#[test]
fn the_catalog_gives_the_index_bodies_allowed_tools_and_resources() {
    let (_root, home, agent) = skill_folders();
    let catalog = SkillCatalog::load(&[home.clone(), agent]);
    assert_eq!(catalog.index(), "- research: Research a topic on the web.\n- summarise: Summarise a document.\n");
    assert_eq!(catalog.body("research").unwrap(), "# Research\nFetch, then write notes.");
    assert_eq!(catalog.allowed_tools("research").unwrap().unwrap(), ["http.fetch", "workspace.write"]);
    assert_eq!(catalog.allowed_tools("summarise").unwrap(), None);
    assert_eq!(catalog.get("research").unwrap().source, home);
    assert_eq!(catalog.resources("research", 10).unwrap(), ["checklist.md", "scripts/score.py"]);
    let resource = catalog.read_resource("research", "scripts/score.py", 0, 1000).unwrap();
    assert_eq!(resource.text, "print('score')\n");
    let unknown = catalog.body("nope").unwrap_err();
    assert_eq!(unknown.to_string(), "there is no skill `nope`; the skills are: research, summarise");
}

#[test]
fn resource_files_cannot_be_read_from_outside_the_skill() {
    let (_root, home, agent) = skill_folders();
    symlink(home.join("plain-markdown/SKILL.md"), home.join("research/linked.md")).unwrap();
    symlink("../bad-yaml", home.join("research/linked-folder")).unwrap();
    let catalog = SkillCatalog::load(&[home.clone(), agent]);
    let absolute = home.join("plain-markdown/SKILL.md");
    for path in ["../plain-markdown/SKILL.md", absolute.to_str().unwrap(), "linked.md", "linked-folder/SKILL.md"] {
        match catalog.read_resource("research", path, 0, 1000) {
            Err(SkillError::File(error)) => {
                let message = error.to_string();
                assert!(message.contains("skill folder"), "{path}: {message}");
            }
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn skills_open_and_read_resource_serve_the_model() {
    let (_root, home, agent) = skill_folders();
    let catalog = Arc::new(SkillCatalog::load(&[home, agent]));
    let fixture = ToolFixture::new().await;
    let tools = ToolRegistry::with_builtins(&ToolsConfig::default(), catalog).unwrap();
    let open = tools.get("skills.open").unwrap();
    let opened = call(open.as_ref(), &fixture.context, json!({"name": "research"})).await.unwrap();
    assert_eq!(
        opened,
        "# Skill: research\nTools while this skill is in use: http.fetch, workspace.write\n\
         Resource files (read with skills.read_resource): checklist.md, scripts/score.py\n\n\
         # Research\nFetch, then write notes."
    );
    let unknown = call(open.as_ref(), &fixture.context, json!({"name": "nope"})).await;
    assert!(invalid_input(unknown).contains("the skills are: research, summarise"));

    let read = tools.get("skills.read_resource").unwrap();
    let text = call(read.as_ref(), &fixture.context, json!({"skill": "research", "path": "checklist.md"})).await;
    assert_eq!(text.unwrap(), "1. sources\n2. notes\n");
    let escape =
        call(read.as_ref(), &fixture.context, json!({"skill": "research", "path": "../nameless/SKILL.md"})).await;
    assert!(refusal(escape).contains("cannot leave the skill folder"));
}

/// Shaped like `claude-api` in Anthropic's public skills repository, whose
/// description is longer than the format's 1,024 characters; other clients
/// load it, and so does Steward, with a warning.
const LONG_DESCRIPTION: &str = "Build apps with the Claude API or Anthropic SDK. TRIGGER when: code imports \
`anthropic`/`@anthropic-ai/sdk`/`claude_agent_sdk`, or the user asks to use the Claude API, Anthropic SDKs, or the \
Agent SDK. DO NOT TRIGGER when: code imports `openai` or another AI SDK, general programming, or ML/data-science \
tasks. Covers: choosing a model, the Messages API (single and multi-turn conversations, system prompts, streaming \
with server-sent events, stop reasons), tool use (client tools, server tools such as web search and code execution, \
parallel tool calls, forcing a tool with tool_choice), structured outputs with JSON schemas, extended thinking and \
its token budget, prompt caching with cache_control breakpoints, the Message Batches API for large offline jobs, the \
Files API, vision and PDF inputs, citations, token counting, rate limits and retries with exponential backoff, error \
handling by status code, and migrating between model versions. Includes worked examples in Python and TypeScript, \
and the Agent SDK's loop, hooks, permissions and subagents.";

#[test]
fn a_real_skill_with_a_long_description_loads_with_a_warning() {
    let root = tempfile::tempdir().unwrap();
    let skills = root.path().join("skills");
    write(
        skills.join("claude-api/SKILL.md"),
        &format!(
            "---\nname: claude-api\ndescription: \"{LONG_DESCRIPTION}\"\nlicense: Complete terms in LICENSE.txt\n---\n\n\
             # Building with the Claude API\n\n## Before you start\n\nRead `python/README.md` for the SDK.\n"
        ),
    );
    write(skills.join("claude-api/python/README.md"), "pip install anthropic\n");
    let catalog = SkillCatalog::load(&[skills]);
    let skill = catalog.get("claude-api").unwrap();
    assert_eq!(skill.description, LONG_DESCRIPTION);
    assert!(skill.body.starts_with("# Building with the Claude API"), "{}", skill.body);
    assert!(catalog.index().contains("claude-api"));
    assert_eq!(catalog.errors().count(), 0);
    let problems: Vec<String> =
        catalog.problems().iter().map(|problem| relative(root.path(), &problem.to_string())).collect();
    assert_eq!(
        problems,
        [format!(
            "skills/claude-api/SKILL.md:3: warning: the description is {} characters; the Agent Skills format \
             allows 1024 (loaded anyway)",
            LONG_DESCRIPTION.chars().count()
        )]
    );
    assert!(LONG_DESCRIPTION.chars().count() > 1024);
}
