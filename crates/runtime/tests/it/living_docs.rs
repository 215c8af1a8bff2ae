//! Living documentation on real git repositories (made with git2 in a
//! temporary folder): commits since the last sync, proposals and their
//! diffs, applying atomically, the hook's installation, the recent-changes
//! log, and the documents an agent carries.

use std::path::Path;

use chrono::{TimeZone, Utc};
use git2::{Repository, Signature, Time};
use steward_runtime::living_docs::{
    self, HookChange, LivingDocsError, LivingDocsSettings, Repo, context_for, hook, install_hook, record_commit,
};

/// Commits `files` (path, text) with `message` at `seconds` past 2030-01-01.
fn commit(repo: &Repository, files: &[(&str, &str)], message: &str, seconds: i64) -> String {
    let root = repo.workdir().unwrap().to_path_buf();
    let mut index = repo.index().unwrap();
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, text).unwrap();
        index.add_path(Path::new(path)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let when = Time::new(1_893_456_000 + seconds, 0);
    let signature = Signature::new("Ada Lovelace", "ada@example.com", &when).unwrap();
    let parent = repo.head().ok().map(|head| head.peel_to_commit().unwrap());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).unwrap().to_string()
}

fn new_repo() -> (tempfile::TempDir, Repository) {
    let folder = tempfile::tempdir().unwrap();
    let repo = Repository::init(folder.path()).unwrap();
    (folder, repo)
}

fn agent_named(name: &str) -> steward_domain::Agent {
    let noon = Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap();
    steward_domain::Agent {
        id: steward_domain::AgentId(7),
        user_id: steward_domain::UserId(1),
        name: name.into(),
        goal: "Keep the docs true".into(),
        success_criteria: Vec::new(),
        timeline: None,
        status: steward_domain::AgentStatus::Active,
        model: None,
        instructions: String::new(),
        tools: None,
        limits: Default::default(),
        budget: Default::default(),
        created_at: noon,
        updated_at: noon,
    }
}

const REPLY: &str = "Updated.\n<document>\n# Architecture\n\nA parser and a cache.\n</document>\n";

#[test]
fn a_sync_folds_the_commits_since_the_last_one_and_moves_the_front_matter_on() {
    let (folder, git) = new_repo();
    commit(&git, &[("ARCHITECTURE.md", "# Architecture\n\nA parser.\n")], "Start", 0);
    commit(&git, &[("src/cache.rs", "cache\n")], "Add a cache\n\nWhy: speed.", 60);
    let head = commit(&git, &[("src/cache.rs", "cache v2\nmore\n")], "Grow the cache", 120);
    let repo = Repo::open(&folder.path().join("src")).unwrap();

    let prepared = living_docs::prepare(&repo, "ARCHITECTURE.md").unwrap();
    assert_eq!((prepared.total_commits, prepared.head.as_deref()), (3, Some(head.as_str())));
    assert!(
        prepared
            .instruction
            .contains("Add a cache (Ada Lovelace, 2030-01-01 00:01 UTC)\nWhy: speed.\n- added src/cache.rs (+1 −0)"),
        "{}",
        prepared.instruction
    );
    assert!(prepared.instruction.contains("- modified src/cache.rs (+2 −1)"));
    assert!(prepared.instruction.contains("<document>\n# Architecture\n\nA parser.\n</document>"));

    let now = Utc.with_ymd_and_hms(2030, 2, 1, 9, 0, 0).unwrap();
    let proposal = living_docs::propose(&prepared, Some(REPLY), now).unwrap();
    let expected = format!(
        "---\nlast_sync: 2030-02-01T09:00:00Z\nlast_commit: {head}\ncommits_since_sync: 3\n---\n\n# Architecture\n\nA parser and a cache.\n"
    );
    assert_eq!(proposal.proposed, expected);
    assert!(proposal.diff.contains("--- a/ARCHITECTURE.md\n+++ b/ARCHITECTURE.md\n"), "{}", proposal.diff);
    assert!(proposal.diff.contains("-A parser.\n+A parser and a cache.\n"), "{}", proposal.diff);
    assert_eq!(
        std::fs::read_to_string(folder.path().join("ARCHITECTURE.md")).unwrap(),
        "# Architecture\n\nA parser.\n",
        "nothing written before apply"
    );

    living_docs::apply(&proposal).unwrap();
    assert_eq!(std::fs::read_to_string(folder.path().join("ARCHITECTURE.md")).unwrap(), expected);
    assert!(living_docs::prepare(&repo, "ARCHITECTURE.md").unwrap().up_to_date());

    let newer = commit(&git, &[("src/log.rs", "log\n")], "Add a log", 180);
    let prepared = living_docs::prepare(&repo, "ARCHITECTURE.md").unwrap();
    assert_eq!((prepared.total_commits, prepared.base_found), (1, true));
    assert!(prepared.instruction.contains("Add a log") && !prepared.instruction.contains("Grow the cache"));
    let again = living_docs::propose(&prepared, Some(REPLY), now).unwrap();
    assert!(again.proposed.contains(&format!("last_commit: {newer}\ncommits_since_sync: 1\n")), "{}", again.proposed);
    assert!(again.proposed.ends_with("---\n\n# Architecture\n\nA parser and a cache.\n"), "{}", again.proposed);
}

