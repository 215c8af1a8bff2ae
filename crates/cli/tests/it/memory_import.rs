//! `steward memory import` against a real server: a LoCoMo conversation
//! and a JSON Lines chat stored turn by turn (found by search, with their
//! turn times), the same file again adding nothing, a broken line named,
//! and the progress bar drawn on a terminal (under `script`'s pty).

use std::process::Command;

use crate::support::{STEWARD, ServerProcess, steward};

const LOCOMO: &str = r#"[{"sample_id": "brand", "conversation": {"speaker_a": "Maya", "speaker_b": "Sam",
  "session_1_date_time": "9:00 am on 2 March, 2026",
  "session_1": [
    {"speaker": "Maya", "dia_id": "D1:1", "text": "Our newsletter goes out on Tuesdays."},
    {"speaker": "Sam", "dia_id": "D1:2", "text": "Noted, Tuesday mornings then."}],
  "session_2_date_time": "10:30 am on 9 March, 2026",
  "session_2": [{"speaker": "Maya", "dia_id": "D2:1", "text": "The brand voice stays plain, no exclamation marks."}]},
  "qa": []}]"#;

#[test]
fn heavy_a_conversation_file_is_imported_once_and_found() {
    let server = ServerProcess::start();
    let url = server.url();
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("brand.json");
    std::fs::write(&file, LOCOMO).unwrap();
    let path = file.to_str().unwrap();

    let first = steward(url, &["memory", "import", path, "--json"]).json();
    assert_eq!((first["turns"].as_u64(), first["added"].as_u64()), (Some(3), Some(3)), "{first}");
    let again = steward(url, &["memory", "import", path, "--json"]).json();
    assert_eq!((again["added"].as_u64(), again["already_present"].as_u64()), (Some(0), Some(3)), "{again}");
    let printed = steward(url, &["memory", "import", path]);
    assert!(printed.ok().contains("0 added, 3 already there"), "{}", printed.stdout);

    let found = steward(url, &["memory", "search", "newsletter Tuesdays", "--kind", "episode", "--json"]).json();
    let result = &found["results"][0];
    assert_eq!(result["text"], "Maya: Our newsletter goes out on Tuesdays.");
    assert_eq!(result["provenance"][0]["source_ref"], "import:brand.json:brand:D1:1");
    assert_eq!(result["provenance"][0]["reference_time"], "2026-03-02T09:00:00Z", "the session's time");
    let before = steward(url, &["memory", "search", "brand voice", "--as-of", "2026-03-05", "--json"]).json();
    assert_eq!(before["results"], serde_json::json!([]), "the second session had not happened by 5 March");

    let lines = directory.path().join("chat.jsonl");
    std::fs::write(&lines, "{\"speaker\": \"Maya\", \"text\": \"Send drafts by Thursday.\"}\n{\"text\": 7}\n").unwrap();
    let broken = steward(url, &["memory", "import", lines.to_str().unwrap()]);
    assert!(broken.failed().contains("line 2"), "{}", broken.stderr);
    std::fs::write(&lines, "{\"speaker\": \"Maya\", \"text\": \"Send drafts by Thursday.\"}\n").unwrap();
    let imported =
        steward(url, &["memory", "import", lines.to_str().unwrap(), "--source", "document", "--json"]).json();
    assert_eq!(imported["added"], 1);
    let wrong = steward(url, &["memory", "import", lines.to_str().unwrap(), "--source", "rumour"]);
    assert!(wrong.failed().contains("source"), "{}", wrong.stderr);

    // On a terminal, a progress bar on stderr.
    let command = format!("{STEWARD} --server {url} memory import {path}");
    let output = Command::new("script").args(["-qec", &command, "/dev/null"]).output().expect("run script");
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("3/3 turns (100%)"), "a progress bar: {screen}");
}

/// Without an extraction or embedding model an episode calls no model, so
/// a conversation longer than the spending limit's window imports whole
/// (it stopped at turn 61 with `429` before).
#[test]
fn heavy_a_long_conversation_imports_whole_when_memory_calls_no_model() {
    let server = ServerProcess::start();
    let directory = tempfile::tempdir().unwrap();
    let lines = directory.path().join("long.jsonl");
    let turns: String = (0..150)
        .map(|turn| format!("{{\"speaker\": \"Maya\", \"text\": \"Turn {turn} of a long chat.\"}}\n"))
        .collect();
    std::fs::write(&lines, turns).unwrap();
    let imported = steward(server.url(), &["memory", "import", lines.to_str().unwrap(), "--json"]).json();
    assert_eq!((imported["turns"].as_u64(), imported["added"].as_u64()), (Some(150), Some(150)), "{imported}");
    let found = steward(server.url(), &["memory", "search", "Turn 149", "--kind", "episode", "--json"]).json();
    let episode = &found["results"][0]["provenance"][0];
    assert_eq!(episode["content"], "Maya: Turn 149 of a long chat.", "{found}");
    assert_eq!(episode["thread"], "import:long.jsonl", "a file of plain turns is one thread: {found}");
}
