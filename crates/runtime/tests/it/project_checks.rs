//! A project's check commands, run in a task's workspace (here a temporary
//! git repository) in the `shell.run` sandbox: a passing set says nothing,
//! a failing command is named with the tail of its output, which becomes
//! the validator's feedback.

use std::process::Command;

use steward_runtime::projects::checks::run_checks;
use steward_runtime::tools::ShellToolConfig;

#[tokio::test]
async fn a_failing_check_is_named_with_its_output_and_a_passing_set_says_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let repo = folder.path();
    let git = |args: &[&str]| assert!(Command::new("git").args(args).current_dir(repo).status().unwrap().success());
    git(&["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("prices.txt"), "apples\n").unwrap();
    git(&["add", "prices.txt"]);
    git(&["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "Start"]);

    let checks = vec![
        "test -f prices.txt".to_string(),
        "grep -q '[0-9]' prices.txt || { echo 'checking prices.txt'; echo 'prices.txt has no prices' >&2; exit 4; }"
            .to_string(),
    ];
    let config = ShellToolConfig::default();
    let feedback = run_checks(&config, repo, &checks).await.expect("the second check fails");
    assert!(feedback.starts_with("The check `grep -q"), "{feedback}");
    assert!(feedback.contains("(exit status 4)"), "{feedback}");
    assert!(feedback.contains("checking prices.txt") && feedback.contains("prices.txt has no prices"), "{feedback}");

    std::fs::write(repo.join("prices.txt"), "apples 3\n").unwrap();
    assert_eq!(run_checks(&config, repo, &checks).await, None, "every check passes");
    assert_eq!(run_checks(&config, repo, &[]).await, None, "no checks, nothing to say");

    let missing = ShellToolConfig { bwrap: "/nonexistent/bwrap".into(), ..ShellToolConfig::default() };
    let refused = run_checks(&missing, repo, &checks).await.unwrap();
    assert!(refused.contains("cannot run on this machine"), "{refused}");
}