#[test]
fn a_bad_reply_or_a_document_edited_meanwhile_leaves_the_document_as_it_was() {
    let (folder, git) = new_repo();
    commit(&git, &[("DESIGN.md", "# Design\n")], "Start", 0);
    let repo = Repo::open(folder.path()).unwrap();
    let prepared = living_docs::prepare(&repo, "DESIGN.md").unwrap();
    let now = Utc.with_ymd_and_hms(2030, 2, 1, 9, 0, 0).unwrap();
    let error = living_docs::propose(&prepared, Some("<document>\n# Design, cut sh"), now).unwrap_err();
    assert!(matches!(&error, LivingDocsError::Invalid(invalid) if invalid.field == "reply"), "{error}");

    let proposal = living_docs::propose(&prepared, Some("<document>\n# Design v2\n</document>"), now).unwrap();
    std::fs::write(folder.path().join("DESIGN.md"), "# Design, edited by hand\n").unwrap();
    let error = living_docs::apply(&proposal).unwrap_err();
    assert!(error.to_string().starts_with("DESIGN.md changed since the sync read it"), "{error}");
    assert_eq!(std::fs::read_to_string(folder.path().join("DESIGN.md")).unwrap(), "# Design, edited by hand\n");
}

#[test]
fn a_proposal_waits_in_the_git_folder_until_applied() {
    let (folder, git) = new_repo();
    commit(&git, &[("src/main.rs", "fn main() {}\n")], "Start", 0);
    let repo = Repo::open(folder.path()).unwrap();
    let prepared = living_docs::prepare(&repo, "ARCHITECTURE.md").unwrap();
    assert!(prepared.original.is_none() && prepared.instruction.contains("does not exist yet"));
    let now = Utc.with_ymd_and_hms(2030, 2, 1, 9, 0, 0).unwrap();
    let proposal = living_docs::propose(&prepared, Some(REPLY), now).unwrap();
    assert!(proposal.diff.contains("+++ b/ARCHITECTURE.md\n@@ -0,0 +1,9 @@\n+---\n"), "{}", proposal.diff);
    let saved = living_docs::sync::save(&repo, &proposal).unwrap();
    assert!(saved.starts_with(folder.path().join(".git")), "{}", saved.display());
    let status = living_docs::status(&repo, &[]).unwrap();
    assert!(status.documents[0].proposal_pending && !status.documents[0].exists);
    assert_eq!(status.documents[0].pending_commits, 1);

    let applied = living_docs::sync::apply_pending(&repo, "ARCHITECTURE.md").unwrap().unwrap();
    assert_eq!(applied, proposal);
    assert_eq!(std::fs::read_to_string(folder.path().join("ARCHITECTURE.md")).unwrap(), proposal.proposed);
    assert_eq!(living_docs::sync::apply_pending(&repo, "ARCHITECTURE.md").unwrap(), None);
    let status = living_docs::status(&repo, &[]).unwrap();
    assert_eq!((status.documents[0].pending_commits, status.documents[0].proposal_pending), (0, false));
}

