//! The workspace tools: they work inside the workspace, and no path — `..`,
//! absolute, a symlink to a file or folder outside, a symlink swapped in
//! while the tool runs — reaches outside it. Size limits hold.

use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use steward_runtime::tools::{ToolError, ToolsConfig, WorkspaceToolsConfig};

use crate::tool_support::{SECRET, ToolFixture, invalid_input, refusal};

#[tokio::test]
async fn files_are_written_read_listed_and_searched() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&ToolsConfig::default());
    let wrote =
        fixture.call(&tools, "workspace.write", json!({"path": "notes/plan.md", "content": "one\nTwo apples\n"}));
    assert_eq!(wrote.await.unwrap(), "created notes/plan.md (15 bytes)");
    let wrote = fixture.call(
        &tools,
        "workspace.write",
        json!({"path": "./notes/plan.md", "content": "one\nTwo apples\nthree apples\n"}),
    );
    assert_eq!(wrote.await.unwrap(), "replaced ./notes/plan.md (28 bytes)");
    fixture.call(&tools, "workspace.write", json!({"path": "top.txt", "content": "apple pie"})).await.unwrap();

    let read = fixture.call(&tools, "workspace.read", json!({"path": "notes/plan.md"})).await.unwrap();
    assert_eq!(read, "one\nTwo apples\nthree apples\n");

    let listed = fixture.call(&tools, "workspace.list", json!({})).await.unwrap();
    assert_eq!(listed, "notes/\ntop.txt (9 bytes)");
    let listed = fixture.call(&tools, "workspace.list", json!({"recursive": true})).await.unwrap();
    assert_eq!(listed, "notes/\nnotes/plan.md (28 bytes)\ntop.txt (9 bytes)");

    let found = fixture.call(&tools, "workspace.search", json!({"query": "APPLE"})).await.unwrap();
    assert_eq!(
        found,
        "notes/plan.md:2: Two apples\nnotes/plan.md:3: three apples\ntop.txt:1: apple pie\n[3 matching lines in 2 files searched]"
    );
    let found =
        fixture.call(&tools, "workspace.search", json!({"query": "Two", "case_sensitive": true, "path": "notes"}));
    assert_eq!(found.await.unwrap(), "notes/plan.md:2: Two apples\n[1 matching lines in 1 files searched]");
    let empty = fixture.call(&tools, "workspace.search", json!({"query": ""})).await;
    assert!(invalid_input(empty).contains("query is empty"));
}

#[tokio::test]
async fn parent_components_and_absolute_paths_are_refused() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&ToolsConfig::default());
    let secret_path = fixture.outside().join("secret.txt");
    for path in ["../outside/secret.txt", "notes/../../outside/secret.txt", "..", secret_path.to_str().unwrap()] {
        let message = refusal(fixture.call(&tools, "workspace.read", json!({"path": path})).await);
        assert!(message.contains("`..`") || message.contains("absolute"), "{path}: {message}");
        let message = refusal(fixture.call(&tools, "workspace.list", json!({"path": path})).await);
        assert!(!message.is_empty());
        let search = fixture.call(&tools, "workspace.search", json!({"query": "secret", "path": path})).await;
        refusal(search);
    }
    let written = fixture.call(&tools, "workspace.write", json!({"path": "../outside/new.txt", "content": "x"})).await;
    assert!(refusal(written).contains("cannot leave the workspace"));
    let absolute = fixture.outside().join("new.txt");
    let written = fixture.call(&tools, "workspace.write", json!({"path": absolute, "content": "x"})).await;
    assert!(refusal(written).contains("is an absolute path"));
    assert!(!fixture.outside().join("new.txt").exists());
}

