//! Journey J6 through the binary: a temporary git repository, the
//! post-commit hook installed by `steward sync install-hook`, three real
//! `git commit`s (so git runs the hook), a sync whose agent is played by
//! the fake provider, the proposal applied, the front matter checked, and
//! the agent's next prompt (as the fake receives it) carrying the document.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use steward_fake_llm::{FakeLlm, Reply};

use crate::support::{ServerOptions, ServerProcess, eventually, run_git, steward};

const KEY: &str = "sk-ant-living-docs-0123456789abcdef";

/// Runs `git ARGS` in `repo` as a person would, with `server` where the
/// hook finds Steward; panics unless it succeeds.
fn git(repo: &Path, server: &str, args: &[&str]) -> String {
    run_git(Command::new("git").current_dir(repo).env("STEWARD_URL", server).env_remove("STEWARD_SERVER"), args)
}

fn commit(repo: &Path, server: &str, file: &str, text: &str, message: &str) {
    let path = repo.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    git(repo, server, &["add", file]);
    git(repo, server, &["commit", "-q", "-m", message]);
}

fn json(server: &ServerProcess, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    steward(server.url(), &all).json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j6_commits_reach_the_architecture_document_and_the_agent_s_next_prompt() {
    let fake = FakeLlm::start().await.unwrap();
    let mut server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    let agent = json(&server, &["agent", "create", "Architect", "--goal", "Keep the architecture documents true"]);
    let agent_id = agent["id"].to_string();

    let folder = tempfile::tempdir().unwrap();
    let repo = folder.path();
    // Always the repository's own path: the CLI runs in the test's folder, inside another repository.
    let at = repo.display().to_string();
    let at = at.as_str();
    git(repo, server.url(), &["init", "-q"]);
    let home = server.home().display().to_string();
    let installed = json(&server, &["sync", "install-hook", at, "--agent", "Architect", "--home", &home]);
    assert_eq!(installed["hook"]["change"], "created", "{installed}");
    let again = json(&server, &["sync", "install-hook", at, "--agent", "Architect", "--home", &home]);
    assert_eq!(again["hook"]["change"], "unchanged", "installing twice changes nothing: {again}");
    let hook = std::fs::read_to_string(repo.join(".git/hooks/post-commit")).unwrap();
    assert_eq!(hook.matches("sync record-commit").count(), 1, "{hook}");

    commit(repo, server.url(), "ARCHITECTURE.md", "# Architecture\n\nA parser.\n", "Start with a parser");
    commit(repo, server.url(), "src/cache.rs", "pub struct Cache;\n", "Add a cache in front of the parser");
    commit(repo, server.url(), "src/log.rs", "pub fn log() {}\n", "Log every parse");
    let head = git(repo, server.url(), &["rev-parse", "HEAD"]).trim().to_string();

    // The hook wrote each commit into the recent-changes log…
    let log = std::fs::read_to_string(repo.join("CHANGELOG_RECENT.md")).unwrap();
    let entries: Vec<&str> = log.lines().filter(|line| line.starts_with("- ")).collect();
    assert_eq!(entries.len(), 3, "{log}");
    assert!(entries[2].contains(&format!(" · {} · Log every parse (Ada Lovelace, 1 file)", &head[..7])), "{log}");
    // …and told the server, which read each commit.
    eventually("the server has read the three commits", || {
        let jobs = json(&server, &["job", "list", "--kind", "living_docs.commit", "--state", "completed"]);
        jobs["jobs"].as_array().is_some_and(|jobs| jobs.len() == 3)
    });

    let status = json(&server, &["sync", "status", at]);
    assert_eq!(status["hook_installed"], true, "{status}");
    assert_eq!(status["documents"][0]["pending_commits"], 3, "{status}");

    fake.push(Reply::text(
        "Folded in.\n<document>\n# Architecture\n\nA parser, with a cache in front of it; every parse is logged.\n</document>\n",
    ));
    let synced = json(&server, &["sync", "run", at, "--agent", "Architect"]);
    let report = &synced["documents"][0];
    assert_eq!((report["document"].as_str(), report["status"].as_str()), (Some("ARCHITECTURE.md"), Some("proposed")));
    assert_eq!(report["commits"], 3);
    let diff = report["diff"].as_str().unwrap();
    assert!(diff.contains("-A parser.\n+A parser, with a cache in front of it; every parse is logged.\n"), "{diff}");
    assert!(diff.contains(&format!("+last_commit: {head}\n")), "{diff}");
    let asked = fake.requests().pop().unwrap().body.to_string();
    for subject in ["Start with a parser", "Add a cache in front of the parser", "Log every parse", "A parser."] {
        assert!(asked.contains(subject), "the sync's instruction names {subject:?}: {asked}");
    }
    assert_eq!(
        std::fs::read_to_string(repo.join("ARCHITECTURE.md")).unwrap(),
        "# Architecture\n\nA parser.\n",
        "a proposal changes nothing until applied"
    );

    let applied = json(&server, &["sync", "apply", at]);
    assert_eq!(applied["applied"][0]["document"], "ARCHITECTURE.md", "{applied}");
    let document = std::fs::read_to_string(repo.join("ARCHITECTURE.md")).unwrap();
    let front_matter: Vec<&str> = document.lines().take(5).collect();
    assert_eq!(front_matter[0], "---");
    assert!(front_matter[1].starts_with("last_sync: 20") && front_matter[1].ends_with('Z'), "{document}");
    assert_eq!(front_matter[2..], [format!("last_commit: {head}").as_str(), "commits_since_sync: 3", "---"]);
    assert!(
        document.ends_with("---\n\n# Architecture\n\nA parser, with a cache in front of it; every parse is logged.\n")
    );
    let status = json(&server, &["sync", "status", at]);
    assert_eq!(status["documents"][0]["pending_commits"], 0, "{status}");
    assert_eq!(status["documents"][0]["commits_since_sync"], 3, "{status}");

    // The agent's next prompt carries the document.
    fake.push(Reply::text("The cache sits in front of the parser."));
    let run = json(&server, &["run", &agent_id, "Where is the cache?", "--wait"]);
    assert_eq!(run["outcome"], "completed", "{run}");
    let prompt = fake.requests().pop().unwrap().body;
    let system = prompt["system"].to_string();
    assert!(system.contains("ARCHITECTURE.md (synced "), "{system}");
    assert!(system.contains(&format!("at commit {}", &head[..7])), "{system}");
    assert!(system.contains("every parse is logged"), "{system}");

    // With the server gone the hook still records, and the commit succeeds.
    let address = server.url().to_string();
    server.terminate();
    commit(repo, &address, "src/trace.rs", "pub fn trace() {}\n", "Trace parses too");
    let log = std::fs::read_to_string(repo.join("CHANGELOG_RECENT.md")).unwrap();
    assert!(log.lines().last().unwrap().contains("Trace parses too"), "{log}");
}

/// The same sync as queue jobs (what routines enqueue): `living_docs.sync`
/// starts the agent's run, `living_docs.fold` waits on its job and writes
/// the document (here applied at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_job_folds_the_run_s_answer_into_the_document() {
    let fake = FakeLlm::start().await.unwrap();
    let server = ServerOptions::default()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", fake.anthropic_base_url())
        .start();
    let agent = json(&server, &["agent", "create", "Architect", "--goal", "Keep the design true"]);
    let folder = tempfile::tempdir().unwrap();
    let repo = folder.path();
    git(repo, server.url(), &["init", "-q"]);
    commit(repo, server.url(), "DESIGN.md", "# Design\n\nOne module.\n", "Start");
    commit(repo, server.url(), "src/two.rs", "mod two;\n", "Split out a second module");
    let head = git(repo, server.url(), &["rev-parse", "HEAD"]).trim().to_string();

    fake.push(Reply::text("<document>\n# Design\n\nTwo modules.\n</document>"));
    let payload = serde_json::json!({"repo": repo, "agent_id": agent["id"], "apply": true}).to_string();
    let enqueued = json(&server, &["job", "enqueue", "--kind", "living_docs.sync", "--payload", &payload]);
    assert!(enqueued["job"]["id"].is_i64(), "{enqueued}");
    let mut folded = Value::Null;
    eventually("the fold job has written the document", || {
        let jobs = json(&server, &["job", "list", "--kind", "living_docs.fold", "--state", "completed"]);
        folded = jobs["jobs"][0].clone();
        !folded.is_null()
    });
    let document = std::fs::read_to_string(repo.join("DESIGN.md")).unwrap();
    assert!(
        document.contains(&format!("last_commit: {head}\ncommits_since_sync: 2\n---\n\n# Design\n\nTwo modules.\n")),
        "{document}"
    );
    let status = json(&server, &["sync", "status", &repo.display().to_string(), "--document", "DESIGN.md"]);
    assert_eq!(
        (status["documents"][0]["pending_commits"].as_i64(), status["documents"][0]["proposal_pending"].as_bool()),
        (Some(0), Some(false)),
        "{status}"
    );
}
