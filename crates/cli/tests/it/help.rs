//! Help that helps: a subcommand's own flags come first, the global ones
//! after them under their own heading; commands show an example; the top
//! help documents the exit statuses and the `--json` contract; tables fit
//! the width they are given.

use std::process::Command;

use crate::support::STEWARD;

fn help(arguments: &[&str]) -> String {
    let output = Command::new(STEWARD).args(arguments).env("NO_COLOR", "1").output().expect("run steward");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 help")
}

#[test]
fn own_flags_come_before_the_global_ones() {
    let text = help(&["job", "list", "--help"]);
    let own = text.find("--state").expect("--state is listed");
    let heading = text.find("Global options:").expect("a heading for the global flags");
    let json = text.find("--json").expect("--json is listed");
    assert!(own < heading && heading < json, "{text}");
    assert_eq!(text.matches("--server").count(), 1, "{text}");
}

#[test]
fn commands_show_an_example_and_the_top_help_the_exit_statuses() {
    for (arguments, example) in [
        (&["trace", "--help"][..], "steward trace 2 --json"),
        (&["models", "--help"][..], "steward models --offline"),
        (&["schedule", "--help"][..], "steward schedule preview"),
    ] {
        let text = help(arguments);
        assert!(text.contains("Example") && text.contains(example), "{arguments:?}: {text}");
    }
    let top = help(&["--help"]);
    for expected in ["Global options:", "Exit status:", "3  not_found", "5  unavailable", "decimal strings"] {
        assert!(top.contains(expected), "{expected}: {top}");
    }
}

/// A table fits the width it is given (`COLUMNS` in a pipe) by wrapping
/// long cells; `--json` keeps the whole text on one line.
#[test]
fn tables_fit_the_width_and_json_keeps_the_full_text() {
    let home = tempfile::tempdir().unwrap();
    let description = "Writes long, careful research notes on any topic, citing every source it reads. ".repeat(8);
    let skill = home.path().join("skills/notes");
    std::fs::create_dir_all(&skill).unwrap();
    std::fs::write(
        skill.join("SKILL.md"),
        format!("---\nname: notes\ndescription: {}\n---\nBody.\n", description.trim()),
    )
    .unwrap();
    let run = |arguments: &[&str]| {
        let output = Command::new(STEWARD)
            .env_clear()
            .env("STEWARD_HOME", home.path())
            .env("COLUMNS", "72")
            .args(arguments)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let table = run(&["skills", "list"]);
    for line in table.lines() {
        assert!(line.chars().count() <= 72, "{} characters: {line}\n{table}", line.chars().count());
    }
    assert!(table.lines().count() > 8, "the description wraps: {table}");
    let document: serde_json::Value = serde_json::from_str(&run(&["--json", "skills", "list"])).unwrap();
    assert_eq!(document["skills"][0]["description"], description.trim());
}

/// `steward tools` lists every built-in tool with whether it asks first;
/// `--json` carries each one's argument schema.
#[test]
fn tools_lists_the_built_in_tools_and_their_approval() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("config.toml"), "[tools]\nrequire_approval = [\"http.fetch\"]\n").unwrap();
    let run = |arguments: &[&str]| {
        let output =
            Command::new(STEWARD).env_clear().env("STEWARD_HOME", home.path()).args(arguments).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let table = run(&["tools"]);
    for name in ["workspace.write", "http.fetch", "skills.open", "actions.create", "artifacts.write"] {
        assert!(table.contains(name), "{name}: {table}");
    }
    let document: serde_json::Value = serde_json::from_str(&run(&["--json", "tools"])).unwrap();
    let tools = document["tools"].as_array().unwrap();
    let fetch = tools.iter().find(|tool| tool["name"] == "http.fetch").unwrap();
    assert_eq!(fetch["requires_approval"], true, "configured: {fetch}");
    assert_eq!(fetch["input_schema"]["type"], "object", "{fetch}");
    let read = tools.iter().find(|tool| tool["name"] == "workspace.read").unwrap();
    assert_eq!(read["requires_approval"], false);
}