#[tokio::test]
async fn symlinks_leading_outside_are_not_followed() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&ToolsConfig::default());
    let workspace = fixture.workspace();
    symlink(fixture.outside().join("secret.txt"), workspace.join("absolute-link.txt")).unwrap();
    symlink("../outside/secret.txt", workspace.join("relative-link.txt")).unwrap();
    symlink(fixture.outside(), workspace.join("linked-folder")).unwrap();
    std::fs::write(workspace.join("inside.txt"), "inside").unwrap();
    symlink("inside.txt", workspace.join("inside-link.txt")).unwrap();

    for path in ["absolute-link.txt", "relative-link.txt", "linked-folder/secret.txt"] {
        let message = refusal(fixture.call(&tools, "workspace.read", json!({"path": path})).await);
        assert!(message.contains("leads outside the workspace"), "{path}: {message}");
    }
    let listed = fixture.call(&tools, "workspace.list", json!({"path": "linked-folder"})).await;
    assert!(refusal(listed).contains("leads outside"));
    let searched = fixture.call(&tools, "workspace.search", json!({"query": "secret", "path": "linked-folder"})).await;
    refusal(searched);

    // A symlink inside the workspace to a file inside it is followed.
    let read = fixture.call(&tools, "workspace.read", json!({"path": "inside-link.txt"})).await.unwrap();
    assert_eq!(read, "inside");

    // Walking the workspace shows links but never goes through them.
    let listed = fixture.call(&tools, "workspace.list", json!({"recursive": true})).await.unwrap();
    assert_eq!(
        listed,
        "absolute-link.txt@\ninside-link.txt@\ninside.txt (6 bytes)\nlinked-folder@\nrelative-link.txt@"
    );
    let found = fixture.call(&tools, "workspace.search", json!({"query": "secret"})).await.unwrap();
    assert_eq!(found, "[0 matching lines in 1 files searched]");
}

#[tokio::test]
async fn writes_never_go_through_a_symlink() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&ToolsConfig::default());
    let workspace = fixture.workspace();
    symlink(fixture.outside().join("secret.txt"), workspace.join("link.txt")).unwrap();
    symlink(fixture.outside(), workspace.join("linked-folder")).unwrap();

    let written = fixture.call(&tools, "workspace.write", json!({"path": "link.txt", "content": "overwritten"})).await;
    assert!(refusal(written).contains("is a symbolic link"));
    let written = fixture.call(&tools, "workspace.write", json!({"path": "linked-folder/new.txt", "content": "x"}));
    assert!(refusal(written.await).contains("leads outside the workspace"));
    let written =
        fixture.call(&tools, "workspace.write", json!({"path": "linked-folder/deeper/new.txt", "content": "x"}));
    assert!(refusal(written.await).contains("leads outside the workspace"));

    assert_eq!(std::fs::read_to_string(fixture.outside().join("secret.txt")).unwrap(), SECRET);
    let outside: Vec<_> =
        std::fs::read_dir(fixture.outside()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(outside, ["secret.txt"], "nothing was created outside");
}

/// A second thread keeps swapping a workspace file (and a folder) for a
/// symlink to the outside while the tools read and write through them: no
/// call may ever read the secret or create a file outside, whichever way
/// the race goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_swapped_for_a_symlink_mid_call_does_not_lead_outside() {
    let fixture = ToolFixture::new().await;
    let tools = fixture.registry(&ToolsConfig::default());
    let workspace = fixture.workspace();
    std::fs::create_dir(workspace.join("folder")).unwrap();
    std::fs::write(workspace.join("flip.txt"), "harmless").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, workspace, outside) = (Arc::clone(&stop), workspace.clone(), fixture.outside());
        std::thread::spawn(move || {
            let mut swaps = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                // rename() swaps atomically, so the name always exists.
                let _ = std::fs::remove_file(workspace.join("tmp-link"));
                let _ = symlink(outside.join("secret.txt"), workspace.join("tmp-link"));
                let _ = std::fs::rename(workspace.join("tmp-link"), workspace.join("flip.txt"));
                let _ = std::fs::write(workspace.join("tmp-file"), "harmless");
                let _ = std::fs::rename(workspace.join("tmp-file"), workspace.join("flip.txt"));
                // The folder steps aside for a symlink to the outside, then
                // comes back.
                let _ = std::fs::rename(workspace.join("folder"), workspace.join("folder-aside"));
                let _ = symlink(&outside, workspace.join("folder"));
                let _ = std::fs::remove_file(workspace.join("folder"));
                let _ = std::fs::rename(workspace.join("folder-aside"), workspace.join("folder"));
                swaps += 1;
            }
            swaps
        })
    };
    const ROUNDS: usize = 300;
    let (mut harmless_reads, mut refused_reads) = (0, 0);
    for round in 0..ROUNDS {
        match fixture.call(&tools, "workspace.read", json!({"path": "flip.txt"})).await {
            Ok(text) => {
                assert_eq!(text, "harmless", "round {round} read through the symlink");
                harmless_reads += 1;
            }
            Err(ToolError::Refused(_) | ToolError::InvalidInput(_)) => refused_reads += 1,
            Err(other) => panic!("round {round}: {other:?}"),
        }
        let path = format!("folder/written-{round}.txt");
        let _ = fixture.call(&tools, "workspace.write", json!({"path": path, "content": "x"})).await;
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0 && harmless_reads + refused_reads == ROUNDS);
    assert_eq!(std::fs::read_to_string(fixture.outside().join("secret.txt")).unwrap(), SECRET);
    let outside: Vec<_> =
        std::fs::read_dir(fixture.outside()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(outside, ["secret.txt"], "no write landed outside");
}

