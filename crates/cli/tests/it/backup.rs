//! `steward backup` and `steward restore` through the binary: a backup
//! taken while `serve` runs, another one interrupted by killing the server,
//! and the earlier one restored into a fresh home where a new server finds
//! every agent, action and job, the home's files and the sealed secrets —
//! which open only once the master key, kept out of the archive, is given.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{STEWARD, ServerOptions, ServerProcess, steward};

/// Runs `steward --json ARGS…` with no server involved; (exit status, document, stderr).
fn offline(args: &[&str]) -> (i32, Value, String) {
    let output = Command::new(STEWARD)
        .arg("--json")
        .args(args)
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_MASTER_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("run steward");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let document = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}\n{stderr}"));
    (output.status.code().unwrap_or(-1), document, stderr)
}

fn set_secret(home: &Path, name: &str, value: &str) {
    use std::io::Write;
    let mut child = Command::new(STEWARD)
        .args(["secret", "set", name, "--home"])
        .arg(home)
        .env_remove("STEWARD_MASTER_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(value.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
}

fn names(document: &Value, list: &str, field: &str) -> Vec<String> {
    let mut names: Vec<String> =
        document[list].as_array().unwrap().iter().map(|item| item[field].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

#[test]
fn heavy_a_backup_taken_while_serving_restores_into_a_fresh_home() {
    let mut server = ServerProcess::start();
    let url = server.url().to_string();
    let home = server.home().to_path_buf();
    let home_text = home.display().to_string();
    steward(&url, &["agent", "create", "Before", "--goal", "Be backed up"]).ok();
    steward(&url, &["action", "create", "Kept action", "--agent", "Before"]).ok();
    steward(&url, &["job", "enqueue", "--kind", "noop"]).ok();
    std::fs::create_dir_all(home.join("skills/notes")).unwrap();
    std::fs::write(home.join("skills/notes/SKILL.md"), "---\nname: notes\ndescription: Notes\n---\nTake notes.\n")
        .unwrap();
    set_secret(&home, "slack", "xoxb-backup-marker");

    let archives = tempfile::tempdir().unwrap();
    let first = archives.path().join("first.tar");
    let first_text = first.display().to_string();
    let (status, backup, stderr) = offline(&["backup", &first_text, "--home", &home_text]);
    assert_eq!(status, 0, "{backup} {stderr}");
    assert_eq!(backup["counts"]["agents"], 1, "{backup}");
    assert_eq!(backup["counts"]["actions"], 1, "{backup}");
    assert_eq!((backup["secrets"].as_i64(), backup["master_key_included"].as_bool()), (Some(1), Some(false)));
    let listing = Command::new("tar").arg("tf").arg(&first).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("steward.db") && listing.contains("home/skills/notes/SKILL.md"), "{listing}");
    assert!(listing.contains("home/secrets.json") && !listing.contains("master.key"), "{listing}");
    assert!(!listing.contains("server.json") && !listing.contains(".lock"), "{listing}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&first).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Never overwritten.
    let (status, refused, _) = offline(&["backup", &first_text, "--home", &home_text]);
    assert_eq!((status, refused["error"]["code"].as_str()), (4, Some("already_exists")), "{refused}");

    // Changes after the first backup, then a backup cut short by a crash.
    steward(&url, &["agent", "create", "After", "--goal", "Not in the first backup"]).ok();
    let second = archives.path().join("second.tar");
    let racing = Command::new(STEWARD)
        .args(["--json", "backup"])
        .arg(&second)
        .arg("--home")
        .arg(&home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    server.kill_hard();
    let raced = racing.wait_with_output().unwrap();
    // Whichever won, there is a whole backup or none at all.
    assert_eq!(raced.status.success(), second.exists(), "{}", String::from_utf8_lossy(&raced.stderr));

    // The earlier backup into a fresh home.
    let fresh = tempfile::tempdir().unwrap();
    let fresh_text = fresh.path().display().to_string();
    let (status, restored, stderr) = offline(&["restore", &first_text, "--home", &fresh_text]);
    assert_eq!(status, 0, "{restored} {stderr}");
    assert_eq!(restored["counts"]["agents"], 1, "{restored}");
    assert_eq!((restored["secrets"].as_i64(), restored["secrets_open"].as_bool()), (Some(1), Some(false)));
    assert!(stderr.contains("master.key") && stderr.contains("STEWARD_MASTER_KEY"), "{stderr}");
    assert!(fresh.path().join("skills/notes/SKILL.md").exists());

    // A second restore would replace it: only with --force.
    let (status, refused, _) = offline(&["restore", &first_text, "--home", &fresh_text]);
    assert_eq!((status, refused["error"]["code"].as_str()), (4, Some("already_exists")), "{refused}");
    assert_eq!(refused["error"]["field"], "--force");

    // With the master key brought over, a server on the fresh home has it all.
    std::fs::copy(home.join("master.key"), fresh.path().join("master.key")).unwrap();
    let (_, secrets, _) = offline(&["secret", "list", "--home", &fresh_text]);
    assert_eq!(secrets["secrets"][0], "slack");
    let restored_server = ServerOptions::default().home(fresh.path()).start();
    let agents = steward(restored_server.url(), &["agent", "list", "--json"]).json();
    assert_eq!(names(&agents, "agents", "name"), ["Before"], "{agents}");
    let actions = steward(restored_server.url(), &["action", "list", "--json"]).json();
    assert_eq!(names(&actions, "actions", "title"), ["Kept action"], "{actions}");
    let jobs = steward(restored_server.url(), &["job", "list", "--json"]).json();
    assert!(jobs["jobs"].as_array().unwrap().iter().any(|job| job["kind"] == "noop"), "{jobs}");

    // Never into a home whose server runs, --force or not.
    let (status, refused, _) = offline(&["restore", &first_text, "--home", &fresh_text, "--force"]);
    assert_eq!((status, refused["error"]["code"].as_str()), (5, Some("unavailable")), "{refused}");
    drop(restored_server);

    // --force replaces, keeping the database it replaced.
    let (status, forced, stderr) = offline(&["restore", &first_text, "--home", &fresh_text, "--force"]);
    assert_eq!(status, 0, "{forced} {stderr}");
    assert_eq!(forced["secrets_open"], true, "the key now in the home opens them: {forced}");
    assert!(Path::new(forced["replaced_database_kept_at"].as_str().unwrap()).exists(), "{forced}");
}

#[test]
fn a_damaged_or_foreign_archive_is_refused_before_anything_changes() {
    let server = ServerProcess::start();
    steward(server.url(), &["agent", "create", "Kept", "--goal", "Stay"]).ok();
    let archives = tempfile::tempdir().unwrap();
    let good = archives.path().join("good.tar");
    let home_text = server.home().display().to_string();
    let (status, _, stderr) = offline(&["backup", &good.display().to_string(), "--home", &home_text]);
    assert_eq!(status, 0, "{stderr}");

    // One byte of the database changed: its checksum no longer matches.
    let mut bytes = std::fs::read(&good).unwrap();
    let middle = 512 + 4096;
    bytes[middle] ^= 0xff;
    let damaged = archives.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();
    // Cut short: the manifest, written last, is missing.
    let truncated = archives.path().join("truncated.tar");
    std::fs::write(&truncated, &std::fs::read(&good).unwrap()[..2048]).unwrap();
    let foreign = archives.path().join("foreign.tar");
    std::fs::write(&foreign, "not an archive at all").unwrap();

    for (archive, expected) in
        [(&damaged, "does not match its checksum"), (&truncated, "cut short"), (&foreign, "not a Steward backup")]
    {
        let fresh = tempfile::tempdir().unwrap();
        let (status, refused, _) =
            offline(&["restore", &archive.display().to_string(), "--home", &fresh.path().display().to_string()]);
        assert_eq!(status, 1, "{refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!fresh.path().join("steward.db").exists(), "nothing restored from {}", archive.display());
    }
}
