//! Journey J6 through a routine and the binary: `steward routine add
//! docs --template living-docs --repo PATH`, three commits in a temporary
//! git repository, `steward routine run docs` with the fake provider as the
//! agent, and the routine's fold (the same `living_docs.fold` job as
//! `steward sync`) writing the document with its front matter; the agent's
//! next prompt carries it. A second run with nothing new starts nothing.
//! Then `steward routine edit` through the binary: its schedule, agent,
//! prompt and destinations changed, a refused edit changing nothing.

use std::path::Path;

use serde_json::Value;
use steward_fake_llm::{FakeLlm, Reply};

use crate::support::{ServerOptions, ServerProcess, eventually, git, steward};

const KEY: &str = "sk-ant-routine-docs-0123456789abcdef";

fn commit(repo: &Path, file: &str, text: &str, message: &str) {
    let path = repo.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    git(repo, &["add", file]);
    git(repo, &["commit", "-q", "-m", message]);
}

fn json(server: &ServerProcess, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    steward(server.url(), &all).json()
}

async fn start() -> (FakeLlm, ServerProcess) {
    let fake = FakeLlm::start().await.unwrap();
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    (fake, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j6_a_living_docs_routine_folds_commits_into_the_document() {
    let (fake, server) = start().await;
    let agent = json(&server, &["agent", "create", "Architect", "--goal", "Keep the architecture documents true"]);
    let agent_id = agent["id"].to_string();
    let folder = tempfile::tempdir().unwrap();
    let repo = folder.path();
    let at = repo.display().to_string();
    git(repo, &["init", "-q"]);
    commit(repo, "ARCHITECTURE.md", "# Architecture\n\nA parser.\n", "Start with a parser");
    commit(repo, "src/cache.rs", "pub struct Cache;\n", "Add a cache in front of the parser");
    commit(repo, "src/log.rs", "pub fn log() {}\n", "Log every parse");
    let head = git(repo, &["rev-parse", "HEAD"]).trim().to_string();
    // The agent carries the document in its context (as `sync install-hook --agent` sets it).
    let home = server.home().display().to_string();
    json(&server, &["sync", "install-hook", &at, "--agent", "Architect", "--home", &home]);

    let refused =
        steward(server.url(), &["routine", "add", "docs", "--template", "living-docs", "--agent", "Architect"]);
    assert!(refused.failed().contains("repo"), "{}", refused.stderr);
    let added = json(
        &server,
        &["routine", "add", "docs", "--template", "living-docs", "--agent", "Architect", "--repo", &at, "--apply"],
    );
    assert_eq!(added["schedules"], serde_json::json!(["weekdays at 18:00"]), "{added}");
    assert_eq!(added["sources"]["repo"]["apply"], true, "{added}");

    let dry = json(&server, &["routine", "run", "docs", "--dry-run"]);
    let preview = &dry["preview"];
    assert_eq!(preview["inputs"]["sources"]["repo"]["value"]["total_commits"], 3, "{preview}");
    let prompt = preview["prompt"].as_str().unwrap();
    for subject in ["Start with a parser", "Add a cache in front of the parser", "Log every parse", "A parser."] {
        assert!(prompt.contains(subject), "the prompt names {subject:?}: {prompt}");
    }
    assert!(prompt.contains("<document>"), "{prompt}");

    fake.push(Reply::text(
        "Folded in.\n<document>\n# Architecture\n\nA parser, with a cache in front of it; every parse is logged.\n</document>\n",
    ));
    let fired = json(&server, &["routine", "run", "docs"]);
    assert!(fired["fire"]["run_id"].is_i64(), "{fired}");
    eventually("the routine's fold has written the document", || {
        let jobs = json(&server, &["job", "list", "--kind", "living_docs.fold", "--state", "completed"]);
        jobs["jobs"].as_array().is_some_and(|jobs| jobs.len() == 1)
    });
    let asked = fake.requests().pop().unwrap().body.to_string();
    assert!(asked.contains("Log every parse"), "the run was asked with the commits: {asked}");
    let document = std::fs::read_to_string(repo.join("ARCHITECTURE.md")).unwrap();
    let front_matter: Vec<&str> = document.lines().take(5).collect();
    assert_eq!(front_matter[0], "---", "{document}");
    assert!(front_matter[1].starts_with("last_sync: 20") && front_matter[1].ends_with('Z'), "{document}");
    assert_eq!(front_matter[2..], [format!("last_commit: {head}").as_str(), "commits_since_sync: 3", "---"]);
    assert!(
        document.ends_with("---\n\n# Architecture\n\nA parser, with a cache in front of it; every parse is logged.\n"),
        "{document}"
    );
    let status = json(&server, &["sync", "status", &at]);
    assert_eq!(status["documents"][0]["pending_commits"], 0, "{status}");

    // Nothing new: the fire is refused and nothing starts.
    let requests = fake.requests().len();
    let again = steward(server.url(), &["routine", "run", "docs"]);
    assert!(again.failed().contains("is up to date with"), "{}", again.stderr);
    assert_eq!(fake.requests().len(), requests);

    // The agent's next prompt carries the document.
    fake.push(Reply::text("The cache sits in front of the parser."));
    let run = json(&server, &["run", &agent_id, "Where is the cache?", "--wait"]);
    assert_eq!(run["outcome"], "completed", "{run}");
    let system = fake.requests().pop().unwrap().body["system"].to_string();
    assert!(system.contains(&format!("at commit {}", &head[..7])), "{system}");
    assert!(system.contains("every parse is logged"), "{system}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routine_edit_changes_a_routine_through_the_binary() {
    let (_fake, server) = start().await;
    json(&server, &["agent", "create", "Planner", "--goal", "Plan the day"]);
    let writer = json(&server, &["agent", "create", "Writer", "--goal", "Write it up"]);
    let add = ["routine", "add", "morning", "--template", "morning-plan", "--agent", "Planner", "--tz", "Europe/Paris"];
    let mut args = add.to_vec();
    args.extend(["--deliver", "slack:#plans", "--deliver", "file:/tmp/steward-plan.md"]);
    json(&server, &args);
    let folder = tempfile::tempdir().unwrap();
    let prompt = folder.path().join("prompt.j2");
    std::fs::write(&prompt, "Plan {{ weekday }} {{ today }}\n").unwrap();
    let prompt = prompt.display().to_string();

    let edited = json(
        &server,
        &[
            "routine",
            "edit",
            "morning",
            "--when",
            "weekdays at 07:45",
            "--agent",
            "Writer",
            "--prompt-file",
            &prompt,
            "--remove-deliver",
            "slack:#plans",
            "--add-deliver",
            "mailto:ada@example.com",
        ],
    );
    assert_eq!(edited["agent_id"], writer["id"], "{edited}");
    assert_eq!(edited["template"], "Plan {{ weekday }} {{ today }}\n");
    assert_eq!(edited["schedules"], serde_json::json!(["weekdays at 07:45"]));
    assert_eq!(edited["deliver"], serde_json::json!(["file:/tmp/steward-plan.md", "mailto:ada@example.com"]));
    let schedule = json(&server, &["schedule", "show", "morning"]);
    assert_eq!((schedule["when"].as_str(), schedule["tz"].as_str()), (Some("weekdays at 07:45"), Some("Europe/Paris")));

    let replaced = steward(server.url(), &["routine", "edit", "morning", "--deliver", "slack:#team", "--disable"]);
    assert!(replaced.ok().contains("Updated routine morning (paused: weekdays at 07:45"), "{}", replaced.stdout);
    let shown = json(&server, &["routine", "show", "morning"]);
    assert_eq!(shown["routine"]["deliver"], serde_json::json!(["slack:#team"]));
    assert_eq!(shown["routine"]["enabled"], false);

    let refused = steward(server.url(), &["routine", "edit", "morning", "--agent", "Planner", "--when", "sometimes"]);
    assert!(refused.failed().contains("when"), "{}", refused.stderr);
    let unchanged = json(&server, &["routine", "show", "morning"]);
    assert_eq!(unchanged["routine"], shown["routine"], "a refused edit changes nothing");
    let nothing = steward(server.url(), &["routine", "edit", "morning"]);
    assert!(nothing.failed().contains("nothing to change"), "{}", nothing.stderr);
    let manual = json(&server, &["routine", "edit", "morning", "--manual"]);
    assert_eq!(manual["schedules"], serde_json::json!([]), "{manual}");
}
