//! `shell.run` under a real bubblewrap: writes stay in the workspace, there
//! is no network unless the agent is allowed it, and a fork bomb, a memory
//! hog, a CPU spinner, a sleeper past the time limit and a flood of output
//! are all contained. Without bubblewrap the tool refuses to be enabled.

use std::io::Read;
use std::net::TcpListener;

use serde_json::json;
use steward_runtime::tools::{ToolError, ToolRegistry, ToolsConfig};

use crate::support::eventually;
use crate::tool_support::{SECRET, ToolFixture, sandbox_config};

async fn run(fixture: &ToolFixture, tools: &ToolRegistry, command: &str) -> String {
    fixture.call(tools, "shell.run", json!({ "command": command })).await.unwrap()
}

/// Processes whose command line holds `marker`.
fn processes_marked(marker: &str) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains(marker))
        .count()
}

#[tokio::test]
async fn writes_reach_the_workspace_and_nothing_else() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&sandbox_config(|_| {}));
    let unique = format!("escape{}", fixture.root.path().file_name().unwrap().to_string_lossy());
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let outside = fixture.outside();
    let mut targets = vec![
        format!("/tmp/{unique}"),
        format!("/etc/{unique}"),
        format!("{home}/{unique}"),
        format!("../{unique}"),
        format!("/{unique}"),
        format!("/usr/{unique}"),
        format!("{}/{unique}", outside.display()),
        format!("{}/{unique}", fixture.root.path().display()),
    ];
    // A home under /tmp would be the sandbox's own /tmp.
    targets.sort();
    targets.dedup();
    let attempts: String =
        targets.iter().map(|target| format!("(echo x > {target}) 2>/dev/null && echo wrote {target}; ")).collect();
    let command = format!(
        "echo inside > made.txt && mkdir -p sub && echo deeper > sub/more.txt && echo wrote-inside; {attempts} \
         cat {}/secret.txt; pwd",
        outside.display()
    );
    let output = run(&fixture, &tools, &command).await;
    assert!(output.contains("wrote-inside"), "{output}");
    assert!(output.contains("\n/workspace"), "the workspace is the current folder: {output}");
    // Only /tmp is writable, and it is the sandbox's own.
    assert!(output.contains(&format!("wrote /tmp/{unique}")), "{output}");
    assert_eq!(output.matches("wrote /").count(), 1, "{output}");
    assert!(!output.contains("wrote ../") && !output.contains(SECRET), "{output}");
    assert_eq!(std::fs::read_to_string(fixture.workspace().join("made.txt")).unwrap(), "inside\n");
    assert_eq!(std::fs::read_to_string(fixture.workspace().join("sub/more.txt")).unwrap(), "deeper\n");
    for target in &targets {
        let host = if target.starts_with("../") { fixture.root.path().join(&unique) } else { target.into() };
        assert!(!host.exists(), "{} was written on the host", host.display());
    }
    // The workspace tools can still read and replace what the command wrote.
    let files = fixture.registry(&ToolsConfig::default());
    fixture.call(&files, "workspace.write", json!({"path": "made.txt", "content": "by the file tool"})).await.unwrap();
    let output = run(&fixture, &tools, "cat made.txt && echo again >> made.txt && cat made.txt").await;
    assert!(output.ends_with("by the file toolagain\n") || output.contains("by the file toolagain"), "{output}");
}

#[tokio::test]
async fn there_is_no_network_unless_the_agent_is_allowed_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let command = format!("bash -c 'echo hello > /dev/tcp/127.0.0.1/{port}' && echo connected");

    let fixture = ToolFixture::new().await;
    let offline = fixture.registry(&sandbox_config(|_| {}));
    let output = run(&fixture, &offline, &command).await;
    assert!(!output.starts_with("exit status 0") && !output.contains("connected"), "{output}");
    assert!(output.contains("Connection refused") || output.contains("unreachable"), "{output}");
    assert!(listener.accept().is_err(), "nothing reached the host's listener");

    // Agent 1 (the fixture's) is allowed the network.
    let online = fixture.registry(&sandbox_config(|shell| shell.network_agents = vec![1]));
    let output = run(&fixture, &online, &command).await;
    assert!(output.starts_with("exit status 0") && output.contains("connected"), "{output}");
    let (mut connection, _) = listener.accept().unwrap();
    connection.set_nonblocking(false).unwrap();
    let mut received = String::new();
    connection.read_to_string(&mut received).unwrap();
    assert_eq!(received, "hello\n");
}