#[test]
fn the_hook_is_created_appended_to_and_never_installed_twice() {
    let (folder, git) = new_repo();
    commit(&git, &[("a.txt", "a\n")], "Start", 0);
    let repo = Repo::open(folder.path()).unwrap();
    let hook_path = folder.path().join(".git/hooks/post-commit");

    let first = install_hook(&repo, "'steward' sync record-commit .").unwrap();
    assert_eq!((first.path.as_path(), first.change), (hook_path.as_path(), HookChange::Created));
    let text = std::fs::read_to_string(&hook_path).unwrap();
    assert!(text.starts_with("#!/bin/sh\n# >>> steward living docs >>>\n"), "{text}");
    assert!(text.contains("\n'steward' sync record-commit . >/dev/null 2>&1 || true\n# <<< steward living docs <<<\n"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&hook_path).unwrap().permissions().mode() & 0o111, 0o111);
    assert_eq!(install_hook(&repo, "'steward' sync record-commit .").unwrap().change, HookChange::Unchanged);
    assert_eq!(std::fs::read_to_string(&hook_path).unwrap(), text);
    assert_eq!(install_hook(&repo, "'/opt/steward' sync record-commit .").unwrap().change, HookChange::Updated);
    let updated = std::fs::read_to_string(&hook_path).unwrap();
    assert_eq!(updated.matches(hook::BLOCK_BEGIN).count(), 1);
    assert!(updated.contains("'/opt/steward' sync") && !updated.contains("'steward' sync"));

    // Someone's own hook keeps working, and ours runs before its exit.
    std::fs::write(&hook_path, "#!/bin/bash\necho mine\nexit 0\n").unwrap();
    assert_eq!(install_hook(&repo, "run-me").unwrap().change, HookChange::Appended);
    let text = std::fs::read_to_string(&hook_path).unwrap();
    assert!(text.starts_with("#!/bin/bash\necho mine\n# >>> steward"), "{text}");
    assert!(text.ends_with("# <<< steward living docs <<<\nexit 0\n"), "{text}");

    std::fs::write(&hook_path, "#!/usr/bin/env python3\nprint('mine')\n").unwrap();
    let error = install_hook(&repo, "run-me").unwrap_err().to_string();
    assert!(error.contains("it is a python3 script"), "{error}");
    assert_eq!(std::fs::read_to_string(&hook_path).unwrap(), "#!/usr/bin/env python3\nprint('mine')\n");
}

#[test]
fn core_hooks_path_is_where_the_hook_goes() {
    let (folder, git) = new_repo();
    git.config().unwrap().set_str("core.hooksPath", "githooks").unwrap();
    let repo = Repo::open(folder.path()).unwrap();
    let installed = install_hook(&repo, "run-me").unwrap();
    assert_eq!(installed.path, repo.root().join("githooks/post-commit"));
}

#[test]
fn each_commit_is_recorded_once_in_the_recent_changes_log() {
    let (folder, git) = new_repo();
    commit(&git, &[("a.txt", "a\n")], "Start", 0);
    let head = commit(&git, &[("b.txt", "b\n"), ("c.txt", "c\n")], "Add b and c\n\nDetails.", 60);
    let repo = Repo::open(folder.path()).unwrap();
    let (entry, written) = record_commit(&repo, None).unwrap();
    assert!(written);
    assert_eq!((entry.commit.as_str(), entry.files_changed), (head.as_str(), 2));
    let (_, written) = record_commit(&repo, None).unwrap();
    assert!(!written, "a second run of the hook adds nothing");
    let log = std::fs::read_to_string(folder.path().join("CHANGELOG_RECENT.md")).unwrap();
    assert!(
        log.ends_with(&format!("- 2030-01-01 00:01 UTC · {} · Add b and c (Ada Lovelace, 2 files)\n", &head[..7])),
        "{log}"
    );
    assert_eq!(log.matches("\n- ").count(), 1);
}

#[test]
fn attached_documents_reach_the_agent_s_context_within_the_budget() {
    let (folder, git) = new_repo();
    commit(&git, &[("ARCHITECTURE.md", "# Architecture\n\nThe parser feeds the cache.\n")], "Start", 0);
    let home = tempfile::tempdir().unwrap();
    let documents = vec!["ARCHITECTURE.md".to_string(), "DESIGN.md".to_string()];
    LivingDocsSettings::attach(home.path(), "scribe", folder.path(), &documents).unwrap();
    let error = LivingDocsSettings::attach(home.path(), "Scribe", folder.path(), &["../x".into()]).unwrap_err();
    assert!(error.to_string().starts_with("documents[0]: "), "{error}");

    let agent = agent_named("Scribe");
    let section = context_for(home.path(), &agent).unwrap();
    assert!(
        section.contains("ARCHITECTURE.md (not synced yet)\n# Architecture\n\nThe parser feeds the cache.\n"),
        "{section}"
    );
    assert!(section.contains("DESIGN.md (not synced yet)\n(missing)"), "{section}");
    let other = agent_named("Someone else");
    assert_eq!(context_for(home.path(), &other).unwrap(), "");
}