#[tokio::test]
async fn reads_and_writes_have_size_limits() {
    let fixture = ToolFixture::new().await;
    let config = ToolsConfig {
        workspace: WorkspaceToolsConfig {
            max_read_bytes: 1000,
            max_write_bytes: 2500,
            ..WorkspaceToolsConfig::default()
        },
        ..ToolsConfig::default()
    };
    let tools = fixture.registry(&config);
    let too_big = "x".repeat(2501);
    let written = fixture.call(&tools, "workspace.write", json!({"path": "big.txt", "content": too_big})).await;
    assert_eq!(invalid_input(written), "the content is 2501 bytes; the limit is 2500 bytes");
    assert!(!fixture.workspace().join("big.txt").exists());

    // 2 400 bytes with a two-byte character straddling each 1 000-byte cut.
    let text: String = (0..1200).map(|index| if index % 500 == 499 { 'é' } else { 'a' }).collect::<String>();
    let text = &text[..text.char_indices().nth(1199).map(|(at, _)| at).unwrap()];
    fixture.call(&tools, "workspace.write", json!({"path": "big.txt", "content": text})).await.unwrap();
    let mut reassembled = String::new();
    let mut offset = 0_u64;
    for _ in 0..10 {
        let part = fixture.call(&tools, "workspace.read", json!({"path": "big.txt", "offset": offset})).await.unwrap();
        match part.split_once("\n\n[bytes ") {
            Some((content, notice)) => {
                reassembled.push_str(content);
                offset = notice.rsplit(' ').next().unwrap().trim_end_matches(']').parse().unwrap();
            }
            None => {
                reassembled.push_str(&part);
                break;
            }
        }
    }
    assert_eq!(reassembled, text, "the parts put together are the file");

    std::fs::write(fixture.workspace().join("image.png"), [0x89, b'P', b'N', b'G', 0xff, 0x00]).unwrap();
    let read = fixture.call(&tools, "workspace.read", json!({"path": "image.png"})).await;
    assert_eq!(invalid_input(read), "`image.png` is not UTF-8 text");
    let read = fixture.call(&tools, "workspace.read", json!({"path": "missing.txt"})).await;
    assert_eq!(invalid_input(read), "there is no `missing.txt` in the workspace");
}

#[tokio::test]
async fn listings_and_searches_are_capped() {
    let fixture = ToolFixture::new().await;
    let config = ToolsConfig {
        workspace: WorkspaceToolsConfig {
            max_list_entries: 5,
            max_search_results: 3,
            ..WorkspaceToolsConfig::default()
        },
        ..ToolsConfig::default()
    };
    let tools = fixture.registry(&config);
    for index in 0..8 {
        std::fs::write(fixture.workspace().join(format!("file-{index}.txt")), "needle\nneedle\n").unwrap();
    }
    let listed = fixture.call(&tools, "workspace.list", json!({})).await.unwrap();
    assert_eq!(listed.lines().count(), 6);
    assert!(listed.ends_with("[only the first 5 entries are shown; list a folder to see more]"), "{listed}");
    let found = fixture.call(&tools, "workspace.search", json!({"query": "needle", "max_results": 50})).await.unwrap();
    assert_eq!(found.lines().count(), 4, "{found}");
    assert!(found.ends_with("stopped at 3 matches, narrow the search to see more]"), "{found}");
}