#[tokio::test]
async fn the_process_limit_holds_and_a_fork_bomb_is_contained() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&sandbox_config(|shell| {
        shell.max_processes = 32;
        shell.timeout_secs = 5;
        // As root, the limit counts every process of the sandbox user: one
        // of this test's own keeps the bomb from starving other tests.
        shell.sandbox_uid = 61_234;
    }));
    // A shell asks for 200 sleepers and dies at the first fork refused; then
    // the processes left in the sandbox's PID namespace are counted (with
    // builtins only: no fork is left).
    let counting = "sh -c 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null; \
                    set -- /proc/[0-9]*; echo processes=$#";
    let output = run(&fixture, &tools, counting).await;
    let count: usize = output
        .split("processes=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("{output}"));
    // The limit, and bubblewrap's own first process.
    assert!((2..=33).contains(&count), "{count} processes: {output}");

    let marker = format!("bomb-{}", fixture.root.path().file_name().unwrap().to_string_lossy());
    // The bomb's first shell stays (spinning on builtins, which need no
    // fork) while the bomb forks at the limit until the time limit.
    let bomb = format!("sh -c 'b() {{ b | b & }}; b; while :; do :; done' {marker}");
    let output = run(&fixture, &tools, &bomb).await;
    assert!(output.starts_with("killed: still running at the time limit of 5 s"), "{output}");
    eventually("every process of the bomb is gone", || async { processes_marked(&marker) == 0 }).await;
    assert!(std::process::Command::new("true").status().unwrap().success(), "the host still starts processes");
}

#[tokio::test]
async fn a_memory_hog_dies_at_the_memory_limit() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&sandbox_config(|shell| shell.memory_mib = 64));
    // Doubling a string: 8 MiB fits, the hog grows without end.
    let fits = "awk 'BEGIN { s = \"x\"; while (length(s) < 8388608) s = s s; print length(s) }'";
    let output = run(&fixture, &tools, fits).await;
    assert!(output.starts_with("exit status 0") && output.contains("8388608"), "{output}");
    let hog = "awk 'BEGIN { s = \"x\"; while (1) s = s s }'; echo awk-ended-with=$?";
    let output = run(&fixture, &tools, hog).await;
    assert!(output.contains("awk-ended-with=") && !output.contains("awk-ended-with=0"), "{output}");
}

#[tokio::test]
async fn a_cpu_spinner_is_killed_at_the_cpu_limit() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&sandbox_config(|shell| {
        shell.cpu_secs = 1;
        shell.timeout_secs = 120;
    }));
    let output = run(&fixture, &tools, "while :; do :; done").await;
    // SIGXCPU (24) or SIGKILL (9), reported as 128 + the signal.
    assert!(output.starts_with("exit status 152") || output.starts_with("exit status 137"), "{output}");
}

#[tokio::test]
async fn a_command_past_the_time_limit_is_killed_with_its_sandbox() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&sandbox_config(|shell| shell.timeout_secs = 2));
    let output = run(&fixture, &tools, "echo started; sleep 86417; echo never").await;
    assert!(output.starts_with("killed: still running at the time limit of 2 s"), "{output}");
    assert!(output.contains("started") && !output.contains("never"), "{output}");
    eventually("the sleeper is gone", || async { processes_marked("86417") == 0 }).await;
}

#[tokio::test]
async fn long_output_is_cut_and_said_so() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&sandbox_config(|shell| shell.max_output_bytes = 1000));
    let output = run(&fixture, &tools, "head -c 50000 /dev/zero | tr '\\0' a; echo; echo oops >&2").await;
    let stdout = format!(
        "exit status 0\n--- stdout ---\n{}\n[stdout cut: the first 1000 of 50001 bytes are shown]",
        "a".repeat(1000)
    );
    assert_eq!(output, format!("{stdout}\n--- stderr ---\noops\n"));
}

#[tokio::test]
async fn without_bubblewrap_the_tool_refuses_and_says_how_to_install_it() {
    let fixture = ToolFixture::new().await;
    let mut config = ToolsConfig::default();
    config.shell.bwrap = "/nonexistent/bwrap".into();
    let tools = fixture.registry(&config);
    let tool = tools.get("shell.run").unwrap();
    let reason = tool.unavailable().expect("no bubblewrap: unavailable");
    assert!(reason.contains("apt-get install bubblewrap") && reason.contains("/nonexistent/bwrap"), "{reason}");
    match fixture.call(&tools, "shell.run", json!({"command": "true"})).await {
        Err(ToolError::Failed(message)) => assert!(message.contains("apt-get install bubblewrap"), "{message}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn it_is_off_by_default_and_asks_first() {
    let registry = ToolRegistry::with_builtins(
        &ToolsConfig::default(),
        std::sync::Arc::new(steward_runtime::skills::SkillCatalog::default()),
    )
    .unwrap();
    assert!(registry.allowed(None).iter().all(|tool| tool.name() != "shell.run"), "not in the default set");
    let listed = registry.allowed(Some(&["shell.run".to_string()]));
    assert_eq!(listed.len(), 1);
    assert!(listed[0].requires_approval());
    let mut config = ToolsConfig::default();
    config.shell.require_approval = false;
    let registry =
        ToolRegistry::with_builtins(&config, std::sync::Arc::new(steward_runtime::skills::SkillCatalog::default()))
            .unwrap();
    assert!(!registry.get("shell.run").unwrap().requires_approval());
}
